/* See sdk_fixture.h. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sdk_fixture.h"

static const char ruleset_de[] = "# SDK tests: every order to DE is an alert\n"
                                 "[ruleset]\nname = sdk-test\n"
                                 "[jurisdictions]\nlist = DE\nrevision = sdk-1\n";

uint64_t sdk_now_ms_test(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f, "cannot write %s", path);
    cr_assert_eq(fputs(text, f) >= 0, true);
    cr_assert_eq(fclose(f), 0);
}

static void commitments(struct sdk_net *n)
{
    char path[400];
    snprintf(path, sizeof path, "%s/parties/identity.key", n->c.net);
    hansa_identity_key *k = NULL;
    hansa_error err;
    cr_assert_eq(hansa_identity_key_load(path, &k, &err), HANSA_CODE_OK, "%s", err.message);
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_BUYER, "DE-BUYER-0042", n->buyer, &err),
                 HANSA_CODE_OK, "%s", err.message);
    cr_assert_eq(
        hansa_identity_commit(k, HANSA_IDENTITY_NAME, "Anna Schmidt", n->consignee_name, &err),
        HANSA_CODE_OK);
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_PHONE, "+49 40 1234 5678",
                                       n->consignee_phone, &err),
                 HANSA_CODE_OK);
    cr_assert_eq(hansa_identity_commit(k, HANSA_IDENTITY_ADDRESS, "Jungfernstieg 1, Hamburg",
                                       n->consignee_address, &err),
                 HANSA_CODE_OK);
    hansa_identity_key_free(k);
}

void sdk_net_init(struct sdk_net *n, const char *chain, bool alerts_de, const char *const *config)
{
    memset(n, 0, sizeof *n);
    cluster_init(&n->c, 1, chain);
    cluster_config_set(&n->c, 0, "heartbeat_ms", "200");
    cluster_config_set(&n->c, 0, "propose_timeout_ms", "500");
    cluster_config_set(&n->c, 0, "vote_timeout_ms", "300");
    for (size_t i = 0; config != NULL && config[i] != NULL; i += 2)
        cluster_config_set(&n->c, 0, config[i], config[i + 1]);
    if (alerts_de) {
        char path[400];
        snprintf(path, sizeof path, "%s/node0/ruleset.ini", n->c.net);
        write_file(path, ruleset_de);
    }
    int p = n->c.base_port;
    snprintf(n->tls_url, sizeof n->tls_url, "tls+tcp://127.0.0.1:%d", p + 1);
    snprintf(n->tcp_url, sizeof n->tcp_url, "tcp://127.0.0.1:%d", p + 2);
    snprintf(n->events_url, sizeof n->events_url, "tls+tcp://127.0.0.1:%d", p + 3);
    snprintf(n->ca, sizeof n->ca, "%s/ca/ca.crt", n->c.net);
    commitments(n);
}

void sdk_net_start(struct sdk_net *n)
{
    cluster_start(&n->c, 0);
    if (!cluster_wait_ready(&n->c, 0, 60000)) {
        cluster_dump_log(&n->c, 0, 40);
        cr_assert_fail("node0 did not start");
    }
}

void sdk_net_fini(struct sdk_net *n)
{
    cluster_fini(&n->c, false);
}

static hansa_client *open_client(struct sdk_net *n, const char *url, const char *party,
                                 const char *server_name)
{
    char key[400];
    snprintf(key, sizeof key, "%s/parties/%s.key", n->c.net, party);
    hansa_client_options o = {.url = url,
                              .ca_path = n->ca,
                              .server_name = server_name,
                              .key_path = key,
                              .timeout_ms = 10000};
    hansa_client *c = NULL;
    hansa_error err;
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_OK, "%s", err.message);
    cr_assert_str_eq(hansa_client_party(c), party);
    return c;
}

hansa_client *sdk_client(struct sdk_net *n, const char *party)
{
    return open_client(n, n->tcp_url, party, "node0");
}

hansa_client *sdk_client_tls(struct sdk_net *n, const char *party, const char *server_name)
{
    return open_client(n, n->tls_url, party, server_name);
}

static void bin(ProtobufCBinaryData *b, uint8_t *data)
{
    *b = (ProtobufCBinaryData){32, data};
}

void sdk_trade_init(struct sdk_net *n, struct sdk_trade *t, const char *order_no,
                    int64_t amount_minor)
{
    memset(t, 0, sizeof *t);
    snprintf(t->order_no, sizeof t->order_no, "%s", order_no);
    snprintf(t->pay_id, sizeof t->pay_id, "PAY-%s", order_no);
    snprintf(t->waybill_no, sizeof t->waybill_no, "WB-%s", order_no);

    hansa__order_item__init(&t->item);
    t->item.line_no = 1;
    t->item.item_name = "Solar lamp";
    t->item.hs_code = "940540";
    t->item.quantity_milli = 1000;
    t->item.unit = "H87";
    t->item.unit_price_minor = amount_minor;
    t->item.line_total_minor = amount_minor;
    t->items[0] = &t->item;

    hansa__create_order__init(&t->order);
    t->order.order_no = t->order_no;
    t->order.merchant = "MER-SZ-0001";
    t->order.trade_mode = HANSA__TRADE_MODE__TRADE_MODE_EXPORT;
    bin(&t->order.buyer_commitment, n->buyer);
    bin(&t->order.consignee_name_commitment, n->consignee_name);
    bin(&t->order.consignee_phone_commitment, n->consignee_phone);
    bin(&t->order.consignee_address_commitment, n->consignee_address);
    t->order.n_items = 1;
    t->order.items = t->items;
    t->order.goods_value_minor = amount_minor;
    t->order.actual_paid_minor = amount_minor;
    t->order.currency = "CNY";
    t->order.origin_country = "CN";
    t->order.destination_country = "DE";

    hansa__order_ref__init(&t->ref);
    t->ref.merchant = "MER-SZ-0001";
    t->ref.order_no = t->order_no;

    hansa__record_payment__init(&t->payment);
    t->payment.pay_transaction_id = t->pay_id;
    t->payment.order = &t->ref;
    bin(&t->payment.payer_commitment, n->buyer);
    t->payment.amount_paid_minor = amount_minor;
    t->payment.currency = "CNY";
    t->payment.pay_time_ms = sdk_now_ms_test();

    t->hs_codes[0] = "940540";
    hansa__create_waybill__init(&t->waybill);
    t->waybill.logistics_no = t->waybill_no;
    t->waybill.order = &t->ref;
    t->waybill.currency = "CNY";
    t->waybill.gross_weight_grams = 1200;
    t->waybill.package_count = 1;
    t->waybill.goods_description = "Solar lamps";
    t->waybill.n_hs_codes = 1;
    t->waybill.hs_codes = t->hs_codes;
    bin(&t->waybill.consignee_name_commitment, n->consignee_name);
    bin(&t->waybill.consignee_phone_commitment, n->consignee_phone);
    bin(&t->waybill.consignee_address_commitment, n->consignee_address);
    t->waybill.origin_locode = "CNSZX";
    t->waybill.destination_locode = "DEHAM";
}

static void write_ok(hansa_code code, const hansa_error *err, const hansa_receipt *r,
                     const char *what)
{
    cr_assert_eq(code, HANSA_CODE_OK, "%s: %s: %s", what, hansa_code_name(code), err->message);
    cr_assert(r->committed, "%s: not committed", what);
    cr_assert_eq(r->result, HANSA__RESULT_CODE__RESULT_OK);
    cr_assert_gt(r->height, 0u);
}

void sdk_matched_order(struct sdk_net *n, hansa_client *merchant, hansa_client *payment,
                       hansa_client *logistics, const char *order_no, int64_t amount_minor)
{
    struct sdk_trade t;
    sdk_trade_init(n, &t, order_no, amount_minor);
    hansa_receipt r;
    hansa_error err;
    write_ok(hansa_order_create(merchant, &t.order, &r, &err), &err, &r, "order");
    write_ok(hansa_payment_record(payment, &t.payment, &r, &err), &err, &r, "payment");
    write_ok(hansa_waybill_create(logistics, &t.waybill, &r, &err), &err, &r, "waybill");
    Hansa__Order *o = NULL;
    cr_assert_eq(hansa_order_get(merchant, "MER-SZ-0001", order_no, &o, &err), HANSA_CODE_OK, "%s",
                 err.message);
    cr_assert_eq(o->match->status, HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED,
                 "order %s is not matched", order_no);
    hansa_free(o);
}

void sdk_open_line(hansa_client *bank, const char *line_id, int64_t limit_minor)
{
    Hansa__OpenCreditLine l = HANSA__OPEN_CREDIT_LINE__INIT;
    l.line_id = (char *)(uintptr_t)line_id;
    l.borrower = "MER-SZ-0001";
    l.currency = "CNY";
    l.limit_minor = limit_minor;
    l.advance_rate_bps = 8000;
    l.expiry_ms = sdk_now_ms_test() + 86400000u;
    hansa_receipt r;
    hansa_error err;
    write_ok(hansa_credit_open(bank, &l, &r, &err), &err, &r, "credit line");
}

void sdk_financing_doc(Hansa__RequestFinancing *f, Hansa__LineRef *line, Hansa__OrderRef *order,
                       Hansa__OrderRef **orders, const char *financing_id, const char *bank,
                       const char *line_id, const char *order_no, int64_t amount_minor)
{
    hansa__line_ref__init(line);
    line->bank = (char *)(uintptr_t)bank;
    line->line_id = (char *)(uintptr_t)line_id;
    hansa__order_ref__init(order);
    order->merchant = "MER-SZ-0001";
    order->order_no = (char *)(uintptr_t)order_no;
    orders[0] = order;
    hansa__request_financing__init(f);
    f->financing_id = (char *)(uintptr_t)financing_id;
    f->line = line;
    f->n_orders = 1;
    f->orders = orders;
    f->amount_minor = amount_minor;
    f->currency = "CNY";
    f->maturity_ms = sdk_now_ms_test() + 86400000u;
}
