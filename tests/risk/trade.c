/* Trade actions for rule tests (trade.h). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define ACT(x) HANSA__TX_BODY__ACTION_##x

struct fx_result tr_order_submit(struct rfx *r, struct fx_order_doc *d)
{
    Hansa__TxBody b;
    fx_body(&b, ACT(CREATE_ORDER), &d->doc);
    return fx_submit(&r->f, d->merchant, &b);
}

struct fx_result tr_order(struct rfx *r, const char *merchant, const char *order_no,
                          int64_t amount_minor)
{
    struct fx_order_doc d;
    fx_order_doc(&d, merchant, order_no, amount_minor);
    return tr_order_submit(r, &d);
}

struct fx_result tr_payment(struct rfx *r, const char *merchant, const char *order_no,
                            const char *pay_id, int64_t amount_minor)
{
    struct fx_payment_doc d;
    fx_payment_doc(&d, merchant, order_no, pay_id, amount_minor);
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_PAYMENT), &d.doc);
    return fx_submit(&r->f, "PAY-0001", &b);
}

struct fx_result tr_waybill(struct rfx *r, const char *merchant, const char *order_no,
                            const char *logistics_no)
{
    struct fx_waybill_doc d;
    fx_waybill_doc(&d, merchant, order_no, logistics_no);
    Hansa__TxBody b;
    fx_body(&b, ACT(CREATE_WAYBILL), &d.doc);
    return fx_submit(&r->f, "LOG-0001", &b);
}

struct fx_result tr_event(struct rfx *r, const char *logistics_no, int type, const char *location,
                          uint64_t event_ms)
{
    Hansa__WaybillRef w = HANSA__WAYBILL_REF__INIT;
    w.carrier = "LOG-0001";
    w.logistics_no = (char *)logistics_no;
    Hansa__AddShipmentEvent e = HANSA__ADD_SHIPMENT_EVENT__INIT;
    e.waybill = &w;
    e.type = (Hansa__ShipmentEventType)type;
    e.location_locode = (char *)location;
    e.event_time_ms = event_ms;
    Hansa__TxBody b;
    fx_body(&b, ACT(ADD_SHIPMENT_EVENT), &e);
    return fx_submit(&r->f, "LOG-0001", &b);
}

void tr_matched(struct rfx *r, const char *merchant, const char *order_no, int64_t amount_minor)
{
    fx_matched_order(&r->f, merchant, order_no, amount_minor);
}

struct fx_result tr_open_line(struct rfx *r, const char *bank, const char *line_id,
                              const char *borrower, int64_t limit_minor, uint32_t rate_bps)
{
    Hansa__OpenCreditLine a = HANSA__OPEN_CREDIT_LINE__INIT;
    a.line_id = (char *)line_id;
    a.borrower = (char *)borrower;
    a.currency = "CNY";
    a.limit_minor = limit_minor;
    a.advance_rate_bps = rate_bps;
    a.expiry_ms = r->f.time_ms + 365 * TR_DAY_MS;
    Hansa__TxBody b;
    fx_body(&b, ACT(OPEN_CREDIT_LINE), &a);
    return fx_submit(&r->f, bank, &b);
}

struct fx_result tr_request(struct rfx *r, const char *merchant, const char *fid,
                            const char *bank, const char *line_id, const char *const *order_nos,
                            size_t n, int64_t amount_minor)
{
    cr_assert_leq(n, 16);
    Hansa__LineRef line = HANSA__LINE_REF__INIT;
    line.bank = (char *)bank;
    line.line_id = (char *)line_id;
    Hansa__OrderRef refs[16], *ptrs[16];
    for (size_t i = 0; i < n; i++) {
        hansa__order_ref__init(&refs[i]);
        refs[i].merchant = (char *)merchant;
        refs[i].order_no = (char *)order_nos[i];
        ptrs[i] = &refs[i];
    }
    Hansa__RequestFinancing q = HANSA__REQUEST_FINANCING__INIT;
    q.financing_id = (char *)fid;
    q.line = &line;
    q.orders = ptrs;
    q.n_orders = n;
    q.amount_minor = amount_minor;
    q.currency = "CNY";
    q.maturity_ms = r->f.time_ms + 30 * TR_DAY_MS;
    Hansa__TxBody b;
    fx_body(&b, ACT(REQUEST_FINANCING), &q);
    return fx_submit(&r->f, merchant, &b);
}

static struct fx_result fin_action(struct rfx *r, const char *signer,
                                   Hansa__TxBody__ActionCase which, const char *merchant,
                                   const char *fid)
{
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.financing_id = (char *)fid;
    Hansa__ApproveFinancing ap = HANSA__APPROVE_FINANCING__INIT;
    Hansa__RejectFinancing rj = HANSA__REJECT_FINANCING__INIT;
    Hansa__DisburseFinancing ds = HANSA__DISBURSE_FINANCING__INIT;
    Hansa__DeclareDefault df = HANSA__DECLARE_DEFAULT__INIT;
    ap.financing = rj.financing = ds.financing = df.financing = &ref;
    void *msg = which == ACT(APPROVE_FINANCING)    ? (void *)&ap
                : which == ACT(REJECT_FINANCING)   ? (void *)&rj
                : which == ACT(DISBURSE_FINANCING) ? (void *)&ds
                                                   : (void *)&df;
    Hansa__TxBody b;
    fx_body(&b, which, msg);
    return fx_submit(&r->f, signer, &b);
}

struct fx_result tr_approve(struct rfx *r, const char *bank, const char *merchant, const char *fid)
{
    return fin_action(r, bank, ACT(APPROVE_FINANCING), merchant, fid);
}

struct fx_result tr_reject(struct rfx *r, const char *bank, const char *merchant, const char *fid)
{
    return fin_action(r, bank, ACT(REJECT_FINANCING), merchant, fid);
}

struct fx_result tr_disburse(struct rfx *r, const char *bank, const char *merchant,
                             const char *fid)
{
    return fin_action(r, bank, ACT(DISBURSE_FINANCING), merchant, fid);
}

struct fx_result tr_default(struct rfx *r, const char *bank, const char *merchant, const char *fid)
{
    return fin_action(r, bank, ACT(DECLARE_DEFAULT), merchant, fid);
}

struct fx_result tr_repay(struct rfx *r, const char *bank, const char *merchant, const char *fid,
                          int64_t amount_minor)
{
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.financing_id = (char *)fid;
    Hansa__RecordRepayment a = HANSA__RECORD_REPAYMENT__INIT;
    a.financing = &ref;
    a.amount_minor = amount_minor;
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_REPAYMENT), &a);
    return fx_submit(&r->f, bank, &b);
}

void tr_financed(struct rfx *r, const char *bank, const char *line_id, const char *merchant,
                 const char *fid, const char *order_no, int64_t amount_minor)
{
    tr_ok(tr_open_line(r, bank, line_id, merchant, 10 * amount_minor, 8000));
    const char *orders[] = {order_no};
    tr_ok(tr_request(r, merchant, fid, bank, line_id, orders, 1, amount_minor));
    tr_ok(tr_approve(r, bank, merchant, fid));
    tr_ok(tr_disburse(r, bank, merchant, fid));
}
