/*
 * Writes through libhansa against a live hansad (one validator):
 *   - every role-oriented write commits with RESULT_OK, along a trade and
 *     credit timeline (order, payment, waybill, shipment event, credit line
 *     limit / suspend / resume / close, financing request / approve /
 *     disburse / repay / reject / default, order cancel), and a generic
 *     submit that returns once admitted, whose receipt hansa_tx_get waits
 *     for;
 *   - a signer without the role is REFUSED with NOT_AUTHORIZED;
 *   - a second financing of one order at another bank commits as a
 *     business rejection: REJECTED with ASSET_ALREADY_PLEDGED;
 *   - a TLS client with the consortium CA writes and reads, one expecting
 *     another server name cannot connect;
 *   - a node that is gone (killed) is CONNECT at the request's timeout,
 *     and the same client works again once it is back.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sdk_fixture.h"

#define RES(x) HANSA__RESULT_CODE__RESULT_##x

static struct sdk_net n;
static hansa_receipt rc;
static hansa_error er;

static void setup(void)
{
    sdk_net_init(&n, "hansa-sdk-writes", false, NULL);
    sdk_net_start(&n);
}

static void teardown(void)
{
    sdk_net_fini(&n);
}

TestSuite(writes, .init = setup, .fini = teardown, .timeout = 600);

/* A write that must commit with RESULT_OK; uses rc and er. */
#define COMMITS(expr)                                                                              \
    do {                                                                                           \
        memset(&rc, 0, sizeof rc);                                                                 \
        hansa_code code_ = (expr);                                                                 \
        cr_assert_eq(code_, HANSA_CODE_OK, "%s: %s: %s", #expr, hansa_code_name(code_),            \
                     er.message);                                                                  \
        cr_assert(rc.committed, "%s: not committed", #expr);                                       \
        cr_assert_eq(rc.result, RES(OK));                                                          \
        cr_assert_gt(rc.height, 0u);                                                               \
        cr_assert_gt(rc.block_time_ms, 0u);                                                        \
    } while (0)

static Hansa__Financing *financing(hansa_client *c, const char *id)
{
    Hansa__Financing *f = NULL;
    cr_assert_eq(hansa_finance_get(c, "MER-SZ-0001", id, &f, &er), HANSA_CODE_OK, "%s", er.message);
    return f;
}

static Hansa__FinancingStatus financing_status(hansa_client *c, const char *id)
{
    Hansa__Financing *f = financing(c, id);
    Hansa__FinancingStatus s = f->status;
    hansa_free(f);
    return s;
}

static Hansa__CreditLineStatus line_status(hansa_client *bank, const char *line_id)
{
    Hansa__CreditLine *l = NULL;
    cr_assert_eq(hansa_credit_get(bank, hansa_client_party(bank), line_id, &l, &er), HANSA_CODE_OK,
                 "%s", er.message);
    Hansa__CreditLineStatus s = l->status;
    hansa_free(l);
    return s;
}

static void request_financing(hansa_client *merchant, const char *id, const char *bank,
                              const char *line_id, const char *order_no, int64_t amount_minor,
                              uint64_t maturity_ms)
{
    Hansa__RequestFinancing f;
    Hansa__LineRef line;
    Hansa__OrderRef order, *orders[1];
    sdk_financing_doc(&f, &line, &order, orders, id, bank, line_id, order_no, amount_minor);
    if (maturity_ms != 0)
        f.maturity_ms = maturity_ms;
    COMMITS(hansa_finance_request(merchant, &f, &rc, &er));
}

/* Wait (polling the record) until the financing is OVERDUE. */
static void wait_overdue(hansa_client *c, const char *id)
{
    uint64_t end = sdk_now_ms_test() + 60000;
    while (financing_status(c, id) != HANSA__FINANCING_STATUS__FINANCING_STATUS_OVERDUE) {
        cr_assert_lt(sdk_now_ms_test(), end, "%s never became OVERDUE", id);
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling interval of a condition wait */
    }
}

Test(writes, every_role_write_commits_ok)
{
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    hansa_client *pay = sdk_client(&n, "PAY-0001");
    hansa_client *log = sdk_client(&n, "LOG-0001");
    hansa_client *bank = sdk_client(&n, "BANK-A");

    /* Trade documents (order, payment, waybill) and a shipment event. */
    sdk_matched_order(&n, merchant, pay, log, "ORD-1", 100000);
    cr_assert_str_eq(hansa_client_chain(merchant), "hansa-sdk-writes");
    COMMITS(hansa_waybill_event(log, "WB-ORD-1",
                                HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED, "CNSZX",
                                sdk_now_ms_test(), &rc, &er));
    Hansa__Order *o = NULL;
    cr_assert_eq(hansa_order_get(merchant, "MER-SZ-0001", "ORD-1", &o, &er), HANSA_CODE_OK);
    cr_assert_eq(o->status, HANSA__ORDER_STATUS__ORDER_STATUS_SHIPPED);
    hansa_free(o);

    /* A credit line: open, change the limit, suspend, resume. */
    sdk_open_line(bank, "L1", 500000);
    COMMITS(hansa_credit_limit(bank, "L1", 800000, &rc, &er));
    Hansa__CreditLine *l = NULL;
    cr_assert_eq(hansa_credit_get(bank, "BANK-A", "L1", &l, &er), HANSA_CODE_OK);
    cr_assert_eq(l->limit_minor, 800000);
    hansa_free(l);
    COMMITS(hansa_credit_suspend(bank, "L1", &rc, &er));
    cr_assert_eq(line_status(bank, "L1"), HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_SUSPENDED);
    COMMITS(hansa_credit_resume(bank, "L1", &rc, &er));
    cr_assert_eq(line_status(bank, "L1"), HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_ACTIVE);

    /* Financing: request, approve, disburse, repay in two parts. */
    request_financing(merchant, "F1", "BANK-A", "L1", "ORD-1", 80000, 0);
    COMMITS(hansa_finance_approve(bank, "MER-SZ-0001", "F1", &rc, &er));
    COMMITS(hansa_finance_disburse(bank, "MER-SZ-0001", "F1", &rc, &er));
    COMMITS(hansa_finance_repay(bank, "MER-SZ-0001", "F1", 30000, &rc, &er));
    COMMITS(hansa_finance_repay(bank, "MER-SZ-0001", "F1", 50000, &rc, &er));
    cr_assert_eq(financing_status(bank, "F1"), HANSA__FINANCING_STATUS__FINANCING_STATUS_SETTLED);

    /* A rejected request. */
    sdk_matched_order(&n, merchant, pay, log, "ORD-2", 50000);
    request_financing(merchant, "F2", "BANK-A", "L1", "ORD-2", 40000, 0);
    COMMITS(hansa_finance_reject(bank, "MER-SZ-0001", "F2", &rc, &er));
    cr_assert_eq(financing_status(bank, "F2"), HANSA__FINANCING_STATUS__FINANCING_STATUS_REJECTED);

    /* A default: maturity already past, so the first block after the
     * disbursal makes it OVERDUE. */
    sdk_matched_order(&n, merchant, pay, log, "ORD-3", 50000);
    request_financing(merchant, "F3", "BANK-A", "L1", "ORD-3", 40000, sdk_now_ms_test());
    COMMITS(hansa_finance_approve(bank, "MER-SZ-0001", "F3", &rc, &er));
    COMMITS(hansa_finance_disburse(bank, "MER-SZ-0001", "F3", &rc, &er));
    wait_overdue(bank, "F3");
    COMMITS(hansa_finance_default(bank, "MER-SZ-0001", "F3", &rc, &er));
    cr_assert_eq(financing_status(bank, "F3"), HANSA__FINANCING_STATUS__FINANCING_STATUS_DEFAULTED);

    /* A line with nothing outstanding closes. */
    sdk_open_line(bank, "L2", 100000);
    COMMITS(hansa_credit_close(bank, "L2", &rc, &er));
    cr_assert_eq(line_status(bank, "L2"), HANSA__CREDIT_LINE_STATUS__CREDIT_LINE_STATUS_CLOSED);

    /* An order created and cancelled. */
    struct sdk_trade t;
    sdk_trade_init(&n, &t, "ORD-4", 1234);
    COMMITS(hansa_order_create(merchant, &t.order, &rc, &er));
    COMMITS(hansa_order_cancel(merchant, "MER-SZ-0001", "ORD-4", &rc, &er));
    cr_assert_eq(hansa_order_get(merchant, "MER-SZ-0001", "ORD-4", &o, &er), HANSA_CODE_OK);
    cr_assert_eq(o->status, HANSA__ORDER_STATUS__ORDER_STATUS_CANCELLED);
    hansa_free(o);

    /* Generic submit returning once admitted; the receipt follows. */
    sdk_trade_init(&n, &t, "ORD-5", 777);
    hansa_submit_options no_wait = {.no_wait = true};
    cr_assert_eq(
        hansa_submit(merchant, HANSA__TX_BODY__ACTION_CREATE_ORDER, &t.order, &no_wait, &rc, &er),
        HANSA_CODE_OK, "%s", er.message);
    cr_assert(!rc.committed);
    uint8_t id[32];
    memcpy(id, rc.tx_id, 32);
    hansa_receipt later;
    cr_assert_eq(hansa_tx_get(merchant, id, 30000, &later, &er), HANSA_CODE_OK, "%s", er.message);
    cr_assert(later.committed);
    cr_assert_eq(later.result, RES(OK));
    cr_assert_arr_eq(later.tx_id, id, 32);

    hansa_client_close(merchant);
    hansa_client_close(pay);
    hansa_client_close(log);
    hansa_client_close(bank);
}

Test(writes, a_signer_without_the_role_is_refused_at_admission)
{
    hansa_client *pay = sdk_client(&n, "PAY-0001");
    struct sdk_trade t;
    sdk_trade_init(&n, &t, "ORD-X", 1000);
    memset(&rc, 0, sizeof rc);
    hansa_code code = hansa_order_create(pay, &t.order, &rc, &er);
    cr_assert_eq(code, HANSA_CODE_REFUSED, "%s: %s", hansa_code_name(code), er.message);
    cr_assert_eq(er.code, HANSA_CODE_REFUSED);
    cr_assert_eq(er.result, RES(NOT_AUTHORIZED), "result %s", hansa_result_name(er.result));
    cr_assert_not_null(strstr(er.message, "NOT_AUTHORIZED"), "%s", er.message);
    cr_assert(!rc.committed);
    /* Never in a block: the node knows nothing of it. */
    hansa_receipt r;
    cr_assert_eq(hansa_tx_get(pay, rc.tx_id, 0, &r, &er), HANSA_CODE_NOT_FOUND, "%s", er.message);
    hansa_client_close(pay);
}

Test(writes, a_second_financing_of_an_order_at_another_bank_is_rejected_in_a_block)
{
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    hansa_client *pay = sdk_client(&n, "PAY-0001");
    hansa_client *log = sdk_client(&n, "LOG-0001");
    hansa_client *bank_a = sdk_client(&n, "BANK-A");
    hansa_client *bank_b = sdk_client(&n, "BANK-B");
    sdk_matched_order(&n, merchant, pay, log, "ORD-P", 100000);
    sdk_open_line(bank_a, "LA", 500000);
    sdk_open_line(bank_b, "LB", 500000);
    request_financing(merchant, "FA", "BANK-A", "LA", "ORD-P", 80000, 0);
    COMMITS(hansa_finance_approve(bank_a, "MER-SZ-0001", "FA", &rc, &er));

    Hansa__RequestFinancing f;
    Hansa__LineRef line;
    Hansa__OrderRef order, *orders[1];
    sdk_financing_doc(&f, &line, &order, orders, "FB", "BANK-B", "LB", "ORD-P", 80000);
    memset(&rc, 0, sizeof rc);
    hansa_code code = hansa_finance_request(merchant, &f, &rc, &er);
    cr_assert_eq(code, HANSA_CODE_REJECTED, "%s: %s", hansa_code_name(code), er.message);
    cr_assert_eq(er.result, RES(ASSET_ALREADY_PLEDGED), "result %s", hansa_result_name(er.result));
    cr_assert(rc.committed, "a business rejection is in a block");
    cr_assert_gt(rc.height, 0u);
    cr_assert_eq(rc.result, RES(ASSET_ALREADY_PLEDGED));
    cr_assert_neq(rc.message[0], '\0', "the ledger says why");
    /* It changed nothing: FB does not exist, the order is still FA's. */
    Hansa__Financing *fb = NULL;
    cr_assert_eq(hansa_finance_get(merchant, "MER-SZ-0001", "FB", &fb, &er), HANSA_CODE_NOT_FOUND);
    Hansa__Order *o = NULL;
    cr_assert_eq(hansa_order_get(merchant, "MER-SZ-0001", "ORD-P", &o, &er), HANSA_CODE_OK);
    cr_assert_not_null(o->pledged_by);
    cr_assert_str_eq(o->pledged_by->financing_id, "FA");
    hansa_free(o);
    /* And its receipt reads back the same verdict. */
    hansa_receipt again;
    cr_assert_eq(hansa_tx_get(merchant, rc.tx_id, 0, &again, &er), HANSA_CODE_OK);
    cr_assert(again.committed);
    cr_assert_eq(again.result, RES(ASSET_ALREADY_PLEDGED));
    cr_assert_eq(again.height, rc.height);
    hansa_client_close(merchant);
    hansa_client_close(pay);
    hansa_client_close(log);
    hansa_client_close(bank_a);
    hansa_client_close(bank_b);
}

Test(writes, a_tls_client_with_the_consortium_ca_writes_and_reads)
{
    hansa_client *merchant = sdk_client_tls(&n, "MER-SZ-0001", "node0");
    struct sdk_trade t;
    sdk_trade_init(&n, &t, "ORD-TLS", 4200);
    COMMITS(hansa_order_create(merchant, &t.order, &rc, &er));
    Hansa__Order *o = NULL;
    cr_assert_eq(hansa_order_get(merchant, "MER-SZ-0001", "ORD-TLS", &o, &er), HANSA_CODE_OK, "%s",
                 er.message);
    cr_assert_eq(o->document->actual_paid_minor, 4200);
    hansa_free(o);
    hansa_client_close(merchant);

    hansa_client *wrong = sdk_client_tls(&n, "MER-SZ-0001", "node7");
    Hansa__NodeStatus *st = NULL;
    cr_assert_eq(hansa_status(wrong, &st, &er), HANSA_CODE_CONNECT, "%s", er.message);
    cr_assert_not_null(strstr(er.message, "TLS"), "%s", er.message);
    hansa_client_close(wrong);
}

Test(writes, a_node_that_is_gone_is_connect_and_the_client_recovers_when_it_returns)
{
    char key[400];
    snprintf(key, sizeof key, "%s/parties/MER-SZ-0001.key", n.c.net);
    hansa_client_options opt = {.url = n.tcp_url, .key_path = key, .timeout_ms = 1500};
    hansa_client *c = NULL;
    cr_assert_eq(hansa_client_open(&opt, &c, &er), HANSA_CODE_OK);
    Hansa__NodeStatus *st = NULL;
    cr_assert_eq(hansa_status(c, &st, &er), HANSA_CODE_OK, "%s", er.message);
    hansa_free(st);
    cluster_kill(&n.c, 0); /* a crash: clean stops are the cluster tier's to test */
    cr_assert_eq(hansa_status(c, &st, &er), HANSA_CODE_CONNECT, "%s", er.message);
    cr_assert_null(st);
    cluster_start(&n.c, 0);
    cr_assert(cluster_wait_ready(&n.c, 0, 60000));
    uint64_t end = sdk_now_ms_test() + 30000;
    hansa_code code;
    while ((code = hansa_status(c, &st, &er)) != HANSA_CODE_OK)
        cr_assert_lt(sdk_now_ms_test(), end, "the client never reconnected: %s", er.message);
    cr_assert_str_eq(st->chain_id, "hansa-sdk-writes");
    hansa_free(st);
    hansa_client_close(c);
}
