/*
 * The block executor: block-start hooks, one transaction after another with
 * rollback on rejection, then the sorted write set and the state root.
 *
 *   execute(block):
 *     params <- state["params"]
 *     governance changes effective at this height      (governance.c)
 *     DISBURSED financing past maturity -> OVERDUE      (financing.c)
 *     for each tx, in block order:
 *       mark; checks that admission made, again (state may have changed);
 *       handler; on rejection roll back writes and history
 *     state root = SHA-256("hansa/state/v1" 0 || prev root || height ||
 *                          each sorted write as len/key/op/len/value)
 */
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "hansa/civil.h"
#include "internal.h"
#include "overlay.h"

#define STATE_ROOT_TAG "hansa/state/v1"

bool ledger_amount_valid(int64_t amount_minor)
{
    return amount_minor >= 0 && amount_minor <= LEDGER_AMOUNT_MAX;
}

int64_t ledger_apply_bps(int64_t amount_minor, uint32_t bps)
{
    HANSA_ASSERT(amount_minor >= 0);
    __int128 v = (__int128)amount_minor * bps / 10000;
    return (int64_t)v;
}

/* The civil year at time_ms in a zone offset_minutes east of UTC. */
uint32_t ledger_year_at_offset(uint64_t time_ms, int32_t offset_minutes)
{
    int64_t t = (int64_t)(time_ms / 1000) + (int64_t)offset_minutes * 60;
    int64_t y;
    unsigned m, d;
    hansa_civil_from_days(hansa_days_of_second(t), &y, &m, &d);
    return (uint32_t)y;
}

static bool all_upper(const char *c, size_t n, bool digits_ok)
{
    if (c == NULL || strlen(c) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((c[i] >= 'A' && c[i] <= 'Z') || (digits_ok && c[i] >= '0' && c[i] <= '9')))
            return false;
    return true;
}

bool ledger_country_valid(const char *c)
{
    return all_upper(c, 2, false);
}

bool ledger_currency_valid(const char *c)
{
    return all_upper(c, 3, false);
}

bool ledger_locode_valid(const char *c)
{
    /* UN/LOCODE: two-letter country, then three of [A-Z2-9]. */
    return all_upper(c, 5, true) && ledger_country_valid((char[]){c[0], c[1], 0});
}

/* 1..max_bytes bytes of well-formed UTF-8 (no overlong forms, surrogates or
 * code points past U+10FFFF). */
bool ledger_text_valid(const char *s, size_t max_bytes)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    size_t n = strlen((const char *)p);
    if (n == 0 || n > max_bytes)
        return false;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (len == 0 || i + len > n)
            return false;
        uint32_t cp = len == 1 ? c : c & (0x7Fu >> len);
        for (size_t k = 1; k < len; k++) {
            if ((p[i + k] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i + k] & 0x3Fu);
        }
        static const uint32_t min_cp[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_cp[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

bool ledger_hs_code_valid(const char *s)
{
    size_t n = strlen(s ? s : "");
    if (n < 6 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* ---- per-transaction bookkeeping ---- */

static void flush_deferred(struct ledger_exec *ex)
{
    for (size_t i = ex->n_deferred; i > 0; i--)
        ex->deferred[i - 1].fn(ex->deferred[i - 1].p);
    ex->n_deferred = 0;
}

static void history_truncate(struct ledger_exec *ex, size_t n)
{
    while (ex->n_history > n) {
        struct ledger_write *w = &ex->history[--ex->n_history];
        free(w->key);
        free(w->val);
    }
}

/* The role an action needs; orders are special-cased in admit.c. */
static Hansa__ResultCode dispatch(struct ledger_exec *ex, const Hansa__TxBody *b)
{
    switch (b->action_case) {
    case HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE:
        return ledger_governance_propose(ex, b->propose_governance);
    case HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE:
        return ledger_governance_vote(ex, b->vote_governance);
    case HANSA__TX_BODY__ACTION_CREATE_ORDER:
        return ledger_order_create(ex, b->create_order);
    case HANSA__TX_BODY__ACTION_CANCEL_ORDER:
        return ledger_order_cancel(ex, b->cancel_order);
    case HANSA__TX_BODY__ACTION_RECORD_PAYMENT:
        return ledger_payment_record(ex, b->record_payment);
    case HANSA__TX_BODY__ACTION_CREATE_WAYBILL:
        return ledger_waybill_create(ex, b->create_waybill);
    case HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT:
        return ledger_waybill_event(ex, b->add_shipment_event);
    case HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE:
        return ledger_credit_open(ex, b->open_credit_line);
    case HANSA__TX_BODY__ACTION_CHANGE_CREDIT_LIMIT:
        return ledger_credit_change_limit(ex, b->change_credit_limit);
    case HANSA__TX_BODY__ACTION_SUSPEND_CREDIT_LINE:
        return ledger_credit_suspend(ex, b->suspend_credit_line);
    case HANSA__TX_BODY__ACTION_RESUME_CREDIT_LINE:
        return ledger_credit_resume(ex, b->resume_credit_line);
    case HANSA__TX_BODY__ACTION_CLOSE_CREDIT_LINE:
        return ledger_credit_close(ex, b->close_credit_line);
    case HANSA__TX_BODY__ACTION_REQUEST_FINANCING:
        return ledger_financing_request(ex, b->request_financing);
    case HANSA__TX_BODY__ACTION_APPROVE_FINANCING:
        return ledger_financing_approve(ex, b->approve_financing);
    case HANSA__TX_BODY__ACTION_REJECT_FINANCING:
        return ledger_financing_reject(ex, b->reject_financing);
    case HANSA__TX_BODY__ACTION_DISBURSE_FINANCING:
        return ledger_financing_disburse(ex, b->disburse_financing);
    case HANSA__TX_BODY__ACTION_RECORD_REPAYMENT:
        return ledger_financing_repay(ex, b->record_repayment);
    case HANSA__TX_BODY__ACTION_DECLARE_DEFAULT:
        return ledger_financing_default(ex, b->declare_default);
    default:
        ledger_why(ex, "transaction carries no known action");
        return HANSA__RESULT_CODE__RESULT_MALFORMED;
    }
}

static hansa_err run_tx(struct ledger_exec *ex, const struct wire_tx *tx, uint32_t index,
                        Hansa__TxResult **result)
{
    ex->tx = tx;
    ex->tx_index = index;
    ex->signer = tx->body->signer;
    ex->why[0] = '\0';
    overlay_mark(ex->ov);
    size_t history_mark = ex->n_history;
    uint32_t ordinal_mark = ex->credit_ordinal, seq_mark = ex->history_seq;

    Hansa__ResultCode code = ledger_exec_recheck(ex, tx);
    if (code == HANSA__RESULT_CODE__RESULT_OK && ex->fatal == HANSA_OK)
        code = dispatch(ex, tx->body);
    if (ex->fatal == HANSA_OK && code != HANSA__RESULT_CODE__RESULT_OK) {
        overlay_rollback(ex->ov);
        history_truncate(ex, history_mark);
        ex->credit_ordinal = ordinal_mark;
        ex->history_seq = seq_mark;
    }
    flush_deferred(ex);
    ex->tx = NULL;
    if (ex->fatal != HANSA_OK)
        return ex->fatal;

    Hansa__TxResult *r = malloc(sizeof *r);
    uint8_t *id = malloc(WIRE_HASH_BYTES);
    char *msg = strdup(code == HANSA__RESULT_CODE__RESULT_OK ? "" : ex->why);
    if (r == NULL || id == NULL || msg == NULL) {
        free(r), free(id), free(msg);
        return HANSA_ENOMEM;
    }
    hansa__tx_result__init(r);
    memcpy(id, tx->id, WIRE_HASH_BYTES);
    r->tx_id.data = id;
    r->tx_id.len = WIRE_HASH_BYTES;
    r->result = code;
    r->message = msg;
    *result = r;
    return HANSA_OK;
}

static void be_put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = bytes - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Copy the overlay into out->state (sorted) and compute the state root. */
static hansa_err finish_state(struct ledger_exec *ex, const uint8_t prev_root[WIRE_HASH_BYTES],
                              struct ledger_output *out)
{
    struct overlay_entry_view *v = NULL;
    size_t n = 0;
    hansa_err rv = overlay_sorted(ex->ov, &v, &n);
    if (rv != HANSA_OK)
        return rv;
    out->state = calloc(n ? n : 1, sizeof *out->state);
    if (out->state == NULL) {
        free(v);
        return HANSA_ENOMEM;
    }
    struct wire_sha256_ctx sha;
    wire_sha256_init(&sha);
    wire_sha256_update(&sha, (const uint8_t *)STATE_ROOT_TAG, sizeof STATE_ROOT_TAG);
    wire_sha256_update(&sha, prev_root, WIRE_HASH_BYTES);
    uint8_t hdr[8];
    be_put(hdr, ex->height, 8);
    wire_sha256_update(&sha, hdr, 8);
    for (size_t i = 0; i < n && rv == HANSA_OK; i++) {
        struct ledger_write *w = &out->state[i];
        w->key = malloc(v[i].key_len);
        w->val = v[i].val ? malloc(v[i].val_len ? v[i].val_len : 1) : NULL;
        if (w->key == NULL || (v[i].val && w->val == NULL)) {
            rv = HANSA_ENOMEM;
            out->n_state = i + 1;
            break;
        }
        memcpy(w->key, v[i].key, v[i].key_len);
        w->key_len = v[i].key_len;
        if (v[i].val) {
            memcpy(w->val, v[i].val, v[i].val_len);
            w->val_len = v[i].val_len;
        }
        uint8_t rec[9];
        be_put(rec, v[i].key_len, 4);
        rec[4] = v[i].val ? 1 : 0;
        be_put(rec + 5, v[i].val_len, 4);
        wire_sha256_update(&sha, rec, 4);
        wire_sha256_update(&sha, v[i].key, v[i].key_len);
        wire_sha256_update(&sha, rec + 4, 5);
        if (v[i].val)
            wire_sha256_update(&sha, v[i].val, v[i].val_len);
    }
    if (rv == HANSA_OK)
        out->n_state = n;
    wire_sha256_final(&sha, out->state_root);
    free(v);
    return rv;
}

void ledger_exec_close(struct ledger_exec *ex)
{
    flush_deferred(ex);
    free(ex->deferred);
    history_truncate(ex, 0);
    free(ex->history);
    overlay_close(ex->ov);
}

hansa_err ledger_exec_open(struct ledger_exec *ex, const struct ledger_state *st,
                           const char *chain_id, uint64_t height, uint64_t time_ms,
                           const uint8_t prev_root[WIRE_HASH_BYTES])
{
    memset(ex, 0, sizeof *ex);
    ex->base = st;
    ex->chain_id = chain_id;
    ex->height = height;
    ex->time_ms = time_ms;
    return overlay_open(&ex->ov, prev_root); /* SipHash key: first 16 bytes of the root */
}

hansa_err ledger_exec_finish(struct ledger_exec *ex, const uint8_t prev_root[WIRE_HASH_BYTES],
                             struct ledger_output *out)
{
    hansa_err rv = finish_state(ex, prev_root, out);
    if (rv == HANSA_OK) {
        out->history = ex->history;
        out->n_history = ex->n_history;
        ex->history = NULL;
        ex->n_history = ex->cap_history = 0;
    }
    return rv;
}

hansa_err ledger_execute(const struct ledger_state *st, const struct ledger_block *blk,
                         struct ledger_output *out)
{
    HANSA_ASSERT(st != NULL && blk != NULL && out != NULL);
    HANSA_ASSERT(blk->n_txs <= HANSA_BLOCK_TXS_MAX);
    memset(out, 0, sizeof *out);
    struct ledger_exec ex;
    hansa_err rv =
        ledger_exec_open(&ex, st, blk->chain_id, blk->height, blk->time_ms, blk->prev_state_root);
    if (rv != HANSA_OK)
        return rv;

    /* The parameters live for the whole block, not one transaction. */
    ex.params = ledger_load_keep(&ex, &hansa__parameters__descriptor, LEDGER_KEY_PARAMS,
                                 strlen(LEDGER_KEY_PARAMS));
    if (ex.params == NULL && ex.fatal == HANSA_OK)
        ex.fatal = HANSA_EFORMAT; /* no genesis parameters: not a ledger */
    /* Changes the block itself makes carry tx_index UINT32_MAX (hansa.proto,
     * HistoryEntry). */
    ex.tx_index = UINT32_MAX;
    if (ex.fatal == HANSA_OK)
        ledger_governance_begin_block(&ex);
    flush_deferred(&ex);
    if (ex.fatal == HANSA_OK) {
        /* A parameter change effective at this height governs this block. */
        wire_free(ex.params);
        ex.params = ledger_load_keep(&ex, &hansa__parameters__descriptor, LEDGER_KEY_PARAMS,
                                     strlen(LEDGER_KEY_PARAMS));
        if (ex.params == NULL && ex.fatal == HANSA_OK)
            ex.fatal = HANSA_EFORMAT;
    }
    if (ex.fatal == HANSA_OK)
        ledger_financing_begin_block(&ex);
    flush_deferred(&ex);

    out->results = calloc(blk->n_txs ? blk->n_txs : 1, sizeof *out->results);
    rv = out->results ? ex.fatal : HANSA_ENOMEM;
    for (size_t i = 0; i < blk->n_txs && rv == HANSA_OK; i++) {
        rv = run_tx(&ex, &blk->txs[i], (uint32_t)i, &out->results[i]);
        if (rv == HANSA_OK)
            out->n_results++;
    }
    if (rv == HANSA_OK)
        rv = ledger_exec_finish(&ex, blk->prev_state_root, out);
    wire_free(ex.params);
    ledger_exec_close(&ex);
    if (rv != HANSA_OK)
        ledger_output_free(out);
    return rv;
}

void ledger_output_free(struct ledger_output *out)
{
    if (out == NULL)
        return;
    for (size_t i = 0; i < out->n_state; i++) {
        free(out->state[i].key);
        free(out->state[i].val);
    }
    free(out->state);
    for (size_t i = 0; i < out->n_history; i++) {
        free(out->history[i].key);
        free(out->history[i].val);
    }
    free(out->history);
    for (size_t i = 0; i < out->n_results; i++) {
        free(out->results[i]->tx_id.data);
        free(out->results[i]->message);
        free(out->results[i]);
    }
    free(out->results);
    memset(out, 0, sizeof *out);
}

const char *ledger_result_name(Hansa__ResultCode code)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__result_code__descriptor, (int)code);
    if (v == NULL)
        return "UNKNOWN_RESULT";
    return strncmp(v->name, "RESULT_", 7) == 0 ? v->name + 7 : v->name;
}
