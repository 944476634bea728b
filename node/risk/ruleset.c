/*
 * The ruleset file (RISK.md): INI with one section per rule plus three
 * sections of its own.
 *
 *   [ruleset]       name = <text>            (a label for logs)
 *   [jurisdictions] list = KP, IR, MM        (ISO 3166 alpha-2, comma-separated)
 *                   revision = 2026-01       (printed in JURISDICTION evidence)
 *   [transit]       CN-DE = 24h              (minimum transit time of an ordered
 *                                             country pair, SHIP-IMPLAUSIBLE)
 *   [<RULE-ID>]     enabled = true|false and the rule's parameters (risk.h
 *                   risk_param_spec): integers, severities, durations with a
 *                   unit (ms, s, m, h, d).
 *
 * A missing section or key keeps its default. Unknown sections and keys, a
 * key given twice, and values out of range are errors naming the file and
 * line. The hash in every alert is SHA-256 of the file's exact bytes, so
 * two nodes agree on alerts only if they run the same file.
 *
 * The default file is generated from the rule table (every parameter with
 * its one-line doc and default), so it cannot drift from the code.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ini.h>

#include "hansa/assert.h"
#include "internal.h"

static const char *const jurisdictions_default[] = {"KP", "IR", "MM"};
#define JURISDICTIONS_REV_DEFAULT "2026-01"

/* Minimum door-to-door times by air, the fastest legitimate way. */
static const struct {
    const char *pair;
    const char *min;
} transit_default[] = {
    {"CN-DE", "24h"}, {"CN-NL", "24h"}, {"CN-FR", "24h"}, {"CN-GB", "24h"}, {"CN-US", "18h"},
    {"CN-PL", "24h"}, {"CN-IT", "24h"}, {"CN-ES", "24h"}, {"HK-DE", "24h"}, {"CN-HK", "4h"},
    {"DE-NL", "6h"},  {"DE-FR", "6h"},  {"DE-PL", "6h"},
};

int risk_rule_index(const char *id)
{
    for (size_t i = 0; i < risk_rule_count; i++)
        if (strcmp(risk_rules[i]->id, id) == 0)
            return (int)i;
    return -1;
}

/* ---- values ---- */

static bool parse_int(const char *s, int64_t *out)
{
    if (*s == '\0')
        return false;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || !(isdigit((unsigned char)*s) || *s == '-'))
        return false;
    *out = v;
    return true;
}

/* "72h" -> 259200000. */
static bool parse_duration(const char *s, int64_t *ms)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
    size_t n = 0;
    while (isdigit((unsigned char)s[n]))
        n++;
    if (n == 0 || n > 12)
        return false;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(s + n, units[i].unit) == 0) {
            int64_t v = 0;
            for (size_t k = 0; k < n; k++)
                v = v * 10 + (s[k] - '0');
            *ms = v * units[i].ms;
            return true;
        }
    return false;
}

static void format_duration(int64_t ms, char *out, size_t cap)
{
    static const struct {
        const char *unit;
        int64_t ms;
    } units[] = {{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (ms != 0 && ms % units[i].ms == 0) {
            snprintf(out, cap, "%" PRId64 "%s", ms / units[i].ms, units[i].unit);
            return;
        }
    snprintf(out, cap, "%" PRId64 "ms", ms);
}

static bool country_code(const char *s)
{
    return strlen(s) == 2 && isupper((unsigned char)s[0]) && isupper((unsigned char)s[1]);
}

/* ---- parsing ---- */

#define SEEN_MAX (RISK_RULES_MAX * (RISK_PARAMS_MAX + 1) + RISK_TRANSIT_MAX + 8)

struct parse {
    const char *name;
    const char *text;
    size_t len, pos;
    int line;
    struct risk_ruleset *rs;
    char err[384];
    int err_line;
    char seen[SEEN_MAX][80]; /* "section\nkey" given so far */
    size_t n_seen;
};

static char *read_line(char *buf, int size, void *arg)
{
    struct parse *p = arg;
    if (p->pos >= p->len)
        return NULL;
    size_t n = 0;
    while (p->pos < p->len && n + 1 < (size_t)size) {
        char c = p->text[p->pos++];
        buf[n++] = c;
        if (c == '\n')
            break;
    }
    buf[n] = '\0';
    p->line++;
    return buf;
}

static int fail(struct parse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct parse *p, const char *fmt, ...)
{
    if (p->err_line == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, sizeof p->err, fmt, ap);
        va_end(ap);
        p->err_line = p->line;
    }
    return 0;
}

static bool seen_before(struct parse *p, const char *section, const char *key)
{
    char k[80];
    snprintf(k, sizeof k, "%s\n%s", section, key);
    for (size_t i = 0; i < p->n_seen; i++)
        if (strcmp(p->seen[i], k) == 0)
            return true;
    if (p->n_seen < SEEN_MAX)
        snprintf(p->seen[p->n_seen++], sizeof p->seen[0], "%s", k);
    return false;
}

static int on_jurisdictions(struct parse *p, const char *key, const char *value)
{
    struct risk_ruleset *rs = p->rs;
    if (strcmp(key, "revision") == 0) {
        if (value[0] == '\0' || strlen(value) >= sizeof rs->jurisdictions_rev)
            return fail(p, "[jurisdictions] revision: 1-%zu characters expected",
                        sizeof rs->jurisdictions_rev - 1);
        snprintf(rs->jurisdictions_rev, sizeof rs->jurisdictions_rev, "%s", value);
        return 1;
    }
    if (strcmp(key, "list") != 0)
        return fail(p, "[jurisdictions] unknown key \"%s\" (expected list or revision)", key);
    rs->n_jurisdictions = 0;
    char buf[1024];
    if (strlen(value) >= sizeof buf)
        return fail(p, "[jurisdictions] list: too long");
    snprintf(buf, sizeof buf, "%s", value);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok != NULL;
         tok = strtok_r(NULL, ",", &save)) {
        while (isspace((unsigned char)*tok))
            tok++;
        char *end = tok + strlen(tok);
        while (end > tok && isspace((unsigned char)end[-1]))
            *--end = '\0';
        if (!country_code(tok))
            return fail(p, "[jurisdictions] list: \"%s\" is not an ISO 3166 alpha-2 code", tok);
        if (rs->n_jurisdictions == RISK_JURISDICTIONS_MAX)
            return fail(p, "[jurisdictions] list: more than %d entries", RISK_JURISDICTIONS_MAX);
        memcpy(rs->jurisdictions[rs->n_jurisdictions++], tok, 3);
    }
    return 1;
}

static int on_transit(struct parse *p, const char *key, const char *value)
{
    struct risk_ruleset *rs = p->rs;
    char from[3] = {0}, to[3] = {0};
    if (strlen(key) != 5 || key[2] != '-')
        return fail(p, "[transit] \"%s\": expected a country pair like CN-DE", key);
    memcpy(from, key, 2);
    memcpy(to, key + 3, 2);
    if (!country_code(from) || !country_code(to) || strcmp(from, to) == 0)
        return fail(p, "[transit] \"%s\": expected two different ISO 3166 alpha-2 codes", key);
    int64_t ms = 0;
    if (!parse_duration(value, &ms) || ms <= 0 || ms > INT64_C(365) * 86400000)
        return fail(p, "[transit] %s = %s: expected a duration like 24h (1ms-365d)", key, value);
    size_t i = 0;
    while (i < rs->n_transit &&
           !(strcmp(rs->transit[i].from, from) == 0 && strcmp(rs->transit[i].to, to) == 0))
        i++;
    if (i == rs->n_transit) {
        if (rs->n_transit == RISK_TRANSIT_MAX)
            return fail(p, "[transit] more than %d pairs", RISK_TRANSIT_MAX);
        rs->n_transit++;
    }
    memcpy(rs->transit[i].from, from, 3);
    memcpy(rs->transit[i].to, to, 3);
    rs->transit[i].min_ms = ms;
    return 1;
}

static int on_param(struct parse *p, int rule, const char *key, const char *value)
{
    const struct risk_rule *r = risk_rules[rule];
    if (strcmp(key, "enabled") == 0) {
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return fail(p, "[%s] enabled = %s: expected true or false", r->id, value);
        p->rs->enabled[rule] = strcmp(value, "true") == 0;
        return 1;
    }
    size_t i = 0;
    while (i < r->n_params && strcmp(r->params[i].name, key) != 0)
        i++;
    if (i == r->n_params)
        return fail(p, "[%s] unknown key \"%s\"", r->id, key);
    const struct risk_param_spec *ps = &r->params[i];
    int64_t v = 0;
    Hansa__Severity sev;
    char lo[32], hi[32];
    switch (ps->type) {
    case RISK_P_BOOL:
        if (strcmp(value, "true") != 0 && strcmp(value, "false") != 0)
            return fail(p, "[%s] %s = %s: expected true or false", r->id, key, value);
        v = strcmp(value, "true") == 0;
        break;
    case RISK_P_INT:
        if (!parse_int(value, &v) || v < ps->min || v > ps->max)
            return fail(p, "[%s] %s = %s: expected an integer from %" PRId64 " to %" PRId64, r->id,
                        key, value, ps->min, ps->max);
        break;
    case RISK_P_SEVERITY:
        if (!risk_severity_parse(value, &sev))
            return fail(p, "[%s] %s = %s: expected INFO, LOW, MEDIUM, HIGH or CRITICAL", r->id, key,
                        value);
        v = sev;
        break;
    case RISK_P_DURATION:
        format_duration(ps->min, lo, sizeof lo);
        format_duration(ps->max, hi, sizeof hi);
        if (!parse_duration(value, &v) || v < ps->min || v > ps->max)
            return fail(p, "[%s] %s = %s: expected a duration from %s to %s (units ms, s, m, h, d)",
                        r->id, key, value, lo, hi);
        break;
    }
    p->rs->params[rule][i] = v;
    return 1;
}

static int on_key(void *arg, const char *section, const char *key, const char *value)
{
    struct parse *p = arg;
    if (p->err_line != 0)
        return 0;
    if (key == NULL)
        return 1; /* a section header alone */
    if (seen_before(p, section, key))
        return fail(p, "[%s] %s is given twice", section, key);
    if (strcmp(section, "ruleset") == 0) {
        if (strcmp(key, "name") != 0)
            return fail(p, "[ruleset] unknown key \"%s\" (expected name)", key);
        if (strlen(value) >= sizeof p->rs->name)
            return fail(p, "[ruleset] name: longer than %zu characters", sizeof p->rs->name - 1);
        snprintf(p->rs->name, sizeof p->rs->name, "%s", value);
        return 1;
    }
    if (strcmp(section, "jurisdictions") == 0)
        return on_jurisdictions(p, key, value);
    if (strcmp(section, "transit") == 0)
        return on_transit(p, key, value);
    int rule = risk_rule_index(section);
    if (rule < 0)
        return section[0] == '\0' ? fail(p, "\"%s\" outside any [section]", key)
                                  : fail(p, "unknown section [%s]", section);
    return on_param(p, rule, key, value);
}

/* Defaults without the hash and without transit pairs or jurisdictions. */
static void base_defaults(struct risk_ruleset *rs)
{
    memset(rs, 0, sizeof *rs);
    snprintf(rs->name, sizeof rs->name, "default");
    HANSA_ASSERT(risk_rule_count <= RISK_RULES_MAX);
    for (size_t i = 0; i < risk_rule_count; i++) {
        const struct risk_rule *r = risk_rules[i];
        HANSA_ASSERT(r->n_params <= RISK_PARAMS_MAX);
        rs->enabled[i] = true;
        for (size_t k = 0; k < r->n_params; k++)
            rs->params[i][k] = r->params[k].def;
    }
    snprintf(rs->jurisdictions_rev, sizeof rs->jurisdictions_rev, "%s", JURISDICTIONS_REV_DEFAULT);
}

hansa_err risk_ruleset_parse(const char *name, const char *text, size_t len,
                             struct risk_ruleset *rs, char *why, size_t why_len)
{
    HANSA_ASSERT(name != NULL && text != NULL && rs != NULL);
    if (len > RISK_RULESET_BYTES_MAX) {
        snprintf(why, why_len, "%s: larger than %u bytes", name, RISK_RULESET_BYTES_MAX);
        return HANSA_EINVAL;
    }
    if (memchr(text, '\0', len) != NULL) {
        snprintf(why, why_len, "%s: contains a NUL byte: not a text file", name);
        return HANSA_EINVAL;
    }
    struct parse *p = calloc(1, sizeof *p);
    if (p == NULL)
        return HANSA_ENOMEM;
    struct risk_ruleset *tmp = malloc(sizeof *tmp);
    if (tmp == NULL) {
        free(p);
        return HANSA_ENOMEM;
    }
    base_defaults(tmp);
    /* Default lists unless the file gives its own. */
    struct risk_ruleset def;
    risk_ruleset_default(&def);
    memcpy(tmp->jurisdictions, def.jurisdictions, sizeof def.jurisdictions);
    tmp->n_jurisdictions = def.n_jurisdictions;
    memcpy(tmp->transit, def.transit, sizeof def.transit);
    tmp->n_transit = def.n_transit;
    p->name = name;
    p->text = text;
    p->len = len;
    p->rs = tmp;
    int rv = ini_parse_stream(read_line, p, on_key, p);
    hansa_err err = HANSA_OK;
    if (p->err_line != 0) {
        snprintf(why, why_len, "%s:%d: %s", name, p->err_line, p->err);
        err = HANSA_EINVAL;
    } else if (rv != 0) {
        snprintf(why, why_len, "%s:%d: expected [section] or key = value", name, rv);
        err = HANSA_EINVAL;
    } else {
        wire_sha256(text, len, tmp->hash);
        *rs = *tmp;
    }
    free(tmp);
    free(p);
    return err;
}

hansa_err risk_ruleset_load(const char *path, struct risk_ruleset *rs, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, why_len, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    char *buf = malloc(RISK_RULESET_BYTES_MAX + 1);
    if (buf == NULL) {
        fclose(f);
        return HANSA_ENOMEM;
    }
    size_t n = fread(buf, 1, RISK_RULESET_BYTES_MAX + 1, f);
    bool bad = ferror(f);
    fclose(f);
    hansa_err rv;
    if (bad) {
        snprintf(why, why_len, "%s: read error", path);
        rv = HANSA_EIO;
    } else {
        rv = risk_ruleset_parse(path, buf, n, rs, why, why_len);
    }
    free(buf);
    return rv;
}

/* ---- the default file ---- */

static char default_text[64 * 1024];
static size_t default_len;

static void out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(default_text + default_len, sizeof default_text - default_len, fmt, ap);
    va_end(ap);
    HANSA_ASSERT(n >= 0 && default_len + (size_t)n < sizeof default_text);
    default_len += (size_t)n;
}

static void param_value(const struct risk_param_spec *ps, int64_t v, char *buf, size_t cap)
{
    switch (ps->type) {
    case RISK_P_BOOL:
        snprintf(buf, cap, "%s", v ? "true" : "false");
        break;
    case RISK_P_INT:
        snprintf(buf, cap, "%" PRId64, v);
        break;
    case RISK_P_SEVERITY:
        snprintf(buf, cap, "%s", risk_severity_name((Hansa__Severity)v));
        break;
    case RISK_P_DURATION:
        format_duration(v, buf, cap);
        break;
    }
}

static void build_default_text(void)
{
    out("# Hansa risk ruleset (RISK.md). Every key is optional: a missing one keeps the\n"
        "# default shown here. Unknown sections or keys are errors. Durations take a\n"
        "# unit: ms, s, m, h, d. Severities: INFO, LOW, MEDIUM, HIGH, CRITICAL.\n"
        "# The SHA-256 of this file goes into every alert: all validators must run the\n"
        "# same file. Check a change with: hansad risk check FILE\n\n"
        "[ruleset]\nname = default\n\n"
        "# Listed (high-risk) jurisdictions, ISO 3166 alpha-2; the revision is stamped\n"
        "# into JURISDICTION and SHIP-ROUTE evidence.\n"
        "[jurisdictions]\nlist = ");
    size_t nj = sizeof jurisdictions_default / sizeof jurisdictions_default[0];
    for (size_t i = 0; i < nj; i++)
        out("%s%s", i ? ", " : "", jurisdictions_default[i]);
    out("\nrevision = " JURISDICTIONS_REV_DEFAULT "\n\n"
        "# Minimum transit time per ordered country pair (the reverse pair is used when\n"
        "# a pair is missing; pairs in neither direction are not checked).\n"
        "[transit]\n");
    for (size_t i = 0; i < sizeof transit_default / sizeof transit_default[0]; i++)
        out("%s = %s\n", transit_default[i].pair, transit_default[i].min);
    for (size_t i = 0; i < risk_rule_count; i++) {
        const struct risk_rule *r = risk_rules[i];
        out("\n# %s (revision %" PRIu32 "): %s\n[%s]\nenabled = true\n", r->id, r->rev, r->summary,
            r->id);
        for (size_t k = 0; k < r->n_params; k++) {
            char v[32];
            param_value(&r->params[k], r->params[k].def, v, sizeof v);
            out("# %s\n%s = %s\n", r->params[k].doc, r->params[k].name, v);
        }
    }
}

const char *risk_ruleset_default_text(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, build_default_text);
    return default_text;
}

void risk_ruleset_default(struct risk_ruleset *rs)
{
    base_defaults(rs);
    for (size_t i = 0; i < sizeof jurisdictions_default / sizeof jurisdictions_default[0]; i++)
        memcpy(rs->jurisdictions[rs->n_jurisdictions++], jurisdictions_default[i], 3);
    for (size_t i = 0; i < sizeof transit_default / sizeof transit_default[0]; i++) {
        struct risk_transit *t = &rs->transit[rs->n_transit++];
        memcpy(t->from, transit_default[i].pair, 2);
        memcpy(t->to, transit_default[i].pair + 3, 2);
        t->from[2] = t->to[2] = '\0';
        HANSA_ASSERT(parse_duration(transit_default[i].min, &t->min_ms));
    }
    const char *text = risk_ruleset_default_text();
    wire_sha256(text, strlen(text), rs->hash);
}
