/*
 * Locks and valid values (lines 22, 28, 36 and 15): a lock refuses other
 * fresh proposals, a later polka unlocks, a polka older than the lock does
 * not, a proposal with a valid round waits for that round's polka, and a
 * proposer re-proposes its valid value. Four validators, height 1:
 * proposer(1, r) = (1 + r) % 4; the core is validator 0 unless stated.
 */
#include <string.h>

#include <criterion/criterion.h>

#include "timeline.h"

/* Round 0: A proposed by 1, prevoted by all, so the core locks A and
 * precommits it; the others precommit nil; timeoutPrecommit moves to
 * round 1 (proposer 2). Persists #1 and #2 are used. */
static void lock_on_a_in_round_0(struct tl *t)
{
    tl_start(t);
    cr_assert_str_eq(tl_proposal(t, 1, 0, -1, 'A', true), "persist#1{h1 r0 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(t, 1), "prevote(h1 r0 A)");
    tl_prevote(t, 1, 0, 1, 'A');
    tl_prevote(t, 1, 0, 2, 'A');
    cr_assert_str_eq(tl_prevote(t, 1, 0, 3, 'A'),
                     "timeout(h1 r0 prevote 600ms); persist#2{h1 r0 precommit lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(t, 2), "precommit(h1 r0 A)");
    tl_precommit(t, 1, 0, 1, 0);
    tl_precommit(t, 1, 0, 2, 0);
    cr_assert_str_eq(tl_precommit(t, 1, 0, 3, 0), "timeout(h1 r0 precommit 700ms)");
    cr_assert_str_eq(tl_timeout(t, 1, 0, CS_STEP_PRECOMMIT), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_durable(t), "h1 r1 propose lock0:A valid0:A");
}

Test(consensus_lock, a_locked_validator_prevotes_nil_for_another_fresh_proposal)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    lock_on_a_in_round_0(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 1, -1, 'B', true),
                     "persist#3{h1 r1 prevote lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 3), "prevote(h1 r1 nil)");
    tl_close(&t);
}

Test(consensus_lock, a_locked_validator_prevotes_its_locked_value_proposed_fresh)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    lock_on_a_in_round_0(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 1, -1, 'A', true),
                     "persist#3{h1 r1 prevote lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 3), "prevote(h1 r1 A)");
    tl_close(&t);
}

Test(consensus_lock, a_polka_seen_after_precommitting_updates_the_valid_value_only)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    lock_on_a_in_round_0(&t);
    tl_proposal(&t, 1, 1, -1, 'B', true);
    cr_assert_str_eq(tl_persisted(&t, 3), "prevote(h1 r1 nil)");
    tl_prevote(&t, 1, 1, 1, 'B');
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 0, 0), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 2, 'B'), "timeout(h1 r1 prevote 900ms)");
    cr_assert_str_eq(tl_timeout(&t, 1, 1, CS_STEP_PREVOTE),
                     "persist#4{h1 r1 precommit lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 4), "precommit(h1 r1 nil)");
    /* Line 36 at step precommit: B is the valid value of round 1, the lock
     * stays on A, and nothing is signed. */
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 3, 'B'), "");
    cr_assert_str_eq(tl_durable(&t), "h1 r1 precommit lock0:A valid1:B");
    tl_close(&t);
}

Test(consensus_lock, a_polka_in_a_later_round_unlocks_through_line_28)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    lock_on_a_in_round_0(&t);
    /* Round 1: B gets a polka the core sees only after precommitting nil. */
    tl_proposal(&t, 1, 1, -1, 'B', true);
    cr_assert_str_eq(tl_persisted(&t, 3), "prevote(h1 r1 nil)");
    tl_prevote(&t, 1, 1, 1, 'B');
    tl_prevote(&t, 1, 1, 0, 0);
    tl_prevote(&t, 1, 1, 2, 'B');
    tl_timeout(&t, 1, 1, CS_STEP_PREVOTE);
    cr_assert_str_eq(tl_persisted(&t, 4), "precommit(h1 r1 nil)");
    tl_prevote(&t, 1, 1, 3, 'B');
    tl_precommit(&t, 1, 1, 1, 0);
    tl_precommit(&t, 1, 1, 2, 0);
    cr_assert_str_eq(tl_precommit(&t, 1, 1, 3, 0), "timeout(h1 r1 precommit 1050ms)");
    cr_assert_str_eq(tl_timeout(&t, 1, 1, CS_STEP_PRECOMMIT), "timeout(h1 r2 propose 2000ms)");
    /* Round 2: validator 3 re-proposes B with its polka round 1 >= the
     * core's lock round 0: prevote B although locked on A. */
    cr_assert_str_eq(tl_proposal(&t, 1, 2, 1, 'B', true),
                     "persist#5{h1 r2 prevote lock0:A valid1:B}");
    cr_assert_str_eq(tl_persisted(&t, 5), "prevote(h1 r2 B)");
    /* Its polka relocks on B (line 36). */
    tl_prevote(&t, 1, 2, 1, 'B');
    tl_prevote(&t, 1, 2, 2, 'B');
    cr_assert_str_eq(tl_prevote(&t, 1, 2, 3, 'B'),
                     "timeout(h1 r2 prevote 1200ms); persist#6{h1 r2 precommit lock2:B valid2:B}");
    cr_assert_str_eq(tl_persisted(&t, 6), "precommit(h1 r2 B)");
    tl_close(&t);
}

Test(consensus_lock, a_polka_older_than_the_lock_does_not_unlock)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    /* Round 0: the core times out and prevotes nil; B's proposal and polka
     * arrive only after it precommitted nil: B is valid in round 0. */
    tl_timeout(&t, 1, 0, CS_STEP_PROPOSE);
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 nil)");
    tl_prevote(&t, 1, 0, 0, 0);
    tl_prevote(&t, 1, 0, 1, 'B');
    tl_prevote(&t, 1, 0, 2, 'B');
    tl_timeout(&t, 1, 0, CS_STEP_PREVOTE);
    cr_assert_str_eq(tl_persisted(&t, 2), "precommit(h1 r0 nil)");
    tl_proposal(&t, 1, 0, -1, 'B', true);
    tl_prevote(&t, 1, 0, 3, 'B');
    cr_assert_str_eq(tl_durable(&t), "h1 r0 precommit lock- valid0:B");
    tl_precommit(&t, 1, 0, 1, 0);
    tl_precommit(&t, 1, 0, 2, 0);
    tl_precommit(&t, 1, 0, 3, 0);
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "timeout(h1 r1 propose 1500ms)");
    /* Round 1: A, fresh, prevoted by all: lock A in round 1. */
    cr_assert_str_eq(tl_proposal(&t, 1, 1, -1, 'A', true),
                     "persist#3{h1 r1 prevote lock- valid0:B}");
    cr_assert_str_eq(tl_persisted(&t, 3), "prevote(h1 r1 A)");
    tl_prevote(&t, 1, 1, 1, 'A');
    tl_prevote(&t, 1, 1, 2, 'A');
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 3, 'A'),
                     "timeout(h1 r1 prevote 900ms); persist#4{h1 r1 precommit lock1:A valid1:A}");
    tl_precommit(&t, 1, 1, 1, 0);
    tl_precommit(&t, 1, 1, 2, 0);
    tl_precommit(&t, 1, 1, 3, 0);
    cr_assert_str_eq(tl_timeout(&t, 1, 1, CS_STEP_PRECOMMIT), "timeout(h1 r2 propose 2000ms)");
    /* Round 2: B with its round-0 polka; the lock (round 1, A) is newer. */
    cr_assert_str_eq(tl_proposal(&t, 1, 2, 0, 'B', true),
                     "persist#5{h1 r2 prevote lock1:A valid1:A}");
    cr_assert_str_eq(tl_persisted(&t, 4), "precommit(h1 r1 A)");
    cr_assert_str_eq(tl_persisted(&t, 5), "prevote(h1 r2 nil)");
    tl_close(&t);
}

Test(consensus_lock, a_proposal_with_a_valid_round_waits_for_that_rounds_polka)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_precommit(&t, 1, 0, 1, 0);
    tl_precommit(&t, 1, 0, 2, 0);
    tl_precommit(&t, 1, 0, 3, 0);
    cr_assert_str_eq(tl_timeout(&t, 1, 0, CS_STEP_PRECOMMIT), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_proposal(&t, 1, 1, 0, 'B', true), "", "no polka for B in round 0 yet");
    /* Line 28 is re-evaluated as round 0's prevotes arrive. */
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 1, 'B'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 2, 'B'), "");
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'B'), "persist#1{h1 r1 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r1 B)");
    tl_close(&t);
}

Test(consensus_lock, a_proposal_with_a_valid_round_not_before_its_round_is_not_prevoted)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    cr_assert_str_eq(tl_proposal(&t, 1, 0, 0, 'B', true), "", "vr must be below the round");
    tl_prevote(&t, 1, 0, 1, 'B');
    tl_prevote(&t, 1, 0, 2, 'B');
    cr_assert_str_eq(tl_prevote(&t, 1, 0, 3, 'B'), "", "not even with a polka");
    tl_close(&t);
}

Test(consensus_lock, an_invalid_block_with_a_polka_at_its_valid_round_gets_nil)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    tl_start(&t);
    tl_prevote(&t, 1, 0, 1, 'B');
    tl_prevote(&t, 1, 0, 2, 'B');
    tl_prevote(&t, 1, 0, 3, 'B');
    tl_prevote(&t, 1, 1, 2, 0);
    cr_assert_str_eq(tl_prevote(&t, 1, 1, 3, 0), "timeout(h1 r1 propose 1500ms)");
    cr_assert_str_eq(tl_proposal(&t, 1, 1, 0, 'B', false), "persist#1{h1 r1 prevote lock- valid-}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r1 nil)");
    tl_close(&t);
}

Test(consensus_lock, the_proposer_re_proposes_its_valid_value_with_its_round)
{
    /* Height 3: proposer(3, 0) = 3, proposer(3, 1) = 0, the core. */
    struct tl t;
    tl_open(&t, 4, 0, 3);
    cr_assert_str_eq(tl_start(&t), "timeout(h3 r0 propose 1000ms)");
    cr_assert_str_eq(tl_proposal(&t, 3, 0, -1, 'A', true), "persist#1{h3 r0 prevote lock- valid-}");
    tl_prevote(&t, 3, 0, 1, 'A');
    tl_prevote(&t, 3, 0, 2, 'A');
    cr_assert_str_eq(tl_prevote(&t, 3, 0, 3, 'A'),
                     "timeout(h3 r0 prevote 600ms); persist#2{h3 r0 precommit lock0:A valid0:A}");
    tl_precommit(&t, 3, 0, 1, 0);
    tl_precommit(&t, 3, 0, 2, 0);
    tl_precommit(&t, 3, 0, 3, 0);
    /* Round 1: no getValue; A again, with valid round 0, and its polka
     * makes the core prevote its own proposal (line 28). */
    cr_assert_str_eq(tl_timeout(&t, 3, 0, CS_STEP_PRECOMMIT),
                     "persist#3{h3 r1 prevote lock0:A valid0:A}");
    cr_assert_str_eq(
        tl_persisted(&t, 3),
        "prevote(h3 r0 A); precommit(h3 r0 A); propose(h3 r1 vr0 A); prevote(h3 r1 A)");
    tl_close(&t);
}

Test(consensus_lock, a_polka_at_the_lock_round_itself_is_enough_to_prevote)
{
    /* Line 28 asks lockedRound <= vr, not <: with more than f faulty
     * validators round 0 can have polkas for A and B; the core locked A and
     * a proposal of B with valid round 0 is prevoted. */
    struct cs_durable d = tl_state(1, 1, CS_STEP_PROPOSE, 0, 'A', 0, 'A');
    struct tl t;
    tl_open_at(&t, 4, 0, &d);
    cr_assert_str_eq(tl_start(&t), "timeout(h1 r1 propose 1500ms)");
    tl_prevote(&t, 1, 0, 1, 'B');
    tl_prevote(&t, 1, 0, 2, 'B');
    tl_prevote(&t, 1, 0, 3, 'B');
    cr_assert_str_eq(tl_proposal(&t, 1, 1, 0, 'B', true),
                     "persist#1{h1 r1 prevote lock0:A valid0:A}");
    cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r1 B)");
    tl_close(&t);
}

Test(consensus_lock, the_pol_is_the_signed_prevotes_for_the_value_at_that_round)
{
    struct tl t;
    tl_open(&t, 4, 0, 1);
    lock_on_a_in_round_0(&t);
    tl_prevote(&t, 1, 1, 1, 'B'); /* another round: not part of round 0's POL */
    uint8_t a[CS_HASH_BYTES], b[CS_HASH_BYTES];
    memset(a, 'A', sizeof a);
    memset(b, 'B', sizeof b);
    const uint8_t *bytes[4];
    size_t lens[4];
    uint32_t n = consensus_pol(t.cs, 0, a, bytes, lens, 4);
    cr_assert_eq(n, 3, "validators 1-3 prevoted A in round 0 (the core's own was not fed)");
    for (uint32_t i = 0; i < n; i++) {
        char want[64];
        tl_vote_bytes(CS_PREVOTE, 1, 0, i + 1, 'A', want, sizeof want);
        cr_assert_eq(lens[i], strlen(want));
        cr_assert(memcmp(bytes[i], want, lens[i]) == 0, "vote %u", i);
    }
    cr_assert_eq(consensus_pol(t.cs, 0, a, bytes, lens, 2), 2, "at most max");
    cr_assert_eq(consensus_pol(t.cs, 0, b, bytes, lens, 4), 0, "no prevote for B in round 0");
    cr_assert_eq(consensus_pol(t.cs, 1, a, bytes, lens, 4), 0, "none for A in round 1");
    cr_assert_eq(consensus_pol(t.cs, 1, b, bytes, lens, 4), 1);
    cr_assert_eq(consensus_pol(t.cs, 7, a, bytes, lens, 4), 0, "a round never seen");
    tl_close(&t);
}
