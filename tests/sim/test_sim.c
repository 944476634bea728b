/*
 * Unit tests of the simulator's parts, of its checkers (each must be able
 * to fire), and of whole runs: a seed replays to the same trace, a few
 * seeds pass, and a deliberately broken shell is caught.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_fixture.h"
#include "sim.h"

/* ---- rng and queue ----------------------------------------------------------------- */

Test(sim_rng, one_seed_gives_one_stream_and_streams_differ)
{
    struct sim_rng a, b, c;
    sim_rng_init(&a, 42, 1);
    sim_rng_init(&b, 42, 1);
    sim_rng_init(&c, 42, 2);
    bool differs = false;
    for (int i = 0; i < 100; i++) {
        uint64_t x = sim_rng_next(&a);
        cr_assert_eq(x, sim_rng_next(&b));
        differs |= x != sim_rng_next(&c);
    }
    cr_assert(differs, "stream 2 repeats stream 1");
}

Test(sim_rng, ranges_stay_inside_their_bounds_and_reach_both_ends)
{
    struct sim_rng r;
    sim_rng_init(&r, 7, 1);
    bool lo = false, hi = false;
    for (int i = 0; i < 2000; i++) {
        uint64_t x = sim_rng_range(&r, 3, 9);
        cr_assert(x >= 3 && x <= 9, "%llu", (unsigned long long)x);
        lo |= x == 3;
        hi |= x == 9;
        cr_assert_lt(sim_rng_below(&r, 5), 5);
    }
    cr_assert(lo && hi);
    cr_assert(!sim_rng_chance(&r, 0));
    cr_assert(sim_rng_chance(&r, 1000));
}

Test(sim_queue, pops_by_time_then_in_scheduling_order)
{
    struct sim_queue q;
    sim_queue_init(&q);
    uint64_t times[] = {50, 10, 50, 30, 10, 0, 50};
    for (uint64_t i = 0; i < 7; i++) {
        struct sim_event ev = {.time_ms = times[i], .seq = i + 1, .kind = SIM_EV_TICK};
        sim_queue_push(&q, &ev);
    }
    uint64_t want_seq[] = {6, 2, 5, 4, 1, 3, 7};
    struct sim_event ev;
    for (int i = 0; i < 7; i++) {
        cr_assert(sim_queue_pop(&q, &ev));
        cr_assert_eq(ev.seq, want_seq[i], "pop %d gave seq %llu", i, (unsigned long long)ev.seq);
    }
    cr_assert(!sim_queue_pop(&q, &ev));
    sim_queue_free(&q);
}

/* ---- messages ------------------------------------------------------------------------ */

static void precommit(uint32_t validator, uint64_t height, uint32_t round, const uint8_t *hash,
                      uint8_t out[SIM_VOTE_BYTES])
{
    struct sim_vote v = {
        .type = CS_PRECOMMIT, .height = height, .round = round, .validator = validator};
    memcpy(v.value.hash, hash, CS_HASH_BYTES);
    sim_vote_encode(&v, out);
}

Test(sim_msg, a_vote_round_trips_and_a_changed_byte_breaks_its_signature)
{
    struct sim_vote v = {.type = CS_PREVOTE, .height = 9, .round = 2, .validator = 3};
    memset(v.value.hash, 0xAB, CS_HASH_BYTES);
    uint8_t buf[SIM_VOTE_BYTES];
    sim_vote_encode(&v, buf);
    struct sim_vote d;
    cr_assert(sim_vote_decode(buf, sizeof buf, 4, &d));
    cr_assert_eq(d.height, 9);
    cr_assert_eq(d.round, 2);
    cr_assert_eq(d.validator, 3);
    cr_assert(!d.value.nil);
    cr_assert(!sim_vote_decode(buf, sizeof buf, 3, &d), "validator 3 is outside a set of 3");
    buf[20] ^= 1;
    cr_assert(!sim_vote_decode(buf, sizeof buf, 4, &d));
}

Test(sim_msg, a_commit_needs_a_quorum_of_distinct_matching_precommits)
{
    uint8_t hash[CS_HASH_BYTES], other[CS_HASH_BYTES];
    memset(hash, 1, sizeof hash);
    memset(other, 2, sizeof other);
    struct sim_commit c;
    memset(&c, 0, sizeof c);
    c.round = 1;
    char why[256];
    for (uint32_t i = 0; i < 2; i++)
        precommit(i, 5, 1, hash, c.precommits[c.n_precommits++]);
    cr_assert(!sim_commit_verify(&c, 4, 5, hash, why, sizeof why), "2 of 4 is no quorum");
    precommit(1, 5, 1, hash, c.precommits[c.n_precommits++]);
    cr_assert(!sim_commit_verify(&c, 4, 5, hash, why, sizeof why), "v1 counted twice");
    precommit(2, 5, 1, other, c.precommits[2]);
    cr_assert(!sim_commit_verify(&c, 4, 5, hash, why, sizeof why), "a precommit for another block");
    precommit(2, 5, 1, hash, c.precommits[2]);
    cr_assert(sim_commit_verify(&c, 4, 5, hash, why, sizeof why), "%s", why);
    cr_assert(!sim_commit_verify(&c, 4, 6, hash, why, sizeof why), "wrong height");
}

/* ---- pool and chain ------------------------------------------------------------------- */

Test(sim_pool, holds_valid_trade_documents_and_a_few_invalid_ones)
{
    const struct sim_pool *p = sim_pool_get();
    size_t valid = 0, invalid = 0;
    bool bad_sig = false;
    for (size_t i = 0; i < p->n; i++) {
        if (p->txs[i].admissible)
            valid++;
        else
            invalid++;
        bad_sig |= strcmp(p->txs[i].kind, "bad-sig") == 0 && p->txs[i].opened && !p->txs[i].sig_ok;
    }
    cr_assert_gt(valid, 100);
    cr_assert_gt(invalid, 5);
    cr_assert(bad_sig, "a corrupted signature must fail wire_tx_verify");
}

static void arrive_all(uint64_t *arrived)
{
    for (size_t i = 0; i < sim_pool_get()->n; i++)
        arrived[i] = 0;
}

Test(sim_chain, accepts_its_own_block_and_refuses_a_tampered_one)
{
    struct sim_chain c;
    sim_chain_init(&c);
    uint64_t *arrived = calloc(sim_pool_get()->n, sizeof *arrived);
    arrive_all(arrived);
    struct sim_block b;
    sim_chain_build(&c, arrived, 5000, 0, &b);
    cr_assert_eq(b.n_txs, SIM_BLOCK_TXS_MAX);
    struct ledger_output out;
    char why[256];
    cr_assert(sim_chain_validate(&c, &b, 5000, &out, why, sizeof why), "%s", why);
    struct sim_block bad = b;
    bad.time_ms++; /* header changed, hash not recomputed */
    struct ledger_output out2;
    cr_assert(!sim_chain_validate(&c, &bad, 5000, &out2, why, sizeof why));
    sim_chain_commit(&c, &b, &(struct sim_commit){0}, &out);
    ledger_output_free(&out);
    cr_assert_eq(sim_chain_height(&c), 1);
    cr_assert(!sim_chain_validate(&c, &b, 5000, &out2, why, sizeof why), "height 1 twice");
    struct sim_block next;
    sim_chain_build(&c, arrived, 6000, 1, &next);
    for (uint16_t i = 0; i < next.n_txs; i++)
        for (uint16_t j = 0; j < b.n_txs; j++)
            cr_assert_neq(next.txs[i], b.txs[j], "a committed transaction proposed again");
    free(arrived);
    sim_chain_free(&c);
}

/* ---- checkers ------------------------------------------------------------------------- */

static struct sim_world *bare_world(uint32_t n, uint32_t byz)
{
    struct sim_world *w = calloc(1, sizeof *w);
    cr_assert(w != NULL);
    w->n = n;
    w->f = n - consensus_quorum(n);
    w->byz = byz;
    sim_check_init(&w->check);
    sim_trace_init(&w->trace, false);
    return w;
}

static void bare_free(struct sim_world *w)
{
    sim_check_free(&w->check);
    free(w);
}

Test(sim_check, fires_when_a_correct_validator_signs_twice_at_one_position)
{
    struct sim_world *w = bare_world(4, 3);
    uint8_t a[32], b[32];
    memset(a, 1, 32);
    memset(b, 2, 32);
    cr_assert(sim_check_sign(w, 0, 5, 1, SIM_SIGN_PREVOTE, a));
    cr_assert(sim_check_sign(w, 0, 5, 1, SIM_SIGN_PREVOTE, a), "the same bytes again are fine");
    cr_assert(sim_check_sign(w, 0, 5, 1, SIM_SIGN_PRECOMMIT, b), "another step");
    cr_assert(sim_check_sign(w, 3, 5, 1, SIM_SIGN_PREVOTE, a));
    cr_assert(sim_check_sign(w, 3, 5, 1, SIM_SIGN_PREVOTE, b), "v3 is the Byzantine one");
    cr_assert(!w->failed);
    cr_assert(!sim_check_sign(w, 0, 5, 1, SIM_SIGN_PREVOTE, b));
    cr_assert(w->failed);
    cr_assert_str_eq(w->fail_checker, "double-sign");
    bare_free(w);
}

Test(sim_check, fires_when_two_blocks_are_committed_at_one_height)
{
    struct sim_world *w = bare_world(4, UINT32_MAX);
    struct sim_chain c0, c1;
    sim_chain_init(&c0);
    sim_chain_init(&c1);
    uint64_t *arrived = calloc(sim_pool_get()->n, sizeof *arrived);
    arrive_all(arrived);
    struct sim_block b0, b1;
    sim_chain_build(&c0, arrived, 3000, 0, &b0);
    sim_chain_build(&c1, arrived, 3001, 1, &b1);
    cr_assert(memcmp(b0.hash, b1.hash, CS_HASH_BYTES) != 0);
    struct sim_commit k0, k1;
    memset(&k0, 0, sizeof k0);
    memset(&k1, 0, sizeof k1);
    for (uint32_t i = 0; i < 3; i++) {
        precommit(i, 1, 0, b0.hash, k0.precommits[k0.n_precommits++]);
        precommit(i + 1, 1, 0, b1.hash, k1.precommits[k1.n_precommits++]);
    }
    uint8_t root[CS_HASH_BYTES] = {7};
    sim_check_commit(w, 0, &c0, &b0, &k0, root);
    cr_assert(!w->failed, "%s", w->fail_detail);
    sim_check_commit(w, 1, &c1, &b1, &k1, root);
    cr_assert(w->failed);
    cr_assert_str_eq(w->fail_checker, "agreement");
    free(arrived);
    sim_chain_free(&c0);
    sim_chain_free(&c1);
    bare_free(w);
}

Test(sim_check, fires_when_equal_heights_have_different_state_roots)
{
    struct sim_world *w = bare_world(4, UINT32_MAX);
    struct sim_chain c;
    sim_chain_init(&c);
    uint64_t *arrived = calloc(sim_pool_get()->n, sizeof *arrived);
    arrive_all(arrived);
    struct sim_block b;
    sim_chain_build(&c, arrived, 3000, 0, &b);
    struct sim_commit k;
    memset(&k, 0, sizeof k);
    for (uint32_t i = 0; i < 3; i++)
        precommit(i, 1, 0, b.hash, k.precommits[k.n_precommits++]);
    uint8_t r1[CS_HASH_BYTES] = {1}, r2[CS_HASH_BYTES] = {2};
    sim_check_commit(w, 0, &c, &b, &k, r1);
    sim_check_commit(w, 1, &c, &b, &k, r1);
    cr_assert(!w->failed, "%s", w->fail_detail);
    sim_check_commit(w, 2, &c, &b, &k, r2);
    cr_assert_str_eq(w->fail_checker, "state-root");
    free(arrived);
    sim_chain_free(&c);
    bare_free(w);
}

Test(sim_check, fires_on_a_committed_transaction_that_admission_refuses)
{
    struct sim_world *w = bare_world(4, UINT32_MAX);
    struct sim_chain c;
    sim_chain_init(&c);
    const struct sim_pool *p = sim_pool_get();
    struct sim_block b;
    memset(&b, 0, sizeof b);
    b.height = 1;
    memcpy(b.state_root, c.root, CS_HASH_BYTES);
    for (size_t i = 0; i < p->n && b.n_txs == 0; i++)
        if (!p->txs[i].admissible)
            b.txs[b.n_txs++] = (uint16_t)i;
    struct sim_commit k;
    memset(&k, 0, sizeof k);
    for (uint32_t i = 0; i < 3; i++)
        precommit(i, 1, 0, b.hash, k.precommits[k.n_precommits++]);
    uint8_t root[CS_HASH_BYTES] = {0};
    sim_check_commit(w, 0, &c, &b, &k, root);
    cr_assert_str_eq(w->fail_checker, "tx-validity");
    sim_chain_free(&c);
    bare_free(w);
}

Test(sim_check, fires_on_evidence_against_a_correct_validator_or_without_conflict)
{
    struct sim_world *w = bare_world(4, 2);
    struct sim_vote v = {.type = CS_PREVOTE, .height = 3, .round = 0, .validator = 2};
    uint8_t a[SIM_VOTE_BYTES], b[SIM_VOTE_BYTES];
    v.value.nil = true;
    sim_vote_encode(&v, a);
    v.value.nil = false;
    memset(v.value.hash, 9, CS_HASH_BYTES);
    sim_vote_encode(&v, b);
    struct cs_action act = {.kind = CS_ACT_EVIDENCE};
    act.evidence.vote_a = a;
    act.evidence.len_a = SIM_VOTE_BYTES;
    act.evidence.vote_b = b;
    act.evidence.len_b = SIM_VOTE_BYTES;
    act.evidence.validator = 2;
    sim_check_evidence(w, 0, &act);
    cr_assert(!w->failed, "%s", w->fail_detail);
    act.evidence.vote_b = a; /* the same vote twice */
    sim_check_evidence(w, 0, &act);
    cr_assert_str_eq(w->fail_checker, "evidence");
    bare_free(w);

    w = bare_world(4, UINT32_MAX); /* now v2 is correct */
    act.evidence.vote_b = b;
    sim_check_evidence(w, 0, &act);
    cr_assert_str_eq(w->fail_checker, "evidence");
    bare_free(w);
}

/* ---- whole runs --------------------------------------------------------------------------- */

static struct sim_config config(uint64_t seed, uint32_t n)
{
    struct sim_config c = {.seed = seed, .n_validators = n, .heights = 6, .byzantine = UINT32_MAX};
    return c;
}

static void expect_ok(const struct sim_config *c, struct sim_result *r)
{
    sim_run_seed(c, r);
    cr_assert(r->ok, "seed %llu n=%u: %s: %s", (unsigned long long)c->seed, c->n_validators,
              r->checker, r->detail);
}

Test(sim, one_seed_replays_to_the_same_trace_and_another_seed_does_not)
{
    struct sim_config c = config(3, 4);
    struct sim_result r1, r2, r3;
    expect_ok(&c, &r1);
    expect_ok(&c, &r2);
    cr_assert_eq(r1.stats.trace_hash, r2.stats.trace_hash);
    cr_assert_eq(r1.stats.trace_lines, r2.stats.trace_lines);
    cr_assert_eq(r1.stats.events, r2.stats.events);
    c.seed = 4;
    expect_ok(&c, &r3);
    cr_assert_neq(r1.stats.trace_hash, r3.stats.trace_hash);
}

Test(sim, four_and_seven_validators_reach_their_heights_under_faults)
{
    for (uint64_t seed = 1; seed <= 3; seed++)
        for (uint32_t n = 4; n <= 7; n += 3) {
            struct sim_config c = config(seed, n);
            struct sim_result r;
            expect_ok(&c, &r);
            cr_assert_geq(r.stats.heights, c.heights);
            cr_assert_gt(r.stats.sent, r.stats.delivered, "no message was lost");
        }
}

Test(sim, a_byzantine_validators_double_votes_end_up_as_evidence)
{
    uint64_t expected = 0, evidence = 0, double_votes = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct sim_config c = config(seed, 4);
        c.byzantine = (uint32_t)(seed % 4);
        struct sim_result r;
        sim_run_seed(&c, &r);
        /* This test is about evidence; a halt is the liveness checker's
         * business (sim tier), so only other violations fail it here. */
        cr_assert(r.ok || strcmp(r.checker, "liveness") == 0, "seed %llu: %s: %s",
                  (unsigned long long)seed, r.checker, r.detail);
        expected += r.stats.evidence_expected;
        evidence += r.stats.evidence;
        double_votes += r.stats.byz_votes;
    }
    cr_assert_gt(double_votes, 0);
    cr_assert_gt(expected, 0, "no correct validator received both votes of a pair");
    cr_assert_geq(evidence, expected);
}

/* Search seeds for a violation of one of the named checkers. */
static bool caught(enum sim_mutation m, uint32_t byzantine, uint64_t seeds, const char *a,
                   const char *b, uint64_t *seed_out)
{
    for (uint64_t seed = 1; seed <= seeds; seed++) {
        struct sim_config c = config(seed, 4);
        c.mutation = m;
        c.byzantine = byzantine;
        struct sim_result r;
        sim_run_seed(&c, &r);
        /* A halt is not what these broken shells are about (and the core
         * can be halted by a Byzantine validator: see the report). */
        if (r.ok || strcmp(r.checker, "liveness") == 0)
            continue;
        cr_assert(strcmp(r.checker, a) == 0 || strcmp(r.checker, b) == 0,
                  "seed %llu: unexpected %s: %s", (unsigned long long)seed, r.checker, r.detail);
        *seed_out = seed;
        return true;
    }
    return false;
}

Test(sim, a_disk_that_lies_about_fsync_is_caught_signing_twice)
{
    uint64_t seed = 0;
    cr_assert(
        caught(SIM_MUTATE_LYING_FSYNC, SIM_NO_BYZANTINE, 300, "double-sign", "sign-regress", &seed),
        "300 seeds of crashes with a lying disk and no double-sign found");
}

Test(sim, a_shell_that_calls_every_block_valid_commits_an_invalid_transaction)
{
    uint64_t seed = 0;
    cr_assert(caught(SIM_MUTATE_ACCEPT_INVALID, 1, 200, "tx-validity", "tx-validity", &seed),
              "200 seeds with a Byzantine proposer and no invalid transaction committed");
}
