/*
 * genesis.json: the chain's first state — chain id, genesis time, ledger
 * parameters, the parties of the consortium and the validator set.
 *
 *   {
 *     "chain_id": "hansa-local-1",
 *     "genesis_time_ms": 1764134400000,
 *     "parameters": { "max_order_lines": 200, ... },
 *     "parties": [
 *       { "id": "MER-SZ-0001", "display_name": "Shenzhen Bright Electronics",
 *         "country": "CN", "roles": ["MERCHANT"], "keys": ["<64 hex>"] }
 *     ],
 *     "validators": [
 *       { "id": "node0", "key": "<64 hex>", "operator_party": "ADMIN-NODE0" }
 *     ]
 *   }
 *
 * Field names are those of hansa.proto (Parameters, Party, Validator), so
 * the file reads like the records it becomes. "parameters" holds any subset
 * of the Parameters fields, each a JSON integer; missing ones take
 * ledger_params_default(). Roles are Role names without "ROLE_". A
 * validator's network address is not in genesis: it belongs to each node's
 * config.ini, so moving a node never changes the chain.
 *
 * What the loader checks (HANSA_EFORMAT, why naming the party or validator
 * and the field): valid JSON of at most GENESIS_FILE_BYTES_MAX bytes without
 * duplicate keys; no unknown field at any level; required fields present
 * with the right JSON type; a valid chain id; ids of [A-Za-z0-9._-]; a
 * display name of 1-128 bytes; a 2-letter upper-case country; 1-7 distinct
 * known roles; 1-8 keys of 64 hex digits; party ids unique; a key registered
 * to one party only; 1-64 validators with unique ids and keys, whose
 * operator_party (optional) names a party; each parameter in the range of
 * its protobuf type. The range rules of each parameter are the ledger's:
 * ledger_genesis() applies them when the node builds the genesis state.
 *
 * The genesis hash is SHA-256 of the file's bytes exactly as stored: nodes
 * compare it to know they start from the same file (the writer is
 * deterministic, so the same document always gives the same bytes).
 *
 * Lifetime: genesis_load/genesis_parse fill a struct genesis_doc that owns
 * everything it points to; genesis_doc_free releases it (a zeroed or half
 * filled doc is fine). A caller may build a doc by hand for genesis_write:
 * the writer only reads it.
 */
#ifndef HANSA_CONFIG_GENESIS_H
#define HANSA_CONFIG_GENESIS_H

#include <stddef.h>
#include <stdint.h>

#include "hansa/error.h"
#include "hansa/wire.h"
#include "ledger.h"

/* Validators: the ValidatorSet bound of hansa.proto ("1-64 of them"). */
#define GENESIS_VALIDATORS_MAX 64u
/* Parties in genesis. A consortium starts with tens to hundreds of members;
 * more join by governance. 4,096 keeps loading and the duplicate checks
 * quick and the file small. */
#define GENESIS_PARTIES_MAX 4096u
/* Keys of one party and roles of one party (Party in hansa.proto). */
#define GENESIS_PARTY_KEYS_MAX  8u
#define GENESIS_PARTY_ROLES_MAX 7u
/* Display name of a party, bytes of UTF-8 (Party.display_name). */
#define GENESIS_DISPLAY_NAME_BYTES_MAX 128u
/* The file: 4,096 parties of ~1 KiB each fit with room to spare. */
#define GENESIS_FILE_BYTES_MAX (8u * 1024u * 1024u)

struct genesis_doc {
    char chain_id[HANSA_CHAIN_ID_LEN_MAX + 1];
    uint64_t time_ms; /* genesis_time_ms: block time of height 0 */
    Hansa__Parameters params;
    Hansa__Party **parties; /* n_parties, in file order; roles ascending */
    size_t n_parties;
    Hansa__Validator **validators; /* n_validators, in file order */
    size_t n_validators;
    /* SHA-256 of the bytes loaded (genesis_load / genesis_parse). */
    uint8_t file_hash[WIRE_HASH_BYTES];
};

/*
 * Parse a genesis document from text[0..len). name is used in messages
 * (usually the file path). On HANSA_OK *g is filled and owns its memory; on
 * error *g is empty and why says what and where, e.g.
 *   "genesis.json: party MER-SZ-0001: \"roles\"[1]: unknown role \"SELLER\"".
 * HANSA_EFORMAT for a bad document, HANSA_ETOOLARGE past
 * GENESIS_FILE_BYTES_MAX, HANSA_ENOMEM.
 */
HANSA_MUST_USE hansa_err genesis_parse(const char *text, size_t len, const char *name,
                                       struct genesis_doc *g, char *why, size_t why_len);

/* Read and parse the file at path (errors as genesis_parse, plus
 * HANSA_ENOENT and HANSA_EIO). */
HANSA_MUST_USE hansa_err genesis_load(const char *path, struct genesis_doc *g, char *why,
                                      size_t why_len);

/*
 * Encode g as JSON text (2-space indent, fields in the order above,
 * parameters in proto field order, a final newline): *out is a new
 * NUL-terminated heap string owned by the caller (free()). The text parses
 * back to an equal document. HANSA_EINVAL (with why) if g would not load;
 * HANSA_ENOMEM.
 */
HANSA_MUST_USE hansa_err genesis_encode(const struct genesis_doc *g, char **out, size_t *out_len,
                                        char *why, size_t why_len);

/* genesis_encode, then create path with the text (mode 0644, crash-safe,
 * never overwrites: HANSA_EEXIST). */
HANSA_MUST_USE hansa_err genesis_write(const char *path, const struct genesis_doc *g, char *why,
                                       size_t why_len);

/* Releases what genesis_parse/genesis_load allocated and zeroes *g. NULL,
 * zeroed and half-filled docs are fine. Do not call it on a hand-built doc
 * whose memory is not from malloc. */
void genesis_doc_free(struct genesis_doc *g);

/* SHA-256 of the file's bytes (the genesis hash). HANSA_ENOENT, HANSA_EIO,
 * HANSA_ETOOLARGE with why. */
HANSA_MUST_USE hansa_err genesis_hash_file(const char *path, uint8_t hash[WIRE_HASH_BYTES],
                                           char *why, size_t why_len);

/* The ledger's view of g; points into g, valid while g is. */
struct ledger_genesis genesis_ledger(const struct genesis_doc *g);

/* The validator set of g (an unpacked Hansa__ValidatorSet whose validators
 * point into g): encode it for validators_hash. Valid while g is. */
void genesis_validator_set(const struct genesis_doc *g, Hansa__ValidatorSet *set);

/* The validator with this id, or NULL. */
const Hansa__Validator *genesis_validator(const struct genesis_doc *g, const char *id);

/* "MERCHANT" -> HANSA__ROLE__ROLE_MERCHANT; HANSA__ROLE__ROLE_UNSPECIFIED
 * for anything else. And back: NULL for an unknown value. */
Hansa__Role genesis_role_parse(const char *name);
const char *genesis_role_name(Hansa__Role role);

#endif
