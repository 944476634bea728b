/*
 * The world: N validators, a fake network, a scenario schedule and the
 * event loop, all driven by one seed.
 *
 * Network. Every message gets a delivery time; with the current window's
 * rates it is dropped, duplicated, or held back 0.2-2.5 s so that it
 * overtakes later ones (reordering). A partition is a set of validators cut
 * off from the rest: a message crossing the cut when it arrives is lost.
 * Messages to a crashed validator are lost.
 *
 * Scenario. Half the seeds (with f >= 1) have a Byzantine validator
 * (sim_byz). A run alternates windows:
 *
 *   FAULTS (1-10 s)  drop 0-25 %, duplicate 0-10 %, late 0-15 %, delay
 *                    1-120 ms, all drawn from the seed; up to two
 *                    partitions start and heal; up to two correct
 *                    validators crash and restart (at most f faulty at once
 *                    counting the Byzantine one; one crash in five may
 *                    exceed that by one, which halts the chain until the
 *                    calm);
 *   CALM             every partition heals, every crashed validator
 *                    restarts, the network turns mild (drop and duplicate
 *                    at most 2 %); every correct validator must then
 *                    commit a new height within SIM_PROGRESS_BOUND_MS of
 *                    simulated time (liveness), after which the next fault
 *                    window starts,
 *
 * until SIM_MIN_WINDOWS fault windows have passed and every correct
 * validator has cfg.heights blocks. Safety is checked throughout, whatever
 * the faults (sim_check).
 *
 * The loop pops one event at a time (time, then scheduling order), moves
 * the clock to it and hands it to its validator; events of a crashed
 * incarnation or of a replaced core are dropped. It stops at the first
 * violation, which names its checker.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "sim.h"

/* Fault windows every run goes through (each followed by a calm one). */
#define SIM_MIN_WINDOWS 6u
/* Simulated time after which a run that has not finished is stuck. */
#define SIM_TIME_LIMIT_MS (30u * 60u * 1000u)

enum rng_stream { STREAM_NET = 1, STREAM_SCHED, STREAM_BYZ, STREAM_NODE };

void sim_fail(struct sim_world *w, const char *checker, const char *fmt, ...)
{
    if (w->failed)
        return; /* the first violation is the one to replay */
    w->failed = true;
    snprintf(w->fail_checker, sizeof w->fail_checker, "%s", checker);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->fail_detail, sizeof w->fail_detail, fmt, ap);
    va_end(ap);
    sim_trace(w, UINT32_MAX, "VIOLATION %s: %s", w->fail_checker, w->fail_detail);
}

bool sim_is_correct(const struct sim_world *w, uint32_t node)
{
    return node != w->byz;
}

void sim_schedule(struct sim_world *w, uint64_t delay_ms, const struct sim_event *ev)
{
    struct sim_event e = *ev;
    e.time_ms = w->now_ms + delay_ms;
    e.seq = ++w->seq;
    if (e.kind == SIM_EV_TIMER || e.kind == SIM_EV_PERSISTED || e.kind == SIM_EV_TICK ||
        e.kind == SIM_EV_BUILT) {
        e.incarnation = w->nodes[e.node].incarnation;
        e.epoch = w->nodes[e.node].epoch;
    }
    sim_queue_push(&w->q, &e);
}

static const char *msg_name(enum sim_msg_kind k)
{
    switch (k) {
    case SIM_MSG_PROPOSAL:
        return "proposal";
    case SIM_MSG_VOTE:
        return "vote";
    case SIM_MSG_STATUS:
        return "status";
    case SIM_MSG_CATCHUP_REQ:
        return "catch-up request";
    default:
        return "catch-up block";
    }
}

static void schedule_delivery(struct sim_world *w, uint32_t to, const struct sim_msg *m,
                              uint64_t delay_ms)
{
    struct sim_event ev = {.kind = SIM_EV_DELIVER, .node = to};
    ev.msg = malloc(sizeof *ev.msg);
    HANSA_ASSERT(ev.msg != NULL);
    *ev.msg = *m;
    sim_schedule(w, delay_ms, &ev);
}

void sim_send(struct sim_world *w, uint32_t from, uint32_t to, const struct sim_msg *m)
{
    HANSA_ASSERT(from < w->n && to < w->n && from != to && m->from == from);
    const struct sim_netcfg *net = &w->net;
    w->stats.sent++;
    if (sim_rng_chance(&w->rng_net, net->drop_pm)) {
        w->stats.dropped++;
        sim_trace(w, from, "lost %s to v%u", msg_name(m->kind), to);
        return;
    }
    uint64_t delay = sim_rng_range(&w->rng_net, net->delay_min_ms, net->delay_max_ms);
    if (sim_rng_chance(&w->rng_net, net->long_delay_pm)) {
        delay += sim_rng_range(&w->rng_net, 200, 2500);
        w->stats.long_delays++;
    }
    schedule_delivery(w, to, m, delay);
    if (sim_rng_chance(&w->rng_net, net->dup_pm)) {
        w->stats.duplicated++;
        schedule_delivery(w, to, m,
                          sim_rng_range(&w->rng_net, net->delay_min_ms, net->delay_max_ms * 3));
    }
}

static bool cut(const struct sim_world *w, uint32_t a, uint32_t b)
{
    return ((w->partition_mask >> a) & 1u) != ((w->partition_mask >> b) & 1u);
}

/* ---- scenario -------------------------------------------------------------------------- */

static uint32_t count_down(const struct sim_world *w)
{
    uint32_t down = 0;
    for (uint32_t i = 0; i < w->n; i++)
        if (!w->nodes[i].up)
            down++;
    return down;
}

static uint64_t correct_height(const struct sim_world *w, bool lowest)
{
    uint64_t best = lowest ? UINT64_MAX : 0;
    for (uint32_t i = 0; i < w->n; i++) {
        if (!sim_is_correct(w, i))
            continue;
        uint64_t h = sim_chain_height(&w->nodes[i].disk.chain);
        if (lowest ? h < best : h > best)
            best = h;
    }
    return best;
}

static void start_faults(struct sim_world *w)
{
    struct sim_rng *r = &w->rng_sched;
    w->window++;
    w->stats.windows++;
    w->calm = false;
    w->net.drop_pm = (uint32_t)sim_rng_range(r, 0, 250);
    w->net.dup_pm = (uint32_t)sim_rng_range(r, 0, 100);
    w->net.long_delay_pm = (uint32_t)sim_rng_range(r, 0, 150);
    w->net.delay_min_ms = (uint32_t)sim_rng_range(r, 1, 5);
    w->net.delay_max_ms = (uint32_t)sim_rng_range(r, 10, 120);
    uint64_t length_ms = sim_rng_range(r, 1000, 10000);
    sim_trace(w, UINT32_MAX,
              "window %u: faults for %llu ms: drop %u/1000 dup %u/1000 late %u/1000 delay %u-%u ms",
              w->window, (unsigned long long)length_ms, w->net.drop_pm, w->net.dup_pm,
              w->net.long_delay_pm, w->net.delay_min_ms, w->net.delay_max_ms);
    uint64_t partitions = sim_rng_range(r, 0, 2);
    for (uint64_t i = 0; i < partitions; i++) {
        uint64_t at = sim_rng_below(r, length_ms);
        /* A non-empty proper subset of the validators. */
        uint32_t mask = (uint32_t)sim_rng_range(r, 1, (UINT64_C(1) << w->n) - 2);
        struct sim_event p = {.kind = SIM_EV_PARTITION, .node = UINT32_MAX};
        p.mask = mask;
        sim_schedule(w, at, &p);
        struct sim_event h = {.kind = SIM_EV_HEAL, .node = UINT32_MAX};
        h.window = w->window;
        sim_schedule(w, at + sim_rng_range(r, 300, 8000), &h);
    }
    uint64_t crashes = sim_rng_range(r, 0, 2);
    for (uint64_t i = 0; i < crashes; i++) {
        uint64_t at = sim_rng_below(r, length_ms);
        uint32_t node = (uint32_t)sim_rng_below(r, w->n);
        if (!sim_is_correct(w, node))
            continue;
        struct sim_event c = {.kind = SIM_EV_CRASH, .node = node};
        /* Sometimes one more than tolerated: the chain halts until the calm. */
        c.extra_faults = sim_rng_chance(r, 200) ? 1u : 0u;
        sim_schedule(w, at, &c);
        struct sim_event s = {.kind = SIM_EV_RESTART, .node = node};
        s.window = w->window;
        sim_schedule(w, at + sim_rng_range(r, 100, 10000), &s);
    }
    struct sim_event calm = {.kind = SIM_EV_CALM, .node = UINT32_MAX};
    sim_schedule(w, length_ms, &calm);
}

static void start_calm(struct sim_world *w)
{
    struct sim_rng *r = &w->rng_sched;
    w->calm = true;
    if (w->partition_mask != 0) {
        w->partition_mask = 0;
        w->stats.heals++;
    }
    w->net.drop_pm = (uint32_t)sim_rng_range(r, 0, 20);
    w->net.dup_pm = (uint32_t)sim_rng_range(r, 0, 20);
    w->net.long_delay_pm = 0;
    w->net.delay_min_ms = 1;
    w->net.delay_max_ms = (uint32_t)sim_rng_range(r, 5, 30);
    w->calm_height = correct_height(w, false);
    w->calm_start_ms = w->now_ms;
    w->progress_pending = true;
    sim_trace(w, UINT32_MAX, "window %u: calm, drop %u/1000 dup %u/1000; expect h%llu everywhere",
              w->window, w->net.drop_pm, w->net.dup_pm, (unsigned long long)(w->calm_height + 1));
    for (uint32_t i = 0; i < w->n && !w->failed; i++)
        if (!w->nodes[i].up) {
            w->stats.restarts++;
            sim_node_boot(w, &w->nodes[i]);
        }
    struct sim_event d = {.kind = SIM_EV_DEADLINE, .node = UINT32_MAX};
    d.window = w->window;
    sim_schedule(w, SIM_PROGRESS_BOUND_MS, &d);
}

void sim_world_on_commit(struct sim_world *w)
{
    if (!w->calm || !w->progress_pending || correct_height(w, true) <= w->calm_height)
        return;
    w->progress_pending = false;
    uint64_t waited = w->now_ms - w->calm_start_ms;
    if (waited > w->stats.progress_ms_max)
        w->stats.progress_ms_max = waited;
    if (correct_height(w, true) >= w->cfg.heights && w->window >= SIM_MIN_WINDOWS) {
        w->done = true;
        return;
    }
    struct sim_event f = {.kind = SIM_EV_FAULTS, .node = UINT32_MAX};
    sim_schedule(w, sim_rng_range(&w->rng_sched, 0, 3000), &f);
}

static void on_crash(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    uint32_t tolerated = w->f - (w->byz == UINT32_MAX ? 0u : 1u) + ev->extra_faults;
    if (w->calm || !n->up || count_down(w) >= tolerated)
        return;
    w->stats.crashes++;
    sim_node_crash(w, n);
}

static void on_restart(struct sim_world *w, const struct sim_event *ev)
{
    struct sim_node *n = &w->nodes[ev->node];
    if (n->up || ev->window != w->window)
        return;
    w->stats.restarts++;
    sim_node_boot(w, n);
}

/* ---- the loop ---------------------------------------------------------------------------- */

static bool current(const struct sim_world *w, const struct sim_event *ev)
{
    const struct sim_node *n = &w->nodes[ev->node];
    return n->up && ev->incarnation == n->incarnation;
}

static void dispatch(struct sim_world *w, struct sim_event *ev)
{
    struct sim_node *n = ev->node < w->n ? &w->nodes[ev->node] : NULL;
    switch (ev->kind) {
    case SIM_EV_DELIVER:
        if (!n->up) {
            w->stats.lost_while_down++;
        } else if (cut(w, ev->msg->from, ev->node)) {
            w->stats.cut_by_partition++;
        } else {
            w->stats.delivered++;
            sim_node_deliver(w, n, ev->msg);
        }
        free(ev->msg);
        break;
    case SIM_EV_TIMER:
        if (current(w, ev) && ev->epoch == n->epoch)
            sim_node_timeout(w, n, ev->timer.height, ev->timer.round, ev->timer.step);
        break;
    case SIM_EV_BUILT:
        if (current(w, ev) && ev->epoch == n->epoch)
            sim_node_built(w, n, ev->timer.height, ev->timer.round);
        break;
    case SIM_EV_PERSISTED:
        if (current(w, ev))
            sim_node_persisted(w, n, ev->epoch, ev->persisted.seq, ev->persisted.write);
        free(ev->persisted.write);
        break;
    case SIM_EV_TICK:
        if (current(w, ev))
            sim_node_tick(w, n);
        break;
    case SIM_EV_BOOT:
        sim_node_boot(w, n);
        break;
    case SIM_EV_CRASH:
        on_crash(w, ev);
        break;
    case SIM_EV_RESTART:
        on_restart(w, ev);
        break;
    case SIM_EV_PARTITION:
        if (!w->calm) {
            w->partition_mask = ev->mask;
            w->stats.partitions++;
            sim_trace(w, UINT32_MAX, "partition: mask %#x cut off", ev->mask);
        }
        break;
    case SIM_EV_HEAL:
        if (ev->window == w->window && !w->calm && w->partition_mask != 0) {
            w->partition_mask = 0;
            w->stats.heals++;
            sim_trace(w, UINT32_MAX, "partition healed");
        }
        break;
    case SIM_EV_FAULTS:
        start_faults(w);
        break;
    case SIM_EV_CALM:
        start_calm(w);
        break;
    case SIM_EV_DEADLINE:
        if (ev->window == w->window && w->progress_pending)
            sim_fail(w, "liveness",
                     "calm since %llu ms: correct validators still at h%llu..h%llu, expected "
                     "h%llu within %u ms",
                     (unsigned long long)w->calm_start_ms,
                     (unsigned long long)correct_height(w, true),
                     (unsigned long long)correct_height(w, false),
                     (unsigned long long)(w->calm_height + 1), SIM_PROGRESS_BOUND_MS);
        break;
    }
}

static void world_init(struct sim_world *w, const struct sim_config *cfg)
{
    memset(w, 0, sizeof *w);
    w->cfg = *cfg;
    w->n = cfg->n_validators;
    HANSA_ASSERT(w->n >= 1 && w->n <= SIM_VALIDATORS_MAX && w->n <= CS_VALIDATORS_MAX);
    w->f = w->n - consensus_quorum(w->n);
    sim_rng_init(&w->rng_net, cfg->seed, STREAM_NET);
    sim_rng_init(&w->rng_sched, cfg->seed, STREAM_SCHED);
    sim_rng_init(&w->rng_byz, cfg->seed, STREAM_BYZ);
    sim_rng_init(&w->rng_node, cfg->seed, STREAM_NODE);
    if (cfg->byzantine == UINT32_MAX)
        w->byz = w->f > 0 && sim_rng_chance(&w->rng_sched, 500)
                     ? (uint32_t)sim_rng_below(&w->rng_sched, w->n)
                     : UINT32_MAX;
    else
        w->byz = cfg->byzantine == SIM_NO_BYZANTINE ? UINT32_MAX : cfg->byzantine;
    HANSA_ASSERT(w->byz == UINT32_MAX || w->byz < w->n);
    w->params = (struct cs_params){.n_validators = w->n,
                                   .propose_base_ms = 1000,
                                   .propose_delta_ms = 500,
                                   .prevote_base_ms = 500,
                                   .prevote_delta_ms = 250,
                                   .precommit_base_ms = 500,
                                   .precommit_delta_ms = 250};
    sim_queue_init(&w->q);
    sim_check_init(&w->check);
    sim_trace_init(&w->trace, cfg->trace_print);
    const struct sim_pool *pool = sim_pool_get();
    for (uint32_t i = 0; i < w->n; i++) {
        struct sim_node *n = &w->nodes[i];
        sim_node_init(w, n, i);
        /* When each transaction reaches this validator's mempool. */
        for (size_t t = 0; t < pool->n; t++)
            n->arrival_ms[t] =
                pool->txs[t].created_offset_ms + sim_rng_range(&w->rng_sched, 5, 400);
    }
}

static void world_free(struct sim_world *w)
{
    for (uint32_t i = 0; i < w->n; i++)
        sim_node_free(&w->nodes[i]);
    sim_queue_free(&w->q);
    sim_check_free(&w->check);
}

void sim_run_seed(const struct sim_config *cfg, struct sim_result *res)
{
    struct sim_world *w = malloc(sizeof *w);
    HANSA_ASSERT(w != NULL);
    world_init(w, cfg);
    char byz[16] = "none";
    if (w->byz != UINT32_MAX)
        snprintf(byz, sizeof byz, "v%u", w->byz);
    sim_trace(w, UINT32_MAX, "seed %llu: %u validators (f=%u), byzantine %s, %u heights",
              (unsigned long long)cfg->seed, w->n, w->f, byz, cfg->heights);
    for (uint32_t i = 0; i < w->n; i++) {
        struct sim_event b = {.kind = SIM_EV_BOOT, .node = i};
        sim_schedule(w, sim_rng_range(&w->rng_sched, 0, 50), &b);
    }
    struct sim_event f = {.kind = SIM_EV_FAULTS, .node = UINT32_MAX};
    sim_schedule(w, sim_rng_range(&w->rng_sched, 0, 2000), &f);
    struct sim_event ev;
    while (!w->failed && !w->done && sim_queue_pop(&w->q, &ev)) {
        HANSA_ASSERT(ev.time_ms >= w->now_ms);
        w->now_ms = ev.time_ms;
        w->stats.events++;
        if (w->now_ms > SIM_TIME_LIMIT_MS) {
            sim_fail(w, "liveness", "no end after %u ms of simulated time", SIM_TIME_LIMIT_MS);
            if (ev.kind == SIM_EV_DELIVER)
                free(ev.msg);
            else if (ev.kind == SIM_EV_PERSISTED)
                free(ev.persisted.write);
            break;
        }
        dispatch(w, &ev);
    }
    if (!w->failed && !w->done)
        sim_fail(w, "liveness", "the event queue ran dry");
    w->stats.heights = correct_height(w, true);
    w->stats.sim_ms = w->now_ms;
    w->stats.trace_lines = w->trace.lines;
    w->stats.trace_hash = w->trace.hash;
    memset(res, 0, sizeof *res);
    res->ok = !w->failed;
    snprintf(res->checker, sizeof res->checker, "%s", w->fail_checker);
    snprintf(res->detail, sizeof res->detail, "%s", w->fail_detail);
    res->stats = w->stats;
    res->n_tail = sim_trace_tail(&w->trace, res->tail);
    world_free(w);
    free(w);
}
