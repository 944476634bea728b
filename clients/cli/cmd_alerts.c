/*
 * Risk alerts: `hansa alerts list` reads one page of the node's alert log
 * after a cursor; `hansa alerts watch` follows it with the SDK's durable
 * subscription and prints each alert as it arrives.
 *
 * watch and signals: SIGINT, SIGTERM and SIGUSR1 are blocked in every
 * thread before the client exists (threads the SDK and nng start inherit
 * the mask), and the main thread waits for one of them with sigwait. The
 * alert callback, on the subscription's thread, sends SIGUSR1 to the main
 * thread once --count alerts were printed. So the process stops the same
 * way whether a person presses Ctrl-C or a script asked for N alerts: the
 * subscription is closed (its cursor file already holds the last delivered
 * alert) and the exit status is 0.
 *
 * Output: a header and one fixed-width line per alert, or with --json one
 * hansa.Alert per line. State changes of the subscription (node
 * unreachable, reconnected, cursor expired) go to stderr, one line each.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FILTER_LIST_MAX 32 /* GetAlerts.rule_ids: at most 32 */

struct filter_buf {
    hansa_alert_filter f;
    const char *rules[FILTER_LIST_MAX];
    Hansa__AlertKind kinds[FILTER_LIST_MAX];
    Hansa__EntityRef subject;
    char subject_text[256];
};

static int subject_opt(struct cli *g, const char *text, struct filter_buf *b)
{
    /* TYPE:OWNER:ID, e.g. order:MER-SZ-0001:SO-1 or party::BANK-A */
    snprintf(b->subject_text, sizeof b->subject_text, "%s", text);
    char *c1 = strchr(b->subject_text, ':'), *c2 = c1 != NULL ? strchr(c1 + 1, ':') : NULL;
    int type;
    if (c2 == NULL)
        return cli_usage(g, "--subject %s: expected TYPE:OWNER:ID (order:MER-SZ-0001:SO-1)", text);
    *c1 = '\0';
    *c2 = '\0';
    if (strcmp(b->subject_text, "line") == 0)
        type = HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE;
    else if (!cli_parse_enum(&hansa__entity_type__descriptor, b->subject_text, &type))
        return cli_usage(g, "--subject %s: '%s' is not an entity type", text, b->subject_text);
    hansa__entity_ref__init(&b->subject);
    b->subject.type = (Hansa__EntityType)type;
    b->subject.owner = c1 + 1;
    b->subject.id = c2 + 1;
    b->f.subject = &b->subject;
    return CLI_EXIT_OK;
}

static int filter_opts(struct cli *g, const struct cli_args *a, struct filter_buf *b)
{
    memset(b, 0, sizeof *b);
    size_t nr = cli_arg_count(a, "rule"), nk = cli_arg_count(a, "kind");
    if (nr > FILTER_LIST_MAX || nk > FILTER_LIST_MAX)
        return cli_usage(g, "at most %d --rule and --kind filters", FILTER_LIST_MAX);
    for (size_t i = 0; i < nr; i++)
        b->rules[i] = cli_arg_nth(a, "rule", i);
    for (size_t i = 0; i < nk; i++) {
        const char *k = cli_arg_nth(a, "kind", i);
        int v;
        if (!cli_parse_enum(&hansa__alert_kind__descriptor, k, &v))
            return cli_usage(g, "--kind %s: expected NEW, UPDATE or RESOLVED", k);
        b->kinds[i] = (Hansa__AlertKind)v;
    }
    b->f.rule_ids = nr > 0 ? b->rules : NULL;
    b->f.n_rule_ids = nr;
    b->f.kinds = nk > 0 ? b->kinds : NULL;
    b->f.n_kinds = nk;
    const char *sev = cli_arg(a, "min-severity");
    if (sev != NULL) {
        int v;
        if (!cli_parse_enum(&hansa__severity__descriptor, sev, &v))
            return cli_usage(g, "--min-severity %s: expected INFO, LOW, MEDIUM, HIGH or CRITICAL",
                             sev);
        b->f.min_severity = (Hansa__Severity)v;
    }
    const char *party = cli_arg(a, "party");
    if (party != NULL && !cli_id_valid(party))
        return cli_usage(g, "--party '%s' is not a party id", party);
    b->f.party = party;
    const char *subject = cli_arg(a, "subject");
    return subject != NULL ? subject_opt(g, subject, b) : CLI_EXIT_OK;
}

static int cursor_opt(struct cli *g, const struct cli_args *a, hansa_cursor *out)
{
    const char *v = cli_arg(a, "after");
    *out = (hansa_cursor){0, 0};
    if (v != NULL && !cli_parse_cursor(v, out))
        return cli_usage(g, "--after %s: expected HEIGHT:ORDINAL, e.g. 12:0", v);
    return CLI_EXIT_OK;
}

static int ms_opt(struct cli *g, const struct cli_args *a, const char *name, uint64_t max,
                  uint32_t *out)
{
    const char *v = cli_arg(a, name);
    uint64_t n = 0;
    if (v != NULL && (!cli_parse_u64(v, max, &n) || n == 0))
        return cli_usage(g, "--%s %s: expected 1-%llu", name, v, (unsigned long long)max);
    *out = (uint32_t)n;
    return CLI_EXIT_OK;
}

/* ---- alerts list ---- */

static bool cursor_before(const Hansa__Cursor *a, const Hansa__Cursor *b)
{
    uint64_t ah = a ? a->height : 0, bh = b ? b->height : 0;
    uint32_t ao = a ? a->ordinal : 0, bo = b ? b->ordinal : 0;
    return ah < bh || (ah == bh && ao < bo);
}

static void list_text(struct cli *g, const Hansa__AlertPage *p, hansa_cursor after)
{
    if (p->n_alerts == 0)
        fprintf(g->out, "no alerts after %llu:%u\n", (unsigned long long)after.height,
                (unsigned)after.ordinal);
    else
        cli_render_alert_header(g->out);
    for (size_t i = 0; i < p->n_alerts; i++)
        cli_render_alert(g->out, p->alerts[i]);
    if (cursor_before(p->next_cursor, p->head_cursor))
        fprintf(g->out, "… more, use --after %llu:%u\n",
                (unsigned long long)(p->next_cursor ? p->next_cursor->height : 0),
                (unsigned)(p->next_cursor ? p->next_cursor->ordinal : 0));
}

static int alerts_list(struct cli *g, const struct cli_args *a)
{
    struct filter_buf fb;
    hansa_cursor after;
    uint32_t limit = 0, wait_ms = 0;
    int rv = filter_opts(g, a, &fb);
    if (rv == CLI_EXIT_OK)
        rv = cursor_opt(g, a, &after);
    if (rv == CLI_EXIT_OK)
        rv = ms_opt(g, a, "limit", 1000, &limit);
    if (rv == CLI_EXIT_OK)
        rv = ms_opt(g, a, "wait", 30000, &wait_ms);
    if (rv == CLI_EXIT_OK)
        rv = cli_connect(g, true);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__AlertPage *p = NULL;
    hansa_error err;
    hansa_code code =
        hansa_alerts_pull(g->client, after, &fb.f, limit != 0 ? limit : 50, wait_ms, &p, &err);
    if (code == HANSA_CODE_CURSOR_EXPIRED && p != NULL && p->earliest_cursor != NULL) {
        rv = cli_fail(g, CLI_EXIT_FAILURE,
                      "alerts up to %llu:%u are no longer kept; start again with --after "
                      "%llu:%u",
                      (unsigned long long)after.height, (unsigned)after.ordinal,
                      (unsigned long long)p->earliest_cursor->height,
                      (unsigned)p->earliest_cursor->ordinal);
        hansa_free(p);
        return rv;
    }
    if (code != HANSA_CODE_OK) {
        hansa_free(p);
        return cli_fail_sdk(g, code, &err);
    }
    if (g->json)
        rv = cli_print_json(g, p);
    else
        list_text(g, p, after);
    hansa_free(p);
    return rv;
}

/* ---- alerts watch ---- */

struct watch {
    struct cli *g;
    pthread_t main_thread;
    uint64_t max; /* --count; 0 = until stopped */
    atomic_uint_fast64_t count;
    hansa_cursor last; /* of the last alert printed; written by the callback only */
};

static bool on_alert(void *arg, const Hansa__Alert *al)
{
    struct watch *w = arg;
    if (w->g->json) {
        char *s = hansa_json_from_message(al, false);
        if (s != NULL) {
            fputs(s, w->g->out);
            fputc('\n', w->g->out);
        }
        free(s);
    } else {
        cli_render_alert(w->g->out, al);
    }
    fflush(w->g->out);
    if (al->cursor != NULL)
        w->last = (hansa_cursor){al->cursor->height, al->cursor->ordinal};
    uint64_t n = atomic_fetch_add(&w->count, 1) + 1;
    if (w->max != 0 && n >= w->max) {
        pthread_kill(w->main_thread, SIGUSR1);
        return false;
    }
    return true;
}

static void on_state(void *arg, hansa_code code, const char *message)
{
    struct watch *w = arg;
    if (code == HANSA_CODE_OK)
        fprintf(w->g->err, "hansa alerts watch: connected again: %s\n", message);
    else if (code == HANSA_CODE_CURSOR_EXPIRED)
        fprintf(w->g->err, "hansa alerts watch: cursor expired, resuming at the earliest: %s\n",
                message);
    else if (code == HANSA_CODE_IO)
        fprintf(w->g->err, "hansa alerts watch: cursor file: %s\n", message);
    else
        fprintf(w->g->err, "hansa alerts watch: %s: %s; reconnecting\n", hansa_code_name(code),
                message);
    fflush(w->g->err);
}

static int watch_opts(struct cli *g, const struct cli_args *a, hansa_subscription_options *o,
                      uint64_t *max)
{
    uint32_t poll_ms = 0;
    int rv = cursor_opt(g, a, &o->start);
    if (rv == CLI_EXIT_OK)
        rv = ms_opt(g, a, "poll", 30000, &poll_ms);
    if (rv != CLI_EXIT_OK)
        return rv;
    o->poll_ms = poll_ms;
    o->cursor_path = cli_arg(a, "cursor-file");
    const char *c = cli_arg(a, "count");
    *max = 0;
    if (c != NULL && (!cli_parse_u64(c, UINT32_MAX, max) || *max == 0))
        return cli_usage(g, "--count %s: expected a number of alerts, 1 or more", c);
    o->events_url = cli_arg(a, "events");
    if (o->events_url == NULL)
        o->events_url = getenv("HANSA_EVENTS");
    if (o->events_url != NULL && o->events_url[0] == '\0')
        o->events_url = NULL;
    if (o->events_url != NULL && strncmp(o->events_url, "tls+tcp://", 10) == 0 &&
        (g->ca == NULL || g->server_name == NULL))
        return cli_usage(g, "--events %s is a TLS url: give --ca FILE and --server-name NAME",
                         o->events_url);
    return CLI_EXIT_OK;
}

static int alerts_watch(struct cli *g, const struct cli_args *a)
{
    struct filter_buf fb;
    hansa_subscription_options o;
    memset(&o, 0, sizeof o);
    uint64_t max = 0;
    int rv = filter_opts(g, a, &fb);
    if (rv == CLI_EXIT_OK)
        rv = watch_opts(g, a, &o, &max);
    if (rv != CLI_EXIT_OK)
        return rv;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    if ((rv = cli_connect(g, true)) != CLI_EXIT_OK)
        return rv;
    struct watch w = {.g = g, .main_thread = pthread_self(), .max = max};
    atomic_init(&w.count, 0);
    o.filter = fb.f;
    o.on_alert = on_alert;
    o.on_state = on_state;
    o.arg = &w;
    if (!g->json) {
        cli_render_alert_header(g->out);
        fflush(g->out);
    }
    hansa_subscription *s = NULL;
    hansa_error err;
    hansa_code code = hansa_subscribe(g->client, &o, &s, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    int sig = 0;
    sigwait(&set, &sig);
    /* Closing waits for a callback in progress, so w is final after it. */
    hansa_subscription_close(s);
    uint64_t n = atomic_load(&w.count);
    fprintf(g->err, "hansa alerts watch: stopped after %llu alert%s", (unsigned long long)n,
            n == 1 ? "" : "s");
    if (n > 0)
        fprintf(g->err, ", the last at cursor %llu:%u", (unsigned long long)w.last.height,
                (unsigned)w.last.ordinal);
    fputc('\n', g->err);
    return CLI_EXIT_OK;
}

/* ---- options and help ---- */

/* clang-format off */
#define FILTER_OPTS \
    {"rule", CLI_OPT_LIST, NULL}, {"min-severity", CLI_OPT_VALUE, NULL}, \
    {"party", CLI_OPT_VALUE, NULL}, {"kind", CLI_OPT_LIST, NULL}, {"subject", CLI_OPT_VALUE, NULL}
/* clang-format on */

static const struct cli_opt list_opts[] = {
    FILTER_OPTS,
    {"after", CLI_OPT_VALUE, NULL},
    {"limit", CLI_OPT_VALUE, NULL},
    {"wait", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt watch_opts_list[] = {
    FILTER_OPTS,
    {"after", CLI_OPT_VALUE, NULL},
    {"cursor-file", CLI_OPT_VALUE, NULL},
    {"events", CLI_OPT_VALUE, NULL},
    {"poll", CLI_OPT_VALUE, NULL},
    {"count", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

#define FILTER_HELP                                                                                \
    "Filters (combined with AND; you see alerts about your party, a regulator all):\n"             \
    "  --rule ID               only this rule (DUP-PLEDGE, DOC-MISMATCH, ...); repeat\n"           \
    "  --min-severity SEV      INFO, LOW, MEDIUM, HIGH or CRITICAL and above\n"                    \
    "  --party ID              only alerts involving this party\n"                                 \
    "  --kind KIND             NEW, UPDATE or RESOLVED; repeat\n"                                  \
    "  --subject TYPE:OWNER:ID only alerts about this entity (order:MER-SZ-0001:SO-1)\n"

static const char help_list[] =
    "List the risk alerts after a cursor, oldest first, one page at a time. A\n"
    "cursor is HEIGHT:ORDINAL; each alert shows its own.\n"
    "\n"
    "  --after H:O     alerts after this cursor (default 0:0, the start)\n"
    "  --limit N       alerts per page, 1-1000 (default 50)\n"
    "  --wait MS       when there are none yet, wait up to this long (max 30000)\n" FILTER_HELP "\n"
    "With --json the page is printed as a hansa.AlertPage: pass its next_cursor as\n"
    "--after for the next one.\n"
    "\n"
    "Example:\n"
    "  hansa alerts list --min-severity HIGH --after 0:0 --limit 20\n";

static const char help_watch[] =
    "Follow the alert log and print each alert as it arrives, until Ctrl-C (or\n"
    "--count alerts). With --cursor-file the position survives restarts: the file\n"
    "is updated after every alert, and the next watch resumes after the last one,\n"
    "missing none and repeating none. A line on stderr says when the node cannot\n"
    "be reached and when it is reached again.\n"
    "\n"
    "  --cursor-file FILE  where to keep the cursor (created if missing)\n"
    "  --after H:O         where to start without a cursor file (default 0:0)\n"
    "  --events URL        the node's live events for prompt delivery, e.g.\n"
    "                      tls+tcp://127.0.0.1:26603 (env HANSA_EVENTS); without it\n"
    "                      the node is long-polled\n"
    "  --poll MS           long-poll length, ms (default 10000)\n"
    "  --count N           stop after N alerts\n" FILTER_HELP "\n"
    "With --json each alert is one hansa.Alert per line.\n"
    "\n"
    "Example:\n"
    "  hansa alerts watch --cursor-file regulator.cursor --min-severity MEDIUM\n";

const struct cli_cmd cli_cmds_alerts[] = {
    {"alerts", "list", "one page of risk alerts after a cursor", help_list,
     "hansa alerts list [--after H:O] [--limit N] [filters]", list_opts, 0, alerts_list},
    {"alerts", "watch", "follow risk alerts as they arrive", help_watch,
     "hansa alerts watch [--cursor-file FILE] [--after H:O] [--count N] [filters]", watch_opts_list,
     0, alerts_watch},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL},
};
