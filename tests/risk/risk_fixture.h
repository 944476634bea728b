/*
 * The risk engine over the single-node ledger fixture, for rule tests:
 * every block the ledger fixture executes (fx_submit, fx_block,
 * fx_empty_block) is handed to risk_process with the block's history
 * entries, and the engine's writes are applied to an in-memory alerts
 * family. Alerts are collected in cursor order.
 *
 *   struct rfx r; rfx_init(&r, NULL);          // default ruleset
 *   ... fx_submit(&r.f, ...) ...
 *   Hansa__Alert *a = rfx_expect_one(&r, "DUP-PLEDGE");
 *   cr_assert_eq(a->severity, HANSA__SEVERITY__SEVERITY_CRITICAL);
 *   rfx_expect_incident(a, "DUP-PLEDGE", "order/MER-SZ-0001/SO-1");
 *   rfx_expect_none(&r);
 *   rfx_close(&r);
 *
 * rfx_take_one / rfx_take_none look at one rule's alerts only, for tests
 * whose scenarios also trip other rules.
 *
 * A ruleset text passed to rfx_init overrides the defaults (e.g. shorter
 * windows); it must parse.
 */
#ifndef HANSA_TEST_RISK_FIXTURE_H
#define HANSA_TEST_RISK_FIXTURE_H

#include "ledger_fixture.h"
#include "risk.h"

/* A block the engine saw (for its block_info). */
struct rfx_block_info {
    uint8_t hash[WIRE_HASH_BYTES];
    uint64_t time_ms;
};

struct rfx {
    struct fx f;
    struct memstate *alerts, *history;
    struct risk_ruleset rs;
    Hansa__Alert **log; /* every alert emitted, in cursor order */
    size_t n_log, cap_log;
    size_t taken;                  /* alerts already returned by rfx_take */
    struct rfx_block_info *blocks; /* index = height */
    size_t cap_blocks;
    const Hansa__ValidatorSet *validators; /* given to the engine (NULL: none) */
    Hansa__Evidence **pending_evidence;    /* handed with the next block */
    size_t n_pending_evidence;
};

void rfx_init(struct rfx *r, const char *ruleset_text);
void rfx_close(struct rfx *r);
/* Close r and start it again on another ruleset (a test of the ruleset's
 * parameters). */
void rfx_reinit(struct rfx *r, const char *ruleset_text);

/* The usual suite: defines the fixture `r`, fresh for every test on the
 * default ruleset (a test wanting another one calls rfx_reinit).
 *   RFX_SUITE(ship_route);
 *   Test(ship_route, ...) { tr_ok(tr_order(&r, ...)); ... }            */
#define RFX_SUITE(suite)                                                                           \
    static struct rfx r;                                                                           \
    static void suite##_setup(void)                                                                \
    {                                                                                              \
        rfx_init(&r, NULL);                                                                        \
    }                                                                                              \
    static void suite##_teardown(void)                                                             \
    {                                                                                              \
        rfx_close(&r);                                                                             \
    }                                                                                              \
    TestSuite(suite, .init = suite##_setup, .fini = suite##_teardown, .timeout = 60)

/* Alerts emitted since the last call (pointers into r->log). */
size_t rfx_take(struct rfx *r, Hansa__Alert ***out);
/* Asserts no new alert (of any rule) since the last take. */
void rfx_expect_none(struct rfx *r);
/* Asserts exactly one new alert since the last take and that it is of rule
 * rule_id; returns it (owned by r). */
Hansa__Alert *rfx_expect_one(struct rfx *r, const char *rule_id);
/* New alerts of one rule only (others ignored); count in *n. */
size_t rfx_take_rule(struct rfx *r, const char *rule_id, Hansa__Alert **out, size_t max);

/* An empty block carrying this evidence (copied) to the engine. */
void rfx_evidence_block(struct rfx *r, const Hansa__Evidence *ev);
/* Empty blocks until block time passes t_ms (timers due before it fire). */
void rfx_advance_to(struct rfx *r, uint64_t t_ms);

/* Move the time of the next block to exactly t_ms (not before it). */
void rfx_next_block_at(struct rfx *r, uint64_t t_ms);

/* ---- one rule's alerts (alerts of other rules are dropped) ---- */

/* Asserts exactly one new alert of rule_id since the last take; returns it. */
Hansa__Alert *rfx_take_one(struct rfx *r, const char *rule_id);
/* The same, asserting its kind and severity. */
Hansa__Alert *rfx_take_alert(struct rfx *r, const char *rule_id, Hansa__AlertKind kind,
                             Hansa__Severity severity);
/* Asserts no new alert of rule_id since the last take. */
void rfx_take_none(struct rfx *r, const char *rule_id);

/* ---- what an alert holds ---- */

/* SHA-256("hansa/incident/v1" 0x00 rule_id 0x00 dedup_key): hansa.proto's
 * incident id. */
void rfx_incident_id(const char *rule_id, const char *dedup_key, uint8_t out[WIRE_HASH_BYTES]);
/* Asserts a's incident is rule_id's with this dedup key. */
void rfx_expect_incident(const Hansa__Alert *a, const char *rule_id, const char *dedup_key);
/* Evidence tuple of a by field name, or NULL. */
const Hansa__AlertEvidence *rfx_evidence(const Hansa__Alert *a, const char *field);
/* The same, asserting it is there. */
const Hansa__AlertEvidence *rfx_evidence_of(const Hansa__Alert *a, const char *field);
/* Its observed value. */
const char *rfx_observed(const Hansa__Alert *a, const char *field);
/* Asserts the evidence field holds exactly expected and observed. */
void rfx_expect_evidence(const Hansa__Alert *a, const char *field, const char *expected,
                         const char *observed);
/* True if the alert's audience lists party. */
bool rfx_audience_has(const Hansa__Alert *a, const char *party);
bool rfx_has_subject(const Hansa__Alert *a, Hansa__EntityType type, const char *owner,
                     const char *id);
bool rfx_has_tx(const Hansa__Alert *a, const uint8_t tx_id[WIRE_HASH_BYTES]);

/* Keys the engine holds for rule_id: its state (kind 's') or its timers
 * (kind 't'). */
size_t rfx_rule_keys(struct rfx *r, const char *rule_id, char kind);

#endif
