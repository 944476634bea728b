/*
 * config.ini: a full file loads into every field; required keys, unknown
 * sections and keys, bad values and malformed lines are errors that name
 * the file and line; what node_config_write writes loads back unchanged.
 * Each test has its own home directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "config.h"
#include "testdir.h"

static char home[128];
static char ini_path[256];

static void setup(void)
{
    td_make(home, sizeof home, "config");
    td_path(ini_path, sizeof ini_path, home, "config.ini");
}

static void teardown(void)
{
    td_remove(home);
}

TestSuite(config, .init = setup, .fini = teardown);

/* Every key; line numbers matter to the tests below. */
static const char full[] = "; test config\n"                        /* 1 */
                           "[node]\n"                               /* 2 */
                           "id = node0\n"                           /* 3 */
                           "chain_id = hansa-test-1\n"              /* 4 */
                           "log_level = debug\n"                    /* 5 */
                           "\n"                                     /* 6 */
                           "[paths]\n"                              /* 7 */
                           "validator_key = keys/validator.key\n"   /* 8 */
                           "data_dir = /var/lib/hansa/data\n"       /* 9 */
                           "genesis = genesis.json\n"               /* 10 */
                           "tls_ca = tls/ca.crt\n"                  /* 11 */
                           "tls_cert = tls/node.crt\n"              /* 12 */
                           "tls_key = tls/node.key\n"               /* 13 */
                           "read_audit_log = audit/read.log\n"      /* 14 */
                           "\n"                                     /* 15 */
                           "[p2p]\n"                                /* 16 */
                           "listen = tls+tcp://127.0.0.1:27000\n"   /* 17 */
                           "\n"                                     /* 18 */
                           "[peers]\n"                              /* 19 */
                           "node1 = tls+tcp://127.0.0.1:27010\n"    /* 20 */
                           "node2 = tls+tcp://10.0.0.2:27020\n"     /* 21 */
                           "node3 = tls+tcp://[::1]:27030\n"        /* 22 */
                           "\n"                                     /* 23 */
                           "[api]\n"                                /* 24 */
                           "listen_tls = tls+tcp://0.0.0.0:27001\n" /* 25 */
                           "listen_tcp = tcp://127.0.0.1:27002\n"   /* 26 */
                           "\n"                                     /* 27 */
                           "[events]\n"                             /* 28 */
                           "listen = tls+tcp://127.0.0.1:27003\n"   /* 29 */
                           "\n"                                     /* 30 */
                           "[blocks]\n"                             /* 31 */
                           "heartbeat_ms = 2000\n"                  /* 32 */
                           "interval_ms = 250\n"                    /* 33 */
                           "max_txs = 7000\n"                       /* 34 */
                           "\n"                                     /* 35 */
                           "[mempool]\n"                            /* 36 */
                           "max_txs = 12345\n"                      /* 37 */
                           "max_bytes = 1048576\n"                  /* 38 */
                           "verifier_threads = 4\n";                /* 39 */

/* Only the required keys. */
static const char minimal[] = "[node]\n"
                              "id = solo\n"
                              "chain_id = c1\n"
                              "[p2p]\n"
                              "listen = tls+tcp://127.0.0.1:27100\n"
                              "[api]\n"
                              "listen_tls = tls+tcp://127.0.0.1:27101\n"
                              "[events]\n"
                              "listen = tcp://127.0.0.1:27103\n";

/* text with the first occurrence of old replaced by new (caller frees). */
static char *with(const char *text, const char *old, const char *new)
{
    const char *at = strstr(text, old);
    cr_assert(at != NULL, "test text lacks \"%s\"", old);
    size_t head = (size_t)(at - text), n = strlen(text) - strlen(old) + strlen(new) + 1;
    char *out = malloc(n);
    cr_assert(out != NULL);
    memcpy(out, text, head);
    strcpy(out + head, new);
    strcat(out, at + strlen(old));
    return out;
}

/* Load text as this test's config.ini; returns the error, fills why. */
static hansa_err load_text(const char *text, struct node_config *c, char *why, size_t why_len)
{
    td_write(ini_path, text);
    return node_config_load(home, c, why, why_len);
}

/* Load text with old replaced by new, expect HANSA_EFORMAT and why
 * containing "<file>:<line>: " followed by expect. */
static void expect_error_at(const char *old, const char *new, int line, const char *expect)
{
    char *text = with(full, old, new);
    static struct node_config c;
    char why[512] = "", prefix[512];
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_EFORMAT, "loaded: %s", new);
    snprintf(prefix, sizeof prefix, "%s:%d: ", ini_path, line);
    cr_assert(strncmp(why, prefix, strlen(prefix)) == 0, "why \"%s\" does not start with \"%s\"",
              why, prefix);
    cr_assert(strstr(why, expect) != NULL, "why \"%s\" lacks \"%s\"", why, expect);
    free(text);
}

Test(config, loads_every_key_of_a_full_file)
{
    static struct node_config c;
    char why[512] = "", expect[512];
    cr_assert_eq(load_text(full, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(c.home, home);
    cr_assert_str_eq(c.file, ini_path);
    cr_assert_str_eq(c.node_id, "node0");
    cr_assert_str_eq(c.chain_id, "hansa-test-1");
    cr_assert_str_eq(c.log_level, "debug");
    snprintf(expect, sizeof expect, "%s/keys/validator.key", home);
    cr_assert_str_eq(c.validator_key_path, expect);
    cr_assert_str_eq(c.data_dir, "/var/lib/hansa/data");
    snprintf(expect, sizeof expect, "%s/genesis.json", home);
    cr_assert_str_eq(c.genesis_path, expect);
    snprintf(expect, sizeof expect, "%s/tls/ca.crt", home);
    cr_assert_str_eq(c.tls_ca_path, expect);
    snprintf(expect, sizeof expect, "%s/tls/node.crt", home);
    cr_assert_str_eq(c.tls_cert_path, expect);
    snprintf(expect, sizeof expect, "%s/tls/node.key", home);
    cr_assert_str_eq(c.tls_key_path, expect);
    snprintf(expect, sizeof expect, "%s/audit/read.log", home);
    cr_assert_str_eq(c.read_audit_log_path, expect);

    cr_assert_str_eq(c.p2p_listen.url, "tls+tcp://127.0.0.1:27000");
    cr_assert_str_eq(c.p2p_listen.host, "127.0.0.1");
    cr_assert_eq(c.p2p_listen.port, 27000);
    cr_assert(c.p2p_listen.tls);
    cr_assert_eq(c.n_peers, 3);
    cr_assert_str_eq(c.peers[0].id, "node1");
    cr_assert_eq(c.peers[0].addr.port, 27010);
    cr_assert_str_eq(c.peers[1].addr.host, "10.0.0.2");
    cr_assert_str_eq(c.peers[2].addr.host, "::1");
    cr_assert_eq(c.peers[2].addr.port, 27030);
    cr_assert_eq(node_config_peer(&c, "node2"), &c.peers[1]);
    cr_assert_null(node_config_peer(&c, "node9"));

    cr_assert_str_eq(c.api_listen_tls.host, "0.0.0.0");
    cr_assert_eq(c.api_listen_tls.port, 27001);
    cr_assert_str_eq(c.api_listen_tcp.url, "tcp://127.0.0.1:27002");
    cr_assert_not(c.api_listen_tcp.tls);
    cr_assert_eq(c.events_listen.port, 27003);

    cr_assert_eq(c.block_heartbeat_ms, 2000);
    cr_assert_eq(c.block_interval_ms, 250);
    cr_assert_eq(c.block_txs_max, 7000);
    cr_assert_eq(c.mempool_txs_max, 12345);
    cr_assert_eq(c.mempool_bytes_max, 1048576);
    cr_assert_eq(c.verifier_threads, 4);
    TD_EXPECT_NO_LEAKS();
}

Test(config, optional_keys_take_their_defaults)
{
    static struct node_config c;
    char why[512] = "", expect[512];
    cr_assert_eq(load_text(minimal, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(c.log_level, "info");
    snprintf(expect, sizeof expect, "%s/validator.key", home);
    cr_assert_str_eq(c.validator_key_path, expect);
    snprintf(expect, sizeof expect, "%s/data", home);
    cr_assert_str_eq(c.data_dir, expect);
    snprintf(expect, sizeof expect, "%s/tls/node.key", home);
    cr_assert_str_eq(c.tls_key_path, expect);
    cr_assert_eq(c.n_peers, 0);
    cr_assert_str_eq(c.api_listen_tcp.url, "", "plain tcp API is off by default");
    cr_assert_not(c.events_listen.tls);
    cr_assert_eq(c.block_heartbeat_ms, 5000);
    cr_assert_eq(c.block_interval_ms, 50);
    cr_assert_eq(c.block_txs_max, 5000);
    cr_assert_eq(c.mempool_txs_max, 20000);
    cr_assert_eq(c.mempool_bytes_max, 256u << 20);
    cr_assert_eq(c.verifier_threads, 2);
}

Test(config, relative_home_resolves_to_an_absolute_path)
{
    static struct node_config c;
    char why[512] = "";
    td_write(ini_path, minimal);
    cr_assert_eq(chdir("/tmp"), 0);
    cr_assert_eq(node_config_load(home + strlen("/tmp/"), &c, why, sizeof why), HANSA_OK, "%s",
                 why);
    cr_assert_str_eq(c.home, home);
    cr_assert(strncmp(c.data_dir, home, strlen(home)) == 0);
}

Test(config, each_missing_required_key_is_named)
{
    static const struct {
        const char *line, *name;
    } required[] = {
        {"id = node0\n", "[node] id"},
        {"chain_id = hansa-test-1\n", "[node] chain_id"},
        {"listen = tls+tcp://127.0.0.1:27000\n", "[p2p] listen"},
        {"listen_tls = tls+tcp://0.0.0.0:27001\n", "[api] listen_tls"},
        {"listen = tls+tcp://127.0.0.1:27003\n", "[events] listen"},
    };
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++) {
        char *text = with(full, required[i].line, "");
        static struct node_config c;
        char why[512] = "", expect[512];
        cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_EFORMAT, "%s", required[i].name);
        snprintf(expect, sizeof expect, "%s: missing required key %s", ini_path, required[i].name);
        cr_assert_str_eq(why, expect);
        free(text);
    }
    TD_EXPECT_NO_LEAKS();
}

Test(config, unknown_key_is_an_error_naming_file_and_line)
{
    expect_error_at("log_level = debug\n", "log_level = debug\ncolour = blue\n", 6,
                    "[node] colour: unknown key");
}

Test(config, unknown_section_is_an_error_even_when_empty)
{
    expect_error_at("\n[p2p]\n", "\n[p2p_extra]\n[p2p]\n", 16, "unknown section [p2p_extra]");
}

Test(config, key_before_any_section_is_an_error)
{
    expect_error_at("; test config\n", "stray = 1\n", 1, "\"stray\" comes before any [section]");
}

Test(config, key_given_twice_is_an_error)
{
    expect_error_at("interval_ms = 250\n", "interval_ms = 250\ninterval_ms = 300\n", 34,
                    "[blocks] interval_ms: given twice (first on line 33");
}

Test(config, indented_continuation_line_is_an_error)
{
    expect_error_at("interval_ms = 250\n", "interval_ms = 250\n   300\n", 34,
                    "[blocks] interval_ms: given twice");
}

Test(config, line_without_equals_is_a_syntax_error)
{
    expect_error_at("max_txs = 7000\n", "max_txs 7000\n", 34, "expected [section] or key = value");
}

Test(config, overlong_line_is_an_error_not_cut)
{
    char line[400];
    memset(line, 'a', sizeof line);
    memcpy(line, "data_dir = /", 12);
    strcpy(line + 300, "\n");
    expect_error_at("data_dir = /var/lib/hansa/data\n", line, 9, "line is longer than 197");
    TD_EXPECT_NO_LEAKS();
}

Test(config, bad_ports_are_errors)
{
    expect_error_at("tls+tcp://127.0.0.1:27000", "tls+tcp://127.0.0.1:0", 17,
                    "[p2p] listen: \"tls+tcp://127.0.0.1:0\": port \"0\" is not a number in "
                    "1..65535");
    expect_error_at("tls+tcp://127.0.0.1:27000", "tls+tcp://127.0.0.1:70000", 17, "port \"70000\"");
    expect_error_at("tls+tcp://127.0.0.1:27000", "tls+tcp://127.0.0.1:http", 17, "port \"http\"");
    expect_error_at("tls+tcp://127.0.0.1:27000", "tls+tcp://127.0.0.1", 17,
                    "is not scheme://host:port");
}

Test(config, bad_url_schemes_are_errors)
{
    expect_error_at("tls+tcp://127.0.0.1:27000", "http://127.0.0.1:27000", 17,
                    "[p2p] listen: \"http://127.0.0.1:27000\" must start with tls+tcp:// or "
                    "tcp://");
    expect_error_at("tls+tcp://127.0.0.1:27000", "tcp://127.0.0.1:27000", 17,
                    "[p2p] listen: must be tls+tcp:// (mutual TLS)");
    expect_error_at("node2 = tls+tcp://10.0.0.2:27020", "node2 = tcp://10.0.0.2:27020", 21,
                    "[peers] node2: must be tls+tcp://");
    expect_error_at("listen_tcp = tcp://127.0.0.1:27002", "listen_tcp = tls+tcp://127.0.0.1:27002",
                    26, "[api] listen_tcp: must be tcp://");
    expect_error_at("tls+tcp://10.0.0.2:27020", "tls+tcp://fe80::1:27020", 21,
                    "is not scheme://host:port");
    TD_EXPECT_NO_LEAKS();
}

Test(config, plain_tcp_listeners_must_be_loopback)
{
    expect_error_at("listen_tcp = tcp://127.0.0.1:27002", "listen_tcp = tcp://0.0.0.0:27002", 26,
                    "[api] listen_tcp: plain tcp:// must bind a loopback address");
    expect_error_at("listen = tls+tcp://127.0.0.1:27003", "listen = tcp://10.1.1.1:27003", 29,
                    "[events] listen: plain tcp:// must bind a loopback address");
}

Test(config, numbers_out_of_range_are_errors)
{
    expect_error_at("max_txs = 7000", "max_txs = 10001", 34,
                    "[blocks] max_txs: \"10001\" is not a whole number in 1..10000");
    expect_error_at("verifier_threads = 4", "verifier_threads = 0", 39,
                    "[mempool] verifier_threads: \"0\" is not a whole number in 1..64");
    expect_error_at("max_bytes = 1048576", "max_bytes = 1024", 38, "in 65536..4294967296");
    expect_error_at("max_bytes = 1048576", "max_bytes = 99999999999999999999999", 38,
                    "is not a whole number");
    expect_error_at("interval_ms = 250", "interval_ms = -5", 33, "is not a whole number");
    expect_error_at("interval_ms = 250", "interval_ms = 2.5", 33, "is not a whole number");
    expect_error_at("interval_ms = 250", "interval_ms = 250ms", 33, "is not a whole number");
}

Test(config, heartbeat_shorter_than_interval_is_an_error)
{
    expect_error_at("heartbeat_ms = 2000", "heartbeat_ms = 100", 33,
                    "[blocks] heartbeat_ms (100) must be 0 or at least interval_ms (250)");
}

Test(config, heartbeat_zero_means_no_empty_blocks)
{
    char *text = with(full, "heartbeat_ms = 2000", "heartbeat_ms = 0");
    static struct node_config c;
    char why[512] = "";
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(c.block_heartbeat_ms, 0);
    free(text);
}

Test(config, bad_ids_and_names_are_errors)
{
    expect_error_at("id = node0", "id = node/0", 3, "[node] id: \"node/0\" is not 1-64");
    expect_error_at("chain_id = hansa-test-1", "chain_id = hansa test", 4, "[node] chain_id");
    expect_error_at("log_level = debug", "log_level = verbose", 5,
                    "\"verbose\" is not debug, info, warn or error");
    expect_error_at("node1 = ", "node*1 = ", 20, "[peers] \"node*1\" is not a validator id");
    expect_error_at("genesis = genesis.json", "genesis =", 10, "[paths] genesis: empty path");
}

Test(config, peers_must_be_distinct_and_not_this_node)
{
    expect_error_at("node2 = ", "node1 = ", 21, "[peers] node1: given twice (first on line 20)");
    expect_error_at("node3 = ", "node0 = ", 22, "[peers] node0: is this node's own id");
}

Test(config, too_many_peers_is_an_error)
{
    /* full has 3 peers; a second [peers] block adds 62 more: 65 > 64. */
    size_t cap = sizeof full + 64 + 48 * HANSA_PEERS_MAX;
    char *text = malloc(cap);
    cr_assert_not_null(text);
    int n = snprintf(text, cap, "%s[peers]\n", full);
    for (unsigned i = 0; i < HANSA_PEERS_MAX - 2; i++)
        n += snprintf(text + n, cap - (size_t)n, "p%u = tls+tcp://127.0.0.1:%u\n", i, 30000 + i);
    static struct node_config c;
    char why[512] = "", expect[512];
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_EFORMAT);
    snprintf(expect, sizeof expect, "%s:%u: [peers] p61: more than 64 peers", ini_path,
             39 + 1 + HANSA_PEERS_MAX - 2);
    cr_assert_str_eq(why, expect);
    free(text);
    TD_EXPECT_NO_LEAKS();
}

Test(config, two_listeners_on_one_port_is_an_error)
{
    expect_error_at("tls+tcp://127.0.0.1:27003", "tls+tcp://127.0.0.1:27000", 29,
                    "[p2p] listen and [events] listen both listen on port 27000");
    expect_error_at("listen_tcp = tcp://127.0.0.1:27002", "listen_tcp = tcp://127.0.0.1:27001", 26,
                    "[api] listen_tls and [api] listen_tcp both listen on port 27001");
}

Test(config, missing_home_or_file_is_enoent)
{
    static struct node_config c;
    char why[512] = "", missing[256];
    td_path(missing, sizeof missing, home, "nope");
    cr_assert_eq(node_config_load(missing, &c, why, sizeof why), HANSA_ENOENT);
    cr_assert(strstr(why, "nope") != NULL, "%s", why);
    cr_assert_eq(node_config_load(home, &c, why, sizeof why), HANSA_ENOENT);
    cr_assert(strstr(why, "config.ini") != NULL, "%s", why);
}

Test(config, written_file_loads_back_equal_with_relative_paths_resolved)
{
    static struct node_config c, back;
    char why[512] = "", expect[512];
    node_config_init(&c);
    strcpy(c.node_id, "node7");
    strcpy(c.chain_id, "chain-x");
    strcpy(c.log_level, "warn");
    strcpy(c.data_dir, "/srv/hansa/data");
    cr_assert_eq(node_url_parse("tls+tcp://127.0.0.1:28000", &c.p2p_listen, why, sizeof why),
                 HANSA_OK);
    cr_assert_eq(node_url_parse("tls+tcp://*:28001", &c.api_listen_tls, why, sizeof why), HANSA_OK);
    cr_assert_eq(node_url_parse("tls+tcp://127.0.0.1:28003", &c.events_listen, why, sizeof why),
                 HANSA_OK);
    strcpy(c.peers[0].id, "node8");
    cr_assert_eq(
        node_url_parse("tls+tcp://host-8.example:28010", &c.peers[0].addr, why, sizeof why),
        HANSA_OK);
    c.n_peers = 1;
    c.block_heartbeat_ms = 0;
    c.mempool_bytes_max = UINT64_C(4) << 30;
    cr_assert_eq(node_config_write(ini_path, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(td_mode(ini_path), 0644);
    cr_assert_eq(node_config_load(home, &back, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(back.node_id, "node7");
    cr_assert_str_eq(back.chain_id, "chain-x");
    cr_assert_str_eq(back.log_level, "warn");
    cr_assert_str_eq(back.data_dir, "/srv/hansa/data");
    snprintf(expect, sizeof expect, "%s/genesis.json", home);
    cr_assert_str_eq(back.genesis_path, expect);
    cr_assert_str_eq(back.api_listen_tls.host, "*");
    cr_assert_str_eq(back.api_listen_tcp.url, "");
    cr_assert_eq(back.n_peers, 1);
    cr_assert_str_eq(back.peers[0].addr.host, "host-8.example");
    cr_assert_eq(back.block_heartbeat_ms, 0);
    cr_assert_eq(back.mempool_bytes_max, UINT64_C(4) << 30);
    cr_assert_eq(back.block_txs_max, c.block_txs_max);
    TD_EXPECT_NO_LEAKS();
}

Test(config, written_file_has_a_comment_above_every_key)
{
    static struct node_config c;
    char why[512] = "";
    cr_assert_eq(load_text(full, &c, why, sizeof why), HANSA_OK, "%s", why);
    char out[256];
    td_path(out, sizeof out, home, "written.ini");
    cr_assert_eq(node_config_write(out, &c, why, sizeof why), HANSA_OK, "%s", why);
    char *text = td_read(out, NULL);
    cr_assert_not_null(text);
    int keys = 0;
    const char *prev = "";
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        bool is_key = line[0] != ';' && line[0] != '[' && strchr(line, '=') != NULL;
        bool is_peer = strncmp(line, "node", 4) == 0;
        if (is_key && !is_peer) {
            cr_assert(prev[0] == ';', "no comment above \"%s\"", line);
            keys++;
        }
        prev = line;
    }
    cr_assert_eq(keys, 24, "every key of the table is written");
    free(text);
}

Test(config, writer_never_overwrites_and_refuses_what_would_not_load)
{
    static struct node_config c;
    char why[512] = "";
    node_config_init(&c);
    td_write(ini_path, "keep me\n");
    cr_assert_eq(node_config_write(ini_path, &c, why, sizeof why), HANSA_EINVAL,
                 "an empty node id must be refused");
    cr_assert(strstr(why, "[node] id") != NULL, "%s", why);

    cr_assert_eq(load_text(full, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(node_config_write(ini_path, &c, why, sizeof why), HANSA_EEXIST);
    char *text = td_read(ini_path, NULL);
    cr_assert_str_eq(text, full);
    free(text);

    char out[256];
    td_path(out, sizeof out, home, "semi.ini");
    strcpy(c.data_dir, "/data;evil");
    cr_assert_eq(node_config_write(out, &c, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(td_mode(out), -1, "nothing written");
    TD_EXPECT_NO_LEAKS();
}

/* ---- cross-check with genesis ------------------------------------------------------ */

static const char genesis_text[] =
    "{\"chain_id\": \"hansa-test-1\", \"genesis_time_ms\": 1,"
    " \"parties\": [],"
    " \"validators\": ["
    "  {\"id\": \"node0\", \"key\": "
    "\"4edaf5275f0d85ddb33f33b42a2a71b109228f92f64691373bb4cf7a2be972be\"},"
    "  {\"id\": \"node1\", \"key\": "
    "\"6745500eda4ab1ad47d2ce855c4a9f4604f89abca2a4561cf0d9ccaacb0c0700\"},"
    "  {\"id\": \"node2\", \"key\": "
    "\"ec0769247912711195823944cbc3c097ea64c534c847a7993f3ea371b044df2e\"},"
    "  {\"id\": \"node3\", \"key\": "
    "\"804b280f80fd41d46a54e0bde219ff3a0389d2b37083e1b79b3c49d244c8bf3f\"}]}";

Test(config, genesis_cross_check_accepts_matching_files)
{
    static struct node_config c;
    struct genesis_doc g;
    char why[512] = "";
    cr_assert_eq(load_text(full, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(genesis_parse(genesis_text, strlen(genesis_text), "g", &g, why, sizeof why),
                 HANSA_OK, "%s", why);
    cr_assert_eq(node_config_check_genesis(&c, &g, why, sizeof why), HANSA_OK, "%s", why);
    genesis_doc_free(&g);
}

Test(config, genesis_cross_check_names_each_mismatch)
{
    static struct node_config c;
    struct genesis_doc g;
    char why[512] = "";
    cr_assert_eq(genesis_parse(genesis_text, strlen(genesis_text), "g", &g, why, sizeof why),
                 HANSA_OK, "%s", why);

    char *text = with(full, "chain_id = hansa-test-1", "chain_id = other");
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(node_config_check_genesis(&c, &g, why, sizeof why), HANSA_EINVAL);
    cr_assert(strstr(why, "chain_id other differs from genesis chain_id hansa-test-1"), "%s", why);
    free(text);

    text = with(full, "id = node0", "id = node9");
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(node_config_check_genesis(&c, &g, why, sizeof why), HANSA_EINVAL);
    cr_assert(strstr(why, "node id node9 is not a validator in genesis"), "%s", why);
    free(text);

    text = with(full, "node3 = tls+tcp://[::1]:27030\n", "");
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(node_config_check_genesis(&c, &g, why, sizeof why), HANSA_EINVAL);
    cr_assert(strstr(why, "validator node3 of genesis has no line in [peers]"), "%s", why);
    free(text);

    text = with(full, "node3 = ", "node4 = ");
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(node_config_check_genesis(&c, &g, why, sizeof why), HANSA_EINVAL);
    cr_assert(strstr(why, "peer node4 is not a validator in genesis"), "%s", why);
    free(text);
    genesis_doc_free(&g);
    TD_EXPECT_NO_LEAKS();
}

Test(config, url_parser_splits_host_and_port)
{
    struct node_url u;
    char why[256];
    cr_assert_eq(node_url_parse("tls+tcp://[::1]:5", &u, why, sizeof why), HANSA_OK);
    cr_assert_str_eq(u.host, "::1");
    cr_assert_eq(u.port, 5);
    cr_assert(node_url_is_loopback(&u));
    cr_assert_eq(node_url_parse("tcp://localhost:65535", &u, why, sizeof why), HANSA_OK);
    cr_assert(node_url_is_loopback(&u));
    cr_assert_eq(node_url_parse("tcp://127.10.0.3:1", &u, why, sizeof why), HANSA_OK);
    cr_assert(node_url_is_loopback(&u));
    cr_assert_eq(node_url_parse("tcp://127.example:1", &u, why, sizeof why), HANSA_OK);
    cr_assert_not(node_url_is_loopback(&u));
    cr_assert_eq(node_url_parse("tcp://:1", &u, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(node_url_parse("tcp://h:1/path", &u, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(node_url_parse("tcp://[::1:1", &u, why, sizeof why), HANSA_EINVAL);
    cr_assert_eq(node_url_parse("tcp://h:+1", &u, why, sizeof why), HANSA_EINVAL);
}

Test(config, consensus_timeouts_have_defaults_and_bounds)
{
    static struct node_config c;
    char why[512] = "";
    cr_assert_eq(load_text(full, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(c.consensus_propose_ms, 3000);
    cr_assert_eq(c.consensus_vote_ms, 1000);

    char text[sizeof full + 128];
    snprintf(text, sizeof text, "%s[consensus]\npropose_timeout_ms = 1500\nvote_timeout_ms = 400\n",
             full);
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(c.consensus_propose_ms, 1500);
    cr_assert_eq(c.consensus_vote_ms, 400);

    snprintf(text, sizeof text, "%s[consensus]\npropose_timeout_ms = 50\n", full);
    cr_assert_eq(load_text(text, &c, why, sizeof why), HANSA_EFORMAT);
    cr_assert(strstr(why, "propose_timeout_ms") != NULL, "why: %s", why);
}
