/*
 * The consensus core on the good path: quorum sizes, parameter checks, one
 * height decided by four validators, proposer rotation, getValue.
 *
 * Four validators, proposer(h, r) = (h + r) % 4. Validator 0 is the core
 * under test unless a test says otherwise; votes "from" other validators are
 * events the test feeds in, and the core's own votes come back only when
 * the test feeds them back (as the shell does).
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "timeline.h"

Test(consensus_quorum, is_two_thirds_plus_one_and_weak_quorum_is_the_rest_plus_one)
{
    const uint32_t n[] = {1, 2, 3, 4, 5, 6, 7, 10, 64};
    const uint32_t quorum[] = {1, 2, 3, 3, 4, 5, 5, 7, 43};
    const uint32_t weak[] = {1, 1, 1, 2, 2, 2, 3, 4, 22};
    for (size_t i = 0; i < sizeof(n) / sizeof(n[0]); i++) {
        cr_assert_eq(consensus_quorum(n[i]), quorum[i], "n=%u", n[i]);
        cr_assert_eq(consensus_weak_quorum(n[i]), weak[i], "n=%u", n[i]);
    }
}

Test(consensus_open, rejects_bad_params_and_inconsistent_durable_state)
{
    struct consensus *cs = (struct consensus *)1;
    struct cs_durable ok = tl_state(1, 0, CS_STEP_PROPOSE, -1, 0, -1, 0);
    struct cs_params p = tl_params(0, 0);
    cr_assert_eq(consensus_open(&p, &ok, &cs), HANSA_EINVAL, "no validators");
    cr_assert_null(cs);
    p = tl_params(CS_VALIDATORS_MAX + 1, 0);
    cr_assert_eq(consensus_open(&p, &ok, &cs), HANSA_EINVAL, "too many validators");
    p = tl_params(4, 4);
    cr_assert_eq(consensus_open(&p, &ok, &cs), HANSA_EINVAL, "self outside the set");

    p = tl_params(4, 0);
    struct cs_durable bad = ok;
    bad.step = 0;
    cr_assert_eq(consensus_open(&p, &bad, &cs), HANSA_EINVAL, "no step");
    bad = tl_state(1, 2, CS_STEP_PROPOSE, 1, 'A', 0, 'B');
    cr_assert_eq(consensus_open(&p, &bad, &cs), HANSA_EINVAL, "lock after valid value");
    bad = tl_state(1, 2, CS_STEP_PROPOSE, -1, 0, 3, 'B');
    cr_assert_eq(consensus_open(&p, &bad, &cs), HANSA_EINVAL, "valid value in a future round");
    bad = tl_state(1, UINT32_MAX, CS_STEP_PROPOSE, -1, 0, -1, 0);
    cr_assert_eq(consensus_open(&p, &bad, &cs), HANSA_EINVAL, "round out of range");
    bad = tl_state(1, 0, CS_STEP_PROPOSE, -2, 0, -1, 0);
    cr_assert_eq(consensus_open(&p, &bad, &cs), HANSA_EINVAL, "lock round below -1");

    cr_assert_eq(consensus_open(&p, &ok, &cs), HANSA_OK);
    cr_assert_not_null(cs);
    consensus_close(cs);
    p = tl_params(4, UINT32_MAX);
    cr_assert_eq(consensus_open(&p, &ok, &cs), HANSA_OK, "an observer is fine");
    consensus_close(cs);
    consensus_close(NULL);
}

Test(consensus_height, four_validators_propose_prevote_precommit_decide_and_start_the_next)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 propose 1000ms)");

    /* Line 22: the proposal of validator 1, valid, no lock: prevote it,
     * after the state is persisted. */
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 A)");

    cr_assert_str_eq(tl_prevote(&t, 1, 0, 0, 'A'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 1, 'A'), "");
    /* Lines 34 and 36: the third prevote is a polka: lock and precommit. */
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'A'),
                     "timeout(h1 r0 prevote 600ms); persist#2{h1 r0 precommit lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 2), "precommit(h1 r0 A)");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'A'), "", "a fourth prevote changes nothing");

    cr_assert_str_eq(tl_precommit(&t, 1, 0, 0, 'A'), "");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 1, 'A'), "");
    /* Line 49: 2f+1 precommits decide; height 2 starts at once, its
     * proposer is validator 2. */
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 2, 'A'),
                     "decide(h1 r0 A by 0 1 2); timeout(h2 r0 propose 1000ms)");
    cr_assert_str_eq(tl_durable(&t), "h2 r0 propose lock- valid-");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 'A'), "", "late precommits of h1 are dropped");
    tl_close(&t);
}

Test(consensus_height, decide_points_at_the_exact_signed_precommits)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_proposal(&t, 1, 0, -1, 'A', true);
    tl_precommit(&t, 1, 0, 2, 0);
    tl_precommit(&t, 1, 0, 1, 'A');
    tl_precommit(&t, 1, 0, 3, 'A');
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 0, 'A'),
                     "decide(h1 r0 A by 0 1 3); timeout(h2 r0 propose 1000ms)",
                     "the nil precommit of 2 is not part of the commit");
    const struct cs_action *d = &t.out.items[0];
    cr_assert_eq(d->kind, CS_ACT_DECIDE);
    cr_assert_eq(d->decide.n_precommits, 3);
    const uint32_t voters[] = {0, 1, 3};
    for (uint32_t i = 0; i < 3; i++) {
        char want[64];
        tl_vote_bytes(CS_PRECOMMIT, 1, 0, voters[i], 'A', want, sizeof(want));
        cr_assert_eq(d->decide.precommit_lens[i], strlen(want));
        cr_assert_arr_eq(d->decide.precommits[i], want, strlen(want));
    }
    tl_close(&t);
}

Test(consensus_height, decides_on_precommits_of_an_earlier_round)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "persist#1{h1 r0 prevote lock- valid-}");
    /* Two validators are in round 1 already: f+1, skip there (line 55). */
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 2, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 3, 0), "timeout(h1 r1 propose 1500ms)");
    /* Line 49 holds for any round: round 0's precommits still decide. */
    tl_precommit(&t, 1, 0, 1, 'A');
    tl_precommit(&t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 'A'),
                     "decide(h1 r0 A by 1 2 3); timeout(h2 r0 propose 1000ms)");
    tl_close(&t);
}

Test(consensus_height, an_invalid_block_gets_a_nil_prevote_and_is_never_decided)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', false),
                     "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 nil)");
    tl_prevote(&t, 1, 0, 1, 'A');
    tl_prevote(&t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'A'), "timeout(h1 r0 prevote 600ms)",
                     "no lock on an invalid value (line 36 needs valid(v))");
    tl_precommit(&t, 1, 0, 1, 'A');
    tl_precommit(&t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 'A'), "timeout(h1 r0 precommit 700ms)",
                     "no decision on an invalid value (line 50)");
    tl_close(&t);
}

Test(consensus_proposer, rotates_with_height_and_round)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    cr_assert_eq(consensus_proposer(t.cs, 1, 0), 1);
    cr_assert_eq(consensus_proposer(t.cs, 1, 1), 2);
    cr_assert_eq(consensus_proposer(t.cs, 1, 3), 0);
    cr_assert_eq(consensus_proposer(t.cs, 2, 0), 2);
    cr_assert_eq(consensus_proposer(t.cs, 2, 3), 1);
    cr_assert_eq(consensus_proposer(t.cs, UINT64_MAX, UINT32_MAX), (3u + 3u) % 4u);
    tl_close(&t);
}

Test(consensus_proposer, asks_for_a_value_then_proposes_and_prevotes_it)
{
    struct tl t;
    tl_open(&t, 4, 1, 1);
    cr_assert_str_eq(tl_start(&t), "get_value(h1 r0)", "no timeoutPropose for the proposer");
    /* The core's own proposal counts without being fed back (line 22). */
    cr_assert_str_eq(tl_value(&t, 1, 0, 'X'), "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "propose(h1 r0 vr-1 X); prevote(h1 r0 X)");
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'X', true), "", "fed back: a duplicate");
    cr_assert_str_eq(tl_value(&t, 1, 0, 'Y'), "", "a second value is stale");
    tl_close(&t);
}

Test(consensus_proposer, the_next_rounds_proposer_asks_after_timeout_precommit)
{
    struct tl t;
    tl_open(&t, 4, 2, 1);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 propose 1000ms)");
    tl_precommit(&t, 1, 0, 0, 0);
    tl_precommit(&t, 1, 0, 1, 0);
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 0), "timeout(h1 r0 precommit 700ms)");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "get_value(h1 r1)");
    tl_close(&t);
}

Test(consensus_proposer, a_value_for_a_round_already_left_is_ignored)
{
    struct tl t;
    tl_open(&t, 4, 1, 1);
    cr_assert_str_eq(tl_start(&t), "get_value(h1 r0)");
    tl_prevote(&t, 1, 1, 2, 0);
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 3, 0), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_value(&t, 1, 0, 'X'), "", "round 0's block arrives in round 1");
    cr_assert_str_eq(tl_value(&t, 2, 1, 'X'), "", "and one for another height");
    tl_close(&t);
}

Test(consensus_start, messages_before_start_are_kept_and_acted_on_at_start)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PROPOSE), "", "no timeout acts before start");
    cr_assert_str_eq(tl_start(&t),
                     "timeout(h1 r0 propose 1000ms); persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_start(&t), "", "a second start changes nothing");
    tl_close(&t);
}

Test(consensus_timeout, delay_grows_per_round_and_saturates)
{
    struct tl t;
    struct cs_durable d = tl_state(1, 3, CS_STEP_PROPOSE, -1, 0, -1, 0);
    tl_open_at(&t, 4, 1, &d);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r3 propose 2500ms)");
    tl_close(&t);

    struct cs_params p = tl_params(4, 1);
    p.propose_delta_ms = UINT32_MAX;
    d = tl_state(1, 2, CS_STEP_PROPOSE, -1, 0, -1, 0);
    struct consensus *cs;
    cr_assert_eq(consensus_open(&p, &d, &cs), HANSA_OK);
    struct cs_event ev = {.kind = CS_EV_START};
    struct cs_actions out;
    consensus_step(cs, &ev, &out);
    cr_assert_eq(out.n, 1);
    cr_assert_eq(out.items[0].kind, CS_ACT_SCHEDULE_TIMEOUT);
    cr_assert_eq(out.items[0].timeout.delay_ms, UINT32_MAX);
    consensus_close(cs);
}

Test(consensus_height, a_single_validator_decides_alone_and_ignores_a_stale_value)
{
    /* n = 1: quorum 1, the core proposes every round and its own votes,
     * fed back, decide. */
    struct tl t;
    tl_open(&t, 1, 0, 1);
    cr_assert_str_eq(tl_start(&t), "get_value(h1 r0)");
    tl_precommit(&t, 1, 0, 0, 0);
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "get_value(h1 r1)");
    cr_assert_str_eq(tl_value(&t, 1, 0, 'X'), "", "round 0's value, while round 1 waits");
    cr_assert_str_eq(tl_value(&t, 1, 1, 'Y'), "persist#1{h1 r1 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "propose(h1 r1 vr-1 Y); prevote(h1 r1 Y)");
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 0, 'Y'),
                     "timeout(h1 r1 prevote 900ms); persist#2{h1 r1 precommit lock1:Y valid1:Y}");
    cr_assert_str_eq(tl_persisted(&t, 2), "precommit(h1 r1 Y)");
    cr_assert_str_eq(tl_precommit(&t, 1, 1, 0, 'Y'), "decide(h1 r1 Y by 0); get_value(h2 r0)");
    tl_close(&t);
}
