/*
 * Identity commitments (DOMAIN.md "Personal data") for SDK users: the
 * consortium identity key file and the commitment of a buyer's, payer's or
 * consignee's identity.
 *
 * The commitment itself, with its normalization, is libhansa_wire's
 * (wire_identity_commit), so every member computes the same 32 bytes for
 * the same person. hansa_identity_kind maps onto wire's kinds: BUYER, an
 * account or customer id, is normalized as an identifier ("document").
 *
 * The key file, {"type": "hansa-identity-key", "version": 1, "key": "<64
 * hex>"}, is the one `hansad testnet` writes; it is read here (the SDK links
 * no node code) with the same rules: a regular file of mode 0600 at most,
 * exactly those three members. The key is wiped from every buffer it
 * passed through and from the handle when it is freed.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "internal.h"

#define IDENTITY_FILE_TYPE "hansa-identity-key"

struct hansa_identity_key {
    uint8_t key[WIRE_IDENTITY_KEY_BYTES];
};

/* The file's text (NUL-terminated, caller wipes and frees) after the mode
 * checks. */
static hansa_code read_key_text(const char *path, char **text, size_t *len, hansa_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0)
        return sdk_fail(err, HANSA_CODE_KEY, "cannot open identity key %s: %s", path,
                        strerror(errno));
    struct stat st;
    hansa_code code = HANSA_CODE_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        code = sdk_fail(err, HANSA_CODE_KEY, "identity key %s is not a regular file", path);
    else if (st.st_mode & 077)
        code = sdk_fail(err, HANSA_CODE_KEY,
                        "identity key %s may be read by group or others (mode %04o); refusing it",
                        path, (unsigned)(st.st_mode & 07777));
    else if (st.st_size <= 0 || (uint64_t)st.st_size > HANSA_KEYFILE_BYTES_MAX)
        code = sdk_fail(err, HANSA_CODE_KEY, "identity key %s has a wrong size", path);
    char *buf = code == HANSA_CODE_OK ? malloc((size_t)st.st_size + 1) : NULL;
    if (code == HANSA_CODE_OK && buf == NULL)
        code = sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    size_t n = 0;
    while (code == HANSA_CODE_OK && n < (size_t)st.st_size) {
        ssize_t r = read(fd, buf + n, (size_t)st.st_size - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            code = sdk_fail(err, HANSA_CODE_KEY, "cannot read identity key %s", path);
        else
            n += (size_t)r;
    }
    close(fd);
    if (code != HANSA_CODE_OK) {
        if (buf != NULL)
            sodium_memzero(buf, n);
        free(buf);
        return code;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return HANSA_CODE_OK;
}

static hansa_code parse_key(const char *path, const char *text, size_t len,
                            uint8_t key[WIRE_IDENTITY_KEY_BYTES], hansa_error *err)
{
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *version = json_object_get(doc, "version");
    const char *hex = json_string_value(json_object_get(doc, "key"));
    hansa_code code = HANSA_CODE_OK;
    if (json_object_size(doc) != 3 || type == NULL || strcmp(type, IDENTITY_FILE_TYPE) != 0 ||
        !json_is_integer(version) || json_integer_value(version) != 1)
        code = sdk_fail(err, HANSA_CODE_KEY, "%s is not a version 1 " IDENTITY_FILE_TYPE " file",
                        path);
    else if (wire_hex_decode(hex, key, WIRE_IDENTITY_KEY_BYTES) != HANSA_OK)
        code = sdk_fail(err, HANSA_CODE_KEY, "%s: \"key\" must be %u hex digits", path,
                        2 * WIRE_IDENTITY_KEY_BYTES);
    if (hex != NULL)
        sodium_memzero((char *)(uintptr_t)hex, strlen(hex));
    json_decref(doc);
    return code;
}

hansa_code hansa_identity_key_load(const char *path, hansa_identity_key **out, hansa_error *err)
{
    if (path == NULL || out == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_identity_key_load: path and out needed");
    *out = NULL;
    hansa_code code = sdk_init(err);
    char *text = NULL;
    size_t len = 0;
    if (code == HANSA_CODE_OK)
        code = read_key_text(path, &text, &len, err);
    if (code != HANSA_CODE_OK)
        return code;
    hansa_identity_key *k = malloc(sizeof *k);
    if (k == NULL)
        code = sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    else
        code = parse_key(path, text, len, k->key, err);
    sodium_memzero(text, len);
    free(text);
    if (code != HANSA_CODE_OK) {
        hansa_identity_key_free(k);
        return code;
    }
    *out = k;
    return sdk_ok(err);
}

void hansa_identity_key_free(hansa_identity_key *k)
{
    if (k == NULL)
        return;
    sodium_memzero(k, sizeof *k);
    free(k);
}

static bool wire_kind(hansa_identity_kind kind, enum wire_identity_kind *out)
{
    switch (kind) {
    case HANSA_IDENTITY_NAME:
        *out = WIRE_IDENTITY_NAME;
        return true;
    case HANSA_IDENTITY_PHONE:
        *out = WIRE_IDENTITY_PHONE;
        return true;
    case HANSA_IDENTITY_ADDRESS:
        *out = WIRE_IDENTITY_ADDRESS;
        return true;
    case HANSA_IDENTITY_BUYER:
        *out = WIRE_IDENTITY_DOCUMENT;
        return true;
    }
    return false;
}

hansa_code hansa_identity_commit(const hansa_identity_key *k, hansa_identity_kind kind,
                                 const char *value, uint8_t out[32], hansa_error *err)
{
    enum wire_identity_kind wk;
    if (k == NULL || value == NULL || out == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_identity_commit: key, value and out needed");
    if (!wire_kind(kind, &wk))
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "identity kind %d is not a kind",
                        (int)kind);
    hansa_code code = sdk_init(err);
    if (code != HANSA_CODE_OK)
        return code;
    hansa_err rv = wire_identity_commit(k->key, wk, value, out);
    switch (rv) {
    case HANSA_OK:
        return sdk_ok(err);
    case HANSA_ETOOLARGE:
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "the %s is longer than %u bytes once normalized",
                        wire_identity_kind_name(wk), HANSA_IDENTITY_VALUE_BYTES_MAX);
    case HANSA_EINVAL:
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "the value is not a valid %s (empty, invalid UTF-8, control characters%s)",
                        wire_identity_kind_name(wk),
                        wk == WIRE_IDENTITY_PHONE ? ", or not in international form (+ or 00 "
                                                    "and 8-15 digits)"
                                                  : "");
    default:
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot compute the commitment: %s",
                        hansa_strerror(rv));
    }
}
