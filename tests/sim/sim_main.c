/*
 * sim_run: the simulator's command line (tests/sim/run wraps it).
 *
 *   sim_run --seed S [--validators N]    replay one seed, printing its trace
 *   sim_run --seeds A-B [--validators N] run a range, print a summary
 *   sim_run --soak [--from S]            run seeds until SIGINT or SIGTERM
 *                                        (alternating 4 and 7 validators
 *                                        unless --validators)
 * Options: see usage() (sim_run --help). Ranges and soaks print a progress
 * line every --progress seconds (default 10) and their totals at the end,
 * also when interrupted.
 *
 * A violation prints the seed, the checker, the last trace lines and the
 * command that replays it, and exits 1. Usage errors say which argument is
 * wrong and exit 2.
 */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim.h"

#define DEFAULT_HEIGHTS    8u
#define DEFAULT_PROGRESS_S 10u

struct totals {
    uint64_t seeds, heights, heights_min, heights_max, sim_ms;
    struct sim_stats sum;
    uint64_t max_round, progress_ms_max;
};

static volatile sig_atomic_t interrupted;

static void on_stop_signal(int sig)
{
    (void)sig;
    interrupted = 1;
}

/* SIGINT and SIGTERM end a range or a soak after the seed that runs. */
static void catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: sim_run --seed S | --seeds A-B | --soak [--from S]\n"
            "               [--validators N] [--heights H] [--quiet] [--trace-hash]\n"
            "               [--keep-going] [--progress SECONDS]\n"
            "               [--byzantine I|none] [--mutate lying-fsync|accept-invalid]\n"
            "\n"
            "The deterministic simulator: N validators (consensus core, ledger, an in-memory\n"
            "store) on a simulated network and disk, all driven by one seed.\n"
            "\n"
            "  --seed S            run seed S and print its event trace (replays exactly)\n"
            "  --seeds A-B         run seeds A to B and print totals\n"
            "  --soak              run seeds from --from (default 1) until SIGINT or SIGTERM,\n"
            "                      alternating 4 and 7 validators unless --validators is given\n"
            "  --validators N      validators per seed, 1-%u (default 4)\n"
            "  --heights H         heights every correct validator must reach, 1-100000\n"
            "                      (default %u)\n"
            "  --quiet             no trace for --seed\n"
            "  --trace-hash        print the digest of the trace\n"
            "  --keep-going        a range runs on past violations and counts them by checker\n"
            "  --progress SECONDS  a progress line this often during --seeds and --soak\n"
            "                      (default %u; 0: none)\n"
            "  --byzantine I|none  make validator I the Byzantine one, or have none\n"
            "                      (default: chosen by the seed)\n"
            "  --mutate M          a deliberately broken shell, to see the checkers fire:\n"
            "                      lying-fsync or accept-invalid\n"
            "\n"
            "A violation prints the seed, the checker, the last trace lines and the command\n"
            "that replays it, and exits 1. Bad arguments exit 2.\n",
            SIM_VALIDATORS_MAX, DEFAULT_HEIGHTS, DEFAULT_PROGRESS_S);
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
    uint64_t seed, from, to, progress_s;
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

/* Parse argv into a; false with the reason on stderr. */
static bool parse_args(int argc, char **argv, struct args *a)
{
    memset(a, 0, sizeof *a);
    a->cfg.n_validators = 4;
    a->cfg.heights = DEFAULT_HEIGHTS;
    a->cfg.byzantine = UINT32_MAX;
    a->from = 1;
    a->progress_s = DEFAULT_PROGRESS_S;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        uint64_t x;
        bool takes = true, ok = true;
        const char *want = NULL; /* what the value must be, if it is wrong */
        char want_buf[48];
        if (strcmp(o, "--seed") == 0) {
            ok = parse_u64(v, &a->seed);
            a->have_seed = true;
            want = "a seed (0 or more)";
        } else if (strcmp(o, "--seeds") == 0) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v != NULL ? v : "");
            char *dash = strchr(buf, '-');
            if (dash != NULL)
                *dash = '\0';
            ok = dash != NULL && parse_u64(buf, &a->from) && parse_u64(dash + 1, &a->to) &&
                 a->to >= a->from;
            a->have_range = true;
            want = "a range A-B with A <= B";
        } else if (strcmp(o, "--validators") == 0) {
            ok = parse_u64(v, &x) && x >= 1 && x <= SIM_VALIDATORS_MAX;
            a->cfg.n_validators = ok ? (uint32_t)x : 0;
            a->have_validators = true;
            snprintf(want_buf, sizeof want_buf, "a count from 1 to %u", SIM_VALIDATORS_MAX);
            want = want_buf;
        } else if (strcmp(o, "--heights") == 0) {
            ok = parse_u64(v, &x) && x >= 1 && x <= 100000;
            a->cfg.heights = ok ? (uint32_t)x : 0;
            want = "a count from 1 to 100000";
        } else if (strcmp(o, "--from") == 0) {
            ok = parse_u64(v, &a->from);
            want = "a seed (0 or more)";
        } else if (strcmp(o, "--progress") == 0) {
            ok = parse_u64(v, &a->progress_s) && a->progress_s <= 86400;
            want = "seconds from 0 to 86400";
        } else if (strcmp(o, "--byzantine") == 0) {
            ok = parse_byzantine(v, &a->cfg.byzantine);
            want = "a validator index or none";
        } else if (strcmp(o, "--mutate") == 0) {
            ok = v != NULL && (strcmp(v, "lying-fsync") == 0 || strcmp(v, "accept-invalid") == 0);
            if (ok)
                a->cfg.mutation = strcmp(v, "lying-fsync") == 0 ? SIM_MUTATE_LYING_FSYNC
                                                                : SIM_MUTATE_ACCEPT_INVALID;
            want = "lying-fsync or accept-invalid";
        } else {
            takes = false;
            if (strcmp(o, "--soak") == 0)
                a->soak = true;
            else if (strcmp(o, "--quiet") == 0)
                a->quiet = true;
            else if (strcmp(o, "--trace-hash") == 0)
                a->trace_hash = true;
            else if (strcmp(o, "--keep-going") == 0)
                a->keep_going = true;
            else {
                fprintf(stderr, "sim_run: unknown argument '%s'\n", o);
                return false;
            }
        }
        if (!ok) {
            fprintf(stderr, "sim_run: %s wants %s, got %s%s%s\n", o, want, v ? "'" : "",
                    v ? v : "nothing", v ? "'" : "");
            return false;
        }
        if (takes)
            i++;
    }
    if (a->cfg.byzantine != UINT32_MAX && a->cfg.byzantine != SIM_NO_BYZANTINE &&
        a->cfg.byzantine >= a->cfg.n_validators) {
        fprintf(stderr, "sim_run: --byzantine %u is not one of the %u validators (0-%u)\n",
                a->cfg.byzantine, a->cfg.n_validators, a->cfg.n_validators - 1);
        return false;
    }
    if ((int)a->have_seed + (int)a->have_range + (int)a->soak != 1) {
        fprintf(stderr, "sim_run: give exactly one of --seed, --seeds and --soak\n");
        return false;
    }
    return true;
}

/* A progress line on stderr every a->progress_s seconds: seeds done, the
 * next one, violations so far. *next_s is when the next one is due. */
static void progress(const struct args *a, double start, double *next_s, uint64_t done,
                     uint64_t next_seed, uint64_t violations)
{
    double now = now_s();
    if (a->progress_s == 0 || now < *next_s)
        return;
    *next_s = now + (double)a->progress_s;
    fprintf(stderr,
            "sim_run: %" PRIu64 " seeds in %.0f s (%.1f seeds/s), next %" PRIu64 ", %" PRIu64
            " violation%s\n",
            done, now - start, now > start ? (double)done / (now - start) : 0.0, next_seed,
            violations, violations == 1 ? "" : "s");
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
    catch_stop_signals();
    double start = now_s(), next_progress = start + (double)a->progress_s;
    uint64_t s = a->from;
    for (; s <= a->to && !interrupted; s++) {
        progress(a, start, &next_progress, s - a->from, s, fails.total);
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
    char what[128];
    if (interrupted)
        snprintf(what, sizeof what,
                 "sim seeds %" PRIu64 "-%" PRIu64 " of %" PRIu64 "-%" PRIu64
                 ", %u validators (interrupted)",
                 a->from, s - 1, a->from, a->to, a->cfg.n_validators);
    else
        snprintf(what, sizeof what, "sim seeds %" PRIu64 "-%" PRIu64 ", %u validators", a->from,
                 a->to, a->cfg.n_validators);
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
    catch_stop_signals();
    double start = now_s(), next_progress = start + (double)a->progress_s;
    uint64_t s = a->from;
    for (; !interrupted; s++) {
        progress(a, start, &next_progress, s - a->from, s, 0);
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
        usage(stdout);
        return 0;
    }
    if (!parse_args(argc, argv, &a)) {
        fprintf(stderr, "sim_run --help says more\n");
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
