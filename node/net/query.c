/*
 * Signed queries: who is asking, and the receipt question.
 *
 * A SignedQuery is checked in this order, the first failure naming the
 * error: the query decodes (ERROR_MALFORMED; ERROR_TOO_LARGE past
 * HANSA_QUERY_BYTES_MAX) and is canonical (ERROR_MALFORMED, or
 * ERROR_UNSUPPORTED when the only thing this node does not know is the
 * question, from a newer client); key and signature lengths
 * (ERROR_MALFORMED); chain id (ERROR_WRONG_CHAIN); created_ms within
 * ±tx_replay_window_ms of the node's clock (ERROR_OUTSIDE_WINDOW); the
 * reader is a registered active party and the key is one of its keys
 * (ERROR_UNKNOWN_READER); the Ed25519 signature over "hansa/query/v1" 0x00
 * chain_id 0x00 query (ERROR_BAD_SIGNATURE). Only then is the question
 * looked at, so nothing is read for someone unknown.
 *
 * Receipts. A committed transaction's receipt comes from its stored block.
 * It is readable by the transaction's signer (own), regulators, and whoever
 * may read the record the transaction acts on, with that record's verdict
 * (own for the record's owners, audited for everyone else). PENDING and
 * UNKNOWN answers disclose no content (the asker already knows the 32-byte
 * id), so any registered reader gets them. With wait_ms the context parks
 * (api.c) and the commit or the end of the wait sends it back here with
 * resume set; a park is followed by a second look at the tx index, so a
 * commit that lands between the first look and the park is not missed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "hansa/assert.h"

#define ERR(x) HANSA__ERROR_CODE__ERROR_##x

/* The canonical decode failed: is it a question this node does not know?
 * (protobuf-c keeps an unknown oneof member as an unknown field.) */
static bool unknown_kind(const ProtobufCBinaryData *bytes)
{
    Hansa__Query *q = NULL;
    if (wire_decode(&hansa__query__descriptor, bytes->data, bytes->len, HANSA_QUERY_BYTES_MAX,
                    WIRE_LENIENT, (ProtobufCMessage **)&q) != HANSA_OK)
        return false;
    bool unknown = false;
    if (q->kind_case == HANSA__QUERY__KIND__NOT_SET)
        for (size_t i = 0; i < q->base.n_unknown_fields && !unknown; i++)
            unknown = q->base.unknown_fields[i].tag >= HANSA__QUERY__KIND_RECEIPT;
    wire_free(q);
    return unknown;
}

static bool decode_query(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__SignedQuery *sq = c->req->query;
    hansa_err rv = wire_query_decode(sq->query.data, sq->query.len, &c->query);
    if (rv == HANSA_OK)
        return true;
    if (rv == HANSA_ETOOLARGE)
        api_fail(c, resp, ERR(TOO_LARGE), "the query is %zu bytes; the limit is %u bytes",
                 sq->query.len, HANSA_QUERY_BYTES_MAX);
    else if (rv == HANSA_ENONCANONICAL && unknown_kind(&sq->query))
        api_fail(c, resp, ERR(UNSUPPORTED),
                 "the query asks a question unknown to this node (a newer client?)");
    else if (rv == HANSA_ENONCANONICAL)
        api_fail(c, resp, ERR(MALFORMED),
                 "the query is not canonically encoded: re-encoding it gives other bytes or "
                 "it carries unknown fields");
    else if (rv == HANSA_ENOMEM)
        api_fail(c, resp, ERR(INTERNAL), "the node ran out of memory");
    else
        api_fail(c, resp, ERR(MALFORMED), "the query does not decode as a hansa.Query");
    return false;
}

static bool check_window(struct api_ctx *c, Hansa__Response *resp)
{
    Hansa__Parameters *params = NULL;
    hansa_err rv = api_params(c, &params);
    if (rv == HANSA_ENOENT) {
        api_fail(c, resp, ERR(UNAVAILABLE), "the node has no committed genesis yet");
        return false;
    }
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "query: parameters", rv);
        return false;
    }
    uint64_t now = api_now_ms(c->api), created = c->query->created_ms;
    if ((created > now ? created - now : now - created) > params->tx_replay_window_ms) {
        api_fail(c, resp, ERR(OUTSIDE_WINDOW),
                 "created_ms %llu is more than %llu ms from the node's time %llu",
                 (unsigned long long)created, (unsigned long long)params->tx_replay_window_ms,
                 (unsigned long long)now);
        return false;
    }
    return true;
}

static bool has_role(const Hansa__Party *p, Hansa__Role role)
{
    for (size_t i = 0; i < p->n_roles; i++)
        if (p->roles[i] == role)
            return true;
    return false;
}

static bool check_reader(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__Query *q = c->query;
    const ProtobufCBinaryData *key = &c->req->query->signer_key;
    if (!wire_id_valid(q->reader)) {
        api_fail(c, resp, ERR(UNKNOWN_READER), "the reader is not a valid party id");
        return false;
    }
    char pkey[RULES_KEY_BYTES_MAX];
    ledger_key_party(pkey, q->reader);
    Hansa__Party *p = NULL;
    hansa_err rv = api_state_load(c->api, pkey, &hansa__party__descriptor, (void **)&p);
    if (rv != HANSA_OK && rv != HANSA_ENOENT) {
        api_fail_storage(c, resp, "query: reader", rv);
        return false;
    }
    if (p == NULL || p->status != HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE) {
        api_fail(c, resp, ERR(UNKNOWN_READER), "%s is not a registered active party", q->reader);
        wire_free(p);
        return false;
    }
    bool known = false;
    for (size_t i = 0; i < p->n_keys && !known; i++)
        known = p->keys[i].len == WIRE_PUBKEY_BYTES &&
                memcmp(p->keys[i].data, key->data, WIRE_PUBKEY_BYTES) == 0;
    if (!known) {
        api_fail(c, resp, ERR(UNKNOWN_READER), "the signing key is not registered to %s",
                 q->reader);
        wire_free(p);
        return false;
    }
    c->reader_party = p;
    c->reader.id = p->id;
    c->reader.regulator = has_role(p, HANSA__ROLE__ROLE_REGULATOR);
    c->reader.bank = has_role(p, HANSA__ROLE__ROLE_BANK);
    c->reader.admin = has_role(p, HANSA__ROLE__ROLE_ADMIN);
    return true;
}

/* Every check of the header comment up to the signature. */
static bool open_query(struct api_ctx *c, Hansa__Response *resp)
{
    const Hansa__SignedQuery *sq = c->req->query;
    if (!decode_query(c, resp))
        return false;
    if (sq->signer_key.len != WIRE_PUBKEY_BYTES || sq->signature.len != WIRE_SIG_BYTES) {
        api_fail(c, resp, ERR(MALFORMED),
                 "signer_key must be %u bytes and signature %u bytes (got %zu and %zu)",
                 WIRE_PUBKEY_BYTES, WIRE_SIG_BYTES, sq->signer_key.len, sq->signature.len);
        return false;
    }
    const char *chain = c->api->deps.cfg->chain_id;
    if (strcmp(c->query->chain_id, chain) != 0) {
        api_fail(c, resp, ERR(WRONG_CHAIN), "the query is for chain \"%.64s\"; this node serves %s",
                 c->query->chain_id, chain);
        return false;
    }
    if (!check_window(c, resp) || !check_reader(c, resp))
        return false;
    if (wire_verify(WIRE_TAG_QUERY, c->query->chain_id, sq->query.data, sq->query.len,
                    sq->signer_key.data, sq->signature.data) != HANSA_OK) {
        api_fail(c, resp, ERR(BAD_SIGNATURE), "the query signature does not verify for %s",
                 c->reader.id);
        return false;
    }
    return true;
}

/* ---- receipts ---- */

/* State key of the record of kind owned by a with id b. */
static bool subject_key(Hansa__Record__KindCase kind, const char *a, const char *b, char *key)
{
    if (!wire_id_valid(a) || !wire_id_valid(b))
        return false;
    switch (kind) {
    case HANSA__RECORD__KIND_ORDER:
        ledger_key_order(key, a, b);
        return true;
    case HANSA__RECORD__KIND_PAYMENT:
        ledger_key_payment(key, a, b);
        return true;
    case HANSA__RECORD__KIND_WAYBILL:
        ledger_key_waybill(key, a, b);
        return true;
    case HANSA__RECORD__KIND_CREDIT_LINE:
        ledger_key_line(key, a, b);
        return true;
    case HANSA__RECORD__KIND_FINANCING:
        ledger_key_financing(key, a, b);
        return true;
    default:
        return false;
    }
}

/* The record a transaction acts on: its state key and kind. False when the
 * action names none this node can find (then only the signer and
 * regulators may read the receipt). */
static bool tx_subject(const Hansa__TxBody *b, const uint8_t id[WIRE_HASH_BYTES], char *key,
                       Hansa__Record__KindCase *kind)
{
    const char *signer = b->signer;
    const Hansa__OrderRef *order = NULL;
    const Hansa__LineRef *line = NULL;
    const Hansa__FinancingRef *fin = NULL;
    const Hansa__WaybillRef *wb = NULL;
    const char *a = NULL, *bb = NULL; /* owner and id when named directly */
    switch (b->action_case) {
    case HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE:
        ledger_key_proposal(key, id);
        *kind = HANSA__RECORD__KIND_PROPOSAL;
        return true;
    case HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE:
        if (b->vote_governance->proposal_id.len != WIRE_HASH_BYTES)
            return false;
        ledger_key_proposal(key, b->vote_governance->proposal_id.data);
        *kind = HANSA__RECORD__KIND_PROPOSAL;
        return true;
    case HANSA__TX_BODY__ACTION_CREATE_ORDER:
        a = b->create_order->merchant, bb = b->create_order->order_no;
        *kind = HANSA__RECORD__KIND_ORDER;
        break;
    case HANSA__TX_BODY__ACTION_CANCEL_ORDER:
        order = b->cancel_order->order;
        break;
    case HANSA__TX_BODY__ACTION_RECORD_PAYMENT:
        a = signer, bb = b->record_payment->pay_transaction_id;
        *kind = HANSA__RECORD__KIND_PAYMENT;
        break;
    case HANSA__TX_BODY__ACTION_CREATE_WAYBILL:
        a = signer, bb = b->create_waybill->logistics_no;
        *kind = HANSA__RECORD__KIND_WAYBILL;
        break;
    case HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT:
        wb = b->add_shipment_event->waybill;
        break;
    case HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE:
        a = signer, bb = b->open_credit_line->line_id;
        *kind = HANSA__RECORD__KIND_CREDIT_LINE;
        break;
    case HANSA__TX_BODY__ACTION_CHANGE_CREDIT_LIMIT:
        line = b->change_credit_limit->line;
        break;
    case HANSA__TX_BODY__ACTION_SUSPEND_CREDIT_LINE:
        line = b->suspend_credit_line->line;
        break;
    case HANSA__TX_BODY__ACTION_RESUME_CREDIT_LINE:
        line = b->resume_credit_line->line;
        break;
    case HANSA__TX_BODY__ACTION_CLOSE_CREDIT_LINE:
        line = b->close_credit_line->line;
        break;
    case HANSA__TX_BODY__ACTION_REQUEST_FINANCING:
        a = signer, bb = b->request_financing->financing_id;
        *kind = HANSA__RECORD__KIND_FINANCING;
        break;
    case HANSA__TX_BODY__ACTION_APPROVE_FINANCING:
        fin = b->approve_financing->financing;
        break;
    case HANSA__TX_BODY__ACTION_REJECT_FINANCING:
        fin = b->reject_financing->financing;
        break;
    case HANSA__TX_BODY__ACTION_DISBURSE_FINANCING:
        fin = b->disburse_financing->financing;
        break;
    case HANSA__TX_BODY__ACTION_RECORD_REPAYMENT:
        fin = b->record_repayment->financing;
        break;
    case HANSA__TX_BODY__ACTION_DECLARE_DEFAULT:
        fin = b->declare_default->financing;
        break;
    default:
        return false;
    }
    if (order != NULL)
        a = order->merchant, bb = order->order_no, *kind = HANSA__RECORD__KIND_ORDER;
    else if (wb != NULL)
        a = wb->carrier, bb = wb->logistics_no, *kind = HANSA__RECORD__KIND_WAYBILL;
    else if (line != NULL)
        a = line->bank, bb = line->line_id, *kind = HANSA__RECORD__KIND_CREDIT_LINE;
    else if (fin != NULL)
        a = fin->merchant, bb = fin->financing_id, *kind = HANSA__RECORD__KIND_FINANCING;
    return subject_key(*kind, a, bb, key);
}

/* Verdict on reading the receipt of the committed tx (bytes as stored);
 * record receives the key to audit. */
static hansa_err receipt_verdict(struct api_ctx *c, const uint8_t *bytes, size_t len,
                                 const uint8_t id[WIRE_HASH_BYTES], char *record,
                                 enum rules_verdict *v)
{
    char hex[2 * WIRE_HASH_BYTES + 1];
    wire_hex_encode(id, WIRE_HASH_BYTES, hex);
    snprintf(record, RULES_KEY_BYTES_MAX, "tx/%s", hex);
    *v = c->reader.regulator ? RULES_ALLOW : RULES_DENY;
    struct wire_tx tx;
    if (wire_tx_open(&tx, bytes, len, c->api->deps.cfg->chain_id) != HANSA_OK)
        return HANSA_OK; /* cannot tell whose it is: regulators only */
    hansa_err rv = HANSA_OK;
    Hansa__Record__KindCase kind = HANSA__RECORD__KIND__NOT_SET;
    char key[RULES_KEY_BYTES_MAX];
    if (strcmp(tx.body->signer, c->reader.id) == 0) {
        *v = RULES_OWN;
    } else if (!c->reader.regulator && tx_subject(tx.body, id, key, &kind)) {
        Hansa__Record *rec = NULL;
        rv = api_record_load(c, key, kind, &rec);
        if (rv == HANSA_OK) {
            snprintf(record, RULES_KEY_BYTES_MAX, "%s", key);
            /* A transaction on the reader's own record is the reader's
             * own to read, as the record is. */
            rv = rules_record(c->api->deps.store, &c->reader, rec, v);
        } else if (rv == HANSA_ENOENT) {
            rv = HANSA_OK; /* rejected at execution: nothing to read it through */
        }
    }
    wire_tx_close(&tx);
    return rv;
}

static void answer_status(struct api_ctx *c, Hansa__Response *resp, const uint8_t *id,
                          Hansa__TxStatus status, Hansa__Receipt *receipt)
{
    Hansa__ReceiptAnswer *ra = api_alloc(c, sizeof *ra);
    uint8_t *idc = api_alloc(c, WIRE_HASH_BYTES);
    if (ra == NULL || idc == NULL)
        return;
    hansa__receipt_answer__init(ra);
    memcpy(idc, id, WIRE_HASH_BYTES);
    ra->tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, idc};
    ra->status = status;
    ra->receipt = receipt;
    resp->kind_case = HANSA__RESPONSE__KIND_RECEIPT;
    resp->receipt = ra;
}

static void answer_committed(struct api_ctx *c, Hansa__Response *resp, const uint8_t *id,
                             uint64_t height, uint32_t index)
{
    Hansa__Receipt *r = NULL;
    const uint8_t *bytes = NULL;
    size_t len = 0;
    hansa_err rv = api_receipt_load(c, id, height, index, &r, &bytes, &len);
    char record[RULES_KEY_BYTES_MAX];
    enum rules_verdict v = RULES_DENY;
    if (rv == HANSA_OK)
        rv = receipt_verdict(c, bytes, len, id, record, &v);
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "receipt", rv);
        return;
    }
    if (!api_audit_verdict(c, record, v)) {
        api_fail(c, resp, ERR(NOT_AUTHORIZED), "%s may not read the receipt of this transaction",
                 c->reader.id);
        return;
    }
    answer_status(c, resp, id, HANSA__TX_STATUS__TX_STATUS_COMMITTED, r);
}

/* False when c was parked: the caller must not touch c. */
static bool receipt(struct api_ctx *c, Hansa__Response *resp, bool may_wait)
{
    const Hansa__GetReceipt *g = c->query->receipt;
    if (g->tx_id.len != WIRE_HASH_BYTES) {
        api_fail(c, resp, ERR(BAD_REQUEST), "tx_id must be %u bytes (got %zu)", WIRE_HASH_BYTES,
                 g->tx_id.len);
        return true;
    }
    if (g->wait_ms > API_WAIT_MS_MAX) {
        api_fail(c, resp, ERR(BAD_REQUEST), "wait_ms %u is above the limit of %u",
                 (unsigned)g->wait_ms, API_WAIT_MS_MAX);
        return true;
    }
    struct api *api = c->api;
    uint8_t id[WIRE_HASH_BYTES];
    memcpy(id, g->tx_id.data, sizeof id);
    uint64_t height = 0;
    uint32_t index = 0;
    hansa_err rv = store_tx_location(api->deps.store, id, &height, &index);
    if (rv == HANSA_ENOENT && may_wait && g->wait_ms > 0) {
        uint64_t serial = 0;
        Hansa__ErrorCode code = api_park(c, api_now_ms(api) + g->wait_ms, &serial);
        if (code != ERR(NONE)) {
            api_fail(c, resp, code,
                     code == ERR(BUSY) ? "too many receipt waits are parked; retry later"
                                       : "the node is stopping; try another node");
            return true;
        }
        /* Parked: c belongs to whoever unparks it. Look once more. */
        rv = store_tx_location(api->deps.store, id, &height, &index);
        if (rv == HANSA_ENOENT || !api_unpark(api, c, serial))
            return false;
    }
    if (rv == HANSA_OK)
        answer_committed(c, resp, id, height, index);
    else if (rv == HANSA_ENOENT)
        answer_status(c, resp, id,
                      mempool_contains(api->deps.mempool, id) ? HANSA__TX_STATUS__TX_STATUS_PENDING
                                                              : HANSA__TX_STATUS__TX_STATUS_UNKNOWN,
                      NULL);
    else
        api_fail_storage(c, resp, "receipt: tx index", rv);
    return true;
}

/* ---- dispatch ---- */

bool api_query(struct api_ctx *c, Hansa__Response *resp)
{
    if (!open_query(c, resp))
        return true;
    switch (c->query->kind_case) {
    case HANSA__QUERY__KIND_RECEIPT:
        return receipt(c, resp, true);
    case HANSA__QUERY__KIND_ORDER:
        api_read_order(c, resp);
        break;
    case HANSA__QUERY__KIND_PAYMENT:
        api_read_payment(c, resp);
        break;
    case HANSA__QUERY__KIND_WAYBILL:
        api_read_waybill(c, resp);
        break;
    case HANSA__QUERY__KIND_CREDIT_LINE:
        api_read_line(c, resp);
        break;
    case HANSA__QUERY__KIND_FINANCING:
        api_read_financing(c, resp);
        break;
    case HANSA__QUERY__KIND_PARTY:
        api_read_party(c, resp);
        break;
    case HANSA__QUERY__KIND_EXPOSURE:
        api_read_exposure(c, resp);
        break;
    case HANSA__QUERY__KIND_LIST:
        api_read_list(c, resp);
        break;
    case HANSA__QUERY__KIND_HISTORY:
        api_read_history(c, resp);
        break;
    case HANSA__QUERY__KIND_BLOCK:
        api_read_block(c, resp);
        break;
    case HANSA__QUERY__KIND_PARAMETERS:
        api_read_parameters(c, resp);
        break;
    case HANSA__QUERY__KIND_PROPOSAL:
        api_read_proposal(c, resp);
        break;
    case HANSA__QUERY__KIND_ALERTS:
        return api_read_alerts(c, resp, true);
    case HANSA__QUERY__KIND_CREDIT_EVENTS:
        api_fail(c, resp, ERR(UNSUPPORTED), "this node does not serve credit-event streams yet");
        break;
    case HANSA__QUERY__KIND__NOT_SET:
        api_fail(c, resp, ERR(BAD_REQUEST), "the query asks no question");
        break;
    default:
        api_fail(c, resp, ERR(UNSUPPORTED), "the question is unknown to this node");
        break;
    }
    return true;
}

bool api_query_resume(struct api_ctx *c, Hansa__Response *resp)
{
    HANSA_ASSERT(c->query != NULL);
    if (c->query->kind_case == HANSA__QUERY__KIND_ALERTS)
        return api_read_alerts(c, resp, api_now_ms(c->api) < c->deadline_ms);
    HANSA_ASSERT(c->query->kind_case == HANSA__QUERY__KIND_RECEIPT);
    return receipt(c, resp, false);
}
