/*
 * `hansad testnet`: four validators into an empty directory produce every
 * listed file with the right modes; every config loads and agrees with the
 * genesis, which is byte-identical across nodes and lists the keys that
 * were written; certificates verify for their names; a second run into the
 * same directory is refused and changes nothing; bad usage exits with 2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "config.h"
#include "pki.h"
#include "testdir.h"
#include "testnet.h"

static char dir[128];

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    td_make(dir, sizeof dir, "testnet");
}

static void teardown(void)
{
    td_remove(dir);
}

TestSuite(testnet, .init = setup, .fini = teardown);

static int run(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
               const char *a6, const char *a7, const char *a8)
{
    const char *args[] = {"testnet", a1, a2, a3, a4, a5, a6, a7, a8, NULL};
    int argc = 1;
    while (args[argc] != NULL)
        argc++;
    return testnet_main(argc, (char **)(uintptr_t)args);
}

static void file_in(char *out, size_t out_len, const char *rel)
{
    td_path(out, out_len, dir, rel);
}

static void assert_mode(const char *rel, int mode)
{
    char path[512];
    file_in(path, sizeof path, rel);
    cr_assert_eq(td_mode(path), mode, "%s: mode %o, expected %o", rel, td_mode(path), mode);
}

static const char *const party_ids[] = {"MER-SZ-0001", "PLT-0001",    "PAY-0001",   "LOG-0001",
                                        "BANK-A",      "BANK-B",      "CUS-0001",   "ADMIN-NODE0",
                                        "ADMIN-NODE1", "ADMIN-NODE2", "ADMIN-NODE3"};
#define N_PARTY_IDS (sizeof party_ids / sizeof party_ids[0])

Test(testnet, four_validators_get_every_file)
{
    cr_assert_eq(run("--validators", "4", "--dir", dir, NULL, NULL, NULL, NULL), 0);
    assert_mode("ca/ca.crt", 0644);
    assert_mode("ca/ca.key", 0600);
    for (int i = 0; i < 4; i++) {
        static const char *const files[] = {"config.ini", "genesis.json", "ca.crt", "tls/node.crt"};
        for (size_t f = 0; f < 4; f++) {
            char rel[64];
            snprintf(rel, sizeof rel, "node%d/%s", i, files[f]);
            assert_mode(rel, 0644);
        }
        char rel[64];
        snprintf(rel, sizeof rel, "node%d/validator.key", i);
        assert_mode(rel, 0600);
        snprintf(rel, sizeof rel, "node%d/tls/node.key", i);
        assert_mode(rel, 0600);
    }
    char rel[64];
    snprintf(rel, sizeof rel, "node4");
    assert_mode(rel, -1);
    for (size_t p = 0; p < N_PARTY_IDS; p++) {
        snprintf(rel, sizeof rel, "parties/%s.key", party_ids[p]);
        assert_mode(rel, 0600);
    }
    assert_mode("parties/identity.key", 0600);
    assert_mode("parties/client.crt", 0644);
    assert_mode("parties/client.key", 0600);
    assert_mode("parties/ca.crt", 0644);
}

Test(testnet, configs_load_and_agree_with_one_genesis)
{
    cr_assert_eq(
        run("--validators", "4", "--dir", dir, "--base-port", "31000", "--chain-id", "demo-7"), 0);
    char path[512], why[512] = "";
    file_in(path, sizeof path, "node0/genesis.json");
    size_t len0;
    char *bytes0 = td_read(path, &len0);
    cr_assert_not_null(bytes0);
    struct genesis_doc g;
    cr_assert_eq(genesis_load(path, &g, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(g.chain_id, "demo-7");
    cr_assert_eq(g.n_validators, 4);
    cr_assert_eq(g.n_parties, N_PARTY_IDS);

    static struct node_config c;
    for (int i = 0; i < 4; i++) {
        char rel[64], home[512];
        snprintf(rel, sizeof rel, "node%d/genesis.json", i);
        file_in(path, sizeof path, rel);
        size_t len;
        char *bytes = td_read(path, &len);
        cr_assert(len == len0 && memcmp(bytes, bytes0, len) == 0, "node%d genesis differs", i);
        free(bytes);

        snprintf(rel, sizeof rel, "node%d", i);
        file_in(home, sizeof home, rel);
        cr_assert_eq(node_config_load(home, &c, why, sizeof why), HANSA_OK, "%s", why);
        cr_assert_eq(node_config_check_genesis(&c, &g, why, sizeof why), HANSA_OK, "%s", why);
        cr_assert_str_eq(c.node_id, rel);
        cr_assert_eq(c.n_peers, 3);
        cr_assert_eq(c.p2p_listen.port, 31000 + 10 * i);
        cr_assert_eq(c.api_listen_tls.port, 31000 + 10 * i + 1);
        cr_assert_eq(c.api_listen_tcp.port, 31000 + 10 * i + 2);
        cr_assert_eq(c.events_listen.port, 31000 + 10 * i + 3);
        cr_assert_str_eq(c.p2p_listen.host, "127.0.0.1");
        for (size_t p = 0; p < c.n_peers; p++) {
            int j = atoi(c.peers[p].id + 4);
            cr_assert_eq(c.peers[p].addr.port, 31000 + 10 * j);
        }

        /* The validator key on disk is the one genesis lists. */
        struct wire_keypair kp;
        char party[HANSA_ID_LEN_MAX + 1];
        cr_assert_eq(
            wire_keyfile_load(c.validator_key_path, &kp, party, sizeof party, why, sizeof why),
            HANSA_OK, "%s", why);
        cr_assert_str_eq(party, "");
        const Hansa__Validator *v = genesis_validator(&g, c.node_id);
        cr_assert_not_null(v);
        cr_assert_arr_eq(v->key.data, kp.public_key, WIRE_PUBKEY_BYTES);
        char op[32];
        snprintf(op, sizeof op, "ADMIN-NODE%d", i);
        cr_assert_str_eq(v->operator_party, op);

        /* The TLS files are where the config says, and verify for the node id. */
        cr_assert_eq(pki_cert_check(c.tls_ca_path, c.tls_cert_path, c.tls_key_path, c.node_id, why,
                                    sizeof why),
                     HANSA_OK, "%s", why);
    }
    free(bytes0);
    genesis_doc_free(&g);
    TD_EXPECT_NO_LEAKS();
}

Test(testnet, party_keys_identity_key_and_client_cert_match_genesis)
{
    cr_assert_eq(run("--validators", "4", "--dir", dir, NULL, NULL, NULL, NULL), 0);
    char path[512], why[512] = "";
    file_in(path, sizeof path, "node2/genesis.json");
    struct genesis_doc g;
    cr_assert_eq(genesis_load(path, &g, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(g.chain_id, TESTNET_CHAIN_ID_DEFAULT);
    for (size_t p = 0; p < N_PARTY_IDS; p++) {
        char rel[64], party[HANSA_ID_LEN_MAX + 1];
        snprintf(rel, sizeof rel, "parties/%s.key", party_ids[p]);
        file_in(path, sizeof path, rel);
        struct wire_keypair kp;
        cr_assert_eq(wire_keyfile_load(path, &kp, party, sizeof party, why, sizeof why), HANSA_OK,
                     "%s", why);
        cr_assert_str_eq(party, party_ids[p]);
        cr_assert_str_eq(g.parties[p]->id, party_ids[p]);
        cr_assert_eq(g.parties[p]->n_keys, 1);
        cr_assert_arr_eq(g.parties[p]->keys[0].data, kp.public_key, WIRE_PUBKEY_BYTES);
    }
    cr_assert_str_eq(g.parties[0]->display_name, "Shenzhen Bright Electronics");
    cr_assert_eq(g.parties[0]->roles[0], HANSA__ROLE__ROLE_MERCHANT);
    cr_assert_str_eq(g.parties[5]->country, "DE");
    cr_assert_eq(g.parties[6]->roles[0], HANSA__ROLE__ROLE_REGULATOR);
    cr_assert_eq(g.parties[7]->roles[0], HANSA__ROLE__ROLE_ADMIN);

    /* The genesis builds a ledger state. */
    struct ledger_genesis lg = genesis_ledger(&g);
    struct ledger_output out;
    cr_assert_eq(ledger_genesis(&lg, &out, why, sizeof why), HANSA_OK, "%s", why);
    ledger_output_free(&out);

    uint8_t identity[WIRE_IDENTITY_KEY_BYTES], zero[WIRE_IDENTITY_KEY_BYTES] = {0};
    file_in(path, sizeof path, "parties/identity.key");
    cr_assert_eq(testnet_identity_key_load(path, identity, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert(memcmp(identity, zero, sizeof zero) != 0);

    char ca[512], crt[512], key[512];
    file_in(ca, sizeof ca, "parties/ca.crt");
    file_in(crt, sizeof crt, "parties/client.crt");
    file_in(key, sizeof key, "parties/client.key");
    cr_assert_eq(pki_cert_check(ca, crt, key, "client", why, sizeof why), HANSA_OK, "%s", why);
    genesis_doc_free(&g);
}

Test(testnet, second_run_into_the_same_dir_is_refused_and_changes_nothing)
{
    cr_assert_eq(run("--validators", "2", "--dir", dir, NULL, NULL, NULL, NULL), 0);
    char path[512];
    file_in(path, sizeof path, "node0/genesis.json");
    char *before = td_read(path, NULL);
    cr_assert_eq(run("--validators", "4", "--dir", dir, NULL, NULL, NULL, NULL), 1);
    char *after = td_read(path, NULL);
    cr_assert_str_eq(before, after);
    assert_mode("node2", -1);
    free(before);
    free(after);
    TD_EXPECT_NO_LEAKS();
}

Test(testnet, creates_a_missing_dir_and_refuses_a_file)
{
    char sub[512];
    file_in(sub, sizeof sub, "net");
    cr_assert_eq(run("--validators=1", "--dir", sub, NULL, NULL, NULL, NULL, NULL), 0);
    assert_mode("net/node0/config.ini", 0644);
    assert_mode("net/node1", -1);

    char file[512];
    file_in(file, sizeof file, "plain-file");
    td_write(file, "x");
    cr_assert_eq(run("--validators", "1", "--dir", file, NULL, NULL, NULL, NULL), 1);
}

Test(testnet, identity_key_readable_by_others_is_refused)
{
    char path[512], why[512] = "";
    uint8_t key[WIRE_IDENTITY_KEY_BYTES] = {1, 2, 3}, back[WIRE_IDENTITY_KEY_BYTES];
    file_in(path, sizeof path, "identity.key");
    cr_assert_eq(testnet_identity_key_save(path, key, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(testnet_identity_key_save(path, key, why, sizeof why), HANSA_EEXIST);
    cr_assert_eq(testnet_identity_key_load(path, back, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_arr_eq(back, key, sizeof key);
    cr_assert_eq(chmod(path, 0644), 0);
    cr_assert_eq(testnet_identity_key_load(path, back, why, sizeof why), HANSA_EPERM);
    cr_assert_eq(chmod(path, 0600), 0);
    td_write(path, "{\"type\": \"hansa-identity-key\", \"version\": 1, \"key\": \"00\"}");
    cr_assert_eq(chmod(path, 0600), 0);
    cr_assert_eq(testnet_identity_key_load(path, back, why, sizeof why), HANSA_EFORMAT);
    TD_EXPECT_NO_LEAKS();
}

Test(testnet, bad_usage_exits_with_2)
{
    cr_assert_eq(run("--validators", "0", "--dir", dir, NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run("--validators", "17", "--dir", dir, NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run("--validators", "four", "--dir", dir, NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run("--dir", dir, NULL, NULL, NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run("--validators", "4", NULL, NULL, NULL, NULL, NULL, NULL), 2);
    cr_assert_eq(run("--validators", "4", "--dir", dir, "--base-port", "65510", NULL, NULL), 2);
    cr_assert_eq(run("--validators", "4", "--dir", dir, "--chain-id", "a b", NULL, NULL), 2);
    cr_assert_eq(run("--validators", "4", "--dir", dir, "--frobnicate", NULL, NULL, NULL), 2);
    cr_assert_eq(run("--validators", "4", "--dir", NULL, NULL, NULL, NULL, NULL), 2);
    assert_mode("ca", -1); /* nothing was written */
    cr_assert_eq(run("--help", NULL, NULL, NULL, NULL, NULL, NULL, NULL), 0);
    TD_EXPECT_NO_LEAKS();
}
