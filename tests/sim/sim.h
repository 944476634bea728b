/*
 * tests/sim: a deterministic simulator of N Hansa validators.
 *
 * Each validator is the pure consensus core (node/consensus) and the pure
 * ledger (node/ledger) driven by a simulated shell that does what node.c
 * does for real: it signs, broadcasts over a fake network, persists on a
 * fake disk, builds and checks blocks, executes decided blocks, catches up
 * from peers and re-broadcasts what the network lost. Everything that is
 * not deterministic in a real cluster (delivery times, losses, crashes,
 * partitions, a Byzantine validator's choices) is drawn from one 64-bit
 * seed, so a seed replays the same run, event for event.
 *
 * Modules (one file each):
 *   sim_rng     splitmix64 seeding, xoshiro256** streams
 *   sim_queue   the event queue: a binary heap ordered by (time, seq)
 *   sim_msg     the simulated wire: signed votes and proposals, block hashes
 *   sim_pool    the pre-signed transactions every seed draws from
 *   sim_chain   one validator's committed chain and ledger state
 *   sim_node    one validator's shell, the core's side: actions, disk, boot
 *   sim_gossip  one validator's shell, the network's side: receive, gossip,
 *               catch-up
 *   sim_byz     what a Byzantine validator's shell does instead
 *   sim_check   the checkers (agreement, signing, roots, txs, evidence)
 *   sim_trace   the event trace: one line per event, hashed for replay
 *   sim_world   the world: scenario schedule, network, the event loop
 *
 * Invariants the world keeps (asserted or checked):
 *   1. Simulated time only moves forward; events at one time run in the
 *      order they were scheduled (seq).
 *   2. A running validator's core is always at its chain height + 1.
 *   3. Nothing a validator holds only in memory survives a crash; its disk
 *      holds the last persisted cs_durable (with the blocks of its locked
 *      and valid values and the prevotes of its valid round), its signer
 *      record, and its committed chain.
 *
 * What the simulator found the shell must do beyond consensus.h (node.c
 * needs the same): gossip the prevotes of a proposal's valid round with the
 * proposal; persist those prevotes (the POL) with cs_durable and feed them
 * back after a restart; drop a CS_ACT_PROPOSE released after its height was
 * decided (the block is gone).
 *
 * Signatures are a cheap deterministic stand-in: SHA-256 over the
 * validator's 32-byte key and the payload. The simulator's Byzantine shell
 * forges nothing (it signs with its own key only), so this MAC proves what
 * a signature proves here; real Ed25519 is the cluster tier's job.
 */
#ifndef HANSA_SIM_H
#define HANSA_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "consensus.h"
#include "ledger.h"
#include "memstate.h"

#define SIM_VALIDATORS_MAX 16u
/* Transactions per block: small blocks keep 2,000 seeds within minutes. */
#define SIM_BLOCK_TXS_MAX 8u
#define SIM_SIG_BYTES     32u
/* type, height, round, nil, hash, validator, then the signature. */
#define SIM_VOTE_PAYLOAD_BYTES (1u + 8u + 4u + 1u + CS_HASH_BYTES + 4u)
#define SIM_VOTE_BYTES         (SIM_VOTE_PAYLOAD_BYTES + SIM_SIG_BYTES)
/* Trace lines kept for a failure report. */
#define SIM_TRACE_TAIL 40u
#define SIM_TRACE_LINE 200u
/* Own signed messages kept per height for re-broadcast. */
#define SIM_SENT_MAX 12u
/* Blocks a validator keeps for its current height (two per round at most
 * from an equivocating proposer, plus re-proposals of the same block). */
#define SIM_CACHE_MAX 96u
/* Messages for the next height held until the core gets there. */
#define SIM_FUTURE_MAX 48u
/* Period of a validator's re-broadcast (and status) tick. */
#define SIM_TICK_MS 1000u
/* Committed blocks one catch-up answer carries. */
#define SIM_CATCHUP_BLOCKS 4u
/* Rounds of the current height whose votes the shell records for gossip;
 * later rounds are not recorded (only the POL relay reads the record). */
#define SIM_SEEN_ROUNDS_MAX 256u
/* Byzantine votes tracked per validator per height for the evidence check. */
#define SIM_EQUIV_MAX 128u

/* ---- sim_rng ----------------------------------------------------------------- */

struct sim_rng {
    uint64_t s[4];
};

uint64_t sim_splitmix64(uint64_t *state);
/* A stream from seed and a stream number (independent streams per purpose). */
void sim_rng_init(struct sim_rng *r, uint64_t seed, uint64_t stream);
uint64_t sim_rng_next(struct sim_rng *r);
/* Uniform in [0, n); n > 0. */
uint64_t sim_rng_below(struct sim_rng *r, uint64_t n);
/* Uniform in [lo, hi]. */
uint64_t sim_rng_range(struct sim_rng *r, uint64_t lo, uint64_t hi);
/* True with probability per_mille / 1000. */
bool sim_rng_chance(struct sim_rng *r, uint32_t per_mille);

/* ---- sim_msg ----------------------------------------------------------------- */

enum sim_step { SIM_SIGN_PROPOSAL = 1, SIM_SIGN_PREVOTE = 2, SIM_SIGN_PRECOMMIT = 3 };

struct sim_block {
    uint64_t height;
    uint64_t time_ms;
    uint32_t proposer;
    uint8_t prev_hash[CS_HASH_BYTES]; /* zero at height 1 */
    uint8_t tx_root[CS_HASH_BYTES];
    uint8_t state_root[CS_HASH_BYTES]; /* after height - 1 */
    uint16_t n_txs;
    uint16_t txs[SIM_BLOCK_TXS_MAX]; /* indices into the pool */
    uint8_t hash[CS_HASH_BYTES];     /* SHA-256 of the encoded BlockHeader */
};

struct sim_proposal {
    uint64_t height;
    uint32_t round;
    int32_t valid_round;
    uint8_t hash[CS_HASH_BYTES];
    uint32_t proposer;
    uint8_t sig[SIM_SIG_BYTES];
    struct sim_block block;
};

/* A decoded vote (sim_vote_decode). */
struct sim_vote {
    enum cs_vote_type type;
    uint64_t height;
    uint32_t round;
    struct cs_value value;
    uint32_t validator;
};

/* A committed block with the precommits that decided it. */
struct sim_commit {
    uint32_t round;
    uint32_t n_precommits;
    uint8_t precommits[SIM_VALIDATORS_MAX][SIM_VOTE_BYTES];
};

enum sim_msg_kind {
    SIM_MSG_PROPOSAL,
    SIM_MSG_VOTE,
    SIM_MSG_STATUS,      /* "my chain is at height" */
    SIM_MSG_CATCHUP_REQ, /* "send committed blocks from height" */
    SIM_MSG_CATCHUP_RESP /* one committed block with its commit */
};

struct sim_msg {
    enum sim_msg_kind kind;
    uint32_t from;
    union {
        struct sim_proposal proposal;
        uint8_t vote[SIM_VOTE_BYTES];
        uint64_t status_height;
        uint64_t catchup_from;
        struct {
            struct sim_block block;
            struct sim_commit commit;
        } catchup;
    };
};

/* The validator's key (the same for a given index in every seed). */
void sim_key(uint32_t validator, uint8_t key[32]);
void sim_vote_encode(const struct sim_vote *v, uint8_t out[SIM_VOTE_BYTES]);
/* false if malformed or the signature does not match the named validator. */
bool sim_vote_decode(const uint8_t *buf, size_t len, uint32_t n_validators, struct sim_vote *out);
void sim_proposal_sign(struct sim_proposal *p);
bool sim_proposal_verify(const struct sim_proposal *p, uint32_t n_validators);
/* Digest of what a proposal signs (height, round, valid round, hash). */
void sim_proposal_digest(const struct sim_proposal *p, uint8_t out[32]);
/* Header hash over the block's fields, as the BlockHeader protobuf. */
void sim_block_hash(const struct sim_block *b, uint8_t out[CS_HASH_BYTES]);
/* "pv" or "pc", for trace lines. */
const char *sim_vote_type_name(enum cs_vote_type t);
/* First 4 bytes of a hash in hex, for trace lines ("nil" for nil). */
const char *sim_short(const uint8_t *hash, char buf[9]);
const char *sim_value_short(const struct cs_value *v, char buf[9]);
/* Is the encoded vote for this block (not nil)? No signature check. */
bool sim_vote_is_for(const uint8_t vote[SIM_VOTE_BYTES], const uint8_t hash[CS_HASH_BYTES]);
/* 2f+1 distinct, validly signed precommits for (height, round, hash)? */
bool sim_commit_verify(const struct sim_commit *c, uint32_t n_validators, uint64_t height,
                       const uint8_t hash[CS_HASH_BYTES], char *why, size_t why_len);

/* ---- sim_pool ---------------------------------------------------------------- */

struct sim_tx {
    uint8_t *bytes;
    size_t len;
    struct wire_tx tx;          /* opened once; valid only if opened */
    bool opened;                /* wire_tx_open accepted it */
    bool sig_ok;                /* wire_tx_verify accepted it (the verified-id cache) */
    bool admissible;            /* admission as a whole, decided once at setup */
    uint64_t created_offset_ms; /* created_ms - FX_GENESIS_MS */
    const char *kind;           /* "order", "payment", "waybill", "bad-sig", ... */
};

struct sim_pool {
    struct sim_tx *txs;
    size_t n;
    struct memstate *genesis;
    uint8_t genesis_root[CS_HASH_BYTES];
    uint64_t replay_window_ms;
};

/* Built on first use, once per process, and shared read-only by every seed. */
const struct sim_pool *sim_pool_get(void);

/* ---- sim_chain ---------------------------------------------------------------- */

struct sim_committed {
    struct sim_block block;
    struct sim_commit commit;
    uint8_t root_after[CS_HASH_BYTES];
};

struct sim_chain {
    struct memstate *ms;
    struct ledger_state view;
    struct sim_committed *blocks; /* blocks[i] is height i + 1 */
    size_t n, cap;
    uint8_t root[CS_HASH_BYTES]; /* state root after the last block */
    uint8_t *committed_tx;       /* one flag per pool transaction */
};

void sim_chain_init(struct sim_chain *c);
void sim_chain_free(struct sim_chain *c);
uint64_t sim_chain_height(const struct sim_chain *c);
const struct sim_committed *sim_chain_at(const struct sim_chain *c, uint64_t height);
/* Check a block for the next height against this chain: header, every
 * transaction as admission would, execution. On true, *out holds the
 * execution output (caller frees). now_ms bounds the block time. */
bool sim_chain_validate(const struct sim_chain *c, const struct sim_block *b, uint64_t now_ms,
                        struct ledger_output *out, char *why, size_t why_len);
/* Build the next block from the transactions in arrived (pool-indexed
 * arrival times; UINT64_MAX = not arrived). */
void sim_chain_build(const struct sim_chain *c, const uint64_t *arrived, uint64_t now_ms,
                     uint32_t proposer, struct sim_block *out);
/* Append a validated block with its output and commit. */
void sim_chain_commit(struct sim_chain *c, const struct sim_block *b, const struct sim_commit *cm,
                      const struct ledger_output *out);

/* ---- sim_trace ---------------------------------------------------------------- */

struct sim_trace {
    char tail[SIM_TRACE_TAIL][SIM_TRACE_LINE];
    uint64_t lines;
    uint64_t hash; /* FNV-1a 64 over every line */
    bool print;
};

struct sim_world;
void sim_trace_init(struct sim_trace *t, bool print);
__attribute__((format(printf, 3, 4))) void sim_trace(struct sim_world *w, uint32_t node,
                                                     const char *fmt, ...);
/* Copy the last lines (oldest first) into out; returns how many. */
unsigned sim_trace_tail(const struct sim_trace *t, char out[][SIM_TRACE_LINE]);

/* ---- sim_node ---------------------------------------------------------------- */

struct sim_signer {
    bool any;
    uint64_t height;
    uint32_t round;
    enum sim_step step;
    uint8_t digest[32];
    struct sim_msg msg; /* the signed message, re-sent as is */
};

/* One block a validator knows at its current height. */
struct sim_cached {
    struct sim_block block;
    bool valid;
    struct ledger_output out; /* execution output when valid */
};

/* What one CS_ACT_PERSIST writes: the durable state, the blocks of its
 * locked and valid values (a restarted proposer may have to re-propose
 * them), and the prevotes that made the valid value valid (its POL). Without
 * the POL a restarted validator cannot show others why it re-proposes its
 * valid value; if the validators that saw the polka all restart, locked
 * validators wait forever for a polka nobody can prove (seed 579 of 4
 * validators halted so before the POL was persisted). */
struct sim_saved {
    struct cs_durable durable;
    bool has_locked, has_valid;
    struct sim_block locked, valid;
    uint32_t n_pol;
    uint8_t pol[SIM_VALIDATORS_MAX][SIM_VOTE_BYTES];
};

/* The fake disk of one validator: survives crashes. */
struct sim_disk {
    bool has_saved;
    struct sim_saved saved;
    struct sim_signer signer; /* written synchronously before anything is sent */
    struct sim_chain chain;   /* written synchronously at each commit */
    uint64_t busy_until_ms;   /* persists land in the order issued */
};

/* The votes a validator has seen in one round of its current height (the
 * first of each validator and type), kept by the shell for gossip: a
 * proposal with a valid round is relayed with the prevotes of that round
 * (its POL), as CometBFT's gossip does, or a validator that missed them
 * could never accept the re-proposal. */
struct sim_seen_round {
    /* [type - 1][validator]: up to two votes (an equivocator's second one
     * counts in the core too, so a POL may need it). */
    uint8_t n[2][SIM_VALIDATORS_MAX];
    uint8_t bytes[2][SIM_VALIDATORS_MAX][2][SIM_VOTE_BYTES];
};

/* A Byzantine vote fed to this validator's core, for the evidence check. */
struct sim_fed_vote {
    uint64_t height;
    uint32_t round;
    enum cs_vote_type type;
    struct cs_value value;
    bool conflict_seen;
};

struct sim_node {
    uint32_t index;
    bool byzantine;
    bool up;
    uint32_t incarnation; /* bumped by crash */
    uint32_t epoch;       /* bumped whenever the core is (re)opened */
    struct consensus *cs;
    struct sim_disk disk;
    /* volatile */
    struct sim_cached *cache; /* SIM_CACHE_MAX entries */
    size_t n_cache;
    struct sim_msg sent[SIM_SENT_MAX]; /* own signed messages at this height */
    size_t n_sent;
    struct sim_msg *future; /* SIM_FUTURE_MAX held messages for height + 1 */
    size_t n_future;
    struct sim_proposal relay; /* last valid proposal seen at this height */
    bool has_relay;
    struct sim_seen_round *seen; /* seen[r] for r < n_seen, allocated on demand */
    uint32_t n_seen;
    uint64_t catchup_sent_ms;
    bool catchup_pending;
    struct sim_fed_vote fed[SIM_EQUIV_MAX];
    size_t n_fed;
    bool evidence_expected; /* set while feeding the conflicting vote */
    bool evidence_seen;
    /* Events produced while carrying out actions (own votes fed back,
     * built values), run after the current action list. */
    struct sim_local {
        struct cs_event ev;
        uint8_t bytes[SIM_VOTE_BYTES];
    } local[2 * CS_ACTIONS_MAX];
    size_t local_head, local_n;
    bool stepping;
    bool height_changed; /* replay held messages once the step is over */
    /* Last position (height, round, step) seen, for the monotonicity check. */
    uint64_t pos_height;
    uint32_t pos_round;
    enum cs_step pos_step;
    uint64_t *arrival_ms; /* per pool tx */
    /* the Byzantine shell's alternative block for its current proposal */
    bool has_alt;
    struct sim_block alt;
};

void sim_node_init(struct sim_world *w, struct sim_node *n, uint32_t index);
void sim_node_free(struct sim_node *n);
/* Open the core from disk and feed CS_EV_START. */
void sim_node_boot(struct sim_world *w, struct sim_node *n);
void sim_node_crash(struct sim_world *w, struct sim_node *n);
void sim_node_deliver(struct sim_world *w, struct sim_node *n, const struct sim_msg *m);
void sim_node_timeout(struct sim_world *w, struct sim_node *n, uint64_t height, uint32_t round,
                      enum cs_step step);
void sim_node_persisted(struct sim_world *w, struct sim_node *n, uint32_t epoch, uint64_t seq,
                        const struct sim_saved *write);
void sim_node_tick(struct sim_world *w, struct sim_node *n);
/* The block for a CS_ACT_GET_VALUE of (height, round) is ready. */
void sim_node_built(struct sim_world *w, struct sim_node *n, uint64_t height, uint32_t round);
/* The core's current height (chain height + 1) and round. */
uint64_t sim_node_height(const struct sim_node *n);
uint32_t sim_node_round(const struct sim_node *n);
/* Send m to every other validator (m.from must be n). */
void sim_node_broadcast(struct sim_world *w, struct sim_node *n, const struct sim_msg *m);

/* Shared by sim_node.c (the core's side) and sim_gossip.c (the network's). */
void sim_node_feed(struct sim_world *w, struct sim_node *n, const struct cs_event *ev);
/* The cached entry for b, checked on first sight; NULL when the cache is
 * full. */
struct sim_cached *sim_node_cache_validate(struct sim_world *w, struct sim_node *n,
                                           const struct sim_block *b);
/* Append a decided or caught-up block (checked by sim_check first). */
void sim_node_commit(struct sim_world *w, struct sim_node *n, const struct sim_block *b,
                     const struct sim_commit *cm, const struct ledger_output *out, const char *how);
/* Replace the core by a fresh one at the next height (after catch-up). */
void sim_node_reopen(struct sim_world *w, struct sim_node *n);

/* ---- sim_gossip --------------------------------------------------------------- */

/* Record v (with its signed bytes) as seen at this height. */
void sim_gossip_record(struct sim_node *n, const struct sim_vote *v, const uint8_t *bytes);
/* The seen prevotes of round for hash (a POL) into out; returns how many. */
uint32_t sim_gossip_collect_pol(const struct sim_world *w, const struct sim_node *n, uint32_t round,
                                const uint8_t hash[CS_HASH_BYTES],
                                uint8_t out[SIM_VALIDATORS_MAX][SIM_VOTE_BYTES]);
/* Feed a restarted core the POL persisted with its durable state. */
void sim_gossip_replay_pol(struct sim_world *w, struct sim_node *n, const struct sim_saved *s);
/* Deliver the messages held for the height the core has just reached. */
void sim_gossip_deliver_held(struct sim_world *w, struct sim_node *n);

/* ---- sim_byz ------------------------------------------------------------------ */

void sim_byz_propose(struct sim_world *w, struct sim_node *n, const struct sim_msg *m);
void sim_byz_vote(struct sim_world *w, struct sim_node *n, const struct sim_vote *v);

/* ---- sim_check ---------------------------------------------------------------- */

struct sim_sign_rec {
    uint64_t height;
    uint32_t round;
    uint32_t node_step; /* node << 8 | step; 0 = empty slot */
    uint8_t digest[32];
};

struct sim_decided {
    bool set;
    uint8_t hash[CS_HASH_BYTES];
    uint8_t root[CS_HASH_BYTES];
    uint32_t node;
};

struct sim_check {
    struct sim_sign_rec *signs;
    size_t signs_cap, signs_n;
    struct sim_decided *decided;
    size_t decided_cap;
};

void sim_check_init(struct sim_check *c);
void sim_check_free(struct sim_check *c);
/* A correct validator signs (height, round, step) with digest: false (and
 * the world fails) if it signed something else there before. */
bool sim_check_sign(struct sim_world *w, uint32_t node, uint64_t height, uint32_t round,
                    enum sim_step step, const uint8_t digest[32]);
/* Before a validator appends block b (decided or caught up): agreement,
 * state root continuity, every transaction admissible and new. */
void sim_check_commit(struct sim_world *w, uint32_t node, const struct sim_chain *before,
                      const struct sim_block *b, const struct sim_commit *cm,
                      const uint8_t root_after[CS_HASH_BYTES]);
/* An evidence action: both votes valid, conflicting, from the Byzantine
 * validator. */
void sim_check_evidence(struct sim_world *w, uint32_t node, const struct cs_action *a);

/* ---- sim_world ---------------------------------------------------------------- */

enum sim_ev_kind {
    SIM_EV_DELIVER,
    SIM_EV_TIMER,
    SIM_EV_PERSISTED,
    SIM_EV_TICK,
    SIM_EV_BOOT,
    SIM_EV_BUILT, /* a block build asked by CS_ACT_GET_VALUE is done */
    SIM_EV_CRASH,
    SIM_EV_RESTART,
    SIM_EV_PARTITION,
    SIM_EV_HEAL,
    SIM_EV_FAULTS,   /* a fault window starts */
    SIM_EV_CALM,     /* a calm window starts: heal, restart, expect progress */
    SIM_EV_DEADLINE, /* progress deadline of a calm window */
};

struct sim_event {
    uint64_t time_ms;
    uint64_t seq;
    enum sim_ev_kind kind;
    uint32_t node;
    uint32_t incarnation;
    uint32_t epoch;
    union {
        struct sim_msg *msg; /* DELIVER; owned by the event */
        struct {
            uint64_t height;
            uint32_t round;
            enum cs_step step;
        } timer; /* TIMER; BUILT uses height and round */
        struct {
            uint64_t seq;
            struct sim_saved *write; /* owned: what lands on disk */
        } persisted;
        uint32_t mask;         /* PARTITION */
        uint32_t window;       /* DEADLINE, HEAL, RESTART: the window that scheduled it */
        uint32_t extra_faults; /* CRASH: faulty validators allowed beyond f */
    };
};

struct sim_queue {
    struct sim_event *heap;
    size_t n, cap;
};

void sim_queue_init(struct sim_queue *q);
/* Frees owned payloads of events still queued. */
void sim_queue_free(struct sim_queue *q);
void sim_queue_push(struct sim_queue *q, const struct sim_event *ev);
bool sim_queue_pop(struct sim_queue *q, struct sim_event *out);

struct sim_config {
    uint64_t seed;
    uint32_t n_validators;
    uint32_t heights;   /* run until every correct validator has this many */
    bool trace_print;   /* print every trace line to stdout */
    uint32_t byzantine; /* force a Byzantine validator (index), UINT32_MAX = seed decides,
                           SIM_NO_BYZANTINE = none */
    /* Tests of the checkers only: a deliberately broken shell. */
    enum sim_mutation {
        SIM_MUTATE_NONE,
        SIM_MUTATE_LYING_FSYNC,   /* acknowledge persists that never land */
        SIM_MUTATE_ACCEPT_INVALID /* call every proposed block valid */
    } mutation;
};
#define SIM_NO_BYZANTINE (UINT32_MAX - 1u)

struct sim_netcfg {
    uint32_t drop_pm, dup_pm, long_delay_pm;
    uint32_t delay_min_ms, delay_max_ms;
};

/* Counters summed over seeds by sim_run. */
// clang-format off
#define SIM_STATS_COUNTERS(X) \
    X(events) \
    X(sent) \
    X(delivered) \
    X(dropped) \
    X(duplicated) \
    X(long_delays) \
    X(cut_by_partition) \
    X(lost_while_down) \
    X(partitions) \
    X(heals) \
    X(crashes) \
    X(restarts) \
    X(windows) \
    X(timeouts) \
    X(persists) \
    X(proposals) \
    X(votes) \
    X(decides) \
    X(catchups) \
    X(evidence) \
    X(evidence_expected) \
    X(byz_proposals) \
    X(byz_votes) \
    X(resends) \
    X(invalid_proposals) \
    X(stale_proposals) \
    X(duplicates) \
    X(byz_floods)
// clang-format on

struct sim_stats {
#define SIM_STATS_FIELD(name) uint64_t name;
    SIM_STATS_COUNTERS(SIM_STATS_FIELD)
#undef SIM_STATS_FIELD
    uint64_t max_round;       /* highest round any core entered */
    uint64_t heights;         /* lowest correct chain height at the end */
    uint64_t sim_ms;          /* simulated time at the end */
    uint64_t progress_ms_max; /* longest calm-window wait for a new height */
    uint64_t trace_lines, trace_hash;
};

struct sim_world {
    struct sim_config cfg;
    uint32_t n, f, byz; /* byz: index or UINT32_MAX */
    struct sim_rng rng_net, rng_sched, rng_byz, rng_node;
    struct sim_queue q;
    uint64_t now_ms, seq;
    struct sim_node nodes[SIM_VALIDATORS_MAX];
    struct cs_params params;
    struct sim_netcfg net;
    uint32_t partition_mask; /* nodes cut off from the rest; 0 = none */
    bool calm;
    uint32_t window;      /* number of the current window */
    uint64_t calm_height; /* highest correct height when the calm window began */
    uint64_t calm_start_ms;
    bool progress_pending;
    bool done;
    struct sim_check check;
    struct sim_trace trace;
    struct sim_stats stats;
    bool failed;
    char fail_checker[48];
    char fail_detail[512];
};

/* Bound on simulated time from a calm window's start to a new height at
 * every correct validator. */
#define SIM_PROGRESS_BOUND_MS 60000u

struct sim_result {
    bool ok;
    char checker[48];
    char detail[512];
    struct sim_stats stats;
    /* The last trace lines, oldest first (for the failure report). */
    char tail[SIM_TRACE_TAIL][SIM_TRACE_LINE];
    unsigned n_tail;
};

/* Run one seed to the end or to the first violation. */
void sim_run_seed(const struct sim_config *cfg, struct sim_result *res);

/* Used by the modules above. */
__attribute__((format(printf, 3, 4))) void sim_fail(struct sim_world *w, const char *checker,
                                                    const char *fmt, ...);
void sim_send(struct sim_world *w, uint32_t from, uint32_t to, const struct sim_msg *m);
void sim_schedule(struct sim_world *w, uint64_t delay_ms, const struct sim_event *ev);
bool sim_is_correct(const struct sim_world *w, uint32_t node);
/* The world's view after a commit: may end a calm window's wait. */
void sim_world_on_commit(struct sim_world *w);

#endif
