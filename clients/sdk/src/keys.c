/*
 * Party key files for the SDK: loading the key a client signs with and
 * writing new keys (hansa_keygen). Both wrap libhansa_wire's key files
 * (JSON, mode 0600, crash-safe and never overwritten when saved; refused
 * when group or others may read them), so the SDK, the node and `hansad
 * testnet` read and write exactly the same format.
 */
#include <string.h>

#include "internal.h"

hansa_code sdk_key_load(const char *path, struct wire_keypair *kp, char party[HANSA_ID_LEN_MAX + 1],
                        hansa_error *err)
{
    char why[HANSA_MESSAGE_MAX - 64];
    why[0] = '\0';
    hansa_err rv = wire_keyfile_load(path, kp, party, HANSA_ID_LEN_MAX + 1, why, sizeof why);
    if (rv != HANSA_OK) {
        wire_keypair_wipe(kp);
        /* wire's sentence names the file already. */
        if (why[0] != '\0')
            return sdk_fail(err, rv == HANSA_ENOMEM ? HANSA_CODE_NOMEM : HANSA_CODE_KEY, "%s", why);
        return sdk_fail(err, rv == HANSA_ENOMEM ? HANSA_CODE_NOMEM : HANSA_CODE_KEY,
                        "key file %s: %s", path, hansa_strerror(rv));
    }
    return HANSA_CODE_OK;
}

hansa_code hansa_keygen(const char *path, const char *party_id, uint8_t public_key[32],
                        hansa_error *err)
{
    if (path == NULL || path[0] == '\0' || public_key == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_keygen: path and public_key "
                        "needed");
    hansa_code code = sdk_init(err);
    if (code != HANSA_CODE_OK)
        return code;
    if (party_id == NULL)
        party_id = "";
    if (party_id[0] != '\0' && !wire_id_valid(party_id))
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "party id '%s' is not valid (1-%u characters of A-Z a-z 0-9 . _ -)",
                        party_id, HANSA_ID_LEN_MAX);
    struct wire_keypair kp;
    wire_keypair_generate(&kp);
    char why[HANSA_MESSAGE_MAX - 64];
    why[0] = '\0';
    hansa_err rv = wire_keyfile_save(path, &kp, party_id, why, sizeof why);
    if (rv == HANSA_OK)
        memcpy(public_key, kp.public_key, WIRE_PUBKEY_BYTES);
    wire_keypair_wipe(&kp);
    switch (rv) {
    case HANSA_OK:
        return sdk_ok(err);
    case HANSA_EEXIST:
        return sdk_fail(err, HANSA_CODE_IO, "%s already exists; a key file is never overwritten",
                        path);
    case HANSA_ENOMEM:
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory writing %s", path);
    case HANSA_EINVAL:
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "%s", why);
    default:
        return sdk_fail(err, HANSA_CODE_IO, "%s", why[0] ? why : hansa_strerror(rv));
    }
}
