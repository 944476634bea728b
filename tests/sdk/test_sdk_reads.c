/*
 * Signed reads through libhansa against a live hansad (one validator):
 * every read returns its record to a reader the rules allow (lists page
 * with the token text, history, blocks, receipts, exposure, alerts), and a
 * reader they do not allow is DENIED, a missing record NOT_FOUND.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "sdk_fixture.h"

static struct sdk_net n;
static hansa_error er;

static void setup(void)
{
    sdk_net_init(&n, "hansa-sdk-reads", false, NULL);
    sdk_net_start(&n);
}

static void teardown(void)
{
    sdk_net_fini(&n);
}

TestSuite(reads, .init = setup, .fini = teardown, .timeout = 600);

Test(reads, every_read_returns_its_record)
{
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    hansa_client *pay = sdk_client(&n, "PAY-0001");
    hansa_client *log = sdk_client(&n, "LOG-0001");
    hansa_client *bank = sdk_client(&n, "BANK-A");
    hansa_client *reg = sdk_client(&n, "CUS-0001");
    sdk_matched_order(&n, merchant, pay, log, "ORD-R1", 10000);
    sdk_matched_order(&n, merchant, pay, log, "ORD-R2", 20000);
    sdk_open_line(bank, "LR", 300000);
    Hansa__RequestFinancing f;
    Hansa__LineRef line;
    Hansa__OrderRef order, *orders[1];
    sdk_financing_doc(&f, &line, &order, orders, "FR", "BANK-A", "LR", "ORD-R1", 8000);
    hansa_receipt r;
    cr_assert_eq(hansa_finance_request(merchant, &f, &r, &er), HANSA_CODE_OK, "%s", er.message);
    uint8_t request_tx[32];
    memcpy(request_tx, r.tx_id, 32);
    cr_assert_eq(hansa_finance_approve(bank, "MER-SZ-0001", "FR", &r, &er), HANSA_CODE_OK);
    cr_assert_eq(hansa_finance_disburse(bank, "MER-SZ-0001", "FR", &r, &er), HANSA_CODE_OK);

    Hansa__Payment *p = NULL;
    cr_assert_eq(hansa_payment_get(pay, "PAY-0001", "PAY-ORD-R1", &p, &er), HANSA_CODE_OK, "%s",
                 er.message);
    cr_assert_eq(p->document->amount_paid_minor, 10000);
    hansa_free(p);
    Hansa__Waybill *w = NULL;
    cr_assert_eq(hansa_waybill_get(log, "LOG-0001", "WB-ORD-R2", &w, &er), HANSA_CODE_OK, "%s",
                 er.message);
    cr_assert_str_eq(w->document->order->order_no, "ORD-R2");
    hansa_free(w);
    Hansa__CreditLine *l = NULL;
    cr_assert_eq(hansa_credit_get(merchant, "BANK-A", "LR", &l, &er), HANSA_CODE_OK,
                 "the borrower reads its line: %s", er.message);
    cr_assert_eq(l->outstanding_minor, 8000);
    hansa_free(l);
    Hansa__Financing *fi = NULL;
    cr_assert_eq(hansa_finance_get(bank, "MER-SZ-0001", "FR", &fi, &er), HANSA_CODE_OK);
    cr_assert_eq(fi->status, HANSA__FINANCING_STATUS__FINANCING_STATUS_DISBURSED);
    cr_assert_arr_eq(fi->requested_tx_id.data, request_tx, 32);
    hansa_free(fi);
    Hansa__Exposure *x = NULL;
    cr_assert_eq(hansa_exposure_get(bank, "MER-SZ-0001", &x, &er), HANSA_CODE_OK, "%s", er.message);
    cr_assert_eq(x->n_outstanding, 1u);
    cr_assert_str_eq(x->outstanding[0]->currency, "CNY");
    cr_assert_eq(x->outstanding[0]->amount_minor, 8000);
    hansa_free(x);

    /* The merchant's orders, one per page, following the token text. */
    char token[HANSA_PAGE_TOKEN_TEXT_MAX] = "";
    int seen = 0;
    for (int pages = 0; pages < 10; pages++) {
        Hansa__RecordPage *pg = NULL;
        cr_assert_eq(hansa_list(merchant, "MER-SZ-0001", HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER,
                                token, 1, &pg, &er),
                     HANSA_CODE_OK, "%s", er.message);
        cr_assert_leq(pg->n_records, 1u);
        for (size_t i = 0; i < pg->n_records; i++) {
            cr_assert_eq(pg->records[i]->kind_case, HANSA__RECORD__KIND_ORDER);
            seen++;
        }
        cr_assert_eq(hansa_page_token_text(&pg->next_page_token, token, sizeof token, &er),
                     HANSA_CODE_OK);
        hansa_free(pg);
        if (token[0] == '\0')
            break;
    }
    cr_assert_eq(seen, 2, "listed %d orders", seen);
    cr_assert_eq(hansa_list(merchant, "MER-SZ-0001", HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, "xyz",
                            1, &(Hansa__RecordPage *){NULL}, &er),
                 HANSA_CODE_INVALID_ARGUMENT, "a token that is not hex text");

    Hansa__HistoryPage *h = NULL;
    cr_assert_eq(hansa_history(bank, HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING, "MER-SZ-0001", "FR",
                               "", 0, &h, &er),
                 HANSA_CODE_OK, "%s", er.message);
    cr_assert_eq(h->n_entries, 3u, "requested, approved, disbursed: %zu entries", h->n_entries);
    cr_assert_arr_eq(h->entries[0]->tx_id.data, request_tx, 32);
    hansa_free(h);

    Hansa__BlockAnswer *b = NULL;
    cr_assert_eq(hansa_block_get(reg, 0, &b, &er), HANSA_CODE_OK, "%s", er.message);
    cr_assert_not_null(b->block);
    cr_assert(!b->txs_withheld, "regulators read the transactions");
    hansa_free(b);
    hansa_receipt rr;
    cr_assert_eq(hansa_tx_get(merchant, request_tx, 0, &rr, &er), HANSA_CODE_OK, "%s", er.message);
    cr_assert(rr.committed);
    cr_assert_eq(rr.result, HANSA__RESULT_CODE__RESULT_OK);

    Hansa__NodeStatus *st = NULL;
    cr_assert_eq(hansa_status(reg, &st, &er), HANSA_CODE_OK);
    cr_assert_str_eq(st->chain_id, "hansa-sdk-reads");
    cr_assert_str_eq(st->node_id, "node0");
    hansa_free(st);
    Hansa__AlertPage *ap = NULL;
    cr_assert_eq(hansa_alerts_pull(reg, (hansa_cursor){0, 0}, NULL, 10, 0, &ap, &er), HANSA_CODE_OK,
                 "%s", er.message);
    cr_assert_not_null(ap->next_cursor);
    hansa_free(ap);

    hansa_client_close(merchant);
    hansa_client_close(pay);
    hansa_client_close(log);
    hansa_client_close(bank);
    hansa_client_close(reg);
}

Test(reads, a_reader_the_rules_exclude_is_denied_and_a_missing_record_not_found)
{
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    hansa_client *pay = sdk_client(&n, "PAY-0001");
    hansa_client *log = sdk_client(&n, "LOG-0001");
    hansa_client *bank_b = sdk_client(&n, "BANK-B");
    sdk_matched_order(&n, merchant, pay, log, "ORD-D", 10000);

    Hansa__Order *o = NULL;
    cr_assert_eq(hansa_order_get(bank_b, "MER-SZ-0001", "ORD-D", &o, &er), HANSA_CODE_DENIED, "%s",
                 er.message);
    cr_assert_null(o);
    cr_assert_eq(er.code, HANSA_CODE_DENIED);
    cr_assert_eq(er.node_error, HANSA__ERROR_CODE__ERROR_NOT_AUTHORIZED);
    Hansa__Exposure *x = NULL;
    cr_assert_eq(hansa_exposure_get(bank_b, "MER-SZ-0001", &x, &er), HANSA_CODE_DENIED,
                 "a bank without a line to the borrower: %s", er.message);

    cr_assert_eq(hansa_order_get(merchant, "MER-SZ-0001", "ORD-NONE", &o, &er),
                 HANSA_CODE_NOT_FOUND, "%s", er.message);
    cr_assert_eq(er.node_error, HANSA__ERROR_CODE__ERROR_NOT_FOUND);
    Hansa__Financing *f = NULL;
    cr_assert_eq(hansa_finance_get(merchant, "MER-SZ-0001", "F-NONE", &f, &er),
                 HANSA_CODE_NOT_FOUND);
    uint8_t id[32];
    memset(id, 0x5a, sizeof id);
    hansa_receipt r;
    cr_assert_eq(hansa_tx_get(merchant, id, 0, &r, &er), HANSA_CODE_NOT_FOUND, "%s", er.message);
    Hansa__BlockAnswer *b = NULL;
    cr_assert_eq(hansa_block_get(merchant, 1000000, &b, &er), HANSA_CODE_NOT_FOUND, "%s",
                 er.message);

    hansa_client_close(merchant);
    hansa_client_close(pay);
    hansa_client_close(log);
    hansa_client_close(bank_b);
}
