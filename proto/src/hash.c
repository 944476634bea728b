/*
 * SHA-256, tx ids, block hashes and the RFC 6962 Merkle tree hash.
 *
 * The Merkle builder relies on one property of RFC 6962 §2.1: the left
 * subtree at every split is perfect (its size is the largest power of two
 * below n). So the tree over n leaves is the fold, right to left, of the
 * perfect subtrees given by the binary digits of n. The builder keeps one
 * pending perfect subtree per set bit of the count, merging like a binary
 * counter carries:
 *
 *   invariant 1: pending[k] is valid iff bit k of count is set, and holds
 *                the root of the perfect subtree of 2^k leaves;
 *   invariant 2: the subtrees are in leaf order from the highest bit down.
 */
#include <string.h>

#include <mbedtls/sha256.h>

#include "hansa/assert.h"
#include "hansa/wire.h"

void wire_sha256_portable(const void *data, size_t len, uint8_t out[WIRE_HASH_BYTES])
{
    /* mbedTLS 2.28: the _ret form; the void form is deprecated. It can only
     * fail on hardware accelerators, which the Debian build does not use. */
    int rv = mbedtls_sha256_ret(data, len, out, 0);
    HANSA_ASSERT(rv == 0);
}

void wire_tx_id(const uint8_t *tx, size_t tx_len, uint8_t id[WIRE_HASH_BYTES])
{
    wire_sha256(tx, tx_len, id);
}

void wire_block_hash(const uint8_t *header, size_t header_len, uint8_t hash[WIRE_HASH_BYTES])
{
    wire_sha256(header, header_len, hash);
}

static void merkle_leaf(const uint8_t leaf[WIRE_HASH_BYTES], uint8_t out[WIRE_HASH_BYTES])
{
    uint8_t buf[1 + WIRE_HASH_BYTES];
    buf[0] = 0x00; /* RFC 6962 leaf prefix */
    memcpy(buf + 1, leaf, WIRE_HASH_BYTES);
    wire_sha256(buf, sizeof buf, out);
}

static void merkle_node(const uint8_t left[WIRE_HASH_BYTES], const uint8_t right[WIRE_HASH_BYTES],
                        uint8_t out[WIRE_HASH_BYTES])
{
    uint8_t buf[1 + 2 * WIRE_HASH_BYTES];
    buf[0] = 0x01; /* RFC 6962 interior-node prefix */
    memcpy(buf + 1, left, WIRE_HASH_BYTES);
    memcpy(buf + 1 + WIRE_HASH_BYTES, right, WIRE_HASH_BYTES);
    wire_sha256(buf, sizeof buf, out);
}

void wire_merkle_init(struct wire_merkle *m)
{
    memset(m, 0, sizeof *m);
}

void wire_merkle_add(struct wire_merkle *m, const uint8_t leaf[WIRE_HASH_BYTES])
{
    HANSA_ASSERT(m->count < UINT64_MAX);
    uint8_t carry[WIRE_HASH_BYTES];
    merkle_leaf(leaf, carry);
    /* Binary increment: every set low bit merges its subtree into the carry. */
    unsigned k = 0;
    while (m->count & (UINT64_C(1) << k)) {
        merkle_node(m->pending[k], carry, carry);
        k++;
    }
    memcpy(m->pending[k], carry, WIRE_HASH_BYTES);
    m->count++;
}

void wire_merkle_final(const struct wire_merkle *m, uint8_t root[WIRE_HASH_BYTES])
{
    if (m->count == 0) {
        wire_sha256("", 0, root); /* RFC 6962: MTH({}) = SHA-256() */
        return;
    }
    /* Fold the pending subtrees from the smallest (rightmost) up. */
    uint8_t acc[WIRE_HASH_BYTES];
    bool have = false;
    for (unsigned k = 0; k < 64; k++) {
        if (!(m->count & (UINT64_C(1) << k)))
            continue;
        if (!have) {
            memcpy(acc, m->pending[k], WIRE_HASH_BYTES);
            have = true;
        } else {
            merkle_node(m->pending[k], acc, acc);
        }
    }
    HANSA_ASSERT(have);
    memcpy(root, acc, WIRE_HASH_BYTES);
}

void wire_merkle_root(const uint8_t *leaves, size_t n, uint8_t root[WIRE_HASH_BYTES])
{
    struct wire_merkle m;
    wire_merkle_init(&m);
    for (size_t i = 0; i < n; i++)
        wire_merkle_add(&m, leaves + i * WIRE_HASH_BYTES);
    wire_merkle_final(&m, root);
}
