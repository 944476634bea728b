/*
 * The consensus parameters (hansa.proto, Parameters): defaults, the valid
 * range of each, and access by ParameterId. Genesis and governance both
 * validate through this one table, so a value governance may set is always
 * one genesis would accept, and the other way round.
 */
#include <stdio.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

struct param_desc {
    const char *name;
    int64_t min, max;
};

/* Ranges of hansa.proto's Parameters comments, by ParameterId (= field
 * number of Parameters). */
static const struct param_desc params[] = {
    [HANSA__PARAMETER_ID__PARAMETER_ID_GOVERNANCE_THRESHOLD_BPS] = {"governance_threshold_bps",
                                                                    5001, 10000},
    [HANSA__PARAMETER_ID__PARAMETER_ID_GOVERNANCE_PROPOSAL_TTL_MS] = {"governance_proposal_ttl_ms",
                                                                      1000, INT64_C(31536000000)},
    [HANSA__PARAMETER_ID__PARAMETER_ID_TX_REPLAY_WINDOW_MS] = {"tx_replay_window_ms", 1000,
                                                               86400000},
    [HANSA__PARAMETER_ID__PARAMETER_ID_MAX_TX_BYTES] = {"max_tx_bytes", 1024, HANSA_TX_BYTES_MAX},
    [HANSA__PARAMETER_ID__PARAMETER_ID_MAX_ORDER_LINES] = {"max_order_lines", 1,
                                                           HANSA_ORDER_LINES_MAX},
    [HANSA__PARAMETER_ID__PARAMETER_ID_MAX_FINANCING_ORDERS] = {"max_financing_orders", 1,
                                                                HANSA_FINANCING_ORDERS_MAX},
    [HANSA__PARAMETER_ID__PARAMETER_ID_MATCH_AMOUNT_TOLERANCE_MINOR] =
        {"match_amount_tolerance_minor", 0, LEDGER_AMOUNT_MAX},
    [HANSA__PARAMETER_ID__PARAMETER_ID_RETAIL_IMPORT_PER_ORDER_LIMIT_MINOR] =
        {"retail_import_per_order_limit_minor", 0, LEDGER_AMOUNT_MAX},
    [HANSA__PARAMETER_ID__PARAMETER_ID_RETAIL_IMPORT_ANNUAL_LIMIT_MINOR] =
        {"retail_import_annual_limit_minor", 0, LEDGER_AMOUNT_MAX},
    [HANSA__PARAMETER_ID__PARAMETER_ID_ANNUAL_LIMIT_UTC_OFFSET_MINUTES] =
        {"annual_limit_utc_offset_minutes", -720, 840},
    [HANSA__PARAMETER_ID__PARAMETER_ID_DEFAULT_ADVANCE_RATE_BPS] = {"default_advance_rate_bps", 1,
                                                                    10000},
    [HANSA__PARAMETER_ID__PARAMETER_ID_EVENT_FUTURE_BOUND_MS] = {"event_future_bound_ms", 0,
                                                                 86400000},
    [HANSA__PARAMETER_ID__PARAMETER_ID_MAX_WAYBILL_EVENTS] = {"max_waybill_events", 16, 1000},
};
#define PARAMS_N (sizeof params / sizeof params[0])

void ledger_params_default(Hansa__Parameters *p)
{
    hansa__parameters__init(p);
    p->governance_threshold_bps = 6666; /* yes x 10000 >= 6666 x admins: 2 of 3 pass */
    p->governance_proposal_ttl_ms = UINT64_C(7) * 24 * 3600 * 1000;
    p->tx_replay_window_ms = UINT64_C(10) * 60 * 1000;
    p->max_tx_bytes = HANSA_TX_BYTES_MAX;
    p->max_order_lines = HANSA_ORDER_LINES_MAX;
    p->max_financing_orders = HANSA_FINANCING_ORDERS_MAX;
    p->match_amount_tolerance_minor = 0;
    p->retail_import_per_order_limit_minor = 500000; /* 5,000 CNY */
    p->retail_import_annual_limit_minor = 2600000;   /* 26,000 CNY */
    p->annual_limit_utc_offset_minutes = 8 * 60;     /* UTC+8 */
    p->default_advance_rate_bps = 8000;
    p->event_future_bound_ms = UINT64_C(3600) * 1000; /* 1 hour */
    p->max_waybill_events = 200;
}

const char *ledger_param_name(Hansa__ParameterId id)
{
    if ((int)id <= 0 || (size_t)id >= PARAMS_N || params[id].name == NULL)
        return NULL;
    return params[id].name;
}

bool ledger_param_check(Hansa__ParameterId id, int64_t value, char *why, size_t why_len)
{
    const char *name = ledger_param_name(id);
    if (name == NULL) {
        snprintf(why, why_len, "parameter %d is not a known parameter", (int)id);
        return false;
    }
    if (value < params[id].min || value > params[id].max) {
        snprintf(why, why_len, "%s must be %lld..%lld, not %lld", name, (long long)params[id].min,
                 (long long)params[id].max, (long long)value);
        return false;
    }
    return true;
}

int64_t ledger_param_get(const Hansa__Parameters *p, Hansa__ParameterId id)
{
    switch (id) {
    case HANSA__PARAMETER_ID__PARAMETER_ID_GOVERNANCE_THRESHOLD_BPS:
        return p->governance_threshold_bps;
    case HANSA__PARAMETER_ID__PARAMETER_ID_GOVERNANCE_PROPOSAL_TTL_MS:
        return (int64_t)p->governance_proposal_ttl_ms;
    case HANSA__PARAMETER_ID__PARAMETER_ID_TX_REPLAY_WINDOW_MS:
        return (int64_t)p->tx_replay_window_ms;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_TX_BYTES:
        return p->max_tx_bytes;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_ORDER_LINES:
        return p->max_order_lines;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_FINANCING_ORDERS:
        return p->max_financing_orders;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MATCH_AMOUNT_TOLERANCE_MINOR:
        return p->match_amount_tolerance_minor;
    case HANSA__PARAMETER_ID__PARAMETER_ID_RETAIL_IMPORT_PER_ORDER_LIMIT_MINOR:
        return p->retail_import_per_order_limit_minor;
    case HANSA__PARAMETER_ID__PARAMETER_ID_RETAIL_IMPORT_ANNUAL_LIMIT_MINOR:
        return p->retail_import_annual_limit_minor;
    case HANSA__PARAMETER_ID__PARAMETER_ID_ANNUAL_LIMIT_UTC_OFFSET_MINUTES:
        return p->annual_limit_utc_offset_minutes;
    case HANSA__PARAMETER_ID__PARAMETER_ID_DEFAULT_ADVANCE_RATE_BPS:
        return p->default_advance_rate_bps;
    case HANSA__PARAMETER_ID__PARAMETER_ID_EVENT_FUTURE_BOUND_MS:
        return (int64_t)p->event_future_bound_ms;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_WAYBILL_EVENTS:
        return p->max_waybill_events;
    default:
        HANSA_ASSERT(!"unknown parameter id");
        return 0;
    }
}

void ledger_param_set(Hansa__Parameters *p, Hansa__ParameterId id, int64_t v)
{
    HANSA_ASSERT(ledger_param_check(id, v, NULL, 0));
    switch (id) {
    case HANSA__PARAMETER_ID__PARAMETER_ID_GOVERNANCE_THRESHOLD_BPS:
        p->governance_threshold_bps = (uint32_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_GOVERNANCE_PROPOSAL_TTL_MS:
        p->governance_proposal_ttl_ms = (uint64_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_TX_REPLAY_WINDOW_MS:
        p->tx_replay_window_ms = (uint64_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_TX_BYTES:
        p->max_tx_bytes = (uint32_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_ORDER_LINES:
        p->max_order_lines = (uint32_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_FINANCING_ORDERS:
        p->max_financing_orders = (uint32_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MATCH_AMOUNT_TOLERANCE_MINOR:
        p->match_amount_tolerance_minor = v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_RETAIL_IMPORT_PER_ORDER_LIMIT_MINOR:
        p->retail_import_per_order_limit_minor = v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_RETAIL_IMPORT_ANNUAL_LIMIT_MINOR:
        p->retail_import_annual_limit_minor = v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_ANNUAL_LIMIT_UTC_OFFSET_MINUTES:
        p->annual_limit_utc_offset_minutes = (int32_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_DEFAULT_ADVANCE_RATE_BPS:
        p->default_advance_rate_bps = (uint32_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_EVENT_FUTURE_BOUND_MS:
        p->event_future_bound_ms = (uint64_t)v;
        break;
    case HANSA__PARAMETER_ID__PARAMETER_ID_MAX_WAYBILL_EVENTS:
        p->max_waybill_events = (uint32_t)v;
        break;
    default:
        HANSA_ASSERT(!"unknown parameter id");
    }
}

bool ledger_params_valid(const Hansa__Parameters *p, char *why, size_t why_len)
{
    char reason[LEDGER_WHY_BYTES_MAX];
    for (size_t id = 1; id < PARAMS_N; id++) {
        if (params[id].name == NULL)
            continue;
        int64_t v = ledger_param_get(p, (Hansa__ParameterId)id);
        if (!ledger_param_check((Hansa__ParameterId)id, v, reason, sizeof reason)) {
            snprintf(why, why_len, "genesis parameters: %s", reason);
            return false;
        }
    }
    return true;
}
