/*
 * A timeline driver for one consensus core: each call feeds one event and
 * returns the actions it produced, rendered as one line, so a test reads
 * as the paper's rules firing in order:
 *
 *   cr_assert_str_eq(tl_proposal(&t, 1, 0, -1, 'A', true),
 *                    "persist#1{h1 r0 prevote lock- valid-}");
 *   cr_assert_str_eq(tl_persisted(&t, 1), "prevote(h1 r0 A)");
 *
 * Values are named by one character: 'A' is the block hash of 32 'A' bytes,
 * 0 is nil. Signed votes are stand-in bytes "PV|h|r|validator|value"
 * ("PC" for precommits, "-" for nil): the core treats them as opaque, and
 * rendering a decision or evidence from them shows exactly which votes the
 * core handed out.
 *
 * Rendering, actions separated by "; ":
 *   persist#SEQ{hH rR STEP lockLR:V validVR:V}   (lock- / valid- when none)
 *   propose(hH rR vrVR V)   prevote(hH rR V)   precommit(hH rR V)
 *   timeout(hH rR STEP MSms)   get_value(hH rR)
 *   decide(hH rR V by I J K)   (the validators of the precommits, in order)
 *   evidence(vI: BYTES_A / BYTES_B)
 */
#ifndef HANSA_TEST_CONSENSUS_TIMELINE_H
#define HANSA_TEST_CONSENSUS_TIMELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "consensus.h"

#define TL_TEXT_BYTES 4096u

/* Timeout parameters of every timeline: distinct per step, so a rendered
 * timeout shows which one and for which round. */
#define TL_PROPOSE_BASE_MS    1000u
#define TL_PROPOSE_DELTA_MS   500u
#define TL_PREVOTE_BASE_MS    600u
#define TL_PREVOTE_DELTA_MS   300u
#define TL_PRECOMMIT_BASE_MS  700u
#define TL_PRECOMMIT_DELTA_MS 350u

struct tl {
    struct cs_params params;
    struct consensus *cs;
    struct cs_actions out; /* the actions of the last event */
    char text[TL_TEXT_BYTES];
};

struct cs_params tl_params(uint32_t n_validators, uint32_t self);
/* A core at (height, round 0, propose, no lock), not yet started. */
void tl_open(struct tl *t, uint32_t n_validators, uint32_t self, uint64_t height);
/* A core restored from a durable state, not yet started. */
void tl_open_at(struct tl *t, uint32_t n_validators, uint32_t self, const struct cs_durable *d);
void tl_close(struct tl *t);

/* Feed one event; the returned text lives in t until the next call. */
const char *tl_start(struct tl *t);
const char *tl_proposal(struct tl *t, uint64_t height, uint32_t round, int32_t valid_round,
                        char value, bool valid);
const char *tl_prevote(struct tl *t, uint64_t height, uint32_t round, uint32_t validator,
                       char value);
const char *tl_precommit(struct tl *t, uint64_t height, uint32_t round, uint32_t validator,
                         char value);
const char *tl_timeout(struct tl *t, uint64_t height, uint32_t round, enum cs_step step);
const char *tl_persisted(struct tl *t, uint64_t seq);
const char *tl_value(struct tl *t, uint64_t height, uint32_t round, char value);

/* The stand-in signed bytes of a vote, NUL-terminated, into buf. */
void tl_vote_bytes(enum cs_vote_type type, uint64_t height, uint32_t round, uint32_t validator,
                   char value, char *buf, size_t len);
/* The core's durable state, rendered like a persist: "h1 r0 prevote lock- valid-". */
const char *tl_durable(struct tl *t);
/* A durable state from its parts; lock/valid 0 = none. */
struct cs_durable tl_state(uint64_t height, uint32_t round, enum cs_step step, int32_t locked_round,
                           char locked, int32_t valid_round, char valid);

#endif
