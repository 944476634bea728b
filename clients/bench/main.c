/*
 * hansa-bench: measures this machine's Ed25519 verification rate, brings up
 * (or joins) a local validator network, opens the bank's credit line the
 * load finances against, pre-signs the load, runs it, and prints committed
 * tx/s, latency percentiles and the ratio to the signature bound
 *   bound = verifications per second per core × cores ÷ validators
 * (every validator verifies every transaction once). With --half it runs a
 * second time at half the rate the first run achieved, for latency under
 * moderate load. The last lines are machine-readable:
 *   RESULT label=... tps=... ok_tps=... p50_ms=... p90_ms=... p99_ms=... ...
 *   BOUND verify_per_core=... cores=... validators=... bound=...
 */
#define _GNU_SOURCE
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

struct options {
    const char *net_dir;
    const char *hansad;
    int validators;
    int clients;
    double rate;
    int seconds, warmup;
    int max_tps;
    bool half, keep, poll;
    enum bench_mix mix;
};

static int usage_to(FILE *f, int status)
{
    fprintf(f, "usage: hansa-bench [--net DIR] [--validators N] [--clients C] [--rate R]\n"
               "                   [--seconds S] [--warmup W] [--max-tps T] [--mix trade|orders]\n"
               "                   [--receipts events|poll] [--half] [--keep] [--hansad PATH]\n"
               "  --net DIR       use the testnet in DIR (start its nodes unless they answer);\n"
               "                  default: a new one in a temporary directory, removed at the end\n"
               "  --validators N  validators of a new testnet (4)\n"
               "  --clients C     concurrent submitters over the nodes' TLS APIs (32)\n"
               "  --rate R        submit R tx/s in total (default: as fast as accepted)\n"
               "  --seconds S     steady window (60); --warmup W before it (10)\n"
               "  --max-tps T     size of the pre-signed load: T tx/s for W + S seconds (4000)\n"
               "  --mix M         trade: orders, payments, waybills, events, financing (default);\n"
               "                  orders: CreateOrder only (state-size runs)\n"
               "  --receipts R    events: receipts from each node's tx/ events, and receipts\n"
               "                  the events dropped are polled for after 10 s (default);\n"
               "                  poll: no tx/ events, every receipt is polled for\n"
               "                  (GetReceipt), so latencies are upper bounds\n"
               "  --half          then run again at half the achieved rate (latency at half load)\n"
               "  --keep          keep the temporary testnet\n"
               "Prints progress every few seconds, then one line per run:\n"
               "  RESULT label=max|half tps=... ok_tps=... p50_ms=... p90_ms=... p99_ms=...\n"
               "         ... recovered=... lost=...  (receipts found by polling; admitted\n"
               "         transactions that no node knows any more)\n"
               "make bench runs it with --half and the etcd peer (BENCHMARKS.md).\n");
    return status;
}

static int usage(void)
{
    return usage_to(stderr, 2);
}

static bool int_arg(const char *v, int lo, int hi, int *out)
{
    char *end = NULL;
    long x = v ? strtol(v, &end, 10) : 0;
    if (v == NULL || *end != 0 || x < lo || x > hi)
        return false;
    *out = (int)x;
    return true;
}

static int parse(int argc, char **argv, struct options *o)
{
    *o = (struct options){.validators = 4,
                          .clients = 32,
                          .seconds = 60,
                          .warmup = 10,
                          .max_tps = 4000,
                          .mix = MIX_TRADE};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        bool ok = true, takes = true;
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0)
            return usage_to(stdout, 0) == 0 ? -1 : 2;
        if (strcmp(a, "--net") == 0)
            o->net_dir = v, ok = v != NULL;
        else if (strcmp(a, "--hansad") == 0)
            o->hansad = v, ok = v != NULL;
        else if (strcmp(a, "--validators") == 0)
            ok = int_arg(v, 1, BENCH_NODES_MAX, &o->validators);
        else if (strcmp(a, "--clients") == 0)
            ok = int_arg(v, 1, 1024, &o->clients);
        else if (strcmp(a, "--seconds") == 0)
            ok = int_arg(v, 1, 3600, &o->seconds);
        else if (strcmp(a, "--warmup") == 0)
            ok = int_arg(v, 0, 600, &o->warmup);
        else if (strcmp(a, "--max-tps") == 0)
            ok = int_arg(v, 1, 1000000, &o->max_tps);
        else if (strcmp(a, "--rate") == 0) {
            int r = 0;
            ok = int_arg(v, 1, 1000000, &r);
            o->rate = r;
        } else if (strcmp(a, "--mix") == 0) {
            ok = v != NULL && (strcmp(v, "trade") == 0 || strcmp(v, "orders") == 0);
            o->mix = ok && strcmp(v, "orders") == 0 ? MIX_ORDERS : MIX_TRADE;
        } else if (strcmp(a, "--receipts") == 0) {
            ok = v != NULL && (strcmp(v, "events") == 0 || strcmp(v, "poll") == 0);
            o->poll = ok && strcmp(v, "poll") == 0;
        } else if (strcmp(a, "--half") == 0)
            o->half = true, takes = false;
        else if (strcmp(a, "--keep") == 0)
            o->keep = true, takes = false;
        else
            ok = false;
        if (!ok) {
            fprintf(stderr, "hansa-bench: bad option %s%s%s\n", a, v && takes ? " " : "",
                    v && takes ? v : "");
            return usage();
        }
        i += takes;
    }
    return 0;
}

/* Verifications per second on one thread: a tight loop over pre-signed
 * 300-byte messages for about two seconds. */
static double verify_rate(void)
{
    enum { N = 256, LEN = 300 };
    static uint8_t msg[N][LEN], sig[N][WIRE_SIG_BYTES];
    struct wire_keypair kp;
    wire_keypair_generate(&kp);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < LEN; j++)
            msg[i][j] = (uint8_t)(i * 31 + j);
        if (wire_sign(WIRE_TAG_TX, "bench", msg[i], LEN, kp.secret_key, sig[i]) != HANSA_OK)
            return 0;
    }
    uint64_t t0 = bench_now_ns(), n = 0, bad = 0;
    while (bench_now_ns() - t0 < 2000000000u) {
        for (int i = 0; i < N; i++, n++)
            bad +=
                wire_verify(WIRE_TAG_TX, "bench", msg[i], LEN, kp.public_key, sig[i]) != HANSA_OK;
    }
    double secs = (double)(bench_now_ns() - t0) / 1e9;
    wire_keypair_wipe(&kp);
    return bad ? 0 : (double)n / secs;
}

static void default_hansad(char *out, size_t len, const char *argv0)
{
    char self[PATH_MAX - 16];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        snprintf(out, len, "%s", argv0);
        return;
    }
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (slash)
        *slash = 0;
    snprintf(out, len, "%s/hansad", self);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

static void run_tag(char *out, size_t len, const char *suffix)
{
    snprintf(out, len, "%lx%x%s", (unsigned long)time(NULL), (unsigned)getpid() & 0xfff, suffix);
}

static void print_result(const char *label, const struct bench_opts *bo,
                         const struct bench_result *r, const struct bench_net *net,
                         const struct bench_load *l, double bound)
{
    printf("\n== %s: %d clients, rate %s, %ds steady after %ds warm-up ==\n", label, bo->clients,
           bo->rate > 0 ? "fixed" : "max", bo->seconds, bo->warmup);
    if (bo->rate > 0)
        printf("offered rate          %.0f tx/s\n", bo->rate);
    printf("committed             %.0f tx/s (%" PRIu64 " in %" PRIu64
           " blocks), RESULT_OK %.0f tx/s\n",
           r->tps, r->committed, r->blocks, r->ok_tps);
    printf("latency submit→commit p50 %.0f ms  p90 %.0f ms  p99 %.0f ms  (%" PRIu64
           " receipts sampled)\n",
           r->p50_ms, r->p90_ms, r->p99_ms, r->samples);
    printf("sent %" PRIu64 ", accepted %" PRIu64 ", busy %" PRIu64 ", refused %" PRIu64
           "; mean body %.0f bytes\n",
           r->submitted, r->accepted, r->busy, r->rejected,
           l->n_tx ? (double)l->body_bytes / (double)l->n_tx : 0.0);
    printf("ratio to the Ed25519 bound: %.2f\n", bound > 0 ? r->tps / bound : 0);
    if (r->cpu_us_per_tx > 0)
        printf("node CPU per committed transaction (all validators): %.0f us\n", r->cpu_us_per_tx);
    for (int i = 0; i < net->n; i++)
        if (net->node[i].pid > 0)
            printf("%s resident %" PRIu64 " MiB\n", net->node[i].id,
                   bench_rss_kib(net->node[i].pid) / 1024);
    printf("receipts dropped by the events and found by polling: %" PRIu64
           "; admitted but then unknown to every node: %" PRIu64 "\n",
           r->recovered, r->lost);
    printf("RESULT label=%s tps=%.0f ok_tps=%.0f p50_ms=%.0f p90_ms=%.0f p99_ms=%.0f "
           "clients=%d rate=%.0f samples=%" PRIu64 " recovered=%" PRIu64 " lost=%" PRIu64
           " cpu_us_per_tx=%.0f exhausted=%d\n",
           label, r->tps, r->ok_tps, r->p50_ms, r->p90_ms, r->p99_ms, bo->clients, bo->rate,
           r->samples, r->recovered, r->lost, r->cpu_us_per_tx, r->exhausted);
    fflush(stdout);
}

/* The half-load run measures half load only once the max-load run's backlog
 * (up to a full mempool on every node) has committed: started at once, its
 * first transactions queued behind that backlog and its p99 measured the
 * drain (6.2 s in one run, against 137 ms on a fresh network at the same
 * rate). Waits until every mempool is empty, at most DRAIN_WAIT_S. */
#define DRAIN_WAIT_S 300

static void wait_drained(const struct bench_net *net)
{
    for (int s = 0; s < DRAIN_WAIT_S; s++) {
        long total = 0;
        for (int i = 0; i < net->n; i++) {
            long n = bench_node_mempool(net, i);
            total += n > 0 ? n : 0;
        }
        if (total == 0)
            return;
        if (s % 5 == 0)
            printf("waiting for the mempools to drain before the half-load run: %ld "
                   "transactions left\n",
                   total);
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    printf("the mempools did not drain in %d s; the half-load run starts anyway\n", DRAIN_WAIT_S);
}

static int one_run(const char *label, const struct options *o, const struct bench_net *net,
                   const struct bench_keys *keys, const char *line_id, double rate, double bound,
                   struct bench_result *res)
{
    double size_tps = rate > 0 ? rate * 1.1 : o->max_tps;
    double per_chain = o->mix == MIX_TRADE ? 4.25 : 1.0;
    uint32_t chains = (uint32_t)(size_tps * (o->warmup + o->seconds) / per_chain) + 2000;
    char tag[48];
    run_tag(tag, sizeof tag, label[0] == 'h' ? "h" : "");
    struct bench_load l;
    uint64_t t0 = bench_now_ns();
    uint64_t span_ms = (uint64_t)(o->warmup + o->seconds) * 1000u;
    if (bench_load_make(&l, keys, net->chain_id, tag, line_id, chains, o->mix, span_ms) != 0) {
        fprintf(stderr, "hansa-bench: cannot generate the load\n");
        return -1;
    }
    printf("%s: pre-signed %zu transactions (%u chains) in %.1f s\n", label, l.n_tx, chains,
           (double)(bench_now_ns() - t0) / 1e9);
    struct bench_opts bo = {.clients = o->clients,
                            .rate = rate,
                            .seconds = o->seconds,
                            .warmup = o->warmup,
                            .progress_s = 5,
                            .poll = o->poll,
                            .label = label};
    int rv = bench_run(net, &l, &bo, res);
    if (rv == 0)
        print_result(label, &bo, res, net, &l, bound);
    bench_load_free(&l);
    return rv;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct options o;
    int rv = parse(argc, argv, &o);
    if (rv != 0)
        return rv < 0 ? 0 : rv; /* -1: --help was answered */
    if (wire_global_init() != HANSA_OK)
        return 1;
    char hansad[PATH_MAX];
    if (o.hansad)
        snprintf(hansad, sizeof hansad, "%s", o.hansad);
    else
        default_hansad(hansad, sizeof hansad, argv[0]);

    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    double per_core = verify_rate();
    printf("Ed25519 verify: %.0f/s on one core, %ld cores\n", per_core, cores);

    char tmp[] = "/tmp/hansa-bench-XXXXXX", dir[600];
    bool created = o.net_dir == NULL;
    if (created) {
        if (mkdtemp(tmp) == NULL) {
            perror("mkdtemp");
            return 1;
        }
        snprintf(dir, sizeof dir, "%s/net", tmp);
        if (bench_net_create(hansad, dir, o.validators) != 0)
            return 1;
    } else {
        snprintf(dir, sizeof dir, "%s", o.net_dir);
    }
    struct bench_net net;
    struct bench_keys keys;
    rv = bench_net_load(dir, &net) == 0 ? 0 : 1;
    double bound = per_core * (double)cores / (net.n > 0 ? net.n : 1);
    if (rv == 0)
        printf("bound = %.0f × %ld ÷ %d = %.0f tx/s\n", per_core, cores, net.n, bound);
    if (rv == 0 && bench_net_start(hansad, &net, 60000) != 0)
        rv = 1;
    if (rv == 0 && bench_keys_load(dir, &keys) != 0)
        rv = 1;
    char line_id[48] = "BL-";
    run_tag(line_id + 3, sizeof line_id - 3, "");
    if (rv == 0 && o.mix == MIX_TRADE) {
        uint8_t *req = NULL, id[WIRE_HASH_BYTES];
        size_t len = 0;
        rv = bench_line_request(&keys, net.chain_id, line_id, &req, &len, id) == 0 &&
                     bench_submit_wait(&net, req, len, id, 60000) == 0
                 ? 0
                 : 1;
        free(req);
        if (rv != 0)
            fprintf(stderr, "hansa-bench: the credit line did not commit\n");
    }
    struct bench_result max = {0}, half = {0};
    if (rv == 0)
        rv = one_run("max", &o, &net, &keys, line_id, o.rate, bound, &max) == 0 ? 0 : 1;
    if (rv == 0 && o.half && max.tps > 0) {
        wait_drained(&net);
        rv = one_run("half", &o, &net, &keys, line_id, max.tps / 2, bound, &half) == 0 ? 0 : 1;
    }
    printf("BOUND verify_per_core=%.0f cores=%ld validators=%d bound=%.0f\n", per_core, cores,
           net.n, bound);
    bench_net_stop(&net, 30000);
    if (created && !o.keep)
        nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    else if (created)
        printf("testnet kept in %s\n", dir);
    return rv;
}
