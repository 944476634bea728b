/*
 * sim_run: the simulator's command line (tests/sim/run wraps it).
 *
 *   sim_run --seed S [--validators N]    replay one seed, printing its trace
 *   sim_run --seeds A-B [--validators N] run a range, print a summary
 *   sim_run --soak [--from S]            run seeds until SIGINT (alternating 4
 *                                        and 7 validators unless --validators)
 * Options: --keep-going (a range runs on past violations and counts them by
 * checker), --heights H (blocks every correct validator must reach; default
 * 8), --quiet (no trace for --seed), --trace-hash (print the trace digest),
 * --byzantine I|none (force the Byzantine validator), --mutate
 * lying-fsync|accept-invalid (a deliberately broken shell, to show the
 * checkers fire).
 *
 * A violation prints the seed, the checker, the last trace lines and the
 * command that replays it, and exits 1. Usage errors exit 2.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define DEFAULT_HEIGHTS 8u

struct totals {
    uint64_t seeds, heights, heights_min, heights_max, sim_ms;
    struct sim_stats sum;
    uint64_t max_round, progress_ms_max;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
    (void)sig;
    interrupted = 1;
}

static void usage(void)
{
    fprintf(stderr, "usage: sim_run --seed S | --seeds A-B | --soak [--from S]\n"
                    "               [--validators N] [--heights H] [--quiet] [--trace-hash]\n"
                    "               [--keep-going]\n"
                    "               [--byzantine I|none] [--mutate lying-fsync|accept-invalid]\n");
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end = NULL;
    if (s == NULL || *s == '\0' || *s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end != '\0')
        return false;
    *out = v;
    return true;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *mutation_name(enum sim_mutation m)
{
    return m == SIM_MUTATE_LYING_FSYNC      ? "lying-fsync"
           : m == SIM_MUTATE_ACCEPT_INVALID ? "accept-invalid"
                                            : NULL;
}

static void report_violation(const struct sim_config *cfg, const struct sim_result *res)
{
    printf("\nVIOLATION seed=%" PRIu64 " validators=%u checker=%s\n  %s\n", cfg->seed,
           cfg->n_validators, res->checker, res->detail);
    printf("last trace lines:\n");
    for (unsigned i = 0; i < res->n_tail; i++)
        printf("  %s\n", res->tail[i]);
    printf("replay: tests/sim/run --seed %" PRIu64 " --validators %u", cfg->seed,
           cfg->n_validators);
    if (cfg->heights != DEFAULT_HEIGHTS)
        printf(" --heights %u", cfg->heights);
    if (cfg->byzantine == SIM_NO_BYZANTINE)
        printf(" --byzantine none");
    else if (cfg->byzantine != UINT32_MAX)
        printf(" --byzantine %u", cfg->byzantine);
    if (cfg->mutation != SIM_MUTATE_NONE)
        printf(" --mutate %s", mutation_name(cfg->mutation));
    printf("\n");
    fflush(stdout);
}

static void add(struct totals *t, const struct sim_stats *s)
{
    t->seeds++;
    t->heights += s->heights;
    if (t->seeds == 1 || s->heights < t->heights_min)
        t->heights_min = s->heights;
    if (s->heights > t->heights_max)
        t->heights_max = s->heights;
    t->sim_ms += s->sim_ms;
    if (s->max_round > t->max_round)
        t->max_round = s->max_round;
    if (s->progress_ms_max > t->progress_ms_max)
        t->progress_ms_max = s->progress_ms_max;
#define SUM(name) t->sum.name += s->name;
    SIM_STATS_COUNTERS(SUM)
#undef SUM
}

static void print_totals(const char *what, const struct totals *t, double wall_s)
{
    const struct sim_stats *s = &t->sum;
    uint64_t n = t->seeds ? t->seeds : 1;
    printf("%s: %" PRIu64 " seeds ok in %.1f s (%.1f seeds/s), %.1f s simulated per seed\n", what,
           t->seeds, wall_s, wall_s > 0 ? (double)t->seeds / wall_s : 0.0,
           (double)t->sim_ms / 1000.0 / (double)n);
    printf("  heights per seed: avg %.1f min %" PRIu64 " max %" PRIu64 "; highest round %" PRIu64
           "; longest calm wait %" PRIu64 " ms\n",
           (double)t->heights / (double)n, t->heights_min, t->heights_max, t->max_round,
           t->progress_ms_max);
    printf("  events %" PRIu64 ", messages sent %" PRIu64 ", delivered %" PRIu64 "\n", s->events,
           s->sent, s->delivered);
    printf("  faults: dropped %" PRIu64 ", duplicated %" PRIu64 ", delayed late %" PRIu64
           ", cut by partition %" PRIu64 ", lost while down %" PRIu64 "\n",
           s->dropped, s->duplicated, s->long_delays, s->cut_by_partition, s->lost_while_down);
    printf("          partitions %" PRIu64 ", heals %" PRIu64 ", crashes %" PRIu64
           ", restarts %" PRIu64 ", fault windows %" PRIu64 "\n",
           s->partitions, s->heals, s->crashes, s->restarts, s->windows);
    printf("  byzantine: double proposals %" PRIu64 ", double votes %" PRIu64
           " (junk floods %" PRIu64 ")"
           ", invalid blocks refused %" PRIu64 ", evidence %" PRIu64 " (pairs delivered %" PRIu64
           ")\n",
           s->byz_proposals, s->byz_votes, s->byz_floods, s->invalid_proposals, s->evidence,
           s->evidence_expected);
    printf("  consensus: decisions %" PRIu64 ", catch-ups %" PRIu64 ", timeouts %" PRIu64
           ", persists %" PRIu64 ", proposals %" PRIu64 ", votes %" PRIu64
           ", identical re-sends %" PRIu64 "\n",
           s->decides, s->catchups, s->timeouts, s->persists, s->proposals, s->votes, s->resends);
    printf("  shell: duplicate votes skipped %" PRIu64 ", stale proposals not sent %" PRIu64 "\n",
           s->duplicates, s->stale_proposals);
    fflush(stdout);
}

struct args {
    bool have_seed, have_range, soak, quiet, trace_hash, have_validators, keep_going;
    uint64_t seed, from, to;
    struct sim_config cfg;
};

static bool parse_byzantine(const char *v, uint32_t *out)
{
    uint64_t x;
    if (v != NULL && strcmp(v, "none") == 0) {
        *out = SIM_NO_BYZANTINE;
        return true;
    }
    if (!parse_u64(v, &x) || x >= SIM_VALIDATORS_MAX)
        return false;
    *out = (uint32_t)x;
    return true;
}

static bool parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->cfg.n_validators = 4;
    a->cfg.heights = DEFAULT_HEIGHTS;
    a->cfg.byzantine = UINT32_MAX;
    a->from = 1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        bool takes = true;
        if (strcmp(o, "--seed") == 0 && parse_u64(v, &a->seed))
            a->have_seed = true;
        else if (strcmp(o, "--seeds") == 0 && v != NULL && strchr(v, '-') != NULL) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            char *dash = strchr(buf, '-');
            *dash = '\0';
            if (!parse_u64(buf, &a->from) || !parse_u64(dash + 1, &a->to) || a->to < a->from)
                return false;
            a->have_range = true;
        } else if (strcmp(o, "--validators") == 0 && parse_u64(v, &x) && x >= 1 &&
                   x <= SIM_VALIDATORS_MAX) {
            a->cfg.n_validators = (uint32_t)x;
            a->have_validators = true;
        } else if (strcmp(o, "--heights") == 0 && parse_u64(v, &x) && x >= 1 && x <= 100000)
            a->cfg.heights = (uint32_t)x;
        else if (strcmp(o, "--from") == 0 && parse_u64(v, &a->from))
            ;
        else if (strcmp(o, "--byzantine") == 0 && parse_byzantine(v, &a->cfg.byzantine))
            ;
        else if (strcmp(o, "--mutate") == 0 && v != NULL && strcmp(v, "lying-fsync") == 0)
            a->cfg.mutation = SIM_MUTATE_LYING_FSYNC;
        else if (strcmp(o, "--mutate") == 0 && v != NULL && strcmp(v, "accept-invalid") == 0)
            a->cfg.mutation = SIM_MUTATE_ACCEPT_INVALID;
        else {
            takes = false;
            if (strcmp(o, "--soak") == 0)
                a->soak = true;
            else if (strcmp(o, "--quiet") == 0)
                a->quiet = true;
            else if (strcmp(o, "--trace-hash") == 0)
                a->trace_hash = true;
            else if (strcmp(o, "--keep-going") == 0)
                a->keep_going = true;
            else
                return false;
        }
        if (takes)
            i++;
    }
    if (a->cfg.byzantine != UINT32_MAX && a->cfg.byzantine != SIM_NO_BYZANTINE &&
        a->cfg.byzantine >= a->cfg.n_validators)
        return false;
    return (int)a->have_seed + (int)a->have_range + (int)a->soak == 1;
}

static int run_one(struct args *a)
{
    struct sim_result res;
    a->cfg.seed = a->seed;
    a->cfg.trace_print = !a->quiet;
    sim_run_seed(&a->cfg, &res);
    if (a->trace_hash)
        printf("trace-hash %016" PRIx64 " lines %" PRIu64 "\n", res.stats.trace_hash,
               res.stats.trace_lines);
    if (!res.ok) {
        report_violation(&a->cfg, &res);
        return 1;
    }
    printf("seed %" PRIu64 ": ok, %" PRIu64 " heights, %" PRIu64 " events, %.1f s simulated\n",
           a->seed, res.stats.heights, res.stats.events, (double)res.stats.sim_ms / 1000.0);
    return 0;
}

/* Violations seen with --keep-going, by checker. */
struct failures {
    char checker[8][48];
    uint64_t count[8], first_seed[8];
    unsigned n;
    uint64_t total;
};

/* The first violation of each checker gets the full report, later ones a
 * line each. */
static void note_failure(struct failures *f, const struct sim_config *cfg,
                         const struct sim_result *res)
{
    f->total++;
    for (unsigned i = 0; i < f->n; i++)
        if (strcmp(f->checker[i], res->checker) == 0) {
            f->count[i]++;
            printf("VIOLATION seed=%" PRIu64 " validators=%u checker=%s: %s\n", cfg->seed,
                   cfg->n_validators, res->checker, res->detail);
            return;
        }
    report_violation(cfg, res);
    if (f->n < 8) {
        snprintf(f->checker[f->n], sizeof f->checker[0], "%s", res->checker);
        f->count[f->n] = 1;
        f->first_seed[f->n++] = cfg->seed;
    }
}

static int run_range(struct args *a)
{
    struct totals t;
    struct failures fails;
    memset(&t, 0, sizeof t);
    memset(&fails, 0, sizeof fails);
    double start = now_s();
    for (uint64_t s = a->from; s <= a->to && !interrupted; s++) {
        struct sim_result res;
        a->cfg.seed = s;
        sim_run_seed(&a->cfg, &res);
        if (!res.ok && !a->keep_going) {
            report_violation(&a->cfg, &res);
            return 1;
        }
        if (!res.ok)
            note_failure(&fails, &a->cfg, &res);
        else
            add(&t, &res.stats);
    }
    char what[96];
    snprintf(what, sizeof what, "sim seeds %" PRIu64 "-%" PRIu64 ", %u validators", a->from, a->to,
             a->cfg.n_validators);
    print_totals(what, &t, now_s() - start);
    for (unsigned i = 0; i < fails.n; i++)
        printf("  VIOLATIONS %s: %" PRIu64 " seeds (first: tests/sim/run --seed %" PRIu64
               " --validators %u)\n",
               fails.checker[i], fails.count[i], fails.first_seed[i], a->cfg.n_validators);
    return interrupted || fails.total > 0 ? 1 : 0;
}

static int run_soak(struct args *a)
{
    struct totals t;
    memset(&t, 0, sizeof t);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigaction(SIGINT, &sa, NULL);
    double start = now_s();
    uint64_t s = a->from;
    for (; !interrupted; s++) {
        struct sim_result res;
        a->cfg.seed = s;
        if (!a->have_validators)
            a->cfg.n_validators = s % 2 ? 4 : 7;
        sim_run_seed(&a->cfg, &res);
        if (!res.ok) {
            report_violation(&a->cfg, &res);
            printf("soak: %" PRIu64 " seeds ran before the violation\n", t.seeds);
            return 1;
        }
        add(&t, &res.stats);
    }
    char what[96];
    snprintf(what, sizeof what, "soak stopped: seeds %" PRIu64 "-%" PRIu64, a->from, s - 1);
    print_totals(what, &t, now_s() - start);
    return 0;
}

int main(int argc, char **argv)
{
    struct args a;
    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage();
        return 0;
    }
    if (!parse_args(argc, argv, &a)) {
        usage();
        return 2;
    }
    setvbuf(stdout, NULL, _IOFBF, 1 << 16);
    int rc;
    if (a.have_seed)
        rc = run_one(&a);
    else if (a.have_range)
        rc = run_range(&a);
    else
        rc = run_soak(&a);
    fflush(stdout);
    return rc;
}
