/* The rule registry (risk.h): rules/list.h in order. */
#include "risk.h"

#define RULE(name) extern const struct risk_rule risk_rule_##name;
#include "list.h"
#undef RULE

const struct risk_rule *const risk_rules[] = {
#define RULE(name) &risk_rule_##name,
#include "list.h"
#undef RULE
};

const size_t risk_rule_count = sizeof risk_rules / sizeof risk_rules[0];

_Static_assert(sizeof risk_rules / sizeof risk_rules[0] <= RISK_RULES_MAX, "raise RISK_RULES_MAX");
