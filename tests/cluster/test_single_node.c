/*
 * One validator as a real process: 5,000 signed transactions over the API,
 * SIGKILL in the middle of the stream, restart, and then:
 *   - every transaction seen committed before the kill is still committed,
 *     at the same height and index;
 *   - every transaction of the run ends committed exactly once;
 *   - replaying the stored blocks from genesis through the ledger gives,
 *     block after block, the state roots the node stored and put in the
 *     next header.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "genesis.h"
#include "ledger.h"
#include "memstate.h"
#include "proc.h"
#include "store.h"
#include "testclient.h"

#define CHAIN      "hansa-it-1"
#define N_TXS      5000
#define KILL_AFTER 3000
#define CHUNK      500

struct tx_rec {
    uint8_t *bytes;
    size_t len;
    uint8_t id[32];
    bool acked; /* seen committed before the kill */
    uint64_t height;
    uint32_t index;
};

static char dir[256], home[320], api_url[64];
static struct tx_rec txs[N_TXS];
static struct wire_keypair merchant;

static void testnet(void)
{
    strcpy(dir, "/tmp/hansa-it-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    int base = proc_free_port_base(10);
    cr_assert_gt(base, 0);
    char net[290], port[16], log[300];
    snprintf(net, sizeof net, "%s/net", dir);
    snprintf(port, sizeof port, "%d", base);
    snprintf(log, sizeof log, "%s/testnet.log", dir);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "testnet", "--validators", "1",   "--dir", net,
                    "--base-port",           port,      "--chain-id",   CHAIN, NULL};
    cr_assert_eq(proc_run(argv, log, 60000), 0, "hansad testnet failed; see %s", log);
    snprintf(home, sizeof home, "%s/node0", net);
    snprintf(api_url, sizeof api_url, "tcp://127.0.0.1:%d", base + 2);
    char key[400], party[65], why[256];
    snprintf(key, sizeof key, "%s/parties/MER-SZ-0001.key", net);
    cr_assert_eq(wire_keyfile_load(key, &merchant, party, sizeof party, why, sizeof why), HANSA_OK,
                 "%s", why);
}

static void start(struct proc *p)
{
    if (getenv("HANSA_IT_DEBUG")) {
        char cmd[512];
        snprintf(cmd, sizeof cmd, "sed -i 's/^log_level = info/log_level = debug/' %s/config.ini",
                 home);
        cr_assert_eq(system(cmd), 0);
    }
    char log[300];
    snprintf(log, sizeof log, "%s/node0.log", dir);
    char *argv[] = {HANSA_BIN_DIR "/hansad", "start", "--home", home, NULL};
    cr_assert_eq(proc_spawn(p, argv, log), 0);
}

static bool status_ok(void *arg)
{
    struct tc *c = arg;
    Hansa__Response *r = NULL;
    bool ok = tc_status(c, &r) == HANSA_OK && r->error == HANSA__ERROR_CODE__ERROR_NONE;
    wire_free(r);
    return ok;
}

static void make_txs(void)
{
    for (int i = 0; i < N_TXS; i++) {
        char order_no[32];
        snprintf(order_no, sizeof order_no, "IT-%05d", i);
        cr_assert_eq(tc_order_tx(CHAIN, "MER-SZ-0001", &merchant, order_no, 5000 + i, tc_now_ms(),
                                 &txs[i].bytes, &txs[i].len, txs[i].id),
                     HANSA_OK);
    }
}

static void submit(struct tc *c, int from, int to)
{
    for (int i = from; i < to; i++) {
        Hansa__Response *r = NULL;
        hansa_err rv = tc_submit(c, txs[i].bytes, txs[i].len, &r);
        cr_assert_eq(rv, HANSA_OK, "submit %d: %s", i, hansa_strerror(rv));
        cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_SUBMIT, "submit %d: error %d %s", i,
                     r->error, r->error_message);
        Hansa__ResultCode code = r->submit->result;
        cr_assert(code == HANSA__RESULT_CODE__RESULT_OK ||
                      code == HANSA__RESULT_CODE__RESULT_ALREADY_PENDING ||
                      code == HANSA__RESULT_CODE__RESULT_ALREADY_COMMITTED,
                  "submit %d refused: %d %s", i, code, r->submit->message);
        wire_free(r);
    }
}

/* Receipt of tx i (waiting up to wait_ms); true if committed. */
static bool receipt(struct tc *c, int i, uint32_t wait_ms, uint64_t *height, uint32_t *index)
{
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){32, txs[i].id};
    g.wait_ms = wait_ms;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    Hansa__Response *r = NULL;
    hansa_err rv = tc_query(c, CHAIN, "MER-SZ-0001", &merchant, &q, &r);
    cr_assert_eq(rv, HANSA_OK, "receipt %d: %s", i, hansa_strerror(rv));
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_RECEIPT, "receipt %d: error %d %s", i,
                 r->error, r->error_message);
    bool committed = r->receipt->status == HANSA__TX_STATUS__TX_STATUS_COMMITTED;
    if (committed) {
        cr_assert_eq(r->receipt->receipt->result, HANSA__RESULT_CODE__RESULT_OK,
                     "tx %d committed with %d: %s", i, r->receipt->receipt->result,
                     r->receipt->receipt->message);
        *height = r->receipt->receipt->height;
        *index = r->receipt->receipt->index;
    }
    wire_free(r);
    return committed;
}

static void replay_and_compare(void)
{
    char data[400], gpath[400], why[256] = "";
    snprintf(data, sizeof data, "%s/data", home);
    snprintf(gpath, sizeof gpath, "%s/genesis.json", home);
    struct genesis_doc g;
    cr_assert_eq(genesis_load(gpath, &g, why, sizeof why), HANSA_OK, "%s", why);
    struct store *s = NULL;
    cr_assert_eq(store_open_readonly(data, &s, why, sizeof why), HANSA_OK, "%s", why);

    struct memstate *ms = memstate_new();
    struct ledger_state view = memstate_view(ms);
    struct ledger_genesis lg = genesis_ledger(&g);
    struct ledger_output out;
    cr_assert_eq(ledger_genesis(&lg, &out, why, sizeof why), HANSA_OK, "%s", why);
    memstate_apply(ms, &out);
    uint8_t root[32];
    memcpy(root, out.state_root, 32);
    ledger_output_free(&out);

    uint64_t top = store_height(s);
    size_t seen = 0;
    for (uint64_t h = 1; h <= top; h++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        cr_assert_eq(store_get_block(s, h, &bytes, &len), HANSA_OK, "block %llu",
                     (unsigned long long)h);
        Hansa__StoredBlock *sb = NULL;
        cr_assert_eq(wire_decode(&hansa__stored_block__descriptor, bytes, len, 1u << 30,
                                 WIRE_LENIENT, (ProtobufCMessage **)&sb),
                     HANSA_OK);
        free(bytes);
        Hansa__BlockHeader *hd = NULL;
        cr_assert_eq(wire_block_header_decode(sb->block->header.data, sb->block->header.len, &hd),
                     HANSA_OK);
        cr_assert_arr_eq(hd->state_root.data, root, 32,
                         "header %llu does not carry the replayed root of block %llu",
                         (unsigned long long)h, (unsigned long long)h - 1);
        size_t n = sb->block->n_txs;
        struct wire_tx *opened = calloc(n ? n : 1, sizeof *opened);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(
                wire_tx_open(&opened[i], sb->block->txs[i].data, sb->block->txs[i].len, CHAIN),
                HANSA_OK);
        struct ledger_block blk = {CHAIN, h, hd->time_ms, {0}, opened, n};
        memcpy(blk.prev_state_root, root, 32);
        cr_assert_eq(ledger_execute(&view, &blk, &out), HANSA_OK);
        cr_assert_arr_eq(out.state_root, sb->results->state_root.data, 32,
                         "replayed root of block %llu differs from the stored one",
                         (unsigned long long)h);
        memstate_apply(ms, &out);
        memcpy(root, out.state_root, 32);
        seen += n;
        ledger_output_free(&out);
        for (size_t i = 0; i < n; i++)
            wire_tx_close(&opened[i]);
        free(opened);
        wire_free(hd);
        wire_free(sb);
    }
    uint8_t stored_root[32];
    store_state_root(s, stored_root);
    cr_assert_arr_eq(stored_root, root, 32, "final root differs");
    cr_assert_eq(seen, N_TXS, "the chain holds %zu transactions, expected exactly %d", seen, N_TXS);
    store_close(s);
    memstate_free(ms);
    genesis_doc_free(&g);
}

Test(single_node, survives_sigkill_mid_stream_without_losing_a_committed_tx, .timeout = 600)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    testnet();
    make_txs();
    struct proc node;
    start(&node);
    struct tc *c = NULL;
    cr_assert_eq(tc_open(api_url, NULL, NULL, 30000, &c), HANSA_OK);
    cr_assert(proc_wait_until(status_ok, c, 30000), "node did not start; see %s", node.log_path);

    /* Phase 1: stream, and note what the node acknowledges as committed. */
    int acked = 0;
    for (int from = 0; from < KILL_AFTER; from += CHUNK) {
        submit(c, from, from + CHUNK);
        for (int i = 0; i < from; i++)
            if (!txs[i].acked && receipt(c, i, 0, &txs[i].height, &txs[i].index)) {
                txs[i].acked = true;
                acked++;
            }
    }
    /* Kill while the last chunk is still being committed. */
    proc_signal(&node, SIGKILL);
    cr_assert_eq(proc_wait(&node, 10000), 128 + SIGKILL);
    cr_assert_gt(acked, 0, "nothing was acknowledged before the kill");
    tc_close(c);

    /* Phase 2: restart; everything acknowledged is still there, unchanged. */
    start(&node);
    cr_assert_eq(tc_open(api_url, NULL, NULL, 30000, &c), HANSA_OK);
    cr_assert(proc_wait_until(status_ok, c, 30000), "node did not restart; see %s", node.log_path);
    for (int i = 0; i < N_TXS; i++) {
        uint64_t h;
        uint32_t idx;
        if (txs[i].acked) {
            cr_assert(receipt(c, i, 0, &h, &idx), "acknowledged tx %d lost after SIGKILL", i);
            cr_assert(h == txs[i].height && idx == txs[i].index, "tx %d moved", i);
        }
    }
    /* Resubmit what was not acknowledged (idempotent) and the rest. */
    submit(c, 0, N_TXS);
    for (int i = 0; i < N_TXS; i++) {
        uint64_t h;
        uint32_t idx;
        cr_assert(receipt(c, i, 20000, &h, &idx), "tx %d never committed", i);
    }
    tc_close(c);
    proc_signal(&node, SIGTERM);
    cr_assert_eq(proc_wait(&node, 30000), 0, "hansad did not stop cleanly on SIGTERM");

    /* Phase 3: replay from genesis. */
    replay_and_compare();
    for (int i = 0; i < N_TXS; i++)
        free(txs[i].bytes);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
