/*
 * The durable alert subscription (hansa_subscribe) against a live hansad
 * whose ruleset lists DE, so every order to DE raises exactly one
 * JURISDICTION alert:
 *   - a subscriber stops; alerts are produced; the node crashes and
 *     restarts; more alerts; the subscriber restarts from its cursor file
 *     and receives each alert it missed exactly once, in order, and then
 *     new ones;
 *   - a running subscriber reports the node lost and back (on_state) and
 *     misses nothing produced after the restart;
 *   - without live events it long-polls, and filters apply: a subscriber
 *     of critical alerts gets none of these (HIGH) yet moves its cursor
 *     file past the alerts it skipped;
 *   - a cursor older than retention is reported as CURSOR_EXPIRED (by
 *     hansa_alerts_pull with its page, and by on_state) and the
 *     subscription resumes at the earliest retained alert.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <criterion/criterion.h>

#include "sdk_fixture.h"

#define SEEN_MAX 64

static struct sdk_net n;
static char dir[64];

struct seen {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    size_t n;
    uint8_t ids[SEEN_MAX][32];
    hansa_cursor cursors[SEEN_MAX];
    char order_nos[SEEN_MAX][32];
    bool foreign_rule; /* an alert of another rule than JURISDICTION */
    int states[HANSA_CODE_CLOSED + 1];
};

static void seen_init(struct seen *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cond, NULL);
}

/* SDK thread: record, never assert. */
static bool on_alert(void *arg, const Hansa__Alert *a)
{
    struct seen *s = arg;
    pthread_mutex_lock(&s->mu);
    if (s->n < SEEN_MAX) {
        if (a->alert_id.len == 32)
            memcpy(s->ids[s->n], a->alert_id.data, 32);
        s->cursors[s->n] =
            (hansa_cursor){a->cursor ? a->cursor->height : 0, a->cursor ? a->cursor->ordinal : 0};
        for (size_t i = 0; i < a->n_subjects; i++)
            if (a->subjects[i]->type == HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER)
                snprintf(s->order_nos[s->n], sizeof s->order_nos[s->n], "%s", a->subjects[i]->id);
        s->foreign_rule |= strcmp(a->rule_id, "JURISDICTION") != 0;
    }
    s->n++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
    return true;
}

static void on_state(void *arg, hansa_code code, const char *message)
{
    (void)message;
    struct seen *s = arg;
    pthread_mutex_lock(&s->mu);
    if (code >= 0 && code <= HANSA_CODE_CLOSED)
        s->states[code]++;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->mu);
}

/* Wait until cond(s) holds (checked under the lock) or timeout_ms passes. */
static bool wait_for(struct seen *s, bool (*cond)(struct seen *, size_t), size_t arg,
                     uint32_t timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    pthread_mutex_lock(&s->mu);
    int rv = 0;
    while (!cond(s, arg) && rv == 0)
        rv = pthread_cond_timedwait(&s->cond, &s->mu, &ts);
    bool ok = cond(s, arg);
    pthread_mutex_unlock(&s->mu);
    return ok;
}

static bool has_alerts(struct seen *s, size_t count)
{
    return s->n >= count;
}

static bool has_state(struct seen *s, size_t code)
{
    return s->states[code] > 0;
}

static bool has_lost(struct seen *s, size_t unused)
{
    (void)unused;
    return s->states[HANSA_CODE_CONNECT] + s->states[HANSA_CODE_TIMEOUT] > 0;
}

static void setup_net(const char *const *config)
{
    sdk_net_init(&n, "hansa-sdk-alerts", true, config);
    sdk_net_start(&n);
    strcpy(dir, "/tmp/hansa-sdk-sub-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
}

static void setup(void)
{
    setup_net(NULL);
}

static void teardown(void)
{
    sdk_net_fini(&n);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (dir[0] != '\0' && system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(subscribe, .fini = teardown, .timeout = 600);

/* k orders to DE by the merchant: k alerts. */
static void orders(hansa_client *merchant, const char *prefix, int k)
{
    for (int i = 0; i < k; i++) {
        char no[32];
        snprintf(no, sizeof no, "%s-%d", prefix, i + 1);
        struct sdk_trade t;
        sdk_trade_init(&n, &t, no, 500 + i);
        hansa_receipt r;
        hansa_error err;
        hansa_code code = hansa_order_create(merchant, &t.order, &r, &err);
        cr_assert_eq(code, HANSA_CODE_OK, "order %s: %s: %s", no, hansa_code_name(code),
                     err.message);
    }
}

static hansa_subscription *subscribe(hansa_client *reg, struct seen *s, const char *cursor_path,
                                     bool events, const hansa_alert_filter *filter)
{
    hansa_subscription_options o = {.events_url = events ? n.events_url : NULL,
                                    .cursor_path = cursor_path,
                                    .poll_ms = 500,
                                    .on_alert = on_alert,
                                    .on_state = on_state,
                                    .arg = s};
    if (filter != NULL)
        o.filter = *filter;
    hansa_subscription *sub = NULL;
    hansa_error err;
    cr_assert_eq(hansa_subscribe(reg, &o, &sub, &err), HANSA_CODE_OK, "%s", err.message);
    return sub;
}

static int cursor_cmp(hansa_cursor a, hansa_cursor b)
{
    if (a.height != b.height)
        return a.height < b.height ? -1 : 1;
    return (a.ordinal > b.ordinal) - (a.ordinal < b.ordinal);
}

/* The cursor in a cursor file. */
static hansa_cursor file_cursor(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no cursor file %s", path);
    char text[512];
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    unsigned long long h = 0;
    unsigned o = 0;
    const char *hp = strstr(text, "\"height\": "), *op = strstr(text, "\"ordinal\": ");
    cr_assert(hp && op && sscanf(hp, "\"height\": %llu", &h) == 1 &&
                  sscanf(op, "\"ordinal\": %u", &o) == 1,
              "cursor file: %s", text);
    return (hansa_cursor){h, o};
}

Test(subscribe, a_restarted_subscriber_resumes_from_its_cursor_file_each_alert_once_in_order,
     .init = setup)
{
    hansa_client *reg = sdk_client(&n, "CUS-0001");
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    char path[128];
    snprintf(path, sizeof path, "%s/regulator.cursor", dir);

    static struct seen first, second;
    seen_init(&first);
    hansa_subscription *sub = subscribe(reg, &first, path, true, NULL);
    orders(merchant, "A", 3);
    cr_assert(wait_for(&first, has_alerts, 3, 60000), "first session got %zu of 3 alerts", first.n);
    hansa_subscription_close(sub);
    cr_assert_eq(first.n, 3u);
    hansa_cursor saved = file_cursor(path);
    cr_assert_eq(cursor_cmp(saved, first.cursors[2]), 0, "the file holds the last delivered");

    /* Offline: alerts, a node restart, more alerts. */
    orders(merchant, "B", 5);
    cluster_kill(&n.c, 0); /* a crash: clean stops are the cluster tier's to test */
    cluster_start(&n.c, 0);
    cr_assert(cluster_wait_ready(&n.c, 0, 60000));
    orders(merchant, "C", 4);

    seen_init(&second);
    sub = subscribe(reg, &second, path, true, NULL);
    cr_assert(wait_for(&second, has_alerts, 9, 60000), "second session got %zu of 9 alerts",
              second.n);
    orders(merchant, "D", 1); /* a live one after catching up */
    cr_assert(wait_for(&second, has_alerts, 10, 60000), "the live alert did not arrive");
    hansa_subscription_close(sub);

    /* Each once, in order, nothing from the first session again. */
    cr_assert_eq(second.n, 10u, "%zu alerts in the second session", second.n);
    cr_assert(!first.foreign_rule && !second.foreign_rule);
    const char *expect[10] = {"B-1", "B-2", "B-3", "B-4", "B-5", "C-1", "C-2", "C-3", "C-4", "D-1"};
    for (size_t i = 0; i < 10; i++) {
        cr_assert_str_eq(second.order_nos[i], expect[i], "alert %zu is about %s", i,
                         second.order_nos[i]);
        hansa_cursor prev = i == 0 ? first.cursors[2] : second.cursors[i - 1];
        cr_assert_gt(cursor_cmp(second.cursors[i], prev), 0, "alert %zu out of order", i);
        for (size_t j = 0; j < 3; j++)
            cr_assert_arr_neq(second.ids[i], first.ids[j], 32, "alert delivered again");
    }
    cr_assert_eq(cursor_cmp(file_cursor(path), second.cursors[9]), 0);

    /* The node's log holds exactly these 13. */
    Hansa__AlertPage *page = NULL;
    hansa_error err;
    cr_assert_eq(hansa_alerts_pull(reg, (hansa_cursor){0, 0}, NULL, 100, 0, &page, &err),
                 HANSA_CODE_OK, "%s", err.message);
    cr_assert_eq(page->n_alerts, 13u);
    for (size_t i = 0; i < 13; i++) {
        const uint8_t *want = i < 3 ? first.ids[i] : second.ids[i - 3];
        cr_assert_arr_eq(page->alerts[i]->alert_id.data, want, 32, "log entry %zu differs", i);
    }
    hansa_free(page);
    hansa_client_close(merchant);
    hansa_client_close(reg);
}

Test(subscribe, a_running_subscriber_reports_the_node_lost_and_back_and_misses_nothing,
     .init = setup)
{
    char key[400];
    snprintf(key, sizeof key, "%s/parties/CUS-0001.key", n.c.net);
    hansa_client_options opt = {.url = n.tcp_url,
                                .ca_path = n.ca,
                                .server_name = "node0",
                                .key_path = key,
                                .timeout_ms = 2000}; /* a lost node shows within 2 s */
    hansa_client *reg = NULL;
    hansa_error err;
    cr_assert_eq(hansa_client_open(&opt, &reg, &err), HANSA_CODE_OK, "%s", err.message);
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    static struct seen s;
    seen_init(&s);
    hansa_subscription *sub = subscribe(reg, &s, NULL, true, NULL);
    orders(merchant, "E", 2);
    cr_assert(wait_for(&s, has_alerts, 2, 60000));
    cluster_kill(&n.c, 0); /* a crash: clean stops are the cluster tier's to test */
    cr_assert(wait_for(&s, has_lost, 0, 60000), "the subscriber did not report the node lost");
    cluster_start(&n.c, 0);
    cr_assert(cluster_wait_ready(&n.c, 0, 60000));
    cr_assert(wait_for(&s, has_state, HANSA_CODE_OK, 60000), "no recovery reported");
    orders(merchant, "F", 3);
    cr_assert(wait_for(&s, has_alerts, 5, 60000), "got %zu of 5 alerts", s.n);
    cr_assert_str_eq(s.order_nos[2], "F-1");
    cr_assert_str_eq(s.order_nos[4], "F-3");
    hansa_cursor c = hansa_subscription_cursor(sub);
    cr_assert_eq(cursor_cmp(c, s.cursors[4]), 0);
    hansa_subscription_close(sub);
    cr_assert_eq(s.n, 5u);
    hansa_client_close(merchant);
    hansa_client_close(reg);
}

Test(subscribe, without_live_events_it_long_polls_and_filters_apply, .init = setup)
{
    hansa_client *reg = sdk_client(&n, "CUS-0001");
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    static struct seen mine, other;
    seen_init(&mine);
    seen_init(&other);
    /* Mine: one rule (the node reads its rule index). The other: critical
     * alerts only (the node scans its log and skips the HIGH ones). */
    const char *jur[] = {"JURISDICTION"};
    hansa_alert_filter fj = {
        .rule_ids = jur, .n_rule_ids = 1, .min_severity = HANSA__SEVERITY__SEVERITY_HIGH};
    hansa_alert_filter fd = {.min_severity = HANSA__SEVERITY__SEVERITY_CRITICAL};
    char path[128];
    snprintf(path, sizeof path, "%s/other.cursor", dir);
    hansa_subscription *a = subscribe(reg, &mine, NULL, false, &fj);
    hansa_subscription *b = subscribe(reg, &other, path, false, &fd);
    orders(merchant, "G", 2);
    cr_assert(wait_for(&mine, has_alerts, 2, 60000), "got %zu of 2", mine.n);
    /* The other subscriber skips them and its file moves past them. */
    uint64_t end = sdk_now_ms_test() + 60000;
    while (cursor_cmp(file_cursor(path), mine.cursors[1]) < 0) {
        cr_assert_lt(sdk_now_ms_test(), end, "the skipping subscriber's cursor stayed behind");
        struct timespec ts = {0, 50 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling interval of a condition wait */
    }
    hansa_subscription_close(a);
    hansa_subscription_close(b);
    cr_assert_eq(other.n, 0u, "a subscriber of critical alerts got %zu alerts", other.n);
    cr_assert_eq(mine.n, 2u);
    hansa_client_close(merchant);
    hansa_client_close(reg);
}

/* Whether every alert so far is past retention: a pull from the start is
 * CURSOR_EXPIRED (with its page) and the earliest valid cursor is the
 * head. */
static bool expired_now(hansa_client *reg)
{
    Hansa__AlertPage *page = NULL;
    hansa_error err;
    hansa_code code = hansa_alerts_pull(reg, (hansa_cursor){0, 0}, NULL, 10, 0, &page, &err);
    bool expired = code == HANSA_CODE_CURSOR_EXPIRED;
    bool all = false;
    if (expired) {
        cr_assert_not_null(page, "CURSOR_EXPIRED comes with its page");
        cr_assert(page->cursor_expired);
        cr_assert_not_null(page->earliest_cursor);
        cr_assert_gt(page->earliest_cursor->height, 0u);
        cr_assert_eq(err.node_error, HANSA__ERROR_CODE__ERROR_CURSOR_EXPIRED);
        cr_assert_not_null(page->head_cursor);
        all = page->earliest_cursor->height == page->head_cursor->height &&
              page->earliest_cursor->ordinal == page->head_cursor->ordinal;
    } else {
        cr_assert_eq(code, HANSA_CODE_OK, "%s", err.message);
    }
    hansa_free(page);
    return all;
}

static void setup_retention(void)
{
    static const char *const config[] = {"retention_blocks", "20", NULL};
    setup_net(config);
}

Test(subscribe, an_expired_cursor_is_reported_and_the_subscriber_resumes_at_the_earliest,
     .init = setup_retention)
{
    hansa_client *reg = sdk_client(&n, "CUS-0001");
    hansa_client *merchant = sdk_client(&n, "MER-SZ-0001");
    orders(merchant, "H", 2);
    /* Empty blocks follow every 200 ms: the alerts fall out of retention. */
    uint64_t end = sdk_now_ms_test() + 120000;
    while (!expired_now(reg)) {
        cr_assert_lt(sdk_now_ms_test(), end, "the alerts were never pruned");
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL); /* polling interval of a condition wait */
    }
    static struct seen s;
    seen_init(&s);
    hansa_subscription *sub = subscribe(reg, &s, NULL, true, NULL);
    cr_assert(wait_for(&s, has_state, HANSA_CODE_CURSOR_EXPIRED, 60000),
              "the expired cursor was not reported");
    orders(merchant, "I", 1);
    cr_assert(wait_for(&s, has_alerts, 1, 60000), "the subscription did not resume");
    hansa_subscription_close(sub);
    cr_assert_eq(s.n, 1u, "pruned alerts cannot arrive: got %zu", s.n);
    cr_assert_str_eq(s.order_nos[0], "I-1");
    hansa_client_close(merchant);
    hansa_client_close(reg);
}
