/*
 * Identity commitments through the SDK: the key file `hansad testnet`
 * writes loads, the commitments equal libhansa_wire's for the mapped kinds
 * (so SDK users and every other member agree), and bad key files and bad
 * values are refused with the right codes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "hansa/hansa.h"
#include "hansa/wire.h"
#include "testnet.h"

static char dir[64];
static uint8_t key[WIRE_IDENTITY_KEY_BYTES];

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    strcpy(dir, "/tmp/hansa-sdk-id-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(0x40 + i);
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

TestSuite(identity, .init = setup, .fini = teardown);

/* The key file as `hansad testnet` writes it. */
static void write_testnet_key(const char *path)
{
    char why[256];
    cr_assert_eq(testnet_identity_key_save(path, key, why, sizeof why), HANSA_OK, "%s", why);
}

static void write_text(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fputs(text, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(chmod(path, mode), 0);
}

Test(identity, commitments_equal_wire_for_every_kind)
{
    char path[128];
    snprintf(path, sizeof path, "%s/identity.key", dir);
    write_testnet_key(path);
    hansa_identity_key *k = NULL;
    hansa_error err;
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_OK, "%s", err.message);
    struct {
        hansa_identity_kind sdk;
        enum wire_identity_kind wire;
        const char *value;
    } cases[] = {
        {HANSA_IDENTITY_NAME, WIRE_IDENTITY_NAME, "  Anna  Schmidt "},
        {HANSA_IDENTITY_PHONE, WIRE_IDENTITY_PHONE, "+49 40 1234-5678"},
        {HANSA_IDENTITY_ADDRESS, WIRE_IDENTITY_ADDRESS, "Jungfernstieg 1, 20095 Hamburg"},
        {HANSA_IDENTITY_BUYER, WIRE_IDENTITY_DOCUMENT, "BUYER-4711 0815"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t got[32], want[32];
        cr_assert_eq(hansa_identity_commit(k, cases[i].sdk, cases[i].value, got, &err),
                     HANSA_CODE_OK, "%s", err.message);
        cr_assert_eq(wire_identity_commit(key, cases[i].wire, cases[i].value, want), HANSA_OK);
        cr_assert_arr_eq(got, want, 32, "kind %d differs from wire's", (int)cases[i].sdk);
    }
    /* Normalization applies: the same buyer typed differently commits the same. */
    uint8_t a[32], b[32];
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_BUYER, "buyer-47110815", a, &err),
                 HANSA_CODE_OK);
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_BUYER, "BUYER 4711 0815", b, &err),
                 HANSA_CODE_OK);
    cr_assert_arr_eq(a, b, 32);
    /* Kinds are separated: the same text as a name commits differently. */
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_NAME, "buyer-47110815", b, &err),
                 HANSA_CODE_OK);
    cr_assert_arr_neq(a, b, 32);
    hansa_identity_key_free(k);
}

Test(identity, refuses_a_key_file_others_may_read)
{
    char path[128];
    snprintf(path, sizeof path, "%s/identity.key", dir);
    write_testnet_key(path);
    cr_assert_eq(chmod(path, 0644), 0);
    hansa_identity_key *k = NULL;
    hansa_error err;
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_KEY);
    cr_assert_null(k);
    cr_assert_not_null(strstr(err.message, "group or others"), "%s", err.message);
}

Test(identity, refuses_missing_and_malformed_key_files)
{
    char path[128];
    hansa_identity_key *k = NULL;
    hansa_error err;
    snprintf(path, sizeof path, "%s/none.key", dir);
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_KEY);
    snprintf(path, sizeof path, "%s/bad.key", dir);
    write_text(path, "{\"type\": \"hansa-identity-key\", \"version\": 1, \"key\": \"00ff\"}", 0600);
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_KEY);
    write_text(path, "{\"type\": \"hansa-ed25519-key\", \"version\": 1, \"key\": \"00\"}", 0600);
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_KEY);
    write_text(path, "not json", 0600);
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_KEY);
    cr_assert_null(k);
}

Test(identity, refuses_values_that_do_not_normalize)
{
    char path[128];
    snprintf(path, sizeof path, "%s/identity.key", dir);
    write_testnet_key(path);
    hansa_identity_key *k = NULL;
    hansa_error err;
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_OK);
    uint8_t out[32];
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_PHONE, "040 1234 5678", out, &err),
                 HANSA_CODE_INVALID_ARGUMENT, "a phone without its country code");
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_NAME, "   ", out, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_NAME, "\xff\xfe", out, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_eq(hansa_identity_commit(k, (hansa_identity_kind)42, "x", out, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
    hansa_identity_key_free(k);
}
