/*
 * The engine itself: the ruleset file (every error names its line), the
 * default ruleset, ISO weeks at UTC+8, the alert and incident ids of
 * hansa.proto, determinism (same blocks, same ruleset: same bytes), and
 * entities read as of the block.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "internal.h"
#include "keys.h"
#include "memstate.h"
#include "risk.h"
#include "rule.h"
#include "trade.h"

static void expect_refused(const char *text, const char *fragment)
{
    struct risk_ruleset rs;
    char why[512] = "";
    hansa_err rv = risk_ruleset_parse("rules.ini", text, strlen(text), &rs, why, sizeof why);
    cr_assert_eq(rv, HANSA_EINVAL, "accepted: %s", text);
    cr_assert(strstr(why, fragment) != NULL, "\"%s\" does not say \"%s\"", why, fragment);
}

static void parse_ok(const char *text, struct risk_ruleset *rs)
{
    char why[512] = "";
    cr_assert_eq(risk_ruleset_parse("rules.ini", text, strlen(text), rs, why, sizeof why), HANSA_OK,
                 "%s", why);
}

Test(ruleset, the_default_text_parses_to_the_default_ruleset)
{
    struct risk_ruleset def, parsed;
    risk_ruleset_default(&def);
    const char *text = risk_ruleset_default_text();
    parse_ok(text, &parsed);
    cr_assert_arr_eq(parsed.hash, def.hash, WIRE_HASH_BYTES);
    cr_assert_arr_eq(parsed.enabled, def.enabled, sizeof def.enabled);
    cr_assert_arr_eq(parsed.params, def.params, sizeof def.params);
    cr_assert_eq(parsed.n_jurisdictions, 3);
    cr_assert_str_eq(parsed.jurisdictions[0], "KP");
    cr_assert_eq(parsed.n_transit, def.n_transit);
    /* Every rule has a section with its enabled key. */
    for (size_t i = 0; i < risk_rule_count; i++) {
        char section[80];
        snprintf(section, sizeof section, "[%s]\nenabled = true\n", risk_rules[i]->id);
        cr_assert(strstr(text, section) != NULL, "no section for %s", risk_rules[i]->id);
    }
}

Test(ruleset, every_rule_parameter_has_a_documented_valid_default)
{
    for (size_t i = 0; i < risk_rule_count; i++) {
        const struct risk_rule *r = risk_rules[i];
        cr_assert_leq(r->n_params, RISK_PARAMS_MAX, "%s", r->id);
        cr_assert(r->summary != NULL && strlen(r->summary) > 10, "%s has no summary", r->id);
        for (size_t k = 0; k < r->n_params; k++) {
            const struct risk_param_spec *p = &r->params[k];
            cr_assert(p->doc != NULL && p->doc[0] != '\0', "%s.%s undocumented", r->id, p->name);
            if (p->type == RISK_P_INT || p->type == RISK_P_DURATION)
                cr_assert(p->min <= p->def && p->def <= p->max, "%s.%s default out of range", r->id,
                          p->name);
        }
    }
}

Test(ruleset, overrides_take_effect_and_change_the_hash)
{
    struct risk_ruleset def, rs;
    risk_ruleset_default(&def);
    parse_ok("# tighter\n[OVERDUE]\nenabled = false\nseverity_overdue = MEDIUM\n"
             "[jurisdictions]\nlist = RU, BY\nrevision = 2026-11\n[transit]\nCN-DE = 36h\nVN-DE = "
             "2d\n",
             &rs);
    int ov = risk_rule_index("OVERDUE");
    cr_assert_geq(ov, 0);
    cr_assert(!rs.enabled[ov]);
    cr_assert_eq(rs.params[ov][0], HANSA__SEVERITY__SEVERITY_MEDIUM);
    cr_assert_eq(rs.n_jurisdictions, 2);
    cr_assert_str_eq(rs.jurisdictions[1], "BY");
    cr_assert_str_eq(rs.jurisdictions_rev, "2026-11");
    cr_assert_arr_neq(rs.hash, def.hash, WIRE_HASH_BYTES);
    bool cn_de = false, vn_de = false;
    for (size_t i = 0; i < rs.n_transit; i++) {
        if (strcmp(rs.transit[i].from, "CN") == 0 && strcmp(rs.transit[i].to, "DE") == 0)
            cn_de = rs.transit[i].min_ms == 36 * 3600 * 1000;
        if (strcmp(rs.transit[i].from, "VN") == 0)
            vn_de = rs.transit[i].min_ms == 2 * 86400 * 1000;
    }
    cr_assert(cn_de && vn_de, "transit pairs not set");
}

Test(ruleset, errors_name_the_line_and_the_problem)
{
    expect_refused("[ruleset]\nname = x\n[NO-SUCH-RULE]\nenabled = true\n",
                   "rules.ini:4: unknown section [NO-SUCH-RULE]");
    expect_refused("\n[OVERDUE]\nseverity = HIGH\n",
                   "rules.ini:3: [OVERDUE] unknown key \"severity\"");
    expect_refused("[OVERDUE]\nseverity_overdue = SEVERE\n", "rules.ini:2:");
    expect_refused("[OVERDUE]\nenabled = yes\n", "expected true or false");
    expect_refused("[OVERDUE]\nenabled = true\nenabled = false\n",
                   "rules.ini:3: [OVERDUE] enabled is given twice");
    expect_refused("[ENGINE-LAG]\nlag_blocks = 0\n", "expected an integer from 1 to 1000000");
    expect_refused("[ENGINE-LAG]\nlag_blocks = 12x\n", "rules.ini:2:");
    expect_refused("[transit]\nCN-CN = 1h\n", "two different ISO 3166");
    expect_refused("[transit]\nCNDE = 1h\n", "expected a country pair");
    expect_refused("[transit]\nCN-DE = 24\n", "expected a duration");
    expect_refused("[jurisdictions]\nlist = KP, iran\n",
                   "\"iran\" is not an ISO 3166 alpha-2 code");
    expect_refused("[jurisdictions]\nmode = strict\n", "unknown key \"mode\"");
    expect_refused("stray = 1\n", "outside any [section]");
    expect_refused("[OVERDUE\n", "rules.ini:1: expected [section] or key = value");
}

Test(ruleset, binary_and_oversized_files_are_refused)
{
    struct risk_ruleset rs;
    char why[256] = "";
    static const char nul[] = "[ruleset]\0name = x\n";
    cr_assert_eq(risk_ruleset_parse("bin.ini", nul, sizeof nul - 1, &rs, why, sizeof why),
                 HANSA_EINVAL);
    cr_assert(strstr(why, "NUL") != NULL, "%s", why);
    static char big[RISK_RULESET_BYTES_MAX + 2];
    memset(big, '#', sizeof big - 1);
    cr_assert_eq(risk_ruleset_parse("big.ini", big, sizeof big - 1, &rs, why, sizeof why),
                 HANSA_EINVAL);
    cr_assert(strstr(why, "larger than") != NULL, "%s", why);
    cr_assert_eq(risk_ruleset_load("/nonexistent/rules.ini", &rs, why, sizeof why), HANSA_ENOENT);
}

/* ---- ISO weeks at UTC+8 ---- */

static void expect_week(uint64_t utc_ms, const char *week)
{
    char out[12];
    risk_iso_week(utc_ms, out);
    cr_assert_str_eq(out, week, "%llu", (unsigned long long)utc_ms);
}

Test(engine, iso_week_is_taken_at_utc_plus_8)
{
    /* 2026-01-01 (Thursday) 00:00 UTC+8 = 2025-12-31 16:00 UTC. */
    expect_week(UINT64_C(1767196800000), "2026-W01");
    /* One second earlier it is still Wednesday 2025-12-31 at UTC+8: W01 of
     * 2026 too (ISO weeks start on Monday 2025-12-29). */
    expect_week(UINT64_C(1767196799000), "2026-W01");
    /* 2025-12-28 (Sunday) 23:59:59 UTC+8: week 52 of 2025. */
    expect_week(UINT64_C(1766937599000), "2025-W52");
    /* 2026-12-31 (Thursday) noon UTC: 2026-W53. */
    expect_week(UINT64_C(1798718400000), "2026-W53");
    /* 2026-01-04 16:00 UTC is Monday 2026-01-05 00:00 at UTC+8: W02. */
    expect_week(UINT64_C(1767542400000), "2026-W02");
    expect_week(UINT64_C(1767542399000), "2026-W01");
}

/* ---- ids and determinism ---- */

static void overdue_scenario(struct rfx *r)
{
    tr_matched(r, TR_MER, "SO-1", 100000);
    tr_financed(r, "BANK-A", "L-1", TR_MER, "F-1", "SO-1", 50000);
    rfx_advance_to(r, r->f.time_ms + 31 * TR_DAY_MS);
    tr_ok(tr_default(r, "BANK-A", TR_MER, "F-1"));
}

Test(engine, alert_and_incident_ids_follow_the_protocol)
{
    struct rfx r;
    rfx_init(&r, NULL);
    overdue_scenario(&r);
    Hansa__Alert *a[4];
    size_t n = rfx_take_rule(&r, "OVERDUE", a, 4);
    cr_assert_eq(n, 2);
    static const char inc_in[] = "hansa/incident/v1\0OVERDUE\0financing/MER-SZ-0001/F-1";
    uint8_t inc[WIRE_HASH_BYTES];
    wire_sha256(inc_in, sizeof inc_in - 1, inc);
    for (size_t i = 0; i < n; i++) {
        cr_assert_arr_eq(a[i]->incident_id.data, inc, WIRE_HASH_BYTES);
        uint8_t buf[15 + WIRE_HASH_BYTES + 4], id[WIRE_HASH_BYTES];
        memcpy(buf, "hansa/alert/v1", 15); /* with its NUL */
        memcpy(buf + 15, inc, WIRE_HASH_BYTES);
        memset(buf + 15 + WIRE_HASH_BYTES, 0, 4);
        buf[sizeof buf - 1] = (uint8_t)i;
        wire_sha256(buf, sizeof buf, id);
        cr_assert_arr_eq(a[i]->alert_id.data, id, WIRE_HASH_BYTES, "alert %zu", i);
        cr_assert_eq(a[i]->event_no, i);
        cr_assert_str_eq(a[i]->rule_id, "OVERDUE");
        cr_assert_eq(a[i]->rule_rev, 1);
        cr_assert_arr_eq(a[i]->ruleset_hash.data, r.rs.hash, WIRE_HASH_BYTES);
    }
    rfx_close(&r);
}

static size_t encoded_log(struct rfx *r, uint8_t **out)
{
    size_t total = 0;
    *out = NULL;
    for (size_t i = 0; i < r->n_log; i++) {
        uint8_t *b = NULL;
        size_t len = 0;
        cr_assert_eq(wire_encode(&r->log[i]->base, RISK_ALERT_BYTES_MAX, &b, &len), HANSA_OK);
        *out = realloc(*out, total + len);
        memcpy(*out + total, b, len);
        total += len;
        free(b);
    }
    return total;
}

Test(engine, the_same_blocks_give_byte_identical_alert_logs)
{
    struct rfx a, b;
    rfx_init(&a, NULL);
    rfx_init(&b, NULL);
    overdue_scenario(&a);
    overdue_scenario(&b);
    cr_assert_gt(a.n_log, 0);
    uint8_t *la = NULL, *lb = NULL;
    size_t na = encoded_log(&a, &la), nb = encoded_log(&b, &lb);
    cr_assert_eq(na, nb);
    cr_assert_arr_eq(la, lb, na);
    free(la);
    free(lb);
    rfx_close(&a);
    rfx_close(&b);
}

Test(engine, a_different_ruleset_is_visible_in_every_alert)
{
    struct rfx r;
    rfx_init(&r, "[ruleset]\nname = stricter\n");
    overdue_scenario(&r);
    struct risk_ruleset def;
    risk_ruleset_default(&def);
    cr_assert_gt(r.n_log, 0);
    for (size_t i = 0; i < r.n_log; i++)
        cr_assert_arr_neq(r.log[i]->ruleset_hash.data, def.hash, WIRE_HASH_BYTES);
    rfx_close(&r);
}

/* ---- entities as of the block ---- */

static void put_history(struct memstate *m, const char *base, const char *suffix, uint64_t height)
{
    char key[256];
    int n = snprintf(key, sizeof key, "%s%s", base, suffix);
    cr_assert(n > 0 && (size_t)n < sizeof key);
    Hansa__HistoryEntry e = HANSA__HISTORY_ENTRY__INIT;
    e.height = height;
    uint8_t val[64];
    size_t len = protobuf_c_message_pack(&e.base, val);
    struct ledger_write w = {(uint8_t *)key, (size_t)n, val, len};
    struct ledger_output out = {.state = &w, .n_state = 1};
    memstate_apply(m, &out);
}

/* The height of the entry risk_entity finds at block `at`; 0 for none. */
static uint64_t entity_at(struct ledger_state history, uint64_t at)
{
    struct risk_env env = {.history = history};
    struct risk_block b = {.height = at};
    struct risk_ctx ctx = {.env = &env, .b = &b};
    Hansa__HistoryEntry *h = NULL;
    hansa_err rv = risk_entity(&ctx, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, "MER-1", "PO-1", &h);
    if (rv == HANSA_ENOENT)
        return 0;
    cr_assert_eq(rv, HANSA_OK, "%s", hansa_strerror(rv));
    uint64_t got = h->height;
    wire_free(h);
    return got;
}

Test(engine, an_entity_is_read_as_of_the_block)
{
    char base[LEDGER_KEY_BYTES_MAX + 2];
    size_t n = ledger_key_entity(base, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER, "MER-1", "PO-1");
    cr_assert(n > 0);
    base[n++] = '/';
    base[n] = '\0';
    struct memstate *m = memstate_new();
    put_history(m, base, "0000000000000003/00000000", 3);
    put_history(m, base, "0000000000000005/00000000", 50);
    put_history(m, base, "0000000000000005/00000001", 5);
    put_history(m, base, "0000000000000008/00000000", 8);
    /* Keys of another form under the same prefix are not entries. */
    put_history(m, base, "0000000000000006/0000000", 999);
    put_history(m, base, "0000000000000007/00000000/x", 999);
    put_history(m, base, "000000000000000g/00000000", 999);

    static const uint64_t at[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, UINT64_MAX};
    static const uint64_t want[] = {0, 0, 3, 3, 5, 5, 5, 8, 8, 8};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++)
        cr_assert_eq(entity_at(memstate_view(m), at[i]), want[i], "at %llu",
                     (unsigned long long)at[i]);
    memstate_free(m);
}
