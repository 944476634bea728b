/*
 * Rounds that do not decide: the three timeouts (lines 57, 61, 65), the
 * nil polka (line 44), the f+1 round skip (line 55), and the bounds on what
 * is kept (far rounds, other heights). Four validators, the core is
 * validator 0, height 1: proposer(1, r) = (1 + r) % 4.
 */
#include <criterion/criterion.h>

#include "timeline.h"

/* Start, time out the proposal and prevote nil (line 57). */
static void prevote_nil(struct tl *t)
{
    cr_assert_str_eq(tl_start(t), "timeout(h1 r0 propose 1000ms)");
    cr_assert_str_eq(tl_timeout(t, 1, 0, CS_STEP_PROPOSE), "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(t, 1), "prevote(h1 r0 nil)");
}

Test(consensus_round, timeout_propose_prevotes_nil_and_a_late_proposal_changes_nothing)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    prevote_nil(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PROPOSE), "", "the step was left");
    cr_assert_str_eq(tl_durable(&t), "h1 r0 prevote lock- valid-");
    tl_close(&t);
}

Test(consensus_round, a_quorum_of_nil_prevotes_precommits_nil)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    prevote_nil(&t);
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 1, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 0),
                     "timeout(h1 r0 prevote 600ms); persist#2{h1 r0 precommit lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 2), "precommit(h1 r0 nil)");
    tl_close(&t);
}

Test(consensus_round, split_prevotes_wait_for_timeout_prevote_then_precommit_nil)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    prevote_nil(&t);
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 1, 'A'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'B'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 0), "timeout(h1 r0 prevote 600ms)");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 0, 0), "", "line 34 fires once per round");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PREVOTE),
                     "persist#2{h1 r0 precommit lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 2), "precommit(h1 r0 nil)");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PREVOTE), "", "the step was left");
    tl_close(&t);
}

Test(consensus_round, timeout_precommit_starts_the_next_round)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    prevote_nil(&t);
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 1, 0), "");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 2, 'A'), "");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 0), "timeout(h1 r0 precommit 700ms)",
                     "line 47 counts precommits for anything, at any step");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 0, 0), "", "line 47 fires once per round");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_durable(&t), "h1 r1 propose lock- valid-");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "", "stale: round 0 was left");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PROPOSE), "", "stale: round 0 was left");
    cr_assert_str_eq(tl_timeout(&t, 2, 1, CS_STEP_PROPOSE), "", "another height");
    /* Round 1 runs like round 0, with its own timeouts. */
    cr_assert_str_eq(tl_timeout(&t, 1, 1, CS_STEP_PROPOSE),
                     "persist#2{h1 r1 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 2), "prevote(h1 r1 nil)");
    tl_close(&t);
}

Test(consensus_round, f_plus_one_validators_in_a_later_round_skip_to_it)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_prevote(&t, 1, 2, 3, 0), "");
    cr_assert_str_eq(tl_precommit(&t, 1, 2, 3, 0), "", "one validator, twice, is not f+1");
    cr_assert_str_eq(tl_prevote(&t, 1, 3, 1, 0), "", "one per round is not f+1 either");
    cr_assert_str_eq(tl_precommit(&t, 1, 2, 2, 0), "timeout(h1 r2 propose 2000ms)");
    cr_assert_str_eq(tl_durable(&t), "h1 r2 propose lock- valid-");
    tl_close(&t);
}

Test(consensus_round, a_proposal_counts_toward_the_skip_and_is_acted_on_in_the_new_round)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 2, -1, 'A', true), "", "from validator 3");
    cr_assert_str_eq(tl_prevote(&t, 1, 2, 1, 'A'),
                     "timeout(h1 r2 propose 2000ms); persist#1{h1 r2 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r2 A)");
    tl_close(&t);
}

Test(consensus_round, skips_to_the_highest_round_with_f_plus_one)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    /* Before the start, messages are kept but no rule runs: at the start,
     * rounds 4 and 5 both have f+1 senders. */
    cr_assert_str_eq(tl_prevote(&t, 1, 4, 3, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 4, 1, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 5, 1, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 5, 2, 0), "");
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 propose 1000ms); timeout(h1 r5 propose 3500ms)");
    cr_assert_str_eq(tl_prevote(&t, 1, 4, 2, 0), "", "round 4 is behind now");
    tl_close(&t);
}

Test(consensus_bounds, messages_beyond_the_future_round_window_are_dropped)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    uint32_t far = CS_FUTURE_ROUNDS_MAX + 1u;
    cr_assert_str_eq(tl_prevote(&t, 1, far, 1, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, far, 2, 0), "", "dropped: no skip");
    cr_assert_str_eq(tl_proposal(&t, 1, far, -1, 'A', true), "");
    cr_assert_str_eq(tl_prevote(&t, 1, far, 3, 0), "");
    /* The edge of the window is kept. */
    cr_assert_str_eq(tl_prevote(&t, 1, CS_FUTURE_ROUNDS_MAX, 1, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, CS_FUTURE_ROUNDS_MAX, 2, 0),
                     "timeout(h1 r16 propose 9000ms)");
    /* Now round 17 is inside the window, but what came early was not kept:
     * one more sender is one, not four. */
    cr_assert_str_eq(tl_precommit(&t, 1, far, 1, 0), "");
    tl_close(&t);
}

Test(consensus_bounds, messages_of_other_heights_are_dropped)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    /* Height 2, too early: a full decision's worth. */
    cr_assert_str_eq(tl_proposal(&t, 2, 0, -1, 'B', true), "");
    cr_assert_str_eq(tl_precommit(&t, 2, 0, 1, 'B'), "");
    cr_assert_str_eq(tl_precommit(&t, 2, 0, 2, 'B'), "");
    cr_assert_str_eq(tl_precommit(&t, 2, 0, 3, 'B'), "");
    cr_assert_str_eq(tl_prevote(&t, 2, 1, 3, 'B'), "");
    cr_assert_str_eq(tl_prevote(&t, 2, 1, 2, 'B'), "", "no skip from another height");
    /* Height 0, too late. */
    cr_assert_str_eq(tl_proposal(&t, 0, 0, -1, 'C', true), "");
    cr_assert_str_eq(tl_precommit(&t, 0, 0, 1, 'C'), "");
    cr_assert_str_eq(tl_precommit(&t, 0, 0, 2, 'C'), "");
    cr_assert_str_eq(tl_precommit(&t, 0, 0, 3, 'C'), "");
    cr_assert_str_eq(tl_durable(&t), "h1 r0 propose lock- valid-");

    /* Height 1 decides; height 2's early messages were not kept, so it does
     * not decide in the same step. */
    tl_proposal(&t, 1, 0, -1, 'A', true);
    tl_precommit(&t, 1, 0, 1, 'A');
    tl_precommit(&t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 'A'),
                     "decide(h1 r0 A by 1 2 3); timeout(h2 r0 propose 1000ms)");
    cr_assert_str_eq(tl_precommit(&t, 2, 0, 1, 'B'), "", "and they count from now on only");
    tl_close(&t);
}

Test(consensus_bounds, votes_from_outside_the_set_or_too_long_are_dropped)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_prevote(&t, 1, 1, 1, 0);
    struct cs_event ev = {.kind = CS_EV_VOTE};
    ev.vote.type = CS_PREVOTE;
    ev.vote.height = 1;
    ev.vote.round = 1;
    ev.vote.value.nil = true;
    ev.vote.validator = 4;
    consensus_step(t.cs, &ev, &t.out);
    cr_assert_eq(t.out.n, 0, "validator 4 is not in a set of 4");
    static uint8_t long_bytes[CS_SIGNED_VOTE_BYTES_MAX + 1];
    ev.vote.validator = 2;
    ev.vote.signed_bytes = long_bytes;
    ev.vote.signed_len = sizeof(long_bytes);
    consensus_step(t.cs, &ev, &t.out);
    cr_assert_eq(t.out.n, 0, "signed vote longer than CS_SIGNED_VOTE_BYTES_MAX");
    ev.vote.type = 3;
    ev.vote.signed_len = 10;
    consensus_step(t.cs, &ev, &t.out);
    cr_assert_eq(t.out.n, 0, "no such vote type");
    /* The same vote, well-formed, is the second sender of round 1. */
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 2, 0), "timeout(h1 r1 propose 1500ms)");
    tl_close(&t);
}
