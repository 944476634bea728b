/*
 * Trade actions for rule tests, each one transaction in its own block of the
 * ledger fixture (r->f), returning the fixture's result. Documents are the
 * fixture's defaults (ledger_fixture.h) unless a helper takes the field.
 *   merchant MER-SZ-0001 (CN), buyer FX_BUYER, CNY, EXPORT CN -> DE;
 *   payments by PAY-0001, waybills by LOG-0001 (CNSZX -> DEHAM);
 *   lines by BANK-A / BANK-B to the merchant at 8,000 bps for a year.
 */
#ifndef HANSA_TEST_RISK_TRADE_H
#define HANSA_TEST_RISK_TRADE_H

#include "risk_fixture.h"

#define TR_MER  "MER-SZ-0001"
#define TR_MER2 "MER-SZ-0002"
#define TR_HOUR_MS (UINT64_C(3600) * 1000)
#define TR_DAY_MS  (UINT64_C(24) * TR_HOUR_MS)

/* Asserts r is OK (with the ledger's sentence otherwise). */
#define tr_ok(res)                                                                                 \
    do {                                                                                           \
        struct fx_result tr_r_ = (res);                                                            \
        cr_assert(tr_r_.admitted && tr_r_.code == HANSA__RESULT_CODE__RESULT_OK,                   \
                  "%s:%d: expected OK, got %s (%s)", __FILE__, __LINE__,                           \
                  ledger_result_name(tr_r_.code), tr_r_.why);                                      \
    } while (0)

/* Orders: fx_order_doc with amount; then adjust d->doc before tr_order_submit. */
struct fx_result tr_order_submit(struct rfx *r, struct fx_order_doc *d);
struct fx_result tr_order(struct rfx *r, const char *merchant, const char *order_no,
                          int64_t amount_minor);
struct fx_result tr_payment(struct rfx *r, const char *merchant, const char *order_no,
                            const char *pay_id, int64_t amount_minor);
struct fx_result tr_waybill(struct rfx *r, const char *merchant, const char *order_no,
                            const char *logistics_no);
/* A shipment event on LOG-0001's waybill: type e.g.
 * HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED, location UN/LOCODE
 * (its first two letters are the country), event time. */
struct fx_result tr_event(struct rfx *r, const char *logistics_no, int type, const char *location,
                          uint64_t event_ms);
/* Order + payment + waybill in three blocks, ending MATCHED. */
void tr_matched(struct rfx *r, const char *merchant, const char *order_no, int64_t amount_minor);

/* Credit. */
struct fx_result tr_open_line(struct rfx *r, const char *bank, const char *line_id,
                              const char *borrower, int64_t limit_minor, uint32_t rate_bps);
/* Request fid on bank/line_id against n orders of merchant, maturity in 30
 * days. */
struct fx_result tr_request(struct rfx *r, const char *merchant, const char *fid,
                            const char *bank, const char *line_id, const char *const *order_nos,
                            size_t n, int64_t amount_minor);
struct fx_result tr_approve(struct rfx *r, const char *bank, const char *merchant,
                            const char *fid);
struct fx_result tr_reject(struct rfx *r, const char *bank, const char *merchant, const char *fid);
struct fx_result tr_disburse(struct rfx *r, const char *bank, const char *merchant,
                             const char *fid);
struct fx_result tr_repay(struct rfx *r, const char *bank, const char *merchant, const char *fid,
                          int64_t amount_minor);
struct fx_result tr_default(struct rfx *r, const char *bank, const char *merchant,
                            const char *fid);
/* Open line, request, approve and disburse one order (line limit 10x amount). */
void tr_financed(struct rfx *r, const char *bank, const char *line_id, const char *merchant,
                 const char *fid, const char *order_no, int64_t amount_minor);

#endif
