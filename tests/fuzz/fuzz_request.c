/*
 * libFuzzer target: the client API server (node/net/api.c and the handlers
 * of submit.c, query.c, reads.c) as a client meets it, over a real nng
 * req0 -> rep0 connection on loopback.
 *
 * Set up once (LLVMFuzzerInitialize): a temporary directory holding a real
 * store (node/store) with the ledger fixture's genesis committed, a
 * mempool, and the API server listening on tcp://127.0.0.1:<ephemeral>
 * with its read-audit log in the same directory; then a req0 client.
 *
 * The first byte of an input picks what the rest becomes:
 *   bits 0-1  mode: 1 = a Query body, signed and sent as a SignedQuery;
 *             2 = a TxBody, signed and submitted as a Tx envelope;
 *             0 and 3 = the rest sent as raw Request bytes, as they are.
 *   bits 2-5  which party of the fixture's cast signs (mod its size).
 *   bit 6     corrupt one byte of the signature.
 *   bit 7     force chain_id, reader / signer and created_ms to valid
 *             ones, so that the checks past the envelope are reached.
 * Query and TxBody are decoded leniently and re-encoded. A GetReceipt,
 * GetAlerts or GetCreditEvents wait_ms within the limit is forced to 0 so
 * that no request parks (this target never calls api_tick); one above the
 * limit is kept, to reach its refusal.
 *
 * What must hold for every input, or the target aborts:
 *   1. an answer arrives within ANSWER_TIMEOUT_MS and decodes as a
 *      hansa.Response;
 *   2. a request this target built gets its request_id back;
 *   3. error and kind agree (hansa.proto Response): an error carries a
 *      message and no kind (but CURSOR_EXPIRED, which keeps its page);
 *      success carries the kind of the question (submit -> submit, Query
 *      kind k -> Response kind k + 10; raw requests: some kind);
 *   4. never ERROR_INTERNAL: the store and memory do not fail here, so an
 *      internal error is a bug of the node.
 * Requests up to a little over HANSA_REQUEST_BYTES_MAX are sent: the API's
 * receive limit leaves room for nng's req/rep header
 * (HANSA_NNG_HEADER_BYTES_MAX), so a request at the limit is answered and
 * one slightly over it gets ERROR_TOO_LARGE. (This target found that a
 * request within 4 bytes of the limit used to get no answer at all.)
 * run-fuzz.sh caps the input length at REQUEST_BODY_MAX.
 *
 * Per input nothing is kept: admitted transactions are drained from the
 * mempool, so each input meets the same genesis state and an empty pool.
 * The clock the server sees is fixed (FUZZ_NOW_MS), so inputs replay.
 *
 * FUZZ_REQUEST_VERBOSE=1 in the environment prints each answer's error
 * code, message and kind (for reading what a corpus file reaches).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "ledger_fixture.h"
#include "mempool.h"
#include "store.h"
#include "testclient.h"

/* Bodies a little over the limit still arrive (the listener allows nng's
 * header on top) and must be answered ERROR_TOO_LARGE. */
#define REQUEST_BODY_MAX (HANSA_REQUEST_BYTES_MAX + 32u)
/* Generous: a sanitizer build answers in well under a millisecond. */
#define ANSWER_TIMEOUT_MS 10000u
/* The node's clock: one block after genesis. */
#define FUZZ_NOW_MS (FX_GENESIS_MS + FX_BLOCK_MS)
/* wait_ms limit of hansa.proto (API_WAIT_MS_MAX in node/net). */
#define FUZZ_WAIT_MS_MAX 30000u

#define MODE_QUERY     1u
#define MODE_SUBMIT    2u
#define FLAG_BAD_SIG   0x40u
#define FLAG_FORCE_IDS 0x80u

static const char *const signers[] = {
    "MER-SZ-0001", "MER-SZ-0002", "PLT-0001", "PAY-0001",   "LOG-0001", "LOG-0002", "BANK-A",
    "BANK-B",      "CUS-0001",    "ADMIN-1",  "BUYER-DE-1", "ADMIN-2",  "ADMIN-3"};
#define N_SIGNERS (sizeof signers / sizeof signers[0])

static char dir[] = "/tmp/hansa-fuzz-request-XXXXXX";
static struct node_config cfg; /* ~52 KiB: static, not on the stack */
static struct store *store;
static struct mempool *mempool;
static struct api *api;
static struct tc *client;
static struct wire_keypair keys[N_SIGNERS];
static uint64_t next_request_id;
static bool verbose;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

__attribute__((noreturn, format(printf, 1, 2))) static void die(const char *fmt, ...);

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "fuzz_request: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    abort();
}

static uint64_t fixed_now_ms(void *ctx)
{
    (void)ctx;
    return FUZZ_NOW_MS;
}

static void open_store(void)
{
    char path[256], why[512] = "";
    snprintf(path, sizeof path, "%s/data", dir);
    hansa_err rv = store_open(path, &store, why, sizeof why);
    if (rv != HANSA_OK)
        die("store_open %s: %s: %s", path, hansa_strerror(rv), why);
    Hansa__Parameters p;
    ledger_params_default(&p);
    struct ledger_output out;
    fx_genesis_output(&p, &out);
    rv = store_commit_genesis(store, &out);
    ledger_output_free(&out);
    if (rv != HANSA_OK)
        die("store_commit_genesis: %s", hansa_strerror(rv));
}

static void open_api(void)
{
    char why[512] = "";
    node_config_init(&cfg);
    snprintf(cfg.node_id, sizeof cfg.node_id, "fuzz-node");
    snprintf(cfg.chain_id, sizeof cfg.chain_id, "%s", FX_CHAIN_ID);
    snprintf(cfg.read_audit_log_path, sizeof cfg.read_audit_log_path, "%s/read-audit.log", dir);
    cfg.api_listen_tls.url[0] = '\0';
    /* node_url_parse accepts ports 1..65535 only (a config names real
     * ports); parse the shape, then ask for an ephemeral port, which nng
     * takes as is. */
    if (node_url_parse("tcp://127.0.0.1:1", &cfg.api_listen_tcp, why, sizeof why) != HANSA_OK)
        die("node_url_parse: %s", why);
    snprintf(cfg.api_listen_tcp.url, sizeof cfg.api_listen_tcp.url, "tcp://127.0.0.1:0");
    cfg.api_listen_tcp.port = 0;
    struct api_deps deps = {.cfg = &cfg,
                            .store = store,
                            .mempool = mempool,
                            .status = NULL,
                            .status_ctx = NULL,
                            .now_ms = fixed_now_ms,
                            .now_ctx = NULL};
    hansa_err rv = api_open(&deps, &api, why, sizeof why);
    if (rv != HANSA_OK)
        die("api_open: %s: %s", hansa_strerror(rv), why);
    char url[64];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%u", (unsigned)api_bound_port(api, false));
    if (tc_open(url, NULL, NULL, ANSWER_TIMEOUT_MS, &client) != HANSA_OK)
        die("tc_open %s failed", url);
}

/* Remove a directory of plain files (RocksDB writes no subdirectories). */
static void remove_flat_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d != NULL) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            char file[512];
            snprintf(file, sizeof file, "%s/%s", path, e->d_name);
            (void)unlink(file);
        }
        closedir(d);
    }
    (void)rmdir(path);
}

/* At a normal exit (the end of -max_total_time or -runs): stop the server
 * and leave no temporary directory behind. A crash keeps it. */
static void close_all(void)
{
    tc_close(client);
    api_close(api);
    mempool_close(mempool);
    store_close(store);
    char path[256];
    snprintf(path, sizeof path, "%s/data", dir);
    remove_flat_dir(path);
    remove_flat_dir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    if (wire_global_init() != HANSA_OK)
        die("libsodium does not initialise");
    const char *v = getenv("FUZZ_REQUEST_VERBOSE");
    verbose = v != NULL && v[0] == '1';
    if (mkdtemp(dir) == NULL)
        die("mkdtemp %s failed", dir);
    for (size_t i = 0; i < N_SIGNERS; i++)
        fx_keypair(signers[i], &keys[i]);
    open_store();
    if (mempool_open(64, 8u << 20, &mempool) != HANSA_OK)
        die("mempool_open failed");
    open_api();
    atexit(close_all);
    return 0;
}

/* ---- building requests ---- */

/* Sign payload under chain_id, or leave a zero signature when the chain id
 * cannot be signed under (the node must still answer); flip a byte on
 * request. */
static void sign_payload(const char *tag, const char *chain_id, const uint8_t *payload, size_t len,
                         const struct wire_keypair *kp, bool corrupt, uint8_t sig[WIRE_SIG_BYTES])
{
    if (chain_id == NULL || wire_sign(tag, chain_id, payload, len, kp->secret_key, sig) != HANSA_OK)
        memset(sig, 0, WIRE_SIG_BYTES);
    if (corrupt)
        sig[len % WIRE_SIG_BYTES] ^= 0x01;
}

/* Encode req with a fresh request_id; false if it is too large to send. */
static bool encode_request(Hansa__Request *req, uint8_t **out, size_t *out_len, uint64_t *id)
{
    req->request_id = *id = ++next_request_id;
    return wire_encode(&req->base, REQUEST_BODY_MAX, out, out_len) == HANSA_OK;
}

/* No wait within the limit: nothing may park (see the header comment). */
static uint32_t no_wait(uint32_t wait_ms)
{
    return wait_ms <= FUZZ_WAIT_MS_MAX ? 0 : wait_ms;
}

static void zero_waits(Hansa__Query *q)
{
    if (q->kind_case == HANSA__QUERY__KIND_RECEIPT && q->receipt != NULL)
        q->receipt->wait_ms = no_wait(q->receipt->wait_ms);
    if (q->kind_case == HANSA__QUERY__KIND_ALERTS && q->alerts != NULL)
        q->alerts->wait_ms = no_wait(q->alerts->wait_ms);
    if (q->kind_case == HANSA__QUERY__KIND_CREDIT_EVENTS && q->credit_events != NULL)
        q->credit_events->wait_ms = no_wait(q->credit_events->wait_ms);
}

/* A SignedQuery request from a leniently decoded Query; false to skip. */
static bool build_query(uint8_t sel, const uint8_t *data, size_t size, uint8_t **out,
                        size_t *out_len, uint64_t *id, int *query_kind)
{
    Hansa__Query *q = NULL;
    if (wire_decode(&hansa__query__descriptor, data, size, HANSA_REQUEST_BYTES_MAX, WIRE_LENIENT,
                    (ProtobufCMessage **)&q) != HANSA_OK)
        return false;
    size_t who = ((sel >> 2) & 0x0fu) % N_SIGNERS;
    char *orig_chain = q->chain_id, *orig_reader = q->reader;
    if (sel & FLAG_FORCE_IDS) {
        q->chain_id = (char *)FX_CHAIN_ID;
        q->reader = (char *)signers[who];
        q->created_ms = FUZZ_NOW_MS;
    }
    zero_waits(q);
    *query_kind = (int)q->kind_case;
    uint8_t *bytes = NULL;
    size_t len = 0;
    bool ok = wire_encode(&q->base, REQUEST_BODY_MAX, &bytes, &len) == HANSA_OK;
    if (ok) {
        uint8_t sig[WIRE_SIG_BYTES];
        sign_payload(WIRE_TAG_QUERY, q->chain_id, bytes, len, &keys[who], sel & FLAG_BAD_SIG, sig);
        Hansa__SignedQuery sq = HANSA__SIGNED_QUERY__INIT;
        sq.query = (ProtobufCBinaryData){len, bytes};
        sq.signer_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, keys[who].public_key};
        sq.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
        Hansa__Request req = HANSA__REQUEST__INIT;
        req.kind_case = HANSA__REQUEST__KIND_QUERY;
        req.query = &sq;
        ok = encode_request(&req, out, out_len, id);
    }
    free(bytes);
    /* Give the decoded strings back before freeing the message. */
    q->chain_id = orig_chain;
    q->reader = orig_reader;
    wire_free(q);
    return ok;
}

/* A SubmitTx request of a Tx envelope around a leniently decoded TxBody,
 * signed as one of the cast; false to skip. */
static bool build_submit(uint8_t sel, const uint8_t *data, size_t size, uint8_t **out,
                         size_t *out_len, uint64_t *id)
{
    Hansa__TxBody *b = NULL;
    if (wire_decode(&hansa__tx_body__descriptor, data, size, HANSA_REQUEST_BYTES_MAX, WIRE_LENIENT,
                    (ProtobufCMessage **)&b) != HANSA_OK)
        return false;
    size_t who = ((sel >> 2) & 0x0fu) % N_SIGNERS;
    char *orig_chain = b->chain_id, *orig_signer = b->signer;
    if (sel & FLAG_FORCE_IDS) {
        b->chain_id = (char *)FX_CHAIN_ID;
        b->signer = (char *)signers[who];
        b->created_ms = FUZZ_NOW_MS;
    }
    uint8_t *body = NULL, *tx_bytes = NULL;
    size_t body_len = 0, tx_len = 0;
    bool ok = wire_encode(&b->base, REQUEST_BODY_MAX, &body, &body_len) == HANSA_OK;
    if (ok) {
        uint8_t sig[WIRE_SIG_BYTES];
        sign_payload(WIRE_TAG_TX, b->chain_id, body, body_len, &keys[who], sel & FLAG_BAD_SIG, sig);
        Hansa__Tx tx = HANSA__TX__INIT;
        tx.body = (ProtobufCBinaryData){body_len, body};
        tx.signer_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, keys[who].public_key};
        tx.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
        ok = wire_encode(&tx.base, REQUEST_BODY_MAX, &tx_bytes, &tx_len) == HANSA_OK;
    }
    if (ok) {
        Hansa__SubmitTx s = HANSA__SUBMIT_TX__INIT;
        s.tx = (ProtobufCBinaryData){tx_len, tx_bytes};
        Hansa__Request req = HANSA__REQUEST__INIT;
        req.kind_case = HANSA__REQUEST__KIND_SUBMIT;
        req.submit = &s;
        ok = encode_request(&req, out, out_len, id);
    }
    free(body);
    free(tx_bytes);
    b->chain_id = orig_chain;
    b->signer = orig_signer;
    wire_free(b);
    return ok;
}

/* ---- checking the answer ---- */

/* What the request was, for checking its answer. */
struct expect {
    bool built;          /* built here: request_id and kind are known */
    uint64_t request_id; /* if built */
    int response_kind;   /* if built: Response kind on success */
};

static void check_answer(const Hansa__Response *r, const struct expect *e)
{
    if (e->built && r->request_id != e->request_id)
        die("answer carries request_id %llu, the request had %llu",
            (unsigned long long)r->request_id, (unsigned long long)e->request_id);
    if (r->error == HANSA__ERROR_CODE__ERROR_INTERNAL)
        die("ERROR_INTERNAL: %s", r->error_message);
    if (r->error != HANSA__ERROR_CODE__ERROR_NONE) {
        if (r->error_message == NULL || r->error_message[0] == '\0')
            die("error %d without a message", (int)r->error);
        if (r->error != HANSA__ERROR_CODE__ERROR_CURSOR_EXPIRED &&
            r->kind_case != HANSA__RESPONSE__KIND__NOT_SET)
            die("error %d (%s) with an answer of kind %d", (int)r->error, r->error_message,
                (int)r->kind_case);
        return;
    }
    if (r->kind_case == HANSA__RESPONSE__KIND__NOT_SET)
        die("success without an answer");
    if (e->built && (int)r->kind_case != e->response_kind)
        die("answer of kind %d to a request expecting kind %d", (int)r->kind_case,
            e->response_kind);
}

static void exchange(const uint8_t *req, size_t len, const struct expect *e)
{
    uint8_t *answer = NULL;
    size_t answer_len = 0;
    hansa_err rv = tc_raw(client, req, len, &answer, &answer_len);
    if (rv != HANSA_OK)
        die("no answer to a %zu-byte request within %u ms: %s", len, ANSWER_TIMEOUT_MS,
            hansa_strerror(rv));
    Hansa__Response *r = NULL;
    rv = wire_response_decode(answer, answer_len, &r);
    if (rv != HANSA_OK)
        die("the %zu-byte answer does not decode as a Response: %s", answer_len,
            hansa_strerror(rv));
    if (verbose)
        fprintf(stderr, "fuzz_request: error %d \"%s\" kind %d\n", (int)r->error, r->error_message,
                (int)r->kind_case);
    check_answer(r, e);
    wire_free(r);
    free(answer);
}

/* Drop what was admitted, so every input meets an empty pool. */
static void drain_mempool(void)
{
    struct mempool_tx *txs[64];
    size_t n;
    while ((n = mempool_take(mempool, txs, 64, SIZE_MAX)) > 0) {
        mempool_forget(mempool, txs, n);
        for (size_t i = 0; i < n; i++)
            mempool_tx_free(txs[i]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t sel = data[0];
    data++;
    size--;
    struct expect e = {0};
    uint8_t *built = NULL;
    size_t built_len = 0;
    int query_kind = 0;
    switch (sel & 3u) {
    case MODE_QUERY:
        if (!build_query(sel, data, size, &built, &built_len, &e.request_id, &query_kind))
            return 0;
        e.built = true;
        /* hansa.proto: a Query kind k is answered by Response kind k + 10;
         * no kind is a BAD_REQUEST, never a success. */
        e.response_kind = query_kind + 10;
        break;
    case MODE_SUBMIT:
        if (!build_submit(sel, data, size, &built, &built_len, &e.request_id))
            return 0;
        e.built = true;
        e.response_kind = HANSA__RESPONSE__KIND_SUBMIT;
        break;
    default:
        if (size > REQUEST_BODY_MAX)
            return 0;
        break;
    }
    if (e.built)
        exchange(built, built_len, &e);
    else
        exchange(data, size, &e);
    free(built);
    drain_mempool();
    return 0;
}
