/*
 * Admission of a submitted transaction (DESIGN.md §3 step 2), in DOMAIN.md's
 * order of checks; the first failure names the SubmitResult code:
 *
 *   size          > Parameters.max_tx_bytes                TOO_LARGE
 *   decoding      envelope and body, canonical, lengths    MALFORMED
 *   chain id                                               WRONG_CHAIN
 *   signer, key   ledger_admit_signer                      UNKNOWN_SIGNER
 *   signature     wire_tx_verify                           BAD_SIGNATURE
 *   window        ledger_admit, node clock                 OUTSIDE_WINDOW
 *   committed     tx index                                 ALREADY_COMMITTED (+ receipt)
 *   role          ledger_admit                             NOT_AUTHORIZED
 *   document      ledger_admit                             INVALID_DOCUMENT
 *   mempool       mempool_add                              ALREADY_PENDING / BUSY
 *
 * ledger_admit checks window, role and document in one call; the tx index
 * lookup happens before it, and a committed transaction is answered
 * OUTSIDE_WINDOW if the window fails and ALREADY_COMMITTED otherwise, which
 * is exactly the place DOMAIN gives it.
 *
 * A signature is verified at most once per transaction on this node: a tx
 * id in the mempool or in the tx index names bytes whose signature this
 * node has already verified (the id is the hash of the exact envelope,
 * signature included), so the check is skipped for them. Two identical
 * submissions arriving at the same moment may both verify; nothing else
 * does.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "hansa/assert.h"
#include "log.h"

#define RES(x) HANSA__RESULT_CODE__RESULT_##x

/* A storage failure inside the ledger's admission: answered ERROR_INTERNAL. */
static Hansa__ResultCode admit_storage(struct api_ctx *c, Hansa__Response *resp, const char *why)
{
    log_error("API-ADMIT-STORE", "admission could not read state: %s", why);
    api_fail(c, resp, HANSA__ERROR_CODE__ERROR_INTERNAL,
             "the node could not read its state; the failure is logged there");
    return RES(UNSPECIFIED);
}

static Hansa__ResultCode to_mempool(struct api_ctx *c, struct wire_tx *tx,
                                    const ProtobufCBinaryData *bytes, uint64_t now_ms)
{
    struct mempool_tx *m = calloc(1, sizeof *m);
    uint8_t *copy = m != NULL ? malloc(bytes->len) : NULL;
    if (copy == NULL) {
        free(m);
        snprintf(c->message, sizeof c->message, "the node is out of memory; retry later");
        return RES(BUSY);
    }
    memcpy(copy, bytes->data, bytes->len);
    m->bytes = copy;
    m->len = bytes->len;
    m->tx = *tx;
    m->admitted_ms = now_ms;
    hansa_err rv = mempool_add(c->api->deps.mempool, m);
    memset(tx, 0, sizeof *tx); /* moved into m */
    if (rv == HANSA_OK) {
        c->message[0] = '\0';
        return RES(OK);
    }
    mempool_tx_free(m);
    if (rv == HANSA_EEXIST) {
        snprintf(c->message, sizeof c->message,
                 "the transaction is already in the mempool; wait for its receipt");
        return RES(ALREADY_PENDING);
    }
    snprintf(c->message, sizeof c->message, "the mempool is full; retry later");
    return RES(BUSY);
}

/* The checks after wire_tx_open. */
static Hansa__ResultCode admit_opened(struct api_ctx *c, Hansa__Response *resp, struct wire_tx *tx,
                                      const ProtobufCBinaryData *bytes, Hansa__SubmitResult *sr)
{
    struct api *api = c->api;
    struct ledger_state st = store_ledger_state(api->deps.store);
    char *why = c->message;
    size_t why_len = sizeof c->message;
    Hansa__ResultCode code = ledger_admit_signer(&st, tx, why, why_len);
    if (code == RES(UNSPECIFIED))
        return admit_storage(c, resp, why);
    if (code != RES(OK))
        return code;

    uint64_t height = 0;
    uint32_t index = 0;
    hansa_err rv = store_tx_location(api->deps.store, tx->id, &height, &index);
    if (rv != HANSA_OK && rv != HANSA_ENOENT) {
        api_fail_storage(c, resp, "submit: tx index", rv);
        return RES(UNSPECIFIED);
    }
    bool committed = rv == HANSA_OK;
    if (!committed && !mempool_contains(api->deps.mempool, tx->id) &&
        wire_tx_verify(tx) != HANSA_OK) {
        snprintf(why, why_len, "the signature does not verify under the key registered to %s",
                 tx->body->signer);
        return RES(BAD_SIGNATURE);
    }

    uint64_t now = api_now_ms(api);
    code = ledger_admit(&st, tx, now, why, why_len);
    if (code == RES(UNSPECIFIED))
        return admit_storage(c, resp, why);
    if (code == RES(OUTSIDE_WINDOW))
        return code;
    if (committed) {
        rv = api_receipt_load(c, tx->id, height, index, &sr->receipt, NULL, NULL);
        if (rv != HANSA_OK) {
            api_fail_storage(c, resp, "submit: receipt", rv);
            return RES(UNSPECIFIED);
        }
        snprintf(why, why_len, "the transaction was committed at height %llu, index %u",
                 (unsigned long long)height, (unsigned)index);
        return RES(ALREADY_COMMITTED);
    }
    if (code != RES(OK))
        return code;
    return to_mempool(c, tx, bytes, now);
}

/* Size, decoding and chain id, then admit_opened. */
static Hansa__ResultCode admit(struct api_ctx *c, Hansa__Response *resp,
                               const ProtobufCBinaryData *bytes, Hansa__SubmitResult *sr)
{
    char *why = c->message;
    size_t why_len = sizeof c->message;
    Hansa__Parameters *params = NULL;
    hansa_err rv = api_params(c, &params);
    if (rv == HANSA_ENOENT) {
        api_fail(c, resp, HANSA__ERROR_CODE__ERROR_UNAVAILABLE,
                 "the node has no committed genesis yet");
        return RES(UNSPECIFIED);
    }
    if (rv != HANSA_OK) {
        api_fail_storage(c, resp, "submit: parameters", rv);
        return RES(UNSPECIFIED);
    }
    if (bytes->len > params->max_tx_bytes) {
        snprintf(why, why_len, "the transaction is %zu bytes; the limit is %u bytes", bytes->len,
                 (unsigned)params->max_tx_bytes);
        return RES(TOO_LARGE);
    }
    const char *chain = c->api->deps.cfg->chain_id;
    struct wire_tx tx;
    rv = wire_tx_open(&tx, bytes->data, bytes->len, chain);
    switch (rv) {
    case HANSA_OK: {
        Hansa__ResultCode code = admit_opened(c, resp, &tx, bytes, sr);
        wire_tx_close(&tx); /* zeroed if it went to the mempool */
        return code;
    }
    case HANSA_ETOOLARGE:
        snprintf(why, why_len,
                 "the transaction is %zu bytes or decodes too large; the limit is "
                 "%u bytes",
                 bytes->len, HANSA_TX_BYTES_MAX);
        return RES(TOO_LARGE);
    case HANSA_ENONCANONICAL:
        snprintf(why, why_len,
                 "the transaction is not canonically encoded: re-encoding it gives other bytes "
                 "or it carries unknown fields");
        return RES(MALFORMED);
    case HANSA_EWRONGCHAIN:
        snprintf(why, why_len, "the transaction is not for chain %s", chain);
        return RES(WRONG_CHAIN);
    case HANSA_ENOMEM:
        api_fail(c, resp, HANSA__ERROR_CODE__ERROR_INTERNAL, "the node ran out of memory");
        return RES(UNSPECIFIED);
    default:
        snprintf(why, why_len,
                 "the transaction does not decode: a Tx envelope with a 32-byte key, a 64-byte "
                 "signature and a TxBody naming a valid signer and one action is required");
        return RES(MALFORMED);
    }
}

void api_submit(struct api_ctx *c, Hansa__Response *resp)
{
    const ProtobufCBinaryData *bytes = &c->req->submit->tx;
    Hansa__SubmitResult *sr = api_alloc(c, sizeof *sr);
    uint8_t *id = api_alloc(c, WIRE_HASH_BYTES);
    if (sr == NULL || id == NULL)
        return;
    hansa__submit_result__init(sr);
    wire_tx_id(bytes->data, bytes->len, id);
    sr->tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, id};
    Hansa__ResultCode code = admit(c, resp, bytes, sr);
    if (code == RES(UNSPECIFIED)) /* resp already says what failed */
        return;
    HANSA_ASSERT(resp->error == HANSA__ERROR_CODE__ERROR_NONE);
    sr->result = code;
    sr->message = c->message;
    resp->kind_case = HANSA__RESPONSE__KIND_SUBMIT;
    resp->submit = sr;
}
