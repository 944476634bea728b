/*
 * Random event streams against one core, with crashes: properties that must
 * hold whatever arrives, in whatever order.
 *
 * A small shell around the core carries its actions out like node.c would:
 * a PERSIST is written to a fake disk and answered later, own votes are fed
 * back, GET_VALUE is answered, timeouts fire late or never. Interleaved are
 * random proposals and votes of other validators (any height near the
 * current one, any round near or far, any value, equivocations included),
 * stale timeouts and values. Now and then the core crashes and reopens from
 * the fake disk. After every action the checks run:
 *   1. never two different messages signed for one (height, round, step),
 *      across crashes (the shell's signer would refuse; the core must not
 *      ask);
 *   2. signed positions never go backwards (the signer refuses that too);
 *   3. nothing is signed that the synced durable state does not cover (a
 *      persist counts as synced when its CS_EV_PERSISTED is delivered, and
 *      those are delivered in any order);
 *   4. the action list of one step fits CS_ACTIONS_MAX (the core asserts
 *      its own invariants; a failed assertion crashes the test).
 * And the whole run is replayed: the same events give the same actions.
 *
 * The PRNG is the test's, seeded per run: the core itself draws nothing.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "timeline.h"

#define RUNS          300u
#define EVENTS_PER    400u
#define POSITIONS_MAX 4096u
#define INBOX_MAX     64u

struct pos {
    uint64_t height;
    uint32_t round;
    int step; /* 1 propose, 2 prevote, 3 precommit */
};

struct signed_msg {
    struct pos at;
    int32_t valid_round; /* proposals */
    struct cs_value value;
};

struct run {
    uint64_t seed, rng;
    uint32_t n, self;
    struct consensus *cs;
    bool have_disk;
    struct cs_durable disk; /* the synced state: what a crash restarts from */
    uint64_t disk_seq;      /* its persist number in this incarnation */
    uint64_t written_seq;   /* the last persist written */
    /* Persists written but not known synced, by number (one incarnation). */
    struct cs_durable written[EVENTS_PER + 2u];
    /* Answers the shell owes the core, delivered in random order later. */
    struct cs_event inbox[INBOX_MAX];
    char inbox_bytes[INBOX_MAX][64];
    size_t n_inbox;
    struct signed_msg signed_msgs[POSITIONS_MAX];
    size_t n_signed;
    bool have_last;
    struct pos last;
    uint64_t trace; /* FNV-1a over every action, for the replay check */
    uint64_t decided;
};

static uint64_t next(struct run *r)
{
    uint64_t x = r->rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    r->rng = x;
    return x;
}

static uint32_t below(struct run *r, uint32_t n)
{
    return (uint32_t)(next(r) % n);
}

static int pos_cmp(const struct pos *a, const struct pos *b)
{
    if (a->height != b->height)
        return a->height < b->height ? -1 : 1;
    if (a->round != b->round)
        return a->round < b->round ? -1 : 1;
    return (a->step > b->step) - (a->step < b->step);
}

static void trace_bytes(struct run *r, const void *p, size_t len)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < len; i++) {
        r->trace ^= b[i];
        r->trace *= 1099511628211u;
    }
}

static void inbox_push(struct run *r, const struct cs_event *ev)
{
    if (r->n_inbox == INBOX_MAX)
        return; /* the shell's queue is full: the answer is lost */
    r->inbox[r->n_inbox++] = *ev;
}

static struct cs_value value_named(char c)
{
    struct cs_value v;
    memset(&v, 0, sizeof(v));
    v.nil = c == 0;
    if (c != 0)
        memset(v.hash, (unsigned char)c, CS_HASH_BYTES);
    return v;
}

static bool value_eq(const struct cs_value *a, const struct cs_value *b)
{
    if (a->nil || b->nil)
        return a->nil == b->nil;
    return memcmp(a->hash, b->hash, CS_HASH_BYTES) == 0;
}

static void check_signed(struct run *r, const struct signed_msg *m)
{
    struct cs_durable d = r->disk;
    struct pos disk = {d.height, d.round, (int)d.step};
    cr_assert(r->have_disk, "signed without any persist");
    cr_assert(pos_cmp(&m->at, &disk) <= 0, "signed h%llu r%u s%d beyond disk h%llu r%u s%d",
              (unsigned long long)m->at.height, m->at.round, m->at.step,
              (unsigned long long)disk.height, disk.round, disk.step);
    if (r->have_last)
        cr_assert(pos_cmp(&r->last, &m->at) <= 0, "signed position went backwards");
    r->last = m->at;
    r->have_last = true;
    for (size_t i = 0; i < r->n_signed; i++) {
        const struct signed_msg *o = &r->signed_msgs[i];
        if (pos_cmp(&o->at, &m->at) != 0)
            continue;
        cr_assert(value_eq(&o->value, &m->value) && o->valid_round == m->valid_round,
                  "seed %llu: two different messages signed at h%llu r%u step %d",
                  (unsigned long long)r->seed, (unsigned long long)m->at.height, m->at.round,
                  m->at.step);
        return;
    }
    cr_assert(r->n_signed < POSITIONS_MAX);
    r->signed_msgs[r->n_signed++] = *m;
}

/* A proposal or vote the core asks to sign: check it, feed votes back. */
static void carry_out_signed(struct run *r, const struct cs_action *a)
{
    if (a->kind == CS_ACT_PROPOSE) {
        trace_bytes(r, &a->propose, sizeof(a->propose));
        struct signed_msg m = {
            {a->propose.height, a->propose.round, 1}, a->propose.valid_round, {.nil = false}};
        memcpy(m.value.hash, a->propose.hash, CS_HASH_BYTES);
        check_signed(r, &m);
        return;
    }
    trace_bytes(r, &a->vote, sizeof(a->vote));
    struct signed_msg m = {
        {a->vote.height, a->vote.round, a->vote.type == CS_PREVOTE ? 2 : 3}, 0, a->vote.value};
    check_signed(r, &m);
    struct cs_event ev = {.kind = CS_EV_VOTE}; /* fed back, as the shell does */
    ev.vote.type = a->vote.type;
    ev.vote.height = a->vote.height;
    ev.vote.round = a->vote.round;
    ev.vote.value = a->vote.value;
    ev.vote.validator = r->self;
    inbox_push(r, &ev);
}

static void carry_out(struct run *r, const struct cs_actions *out)
{
    cr_assert(out->n <= CS_ACTIONS_MAX);
    for (size_t i = 0; i < out->n; i++) {
        const struct cs_action *a = &out->items[i];
        trace_bytes(r, &a->kind, sizeof(a->kind));
        struct cs_event ev;
        memset(&ev, 0, sizeof(ev));
        switch (a->kind) {
        case CS_ACT_PERSIST:
            trace_bytes(r, &a->persist, sizeof(a->persist));
            /* Written now, known synced when CS_EV_PERSISTED is delivered. */
            cr_assert_lt(a->persist.seq, sizeof(r->written) / sizeof(r->written[0]));
            r->written[a->persist.seq] = a->persist.state;
            r->written_seq = a->persist.seq;
            ev.kind = CS_EV_PERSISTED;
            ev.persisted_seq = a->persist.seq;
            inbox_push(r, &ev);
            break;
        case CS_ACT_PROPOSE:
        case CS_ACT_VOTE:
            carry_out_signed(r, a);
            break;
        case CS_ACT_SCHEDULE_TIMEOUT:
            trace_bytes(r, &a->timeout, sizeof(a->timeout));
            if (below(r, 4) != 0) { /* most timeouts fire, some are lost */
                ev.kind = CS_EV_TIMEOUT;
                ev.timeout.height = a->timeout.height;
                ev.timeout.round = a->timeout.round;
                ev.timeout.step = a->timeout.step;
                inbox_push(r, &ev);
            }
            break;
        case CS_ACT_GET_VALUE:
            trace_bytes(r, &a->get_value, sizeof(a->get_value));
            ev.kind = CS_EV_VALUE;
            ev.value.height = a->get_value.height;
            ev.value.round = a->get_value.round;
            memset(ev.value.hash, 'A' + (int)below(r, 3), CS_HASH_BYTES);
            inbox_push(r, &ev);
            break;
        case CS_ACT_DECIDE:
            trace_bytes(r, a->decide.hash, CS_HASH_BYTES);
            cr_assert_geq(a->decide.n_precommits, consensus_quorum(r->n));
            for (uint32_t k = 0; k < a->decide.n_precommits; k++)
                trace_bytes(r, a->decide.precommits[k], a->decide.precommit_lens[k]);
            r->decided++;
            break;
        case CS_ACT_EVIDENCE:
            trace_bytes(r, a->evidence.vote_a, a->evidence.len_a);
            trace_bytes(r, a->evidence.vote_b, a->evidence.len_b);
            cr_assert_neq(a->evidence.validator, r->self, "the core equivocated");
            break;
        }
    }
}

static void feed(struct run *r, struct cs_event *ev)
{
    if (ev->kind == CS_EV_PERSISTED && ev->persisted_seq > r->disk_seq) {
        /* Persists are written in order: this one and all before it are
         * synced now. */
        r->disk = r->written[ev->persisted_seq];
        r->disk_seq = ev->persisted_seq;
        r->have_disk = true;
    }
    struct cs_actions out;
    consensus_step(r->cs, ev, &out);
    carry_out(r, &out);
}

/* A message of another validator near the core's position. */
static void random_message(struct run *r, struct cs_event *ev, char bytes[64])
{
    struct cs_durable d;
    consensus_durable(r->cs, &d);
    uint64_t h = d.height + below(r, 8) / 6u; /* mostly this height */
    if (h > 0 && below(r, 10) == 0)
        h--;
    uint32_t round = below(r, 10) == 0 ? d.round + below(r, 40) : below(r, d.round + 3u);
    const char values[] = {0, 'A', 'B', 'C'};
    memset(ev, 0, sizeof(*ev));
    /* Only the core proposes in its own rounds (the shell checks the
     * proposer's signature). */
    if (below(r, 5) == 0 && consensus_proposer(r->cs, h, round) != r->self) {
        ev->kind = CS_EV_PROPOSAL;
        ev->proposal.height = h;
        ev->proposal.round = round;
        ev->proposal.valid_round = (int32_t)below(r, round + 2u) - 1;
        memset(ev->proposal.hash, 'A' + (int)below(r, 3), CS_HASH_BYTES);
        ev->proposal.valid = below(r, 8) != 0;
        return;
    }
    ev->kind = CS_EV_VOTE;
    ev->vote.type = below(r, 2) == 0 ? CS_PREVOTE : CS_PRECOMMIT;
    ev->vote.height = h;
    ev->vote.round = round;
    ev->vote.validator = below(r, r->n);
    if (ev->vote.validator == r->self) { /* others only: the core's votes come from itself */
        if (r->n == 1) {
            ev->kind = CS_EV_START; /* nobody else: a repeated start, which changes nothing */
            return;
        }
        ev->vote.validator = (ev->vote.validator + 1u) % r->n;
    }
    char v = values[below(r, 4)];
    ev->vote.value = value_named(v);
    tl_vote_bytes(ev->vote.type, h, round, ev->vote.validator, v, bytes, 64);
    ev->vote.signed_bytes = (const uint8_t *)bytes;
    ev->vote.signed_len = strlen(bytes);
}

static void open_core(struct run *r)
{
    struct cs_params p = tl_params(r->n, r->self);
    struct cs_durable fresh = tl_state(1, 0, CS_STEP_PROPOSE, -1, 0, -1, 0);
    cr_assert_eq(consensus_open(&p, r->have_disk ? &r->disk : &fresh, &r->cs), HANSA_OK);
    r->n_inbox = 0;  /* answers to a dead process are lost */
    r->disk_seq = 0; /* persist numbers start again */
    r->written_seq = 0;
    struct cs_event start = {.kind = CS_EV_START};
    feed(r, &start);
}

static void one_event(struct run *r)
{
    uint32_t what = below(r, 100);
    if (what < 2) { /* crash and restart from the disk */
        if (r->written_seq > r->disk_seq && below(r, 2) == 0) {
            /* The last write reached the disk, its answer did not. */
            r->disk = r->written[r->written_seq];
            r->have_disk = true;
        }
        consensus_close(r->cs);
        open_core(r);
        return;
    }
    if (what < 45 && r->n_inbox > 0) { /* the shell answers something */
        size_t i = below(r, (uint32_t)r->n_inbox);
        struct cs_event ev = r->inbox[i];
        char bytes[64];
        if (ev.kind == CS_EV_VOTE) {
            char v = ev.vote.value.nil ? 0 : (char)ev.vote.value.hash[0];
            tl_vote_bytes(ev.vote.type, ev.vote.height, ev.vote.round, ev.vote.validator, v, bytes,
                          sizeof(bytes));
            ev.vote.signed_bytes = (const uint8_t *)bytes;
            ev.vote.signed_len = strlen(bytes);
        }
        r->inbox[i] = r->inbox[--r->n_inbox];
        feed(r, &ev);
        return;
    }
    struct cs_event ev;
    char bytes[64];
    random_message(r, &ev, bytes);
    feed(r, &ev);
}

static uint64_t run_once(uint64_t seed, uint64_t *decided)
{
    static struct run r;
    memset(&r, 0, sizeof(r));
    r.seed = seed;
    r.rng = seed * 0x9E3779B97F4A7C15u + 1u;
    r.trace = 1469598103934665603u;
    const uint32_t sizes[] = {1, 4, 4, 5, 7};
    r.n = sizes[below(&r, 5)];
    r.self = below(&r, 6) == 0 ? UINT32_MAX : below(&r, r.n);
    open_core(&r);
    for (uint32_t i = 0; i < EVENTS_PER; i++)
        one_event(&r);
    consensus_close(r.cs);
    *decided = r.decided;
    return r.trace;
}

Test(consensus_random, random_events_and_crashes_never_double_sign_and_replay_exactly)
{
    uint64_t decided_total = 0;
    for (uint64_t seed = 1; seed <= RUNS; seed++) {
        uint64_t decided = 0, again = 0;
        uint64_t trace = run_once(seed, &decided);
        cr_assert_eq(run_once(seed, &again), trace, "seed %llu does not replay",
                     (unsigned long long)seed);
        decided_total += decided;
    }
    /* The streams are rich enough to reach decisions (else the properties
     * above would hold vacuously). */
    cr_assert_gt(decided_total, RUNS / 4u, "only %llu decisions",
                 (unsigned long long)decided_total);
}
