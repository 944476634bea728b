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
 *   rfx_expect_none(&r);
 *   rfx_close(&r);
 *
 * A ruleset text passed to rfx_init overrides the defaults (e.g. shorter
 * windows); it must parse.
 */
#ifndef HANSA_TEST_RISK_FIXTURE_H
#define HANSA_TEST_RISK_FIXTURE_H

#include "ledger_fixture.h"
#include "risk.h"

struct rfx {
    struct fx f;
    struct memstate *alerts, *history;
    struct risk_ruleset rs;
    Hansa__Alert **log; /* every alert emitted, in cursor order */
    size_t n_log, cap_log;
    size_t taken; /* alerts already returned by rfx_take */
    struct rfx_block_info {
        uint8_t hash[WIRE_HASH_BYTES];
        uint64_t time_ms;
    } *blocks; /* index = height */
    size_t cap_blocks;
    const Hansa__ValidatorSet *validators; /* given to the engine (NULL: none) */
    Hansa__Evidence **pending_evidence; /* handed with the next block */
    size_t n_pending_evidence;
};

void rfx_init(struct rfx *r, const char *ruleset_text);
void rfx_close(struct rfx *r);

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

/* Evidence tuple of a by field name, or NULL. */
const Hansa__AlertEvidence *rfx_evidence(const Hansa__Alert *a, const char *field);
/* True if the alert's audience lists party. */
bool rfx_audience_has(const Hansa__Alert *a, const char *party);

#endif
