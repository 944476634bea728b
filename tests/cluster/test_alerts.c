/*
 * Risk alerts on a running network (RISK.md): real hansad processes, TLS
 * between validators, the risk thread of each node.
 *
 * The ruleset lists DE as a jurisdiction, so every order of the cluster's
 * stream (EXPORT CN -> DE) raises exactly one JURISDICTION alert: the
 * number of alerts each node must hold is known exactly.
 *   (a) four validators write byte-identical alert logs, including one that
 *       is SIGKILLed twice while its engine works and restarted: nothing
 *       lost, nothing repeated;
 *   (b) a subscriber that is offline while 1,000 alerts are produced (and
 *       while its node restarts) resumes from its cursor and receives each
 *       alert exactly once, in order;
 *   (c) alerts are read by their audience only: the merchant sees its own,
 *       an uninvolved bank none, the regulator all.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "cluster.h"
#include "store.h"

static struct cluster c;

/* Seconds where production uses days: the 3DOC-MISSING timer fires on
 * real processes within the test. */
static const char ruleset[] = "# cluster test: every order to DE is an alert\n"
                              "[ruleset]\nname = cluster-test\n"
                              "[jurisdictions]\nlist = DE\nrevision = test-1\n"
                              "[3DOC-MISSING]\npayment_waybill_ms = 2s\n";

static void write_ruleset(int i)
{
    char path[400];
    snprintf(path, sizeof path, "%s/node%d/ruleset.ini", c.net, i);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(ruleset, 1, sizeof ruleset - 1, f), sizeof ruleset - 1);
    cr_assert_eq(fclose(f), 0);
}

static void setup_n(int n)
{
    cluster_init(&c, n, "hansa-alerts-1");
    for (int i = 0; i < n; i++) {
        write_ruleset(i);
        cluster_config_set(&c, i, "heartbeat_ms", "200");
        cluster_config_set(&c, i, "propose_timeout_ms", "500");
        cluster_config_set(&c, i, "vote_timeout_ms", "300");
    }
}

static void teardown(void)
{
    cluster_fini(&c, false);
}

TestSuite(alerts, .fini = teardown, .timeout = 900);

/* ---- reading alerts through the API ---- */

struct page {
    Hansa__Response *r; /* owns the alerts */
    Hansa__AlertPage *p;
};

static struct page get_alerts(struct tc *t, const char *reader, const struct wire_keypair *kp,
                              uint64_t after_h, uint32_t after_o, uint32_t limit, uint32_t wait_ms)
{
    Hansa__Cursor after = HANSA__CURSOR__INIT;
    after.height = after_h;
    after.ordinal = after_o;
    Hansa__GetAlerts g = HANSA__GET_ALERTS__INIT;
    g.after = &after;
    g.limit = limit;
    g.wait_ms = wait_ms;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_ALERTS;
    q.alerts = &g;
    struct page pg = {0};
    hansa_err rv = tc_query(t, c.chain, reader, kp, &q, &pg.r);
    if (rv != HANSA_OK)
        return pg; /* the node is down or restarting: callers retry */
    cr_assert_eq(pg.r->error, HANSA__ERROR_CODE__ERROR_NONE, "GetAlerts: %s", pg.r->error_message);
    cr_assert_eq(pg.r->kind_case, HANSA__RESPONSE__KIND_ALERTS);
    pg.p = pg.r->alerts;
    return pg;
}

/* Wait until node i's engine has processed its chain's head and the head
 * is at least height. */
static bool wait_processed(int i, uint64_t height, uint32_t timeout_ms)
{
    uint64_t end = tc_now_ms() + timeout_ms;
    while (tc_now_ms() < end) {
        uint64_t h = cluster_height(&c, i);
        if (h >= height) {
            struct tc *t = cluster_client(&c, i, 5000);
            struct page pg = get_alerts(t, "CUS-0001", &c.regulator, 0, 0, 1, 0);
            bool done = pg.p != NULL && pg.p->processed_height >= h;
            wire_free(pg.r);
            tc_close(t);
            if (done)
                return true;
        }
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling interval of a condition wait */
    }
    return false;
}

struct log_acc {
    uint8_t *buf;
    size_t len, cap, n;
};

static void acc_add(struct log_acc *a, const uint8_t *p, size_t n)
{
    if (a->len + n + 8 > a->cap) {
        a->cap = 2 * (a->len + n + 8) + 4096;
        a->buf = realloc(a->buf, a->cap);
        cr_assert_not_null(a->buf);
    }
    uint64_t len = n;
    memcpy(a->buf + a->len, &len, 8);
    memcpy(a->buf + a->len + 8, p, n);
    a->len += 8 + n;
}

static bool log_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                      size_t val_len)
{
    struct log_acc *a = arg;
    acc_add(a, key, key_len);
    acc_add(a, val, val_len);
    a->n++;
    return true;
}

/* Node i's alert log (stopped node, read from its store), concatenated as
 * len||key||len||value; the number of alerts in *n_alerts. */
static size_t read_log(int i, uint8_t **out, size_t *n_alerts)
{
    char data[400], why[256];
    snprintf(data, sizeof data, "%s/node%d/data", c.net, i);
    struct store *s = NULL;
    cr_assert_eq(store_open_readonly(data, &s, why, sizeof why), HANSA_OK, "%s", why);
    struct log_acc acc = {0};
    cr_assert_eq(store_scan(s, STORE_ALERTS, (const uint8_t *)"a/", 2, NULL, 0, log_visit, &acc),
                 HANSA_OK);
    store_close(s);
    *out = acc.buf;
    *n_alerts = acc.n;
    return acc.len;
}

/* Submit k orders to node i (retrying on another node while i is down). */
static size_t submit_orders(int i, size_t k)
{
    size_t done = 0;
    while (done < k) {
        size_t batch = k - done < 25 ? k - done : 25;
        size_t got = cluster_submit(&c, i, batch, 30000);
        cr_assert_gt(got, 0, "node%d committed none of %zu orders", i, batch);
        done += got;
    }
    return done;
}

/* Wait until node i's chain reaches height; SIGKILL it at once, and tell
 * whether its engine was still behind the chain at that moment. */
static bool kill_while_engine_behind(int i, uint64_t height, uint32_t timeout_ms)
{
    uint64_t end = tc_now_ms() + timeout_ms;
    struct tc *t = cluster_client(&c, i, 2000);
    bool behind = false;
    while (tc_now_ms() < end) {
        struct page pg = get_alerts(t, "CUS-0001", &c.regulator, 0, 0, 1, 0);
        uint64_t h = cluster_height(&c, i);
        if (pg.p != NULL && h >= height) {
            behind = pg.p->processed_height < h;
            wire_free(pg.r);
            break;
        }
        wire_free(pg.r);
    }
    tc_close(t);
    cluster_kill(&c, i);
    return behind;
}

Test(alerts, four_validators_write_identical_alert_logs_across_kills_of_one)
{
    setup_n(4);
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 60000));
    size_t orders = submit_orders(0, 60);
    cr_assert_gt(orders, 0);
    cluster_kill(&c, 2); /* its engine may be mid-block */
    orders += submit_orders(1, 200);
    /* node2 returns 200 alerts behind; kill it again once its chain has
     * caught up but its engine has not (when the race allows). */
    cluster_start(&c, 2);
    uint64_t top = cluster_height(&c, 1);
    bool mid = kill_while_engine_behind(2, top, 60000);
    fprintf(stderr, "node2 killed %s its engine's backlog\n", mid ? "inside" : "after");
    cluster_start(&c, 2);
    orders += submit_orders(3, 40);
    top = cluster_height(&c, cluster_leader(&c));
    for (int i = 0; i < 4; i++)
        cr_assert(wait_processed(i, top, 300000), "node%d's engine did not reach %llu", i,
                  (unsigned long long)top);
    cluster_check_agreement(&c); /* stops every node */
    uint8_t *ref = NULL;
    size_t n_ref = 0, len_ref = read_log(0, &ref, &n_ref);
    cr_assert_eq(n_ref, orders, "node0 holds %zu alerts for %zu orders", n_ref, orders);
    for (int i = 1; i < 4; i++) {
        uint8_t *log = NULL;
        size_t n = 0, len = read_log(i, &log, &n);
        cr_assert_eq(n, n_ref, "node%d holds %zu alerts, node0 %zu", i, n, n_ref);
        cr_assert_eq(len, len_ref);
        cr_assert_arr_eq(log, ref, len, "node%d's alert log differs from node0's", i);
        free(log);
    }
    free(ref);
}

Test(alerts, an_offline_subscriber_resumes_from_its_cursor_and_gets_each_alert_once)
{
    setup_n(1);
    cluster_start(&c, 0);
    cr_assert(cluster_wait_ready(&c, 0, 60000));
    submit_orders(0, 5);
    cr_assert(wait_processed(0, cluster_height(&c, 0), 60000));
    /* Caught up: the subscriber's cursor is the head. */
    struct tc *t = cluster_client(&c, 0, 10000);
    struct page pg = get_alerts(t, "CUS-0001", &c.regulator, 0, 0, 1000, 0);
    cr_assert_not_null(pg.p);
    cr_assert_eq(pg.p->n_alerts, 5);
    uint64_t cur_h = pg.p->next_cursor->height;
    uint32_t cur_o = pg.p->next_cursor->ordinal;
    wire_free(pg.r);
    tc_close(t);

    /* Offline: 1,000 alerts, and the node restarts meanwhile. */
    submit_orders(0, 500);
    cluster_stop(&c, 0);
    cluster_start(&c, 0);
    cr_assert(cluster_wait_ready(&c, 0, 60000));
    submit_orders(0, 500);
    cr_assert(wait_processed(0, cluster_height(&c, 0), 120000));

    /* Back: pull from the saved cursor in pages of 100. */
    size_t got = 0;
    uint8_t(*ids)[32] = calloc(1000, 32);
    cr_assert_not_null(ids);
    t = cluster_client(&c, 0, 10000);
    for (int rounds = 0; got < 1000 && rounds < 100; rounds++) {
        pg = get_alerts(t, "CUS-0001", &c.regulator, cur_h, cur_o, 100, 0);
        cr_assert_not_null(pg.p);
        for (size_t k = 0; k < pg.p->n_alerts; k++) {
            const Hansa__Alert *a = pg.p->alerts[k];
            bool later = a->cursor->height > cur_h ||
                         (a->cursor->height == cur_h && a->cursor->ordinal > cur_o);
            cr_assert(later, "alert out of order");
            cr_assert_lt(got, 1000, "more than 1,000 alerts");
            for (size_t j = 0; j < got; j++)
                cr_assert_arr_neq(ids[j], a->alert_id.data, 32, "alert delivered twice");
            memcpy(ids[got++], a->alert_id.data, 32);
            cur_h = a->cursor->height;
            cur_o = a->cursor->ordinal;
            cr_assert_str_eq(a->rule_id, "JURISDICTION");
        }
        cur_h = pg.p->next_cursor->height;
        cur_o = pg.p->next_cursor->ordinal;
        wire_free(pg.r);
    }
    cr_assert_eq(got, 1000, "received %zu of 1,000 alerts", got);
    /* Nothing more: a long-poll of 300 ms returns an empty page. */
    pg = get_alerts(t, "CUS-0001", &c.regulator, cur_h, cur_o, 100, 300);
    cr_assert_eq(pg.p->n_alerts, 0);
    wire_free(pg.r);
    tc_close(t);
    free(ids);
}

Test(alerts, alerts_are_read_by_their_audience_only)
{
    setup_n(1);
    cluster_start(&c, 0);
    cr_assert(cluster_wait_ready(&c, 0, 60000));
    submit_orders(0, 3);
    cr_assert(wait_processed(0, cluster_height(&c, 0), 60000));
    struct tc *t = cluster_client(&c, 0, 10000);
    struct page pg = get_alerts(t, "CUS-0001", &c.regulator, 0, 0, 100, 0);
    cr_assert_eq(pg.p->n_alerts, 3, "the regulator sees all");
    wire_free(pg.r);
    pg = get_alerts(t, "MER-SZ-0001", &c.merchant, 0, 0, 100, 0);
    cr_assert_eq(pg.p->n_alerts, 3, "the merchant sees alerts about its orders");
    for (size_t k = 0; k < pg.p->n_alerts; k++) {
        bool listed = false;
        for (size_t j = 0; j < pg.p->alerts[k]->n_audience; j++)
            listed |= strcmp(pg.p->alerts[k]->audience[j], "MER-SZ-0001") == 0;
        cr_assert(listed);
    }
    wire_free(pg.r);
    struct wire_keypair bank;
    cluster_load_key(&c, "BANK-B", &bank);
    pg = get_alerts(t, "BANK-B", &bank, 0, 0, 100, 0);
    cr_assert_eq(pg.p->n_alerts, 0, "an uninvolved bank sees nothing");
    wire_free(pg.r);
    tc_close(t);
}

/* Submit tx bytes through node i and wait for the commit (OK expected). */
static void submit_committed(int i, const char *reader, const struct wire_keypair *kp,
                             uint8_t *bytes, size_t len, const uint8_t id[32])
{
    struct tc *t = cluster_client(&c, i, 20000);
    Hansa__Response *r = NULL;
    cr_assert_eq(tc_submit(t, bytes, len, &r), HANSA_OK);
    cr_assert(r->kind_case == HANSA__RESPONSE__KIND_SUBMIT &&
                  r->submit->result == HANSA__RESULT_CODE__RESULT_OK,
              "refused: %s",
              r->kind_case == HANSA__RESPONSE__KIND_SUBMIT ? r->submit->message : "");
    wire_free(r);
    Hansa__GetReceipt g = HANSA__GET_RECEIPT__INIT;
    g.tx_id = (ProtobufCBinaryData){32, (uint8_t *)id};
    g.wait_ms = 15000;
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_RECEIPT;
    q.receipt = &g;
    cr_assert_eq(tc_query(t, c.chain, reader, kp, &q, &r), HANSA_OK);
    cr_assert(r->kind_case == HANSA__RESPONSE__KIND_RECEIPT &&
                  r->receipt->status == HANSA__TX_STATUS__TX_STATUS_COMMITTED &&
                  r->receipt->receipt->result == HANSA__RESULT_CODE__RESULT_OK,
              "not committed OK");
    wire_free(r);
    tc_close(t);
    free(bytes);
}

Test(alerts, a_timer_rule_fires_on_every_validator_once_block_time_passes_its_deadline)
{
    setup_n(4);
    for (int i = 0; i < 4; i++)
        cluster_start(&c, i);
    cr_assert(cluster_wait_ready(&c, -1, 60000));
    uint8_t *bytes = NULL, id[32];
    size_t len = 0;
    uint64_t now = tc_now_ms();
    cr_assert_eq(
        tc_order_tx(c.chain, "MER-SZ-0001", &c.merchant, "SO-TIMER", 5000, now, &bytes, &len, id),
        HANSA_OK);
    submit_committed(0, "MER-SZ-0001", &c.merchant, bytes, len, id);

    /* Paid, and no waybill follows. */
    struct wire_keypair pay;
    cluster_load_key(&c, "PAY-0001", &pay);
    Hansa__OrderRef ref = HANSA__ORDER_REF__INIT;
    ref.merchant = "MER-SZ-0001";
    ref.order_no = "SO-TIMER";
    uint8_t payer[32] = {3}; /* the buyer commitment of tc_order_tx */
    Hansa__RecordPayment p = HANSA__RECORD_PAYMENT__INIT;
    p.pay_transaction_id = "PAY-TIMER";
    p.order = &ref;
    p.payer_commitment = (ProtobufCBinaryData){32, payer};
    p.amount_paid_minor = 5000;
    p.currency = "CNY";
    p.pay_time_ms = now;
    Hansa__TxBody b = HANSA__TX_BODY__INIT;
    b.chain_id = c.chain;
    b.signer = "PAY-0001";
    b.created_ms = tc_now_ms();
    b.action_case = HANSA__TX_BODY__ACTION_RECORD_PAYMENT;
    b.record_payment = &p;
    cr_assert_eq(wire_tx_build(&b, &pay, &bytes, &len, id), HANSA_OK);
    submit_committed(1, "PAY-0001", &pay, bytes, len, id);

    /* Heartbeat blocks carry block time past the 2 s deadline; every
     * validator's engine fires the timer in the same block. */
    uint8_t first_id[32] = {0};
    uint64_t first_h = 0;
    for (int i = 0; i < 4; i++) {
        uint64_t end = tc_now_ms() + 60000;
        bool found = false;
        struct tc *t = cluster_client(&c, i, 10000);
        while (!found && tc_now_ms() < end) {
            const char *rules[] = {"3DOC-MISSING"};
            Hansa__Cursor after = HANSA__CURSOR__INIT;
            Hansa__GetAlerts g = HANSA__GET_ALERTS__INIT;
            g.after = &after;
            g.rule_ids = (char **)rules;
            g.n_rule_ids = 1;
            g.wait_ms = 1000;
            Hansa__Query q = HANSA__QUERY__INIT;
            q.kind_case = HANSA__QUERY__KIND_ALERTS;
            q.alerts = &g;
            Hansa__Response *r = NULL;
            if (tc_query(t, c.chain, "CUS-0001", &c.regulator, &q, &r) == HANSA_OK &&
                r->kind_case == HANSA__RESPONSE__KIND_ALERTS && r->alerts->n_alerts > 0) {
                const Hansa__Alert *a = r->alerts->alerts[0];
                cr_assert_eq(r->alerts->n_alerts, 1, "node%d: one incident, one alert", i);
                cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_MEDIUM);
                if (i == 0) {
                    memcpy(first_id, a->alert_id.data, 32);
                    first_h = a->cursor->height;
                } else {
                    cr_assert_arr_eq(a->alert_id.data, first_id, 32, "node%d's alert differs", i);
                    cr_assert_eq(a->cursor->height, first_h, "node%d fired at another block", i);
                }
                found = true;
            }
            wire_free(r);
        }
        tc_close(t);
        cr_assert(found, "node%d raised no 3DOC-MISSING alert", i);
    }
}
