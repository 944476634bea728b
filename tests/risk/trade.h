/*
 * Trade actions for rule tests, each one transaction in its own block of the
 * ledger fixture (r->f), returning the fixture's result. Documents are the
 * fixture's defaults (ledger_fixture.h) unless a helper takes the field.
 *   merchant MER-SZ-0001 (CN), buyer FX_BUYER, CNY, EXPORT CN -> DE;
 *   payments by PAY-0001, waybills by LOG-0001 (CNSZX -> DEHAM);
 *   lines by BANK-A / BANK-B to the merchant at 8,000 bps for a year.
 * Helpers that build several documents of one order name them after it:
 * payment PAY-<order_no>, waybill WB-<order_no>.
 */
#ifndef HANSA_TEST_RISK_TRADE_H
#define HANSA_TEST_RISK_TRADE_H

#include "risk_fixture.h"

#define TR_MER     "MER-SZ-0001"
#define TR_MER2    "MER-SZ-0002"
#define TR_HOUR_MS (UINT64_C(3600) * 1000)
#define TR_DAY_MS  (UINT64_C(24) * TR_HOUR_MS)

/* res itself, asserted OK (with the caller's line and the ledger's
 * sentence otherwise): struct fx_result o = tr_must(tr_order(...)). */
#define tr_must(res) tr_must_at(__FILE__, __LINE__, (res))
struct fx_result tr_must_at(const char *file, int line, struct fx_result res);

/* Asserts res is OK (with the ledger's sentence otherwise). */
#define tr_ok(res) ((void)tr_must(res))

/* Where a transaction went: its block's height and time, and its id. */
struct tr_at {
    uint64_t height, time_ms;
    uint8_t tx_id[WIRE_HASH_BYTES];
};
/* res (asserted OK), the transaction of the block just executed. */
struct tr_at tr_last(struct rfx *r, struct fx_result res);

/* Orders: fx_order_doc with amount; then adjust d->doc before tr_order_submit. */
struct fx_result tr_order_submit(struct rfx *r, struct fx_order_doc *d);
struct fx_result tr_order(struct rfx *r, const char *merchant, const char *order_no,
                          int64_t amount_minor);
/* An order in currency. */
struct fx_result tr_order_in(struct rfx *r, const char *merchant, const char *order_no,
                             int64_t amount_minor, const char *currency);
/* TR_MER's order of 100,000 CNY from one country (alpha-2) to another. */
struct fx_result tr_order_route(struct rfx *r, const char *order_no, const char *origin,
                                const char *destination);
/* The merchant cancels its order. */
struct fx_result tr_cancel(struct rfx *r, const char *merchant, const char *order_no);

/* Payments by PAY-0001: fx_payment_doc, adjusted or not. */
struct fx_result tr_payment_submit(struct rfx *r, struct fx_payment_doc *d);
struct fx_result tr_payment(struct rfx *r, const char *merchant, const char *order_no,
                            const char *pay_id, int64_t amount_minor);

/* Waybills by LOG-0001: fx_waybill_doc, adjusted or not. */
struct fx_result tr_waybill_submit(struct rfx *r, struct fx_waybill_doc *d);
struct fx_result tr_waybill(struct rfx *r, const char *merchant, const char *order_no,
                            const char *logistics_no);
/* Waybill WB-<order_no> of TR_MER's order from one UN/LOCODE to another. */
struct fx_result tr_waybill_route(struct rfx *r, const char *order_no, const char *from,
                                  const char *to);
/* A shipment event on LOG-0001's waybill: type e.g.
 * HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED, location UN/LOCODE
 * (its first two letters are the country), event time. */
struct fx_result tr_event(struct rfx *r, const char *logistics_no, int type, const char *location,
                          uint64_t event_ms);
/* The same on waybill WB-<order_no>. */
struct fx_result tr_order_event(struct rfx *r, const char *order_no, int type, const char *location,
                                uint64_t event_ms);

/* Order + payment + waybill in three blocks, ending MATCHED. */
void tr_matched(struct rfx *r, const char *merchant, const char *order_no, int64_t amount_minor);
/* The same in currency (order and payment), with buyer as the order's buyer
 * and the payment's payer commitment (NULL: the fixture's FX_BUYER). */
void tr_matched_in(struct rfx *r, const char *merchant, const char *order_no, int64_t amount_minor,
                   const char *currency, const uint8_t *buyer);

/* Governance: ADMIN-1 proposes, ADMIN-2 votes YES (2 of 3 pass it), and
 * one empty block applies the change. */
void tr_governance(struct rfx *r, Hansa__ProposeGovernance *pg);
/* Register a MERCHANT of country by governance, its key fx_keypair(id);
 * returns the height the registration took effect at. */
uint64_t tr_add_merchant(struct rfx *r, const char *id, const char *display_name,
                         const char *country);

/* Credit. */
struct fx_result tr_open_line(struct rfx *r, const char *bank, const char *line_id,
                              const char *borrower, int64_t limit_minor, uint32_t rate_bps);
/* Request fid on bank/line_id against n orders of merchant, maturity in 30
 * days. */
struct fx_result tr_request(struct rfx *r, const char *merchant, const char *fid, const char *bank,
                            const char *line_id, const char *const *order_nos, size_t n,
                            int64_t amount_minor);
/* The same in currency. */
struct fx_result tr_request_in(struct rfx *r, const char *merchant, const char *fid,
                               const char *bank, const char *line_id, const char *const *order_nos,
                               size_t n, int64_t amount_minor, const char *currency);
struct fx_result tr_approve(struct rfx *r, const char *bank, const char *merchant, const char *fid);
/* tr_request (asserted OK), then the approval's result. */
struct fx_result tr_request_approve(struct rfx *r, const char *merchant, const char *fid,
                                    const char *bank, const char *line_id,
                                    const char *const *order_nos, size_t n, int64_t amount_minor);
struct fx_result tr_reject(struct rfx *r, const char *bank, const char *merchant, const char *fid);
struct fx_result tr_disburse(struct rfx *r, const char *bank, const char *merchant,
                             const char *fid);
struct fx_result tr_repay(struct rfx *r, const char *bank, const char *merchant, const char *fid,
                          int64_t amount_minor);
struct fx_result tr_default(struct rfx *r, const char *bank, const char *merchant, const char *fid);
/* Open line, request, approve and disburse one order (line limit 10x amount). */
void tr_financed(struct rfx *r, const char *bank, const char *line_id, const char *merchant,
                 const char *fid, const char *order_no, int64_t amount_minor);

#endif
