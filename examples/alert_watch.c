/*
 * alert_watch: a durable alert subscriber (RISK.md "Subscriptions").
 *
 *   alert_watch --node URL [--ca FILE] [--server-name NAME] --key FILE
 *               --cursor-file FILE [--events URL] [--rule ID]... [--min-severity S]
 *
 * Prints every alert the key's party may see, one line each, in the
 * alert log's order:
 *
 *   #20.0 CRITICAL DUP-PLEDGE NEW [id 3f2a9c0e1b2d4f60] MER-SZ-0001 requested ...
 *
 * (cursor height.ordinal, severity, rule, kind, the first 8 bytes of the
 * alert id, the alert's sentence). Connection trouble and recoveries go to
 * stderr, prefixed "alert_watch:".
 *
 * Invariants:
 *   1. each alert is printed once, also across restarts: the subscription
 *      (hansa_subscribe) saves its cursor to the cursor file after every
 *      alert it delivers, and a restarted alert_watch resumes after it; a
 *      missing cursor file means "from the start of the alert log";
 *   2. SIGINT and SIGTERM stop it cleanly: they are blocked in every thread
 *      and taken by sigwait() in main, which closes the subscription (it
 *      waits for a callback in progress, so the line printed last is also
 *      the cursor saved last) and exits 0;
 *   3. a line that cannot be written (stdout closed, disk full) stops it
 *      with status 1 and names that alert's cursor on stderr: the
 *      subscription counts an alert as delivered once the callback has run,
 *      so the cursor file already lies past it, and the reader is told
 *      rather than left with a silent gap.
 *
 * Exit status: 0 stopped by a signal, 1 failure, 2 usage error.
 */
/* POSIX.1-2008 (clock_gettime, gmtime_r, sigwait): the project's build sets
 * it; this keeps the file compiling on its own (cc $(pkg-config ...)). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <hansa/hansa.h>

#define WATCH_RULES_MAX 32

struct options {
    const char *node, *ca, *server_name, *key, *cursor_file, *events;
    const char *rules[WATCH_RULES_MAX];
    size_t n_rules;
    Hansa__Severity min_severity;
};

struct watch {
    unsigned long long printed;
    hansa_cursor last; /* of the last alert delivered: where a restart resumes */
    int write_errno;   /* set once a line could not be written (invariant 3) */
};

static const char usage_text[] =
    "usage: alert_watch --node URL [--ca FILE] [--server-name NAME] --key FILE\n"
    "                   --cursor-file FILE [--events URL] [--rule ID]... [--min-severity S]\n"
    "\n"
    "Print every risk alert the key's party may see, once, in order; resume after\n"
    "the last printed alert when started again with the same cursor file. Stops\n"
    "cleanly on SIGINT or SIGTERM.\n"
    "\n"
    "  --node URL          the node's client API: tcp://host:port or tls+tcp://host:port\n"
    "  --ca FILE           the consortium CA certificate (needed for tls+tcp)\n"
    "  --server-name NAME  the node's name in its certificate (e.g. node0)\n"
    "  --key FILE          the party key (a regulator sees every alert)\n"
    "  --cursor-file FILE  where the position is kept; missing = from the first alert\n"
    "  --events URL        the node's live events (tls+tcp://host:port): alerts arrive\n"
    "                      at once instead of at the next poll\n"
    "  --rule ID           only this rule (repeatable), e.g. DUP-PLEDGE\n"
    "  --min-severity S    only INFO, LOW, MEDIUM, HIGH or CRITICAL and above\n";

static const char *const severity_names[] = {"UNSPECIFIED", "INFO", "LOW",
                                             "MEDIUM",      "HIGH", "CRITICAL"};
#define N_SEVERITIES (sizeof severity_names / sizeof severity_names[0])

static const char *kind_name(Hansa__AlertKind k)
{
    switch (k) {
    case HANSA__ALERT_KIND__ALERT_KIND_NEW:
        return "NEW";
    case HANSA__ALERT_KIND__ALERT_KIND_UPDATE:
        return "UPDATE";
    case HANSA__ALERT_KIND__ALERT_KIND_RESOLVED:
        return "RESOLVED";
    default:
        return "?";
    }
}

static bool parse_severity(const char *s, Hansa__Severity *out)
{
    for (size_t i = 1; i < N_SEVERITIES; i++)
        if (strcmp(s, severity_names[i]) == 0) {
            *out = (Hansa__Severity)i;
            return true;
        }
    return false;
}

/* One option with its value; false on a usage error. */
static bool parse_option(struct options *o, const char *name, const char *v)
{
    if (strcmp(name, "--node") == 0)
        o->node = v;
    else if (strcmp(name, "--ca") == 0)
        o->ca = v;
    else if (strcmp(name, "--server-name") == 0)
        o->server_name = v;
    else if (strcmp(name, "--key") == 0)
        o->key = v;
    else if (strcmp(name, "--cursor-file") == 0)
        o->cursor_file = v;
    else if (strcmp(name, "--events") == 0)
        o->events = v;
    else if (strcmp(name, "--rule") == 0 && o->n_rules < WATCH_RULES_MAX)
        o->rules[o->n_rules++] = v;
    else if (strcmp(name, "--min-severity") == 0)
        return parse_severity(v, &o->min_severity);
    else
        return false;
    return true;
}

/* 0 to run, 1 for --help, 2 for a usage error (said on stderr). */
static int parse_args(int argc, char **argv, struct options *o)
{
    memset(o, 0, sizeof *o);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (i + 1 >= argc || !parse_option(o, argv[i], argv[i + 1])) {
            fprintf(stderr, "alert_watch: bad option %s (see --help)\n", argv[i]);
            return 2;
        }
        i++;
    }
    if (o->node == NULL || o->key == NULL || o->cursor_file == NULL) {
        fprintf(stderr, "alert_watch: --node, --key and --cursor-file are needed (see --help)\n");
        return 2;
    }
    return 0;
}

/* On the subscription's thread, once per alert, in cursor order. */
static bool on_alert(void *arg, const Hansa__Alert *a)
{
    struct watch *w = arg;
    char id[17] = "";
    for (size_t i = 0; i < 8 && i < a->alert_id.len; i++)
        snprintf(id + 2 * i, 3, "%02x", a->alert_id.data[i]);
    unsigned sev = (unsigned)a->severity < N_SEVERITIES ? (unsigned)a->severity : 0;
    w->last = (hansa_cursor){a->cursor ? a->cursor->height : 0, a->cursor ? a->cursor->ordinal : 0};
    errno = 0;
    int n = printf("#%" PRIu64 ".%u %s %s %s [id %s] %s\n", a->cursor ? a->cursor->height : 0,
                   a->cursor ? a->cursor->ordinal : 0, severity_names[sev], a->rule_id,
                   kind_name(a->kind), id, a->message);
    if (n < 0 || fflush(stdout) != 0) {
        w->write_errno = errno ? errno : EIO;
        kill(getpid(), SIGTERM); /* wake main's sigwait (invariant 3) */
        return false;
    }
    w->printed++;
    return true;
}

static void on_state(void *arg, hansa_code code, const char *message)
{
    (void)arg;
    if (code == HANSA_CODE_OK)
        fprintf(stderr, "alert_watch: connected again: %s\n", message);
    else
        fprintf(stderr, "alert_watch: %s: %s\n", hansa_code_name(code), message);
}

static int watch(const struct options *o, const sigset_t *stop_signals)
{
    hansa_client_options co = {
        .url = o->node, .ca_path = o->ca, .server_name = o->server_name, .key_path = o->key};
    hansa_client *c = NULL;
    hansa_error err;
    if (hansa_client_open(&co, &c, &err) != HANSA_CODE_OK) {
        fprintf(stderr, "alert_watch: %s\n", err.message);
        return 1;
    }
    struct watch w = {0};
    hansa_subscription *s = NULL;
    hansa_subscription_options so = {
        .events_url = o->events,
        .cursor_path = o->cursor_file,
        .filter = {.rule_ids = o->n_rules ? o->rules : NULL,
                   .n_rule_ids = o->n_rules,
                   .min_severity = o->min_severity},
        .on_alert = on_alert,
        .on_state = on_state,
        .arg = &w,
    };
    if (hansa_subscribe(c, &so, &s, &err) != HANSA_CODE_OK) {
        fprintf(stderr, "alert_watch: %s\n", err.message);
        hansa_client_close(c);
        return 1;
    }
    hansa_cursor from = hansa_subscription_cursor(s);
    fprintf(stderr, "alert_watch: %s watching %s after alert %" PRIu64 ".%u (cursor file %s)\n",
            hansa_client_party(c), o->node, from.height, from.ordinal, o->cursor_file);
    int sig = 0;
    sigwait(stop_signals, &sig);
    hansa_subscription_close(s); /* waits for a callback in progress */
    hansa_client_close(c);
    /* The subscription's thread has ended: w is ours alone again. */
    if (w.printed == 0 && w.write_errno == 0)
        w.last = from;
    if (w.write_errno != 0) {
        fprintf(stderr,
                "alert_watch: cannot write alert #%" PRIu64 ".%u to stdout (%s); the cursor "
                "file already counts it as delivered\n",
                w.last.height, w.last.ordinal, strerror(w.write_errno));
        return 1;
    }
    fprintf(stderr,
            "alert_watch: stopped by %s after %llu alert%s (the last #%" PRIu64
            ".%u); %s keeps the position\n",
            sig == SIGINT ? "SIGINT" : "SIGTERM", w.printed, w.printed == 1 ? "" : "s",
            w.last.height, w.last.ordinal, o->cursor_file);
    return 0;
}

int main(int argc, char **argv)
{
    struct options o;
    int rv = parse_args(argc, argv, &o);
    if (rv != 0)
        return rv == 1 ? 0 : 2;
    /* Invariant 2: block before any SDK thread exists, so all inherit it. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed stdout is an error value (invariant 3) */
    return watch(&o, &stop_signals);
}
