/*
 * `hansad backup --home DIR --out NEWDIR` against a real node:
 *
 *   start one validator (heartbeat blocks off, so the height moves only
 *   with our transactions), commit some transactions, stop it with
 *   SIGTERM, back it up. The backup opens read-only at the original's
 *   height and state root with the same last block, and a node started on
 *   a copy of the home directory whose data_dir names the backup serves
 *   status at that height and the receipts of the committed transactions.
 *
 *   A running node takes the backup itself through its control socket and
 *   keeps committing; the copy holds every receipt committed before it,
 *   and a node killed with SIGKILL does so again after its restart (the
 *   stale socket file is replaced).
 *
 *   Refusals: a backup into a directory that exists, through a stopped or
 *   a running node, exits non-zero with a sentence saying so and leaves the
 *   existing directory alone.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <criterion/criterion.h>

#include "proc.h"
#include "store.h"
#include "testclient.h"

#define CHAIN   "hansa-backup-1"
#define N_TXS   20
#define WAIT_MS 10000u

static char dir[256], net[300], home[320], api_url[64];
static struct proc node;
static bool node_running;
static struct tc *c;
static struct wire_keypair merchant;
static uint8_t ids[N_TXS][32];
static uint64_t heights[N_TXS];
static uint32_t indexes[N_TXS];
static int runs;

/* ---- files ---- */

/* The whole of a small text file (caller frees); NULL if unreadable. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return NULL;
    char *buf = malloc(1 << 16);
    cr_assert_not_null(buf);
    size_t n = fread(buf, 1, (1 << 16) - 1, f);
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Replace the line "key = ..." of config.ini in home_dir with key = value. */
static void ini_set(const char *home_dir, const char *key, const char *value)
{
    char path[400], prefix[64];
    snprintf(path, sizeof path, "%s/config.ini", home_dir);
    snprintf(prefix, sizeof prefix, "%s = ", key);
    char *text = slurp(path);
    cr_assert_not_null(text, "cannot read %s", path);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    bool found = false;
    for (char *line = text; *line != '\0';) {
        char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) + 1 : strlen(line);
        if (strncmp(line, prefix, strlen(prefix)) == 0) {
            fprintf(f, "%s%s\n", prefix, value);
            found = true;
        } else {
            fwrite(line, 1, len, f);
        }
        line += len;
    }
    cr_assert_eq(fclose(f), 0);
    free(text);
    cr_assert(found, "%s has no line \"%s\"", path, prefix);
}

static bool dir_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- processes ---- */

static bool status_ok(void *arg)
{
    (void)arg;
    Hansa__Response *r = NULL;
    bool ok = tc_status(c, &r) == HANSA_OK && r->error == HANSA__ERROR_CODE__ERROR_NONE;
    wire_free(r);
    return ok;
}

static void start_node(const char *home_dir)
{
    char log[300];
    snprintf(log, sizeof log, "%s/node-%d.log", dir, ++runs);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "start", "--home", (char *)home_dir, NULL};
    cr_assert_eq(proc_spawn(&node, argv, log), 0);
    node_running = true;
    cr_assert_eq(tc_open(api_url, NULL, NULL, 10000, &c), HANSA_OK);
    cr_assert(proc_wait_until(status_ok, NULL, 30000), "node did not start; see %s", log);
}

static void stop_node(void)
{
    tc_close(c);
    c = NULL;
    proc_signal(&node, SIGTERM);
    node_running = false;
    cr_assert_eq(proc_wait(&node, 30000), 0, "hansad did not stop cleanly on SIGTERM; see %s",
                 node.log_path);
}

/* Run `hansad backup --home home --out out`: its exit status; its output
 * (stdout and stderr) in *output, caller frees. */
static int backup(const char *out, char **output)
{
    char log[300];
    snprintf(log, sizeof log, "%s/backup-%d.log", dir, ++runs);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "backup", "--home", home, "--out", (char *)out, NULL};
    int rv = proc_run(argv, log, 60000);
    *output = slurp(log);
    cr_assert_not_null(*output, "no output file %s", log);
    return rv;
}

/* ---- the chain ---- */

static void commit_orders(void)
{
    for (int i = 0; i < N_TXS; i++) {
        char order_no[32];
        snprintf(order_no, sizeof order_no, "BK-%03d", i);
        uint8_t *tx = NULL;
        size_t len = 0;
        cr_assert_eq(tc_order_tx(CHAIN, "MER-SZ-0001", &merchant, order_no, 1500 + i, tc_now_ms(),
                                 &tx, &len, ids[i]),
                     HANSA_OK);
        Hansa__Response *r = NULL;
        cr_assert_eq(tc_submit(c, tx, len, &r), HANSA_OK, "no answer to submit %d", i);
        cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_SUBMIT, "submit %d: error %d %s", i,
                     r->error, r->error_message);
        cr_assert_eq(r->submit->result, HANSA__RESULT_CODE__RESULT_OK, "submit %d refused: %s", i,
                     r->submit->message);
        wire_free(r);
        free(tx);
    }
}

/* The committed receipt of tx i (waiting for its commit). */
static void receipt(int i, uint64_t *height, uint32_t *index)
{
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){32, ids[i]};
    g.wait_ms = WAIT_MS;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_query(c, CHAIN, "MER-SZ-0001", &merchant, &q, &r), HANSA_OK,
                 "no answer to receipt %d", i);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_RECEIPT, "receipt %d: error %d %s", i,
                 r->error, r->error_message);
    cr_assert_eq(r->receipt->status, HANSA__TX_STATUS__TX_STATUS_COMMITTED,
                 "tx %d not committed (status %d)", i, r->receipt->status);
    cr_assert_eq(r->receipt->receipt->result, HANSA__RESULT_CODE__RESULT_OK, "tx %d: %s", i,
                 r->receipt->receipt->message);
    *height = r->receipt->receipt->height;
    *index = r->receipt->receipt->index;
    wire_free(r);
}

static uint64_t status_height(void)
{
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_status(c, &r), HANSA_OK);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_STATUS, "status: error %d %s", r->error,
                 r->error_message);
    uint64_t h = r->status->latest_height;
    wire_free(r);
    return h;
}

struct store_tip {
    uint64_t height;
    uint8_t root[32];
    uint8_t *block; /* encoded StoredBlock at height; caller frees */
    size_t block_len;
};

static void read_tip(const char *data_dir, struct store_tip *t)
{
    char why[512] = "";
    struct store *s = NULL;
    cr_assert_eq(store_open_readonly(data_dir, &s, why, sizeof why), HANSA_OK, "%s: %s", data_dir,
                 why);
    t->height = store_height(s);
    store_state_root(s, t->root);
    cr_assert_eq(store_get_block(s, t->height, &t->block, &t->block_len), HANSA_OK,
                 "%s: no block at its height %llu", data_dir, (unsigned long long)t->height);
    store_close(s);
}

/* ---- fixture ---- */

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    strcpy(dir, "/tmp/hansa-backup-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    int base = proc_free_port_base(10);
    cr_assert_gt(base, 0);
    char port[16], log[300];
    snprintf(net, sizeof net, "%s/net", dir);
    snprintf(port, sizeof port, "%d", base);
    snprintf(log, sizeof log, "%s/testnet.log", dir);
    char *tn[] = {HANSA_BIN_DIR "/hansad", "testnet", "--validators", "1",   "--dir", net,
                  "--base-port",           port,      "--chain-id",   CHAIN, NULL};
    cr_assert_eq(proc_run(tn, log, 60000), 0, "hansad testnet failed; see %s", log);
    snprintf(home, sizeof home, "%s/node0", net);
    snprintf(api_url, sizeof api_url, "tcp://127.0.0.1:%d", base + 2);
    /* No empty blocks: the height moves only with our transactions. */
    ini_set(home, "heartbeat_ms", "0");
    char key[400], party[65], why[256];
    snprintf(key, sizeof key, "%s/parties/MER-SZ-0001.key", net);
    cr_assert_eq(wire_keyfile_load(key, &merchant, party, sizeof party, why, sizeof why), HANSA_OK,
                 "%s", why);

    start_node(home);
    commit_orders();
    for (int i = 0; i < N_TXS; i++)
        receipt(i, &heights[i], &indexes[i]);
}

static void teardown(void)
{
    if (node_running) {
        tc_close(c);
        proc_signal(&node, SIGTERM);
        (void)proc_wait(&node, 30000);
    }
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}

TestSuite(backup, .init = setup, .fini = teardown, .timeout = 180);

Test(backup, copy_of_a_stopped_node_matches_it_and_a_node_on_it_serves_at_its_height)
{
    uint64_t live_height = status_height();
    stop_node();
    char data[400], out[300];
    snprintf(data, sizeof data, "%s/data", home);
    snprintf(out, sizeof out, "%s/backup", dir);
    struct store_tip orig;
    read_tip(data, &orig);
    cr_assert_eq(orig.height, live_height, "the stopped store is at %llu, status said %llu",
                 (unsigned long long)orig.height, (unsigned long long)live_height);
    cr_assert_geq(orig.height, heights[N_TXS - 1]);

    char *output = NULL;
    int rv = backup(out, &output);
    cr_assert_eq(rv, 0, "hansad backup exited %d: %s", rv, output);
    char says[64];
    snprintf(says, sizeof says, "at height %llu ", (unsigned long long)orig.height);
    cr_assert_not_null(strstr(output, says), "backup output does not say \"%s\": %s", says, output);
    free(output);

    struct store_tip copy;
    read_tip(out, &copy);
    cr_assert_eq(copy.height, orig.height, "backup at %llu, original at %llu",
                 (unsigned long long)copy.height, (unsigned long long)orig.height);
    cr_assert_arr_eq(copy.root, orig.root, 32, "the backup's state root differs");
    cr_assert_eq(copy.block_len, orig.block_len);
    cr_assert_arr_eq(copy.block, orig.block, orig.block_len, "the backup's last block differs");
    free(copy.block);
    free(orig.block);

    /* Restore: the same home, its data_dir pointing at the backup. */
    char restored[320], cmd[1100];
    snprintf(restored, sizeof restored, "%s/restored", dir);
    snprintf(cmd, sizeof cmd, "cp -a '%s' '%s' && rm -rf '%s/data'", home, restored, restored);
    cr_assert_eq(system(cmd), 0, "cannot copy %s", home);
    ini_set(restored, "data_dir", out);
    start_node(restored);
    cr_assert_eq(status_height(), orig.height, "the node on the backup serves another height");
    for (int i = 0; i < N_TXS; i++) {
        uint64_t h;
        uint32_t idx;
        receipt(i, &h, &idx);
        cr_assert(h == heights[i] && idx == indexes[i], "tx %d moved in the backup", i);
    }
    stop_node();
}

/* Every receipt committed before the backup is in it, at the same place. */
static void expect_receipts(const char *data_dir)
{
    char why[512] = "";
    struct store *s = NULL;
    cr_assert_eq(store_open_readonly(data_dir, &s, why, sizeof why), HANSA_OK, "%s", why);
    for (int i = 0; i < N_TXS; i++) {
        uint64_t h = 0;
        uint32_t idx = 0;
        cr_assert_eq(store_tx_location(s, ids[i], &h, &idx), HANSA_OK, "tx %d not in %s", i,
                     data_dir);
        cr_assert(h == heights[i] && idx == indexes[i], "tx %d moved in %s", i, data_dir);
    }
    store_close(s);
}

/* One more order through the running node, committed. */
static void commit_one(const char *order_no)
{
    uint8_t *tx = NULL, id[32];
    size_t len = 0;
    cr_assert_eq(
        tc_order_tx(CHAIN, "MER-SZ-0001", &merchant, order_no, 2500, tc_now_ms(), &tx, &len, id),
        HANSA_OK);
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_submit(c, tx, len, &r), HANSA_OK);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_SUBMIT);
    cr_assert_eq(r->submit->result, HANSA__RESULT_CODE__RESULT_OK, "%s", r->submit->message);
    wire_free(r);
    free(tx);
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){32, id};
    g.wait_ms = WAIT_MS;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    cr_assert_eq(tc_query(c, CHAIN, "MER-SZ-0001", &merchant, &q, &r), HANSA_OK);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_RECEIPT);
    cr_assert_eq(r->receipt->status, HANSA__TX_STATUS__TX_STATUS_COMMITTED, "%s not committed",
                 order_no);
    wire_free(r);
}

Test(backup, a_running_node_writes_a_verified_backup_and_keeps_committing)
{
    uint64_t live = status_height();
    char out[300], *output = NULL;
    snprintf(out, sizeof out, "%s/live", dir);
    int rv = backup(out, &output);
    cr_assert_eq(rv, 0, "%s", output);
    cr_assert_not_null(strstr(output, "running node"), "output: %s", output);
    cr_assert(dir_exists(out), "no %s after: %s", out, output);
    free(output);
    struct store_tip t;
    read_tip(out, &t);
    cr_assert_geq(t.height, live, "the backup is behind the height before it was asked for");
    free(t.block);
    expect_receipts(out);
    commit_one("BK-LIVE-1");
    cr_assert_gt(status_height(), live, "the node stopped committing after the backup");

    rv = backup(out, &output);
    cr_assert_neq(rv, 0, "a backup into an existing directory succeeded: %s", output);
    cr_assert_not_null(strstr(output, "already exists"), "no \"already exists\" in: %s", output);
    free(output);
    commit_one("BK-LIVE-2");

    /* Killed: its socket file stays behind; restarted, it serves again. */
    tc_close(c);
    c = NULL;
    proc_signal(&node, SIGKILL);
    cr_assert_eq(proc_wait(&node, 30000), 128 + SIGKILL);
    node_running = false;
    start_node(home);
    char out2[300];
    snprintf(out2, sizeof out2, "%s/live-after-kill", dir);
    cr_assert_eq(backup(out2, &output), 0, "%s", output);
    free(output);
    expect_receipts(out2);
    stop_node();
}

Test(backup, refuses_an_existing_target_with_a_reason)
{
    char out[300], *output = NULL;
    snprintf(out, sizeof out, "%s/backup", dir);
    stop_node();
    cr_assert_eq(backup(out, &output), 0, "%s", output);
    free(output);
    struct store_tip first;
    read_tip(out, &first);
    int rv = backup(out, &output);
    cr_assert_neq(rv, 0, "a backup into an existing directory succeeded: %s", output);
    cr_assert_not_null(strstr(output, "already exists"), "no \"already exists\" in: %s", output);
    free(output);
    struct store_tip again;
    read_tip(out, &again);
    cr_assert_eq(again.height, first.height, "the refused backup changed the existing one");
    cr_assert_arr_eq(again.root, first.root, 32, "the refused backup changed the existing one");
    free(first.block);
    free(again.block);

    char empty[320];
    snprintf(empty, sizeof empty, "%s/empty", dir);
    cr_assert_eq(mkdir(empty, 0700), 0);
    rv = backup(empty, &output);
    cr_assert_neq(rv, 0, "a backup into an existing empty directory succeeded: %s", output);
    cr_assert_not_null(strstr(output, "already exists"), "no \"already exists\" in: %s", output);
    free(output);
}
