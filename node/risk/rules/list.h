/*
 * The rules, in the fixed order the engine runs them (RISK.md's table).
 * Each line names `risk_rule_<name>`, defined in rules/<name>.c.
 */
RULE(dup_pledge)
RULE(dup_near)
RULE(over_advance)
RULE(exposure)
RULE(three_doc_mismatch)
RULE(three_doc_missing)
RULE(ship_still)
RULE(ship_stalled)
RULE(ship_route)
RULE(ship_implausible)
RULE(price_outlier)
RULE(overdue)
RULE(jurisdiction)
RULE(circular)
RULE(fast_cycle)
RULE(volume_spike)
RULE(equivocation)
RULE(engine_lag)
