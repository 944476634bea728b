/*
 * Signed reads (hansa.proto "Client API"): every read names its reader,
 * the client's party, and is signed over the canonical Query bytes with the
 * tag "hansa/query/v1", so the node applies DOMAIN.md's read rules and
 * audits the read. A query carries the client's clock (created_ms, checked
 * against the node's replay window) and a random nonce.
 *
 * The node's answer is the Response member matching the query (query kind
 * n is answered by Response kind n + 10); the SDK takes that member out of
 * the Response and hands it to the caller, who frees it with hansa_free().
 * Node errors map to codes in sdk_node_error (client.c): NOT_AUTHORIZED and
 * UNKNOWN_READER are DENIED, NOT_FOUND is NOT_FOUND.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "internal.h"

#define KIND(x) HANSA__RESPONSE__KIND_##x

hansa_code sdk_query(hansa_client *c, Hansa__Query *q, int want, uint32_t wait_ms,
                     struct sdk_call_slot *slot, Hansa__Response **out, hansa_error *err)
{
    *out = NULL;
    const char *chain = NULL;
    hansa_code code = sdk_need_key(c, "a signed read", err);
    if (code == HANSA_CODE_OK)
        code = sdk_chain(c, slot, &chain, err);
    if (code != HANSA_CODE_OK)
        return code;
    uint8_t nonce[SDK_NONCE_BYTES], sig[WIRE_SIG_BYTES];
    randombytes_buf(nonce, sizeof nonce);
    q->chain_id = (char *)(uintptr_t)chain;
    q->reader = c->party;
    q->created_ms = sdk_now_ms();
    q->nonce = (ProtobufCBinaryData){sizeof nonce, nonce};
    uint8_t *bytes = NULL;
    size_t len = 0;
    hansa_err rv = wire_encode(&q->base, HANSA_QUERY_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        rv = wire_sign(WIRE_TAG_QUERY, chain, bytes, len, c->kp.secret_key, sig);
    q->nonce = (ProtobufCBinaryData){0, NULL};
    if (rv != HANSA_OK) {
        free(bytes);
        return sdk_fail(err, rv == HANSA_ETOOLARGE ? HANSA_CODE_INVALID_ARGUMENT : HANSA_CODE_NOMEM,
                        "cannot sign the query: %s", hansa_strerror(rv));
    }
    Hansa__SignedQuery sq = HANSA__SIGNED_QUERY__INIT;
    sq.query = (ProtobufCBinaryData){len, bytes};
    sq.signer_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, c->kp.public_key};
    sq.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__Request req = HANSA__REQUEST__INIT;
    req.kind_case = HANSA__REQUEST__KIND_QUERY;
    req.query = &sq;
    Hansa__Response *resp = NULL;
    code = sdk_call(c, &req, c->timeout_ms + wait_ms, slot, &resp, err);
    free(bytes);
    if (code != HANSA_CODE_OK)
        return code;
    code = sdk_node_error(resp, err);
    bool answered = (int)resp->kind_case == want;
    if (code == HANSA_CODE_OK && !answered)
        code = sdk_fail(err, HANSA_CODE_PROTOCOL,
                        "the node answered with another kind of answer (%d, expected %d)",
                        (int)resp->kind_case, want);
    if (code == HANSA_CODE_OK || (code == HANSA_CODE_CURSOR_EXPIRED && answered)) {
        *out = resp;
        return code;
    }
    wire_free(resp);
    return code;
}

/* Send q and hand its answer (of kind want) to *out. */
static hansa_code read_one(hansa_client *c, Hansa__Query *q, int want, void **out, hansa_error *err)
{
    Hansa__Response *resp = NULL;
    hansa_code code = sdk_query(c, q, want, 0, NULL, &resp, err);
    if (code != HANSA_CODE_OK) {
        wire_free(resp);
        return code;
    }
    *out = sdk_response_take(resp, want);
    wire_free(resp);
    return sdk_ok(err);
}

static bool have(const char *a, const char *b)
{
    return a != NULL && b != NULL;
}

#define NEED(c, out, cond, what)                                                                   \
    do {                                                                                           \
        if ((c) == NULL || (out) == NULL || !(cond))                                               \
            return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "%s: missing argument", what);       \
        *(out) = NULL;                                                                             \
    } while (0)

hansa_code hansa_order_get(hansa_client *c, const char *merchant, const char *order_no,
                           Hansa__Order **out, hansa_error *err)
{
    NEED(c, out, have(merchant, order_no), "hansa_order_get");
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = (char *)(uintptr_t)merchant;
    ref.order_no = (char *)(uintptr_t)order_no;
    Hansa__GetOrder g = HANSA__GET_ORDER__INIT;
    g.order = &ref;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_ORDER;
    q.order = &g;
    return read_one(c, &q, KIND(ORDER), (void **)out, err);
}

hansa_code hansa_payment_get(hansa_client *c, const char *institution,
                             const char *pay_transaction_id, Hansa__Payment **out, hansa_error *err)
{
    NEED(c, out, have(institution, pay_transaction_id), "hansa_payment_get");
    Hansa__PaymentRef ref = HANSA__PAYMENT_REF__INIT;
    ref.institution = (char *)(uintptr_t)institution;
    ref.pay_transaction_id = (char *)(uintptr_t)pay_transaction_id;
    Hansa__GetPayment g = HANSA__GET_PAYMENT__INIT;
    g.by_case = HANSA__GET_PAYMENT__BY_PAYMENT;
    g.payment = &ref;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_PAYMENT;
    q.payment = &g;
    return read_one(c, &q, KIND(PAYMENT), (void **)out, err);
}

hansa_code hansa_waybill_get(hansa_client *c, const char *carrier, const char *logistics_no,
                             Hansa__Waybill **out, hansa_error *err)
{
    NEED(c, out, have(carrier, logistics_no), "hansa_waybill_get");
    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = (char *)(uintptr_t)carrier;
    ref.logistics_no = (char *)(uintptr_t)logistics_no;
    Hansa__GetWaybill g = HANSA__GET_WAYBILL__INIT;
    g.by_case = HANSA__GET_WAYBILL__BY_WAYBILL;
    g.waybill = &ref;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_WAYBILL;
    q.waybill = &g;
    return read_one(c, &q, KIND(WAYBILL), (void **)out, err);
}

hansa_code hansa_credit_get(hansa_client *c, const char *bank, const char *line_id,
                            Hansa__CreditLine **out, hansa_error *err)
{
    NEED(c, out, have(bank, line_id), "hansa_credit_get");
    Hansa__LineRef ref = HANSA__LINE_REF__INIT;
    ref.bank = (char *)(uintptr_t)bank;
    ref.line_id = (char *)(uintptr_t)line_id;
    Hansa__GetCreditLine g = HANSA__GET_CREDIT_LINE__INIT;
    g.line = &ref;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_CREDIT_LINE;
    q.credit_line = &g;
    return read_one(c, &q, KIND(CREDIT_LINE), (void **)out, err);
}

hansa_code hansa_finance_get(hansa_client *c, const char *merchant, const char *financing_id,
                             Hansa__Financing **out, hansa_error *err)
{
    NEED(c, out, have(merchant, financing_id), "hansa_finance_get");
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = (char *)(uintptr_t)merchant;
    ref.financing_id = (char *)(uintptr_t)financing_id;
    Hansa__GetFinancing g = HANSA__GET_FINANCING__INIT;
    g.financing = &ref;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_FINANCING;
    q.financing = &g;
    return read_one(c, &q, KIND(FINANCING), (void **)out, err);
}

hansa_code hansa_exposure_get(hansa_client *c, const char *borrower, Hansa__Exposure **out,
                              hansa_error *err)
{
    NEED(c, out, borrower != NULL, "hansa_exposure_get");
    Hansa__GetExposure g = HANSA__GET_EXPOSURE__INIT;
    g.borrower = (char *)(uintptr_t)borrower;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_EXPOSURE;
    q.exposure = &g;
    return read_one(c, &q, KIND(EXPOSURE), (void **)out, err);
}

/* ---- pages ---- */

hansa_code hansa_page_token_text(const ProtobufCBinaryData *next_page_token, char *out,
                                 size_t out_len, hansa_error *err)
{
    if (next_page_token == NULL || out == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_page_token_text: token and out needed");
    if (out_len < 2 * next_page_token->len + 1)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "a page token of %zu bytes needs %zu bytes of text", next_page_token->len,
                        2 * next_page_token->len + 1);
    wire_hex_encode(next_page_token->data, next_page_token->len, out);
    return sdk_ok(err);
}

/* page_token text -> bytes in buf (HANSA_PAGE_TOKEN_TEXT_MAX / 2). */
static hansa_code token_bytes(const char *text, uint8_t *buf, size_t cap, ProtobufCBinaryData *t,
                              hansa_error *err)
{
    *t = (ProtobufCBinaryData){0, NULL};
    if (text == NULL || text[0] == '\0')
        return HANSA_CODE_OK;
    size_t n = strlen(text), len = 0;
    const char *end = NULL;
    if (n % 2 != 0 || n / 2 > cap || sodium_hex2bin(buf, cap, text, n, NULL, &len, &end) != 0 ||
        end != text + n)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "page token: expected the hex text of a next_page_token");
    *t = (ProtobufCBinaryData){len, buf};
    return HANSA_CODE_OK;
}

hansa_code hansa_list(hansa_client *c, const char *party, Hansa__EntityType type,
                      const char *page_token, uint32_t limit, Hansa__RecordPage **out,
                      hansa_error *err)
{
    NEED(c, out, party != NULL, "hansa_list");
    uint8_t tok[HANSA_PAGE_TOKEN_TEXT_MAX / 2];
    Hansa__ListRecords g = HANSA__LIST_RECORDS__INIT;
    hansa_code code = token_bytes(page_token, tok, sizeof tok, &g.page_token, err);
    if (code != HANSA_CODE_OK)
        return code;
    g.type = type;
    g.party = (char *)(uintptr_t)party;
    g.limit = limit;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_LIST;
    q.list = &g;
    return read_one(c, &q, KIND(RECORDS), (void **)out, err);
}

hansa_code hansa_history(hansa_client *c, Hansa__EntityType type, const char *owner, const char *id,
                         const char *page_token, uint32_t limit, Hansa__HistoryPage **out,
                         hansa_error *err)
{
    NEED(c, out, id != NULL, "hansa_history");
    uint8_t tok[HANSA_PAGE_TOKEN_TEXT_MAX / 2];
    Hansa__GetHistory g = HANSA__GET_HISTORY__INIT;
    hansa_code code = token_bytes(page_token, tok, sizeof tok, &g.page_token, err);
    if (code != HANSA_CODE_OK)
        return code;
    Hansa__EntityRef ref = HANSA__ENTITY_REF__INIT;
    ref.type = type;
    ref.owner = (char *)(uintptr_t)(owner != NULL ? owner : "");
    ref.id = (char *)(uintptr_t)id;
    g.entity = &ref;
    g.limit = limit;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_HISTORY;
    q.history = &g;
    return read_one(c, &q, KIND(HISTORY), (void **)out, err);
}

hansa_code hansa_block_get(hansa_client *c, uint64_t height, Hansa__BlockAnswer **out,
                           hansa_error *err)
{
    NEED(c, out, true, "hansa_block_get");
    Hansa__GetBlock g = HANSA__GET_BLOCK__INIT;
    g.height = height;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_BLOCK;
    q.block = &g;
    return read_one(c, &q, KIND(BLOCK), (void **)out, err);
}

/* ---- receipts ---- */

void sdk_receipt_fill(const Hansa__Receipt *r, hansa_receipt *out)
{
    if (r->tx_id.len == sizeof out->tx_id)
        memcpy(out->tx_id, r->tx_id.data, sizeof out->tx_id);
    out->committed = true;
    out->height = r->height;
    out->index = r->index;
    out->result = r->result;
    snprintf(out->message, sizeof out->message, "%s", r->message != NULL ? r->message : "");
    out->block_time_ms = r->block_time_ms;
}

hansa_code sdk_receipt_query(hansa_client *c, const uint8_t tx_id[32], uint32_t wait_ms,
                             struct sdk_call_slot *slot, Hansa__TxStatus *status,
                             hansa_receipt *out, hansa_error *err)
{
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)(uintptr_t)tx_id};
    g.wait_ms = wait_ms;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    Hansa__Response *resp = NULL;
    hansa_code code = sdk_query(c, &q, KIND(RECEIPT), wait_ms, slot, &resp, err);
    if (code != HANSA_CODE_OK) {
        wire_free(resp);
        return code;
    }
    const Hansa__ReceiptAnswer *a = resp->receipt;
    *status = a->status;
    if (a->status == HANSA__TX_STATUS__TX_STATUS_COMMITTED) {
        if (a->receipt == NULL) {
            wire_free(resp);
            return sdk_fail(err, HANSA_CODE_PROTOCOL, "a committed receipt without its receipt");
        }
        sdk_receipt_fill(a->receipt, out);
    }
    wire_free(resp);
    return HANSA_CODE_OK;
}

hansa_code hansa_tx_get(hansa_client *c, const uint8_t tx_id[32], uint32_t wait_ms,
                        hansa_receipt *out, hansa_error *err)
{
    if (c == NULL || tx_id == NULL || out == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "hansa_tx_get: missing argument");
    memset(out, 0, sizeof *out);
    memcpy(out->tx_id, tx_id, sizeof out->tx_id);
    uint64_t deadline = sdk_mono_ms() + wait_ms;
    Hansa__TxStatus status = HANSA__TX_STATUS__TX_STATUS_UNSPECIFIED;
    for (;;) {
        uint64_t now = sdk_mono_ms();
        uint64_t left = deadline > now ? deadline - now : 0;
        uint32_t chunk = left > SDK_NODE_WAIT_MS_MAX ? SDK_NODE_WAIT_MS_MAX : (uint32_t)left;
        hansa_code code = sdk_receipt_query(c, tx_id, chunk, NULL, &status, out, err);
        if (code != HANSA_CODE_OK)
            return code;
        if (status == HANSA__TX_STATUS__TX_STATUS_COMMITTED || sdk_mono_ms() >= deadline)
            break;
    }
    if (status == HANSA__TX_STATUS__TX_STATUS_COMMITTED ||
        status == HANSA__TX_STATUS__TX_STATUS_PENDING)
        return sdk_ok(err);
    return sdk_fail(err, HANSA_CODE_NOT_FOUND,
                    "the node knows no transaction with this id (not pending, not committed)");
}
