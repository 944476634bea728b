/*
 * What a rule sees while the engine runs it (one rule, one block).
 *
 * A rule is a file in rules/ defining `const struct risk_rule
 * risk_rule_<name>` (see risk.h) and listed in rules/list.h. It reads the
 * block (risk_ctx_block), looks entities up as of the block
 * (risk_entity), keeps its own state under its own key space (risk_get /
 * risk_put / risk_scan), waits on block time with timers, and emits alerts
 * through the builder below. Everything is deterministic: no clock, no
 * randomness, no floating point; amounts are integers in minor units.
 *
 * Errors: every function returning hansa_err fails only on storage or
 * memory trouble; a rule returns that error at once and the engine stops
 * the block (nothing is committed, the shell retries).
 */
#ifndef HANSA_RISK_RULE_H
#define HANSA_RISK_RULE_H

#include "risk.h"

/* The block being processed, the ruleset, and this rule's parameters. */
const struct risk_block *risk_ctx_block(const struct risk_ctx *ctx);
const struct risk_ruleset *risk_ctx_ruleset(const struct risk_ctx *ctx);
/* Parameter i of the running rule (index into its params table). */
int64_t risk_param(const struct risk_ctx *ctx, size_t i);
/* True if country (alpha-2) is in the ruleset's jurisdiction list. */
bool risk_listed_jurisdiction(const struct risk_ctx *ctx, const char *country);
/* The minimum transit time for an ordered pair (falling back to the reverse
 * pair); false if neither is in the table. */
bool risk_min_transit_ms(const struct risk_ctx *ctx, const char *from, const char *to, int64_t *ms);

/* The party operating a validator (Validator.operator_party); NULL when
 * the validator is unknown or names none. */
const char *risk_validator_operator(const struct risk_ctx *ctx, const char *validator_id);

/* The entity's latest history entry at or below the block's height (its
 * record then, in ->after), or HANSA_ENOENT. Caller wire_free()s *out. */
HANSA_MUST_USE hansa_err risk_entity(struct risk_ctx *ctx, Hansa__EntityType type,
                                     const char *owner, const char *id, Hansa__HistoryEntry **out);

/* ---- the rule's own state (keys are private to the rule) ---- */
HANSA_MUST_USE hansa_err risk_get(struct risk_ctx *ctx, const void *key, size_t key_len,
                                  uint8_t **val, size_t *val_len);
/* val == NULL deletes. Copies key and val. */
HANSA_MUST_USE hansa_err risk_put(struct risk_ctx *ctx, const void *key, size_t key_len,
                                  const void *val, size_t val_len);
/* Visit the rule's keys starting with prefix, in byte order, with this
 * block's writes applied; return false from visit to stop. The key passed
 * to visit is the rule's key (without the engine's prefix). */
HANSA_MUST_USE hansa_err risk_scan(struct risk_ctx *ctx, const void *prefix, size_t prefix_len,
                                   ledger_visit_fn visit, void *arg);

/* ---- timers on block time ---- */
/* The rule's on_timer(key) runs in the first block whose time is later than
 * due_ms. Setting the same (due, key) twice is one timer. */
HANSA_MUST_USE hansa_err risk_timer_set(struct risk_ctx *ctx, uint64_t due_ms, const void *key,
                                        size_t key_len);
HANSA_MUST_USE hansa_err risk_timer_cancel(struct risk_ctx *ctx, uint64_t due_ms, const void *key,
                                           size_t key_len);

/* ---- alerts ---- */
struct risk_alert;

/* Start an alert of the running rule for the incident named by dedup_key
 * (e.g. "order/MER-SZ-0001/SO-1"). Never NULL: on memory failure the
 * builder records the error and risk_alert_emit returns it. */
struct risk_alert *risk_alert_new(struct risk_ctx *ctx, const char *dedup_key,
                                  Hansa__Severity severity);
/* The evidence is in an earlier block (timer rules); default: this block. */
void risk_alert_at(struct risk_alert *a, uint64_t height);
void risk_alert_tx(struct risk_alert *a, const uint8_t tx_id[WIRE_HASH_BYTES]);
/* A party involved; its id joins the audience. Duplicates are merged. */
void risk_alert_party(struct risk_alert *a, Hansa__Role role, const char *party_id);
void risk_alert_subject(struct risk_alert *a, Hansa__EntityType type, const char *owner,
                        const char *id);
/* Values longer than RISK_EVIDENCE_VALUE_MAX are cut. source_tx may be NULL. */
void risk_alert_evidence(struct risk_alert *a, const char *field, const char *expected,
                         const char *observed, const uint8_t *source_tx);
void risk_alert_message(struct risk_alert *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Drop a started alert without emitting it (e.g. a lookup failed after
 * risk_alert_new). Accepts NULL. */
void risk_alert_discard(struct risk_alert *a);

/*
 * Emit (and free) the alert as kind:
 *   NEW      opens the incident; if it is already open, emits an UPDATE when
 *            the severity is higher than the incident's, else nothing; a
 *            resolved incident reopens with an UPDATE.
 *   UPDATE   as NEW on an unknown incident.
 *   RESOLVED closes an open incident at the incident's severity (the
 *            builder's is ignored); nothing if it is not open.
 * *emitted (may be NULL) tells whether an alert was written.
 */
HANSA_MUST_USE hansa_err risk_alert_emit(struct risk_ctx *ctx, struct risk_alert *a,
                                         Hansa__AlertKind kind, bool *emitted);

/* ---- helpers shared by rules ---- */

/* The ISO week of block time at UTC+8 as "YYYY-Www". */
void risk_iso_week(uint64_t time_ms, char out[12]);
/* The body action of transaction i with its result. */
Hansa__TxBody__ActionCase risk_tx_action(const struct risk_ctx *ctx, size_t i);
Hansa__ResultCode risk_tx_result(const struct risk_ctx *ctx, size_t i);

#endif
