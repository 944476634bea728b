/*
 * node/risk: the risk-alert engine of RISK.md, as a pure core.
 *
 * risk_process() turns one committed block into alerts. It reads:
 *   - the block itself (transactions, their results, evidence) and the
 *     ledger history entries the block wrote (struct risk_block);
 *   - the ledger's history family, to look up any entity as it was at the
 *     block (the latest entry at or below the block's height: history is
 *     append-only, so this is the same on every node whatever the node's
 *     committed head is);
 *   - its own committed state in the alerts family: rule state, timers,
 *     incidents and the alert log.
 * It returns every write to the alerts family (sorted by key, unique) and
 * the encoded alerts it emitted, in cursor order. The shell commits the
 * writes together with its processed height in one synced batch.
 *
 * Like the ledger it does no IO, reads no clock and draws no randomness:
 * time is block time. Invariants:
 *   1. Same blocks + same ruleset => byte-identical outputs on every node.
 *   2. Rules run in the registry's fixed order; for each rule its due timers
 *      fire first (deadline before the block's time, oldest first), then its
 *      block handler. Alerts are numbered 0..n-1 in emission order.
 *   3. A storage failure is never an outcome: processing stops with the
 *      error and the shell must not commit (it retries the block).
 *
 * Key layout of the alerts family (all keys start with one letter and '/'):
 *   a/<be64 height><be32 ordinal>               -> encoded Alert (the log)
 *   x/p/<party>/<be64 height><be32 ordinal>     -> "" (audience index)
 *   x/r/<rule>/<be64 height><be32 ordinal>      -> "" (rule index)
 *   i/<32-byte incident id>                     -> incident state
 *   s/<rule>/<rule's key>                       -> rule state
 *   t/<rule>/<be64 due ms>/<rule's key>         -> "" (a timer)
 */
#ifndef HANSA_RISK_H
#define HANSA_RISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa.pb-c.h"
#include "hansa/wire.h"
#include "ledger.h"

/* Rules the registry can hold; RISK.md lists 18. */
#define RISK_RULES_MAX 32
/* Parameters per rule: the largest rule needs 8. */
#define RISK_PARAMS_MAX 12
/* Listed jurisdictions: a sanctions list is a few dozen countries. */
#define RISK_JURISDICTIONS_MAX 64
/* Minimum-transit pairs: ordered country pairs a consortium ships on. */
#define RISK_TRANSIT_MAX 512
/* Alert field caps (hansa.proto Alert). */
#define RISK_ALERT_TX_IDS_MAX   64
#define RISK_ALERT_PARTIES_MAX  64
#define RISK_ALERT_SUBJECTS_MAX 16
#define RISK_ALERT_EVIDENCE_MAX 32
#define RISK_ALERT_MESSAGE_MAX  512
#define RISK_EVIDENCE_VALUE_MAX 256
/* Encoded alert bound: the caps above at their longest fields. */
#define RISK_ALERT_BYTES_MAX (64u * 1024u)
/* A ruleset file larger than this is refused. */
#define RISK_RULESET_BYTES_MAX (256u * 1024u)

/* ---- parameters and rules ---- */

enum risk_ptype {
    RISK_P_BOOL,     /* true / false */
    RISK_P_INT,      /* decimal integer within [min, max] (bps, counts, percent) */
    RISK_P_SEVERITY, /* INFO, LOW, MEDIUM, HIGH, CRITICAL */
    RISK_P_DURATION, /* integer with a unit: ms, s, m, h, d (stored in ms) */
};

struct risk_param_spec {
    const char *name; /* INI key, lower_snake_case */
    enum risk_ptype type;
    int64_t def; /* default (ms for durations, Hansa__Severity for severities) */
    int64_t min, max;
    const char *doc; /* one line for `hansad risk check --explain` and the default file */
};

struct risk_ctx;

struct risk_rule {
    const char *id; /* "DUP-PLEDGE": the INI section and the alert's rule_id */
    uint32_t rev;   /* revision of the rule's logic, in every alert */
    const char *summary;
    const struct risk_param_spec *params; /* without "enabled": every rule has it */
    size_t n_params;
    /* Runs once per block (NULL for a rule that only reacts to timers or
     * that the shell evaluates, ENGINE-LAG). */
    hansa_err (*on_block)(struct risk_ctx *ctx);
    /* A timer the rule set fired (its key as given to risk_timer_set). */
    hansa_err (*on_timer)(struct risk_ctx *ctx, const uint8_t *key, size_t key_len,
                          uint64_t due_ms);
};

/* The registry, in the fixed order rules run (rules/registry.c). */
extern const struct risk_rule *const risk_rules[];
extern const size_t risk_rule_count;
/* Index of a rule id in the registry, or -1. */
int risk_rule_index(const char *id);

struct risk_transit {
    char from[3], to[3]; /* ISO 3166 alpha-2, NUL-terminated */
    int64_t min_ms;
};

/* A loaded ruleset. Plain data: copy it freely. */
struct risk_ruleset {
    uint8_t hash[WIRE_HASH_BYTES]; /* SHA-256 of the file's bytes */
    char name[64];
    bool enabled[RISK_RULES_MAX];
    int64_t params[RISK_RULES_MAX][RISK_PARAMS_MAX];
    char jurisdictions[RISK_JURISDICTIONS_MAX][3];
    size_t n_jurisdictions;
    char jurisdictions_rev[33];
    struct risk_transit transit[RISK_TRANSIT_MAX];
    size_t n_transit;
};

/* Every rule enabled with its defaults, the default jurisdiction list and
 * transit table, hashed as the text risk_ruleset_default_text() returns. */
void risk_ruleset_default(struct risk_ruleset *rs);
/* The default ruleset file, documented key by key (what `hansad testnet`
 * installs). Static storage. */
const char *risk_ruleset_default_text(void);
/* Parse a ruleset from text (name is used in errors: "FILE:LINE: ..."). On
 * HANSA_EINVAL why holds the first error with its line. */
HANSA_MUST_USE hansa_err risk_ruleset_parse(const char *name, const char *text, size_t len,
                                            struct risk_ruleset *rs, char *why, size_t why_len);
/* Read and parse a file (HANSA_EIO / HANSA_ENOENT when it cannot be read). */
HANSA_MUST_USE hansa_err risk_ruleset_load(const char *path, struct risk_ruleset *rs, char *why,
                                           size_t why_len);

/* ---- one block in, writes and alerts out ---- */

struct risk_block {
    uint64_t height;
    uint64_t time_ms;
    uint8_t hash[WIRE_HASH_BYTES];
    const struct wire_tx *txs; /* opened, in block order */
    size_t n_txs;
    Hansa__TxResult *const *results;     /* one per tx */
    Hansa__HistoryEntry *const *history; /* what the block changed, in execution order */
    size_t n_history;
    Hansa__Evidence *const *evidence;
    size_t n_evidence;
};

/* What the engine reads besides the block. */
struct risk_env {
    const struct risk_ruleset *rs;
    struct ledger_state alerts;  /* committed alerts family */
    struct ledger_state history; /* the ledger's history family, with scan_back */
    /* The validator set (genesis): EQUIVOCATION names a validator's
     * operator party. May be NULL (the alert then reaches regulators only). */
    const Hansa__ValidatorSet *validators;
    /* Hash and time of a committed block (for alerts whose evidence is in
     * an earlier block). HANSA_ENOENT if unknown. */
    hansa_err (*block_info)(void *ctx, uint64_t height, uint8_t hash[WIRE_HASH_BYTES],
                            uint64_t *time_ms);
    void *block_info_ctx;
};

struct risk_emitted {
    uint8_t *bytes; /* encoded Alert */
    size_t len;
};

struct risk_output {
    struct ledger_write *writes; /* alerts family, sorted by key, unique */
    size_t n_writes;
    struct risk_emitted *alerts; /* in ordinal order */
    size_t n_alerts;
};

/* Process block b. HANSA_OK with *out filled (free with risk_output_free),
 * or a storage / memory error with *out empty. */
HANSA_MUST_USE hansa_err risk_process(const struct risk_env *env, const struct risk_block *b,
                                      struct risk_output *out);
void risk_output_free(struct risk_output *out);

/* Alert-log keys ("a/", be64 height, be32 ordinal: 14 bytes) and their cursor. */
#define RISK_LOG_KEY_BYTES 14u
void risk_log_key(uint8_t key[RISK_LOG_KEY_BYTES], uint64_t height, uint32_t ordinal);
bool risk_log_key_parse(const uint8_t *key, size_t len, uint64_t *height, uint32_t *ordinal);

/* "CRITICAL" for SEVERITY_CRITICAL; "UNSPECIFIED" for anything else. */
const char *risk_severity_name(Hansa__Severity s);
/* 1 on success. */
bool risk_severity_parse(const char *s, Hansa__Severity *out);

#endif
