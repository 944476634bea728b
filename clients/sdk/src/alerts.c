/*
 * Pulling the alert log (RISK.md "Subscriptions", node/net/alerts.c): one
 * signed GetAlerts after a cursor, with the caller's filter, long-polling
 * on the node up to wait_ms when nothing matches yet. The node intersects
 * the filter with what the reader may see (the alert's audience;
 * regulators see everything).
 *
 * A cursor older than the node's retention is answered
 * ERROR_CURSOR_EXPIRED together with the page (cursor_expired and
 * earliest_cursor set): the page is handed to the caller with
 * HANSA_CODE_CURSOR_EXPIRED, never a silent gap.
 */
#include "internal.h"

hansa_code sdk_alerts_pull(hansa_client *c, hansa_cursor after, const hansa_alert_filter *filter,
                           uint32_t limit, uint32_t wait_ms, struct sdk_call_slot *slot,
                           Hansa__AlertPage **out, hansa_error *err)
{
    *out = NULL;
    if (wait_ms > SDK_NODE_WAIT_MS_MAX)
        wait_ms = SDK_NODE_WAIT_MS_MAX;
    Hansa__Cursor cur = HANSA__CURSOR__INIT;
    cur.height = after.height;
    cur.ordinal = after.ordinal;
    Hansa__GetAlerts g = HANSA__GET_ALERTS__INIT;
    g.after = &cur;
    g.limit = limit;
    g.wait_ms = wait_ms;
    if (filter != NULL) {
        if ((filter->n_rule_ids > 0 && filter->rule_ids == NULL) ||
            (filter->n_kinds > 0 && filter->kinds == NULL))
            return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                            "alert filter: a count without its array");
        g.n_rule_ids = filter->n_rule_ids;
        g.rule_ids = (char **)(uintptr_t)filter->rule_ids;
        g.min_severity = filter->min_severity;
        g.party = (char *)(uintptr_t)(filter->party != NULL ? filter->party : "");
        g.subject = (Hansa__EntityRef *)(uintptr_t)filter->subject;
        g.n_kinds = filter->n_kinds;
        g.kinds = (Hansa__AlertKind *)(uintptr_t)filter->kinds;
    }
    Hansa__Query q = HANSA__QUERY__INIT;
    q.kind_case = HANSA__QUERY__KIND_ALERTS;
    q.alerts = &g;
    Hansa__Response *resp = NULL;
    hansa_code code = sdk_query(c, &q, HANSA__RESPONSE__KIND_ALERTS, wait_ms, slot, &resp, err);
    if (resp == NULL)
        return code;
    *out = sdk_response_take(resp, HANSA__RESPONSE__KIND_ALERTS);
    wire_free(resp);
    return code == HANSA_CODE_OK ? sdk_ok(err) : code;
}

hansa_code hansa_alerts_pull(hansa_client *c, hansa_cursor after, const hansa_alert_filter *filter,
                             uint32_t limit, uint32_t wait_ms, Hansa__AlertPage **out,
                             hansa_error *err)
{
    if (c == NULL || out == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_alerts_pull: client and out "
                        "needed");
    return sdk_alerts_pull(c, after, filter, limit, wait_ms, NULL, out, err);
}
