/*
 * libhansa_wire: what every node and every client must compute identically.
 *
 * - Decoding with limits. wire_decode() refuses input over its size limit
 *   before allocating, caps the heap protobuf-c may use for one message, and
 *   for messages that are hashed or signed (WIRE_CANONICAL) refuses any
 *   encoding other than the one protobuf-c itself produces, and unknown
 *   fields. Protobuf parsing is lenient (LIBNOTES 3.2): without this, one
 *   signed transaction could be re-encoded by a relay into bytes with another
 *   tx id, and be executed twice.
 *
 * - Signing. Every signature covers
 *       tag || 0x00 || chain_id || 0x00 || payload
 *   where tag is one of the WIRE_TAG_* strings and payload the exact encoded
 *   bytes as received, never re-encoded. The tag keeps a vote from being
 *   replayed as a transaction; the chain id keeps a test-network transaction
 *   off production. Neither may contain a NUL byte, so the split is unique.
 *
 * - Ids and hashes. tx id = SHA-256(encoded Tx envelope); block hash =
 *   SHA-256(encoded BlockHeader); tx_root = the Merkle tree hash of RFC 6962
 *   §2.1 over the tx ids (leaf = SHA-256(0x00 || id), node = SHA-256(0x01 ||
 *   left || right), empty tree = SHA-256("")). RFC 6962 splits at the largest
 *   power of two, so no leaf is ever duplicated (the Bitcoin CVE-2012-2459
 *   ambiguity cannot arise).
 *
 * - Keys. Ed25519 (libsodium). Key files are JSON, mode 0600; a key file that
 *   group or others can read is refused.
 *
 * - Identity commitments (DOMAIN.md, "Personal data"): HMAC-SHA256 under the
 *   consortium identity key over "hansa/identity/v1" 0x00 kind 0x00 value,
 *   value normalized first.
 *
 * Thread safety: every function is safe to call from any thread once
 * wire_global_init() has returned HANSA_OK.
 */
#ifndef HANSA_WIRE_H
#define HANSA_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa.pb-c.h"
#include "hansa/error.h"
#include "hansa/limits.h"

#define WIRE_HASH_BYTES         32u
#define WIRE_PUBKEY_BYTES       32u
#define WIRE_SECKEY_BYTES       64u /* libsodium form: seed || public key */
#define WIRE_SEED_BYTES         32u
#define WIRE_SIG_BYTES          64u
#define WIRE_IDENTITY_KEY_BYTES 32u

#define WIRE_TAG_TX       "hansa/tx/v1"
#define WIRE_TAG_VOTE     "hansa/vote/v1"
#define WIRE_TAG_PROPOSAL "hansa/proposal/v1"
#define WIRE_TAG_QUERY    "hansa/query/v1"
#define WIRE_TAG_IDENTITY "hansa/identity/v1"

/* Initialise libsodium. Call once before anything else; safe to repeat. */
HANSA_MUST_USE hansa_err wire_global_init(void);

/* ---- hashing --------------------------------------------------------------- */

void wire_sha256(const void *data, size_t len, uint8_t out[WIRE_HASH_BYTES]);
/* The same in pieces: init, any number of updates, final (the context is
 * then spent). */
struct wire_sha256_ctx {
    uint32_t state[8];
    uint64_t total_bytes;
    uint8_t buf[64];
    size_t buf_len;
};
void wire_sha256_init(struct wire_sha256_ctx *c);
void wire_sha256_update(struct wire_sha256_ctx *c, const void *data, size_t len);
void wire_sha256_final(struct wire_sha256_ctx *c, uint8_t out[WIRE_HASH_BYTES]);
/* wire_sha256 uses the CPU's SHA extensions where it has them
 * (wire_sha256_accelerated) and portable C code otherwise. Both must give
 * the bytes of an independent implementation, mbedTLS's, on every input:
 * the hash is a consensus value. wire_sha256_portable is that reference. */
void wire_sha256_portable(const void *data, size_t len, uint8_t out[WIRE_HASH_BYTES]);
bool wire_sha256_accelerated(void);

/* tx id: SHA-256 of the encoded Tx envelope, exactly as received. */
void wire_tx_id(const uint8_t *tx, size_t tx_len, uint8_t id[WIRE_HASH_BYTES]);

/* Block hash: SHA-256 of the encoded BlockHeader, exactly as received. */
void wire_block_hash(const uint8_t *header, size_t header_len, uint8_t hash[WIRE_HASH_BYTES]);

/*
 * Incremental RFC 6962 Merkle tree hash. Memory is O(log n) and fixed: the
 * builder keeps one pending subtree per set bit of the leaf count, so no
 * allocation is needed for any block size.
 *
 *     struct wire_merkle m; wire_merkle_init(&m);
 *     for each tx: wire_merkle_add(&m, id);
 *     wire_merkle_final(&m, root);
 */
struct wire_merkle {
    uint8_t pending[64][WIRE_HASH_BYTES];
    uint64_t count;
};
void wire_merkle_init(struct wire_merkle *m);
void wire_merkle_add(struct wire_merkle *m, const uint8_t leaf[WIRE_HASH_BYTES]);
void wire_merkle_final(const struct wire_merkle *m, uint8_t root[WIRE_HASH_BYTES]);
/* Convenience: root over n consecutive 32-byte leaves. */
void wire_merkle_root(const uint8_t *leaves, size_t n, uint8_t root[WIRE_HASH_BYTES]);

/* ---- decoding -------------------------------------------------------------- */

enum wire_decode_flags {
    WIRE_LENIENT = 0,
    /* Refuse non-canonical encodings and unknown fields (at any depth). */
    WIRE_CANONICAL = 1u << 0,
};

/*
 * Decode buf[0..len) as a message of type desc. Returns HANSA_ETOOLARGE when
 * len > max_len (before allocating) or when decoding would use more heap than
 * HANSA_DECODE_EXPANSION_MAX x len; HANSA_EMALFORMED when protobuf-c refuses
 * the bytes; HANSA_ENONCANONICAL under WIRE_CANONICAL. On success *out is a
 * new message owned by the caller: free it with wire_free().
 */
HANSA_MUST_USE hansa_err wire_decode(const ProtobufCMessageDescriptor *desc, const uint8_t *buf,
                                     size_t len, size_t max_len, unsigned flags,
                                     ProtobufCMessage **out);
/* Free a message from wire_decode(); NULL is fine. */
void wire_free(void *msg);

/*
 * The bytes of the nth (from 0) length-delimited occurrence of field number
 * field in the encoded message buf[0..len), without decoding the rest: a
 * view into buf in *out, *out_len. HANSA_ENOENT when there are fewer than
 * n + 1; HANSA_EMALFORMED when the message does not parse as protobuf wire
 * format up to that point, or the field is not length-delimited. For
 * reading one transaction or result out of a stored block of thousands.
 */
HANSA_MUST_USE hansa_err wire_field_bytes(const uint8_t *buf, size_t len, uint32_t field, size_t n,
                                          const uint8_t **out, size_t *out_len);

/*
 * Encode msg into a new heap buffer (*out, *out_len), owned by the caller
 * (free()). Fails with HANSA_ETOOLARGE past max_len.
 */
HANSA_MUST_USE hansa_err wire_encode(const ProtobufCMessage *msg, size_t max_len, uint8_t **out,
                                     size_t *out_len);

/* Typed decoders with the right limit and strictness for each message. */
HANSA_MUST_USE hansa_err wire_tx_decode(const uint8_t *buf, size_t len, Hansa__Tx **out);
HANSA_MUST_USE hansa_err wire_tx_body_decode(const uint8_t *buf, size_t len, Hansa__TxBody **out);
HANSA_MUST_USE hansa_err wire_block_decode(const uint8_t *buf, size_t len, Hansa__Block **out);
HANSA_MUST_USE hansa_err wire_block_header_decode(const uint8_t *buf, size_t len,
                                                  Hansa__BlockHeader **out);
HANSA_MUST_USE hansa_err wire_vote_decode(const uint8_t *buf, size_t len, Hansa__Vote **out);
HANSA_MUST_USE hansa_err wire_proposal_decode(const uint8_t *buf, size_t len,
                                              Hansa__Proposal **out);
HANSA_MUST_USE hansa_err wire_query_decode(const uint8_t *buf, size_t len, Hansa__Query **out);
HANSA_MUST_USE hansa_err wire_request_decode(const uint8_t *buf, size_t len, Hansa__Request **out);
HANSA_MUST_USE hansa_err wire_response_decode(const uint8_t *buf, size_t len,
                                              Hansa__Response **out);
HANSA_MUST_USE hansa_err wire_consensus_decode(const uint8_t *buf, size_t len,
                                               Hansa__ConsensusMessage **out);
HANSA_MUST_USE hansa_err wire_event_decode(const uint8_t *buf, size_t len, Hansa__Event **out);

/* ---- validation of identifiers ---------------------------------------------- */

/* 1..HANSA_CHAIN_ID_LEN_MAX characters of [A-Za-z0-9._-]. */
bool wire_chain_id_valid(const char *chain_id);
/* 1..HANSA_ID_LEN_MAX characters of [A-Za-z0-9._-]; party, order, line ids. */
bool wire_id_valid(const char *id);

/* ---- keys and signatures ------------------------------------------------------ */

struct wire_keypair {
    uint8_t public_key[WIRE_PUBKEY_BYTES];
    uint8_t secret_key[WIRE_SECKEY_BYTES];
};

/* New random key pair (libsodium's system RNG). Shell and client code only. */
void wire_keypair_generate(struct wire_keypair *kp);
/* Deterministic key pair from a 32-byte seed (RFC 8032). */
void wire_keypair_from_seed(struct wire_keypair *kp, const uint8_t seed[WIRE_SEED_BYTES]);
/* Wipe the secret (sodium_memzero). */
void wire_keypair_wipe(struct wire_keypair *kp);

/* Sign tag || 0 || chain_id || 0 || payload. HANSA_EWRONGCHAIN for an invalid
 * chain id, HANSA_ENOMEM if a large message cannot be assembled. */
HANSA_MUST_USE hansa_err wire_sign(const char *tag, const char *chain_id, const uint8_t *payload,
                                   size_t payload_len, const uint8_t secret_key[WIRE_SECKEY_BYTES],
                                   uint8_t sig[WIRE_SIG_BYTES]);
/* HANSA_OK, or HANSA_EBADSIG for any signature that is not valid for exactly
 * this tag, chain id, payload and key. Small-order keys and non-canonical
 * signatures are refused (libsodium 1.0.18 rules, pinned by tests). */
HANSA_MUST_USE hansa_err wire_verify(const char *tag, const char *chain_id, const uint8_t *payload,
                                     size_t payload_len,
                                     const uint8_t public_key[WIRE_PUBKEY_BYTES],
                                     const uint8_t sig[WIRE_SIG_BYTES]);
/* A key a party or validator may register: a canonical encoding of a point
 * on the curve, in the prime-order subgroup and not of small order. wire_verify
 * refuses small-order keys but (libsodium 1.0.18) accepts mixed-order ones,
 * whose verdicts differ between Ed25519 implementations; the ledger and
 * genesis refuse to register them at all. */
bool wire_pubkey_valid(const uint8_t public_key[WIRE_PUBKEY_BYTES]);

/* ---- transactions -------------------------------------------------------------- */

/*
 * Build a signed transaction: encode body, sign it under body->chain_id, wrap
 * it in a Tx envelope. *out (heap, caller frees) holds the envelope bytes; id
 * (optional) receives the tx id.
 */
HANSA_MUST_USE hansa_err wire_tx_build(const Hansa__TxBody *body, const struct wire_keypair *kp,
                                       uint8_t **out, size_t *out_len, uint8_t id[WIRE_HASH_BYTES]);

/*
 * A decoded, not yet verified transaction. Checks done by wire_tx_open, in
 * DOMAIN.md's admission order: size (HANSA_ETOOLARGE), decoding of envelope
 * and body (HANSA_EMALFORMED / HANSA_ENONCANONICAL, key and signature
 * lengths), chain id (HANSA_EWRONGCHAIN). The ledger then checks the signer's
 * key against the registry before wire_tx_verify checks the signature.
 */
struct wire_tx {
    Hansa__Tx *envelope; /* owned */
    Hansa__TxBody *body; /* owned; decoded from envelope->body */
    uint8_t id[WIRE_HASH_BYTES];
};
HANSA_MUST_USE hansa_err wire_tx_open(struct wire_tx *tx, const uint8_t *buf, size_t len,
                                      const char *chain_id);
HANSA_MUST_USE hansa_err wire_tx_verify(const struct wire_tx *tx);
/* Accepts a zeroed or half-opened struct. */
void wire_tx_close(struct wire_tx *tx);

/* ---- key files ------------------------------------------------------------------ */

/*
 * A key file is JSON, written with mode 0600:
 *   {"type": "hansa-ed25519-key", "version": 1, "party": "BANK-A",
 *    "public_key": "<64 hex>", "seed": "<64 hex>"}
 * party may be empty for a validator key. Saving never overwrites an existing
 * file (HANSA_EEXIST) and is crash-safe (temp file, fsync, rename, fsync dir).
 * Loading refuses a file readable by group or others (HANSA_EPERM), and a file
 * whose public key does not match its seed (HANSA_EFORMAT). why (optional,
 * why_len bytes) receives a sentence for the operator.
 */
HANSA_MUST_USE hansa_err wire_keyfile_save(const char *path, const struct wire_keypair *kp,
                                           const char *party, char *why, size_t why_len);
HANSA_MUST_USE hansa_err wire_keyfile_load(const char *path, struct wire_keypair *kp, char *party,
                                           size_t party_len, char *why, size_t why_len);

/* ---- identity commitments --------------------------------------------------------- */

enum wire_identity_kind {
    WIRE_IDENTITY_NAME,    /* a person's or company's name */
    WIRE_IDENTITY_PHONE,   /* E.164: "+86 138-0013-8000" -> "8613800138000" */
    WIRE_IDENTITY_ADDRESS, /* postal address */
    WIRE_IDENTITY_EMAIL,
    WIRE_IDENTITY_DOCUMENT, /* national id or passport number */
};
/* "name", "phone", ...; NULL for an unknown kind. */
const char *wire_identity_kind_name(enum wire_identity_kind kind);

/*
 * Normalize a value (UTF-8) for its kind into out (NUL-terminated): trim,
 * collapse internal whitespace (ASCII and Unicode spaces, U+3000 included) to
 * one ASCII space, drop zero-width and bidi formatting characters (the list is
 * in identity.c), map fullwidth ASCII to ASCII, Unicode simple case folding
 * (CaseFolding.txt C + S, every script; no "ss" for sharp s, no Turkic i).
 * No NFC normalization: send precomposed text. Phones keep only digits and must start
 * with '+' or "00" (international form), 8-15 digits. Documents also drop
 * spaces and hyphens. HANSA_EINVAL for invalid UTF-8, control characters, an
 * empty result, or a phone that is not international; HANSA_ETOOLARGE past
 * HANSA_IDENTITY_VALUE_BYTES_MAX or out_len.
 */
HANSA_MUST_USE hansa_err wire_identity_normalize(enum wire_identity_kind kind, const char *value,
                                                 char *out, size_t out_len);
HANSA_MUST_USE hansa_err wire_identity_commit(const uint8_t key[WIRE_IDENTITY_KEY_BYTES],
                                              enum wire_identity_kind kind, const char *value,
                                              uint8_t commitment[WIRE_HASH_BYTES]);

/* ---- hex ------------------------------------------------------------------------------ */

/* Lower-case hex of len bytes into out (2*len+1 bytes). */
void wire_hex_encode(const uint8_t *bin, size_t len, char *out);
/* Exactly 2*len hex digits into len bytes. HANSA_EINVAL otherwise. */
HANSA_MUST_USE hansa_err wire_hex_decode(const char *hex, uint8_t *out, size_t len);

#endif
