/*
 * What keeps the core safe around others' faults and its own crashes:
 * equivocation is reported once and counted once per value (up to a
 * bound), nothing is signed before the
 * state covering it is persisted, an observer signs nothing, and a core
 * restarted from its durable state never signs a conflicting message.
 * Four validators, height 1: proposer(1, r) = (1 + r) % 4.
 */
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "consensus_internal.h" /* CS_VOTE_VALUES_MAX */
#include "timeline.h"

Test(consensus_evidence, two_prevotes_of_one_validator_are_reported_once)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_proposal(&t, 1, 0, -1, 'A', true);
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'A'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'A'), "", "the same vote again is a duplicate");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 0), "evidence(v2: PV|1|0|2|A / PV|1|0|2|-)");
    const struct cs_action *e = &t.out.items[0];
    cr_assert_eq(e->evidence.len_a, strlen("PV|1|0|2|A"));
    cr_assert_eq(e->evidence.len_b, strlen("PV|1|0|2|-"));
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'B'), "", "reported once");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 2, 'B'), "", "one vote of another type is no evidence");
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 2, 'B'), "", "nor one of another round");
    tl_close(&t);
}

Test(consensus_evidence, an_equivocator_counts_once_toward_anything)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_proposal(&t, 1, 0, -1, 'A', true);
    tl_prevote(&t, 1, 0, 2, 'B');
    tl_prevote(&t, 1, 0, 2, 'C');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 1, 0), "", "two validators, not three: no line 34");
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 2, 'B'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 2, 0), "evidence(v2: PV|1|1|2|B / PV|1|1|2|-)",
                     "one sender of round 1, not two: no skip (line 55)");
    tl_close(&t);
}

Test(consensus_evidence, an_equivocators_later_vote_counts_toward_its_own_value)
{
    /* The paper counts every message received: validator 0 here first got
     * validator 2's nil prevote, while 3 got its prevote for A, saw a polka
     * and locked. Once 2's prevote for A is relayed here, this core must see
     * that polka too, or it could never accept A again (line 28) and the
     * network would stall with 3 locked. */
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_timeout(&t, 1, 0, CS_STEP_PROPOSE);
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 nil)");
    tl_proposal(&t, 1, 0, -1, 'A', true);
    tl_prevote(&t, 1, 0, 2, 0);
    tl_prevote(&t, 1, 0, 1, 'A');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'A'), "timeout(h1 r0 prevote 600ms)");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'A'),
                     "evidence(v2: PV|1|0|2|- / PV|1|0|2|A); "
                     "persist#2{h1 r0 precommit lock0:A valid0:A}",
                     "three prevotes for A: a polka (line 36)");
    tl_close(&t);
}

Test(consensus_evidence, an_equivocators_precommits_count_toward_each_value)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_proposal(&t, 1, 0, -1, 'A', true);
    tl_precommit(&t, 1, 0, 3, 0);
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 'A'), "evidence(v3: PC|1|0|3|- / PC|1|0|3|A)");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 1, 'A'), "");
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 2, 'A'),
                     "decide(h1 r0 A by 1 2 3); timeout(h2 r0 propose 1000ms)",
                     "the commit holds 3's precommit for A, not its nil one");
    tl_close(&t);
}

Test(consensus_evidence, an_equivocators_junk_values_make_room_for_a_proposed_one)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_proposal(&t, 1, 0, -1, 'A', true);
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 A)");
    /* Validator 2 signs CS_VOTE_VALUES_MAX values nobody proposed first, then
     * a prevote for the proposed A: the slots are full, and a junk value is
     * evicted to make room, since no rule can ever count it (simulator, seed
     * 145: otherwise an equivocator hides its real vote from some peers and
     * the chain halts). */
    const char others[] = {'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I'};
    _Static_assert(sizeof(others) >= CS_VOTE_VALUES_MAX, "enough other values");
    for (uint32_t i = 0; i < CS_VOTE_VALUES_MAX; i++)
        tl_prevote(&t, 1, 0, 2, others[i]);
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'A'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 0, 'A'), "");
    const char *got = tl_prevote(&t, 1, 0, 1, 'A');
    cr_assert(strstr(got, "persist#2{h1 r0 precommit lock0:A valid0:A}") != NULL,
              "A counts validator 2's prevote: a junk value made room for it (got %s)", got);
    tl_close(&t);
}

Test(consensus_evidence, a_second_proposal_for_a_round_is_ignored)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'B', true), "");
    tl_prevote(&t, 1, 0, 1, 'B');
    tl_prevote(&t, 1, 0, 2, 'B');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'B'), "timeout(h1 r0 prevote 600ms)",
                     "B has a polka, but the round's proposal is A: no lock on B");
    tl_precommit(&t, 1, 0, 1, 'B');
    tl_precommit(&t, 1, 0, 2, 'B');
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 'B'), "timeout(h1 r0 precommit 700ms)",
                     "and no decision on B");
    tl_close(&t);
}

Test(consensus_persist, no_vote_is_released_before_its_persist)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 0), "", "an older persist releases nothing");
    tl_prevote(&t, 1, 0, 1, 'A');
    tl_prevote(&t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'A'),
                     "timeout(h1 r0 prevote 600ms); persist#2{h1 r0 precommit lock0:A valid0:A}",
                     "the core goes on while the first persist is pending");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 A)");
    cr_assert_str_eq(tl_persisted(&t, 1), "", "released once");
    cr_assert_str_eq(tl_persisted(&t, 2), "precommit(h1 r0 A)");
    tl_close(&t);
}

Test(consensus_persist, a_later_persist_releases_everything_before_it_in_order)
{
    struct tl t;
    tl_open(&t, 4, 1, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_value(&t, 1, 0, 'A'), "persist#1{h1 r0 prevote lock- valid-}");
    tl_prevote(&t, 1, 0, 0, 'A');
    tl_prevote(&t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'A'),
                     "timeout(h1 r0 prevote 600ms); persist#2{h1 r0 precommit lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 7),
                     "propose(h1 r0 vr-1 A); prevote(h1 r0 A); precommit(h1 r0 A)",
                     "a number beyond the last persist counts as the last");
    cr_assert_str_eq(tl_persisted(&t, 7), "");
    tl_close(&t);
}

Test(consensus_persist, every_signing_step_persists_once_with_its_final_state)
{
    /* The proposer, with a polka for its block already in: proposal,
     * prevote and precommit are signed in one step, covered by one persist
     * at the last position. */
    struct tl t;
    tl_open(&t, 4, 1, 1);
    tl_start(&t);
    tl_prevote(&t, 1, 0, 0, 'A');
    tl_prevote(&t, 1, 0, 2, 'A');
    tl_prevote(&t, 1, 0, 3, 'A');
    cr_assert_str_eq(tl_value(&t, 1, 0, 'A'),
                     "timeout(h1 r0 prevote 600ms); persist#1{h1 r0 precommit lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 1),
                     "propose(h1 r0 vr-1 A); prevote(h1 r0 A); precommit(h1 r0 A)");
    tl_close(&t);
}

Test(consensus_observer, follows_and_decides_but_never_signs_or_persists)
{
    struct tl t;
    tl_open(&t, 4, UINT32_MAX, 1);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 propose 1000ms)");
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "");
    cr_assert_str_eq(tl_durable(&t), "h1 r0 prevote lock- valid-", "it still moves through steps");
    tl_prevote(&t, 1, 0, 0, 'A');
    tl_prevote(&t, 1, 0, 1, 'A');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'A'), "timeout(h1 r0 prevote 600ms)");
    cr_assert_str_eq(tl_durable(&t), "h1 r0 precommit lock0:A valid0:A");
    tl_precommit(&t, 1, 0, 0, 'A');
    tl_precommit(&t, 1, 0, 1, 'A');
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 2, 'A'),
                     "decide(h1 r0 A by 0 1 2); timeout(h2 r0 propose 1000ms)");
    cr_assert_str_eq(tl_timeout(&t, 2, 0, CS_STEP_PROPOSE), "");
    cr_assert_str_eq(tl_persisted(&t, 1), "");
    tl_close(&t);
}

/* The durable state of the last persist of a core's timeline. */
static struct cs_durable last_persist(const struct tl *t)
{
    for (size_t i = t->out.n; i > 0; i--)
        if (t->out.items[i - 1].kind == CS_ACT_PERSIST)
            return t->out.items[i - 1].persist.state;
    cr_assert_fail("no persist in the last step");
    return (struct cs_durable){0};
}

Test(consensus_restart, after_prevoting_it_resumes_without_prevoting_again)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true), "persist#1{h1 r0 prevote lock- valid-}");
    struct cs_durable d = last_persist(&t);
    tl_close(&t); /* crash: the prevote may or may not have left */

    tl_open_at(&t, 4, 0, &d);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 precommit 700ms)",
                     "no vote: round 0's prevote is done; the votes it counted are lost, "
                     "so the round ends on a timer unless it ends sooner");
    cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'B', true), "",
                     "the proposer equivocates: no second prevote");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PROPOSE), "", "no nil prevote either");
    /* A polka for B: B is the round's proposal now (the core lost A in the
     * crash); precommitting B is a new position, so it is allowed. */
    tl_prevote(&t, 1, 0, 1, 'B');
    tl_prevote(&t, 1, 0, 2, 'B');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'B'),
                     "timeout(h1 r0 prevote 600ms); persist#1{h1 r0 precommit lock0:B valid0:B}");
    tl_close(&t);
}

Test(consensus_restart, after_precommitting_it_keeps_its_lock_and_signs_nothing_in_that_round)
{
    struct cs_durable d = tl_state(1, 0, CS_STEP_PRECOMMIT, 0, 'A', 0, 'A');
    struct tl t;
    tl_open_at(&t, 4, 0, &d);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 precommit 700ms)");
    tl_proposal(&t, 1, 0, -1, 'A', true);
    tl_prevote(&t, 1, 0, 1, 0);
    tl_prevote(&t, 1, 0, 2, 0);
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 0), "", "no nil precommit at step precommit");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PREVOTE), "");
    tl_precommit(&t, 1, 0, 1, 0);
    tl_precommit(&t, 1, 0, 2, 0);
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 0), "", "line 47 counts as fired already");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_proposal(&t, 1, 1, -1, 'B', true),
                     "persist#1{h1 r1 prevote lock0:A valid0:A}", "the restored lock refuses B");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r1 nil)");
    tl_close(&t);
}

Test(consensus_restart, a_proposer_at_step_propose_re_proposes_the_same_valid_value)
{
    /* Height 3, round 1: the core (validator 0) proposed A with valid round
     * 0 and crashed before the polka of round 0 was back in its book. */
    struct cs_durable d = tl_state(3, 1, CS_STEP_PROPOSE, 0, 'A', 0, 'A');
    struct tl t;
    tl_open_at(&t, 4, 0, &d);
    cr_assert_str_eq(tl_start(&t), "persist#1{h3 r1 propose lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 1), "propose(h3 r1 vr0 A)", "the same proposal as before");
    /* Round 0's polka reaches it again: line 28 prevotes its proposal. */
    tl_prevote(&t, 3, 0, 1, 'A');
    tl_prevote(&t, 3, 0, 2, 'A');
    cr_assert_str_eq(tl_prevote(&t, 3, 0, 3, 'A'), "persist#2{h3 r1 prevote lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 2), "prevote(h3 r1 A)");
    tl_close(&t);
}

Test(consensus_restart, a_validator_at_step_propose_resumes_its_round_with_its_timeout)
{
    struct cs_durable d = tl_state(1, 2, CS_STEP_PROPOSE, 1, 'A', 1, 'A');
    struct tl t;
    tl_open_at(&t, 4, 0, &d);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r2 propose 2000ms)");
    cr_assert_str_eq(tl_durable(&t), "h1 r2 propose lock1:A valid1:A");
    cr_assert_str_eq(tl_timeout(&t, 1, 2, CS_STEP_PROPOSE),
                     "persist#1{h1 r2 prevote lock1:A valid1:A}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r2 nil)");
    tl_close(&t);
}

Test(consensus_restart, a_restarted_validator_ends_its_round_without_signing_more_in_it)
{
    /* The whole network restarted: nobody re-sends round 0's other votes.
     * The core leaves round 0 on timeoutPrecommit with nothing more signed
     * there, so its prevote stays the message its shell re-sends. */
    struct cs_durable d = tl_state(1, 0, CS_STEP_PREVOTE, -1, 0, -1, 0);
    struct tl t;
    tl_open_at(&t, 4, 0, &d);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r0 precommit 700ms)");
    tl_precommit(&t, 1, 0, 1, 0);
    tl_precommit(&t, 1, 0, 2, 0);
    cr_assert_str_eq(tl_precommit(&t, 1, 0, 3, 0), "", "line 47 counts as fired already");
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_durable(&t), "h1 r1 propose lock- valid-");
    tl_close(&t);
}
