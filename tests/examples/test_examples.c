/*
 * The examples run against four real validators (label cluster).
 *
 * Timeline of the main test:
 *   1. a 4-validator testnet on free loopback ports, all four started;
 *   2. alert_watch starts as the regulator with a fresh cursor file;
 *   3. trade_flow runs (tag T1) and must exit 0 with its key lines: the
 *      refusal ASSET_ALREADY_PLEDGED, the MISMATCHED (PAYER) order, the
 *      DUP-PLEDGE and 3DOC-MISMATCH alerts at the regulator, the settled
 *      financing, identical blocks on all nodes;
 *   4. alert_watch has printed every alert of the node's alert log; it is
 *      stopped with SIGTERM and exits 0;
 *   5. trade_flow runs again (tag T2) while nobody watches;
 *   6. alert_watch starts again with the same cursor file, prints exactly
 *      the alerts it missed, and exits 0 on SIGINT;
 *   7. across both runs every alert of the log was printed exactly once, in
 *      cursor order; the nodes stop cleanly.
 * The node's alert log, pulled through the SDK as the regulator, is the
 * reference. The fixture's fini kills whatever is still running, so a failed
 * assertion never leaves a process behind.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "cluster.h"
#include "hansa/hansa.h"

#define IDS_MAX      64
#define ID_HEX_CHARS 16
#define RUN_MS       180000u
#define WAIT_MS      60000u

/* Alert ids as alert_watch prints them: the first 8 bytes in hex. */
struct ids {
    char id[IDS_MAX][ID_HEX_CHARS + 1];
    size_t n;
};

static struct cluster net;
static struct proc watcher;
static bool watcher_running;

static void setup(void)
{
    cluster_init(&net, 4, "hansa-examples");
    for (int i = 0; i < 4; i++)
        cluster_start(&net, i);
    if (!cluster_wait_ready(&net, -1, WAIT_MS)) {
        for (int i = 0; i < 4; i++)
            cluster_dump_log(&net, i, 20);
        cr_assert_fail("the four nodes did not start");
    }
}

static void teardown(void)
{
    if (watcher_running) {
        proc_signal(&watcher, SIGKILL);
        proc_wait(&watcher, 10000);
        watcher_running = false;
    }
    cluster_fini(&net, false);
}

/* The whole file (caller frees); "" when it does not exist. */
static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return strdup("");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;
    char chunk[4096];
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (len + n + 1 > cap) {
            cap = 2 * (len + n + 1);
            buf = realloc(buf, cap);
            cr_assert_not_null(buf);
        }
        memcpy(buf + len, chunk, n);
        len += n;
    }
    fclose(f);
    if (buf == NULL)
        return strdup("");
    buf[len] = '\0';
    return buf;
}

static void path_of(char *out, size_t len, const char *name)
{
    snprintf(out, len, "%s/%s", net.dir, name);
}

/* Run trade_flow with tag; assert exit 0; return its output (caller frees). */
static char *run_trade_flow(const char *tag)
{
    char base[16], log[400];
    snprintf(base, sizeof base, "%d", net.base_port);
    snprintf(log, sizeof log, "%s/flow-%s.log", net.dir, tag);
    char *argv[] = {HANSA_BIN_DIR "/trade_flow",
                    "--net",
                    net.net,
                    "--base-port",
                    base,
                    "--nodes",
                    "4",
                    "--tag",
                    (char *)tag,
                    NULL};
    int status = proc_run(argv, log, RUN_MS);
    char *out = slurp(log);
    if (status != 0)
        fprintf(stderr, "---- trade_flow %s ----\n%s---- end ----\n", tag, out);
    cr_assert_eq(status, 0, "trade_flow --tag %s exited with %d (output above)", tag, status);
    return out;
}

static void expect_line(const char *out, const char *text)
{
    cr_expect_not_null(strstr(out, text), "trade_flow printed no \"%s\"", text);
}

static void start_watcher(const char *log_name)
{
    char url[64], events[64], ca[400], key[400], cursor[400], log[400];
    snprintf(url, sizeof url, "tls+tcp://127.0.0.1:%d", net.base_port + 31);
    snprintf(events, sizeof events, "tls+tcp://127.0.0.1:%d", net.base_port + 33);
    snprintf(ca, sizeof ca, "%s/parties/ca.crt", net.net);
    snprintf(key, sizeof key, "%s/parties/CUS-0001.key", net.net);
    path_of(cursor, sizeof cursor, "alerts.cursor");
    path_of(log, sizeof log, log_name);
    char *argv[] = {HANSA_BIN_DIR "/alert_watch",
                    "--node",
                    url,
                    "--ca",
                    ca,
                    "--server-name",
                    "node3",
                    "--key",
                    key,
                    "--cursor-file",
                    cursor,
                    "--events",
                    events,
                    NULL};
    cr_assert_eq(proc_spawn(&watcher, argv, log), 0);
    watcher_running = true;
}

/* Stop the watcher with sig; assert it exits 0 and says so. */
static void stop_watcher(int sig, const char *log_name)
{
    proc_signal(&watcher, sig);
    int status = proc_wait(&watcher, WAIT_MS);
    if (status < 0) { /* hung: no process outlives the test */
        proc_signal(&watcher, SIGKILL);
        proc_wait(&watcher, WAIT_MS);
    }
    watcher_running = false;
    char log[400];
    path_of(log, sizeof log, log_name);
    char *out = slurp(log);
    cr_assert_eq(status, 0, "alert_watch exited with %d:\n%s", status, out);
    cr_expect_not_null(strstr(out, sig == SIGINT ? "stopped by SIGINT" : "stopped by SIGTERM"),
                       "alert_watch did not say it stopped:\n%s", out);
    free(out);
}

/* The ids alert_watch printed, in order; asserts ascending cursors. */
static void printed_ids(const char *log_name, struct ids *out)
{
    char log[400];
    path_of(log, sizeof log, log_name);
    char *text = slurp(log);
    out->n = 0;
    unsigned long long last_h = 0, h;
    unsigned last_o = 0, o;
    bool first = true;
    for (char *line = strtok(text, "\n"); line != NULL; line = strtok(NULL, "\n")) {
        char *id = strstr(line, "[id ");
        if (line[0] != '#' || id == NULL)
            continue;
        cr_assert_eq(sscanf(line, "#%llu.%u", &h, &o), 2, "bad line: %s", line);
        cr_assert(first || h > last_h || (h == last_h && o > last_o), "out of order: %s", line);
        first = false;
        last_h = h;
        last_o = o;
        cr_assert_lt(out->n, (size_t)IDS_MAX);
        snprintf(out->id[out->n++], ID_HEX_CHARS + 1, "%s", id + 4);
    }
    free(text);
}

static size_t count_id(const struct ids *s, const char *id)
{
    size_t k = 0;
    for (size_t i = 0; i < s->n; i++)
        k += strcmp(s->id[i], id) == 0;
    return k;
}

/* The node's alert log as the regulator sees it (all alerts). */
static void reference_ids(struct ids *out, bool *dup_pledge, bool *mismatch)
{
    char url[64], key[400];
    snprintf(url, sizeof url, "tcp://127.0.0.1:%d", net.base_port + 32);
    snprintf(key, sizeof key, "%s/parties/CUS-0001.key", net.net);
    hansa_client_options o = {.url = url, .key_path = key};
    hansa_client *c = NULL;
    hansa_error err;
    cr_assert_eq(hansa_client_open(&o, &c, &err), HANSA_CODE_OK, "%s", err.message);
    Hansa__AlertPage *page = NULL;
    cr_assert_eq(hansa_alerts_pull(c, (hansa_cursor){0, 0}, NULL, 1000, 0, &page, &err),
                 HANSA_CODE_OK, "%s", err.message);
    out->n = 0;
    for (size_t i = 0; i < page->n_alerts; i++) {
        const Hansa__Alert *a = page->alerts[i];
        cr_assert_lt(out->n, (size_t)IDS_MAX);
        for (size_t b = 0; b < 8; b++)
            snprintf(out->id[out->n] + 2 * b, 3, "%02x", a->alert_id.data[b]);
        out->n++;
        *dup_pledge = *dup_pledge || strcmp(a->rule_id, "DUP-PLEDGE") == 0;
        *mismatch = *mismatch || strcmp(a->rule_id, "3DOC-MISMATCH") == 0;
    }
    hansa_free(page);
    hansa_client_close(c);
}

struct watch_wait {
    const char *log_name;
    const struct ids *want;
};

static bool printed_all(void *arg)
{
    struct watch_wait *w = arg;
    struct ids got;
    printed_ids(w->log_name, &got);
    for (size_t i = 0; i < w->want->n; i++)
        if (count_id(&got, w->want->id[i]) == 0)
            return false;
    return true;
}

static void wait_printed(const char *log_name, const struct ids *want)
{
    struct watch_wait w = {log_name, want};
    if (!proc_wait_until(printed_all, &w, WAIT_MS)) {
        char log[400];
        path_of(log, sizeof log, log_name);
        char *out = slurp(log);
        cr_assert_fail("alert_watch did not print all %zu alerts in time:\n%s", want->n, out);
    }
}

static void check_trade_flow_output(const char *out, const char *tag)
{
    char line[128];
    expect_line(out, "three-document match MATCHED");
    expect_line(out, "ledger: REJECTED ASSET_ALREADY_PLEDGED");
    expect_line(out, "three-document match: MISMATCHED (PAYER)");
    expect_line(out, "ledger: REJECTED NOT_MATCHED");
    expect_line(out, "CUS-0001 receives alert CRITICAL DUP-PLEDGE");
    expect_line(out, "CUS-0001 receives alert MEDIUM 3DOC-MISMATCH");
    snprintf(line, sizeof line, "financing FIN-%s-A: SETTLED", tag);
    expect_line(out, line);
    expect_line(out, "Every one of the 4 nodes holds the same block");
    snprintf(line, sizeof line, "Trade flow complete: order SO-%s recorded", tag);
    expect_line(out, line);
}

Test(examples, trade_flow_and_alert_watch_on_four_validators, .init = setup, .fini = teardown)
{
    start_watcher("watch1.log");

    char *out = run_trade_flow("T1");
    check_trade_flow_output(out, "T1");
    free(out);

    struct ids ref1, ref2, got1, got2;
    bool dup = false, mis = false;
    reference_ids(&ref1, &dup, &mis);
    cr_assert(dup && mis, "the alert log lacks DUP-PLEDGE or 3DOC-MISMATCH");
    wait_printed("watch1.log", &ref1);
    stop_watcher(SIGTERM, "watch1.log");
    printed_ids("watch1.log", &got1);

    out = run_trade_flow("T2"); /* alerts while nobody watches */
    check_trade_flow_output(out, "T2");
    free(out);
    reference_ids(&ref2, &dup, &mis);
    cr_assert_gt(ref2.n, ref1.n, "the second run raised no alert");

    struct ids missed = {.n = 0}; /* the alerts of the second run */
    for (size_t i = ref1.n; i < ref2.n; i++)
        snprintf(missed.id[missed.n++], ID_HEX_CHARS + 1, "%s", ref2.id[i]);
    start_watcher("watch2.log");
    wait_printed("watch2.log", &missed);
    stop_watcher(SIGINT, "watch2.log");
    printed_ids("watch2.log", &got2);

    for (size_t i = 0; i < ref2.n; i++) {
        const char *id = ref2.id[i];
        size_t before = count_id(&got1, id), after = count_id(&got2, id);
        cr_expect_eq(before + after, 1, "alert %s printed %zu + %zu times", id, before, after);
        cr_expect_eq(after, i < ref1.n ? 0u : 1u, "alert %s printed by the wrong run", id);
    }
    cr_expect_eq(got1.n + got2.n, ref2.n, "printed %zu + %zu alerts, the log holds %zu", got1.n,
                 got2.n, ref2.n);

    for (int i = 0; i < 4; i++)
        cluster_stop(&net, i);
}

Test(examples, trade_flow_refuses_an_unknown_option)
{
    char log[] = "/tmp/hansa-ex-usage-XXXXXX";
    int fd = mkstemp(log);
    cr_assert_geq(fd, 0);
    close(fd);
    char *argv[] = {HANSA_BIN_DIR "/trade_flow", "--colour", "red", NULL};
    cr_expect_eq(proc_run(argv, log, 10000), 2);
    char *out = slurp(log);
    cr_expect_not_null(strstr(out, "bad option --colour"), "%s", out);
    free(out);
    unlink(log);
}

Test(examples, alert_watch_needs_a_node_a_key_and_a_cursor_file)
{
    char log[] = "/tmp/hansa-ex-usage-XXXXXX";
    int fd = mkstemp(log);
    cr_assert_geq(fd, 0);
    close(fd);
    char *argv[] = {HANSA_BIN_DIR "/alert_watch", "--node", "tcp://127.0.0.1:1", NULL};
    cr_expect_eq(proc_run(argv, log, 10000), 2);
    char *out = slurp(log);
    cr_expect_not_null(strstr(out, "--node, --key and --cursor-file are needed"), "%s", out);
    free(out);
    unlink(log);
}
