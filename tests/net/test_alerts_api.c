/*
 * GetAlerts end to end (RISK.md "Subscriptions"): a real RocksDB store with
 * the ledger fixture's genesis, the real API on tcp://127.0.0.1:0, the risk
 * thread (node/riskrun) over the same store and API, and an nng req0 client.
 *
 * Blocks are executed with the real ledger and committed with
 * store_commit_block, then announced to the API and the risk thread as the
 * node does; a test waits for the thread's processed height in the store
 * (never a fixed sleep). Alerts come from OVERDUE alone (every other rule is
 * disabled in the ruleset, so the expected log does not move while the
 * other rules are written):
 *
 *   block 1  orders SO-1 (MER-SZ-0001), SO-2 (MER-SZ-0002); BANK-A opens
 *            L-1 to MER-SZ-0001 and L-2 to MER-SZ-0002
 *   block 2  payments and waybills: both orders MATCHED
 *   block 3  F-1 (MER-SZ-0001 on L-1), F-2 (MER-SZ-0002 on L-2) requested,
 *            maturity 5 s after this block
 *   block 4  both approved          block 5  both disbursed
 *   block 6  past maturity: both OVERDUE -> two HIGH NEW alerts
 *   then     BANK-A declares F-1 (and in some tests F-2) in default -> one
 *            CRITICAL UPDATE alert each
 *
 * Every alert's audience is its merchant and BANK-A; BANK-B has none;
 * CUS-0001 is the regulator and sees everything.
 */
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "api.h"
#include "config.h"
#include "ledger_fixture.h"
#include "risk.h"
#include "riskrun.h"
#include "testclient.h"
#include "testdir.h"

#define OK_CODE HANSA__RESULT_CODE__RESULT_OK
#define ERR(x)  HANSA__ERROR_CODE__ERROR_##x
#define ACT(x)  HANSA__TX_BODY__ACTION_##x
#define SEV(x)  HANSA__SEVERITY__SEVERITY_##x
#define KIND(x) HANSA__ALERT_KIND__ALERT_KIND_##x

#define MER1      "MER-SZ-0001"
#define MER2      "MER-SZ-0002"
#define BANK      "BANK-A"
#define OTHER_BNK "BANK-B"
#define REGULATOR "CUS-0001"

/* Client receive timeout: long enough for a loaded CI machine, short enough
 * that a lost answer fails the test quickly. */
#define CLIENT_TIMEOUT_MS 20000u
/* How long the risk thread may take to reach a height before the test fails
 * (it is kicked on every commit, so this bounds a hang, not a pace). */
#define RISK_WAIT_MS 20000u
/* Maturity of F-1 and F-2, after the block that requests them. */
#define MATURITY_AFTER_MS 5000u
/* A long-poll answered by a commit must come well before its wait ends. */
#define LONG_WAIT_MS  10000u
#define SHORT_WAIT_MS 200u

static struct {
    char dir[64];
    struct node_config *cfg;
    struct store *store;
    struct store *mirror; /* restart test: a second store fed the same blocks */
    struct mempool *mp;
    struct api *api;
    struct tc *client;
    struct riskrun *risk, *mirror_risk;
    struct risk_ruleset rs;
    char url[64];
    uint64_t nonce;
    uint64_t next_time_ms; /* block time of the next block */
    uint64_t maturity_ms;  /* of F-1 and F-2 */
} F;

/* ---- the world ---- */

static uint64_t now_cb(void *ctx)
{
    (void)ctx;
    return tc_now_ms();
}

static void status_cb(void *ctx, Hansa__NodeStatus *st)
{
    (void)ctx;
    st->protocol_version = "hansa/1";
    uint64_t h = store_height(F.store);
    st->latest_height = h == UINT64_MAX ? 0 : h;
}

static struct store *store_with_genesis(const char *name)
{
    char db[128], why[256] = "";
    snprintf(db, sizeof db, "%s/%s", F.dir, name);
    struct store *s = NULL;
    cr_assert_eq(store_open(db, &s, why, sizeof why), HANSA_OK, "%s", why);
    struct fx fx;
    fx_init(&fx);
    cr_assert_eq(store_commit_genesis(s, &fx.last), HANSA_OK);
    fx_close(&fx);
    return s;
}

/* Every rule disabled but OVERDUE, as a parsed ruleset file. */
static void ruleset_overdue_only(struct risk_ruleset *rs)
{
    char text[4096];
    size_t n = (size_t)snprintf(text, sizeof text, "[ruleset]\nname = alerts-api-overdue-only\n");
    for (size_t i = 0; i < risk_rule_count; i++) {
        if (strcmp(risk_rules[i]->id, "OVERDUE") == 0)
            continue;
        n += (size_t)snprintf(text + n, sizeof text - n, "[%s]\nenabled = false\n",
                              risk_rules[i]->id);
        cr_assert_lt(n, sizeof text);
    }
    char why[256] = "";
    cr_assert_eq(risk_ruleset_parse("overdue-only", text, n, rs, why, sizeof why), HANSA_OK, "%s",
                 why);
    int overdue = risk_rule_index("OVERDUE");
    cr_assert_geq(overdue, 0, "OVERDUE is in the registry");
    for (size_t i = 0; i < risk_rule_count; i++)
        cr_assert_eq(rs->enabled[i], (int)i == overdue);
}

static void setup(void)
{
    memset(&F, 0, sizeof F);
    cr_assert_eq(wire_global_init(), HANSA_OK);
    td_make(F.dir, sizeof F.dir, "alerts-api");
    F.store = store_with_genesis("db");
    F.next_time_ms = FX_GENESIS_MS + FX_BLOCK_MS;
    ruleset_overdue_only(&F.rs);

    cr_assert_eq(mempool_open(1000, 16u << 20, &F.mp), HANSA_OK);
    F.cfg = calloc(1, sizeof *F.cfg);
    cr_assert_not_null(F.cfg);
    node_config_init(F.cfg);
    strcpy(F.cfg->node_id, "node0");
    strcpy(F.cfg->chain_id, FX_CHAIN_ID);
    snprintf(F.cfg->read_audit_log_path, sizeof F.cfg->read_audit_log_path, "%s/read-audit.log",
             F.dir);
    F.cfg->api_listen_tls.url[0] = '\0';
    strcpy(F.cfg->api_listen_tcp.url, "tcp://127.0.0.1:0");
    F.cfg->verifier_threads = 2;

    struct api_deps deps = {
        .cfg = F.cfg, .store = F.store, .mempool = F.mp, .status = status_cb, .now_ms = now_cb};
    char why[256] = "";
    cr_assert_eq(api_open(&deps, &F.api, why, sizeof why), HANSA_OK, "%s", why);
    uint16_t port = api_bound_port(F.api, false);
    cr_assert_neq(port, 0);
    snprintf(F.url, sizeof F.url, "tcp://127.0.0.1:%u", (unsigned)port);
    cr_assert_eq(tc_open(F.url, NULL, NULL, CLIENT_TIMEOUT_MS, &F.client), HANSA_OK);
}

/* Idempotent: runs at the end of each test (finish) and again as the
 * suite's fini for a test that stopped at a failed assertion. The risk
 * threads go first: they use the API and the stores. */
static void teardown(void)
{
    riskrun_close(F.risk);
    riskrun_close(F.mirror_risk);
    tc_close(F.client);
    api_close(F.api);
    mempool_close(F.mp);
    store_close(F.store);
    store_close(F.mirror);
    free(F.cfg);
    if (F.dir[0] != '\0')
        td_remove(F.dir);
    memset(&F, 0, sizeof F);
}

/* End of a test: stop everything, then fail the test if anything leaked
 * (tests/config/testdir.h). */
static void finish(void)
{
    teardown();
    TD_EXPECT_NO_LEAKS();
}

TestSuite(alerts_api, .init = setup, .fini = teardown, .timeout = 60);

/* The risk thread over store s (API wake-ups only for the API's store). */
static struct riskrun *risk_open(struct store *s, uint64_t retention_blocks)
{
    struct riskrun_deps deps = {.store = s,
                                .api = s == F.store ? F.api : NULL,
                                .chain_id = FX_CHAIN_ID,
                                .node_id = "node0",
                                .rs = &F.rs,
                                .retention_blocks = retention_blocks};
    struct riskrun *r = NULL;
    char why[256] = "";
    cr_assert_eq(riskrun_open(&deps, &r, why, sizeof why), HANSA_OK, "%s", why);
    return r;
}

static uint64_t risk_height(struct store *s)
{
    uint64_t h = 0;
    cr_assert_eq(store_meta_u64(s, STORE_META_RISK_HEIGHT, &h), HANSA_OK);
    return h;
}

/* Wait until the risk thread over s has processed `height`. */
static void wait_risk(struct store *s, uint64_t height)
{
    uint64_t deadline = tc_now_ms() + RISK_WAIT_MS;
    while (risk_height(s) < height) {
        cr_assert_lt(tc_now_ms(), deadline,
                     "the risk engine is stuck at block %" PRIu64 ", waiting for %" PRIu64,
                     risk_height(s), height);
        sched_yield();
    }
}

/* ---- transactions ---- */

struct signed_tx {
    uint8_t *bytes;
    size_t len;
};

/* Up to 8 transactions for one block. */
struct txs {
    struct signed_tx t[8];
    size_t n;
};

/* Sign b as signer into the next block (created_ms = its time). */
static void add_tx(struct txs *set, const char *signer, Hansa__TxBody *b)
{
    cr_assert_lt(set->n, 8);
    struct wire_keypair kp;
    fx_keypair(signer, &kp);
    uint64_t nonce = ++F.nonce;
    b->chain_id = FX_CHAIN_ID;
    b->signer = (char *)signer;
    b->created_ms = F.next_time_ms;
    b->nonce = (ProtobufCBinaryData){sizeof nonce, (uint8_t *)&nonce};
    struct signed_tx *t = &set->t[set->n++];
    uint8_t id[WIRE_HASH_BYTES];
    cr_assert_eq(wire_tx_build(b, &kp, &t->bytes, &t->len, id), HANSA_OK);
    b->nonce = (ProtobufCBinaryData){0, NULL};
}

/* Execute txs as block `height` at time_ms on store s with the real ledger
 * (every tx must succeed) and commit it. */
static void commit_to(struct store *s, const struct txs *set, uint64_t height, uint64_t time_ms)
{
    size_t n = set->n;
    struct wire_tx opened[8];
    uint8_t ids[8 * WIRE_HASH_BYTES];
    ProtobufCBinaryData raw[8];
    for (size_t i = 0; i < n; i++) {
        cr_assert_eq(wire_tx_open(&opened[i], set->t[i].bytes, set->t[i].len, FX_CHAIN_ID),
                     HANSA_OK);
        memcpy(ids + i * WIRE_HASH_BYTES, opened[i].id, WIRE_HASH_BYTES);
        raw[i] = (ProtobufCBinaryData){set->t[i].len, set->t[i].bytes};
    }
    cr_assert_eq(store_height(s) + 1, height);
    struct ledger_block blk = {
        .chain_id = FX_CHAIN_ID, .height = height, .time_ms = time_ms, .txs = opened, .n_txs = n};
    store_state_root(s, blk.prev_state_root);
    struct ledger_state st = store_ledger_state(s);
    struct ledger_output out = {0};
    cr_assert_eq(ledger_execute(&st, &blk, &out), HANSA_OK);
    cr_assert_eq(out.n_results, n);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(out.results[i]->result, OK_CODE, "block %" PRIu64 " tx %zu: %s (%s)", height,
                     i, ledger_result_name(out.results[i]->result), out.results[i]->message);

    uint8_t tx_root[WIRE_HASH_BYTES], hash[WIRE_HASH_BYTES];
    wire_merkle_root(ids, n, tx_root);
    Hansa__BlockHeader h = HANSA__BLOCK_HEADER__INIT;
    h.chain_id = FX_CHAIN_ID;
    h.height = height;
    h.time_ms = time_ms;
    h.proposer = "node0";
    h.tx_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, tx_root};
    h.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, blk.prev_state_root};
    uint8_t *hb = NULL;
    size_t hlen = 0;
    cr_assert_eq(wire_encode(&h.base, 4096, &hb, &hlen), HANSA_OK);
    wire_block_hash(hb, hlen, hash);

    Hansa__Block b = HANSA__BLOCK__INIT;
    b.header = (ProtobufCBinaryData){hlen, hb};
    b.n_txs = n;
    b.txs = raw;
    Hansa__BlockResults res = HANSA__BLOCK_RESULTS__INIT;
    res.height = height;
    res.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    res.n_results = out.n_results;
    res.results = out.results;
    res.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, out.state_root};
    Hansa__Commit cm = HANSA__COMMIT__INIT;
    cm.height = height;
    cm.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    Hansa__StoredBlock sb = HANSA__STORED_BLOCK__INIT;
    sb.block = &b;
    sb.commit = &cm;
    sb.results = &res;
    uint8_t *sbb = NULL;
    size_t sblen = 0;
    cr_assert_eq(wire_encode(&sb.base, HANSA_RESPONSE_BYTES_MAX, &sbb, &sblen), HANSA_OK);

    struct store_commit c = {.height = height,
                             .block_hash = hash,
                             .stored_block = sbb,
                             .stored_block_len = sblen,
                             .tx_ids = ids,
                             .n_txs = n,
                             .out = &out};
    cr_assert_eq(store_commit_block(s, &c), HANSA_OK);
    if (s == F.store)
        api_on_commit(F.api, height, time_ms, &res);

    for (size_t i = 0; i < n; i++)
        wire_tx_close(&opened[i]);
    ledger_output_free(&out);
    free(sbb);
    free(hb);
}

/* Commit the next block to the store (and the mirror, if any), kick the
 * risk threads, free the txs. Returns the height. */
static uint64_t commit(struct txs *set)
{
    uint64_t height = store_height(F.store) + 1;
    commit_to(F.store, set, height, F.next_time_ms);
    if (F.mirror != NULL)
        commit_to(F.mirror, set, height, F.next_time_ms);
    riskrun_kick(F.risk);
    riskrun_kick(F.mirror_risk);
    for (size_t i = 0; i < set->n; i++)
        free(set->t[i].bytes);
    set->n = 0;
    F.next_time_ms += FX_BLOCK_MS;
    return height;
}

static uint64_t commit_empty(void)
{
    struct txs none = {.n = 0};
    return commit(&none);
}

static void add_order(struct txs *set, const char *merchant, const char *order_no)
{
    struct fx_order_doc o;
    fx_order_doc(&o, merchant, order_no, 100000);
    Hansa__TxBody b;
    fx_body(&b, ACT(CREATE_ORDER), &o.doc);
    add_tx(set, merchant, &b);
}

static void add_payment_and_waybill(struct txs *set, const char *merchant, const char *order_no)
{
    char pay_id[65], wb_no[65];
    snprintf(pay_id, sizeof pay_id, "PAY-%s", order_no);
    snprintf(wb_no, sizeof wb_no, "WB-%s", order_no);
    struct fx_payment_doc p;
    fx_payment_doc(&p, merchant, order_no, pay_id, 100000);
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_PAYMENT), &p.doc);
    add_tx(set, "PAY-0001", &b);
    struct fx_waybill_doc w;
    fx_waybill_doc(&w, merchant, order_no, wb_no);
    fx_body(&b, ACT(CREATE_WAYBILL), &w.doc);
    add_tx(set, "LOG-0001", &b);
}

static void add_line(struct txs *set, const char *line_id, const char *borrower)
{
    Hansa__OpenCreditLine a = HANSA__OPEN_CREDIT_LINE__INIT;
    a.line_id = (char *)line_id;
    a.borrower = (char *)borrower;
    a.currency = "CNY";
    a.limit_minor = 1000000;
    a.advance_rate_bps = 8000;
    a.expiry_ms = F.next_time_ms + UINT64_C(365) * 24 * 3600 * 1000;
    Hansa__TxBody b;
    fx_body(&b, ACT(OPEN_CREDIT_LINE), &a);
    add_tx(set, BANK, &b);
}

static void add_request(struct txs *set, const char *merchant, const char *fid, const char *line_id,
                        const char *order_no)
{
    Hansa__LineRef line = HANSA__LINE_REF__INIT;
    line.bank = BANK;
    line.line_id = (char *)line_id;
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.order_no = (char *)order_no;
    Hansa__OrderRef *refs[1] = {&ref};
    Hansa__RequestFinancing q = HANSA__REQUEST_FINANCING__INIT;
    q.financing_id = (char *)fid;
    q.line = &line;
    q.orders = refs;
    q.n_orders = 1;
    q.amount_minor = 50000;
    q.currency = "CNY";
    q.maturity_ms = F.maturity_ms;
    Hansa__TxBody b;
    fx_body(&b, ACT(REQUEST_FINANCING), &q);
    add_tx(set, merchant, &b);
}

/* Approve, disburse or declare default on merchant's fid, signed by BANK-A. */
static void add_fin_action(struct txs *set, Hansa__TxBody__ActionCase which, const char *merchant,
                           const char *fid)
{
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.financing_id = (char *)fid;
    Hansa__ApproveFinancing ap = HANSA__APPROVE_FINANCING__INIT;
    Hansa__DisburseFinancing ds = HANSA__DISBURSE_FINANCING__INIT;
    Hansa__DeclareDefault df = HANSA__DECLARE_DEFAULT__INIT;
    ap.financing = ds.financing = df.financing = &ref;
    void *msg = which == ACT(APPROVE_FINANCING)    ? (void *)&ap
                : which == ACT(DISBURSE_FINANCING) ? (void *)&ds
                                                   : (void *)&df;
    cr_assert(which == ACT(APPROVE_FINANCING) || which == ACT(DISBURSE_FINANCING) ||
              which == ACT(DECLARE_DEFAULT));
    Hansa__TxBody b;
    fx_body(&b, which, msg);
    add_tx(set, BANK, &b);
}

/* Blocks 1-5: F-1 and F-2 disbursed, maturing MATURITY_AFTER_MS after
 * block 3. */
static void scenario_financed(void)
{
    struct txs set = {.n = 0};
    add_order(&set, MER1, "SO-1");
    add_order(&set, MER2, "SO-2");
    add_line(&set, "L-1", MER1);
    add_line(&set, "L-2", MER2);
    commit(&set);
    add_payment_and_waybill(&set, MER1, "SO-1");
    add_payment_and_waybill(&set, MER2, "SO-2");
    commit(&set);
    F.maturity_ms = F.next_time_ms + MATURITY_AFTER_MS;
    add_request(&set, MER1, "F-1", "L-1", "SO-1");
    add_request(&set, MER2, "F-2", "L-2", "SO-2");
    commit(&set);
    add_fin_action(&set, ACT(APPROVE_FINANCING), MER1, "F-1");
    add_fin_action(&set, ACT(APPROVE_FINANCING), MER2, "F-2");
    commit(&set);
    add_fin_action(&set, ACT(DISBURSE_FINANCING), MER1, "F-1");
    add_fin_action(&set, ACT(DISBURSE_FINANCING), MER2, "F-2");
    cr_assert_eq(commit(&set), 5);
}

/* Block 6: the first block past maturity (two HIGH NEW alerts). */
static uint64_t commit_overdue(void)
{
    cr_assert_lt(F.next_time_ms, F.maturity_ms + 1, "still before maturity");
    F.next_time_ms = F.maturity_ms + FX_BLOCK_MS;
    return commit_empty();
}

/* BANK-A declares merchant's fid in default (one CRITICAL UPDATE alert). */
static uint64_t commit_default(const char *merchant, const char *fid)
{
    struct txs set = {.n = 0};
    add_fin_action(&set, ACT(DECLARE_DEFAULT), merchant, fid);
    return commit(&set);
}

/* The risk thread on, blocks 1-6 and F-1's default (block 7), processed:
 * alerts (6,0), (6,1) HIGH NEW and (7,0) CRITICAL UPDATE. */
static void scenario_three_alerts(void)
{
    F.risk = risk_open(F.store, 0);
    scenario_financed();
    cr_assert_eq(commit_overdue(), 6);
    cr_assert_eq(commit_default(MER1, "F-1"), 7);
    wait_risk(F.store, 7);
}

/* ---- GetAlerts ---- */

struct aq {
    uint64_t after_height;
    uint32_t after_ordinal;
    uint32_t limit;
    uint32_t wait_ms;
    const char *rule_ids[40];
    size_t n_rule_ids;
    int min_severity;
    const char *party;
    const char *subject_owner, *subject_id; /* a financing subject when set */
    int kinds[4];
    size_t n_kinds;
};

static void aq_fill(const struct aq *a, Hansa__GetAlerts *g, Hansa__Cursor *after,
                    Hansa__EntityRef *subject, Hansa__AlertKind *kinds)
{
    hansa__get_alerts__init(g);
    hansa__cursor__init(after);
    after->height = a->after_height;
    after->ordinal = a->after_ordinal;
    g->after = after;
    g->limit = a->limit;
    g->wait_ms = a->wait_ms;
    g->rule_ids = (char **)a->rule_ids;
    g->n_rule_ids = a->n_rule_ids;
    g->min_severity = (Hansa__Severity)a->min_severity;
    g->party = (char *)(a->party ? a->party : "");
    if (a->subject_id != NULL) {
        hansa__entity_ref__init(subject);
        subject->type = HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING;
        subject->owner = (char *)a->subject_owner;
        subject->id = (char *)a->subject_id;
        g->subject = subject;
    }
    for (size_t i = 0; i < a->n_kinds; i++)
        kinds[i] = (Hansa__AlertKind)a->kinds[i];
    g->kinds = kinds;
    g->n_kinds = a->n_kinds;
}

/* Send a as reader over client, signed with the reader's fixture key. */
static Hansa__Response *alerts_on(struct tc *client, const char *reader, const struct aq *a)
{
    Hansa__GetAlerts g;
    Hansa__Cursor after;
    Hansa__EntityRef subject;
    Hansa__AlertKind kinds[4];
    aq_fill(a, &g, &after, &subject, kinds);
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_ALERTS;
    q.alerts = &g;
    struct wire_keypair kp;
    fx_keypair(reader, &kp);
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_query(client, FX_CHAIN_ID, reader, &kp, &q, &r), HANSA_OK,
                 "no answer to GetAlerts");
    return r;
}

static Hansa__Response *alerts_as(const char *reader, const struct aq *a)
{
    return alerts_on(F.client, reader, a);
}

/* GetAlerts as `reader` signed with key_of's key; corrupt_sig flips a bit
 * of the signature. */
static Hansa__Response *alerts_signed(const char *reader, const char *key_of, const struct aq *a,
                                      bool corrupt_sig)
{
    Hansa__GetAlerts g;
    Hansa__Cursor after;
    Hansa__EntityRef subject;
    Hansa__AlertKind kinds[4];
    aq_fill(a, &g, &after, &subject, kinds);
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_ALERTS;
    q.alerts = &g;
    q.chain_id = FX_CHAIN_ID;
    q.reader = (char *)reader;
    q.created_ms = tc_now_ms();
    struct wire_keypair kp;
    fx_keypair(key_of, &kp);
    uint8_t *bytes = NULL;
    size_t len = 0;
    cr_assert_eq(wire_encode(&q.base, HANSA_QUERY_BYTES_MAX, &bytes, &len), HANSA_OK);
    uint8_t sig[WIRE_SIG_BYTES];
    cr_assert_eq(wire_sign(WIRE_TAG_QUERY, FX_CHAIN_ID, bytes, len, kp.secret_key, sig), HANSA_OK);
    if (corrupt_sig)
        sig[5] ^= 0x01;
    Hansa__SignedQuery sq = HANSA__SIGNED_QUERY__INIT;
    sq.query = (ProtobufCBinaryData){len, bytes};
    sq.signer_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, kp.public_key};
    sq.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__Request req = HANSA__REQUEST__INIT;
    req.kind_case = HANSA__REQUEST__KIND_QUERY;
    req.query = &sq;
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_call(F.client, &req, &r), HANSA_OK, "no answer to GetAlerts");
    free(bytes);
    return r;
}

static void expect_error(Hansa__Response *r, Hansa__ErrorCode code)
{
    cr_assert_eq(r->error, code, "error %d (%s), expected %d", r->error, r->error_message, code);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND__NOT_SET);
    cr_assert_neq(strlen(r->error_message), 0, "an error says why");
}

/* An answered page with n alerts. */
static const Hansa__AlertPage *expect_page(const Hansa__Response *r, size_t n)
{
    cr_assert_eq(r->error, ERR(NONE), "error %d: %s", r->error, r->error_message);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_ALERTS);
    cr_assert_not_null(r->alerts);
    cr_assert_eq(r->alerts->n_alerts, n, "%zu alerts, expected %zu", r->alerts->n_alerts, n);
    cr_assert_not(r->alerts->cursor_expired);
    cr_assert_not_null(r->alerts->next_cursor);
    cr_assert_not_null(r->alerts->head_cursor);
    return r->alerts;
}

static void expect_cursor(const Hansa__Cursor *c, uint64_t height, uint32_t ordinal)
{
    cr_assert_not_null(c);
    cr_assert(c->height == height && c->ordinal == ordinal,
              "cursor (%" PRIu64 ", %u), expected (%" PRIu64 ", %u)", c->height, c->ordinal, height,
              ordinal);
}

/* The merchant owning the alert's financing subject ("" if none). */
static const char *financing_owner(const Hansa__Alert *a)
{
    for (size_t i = 0; i < a->n_subjects; i++)
        if (a->subjects[i]->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING)
            return a->subjects[i]->owner;
    return "";
}

/* Every alert of the page is an OVERDUE alert about merchant's financing
 * (subject and audience). */
static void expect_all_about(const Hansa__AlertPage *p, const char *merchant)
{
    for (size_t i = 0; i < p->n_alerts; i++) {
        const Hansa__Alert *a = p->alerts[i];
        cr_assert_str_eq(a->rule_id, "OVERDUE");
        cr_assert_str_eq(financing_owner(a), merchant, "alert (%" PRIu64 ", %u) is about %s",
                         a->cursor->height, a->cursor->ordinal, financing_owner(a));
        bool listed = false;
        for (size_t k = 0; k < a->n_audience; k++)
            listed = listed || strcmp(a->audience[k], merchant) == 0;
        cr_assert(listed, "the merchant is in the audience");
    }
}

/* Cursor of the HIGH NEW alert of block 6 about merchant (regulator read). */
static uint32_t overdue_ordinal(const char *merchant)
{
    struct aq a = {.after_height = 5, .after_ordinal = UINT32_MAX, .limit = 2};
    Hansa__Response *r = alerts_as(REGULATOR, &a);
    const Hansa__AlertPage *p = expect_page(r, 2);
    uint32_t ordinal = UINT32_MAX;
    for (size_t i = 0; i < 2; i++)
        if (strcmp(financing_owner(p->alerts[i]), merchant) == 0)
            ordinal = p->alerts[i]->cursor->ordinal;
    cr_assert_neq(ordinal, UINT32_MAX, "no overdue alert about %s", merchant);
    wire_free(r);
    return ordinal;
}

static void expect_serving(void)
{
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_status(F.client, &r), HANSA_OK, "the server stopped answering");
    cr_assert_eq(r->error, ERR(NONE));
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_STATUS);
    wire_free(r);
}

/* ==== 1. access ==== */

Test(alerts_api, each_reader_sees_only_the_alerts_whose_audience_lists_it)
{
    scenario_three_alerts();
    struct aq all = {.limit = 100};

    /* MER-SZ-0001: its NEW and its UPDATE, never MER-SZ-0002's NEW. */
    Hansa__Response *r = alerts_as(MER1, &all);
    const Hansa__AlertPage *p = expect_page(r, 2);
    expect_all_about(p, MER1);
    cr_assert_eq(p->alerts[0]->cursor->height, 6);
    cr_assert_eq(p->alerts[0]->kind, KIND(NEW));
    cr_assert_eq(p->alerts[0]->severity, SEV(HIGH));
    expect_cursor(p->alerts[1]->cursor, 7, 0);
    cr_assert_eq(p->alerts[1]->kind, KIND(UPDATE));
    cr_assert_eq(p->alerts[1]->severity, SEV(CRITICAL));
    cr_assert_arr_eq(p->alerts[0]->incident_id.data, p->alerts[1]->incident_id.data,
                     WIRE_HASH_BYTES);
    expect_cursor(p->head_cursor, 7, 0);
    wire_free(r);

    /* Filters only narrow: naming the other merchant does not widen. */
    struct aq other = {.limit = 100, .party = MER2};
    r = alerts_as(MER1, &other);
    expect_page(r, 0);
    wire_free(r);
    struct aq other_subject = {.limit = 100, .subject_owner = MER2, .subject_id = "F-2"};
    r = alerts_as(MER1, &other_subject);
    expect_page(r, 0);
    wire_free(r);

    /* MER-SZ-0002: only its own NEW. */
    r = alerts_as(MER2, &all);
    p = expect_page(r, 1);
    expect_all_about(p, MER2);
    cr_assert_eq(p->alerts[0]->kind, KIND(NEW));
    wire_free(r);

    /* A bank with no financing involved sees nothing. */
    r = alerts_as(OTHER_BNK, &all);
    expect_page(r, 0);
    wire_free(r);

    /* The financing bank sees every alert on its financing. */
    r = alerts_as(BANK, &all);
    p = expect_page(r, 3);
    for (size_t i = 0; i < 3; i++) {
        bool listed = false;
        for (size_t k = 0; k < p->alerts[i]->n_audience; k++)
            listed = listed || strcmp(p->alerts[i]->audience[k], BANK) == 0;
        cr_assert(listed);
    }
    wire_free(r);

    /* The regulator sees all, and may narrow to a party. */
    r = alerts_as(REGULATOR, &all);
    p = expect_page(r, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(p->alerts[i]->n_audience, 2, "the merchant and the bank");
    wire_free(r);
    r = alerts_as(REGULATOR, &other);
    p = expect_page(r, 1);
    expect_all_about(p, MER2);
    wire_free(r);

    /* Unregistered readers and bad signatures get the API's precise errors. */
    r = alerts_signed("STRANGER", "STRANGER", &all, false);
    expect_error(r, ERR(UNKNOWN_READER));
    wire_free(r);
    r = alerts_signed(MER1, "STRANGER", &all, false);
    expect_error(r, ERR(UNKNOWN_READER));
    wire_free(r);
    r = alerts_signed(MER1, MER1, &all, true);
    expect_error(r, ERR(BAD_SIGNATURE));
    wire_free(r);
    r = alerts_signed(REGULATOR, REGULATOR, &all, true);
    expect_error(r, ERR(BAD_SIGNATURE));
    wire_free(r);
    finish();
}

/* ==== 2. paging and filters ==== */

Test(alerts_api, pages_one_by_one_in_cursor_order_and_filters_narrow)
{
    scenario_three_alerts();
    uint32_t o1 = overdue_ordinal(MER1), o2 = overdue_ordinal(MER2);
    cr_assert_eq(o1 + o2, 1, "the two overdue alerts are (6,0) and (6,1)");

    /* limit 1 from (0,0): (6,0), (6,1), (7,0), then an empty page. */
    const uint64_t heights[3] = {6, 6, 7};
    const uint32_t ordinals[3] = {0, 1, 0};
    struct aq a = {.limit = 1};
    for (size_t i = 0; i < 3; i++) {
        Hansa__Response *r = alerts_as(REGULATOR, &a);
        const Hansa__AlertPage *p = expect_page(r, 1);
        expect_cursor(p->alerts[0]->cursor, heights[i], ordinals[i]);
        expect_cursor(p->next_cursor, heights[i], ordinals[i]);
        expect_cursor(p->head_cursor, 7, 0);
        cr_assert_eq(p->processed_height, 7);
        a.after_height = p->next_cursor->height;
        a.after_ordinal = p->next_cursor->ordinal;
        wire_free(r);
    }
    Hansa__Response *r = alerts_as(REGULATOR, &a);
    const Hansa__AlertPage *p = expect_page(r, 0);
    expect_cursor(p->next_cursor, 7, 0); /* nothing examined: = after */
    expect_cursor(p->head_cursor, 7, 0);
    cr_assert_eq(p->processed_height, 7);
    wire_free(r);

    /* An empty block moves processed_height, not the head. */
    cr_assert_eq(commit_empty(), 8);
    wait_risk(F.store, 8);
    r = alerts_as(REGULATOR, &a);
    p = expect_page(r, 0);
    expect_cursor(p->head_cursor, 7, 0);
    cr_assert_eq(p->processed_height, 8);
    wire_free(r);

    /* rule_ids: one id (the rule index), an unknown id, and two ids. */
    struct aq rule = {.limit = 100, .rule_ids = {"OVERDUE"}, .n_rule_ids = 1};
    r = alerts_as(REGULATOR, &rule);
    expect_page(r, 3);
    wire_free(r);
    struct aq no_rule = {.limit = 100, .rule_ids = {"DUP-PLEDGE"}, .n_rule_ids = 1};
    r = alerts_as(REGULATOR, &no_rule);
    p = expect_page(r, 0);
    expect_cursor(p->next_cursor, 0, 0);
    wire_free(r);
    struct aq two_rules = {.limit = 100, .rule_ids = {"DUP-PLEDGE", "OVERDUE"}, .n_rule_ids = 2};
    r = alerts_as(MER1, &two_rules);
    expect_page(r, 2);
    wire_free(r);

    /* min_severity: HIGH keeps all three, CRITICAL only the default. */
    struct aq high = {.limit = 100, .min_severity = SEV(HIGH)};
    r = alerts_as(REGULATOR, &high);
    expect_page(r, 3);
    wire_free(r);
    struct aq critical = {.limit = 100, .min_severity = SEV(CRITICAL)};
    r = alerts_as(REGULATOR, &critical);
    p = expect_page(r, 1);
    expect_cursor(p->alerts[0]->cursor, 7, 0);
    cr_assert_eq(p->alerts[0]->severity, SEV(CRITICAL));
    wire_free(r);

    /* kinds: UPDATE only is the default; NEW only ends its page past the
     * last one returned (next_cursor = the last alert examined). */
    struct aq updates = {.limit = 100, .kinds = {KIND(UPDATE)}, .n_kinds = 1};
    r = alerts_as(REGULATOR, &updates);
    p = expect_page(r, 1);
    expect_cursor(p->alerts[0]->cursor, 7, 0);
    cr_assert_eq(p->alerts[0]->kind, KIND(UPDATE));
    wire_free(r);
    struct aq news = {.limit = 100, .kinds = {KIND(NEW)}, .n_kinds = 1};
    r = alerts_as(REGULATOR, &news);
    p = expect_page(r, 2);
    cr_assert(p->alerts[0]->kind == KIND(NEW) && p->alerts[1]->kind == KIND(NEW));
    expect_cursor(p->next_cursor, 7, 0);
    wire_free(r);

    /* subject: F-1 has its NEW and its UPDATE, F-2 only its NEW. */
    struct aq f1 = {.limit = 100, .subject_owner = MER1, .subject_id = "F-1"};
    r = alerts_as(REGULATOR, &f1);
    p = expect_page(r, 2);
    expect_cursor(p->alerts[0]->cursor, 6, o1);
    expect_cursor(p->alerts[1]->cursor, 7, 0);
    wire_free(r);
    struct aq f2 = {.limit = 100, .subject_owner = MER2, .subject_id = "F-2"};
    r = alerts_as(BANK, &f2);
    p = expect_page(r, 1);
    expect_cursor(p->alerts[0]->cursor, 6, o2);
    wire_free(r);

    /* Filters intersect: F-1's subject and NEW only. */
    struct aq f1_new = {.limit = 100,
                        .subject_owner = MER1,
                        .subject_id = "F-1",
                        .kinds = {KIND(NEW)},
                        .n_kinds = 1};
    r = alerts_as(MER1, &f1_new);
    p = expect_page(r, 1);
    expect_cursor(p->alerts[0]->cursor, 6, o1);
    wire_free(r);
    finish();
}

/* ==== 3. long-poll ==== */

struct poller {
    pthread_t thread;
    const char *reader;
    struct aq q;
    Hansa__Response *resp;
    uint64_t sent_ms, answered_ms;
    atomic_bool done;
};

static void *poll_alerts(void *arg)
{
    struct poller *w = arg;
    struct tc *client = NULL;
    if (tc_open(F.url, NULL, NULL, CLIENT_TIMEOUT_MS, &client) == HANSA_OK) {
        Hansa__GetAlerts g;
        Hansa__Cursor after;
        Hansa__EntityRef subject;
        Hansa__AlertKind kinds[4];
        aq_fill(&w->q, &g, &after, &subject, kinds);
        Hansa__Query q = HANSA__QUERY__INIT;
        q.kind_case = HANSA__QUERY__KIND_ALERTS;
        q.alerts = &g;
        struct wire_keypair kp;
        fx_keypair(w->reader, &kp);
        w->sent_ms = tc_now_ms();
        if (tc_query(client, FX_CHAIN_ID, w->reader, &kp, &q, &w->resp) != HANSA_OK)
            w->resp = NULL;
        w->answered_ms = tc_now_ms();
        tc_close(client);
    }
    atomic_store(&w->done, true);
    return NULL;
}

/* Start a poll on its own thread and client. */
static void start_poll(struct poller *w, const char *reader, uint64_t after_height,
                       uint32_t after_ordinal, uint32_t wait_ms)
{
    memset(w, 0, sizeof *w);
    w->reader = reader;
    w->q.after_height = after_height;
    w->q.after_ordinal = after_ordinal;
    w->q.limit = 100;
    w->q.wait_ms = wait_ms;
    atomic_init(&w->done, false);
    cr_assert_eq(pthread_create(&w->thread, NULL, poll_alerts, w), 0);
}

/* Wait until the API has parked both polls (b may be NULL): each must
 * park, not answer at once. */
static void wait_parked(struct poller *a, struct poller *b)
{
    size_t n = b != NULL ? 2 : 1;
    uint64_t deadline = tc_now_ms() + RISK_WAIT_MS;
    while (api_parked_count(F.api) < n) {
        cr_assert(!atomic_load(&a->done) && (b == NULL || !atomic_load(&b->done)),
                  "a poll with nothing to return was answered instead of parked");
        cr_assert_lt(tc_now_ms(), deadline, "only %zu of %zu polls parked", api_parked_count(F.api),
                     n);
        sched_yield();
    }
}

static void join_poll(struct poller *w)
{
    pthread_join(w->thread, NULL);
    cr_assert_not_null(w->resp, "the polling client got no answer");
}

Test(alerts_api, a_parked_poll_is_answered_by_the_first_alert_it_may_see)
{
    F.risk = risk_open(F.store, 0);
    scenario_financed();
    cr_assert_eq(commit_overdue(), 6);
    wait_risk(F.store, 6);

    /* Nothing after (6,1) yet: both polls park. */
    static struct poller reg, mer2;
    start_poll(&reg, REGULATOR, 6, 1, LONG_WAIT_MS);
    start_poll(&mer2, MER2, 6, 1, LONG_WAIT_MS);
    wait_parked(&reg, &mer2);

    /* F-1's default: the regulator's poll is answered at once. */
    uint64_t committed_ms = tc_now_ms();
    cr_assert_eq(commit_default(MER1, "F-1"), 7);
    join_poll(&reg);
    const Hansa__AlertPage *p = expect_page(reg.resp, 1);
    expect_cursor(p->alerts[0]->cursor, 7, 0);
    expect_all_about(p, MER1);
    expect_cursor(p->head_cursor, 7, 0);
    cr_assert_lt(reg.answered_ms - committed_ms, LONG_WAIT_MS / 2,
                 "answered %" PRIu64 " ms after the commit: the wait timed out",
                 reg.answered_ms - committed_ms);

    /* MER-SZ-0002 may not see (7,0): its poll waits on, and F-2's default
     * answers it with exactly that alert. */
    wait_risk(F.store, 7);
    cr_assert_eq(commit_default(MER2, "F-2"), 8);
    join_poll(&mer2);
    p = expect_page(mer2.resp, 1);
    expect_cursor(p->alerts[0]->cursor, 8, 0);
    expect_all_about(p, MER2);
    cr_assert_eq(p->alerts[0]->kind, KIND(UPDATE));
    cr_assert_lt(mer2.answered_ms - mer2.sent_ms, LONG_WAIT_MS, "the wait of %u ms timed out",
                 LONG_WAIT_MS);
    cr_assert_eq(api_parked_count(F.api), 0);
    wire_free(reg.resp);
    wire_free(mer2.resp);
    finish();
}

Test(alerts_api, a_poll_with_nothing_new_returns_an_empty_page_when_its_wait_ends)
{
    scenario_three_alerts();
    static struct poller w;
    start_poll(&w, REGULATOR, 7, 0, SHORT_WAIT_MS);
    wait_parked(&w, NULL);
    /* The node's event loop expires waits with api_tick; be that loop. */
    while (!atomic_load(&w.done))
        api_tick(F.api, tc_now_ms());
    join_poll(&w);
    const Hansa__AlertPage *p = expect_page(w.resp, 0);
    expect_cursor(p->next_cursor, 7, 0);
    expect_cursor(p->head_cursor, 7, 0);
    cr_assert_eq(p->processed_height, 7);
    uint64_t took_ms = w.answered_ms - w.sent_ms;
    cr_assert_geq(took_ms, SHORT_WAIT_MS, "answered after %" PRIu64 " ms, before the wait ended",
                  took_ms);
    cr_assert_lt(took_ms, SHORT_WAIT_MS + 5000, "answered after %" PRIu64 " ms", took_ms);
    cr_assert_eq(api_parked_count(F.api), 0);
    wire_free(w.resp);
    expect_serving();
    finish();
}

/* ==== 4. bad requests ==== */

static void expect_bad_request(const struct aq *a)
{
    Hansa__Response *r = alerts_as(REGULATOR, a);
    expect_error(r, ERR(BAD_REQUEST));
    wire_free(r);
}

Test(alerts_api, refuses_out_of_range_requests_and_keeps_serving)
{
    scenario_three_alerts();
    static const char *const rule_names[33] = {
        "R00", "R01", "R02", "R03", "R04", "R05", "R06", "R07", "R08", "R09", "R10",
        "R11", "R12", "R13", "R14", "R15", "R16", "R17", "R18", "R19", "R20", "R21",
        "R22", "R23", "R24", "R25", "R26", "R27", "R28", "R29", "R30", "R31", "OVERDUE"};

    struct aq a = {.limit = 1001};
    expect_bad_request(&a);
    struct aq w = {.wait_ms = 30001};
    expect_bad_request(&w);
    struct aq rules = {.n_rule_ids = 33};
    memcpy(rules.rule_ids, rule_names, sizeof rule_names);
    expect_bad_request(&rules);
    struct aq sev = {.min_severity = 9};
    expect_bad_request(&sev);
    struct aq kind = {.kinds = {KIND(NEW), 7}, .n_kinds = 2};
    expect_bad_request(&kind);
    expect_serving();

    /* The limits themselves are accepted. */
    struct aq most = {.limit = 1000, .min_severity = SEV(CRITICAL)};
    Hansa__Response *r = alerts_as(REGULATOR, &most);
    expect_page(r, 1);
    wire_free(r);
    struct aq rules32 = {.n_rule_ids = 32};
    memcpy(rules32.rule_ids, rule_names + 1, 32 * sizeof rule_names[0]);
    r = alerts_as(REGULATOR, &rules32);
    expect_page(r, 3); /* OVERDUE is the 32nd */
    wire_free(r);
    struct aq resolved = {.kinds = {KIND(RESOLVED)}, .n_kinds = 1};
    r = alerts_as(REGULATOR, &resolved);
    expect_page(r, 0);
    wire_free(r);
    finish();
}

/* ==== 5. retention ==== */

/* An expired answer: the page is set, empty, with the earliest cursor. */
static void expect_expired(const char *reader, uint64_t after_height, uint32_t after_ordinal,
                           uint64_t earliest_height, uint32_t earliest_ordinal)
{
    struct aq a = {.after_height = after_height, .after_ordinal = after_ordinal, .limit = 100};
    Hansa__Response *r = alerts_as(reader, &a);
    cr_assert_eq(r->error, ERR(CURSOR_EXPIRED), "error %d (%s) for (%" PRIu64 ", %u)", r->error,
                 r->error_message, after_height, after_ordinal);
    cr_assert_neq(strlen(r->error_message), 0);
    cr_assert_eq(r->kind_case, HANSA__RESPONSE__KIND_ALERTS, "the page comes with the error");
    cr_assert(r->alerts->cursor_expired);
    cr_assert_eq(r->alerts->n_alerts, 0);
    expect_cursor(r->alerts->earliest_cursor, earliest_height, earliest_ordinal);
    wire_free(r);
}

static bool alert_logged(uint64_t height, uint32_t ordinal)
{
    uint8_t key[RISK_LOG_KEY_BYTES];
    risk_log_key(key, height, ordinal);
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = store_get(F.store, STORE_ALERTS, key, sizeof key, &val, &len);
    cr_assert(rv == HANSA_OK || rv == HANSA_ENOENT, "%s", hansa_strerror(rv));
    free(val);
    return rv == HANSA_OK;
}

/* Index entries (x/...) whose cursor is at or below height. */
struct index_count {
    uint64_t max_height;
    size_t n;
};

static bool count_index(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                        size_t val_len)
{
    struct index_count *c = arg;
    (void)val;
    (void)val_len;
    cr_assert_geq(key_len, 12);
    uint64_t h = 0;
    for (size_t i = key_len - 12; i < key_len - 4; i++)
        h = h << 8 | key[i];
    if (h <= c->max_height)
        c->n++;
    return true;
}

static size_t index_entries_up_to(uint64_t height)
{
    struct index_count c = {.max_height = height};
    cr_assert_eq(
        store_scan(F.store, STORE_ALERTS, (const uint8_t *)"x/", 2, NULL, 0, count_index, &c),
        HANSA_OK);
    return c.n;
}

Test(alerts_api, a_cursor_older_than_retention_is_told_the_earliest_cursor)
{
    F.risk = risk_open(F.store, 2);
    scenario_financed();
    cr_assert_eq(commit_overdue(), 6);
    cr_assert_eq(commit_default(MER1, "F-1"), 7);
    wait_risk(F.store, 7);

    /* Nothing deleted yet: (0,0) still reads the whole log. */
    struct aq from_start = {.limit = 100};
    Hansa__Response *r = alerts_as(REGULATOR, &from_start);
    expect_page(r, 3);
    wire_free(r);

    /* Block 8 is 2 blocks past block 6: block 6's alerts go. */
    cr_assert_eq(commit_empty(), 8);
    wait_risk(F.store, 8);
    cr_assert(!alert_logged(6, 0) && !alert_logged(6, 1) && alert_logged(7, 0));
    cr_assert_eq(index_entries_up_to(6), 0, "index entries of deleted alerts are deleted too");
    expect_expired(REGULATOR, 0, 0, 6, 1);
    expect_expired(REGULATOR, 6, 0, 6, 1);
    expect_expired(MER1, 0, 0, 6, 1);
    struct aq a = {.limit = 100};
    r = alerts_as(MER1, &a);
    cr_assert_eq(r->error, ERR(CURSOR_EXPIRED));
    expect_cursor(r->alerts->head_cursor, 7, 0);
    expect_cursor(r->alerts->next_cursor, 0, 0);
    cr_assert_eq(r->alerts->processed_height, 8);

    /* Resuming from the earliest cursor returns the oldest retained alert. */
    a.after_height = r->alerts->earliest_cursor->height;
    a.after_ordinal = r->alerts->earliest_cursor->ordinal;
    wire_free(r);
    r = alerts_as(MER1, &a);
    const Hansa__AlertPage *p = expect_page(r, 1);
    expect_cursor(p->alerts[0]->cursor, 7, 0);
    wire_free(r);

    /* Block 9 deletes block 7's alert: the earliest cursor moves on. */
    cr_assert_eq(commit_empty(), 9);
    wait_risk(F.store, 9);
    cr_assert(!alert_logged(7, 0));
    expect_expired(REGULATOR, 6, 1, 7, 0);
    struct aq at_earliest = {.after_height = 7, .after_ordinal = 0, .limit = 100};
    r = alerts_as(REGULATOR, &at_earliest);
    p = expect_page(r, 0);
    expect_cursor(p->head_cursor, 7, 0);
    wire_free(r);
    finish();
}

/* ==== 6. restart ==== */

struct family {
    uint8_t **keys, **vals;
    size_t *key_lens, *val_lens;
    size_t n, cap;
};

static bool family_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                         size_t val_len)
{
    struct family *f = arg;
    if (f->n == f->cap) {
        f->cap = f->cap ? 2 * f->cap : 64;
        f->keys = realloc(f->keys, f->cap * sizeof *f->keys);
        f->vals = realloc(f->vals, f->cap * sizeof *f->vals);
        f->key_lens = realloc(f->key_lens, f->cap * sizeof *f->key_lens);
        f->val_lens = realloc(f->val_lens, f->cap * sizeof *f->val_lens);
        cr_assert(f->keys && f->vals && f->key_lens && f->val_lens);
    }
    f->keys[f->n] = malloc(key_len + 1);
    f->vals[f->n] = malloc(val_len + 1);
    cr_assert(f->keys[f->n] && f->vals[f->n]);
    memcpy(f->keys[f->n], key, key_len);
    memcpy(f->vals[f->n], val, val_len);
    f->key_lens[f->n] = key_len;
    f->val_lens[f->n] = val_len;
    f->n++;
    return true;
}

/* The whole alerts family of s, in key order. */
static void family_read(struct store *s, struct family *f)
{
    memset(f, 0, sizeof *f);
    static const uint8_t none[1] = {0};
    cr_assert_eq(store_scan(s, STORE_ALERTS, none, 0, NULL, 0, family_visit, f), HANSA_OK);
}

static void family_free(struct family *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->keys[i]);
        free(f->vals[i]);
    }
    free(f->keys);
    free(f->vals);
    free(f->key_lens);
    free(f->val_lens);
}

/* The log (a/ entries) of f: keys match their alerts' cursors, alert ids
 * are distinct, ordinals are 0..n-1 per height. Returns the alert count. */
static size_t check_log(const struct family *f)
{
    uint8_t ids[16][WIRE_HASH_BYTES];
    size_t n = 0;
    uint64_t last_height = 0;
    uint32_t next_ordinal = 0;
    for (size_t i = 0; i < f->n; i++) {
        uint64_t h;
        uint32_t o;
        if (!risk_log_key_parse(f->keys[i], f->key_lens[i], &h, &o))
            continue;
        if (h != last_height) {
            cr_assert_gt(h, last_height);
            last_height = h;
            next_ordinal = 0;
        }
        cr_assert_eq(o, next_ordinal, "block %" PRIu64 ": ordinal %u, expected %u", h, o,
                     next_ordinal);
        next_ordinal++;
        Hansa__Alert *a = NULL;
        cr_assert_eq(wire_decode(&hansa__alert__descriptor, f->vals[i], f->val_lens[i],
                                 4 * f->val_lens[i] + 4096, WIRE_LENIENT, (ProtobufCMessage **)&a),
                     HANSA_OK);
        expect_cursor(a->cursor, h, o);
        cr_assert_eq(a->alert_id.len, WIRE_HASH_BYTES);
        cr_assert_lt(n, 16);
        for (size_t k = 0; k < n; k++)
            cr_assert_neq(memcmp(ids[k], a->alert_id.data, WIRE_HASH_BYTES), 0,
                          "alert (%" PRIu64 ", %u) repeats an alert id", h, o);
        memcpy(ids[n++], a->alert_id.data, WIRE_HASH_BYTES);
        wire_free(a);
    }
    return n;
}

static void expect_same_meta(const char *key)
{
    uint64_t h1, h2;
    uint32_t o1, o2;
    cr_assert_eq(store_meta_cursor(F.store, key, &h1, &o1), HANSA_OK);
    cr_assert_eq(store_meta_cursor(F.mirror, key, &h2, &o2), HANSA_OK);
    cr_assert(h1 == h2 && o1 == o2, "%s differs: (%" PRIu64 ", %u) vs (%" PRIu64 ", %u)", key, h1,
              o1, h2, o2);
}

Test(alerts_api, a_restarted_engine_writes_the_log_of_an_uninterrupted_run)
{
    /* The mirror's engine runs through; the store's stops after block 6. */
    F.mirror = store_with_genesis("mirror");
    F.mirror_risk = risk_open(F.mirror, 0);
    F.risk = risk_open(F.store, 0);
    scenario_financed();
    cr_assert_eq(commit_overdue(), 6);
    wait_risk(F.store, 6);
    riskrun_close(F.risk);
    F.risk = NULL;

    cr_assert_eq(commit_default(MER1, "F-1"), 7);
    cr_assert_eq(commit_default(MER2, "F-2"), 8);
    cr_assert_eq(commit_empty(), 9);
    wait_risk(F.mirror, 9);
    cr_assert_eq(risk_height(F.store), 6, "nothing ran while the engine was closed");

    /* Reopen; stop again at whatever point the catch-up has reached, and
     * reopen once more. */
    F.risk = risk_open(F.store, 0);
    riskrun_close(F.risk);
    F.risk = risk_open(F.store, 0);
    wait_risk(F.store, 9);

    struct family a, b;
    family_read(F.store, &a);
    family_read(F.mirror, &b);
    cr_assert_eq(a.n, b.n, "%zu keys in the alerts family, %zu in an uninterrupted run", a.n, b.n);
    for (size_t i = 0; i < a.n; i++) {
        cr_assert(a.key_lens[i] == b.key_lens[i] &&
                      memcmp(a.keys[i], b.keys[i], a.key_lens[i]) == 0,
                  "key %zu differs", i);
        cr_assert(a.val_lens[i] == b.val_lens[i] &&
                      memcmp(a.vals[i], b.vals[i], a.val_lens[i]) == 0,
                  "value of key %zu differs", i);
    }
    cr_assert_eq(check_log(&a), 4, "two NEW and two UPDATE alerts");
    expect_same_meta(STORE_META_RISK_HEAD);
    expect_same_meta(STORE_META_RISK_PRUNED);
    family_free(&a);
    family_free(&b);

    /* Both UPDATEs are event 1 of their incident: the state written before
     * the stop was read back after it. */
    struct aq updates = {.limit = 100, .kinds = {KIND(UPDATE)}, .n_kinds = 1};
    Hansa__Response *r = alerts_as(REGULATOR, &updates);
    const Hansa__AlertPage *p = expect_page(r, 2);
    for (size_t i = 0; i < 2; i++)
        cr_assert_eq(p->alerts[i]->event_no, 1);
    wire_free(r);
    finish();
}
