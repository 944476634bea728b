/*
 * ENGINE-LAG (RISK.md): the engine is more than lag_blocks behind the
 * committed head. Lag is a fact about one node, not about the chain, so
 * the node's risk thread (node/riskrun.c) evaluates this rule with these
 * parameters and raises the alert locally (log line RISK-ENGINE-LAG and a
 * live hint on alert/<SEVERITY>/ENGINE-LAG/<node id>); it never enters the
 * replicated alert log, which must be identical on every validator. The
 * engine itself never drops work to catch up.
 */
#include "rule.h"

/* riskrun.c reads them by index: keep this order. */
enum { P_LAG_BLOCKS, P_SEVERITY, P_COUNT };

static const struct risk_param_spec params[P_COUNT] = {
    [P_LAG_BLOCKS] = {"lag_blocks", RISK_P_INT, 50, 1, 1000000,
                      "raise when the engine is more than this many blocks behind the head"},
    [P_SEVERITY] = {"severity", RISK_P_SEVERITY, HANSA__SEVERITY__SEVERITY_HIGH, 0, 0,
                    "severity of the node-local lag alert"},
};

const struct risk_rule risk_rule_engine_lag = {
    .id = "ENGINE-LAG",
    .rev = 1,
    .summary = "the engine is behind the committed head (node-local)",
    .params = params,
    .n_params = P_COUNT,
};
