/* Trade actions for rule tests (trade.h). */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define ACT(x) HANSA__TX_BODY__ACTION_##x

struct fx_result tr_must_at(const char *file, int line, struct fx_result res)
{
    cr_assert(res.admitted && res.code == HANSA__RESULT_CODE__RESULT_OK,
              "%s:%d: expected OK, got %s (%s)", file, line, ledger_result_name(res.code), res.why);
    return res;
}

struct tr_at tr_last(struct rfx *r, struct fx_result res)
{
    tr_ok(res);
    struct tr_at at = {.height = r->f.height, .time_ms = r->f.time_ms - FX_BLOCK_MS};
    memcpy(at.tx_id, res.tx_id, WIRE_HASH_BYTES);
    return at;
}

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

struct fx_result tr_order_in(struct rfx *r, const char *merchant, const char *order_no,
                             int64_t amount_minor, const char *currency)
{
    struct fx_order_doc d;
    fx_order_doc(&d, merchant, order_no, amount_minor);
    d.doc.currency = (char *)currency;
    return tr_order_submit(r, &d);
}

struct fx_result tr_order_route(struct rfx *r, const char *order_no, const char *origin,
                                const char *destination)
{
    struct fx_order_doc d;
    fx_order_doc(&d, TR_MER, order_no, 100000);
    d.doc.origin_country = (char *)origin;
    d.doc.destination_country = (char *)destination;
    return tr_order_submit(r, &d);
}

struct fx_result tr_cancel(struct rfx *r, const char *merchant, const char *order_no)
{
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = (char *)merchant;
    ref.order_no = (char *)order_no;
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    c.order = &ref;
    Hansa__TxBody b;
    fx_body(&b, ACT(CANCEL_ORDER), &c);
    return fx_submit(&r->f, merchant, &b);
}

struct fx_result tr_payment_submit(struct rfx *r, struct fx_payment_doc *d)
{
    Hansa__TxBody b;
    fx_body(&b, ACT(RECORD_PAYMENT), &d->doc);
    return fx_submit(&r->f, "PAY-0001", &b);
}

struct fx_result tr_payment(struct rfx *r, const char *merchant, const char *order_no,
                            const char *pay_id, int64_t amount_minor)
{
    struct fx_payment_doc d;
    fx_payment_doc(&d, merchant, order_no, pay_id, amount_minor);
    return tr_payment_submit(r, &d);
}

struct fx_result tr_waybill_submit(struct rfx *r, struct fx_waybill_doc *d)
{
    Hansa__TxBody b;
    fx_body(&b, ACT(CREATE_WAYBILL), &d->doc);
    return fx_submit(&r->f, "LOG-0001", &b);
}

struct fx_result tr_waybill(struct rfx *r, const char *merchant, const char *order_no,
                            const char *logistics_no)
{
    struct fx_waybill_doc d;
    fx_waybill_doc(&d, merchant, order_no, logistics_no);
    return tr_waybill_submit(r, &d);
}

/* WB-<order_no> / PAY-<order_no>. */
static void doc_no(char out[HANSA_ID_LEN_MAX + 1], const char *prefix, const char *order_no)
{
    int n = snprintf(out, HANSA_ID_LEN_MAX + 1, "%s-%s", prefix, order_no);
    cr_assert(n > 0 && n <= (int)HANSA_ID_LEN_MAX, "%s-%s is too long", prefix, order_no);
}

struct fx_result tr_waybill_route(struct rfx *r, const char *order_no, const char *from,
                                  const char *to)
{
    char no[HANSA_ID_LEN_MAX + 1];
    doc_no(no, "WB", order_no);
    struct fx_waybill_doc d;
    fx_waybill_doc(&d, TR_MER, order_no, no);
    d.doc.origin_locode = (char *)from;
    d.doc.destination_locode = (char *)to;
    return tr_waybill_submit(r, &d);
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

struct fx_result tr_order_event(struct rfx *r, const char *order_no, int type, const char *location,
                                uint64_t event_ms)
{
    char no[HANSA_ID_LEN_MAX + 1];
    doc_no(no, "WB", order_no);
    return tr_event(r, no, type, location, event_ms);
}

void tr_matched(struct rfx *r, const char *merchant, const char *order_no, int64_t amount_minor)
{
    fx_matched_order(&r->f, merchant, order_no, amount_minor);
}

void tr_matched_in(struct rfx *r, const char *merchant, const char *order_no, int64_t amount_minor,
                   const char *currency, const uint8_t *buyer)
{
    char pay_id[HANSA_ID_LEN_MAX + 1], wb_no[HANSA_ID_LEN_MAX + 1];
    doc_no(pay_id, "PAY", order_no);
    doc_no(wb_no, "WB", order_no);
    struct fx_order_doc o;
    fx_order_doc(&o, merchant, order_no, amount_minor);
    o.doc.currency = (char *)currency;
    struct fx_payment_doc p;
    fx_payment_doc(&p, merchant, order_no, pay_id, amount_minor);
    p.doc.currency = (char *)currency;
    if (buyer != NULL) {
        o.doc.buyer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)buyer};
        p.doc.payer_commitment = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)buyer};
    }
    tr_ok(tr_order_submit(r, &o));
    tr_ok(tr_payment_submit(r, &p));
    tr_ok(tr_waybill(r, merchant, order_no, wb_no));
    Hansa__Order *got = fx_get_order(&r->f, merchant, order_no);
    cr_assert(got != NULL && got->match != NULL &&
              got->match->status == HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED);
    wire_free(got);
}

void tr_governance(struct rfx *r, Hansa__ProposeGovernance *pg)
{
    Hansa__TxBody b;
    fx_body(&b, ACT(PROPOSE_GOVERNANCE), pg);
    struct fx_result p = fx_submit(&r->f, "ADMIN-1", &b);
    tr_ok(p);
    Hansa__VoteGovernance v = HANSA__VOTE_GOVERNANCE__INIT;
    v.proposal_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, p.tx_id};
    v.ballot = HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES;
    fx_body(&b, ACT(VOTE_GOVERNANCE), &v);
    tr_ok(fx_submit(&r->f, "ADMIN-2", &b));
    fx_empty_block(&r->f);
}

uint64_t tr_add_merchant(struct rfx *r, const char *id, const char *display_name,
                         const char *country)
{
    struct wire_keypair kp;
    fx_keypair(id, &kp);
    ProtobufCBinaryData key = {WIRE_PUBKEY_BYTES, kp.public_key};
    Hansa__Role role = HANSA__ROLE__ROLE_MERCHANT;
    Hansa__AddParty a = HANSA__ADD_PARTY__INIT;
    a.party_id = (char *)id;
    a.display_name = (char *)display_name;
    a.country = (char *)country;
    a.n_roles = 1;
    a.roles = &role;
    a.n_keys = 1;
    a.keys = &key;
    Hansa__ProposeGovernance pg = HANSA__PROPOSE_GOVERNANCE__INIT;
    pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY;
    pg.add_party = &a;
    tr_governance(r, &pg);
    return r->f.height;
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

struct fx_result tr_request(struct rfx *r, const char *merchant, const char *fid, const char *bank,
                            const char *line_id, const char *const *order_nos, size_t n,
                            int64_t amount_minor)
{
    return tr_request_in(r, merchant, fid, bank, line_id, order_nos, n, amount_minor, "CNY");
}

struct fx_result tr_request_in(struct rfx *r, const char *merchant, const char *fid,
                               const char *bank, const char *line_id, const char *const *order_nos,
                               size_t n, int64_t amount_minor, const char *currency)
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
    q.currency = (char *)currency;
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

struct fx_result tr_disburse(struct rfx *r, const char *bank, const char *merchant, const char *fid)
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

struct fx_result tr_request_approve(struct rfx *r, const char *merchant, const char *fid,
                                    const char *bank, const char *line_id,
                                    const char *const *order_nos, size_t n, int64_t amount_minor)
{
    tr_ok(tr_request(r, merchant, fid, bank, line_id, order_nos, n, amount_minor));
    return tr_approve(r, bank, merchant, fid);
}

void tr_financed(struct rfx *r, const char *bank, const char *line_id, const char *merchant,
                 const char *fid, const char *order_no, int64_t amount_minor)
{
    tr_ok(tr_open_line(r, bank, line_id, merchant, 10 * amount_minor, 8000));
    const char *orders[] = {order_no};
    tr_ok(tr_request_approve(r, merchant, fid, bank, line_id, orders, 1, amount_minor));
    tr_ok(tr_disburse(r, bank, merchant, fid));
}
