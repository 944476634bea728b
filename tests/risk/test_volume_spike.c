/*
 * VOLUME-SPIKE: when an order is created, the merchant's order value of
 * the last 7 days (UTC+8 days) above 5x its weekly average over the 12
 * weeks before (sum / 12), once its first order in that currency is 28
 * days old: MEDIUM, one incident per merchant and ISO week.
 *
 * The usual story: a 12,000 CNY order on day 0 makes the weekly average
 * 1,000 for the next 12 weeks, so on day 30 up to 5,000 CNY of new orders
 * are normal and 5,001 is a spike. Day 0 (the genesis day) is a Thursday,
 * 2026-01-15, 08:00 at UTC+8; day 30 is Saturday 2026-02-14 (2026-W07).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "trade.h"

#define RULE "VOLUME-SPIKE"

static struct rfx r;
static uint64_t day0_ms;

static void setup(void)
{
    rfx_init(&r, NULL);
    day0_ms = r.f.time_ms;
}

static void teardown(void)
{
    rfx_close(&r);
}

TestSuite(volume_spike, .init = setup, .fini = teardown, .timeout = 60);

/* Move to the given day after day 0 (same time of day, plus a few blocks). */
static void day(unsigned n)
{
    rfx_advance_to(&r, day0_ms + n * TR_DAY_MS);
}

Test(volume_spike, more_than_five_times_the_weekly_average_raises_medium)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 4000));
    tr_ok(tr_order(&r, TR_MER, "SO-2", 1000));
    rfx_take_none(&r, RULE); /* exactly 5x is not above */
    struct fx_result last = tr_must(tr_order_in(&r, TR_MER, "SO-3", 1, "CNY"));
    Hansa__Alert *a = rfx_take_alert(&r, RULE, HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                     HANSA__SEVERITY__SEVERITY_MEDIUM);
    const Hansa__AlertEvidence *e = rfx_evidence(a, "orders.value_recent_minor");
    cr_assert_str_eq(e->observed, "5001 CNY");
    cr_assert_str_eq(e->expected, "<= 5000");
    cr_assert_str_eq(rfx_evidence(a, "orders.value_baseline_minor")->observed, "12000 CNY");
    cr_assert_str_eq(rfx_evidence(a, "orders.baseline_average_minor")->observed, "1000 CNY");
    char first[32];
    snprintf(first, sizeof first, "%llu", (unsigned long long)day0_ms);
    cr_assert_str_eq(rfx_evidence(a, "merchant.first_order_ms")->observed, first);
    cr_assert_eq(a->n_tx_ids, 1);
    cr_assert_arr_eq(a->tx_ids[0].data, last.tx_id, WIRE_HASH_BYTES);
    cr_assert_eq(a->n_subjects, 2);
    cr_assert_eq(a->subjects[0]->type, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY);
    cr_assert_str_eq(a->subjects[0]->id, TR_MER);
    cr_assert_str_eq(a->subjects[1]->id, "SO-3");
    cr_assert_eq(a->n_audience, 1);
    cr_assert_str_eq(a->audience[0], TR_MER);

    uint8_t want[WIRE_HASH_BYTES];
    const char tag[] = "hansa/incident/v1\0VOLUME-SPIKE\0merchant/" TR_MER "/week/2026-W07";
    wire_sha256(tag, sizeof tag - 1, want);
    cr_assert_arr_eq(a->incident_id.data, want, WIRE_HASH_BYTES, "merchant + ISO week");
}

Test(volume_spike, a_merchant_whose_first_order_is_under_28_days_old_is_not_checked)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    rfx_advance_to(&r, day0_ms + 28 * TR_DAY_MS - 10000);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 6000));
    rfx_take_none(&r, RULE);
    rfx_advance_to(&r, day0_ms + 28 * TR_DAY_MS);
    tr_ok(tr_order(&r, TR_MER, "SO-2", 1));
    rfx_take_one(&r, RULE);
}

Test(volume_spike, another_currency_is_its_own_series_with_its_own_start)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30);
    tr_ok(tr_order_in(&r, TR_MER, "SO-USD", 1000000, "USD"));
    rfx_take_none(&r, RULE);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 5000));
    rfx_take_none(&r, RULE);
}

Test(volume_spike, other_merchants_orders_do_not_count)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30);
    tr_ok(tr_order_in(&r, TR_MER2, "SO-1", 4000, "CNY"));
    tr_ok(tr_order(&r, TR_MER, "SO-2", 5000));
    rfx_take_none(&r, RULE);
}

Test(volume_spike, a_cancelled_order_leaves_the_recent_value)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 4000));
    tr_ok(tr_order(&r, TR_MER, "SO-2", 1000));
    tr_ok(tr_cancel(&r, TR_MER, "SO-2"));
    tr_ok(tr_order(&r, TR_MER, "SO-3", 1000));
    rfx_take_none(&r, RULE);
}

Test(volume_spike, orders_leave_the_recent_window_after_seven_days_and_join_the_baseline)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 5000));
    day(37);
    /* Baseline 17,000: the limit is 5 x 17,000 / 12 = 7,083.3. */
    tr_ok(tr_order(&r, TR_MER, "SO-2", 7083));
    rfx_take_none(&r, RULE);
    tr_ok(tr_order(&r, TR_MER, "SO-3", 1));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_str_eq(rfx_evidence(a, "orders.value_baseline_minor")->observed, "17000 CNY");
    cr_assert_str_eq(rfx_evidence(a, "orders.value_recent_minor")->expected, "<= 7083");
}

Test(volume_spike, orders_before_the_twelve_weeks_leave_the_baseline)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(80);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 1200));
    day(92); /* SO-0 is 92 days old: out; SO-1 alone makes the average 100 */
    tr_ok(tr_order(&r, TR_MER, "SO-2", 500));
    rfx_take_none(&r, RULE);
    tr_ok(tr_order(&r, TR_MER, "SO-3", 1));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_str_eq(rfx_evidence(a, "orders.value_baseline_minor")->observed, "1200 CNY");
}

Test(volume_spike, one_incident_per_iso_week)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30); /* Saturday */
    tr_ok(tr_order(&r, TR_MER, "SO-1", 6000));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    day(31); /* Sunday: same week */
    tr_ok(tr_order(&r, TR_MER, "SO-2", 100));
    rfx_take_none(&r, RULE);
    day(32); /* Monday: 2026-W08 */
    tr_ok(tr_order(&r, TR_MER, "SO-3", 100));
    Hansa__Alert *b = rfx_take_one(&r, RULE);
    cr_assert_eq(b->kind, HANSA__ALERT_KIND__ALERT_KIND_NEW);
    cr_assert_arr_neq(a->incident_id.data, b->incident_id.data, 32);
}

Test(volume_spike, only_the_buckets_of_the_windows_are_kept)
{
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(1);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100));
    day(200);
    tr_ok(tr_order(&r, TR_MER, "SO-2", 100));
    struct ledger_state s = memstate_view(r.alerts);
    uint8_t key[64], *val = NULL;
    size_t n = 0, len = 0;
    n = (size_t)snprintf((char *)key, sizeof key, "s/" RULE "/b%c" TR_MER "CNY",
                         (char)strlen(TR_MER));
    cr_assert_eq(s.get(s.ctx, key, n, &val, &len), HANSA_OK);
    cr_assert_eq(len, 16, "one bucket (day 200) left, not %zu bytes", len);
    free(val);
    Hansa__Alert **all;
    rfx_take(&r, &all);
}

Test(volume_spike, windows_bucket_ratio_and_severity_come_from_the_ruleset)
{
    rfx_reinit(&r, "[VOLUME-SPIKE]\nrecent_window = 1h\nbaseline_window = 4h\nbucket = 1h\n"
                   "min_history = 2h\nspike_bps = 20000\nseverity = HIGH\n");
    day0_ms = r.f.time_ms;
    tr_ok(tr_order(&r, TR_MER, "SO-0", 4000)); /* average 1,000 per hour for the next 4 hours */
    rfx_advance_to(&r, day0_ms + 2 * TR_HOUR_MS);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 2000));
    rfx_take_none(&r, RULE);
    tr_ok(tr_order(&r, TR_MER, "SO-2", 1));
    Hansa__Alert *a = rfx_take_one(&r, RULE);
    cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_HIGH);
}

Test(volume_spike, a_disabled_rule_stays_silent)
{
    rfx_reinit(&r, "[VOLUME-SPIKE]\nenabled = false\n");
    day0_ms = r.f.time_ms;
    tr_ok(tr_order(&r, TR_MER, "SO-0", 12000));
    day(30);
    tr_ok(tr_order(&r, TR_MER, "SO-1", 100000));
    rfx_take_none(&r, RULE);
}
