/*
 * The signer never signs two different messages for one height/round/step,
 * across restarts: the last signature is synced to the store before it is
 * returned, and a restarted signer re-sends identical bytes or refuses.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "signer.h"

#define PREVOTE   HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PREVOTE
#define PRECOMMIT HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PRECOMMIT
#define PROPOSE   HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PROPOSE

static char dir[64];
static struct store *store;
static struct wire_keypair key;
static struct signer sg;

static void open_all(void)
{
    char why[256];
    cr_assert_eq(store_open(dir, &store, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(signer_open(&sg, store, &key, "hansa-unit-1"), HANSA_OK);
}

static void close_all(void)
{
    signer_close(&sg);
    store_close(store);
    store = NULL;
}

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    strcpy(dir, "/tmp/hansa-signer-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    uint8_t seed[32] = {9};
    wire_keypair_from_seed(&key, seed);
    open_all();
}

static void teardown(void)
{
    close_all();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

TestSuite(signer, .init = setup, .fini = teardown, .timeout = 30);

static hansa_err sign(uint64_t h, uint32_t r, Hansa__ConsensusStep step, const char *payload,
                      uint8_t sig[64])
{
    return signer_sign(&sg, h, r, step, WIRE_TAG_VOTE, (const uint8_t *)payload, strlen(payload),
                       sig);
}

Test(signer, same_message_at_the_same_position_gets_the_same_signature)
{
    uint8_t a[64], b[64];
    cr_assert_eq(sign(5, 0, PREVOTE, "vote for X", a), HANSA_OK);
    cr_assert_eq(sign(5, 0, PREVOTE, "vote for X", b), HANSA_OK);
    cr_assert_arr_eq(a, b, 64);
    cr_assert_eq(wire_verify(WIRE_TAG_VOTE, "hansa-unit-1", (const uint8_t *)"vote for X", 10,
                             key.public_key, a),
                 HANSA_OK);
}

Test(signer, refuses_a_different_message_at_the_same_position)
{
    uint8_t sig[64];
    cr_assert_eq(sign(5, 0, PREVOTE, "vote for X", sig), HANSA_OK);
    cr_assert_eq(sign(5, 0, PREVOTE, "vote for Y", sig), HANSA_EPERM);
}

Test(signer, refuses_an_earlier_position_and_signs_later_ones)
{
    uint8_t sig[64];
    cr_assert_eq(sign(5, 1, PREVOTE, "r1 prevote", sig), HANSA_OK);
    cr_assert_eq(sign(5, 0, PRECOMMIT, "r0 precommit", sig), HANSA_EPERM, "earlier round");
    cr_assert_eq(sign(4, 9, PRECOMMIT, "old height", sig), HANSA_EPERM, "earlier height");
    cr_assert_eq(sign(5, 1, PROPOSE, "proposal", sig), HANSA_EPERM, "earlier step");
    cr_assert_eq(sign(5, 1, PRECOMMIT, "r1 precommit", sig), HANSA_OK);
    cr_assert_eq(sign(6, 0, PROPOSE, "next height", sig), HANSA_OK);
}

Test(signer, a_restart_re_sends_the_same_bytes_or_refuses)
{
    uint8_t before[64], after[64];
    cr_assert_eq(sign(7, 2, PRECOMMIT, "precommit X", before), HANSA_OK);
    close_all(); /* a crash after the synced write */
    open_all();
    cr_assert_eq(sign(7, 2, PRECOMMIT, "precommit X", after), HANSA_OK);
    cr_assert_arr_eq(before, after, 64, "a restarted node re-sends what it sent");
    cr_assert_eq(sign(7, 2, PRECOMMIT, "precommit Y", after), HANSA_EPERM,
                 "a restarted node never signs a second message for one position");
    cr_assert_eq(sign(7, 2, PREVOTE, "prevote", after), HANSA_EPERM);
}
