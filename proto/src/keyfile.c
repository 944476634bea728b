/*
 * Key files: one Ed25519 key per file, JSON, mode 0600.
 *
 *   {"type": "hansa-ed25519-key", "version": 1, "party": "BANK-A",
 *    "public_key": "<64 hex>", "seed": "<64 hex>"}
 *
 * Saving is crash-safe and never overwrites: the key is written to a
 * temporary file, fsynced, hard-linked to its final name (link() fails if the
 * name exists, where rename() would replace it), and the directory fsynced.
 * Loading refuses files that group or others may read or write, files that
 * are not regular files, and files whose public key does not match the seed,
 * so a corrupted or tampered file is noticed before the node signs with it.
 * Secret material is wiped from every buffer it passed through.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "hansa/assert.h"
#include "hansa/wire.h"

#define KEYFILE_TYPE    "hansa-ed25519-key"
#define KEYFILE_VERSION 1

__attribute__((format(printf, 3, 4))) static void set_why(char *why, size_t why_len,
                                                          const char *fmt, ...)
{
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

/* jansson hands out const strings; the key material in them is ours to wipe
 * before the document is freed. */
static void wipe_json_string(const char *s)
{
    if (s != NULL)
        sodium_memzero((char *)(uintptr_t)s, strlen(s));
}

static hansa_err write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return HANSA_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return HANSA_OK;
}

static hansa_err fsync_parent_dir(const char *path)
{
    char copy[4096];
    if (strlen(path) >= sizeof copy)
        return HANSA_EINVAL;
    strcpy(copy, path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return HANSA_EIO;
    int rv = fsync(fd);
    close(fd);
    return rv == 0 ? HANSA_OK : HANSA_EIO;
}

hansa_err wire_keyfile_save(const char *path, const struct wire_keypair *kp, const char *party,
                            char *why, size_t why_len)
{
    HANSA_ASSERT(path != NULL && kp != NULL);
    if (party == NULL)
        party = "";
    if (party[0] != '\0' && !wire_id_valid(party)) {
        set_why(why, why_len, "party id '%s' is not valid (1-%u characters of A-Z a-z 0-9 . _ -)",
                party, HANSA_ID_LEN_MAX);
        return HANSA_EINVAL;
    }
    char pk_hex[2 * WIRE_PUBKEY_BYTES + 1], seed_hex[2 * WIRE_SEED_BYTES + 1];
    wire_hex_encode(kp->public_key, WIRE_PUBKEY_BYTES, pk_hex);
    wire_hex_encode(kp->secret_key, WIRE_SEED_BYTES, seed_hex); /* sk = seed || pk */

    json_t *doc =
        json_pack("{s:s, s:i, s:s, s:s, s:s}", "type", KEYFILE_TYPE, "version", KEYFILE_VERSION,
                  "party", party, "public_key", pk_hex, "seed", seed_hex);
    sodium_memzero(seed_hex, sizeof seed_hex);
    char *text = doc ? json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
    if (doc) {
        wipe_json_string(json_string_value(json_object_get(doc, "seed")));
        json_decref(doc);
    }
    if (text == NULL) {
        set_why(why, why_len, "out of memory encoding key file %s", path);
        return HANSA_ENOMEM;
    }

    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid()) >= (int)sizeof tmp) {
        sodium_memzero(text, strlen(text));
        free(text);
        set_why(why, why_len, "key file path too long: %s", path);
        return HANSA_EINVAL;
    }
    hansa_err rv = HANSA_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        set_why(why, why_len, "cannot create %s: %s", tmp, strerror(errno));
        rv = HANSA_EIO;
    } else {
        size_t len = strlen(text);
        rv = write_all(fd, text, len);
        if (rv == HANSA_OK)
            rv = write_all(fd, "\n", 1);
        if (rv == HANSA_OK && fsync(fd) != 0)
            rv = HANSA_EIO;
        close(fd);
        if (rv != HANSA_OK)
            set_why(why, why_len, "cannot write %s: %s", tmp, strerror(errno));
        else if (link(tmp, path) != 0) {
            rv = errno == EEXIST ? HANSA_EEXIST : HANSA_EIO;
            set_why(why, why_len, "cannot create key file %s: %s", path, strerror(errno));
        } else if ((rv = fsync_parent_dir(path)) != HANSA_OK)
            set_why(why, why_len, "cannot sync the directory of %s", path);
        unlink(tmp);
    }
    sodium_memzero(text, strlen(text));
    free(text);
    return rv;
}

static hansa_err read_small_file(const char *path, char *buf, size_t buf_len, size_t *len,
                                 char *why, size_t why_len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        int e = errno;
        set_why(why, why_len, "cannot open key file %s: %s", path, strerror(e));
        return e == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    struct stat st;
    hansa_err rv = HANSA_OK;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        set_why(why, why_len, "key file %s is not a regular file", path);
        rv = HANSA_EFORMAT;
    } else if (st.st_mode & 077) {
        set_why(why, why_len,
                "key file %s may be read or written by group or others (mode %04o); "
                "refusing to use it: run 'chmod 600 %s'",
                path, (unsigned)(st.st_mode & 07777), path);
        rv = HANSA_EPERM;
    } else if ((size_t)st.st_size >= buf_len) {
        set_why(why, why_len, "key file %s is %lld bytes; a key file is under %zu", path,
                (long long)st.st_size, buf_len);
        rv = HANSA_EFORMAT;
    } else {
        size_t got = 0;
        while (got < buf_len - 1) {
            ssize_t n = read(fd, buf + got, buf_len - 1 - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                set_why(why, why_len, "cannot read key file %s: %s", path, strerror(errno));
                rv = HANSA_EIO;
                break;
            }
            if (n == 0)
                break;
            got += (size_t)n;
        }
        buf[got] = '\0';
        *len = got;
    }
    close(fd);
    return rv;
}

static hansa_err parse_keyfile(const char *path, const char *text, size_t len,
                               struct wire_keypair *kp, char *party, size_t party_len, char *why,
                               size_t why_len)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (doc == NULL) {
        set_why(why, why_len, "key file %s: line %d: %s", path, jerr.line, jerr.text);
        return HANSA_EFORMAT;
    }
    hansa_err rv = HANSA_EFORMAT;
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *version = json_object_get(doc, "version");
    const char *p = json_string_value(json_object_get(doc, "party"));
    const char *pk_hex = json_string_value(json_object_get(doc, "public_key"));
    const char *seed_hex = json_string_value(json_object_get(doc, "seed"));
    uint8_t pk[WIRE_PUBKEY_BYTES], seed[WIRE_SEED_BYTES];

    if (type == NULL || strcmp(type, KEYFILE_TYPE) != 0)
        set_why(why, why_len, "key file %s: \"type\" is not \"%s\"", path, KEYFILE_TYPE);
    else if (!json_is_integer(version) || json_integer_value(version) != KEYFILE_VERSION)
        set_why(why, why_len, "key file %s: unsupported \"version\" (this build reads %d)", path,
                KEYFILE_VERSION);
    else if (p == NULL || (p[0] != '\0' && !wire_id_valid(p)))
        set_why(why, why_len, "key file %s: \"party\" is missing or not a valid party id", path);
    else if (party != NULL && strlen(p) >= party_len)
        set_why(why, why_len, "key file %s: \"party\" is too long", path);
    else if (wire_hex_decode(pk_hex, pk, sizeof pk) != HANSA_OK)
        set_why(why, why_len, "key file %s: \"public_key\" must be 64 hex digits", path);
    else if (wire_hex_decode(seed_hex, seed, sizeof seed) != HANSA_OK)
        set_why(why, why_len, "key file %s: \"seed\" must be 64 hex digits", path);
    else {
        wire_keypair_from_seed(kp, seed);
        if (sodium_memcmp(kp->public_key, pk, sizeof pk) != 0) {
            wire_keypair_wipe(kp);
            set_why(why, why_len,
                    "key file %s: \"public_key\" does not match \"seed\" (corrupted or edited)",
                    path);
        } else {
            if (party != NULL)
                strcpy(party, p);
            rv = HANSA_OK;
        }
    }
    sodium_memzero(seed, sizeof seed);
    wipe_json_string(seed_hex);
    json_decref(doc);
    return rv;
}

hansa_err wire_keyfile_load(const char *path, struct wire_keypair *kp, char *party,
                            size_t party_len, char *why, size_t why_len)
{
    HANSA_ASSERT(path != NULL && kp != NULL);
    char text[HANSA_KEYFILE_BYTES_MAX];
    size_t len = 0;
    hansa_err rv = read_small_file(path, text, sizeof text, &len, why, why_len);
    if (rv == HANSA_OK)
        rv = parse_keyfile(path, text, len, kp, party, party_len, why, why_len);
    sodium_memzero(text, sizeof text);
    return rv;
}
