/*
 * The validator's last signature, kept on disk so that no crash can make it
 * sign two different messages for one height/round/step (DESIGN.md §4,
 * "Never double-sign").
 *
 * Before a proposal or vote is signed, signer_sign compares it with the
 * last signed (height, round, step):
 *   - the same position and the same bytes: the stored signature is
 *     returned, so a restarted node re-sends exactly what it sent before;
 *   - the same position and other bytes, or an earlier position: refused
 *     (HANSA_EPERM), logged;
 *   - a later position: signed, and the new state (bytes and signature) is
 *     written to the store's meta family with a synced write BEFORE the
 *     signature is returned to be sent.
 * Positions order by height, then round, then step (PROPOSE < PREVOTE <
 * PRECOMMIT).
 */
#ifndef HANSA_NODE_SIGNER_H
#define HANSA_NODE_SIGNER_H

#include <stdint.h>

#include "hansa/wire.h"
#include "store.h"

struct signer {
    struct store *store;
    const struct wire_keypair *key;
    const char *chain_id;
    /* The last signature, as on disk. */
    uint64_t height;
    uint32_t round;
    Hansa__ConsensusStep step; /* UNSPECIFIED: never signed */
    uint8_t *bytes;
    size_t len;
    uint8_t sig[WIRE_SIG_BYTES];
};

/* Load the last signature from the store (none yet is fine). */
HANSA_MUST_USE hansa_err signer_open(struct signer *s, struct store *store,
                                     const struct wire_keypair *key, const char *chain_id);
void signer_close(struct signer *s);

/* Sign payload (an encoded Vote or Proposal) at (height, round, step) with
 * tag (WIRE_TAG_VOTE or WIRE_TAG_PROPOSAL). HANSA_EPERM when it would be a
 * second, different signature for a position already signed, or for an
 * earlier one; a storage error if the new state could not be synced (then
 * nothing may be sent). */
HANSA_MUST_USE hansa_err signer_sign(struct signer *s, uint64_t height, uint32_t round,
                                     Hansa__ConsensusStep step, const char *tag,
                                     const uint8_t *payload, size_t len,
                                     uint8_t sig[WIRE_SIG_BYTES]);

#endif
