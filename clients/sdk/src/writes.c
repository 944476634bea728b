/*
 * Role-oriented writes (hansa.h): each builds its action message from the
 * arguments and calls hansa_submit with default options, so it waits for
 * the commit. References to the signer's own objects (a bank's line, a
 * carrier's waybill) take the signer from the client's key: a bank names
 * only its line id, a carrier only its waybill number.
 */
#include "internal.h"

#define ACTION(x) HANSA__TX_BODY__ACTION_##x

static char *s(const char *v)
{
    return (char *)(uintptr_t)v;
}

static hansa_code missing(hansa_error *err, const char *what)
{
    return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "%s: missing argument", what);
}

/* ---- merchants ---- */

hansa_code hansa_order_create(hansa_client *c, const Hansa__CreateOrder *doc, hansa_receipt *out,
                              hansa_error *err)
{
    return hansa_submit(c, ACTION(CREATE_ORDER), doc, NULL, out, err);
}

hansa_code hansa_order_cancel(hansa_client *c, const char *merchant, const char *order_no,
                              hansa_receipt *out, hansa_error *err)
{
    if (merchant == NULL || order_no == NULL)
        return missing(err, "hansa_order_cancel");
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = s(merchant);
    ref.order_no = s(order_no);
    Hansa__CancelOrder m = HANSA__CANCEL_ORDER__INIT;
    m.order = &ref;
    return hansa_submit(c, ACTION(CANCEL_ORDER), &m, NULL, out, err);
}

hansa_code hansa_finance_request(hansa_client *c, const Hansa__RequestFinancing *doc,
                                 hansa_receipt *out, hansa_error *err)
{
    return hansa_submit(c, ACTION(REQUEST_FINANCING), doc, NULL, out, err);
}

/* ---- payment institutions and logistics firms ---- */

hansa_code hansa_payment_record(hansa_client *c, const Hansa__RecordPayment *doc,
                                hansa_receipt *out, hansa_error *err)
{
    return hansa_submit(c, ACTION(RECORD_PAYMENT), doc, NULL, out, err);
}

hansa_code hansa_waybill_create(hansa_client *c, const Hansa__CreateWaybill *doc,
                                hansa_receipt *out, hansa_error *err)
{
    return hansa_submit(c, ACTION(CREATE_WAYBILL), doc, NULL, out, err);
}

hansa_code hansa_waybill_event(hansa_client *c, const char *logistics_no,
                               Hansa__ShipmentEventType type, const char *location_locode,
                               uint64_t event_time_ms, hansa_receipt *out, hansa_error *err)
{
    if (c == NULL || logistics_no == NULL || location_locode == NULL)
        return missing(err, "hansa_waybill_event");
    Hansa__WaybillRef ref = HANSA__WAYBILL_REF__INIT;
    ref.carrier = s(hansa_client_party(c));
    ref.logistics_no = s(logistics_no);
    Hansa__AddShipmentEvent m = HANSA__ADD_SHIPMENT_EVENT__INIT;
    m.waybill = &ref;
    m.type = type;
    m.location_locode = s(location_locode);
    m.event_time_ms = event_time_ms;
    return hansa_submit(c, ACTION(ADD_SHIPMENT_EVENT), &m, NULL, out, err);
}

/* ---- banks: credit lines ---- */

hansa_code hansa_credit_open(hansa_client *c, const Hansa__OpenCreditLine *doc, hansa_receipt *out,
                             hansa_error *err)
{
    return hansa_submit(c, ACTION(OPEN_CREDIT_LINE), doc, NULL, out, err);
}

/* The signer's own line. */
static Hansa__LineRef own_line(hansa_client *c, const char *line_id)
{
    Hansa__LineRef ref = HANSA__LINE_REF__INIT;
    ref.bank = s(hansa_client_party(c));
    ref.line_id = s(line_id);
    return ref;
}

hansa_code hansa_credit_limit(hansa_client *c, const char *line_id, int64_t limit_minor,
                              hansa_receipt *out, hansa_error *err)
{
    if (c == NULL || line_id == NULL)
        return missing(err, "hansa_credit_limit");
    Hansa__LineRef ref = own_line(c, line_id);
    Hansa__ChangeCreditLimit m = HANSA__CHANGE_CREDIT_LIMIT__INIT;
    m.line = &ref;
    m.limit_minor = limit_minor;
    return hansa_submit(c, ACTION(CHANGE_CREDIT_LIMIT), &m, NULL, out, err);
}

hansa_code hansa_credit_suspend(hansa_client *c, const char *line_id, hansa_receipt *out,
                                hansa_error *err)
{
    if (c == NULL || line_id == NULL)
        return missing(err, "hansa_credit_suspend");
    Hansa__LineRef ref = own_line(c, line_id);
    Hansa__SuspendCreditLine m = HANSA__SUSPEND_CREDIT_LINE__INIT;
    m.line = &ref;
    return hansa_submit(c, ACTION(SUSPEND_CREDIT_LINE), &m, NULL, out, err);
}

hansa_code hansa_credit_resume(hansa_client *c, const char *line_id, hansa_receipt *out,
                               hansa_error *err)
{
    if (c == NULL || line_id == NULL)
        return missing(err, "hansa_credit_resume");
    Hansa__LineRef ref = own_line(c, line_id);
    Hansa__ResumeCreditLine m = HANSA__RESUME_CREDIT_LINE__INIT;
    m.line = &ref;
    return hansa_submit(c, ACTION(RESUME_CREDIT_LINE), &m, NULL, out, err);
}

hansa_code hansa_credit_close(hansa_client *c, const char *line_id, hansa_receipt *out,
                              hansa_error *err)
{
    if (c == NULL || line_id == NULL)
        return missing(err, "hansa_credit_close");
    Hansa__LineRef ref = own_line(c, line_id);
    Hansa__CloseCreditLine m = HANSA__CLOSE_CREDIT_LINE__INIT;
    m.line = &ref;
    return hansa_submit(c, ACTION(CLOSE_CREDIT_LINE), &m, NULL, out, err);
}

/* ---- banks: financing ---- */

static Hansa__FinancingRef financing_ref(const char *merchant, const char *financing_id)
{
    Hansa__FinancingRef ref = HANSA__FINANCING_REF__INIT;
    ref.merchant = s(merchant);
    ref.financing_id = s(financing_id);
    return ref;
}

hansa_code hansa_finance_approve(hansa_client *c, const char *merchant, const char *financing_id,
                                 hansa_receipt *out, hansa_error *err)
{
    if (merchant == NULL || financing_id == NULL)
        return missing(err, "hansa_finance_approve");
    Hansa__FinancingRef ref = financing_ref(merchant, financing_id);
    Hansa__ApproveFinancing m = HANSA__APPROVE_FINANCING__INIT;
    m.financing = &ref;
    return hansa_submit(c, ACTION(APPROVE_FINANCING), &m, NULL, out, err);
}

hansa_code hansa_finance_reject(hansa_client *c, const char *merchant, const char *financing_id,
                                hansa_receipt *out, hansa_error *err)
{
    if (merchant == NULL || financing_id == NULL)
        return missing(err, "hansa_finance_reject");
    Hansa__FinancingRef ref = financing_ref(merchant, financing_id);
    Hansa__RejectFinancing m = HANSA__REJECT_FINANCING__INIT;
    m.financing = &ref;
    return hansa_submit(c, ACTION(REJECT_FINANCING), &m, NULL, out, err);
}

hansa_code hansa_finance_disburse(hansa_client *c, const char *merchant, const char *financing_id,
                                  hansa_receipt *out, hansa_error *err)
{
    if (merchant == NULL || financing_id == NULL)
        return missing(err, "hansa_finance_disburse");
    Hansa__FinancingRef ref = financing_ref(merchant, financing_id);
    Hansa__DisburseFinancing m = HANSA__DISBURSE_FINANCING__INIT;
    m.financing = &ref;
    return hansa_submit(c, ACTION(DISBURSE_FINANCING), &m, NULL, out, err);
}

hansa_code hansa_finance_repay(hansa_client *c, const char *merchant, const char *financing_id,
                               int64_t amount_minor, hansa_receipt *out, hansa_error *err)
{
    if (merchant == NULL || financing_id == NULL)
        return missing(err, "hansa_finance_repay");
    Hansa__FinancingRef ref = financing_ref(merchant, financing_id);
    Hansa__RecordRepayment m = HANSA__RECORD_REPAYMENT__INIT;
    m.financing = &ref;
    m.amount_minor = amount_minor;
    return hansa_submit(c, ACTION(RECORD_REPAYMENT), &m, NULL, out, err);
}

hansa_code hansa_finance_default(hansa_client *c, const char *merchant, const char *financing_id,
                                 hansa_receipt *out, hansa_error *err)
{
    if (merchant == NULL || financing_id == NULL)
        return missing(err, "hansa_finance_default");
    Hansa__FinancingRef ref = financing_ref(merchant, financing_id);
    Hansa__DeclareDefault m = HANSA__DECLARE_DEFAULT__INIT;
    m.financing = &ref;
    return hansa_submit(c, ACTION(DECLARE_DEFAULT), &m, NULL, out, err);
}
