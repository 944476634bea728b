/*
 * The submit request: admission (node/mempool/admission.h, in DOMAIN.md's
 * order of checks) and its answer, with the original receipt for a
 * transaction that is already committed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api_internal.h"
#include "hansa/assert.h"
#include "log.h"

#define RES(x) HANSA__RESULT_CODE__RESULT_##x

void api_submit(struct api_ctx *c, Hansa__Response *resp)
{
    const ProtobufCBinaryData *bytes = &c->req->submit->tx;
    Hansa__SubmitResult *sr = api_alloc(c, sizeof *sr);
    uint8_t *id = api_alloc(c, WIRE_HASH_BYTES);
    if (sr == NULL || id == NULL)
        return;
    hansa__submit_result__init(sr);
    struct admission_result r;
    admission_admit(&c->api->admission, bytes->data, bytes->len, &r);
    memcpy(id, r.tx_id, WIRE_HASH_BYTES);
    sr->tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, id};
    if (r.code == RES(UNSPECIFIED)) {
        log_error("API-ADMIT-FAIL", "admission failed on the node's side: %s", r.why);
        api_fail(c, resp, HANSA__ERROR_CODE__ERROR_INTERNAL,
                 "the node could not read its state; the failure is logged there");
        return;
    }
    if (r.code == RES(ALREADY_COMMITTED)) {
        hansa_err rv = api_receipt_load(c, r.tx_id, r.height, r.index, &sr->receipt, NULL, NULL);
        if (rv != HANSA_OK) {
            api_fail_storage(c, resp, "submit: receipt", rv);
            return;
        }
    }
    if (r.code == RES(OK) && c->api->deps.admitted != NULL)
        c->api->deps.admitted(c->api->deps.admitted_ctx, bytes->data, bytes->len);
    snprintf(c->message, sizeof c->message, "%s", r.why);
    sr->result = r.code;
    sr->message = c->message;
    resp->kind_case = HANSA__RESPONSE__KIND_SUBMIT;
    resp->submit = sr;
}
