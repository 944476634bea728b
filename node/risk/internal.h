/*
 * Engine internals shared by engine.c, alert.c and ruleset.c.
 */
#ifndef HANSA_RISK_INTERNAL_H
#define HANSA_RISK_INTERNAL_H

#include "rule.h"

struct ledger_overlay;

struct risk_ctx {
    const struct risk_env *env;
    const struct risk_block *b;
    struct risk_output *out;
    struct ledger_overlay *ov; /* writes to the alerts family */
    const struct risk_rule *rule;
    size_t rule_ix;
    uint32_t next_ordinal;
    size_t cap_alerts;
};

struct risk_incident {
    bool exists;
    uint32_t next_event;
    Hansa__Severity severity;
    bool open;
};

HANSA_MUST_USE hansa_err risk_raw_get(struct risk_ctx *ctx, const uint8_t *key, size_t key_len,
                                      uint8_t **val, size_t *val_len);
HANSA_MUST_USE hansa_err risk_raw_put(struct risk_ctx *ctx, const uint8_t *key, size_t key_len,
                                      const uint8_t *val, size_t val_len);
HANSA_MUST_USE hansa_err risk_raw_scan(struct risk_ctx *ctx, const uint8_t *prefix,
                                       size_t prefix_len, size_t skip, ledger_visit_fn visit,
                                       void *arg);
HANSA_MUST_USE hansa_err risk_incident_get(struct risk_ctx *ctx, const uint8_t id[WIRE_HASH_BYTES],
                                           struct risk_incident *inc);
HANSA_MUST_USE hansa_err risk_incident_put(struct risk_ctx *ctx, const uint8_t id[WIRE_HASH_BYTES],
                                           const struct risk_incident *inc);

#endif
