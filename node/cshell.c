/* See cshell.h. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cshell.h"
#include "hansa/assert.h"
#include "log.h"

/* Timers pending at once: one per (round, step) the core scheduled for the
 * current height, plus slack; the oldest are dropped beyond it (the core
 * reschedules on every round). */
#define CSHELL_TIMERS_MAX 64u
/* Blocks known at the current height: per round the first one proposed (a
 * proposer's second block for a round is ignored, like the core ignores its
 * proposal) or built here. When full, the lowest round's block that is
 * neither the locked nor the valid value is forgotten. */
#define CSHELL_BLOCKS_MAX 32u
/* Feedback events (own votes, persisted, values) within one step. */
#define CSHELL_QUEUE_MAX 64u
/* Own signed messages of the current height kept for re-broadcast. */
#define CSHELL_OWN_MAX 64u
/* Votes of others at the current height kept for re-broadcast, so that a
 * validator that missed a polka (and so cannot accept a re-proposal at that
 * valid round, Alg. 1 line 28) hears it again. Kept: the first vote of each
 * (validator, type, round) for rounds the core admits (up to its round +
 * CS_FUTURE_ROUNDS_MAX), so one validator holds at most 2 x 17 entries
 * ahead of the round, however many it signs; a second, different vote for
 * the same slot is equivocation and travels as evidence, not relayed.
 * Re-broadcast: the rounds from the previous one on, and the locked and
 * valid rounds. When full, the lowest round outside those goes first. */
#define CSHELL_SEEN_MAX 512u
/* Equivocation evidence waiting for a block. */
#define CSHELL_EVIDENCE_MAX (2 * CHAIN_EVIDENCE_MAX)
/* Transactions admitted by the API waiting to be gossiped, by count and by
 * bytes. While the loop commits a large block (a second or more under load)
 * the API keeps admitting; a transaction dropped here is never gossiped, so
 * every peer verifies its signature again when it arrives in a proposal
 * (BENCHMARKS.md). Sized for a few seconds of full load. */
#define CSHELL_OUTBOX_MAX       32768u
#define CSHELL_OUTBOX_BYTES_MAX (32u * 1024u * 1024u)
/* One gossip message carries at most this many transactions. */
#define CSHELL_BATCH_TXS_MAX 256u
/* How often the loop wakes at least (receipt waits, gossip, timers). */
#define CSHELL_TICK_MS 20u
/* Re-broadcast own messages and status this often: nng drops under load
 * and a restarted peer missed them. */
#define CSHELL_REBROADCAST_MS 1000u
/* Catch-up: blocks per request, and how long to wait before asking again. */
#define CSHELL_CATCHUP_BLOCKS   16u
#define CSHELL_CATCHUP_RETRY_MS 2000u
/* Serving catch-up: an answer holds at most this many bytes of blocks (at
 * least one block), and a peer gets at most one answer per
 * CSHELL_CATCHUP_SERVE_MS; a request that comes sooner waits, and a newer
 * one from the same peer replaces it. An honest requester has one request
 * out at a time and applies an answer before it asks again, so this costs
 * it little; a peer that floods requests gets 20 answers a second, not one
 * per request, so it can neither fill the loop's time with reading blocks
 * nor make it copy more than 20 MiB a second into its send queue. (That
 * queue is bounded by messages, 256, not bytes: a peer that stops reading
 * can still pin 256 answers, 256 MiB.) */
#define CSHELL_CATCHUP_SERVE_BYTES_MAX (1024u * 1024u)
#define CSHELL_CATCHUP_SERVE_MS        50u

struct timer {
    uint64_t due_ms; /* monotonic; 0 while held by the idle gate */
    uint64_t height;
    uint32_t round;
    enum cs_step step;
    uint32_t delay_ms;
};

struct known_block {
    struct chain_block b;
    bool valid;
    bool proposed;             /* arrived in round's proposal (or was built for it here) */
    uint32_t round;            /* the round it was proposed or built for, or restored at */
    struct mempool_tx **taken; /* own block: the pooled txs it holds */
    size_t n_taken;
};

/* A verified vote of another validator at the current height, encoded as
 * the ConsensusMessage that relays it. */
struct seen_vote {
    uint8_t *bytes;
    size_t len;
    uint32_t validator;
    uint32_t round;
    enum cs_vote_type type;
};

struct outbox_tx {
    uint8_t *bytes;
    size_t len;
};

/* A peer's catch-up request waiting to be answered, by peer (config order). */
struct catchup_wait {
    bool pending;
    uint64_t from_height;
    uint32_t max_blocks;
    uint64_t served_mono; /* when its last answer went out */
};

struct cshell {
    struct cshell_deps d;
    struct consensus *cs;
    uint32_t self;
    uint64_t persist_done;

    struct timer timers[CSHELL_TIMERS_MAX];
    size_t n_timers;
    struct known_block blocks[CSHELL_BLOCKS_MAX];
    size_t n_blocks;
    struct cs_event queue[CSHELL_QUEUE_MAX];
    uint8_t *queue_owned[CSHELL_QUEUE_MAX]; /* bytes the event points to, freed after it */
    size_t q_head, q_len;
    /* Signed vote bytes fed back must outlive the step: kept here. */
    uint8_t *own_msgs[CSHELL_OWN_MAX];
    size_t own_lens[CSHELL_OWN_MAX];
    size_t n_own;
    struct seen_vote seen[CSHELL_SEEN_MAX]; /* votes of others, for re-broadcast */
    size_t n_seen;

    Hansa__Evidence *evidence[CSHELL_EVIDENCE_MAX]; /* owned, checked */
    size_t n_evidence;

    bool value_wanted; /* a GET_VALUE waits for the idle gate */
    uint64_t value_height;
    uint32_t value_round;
    uint64_t last_commit_mono;
    uint64_t last_rebroadcast_mono;
    uint64_t catchup_asked_mono;
    struct catchup_wait catchup_waits[HANSA_PEERS_MAX];

    pthread_mutex_t out_mu;
    struct outbox_tx outbox[CSHELL_OUTBOX_MAX];
    size_t n_outbox;
    size_t outbox_bytes;
    uint64_t outbox_dropped;

    /* The last height a proposer equivocation was logged at, and per
     * validator the last height (+1) a vote equivocation was: a Byzantine
     * validator can sign conflicting votes for every round, and each pair
     * is evidence, but the log says so once a height. */
    uint64_t equivocation_height;
    uint64_t vote_equivocation_logged[CS_VALIDATORS_MAX];

    hansa_err fatal; /* a storage failure: the loop stops */

    /* For status. */
    _Atomic uint64_t pos_height;
    _Atomic uint32_t pos_round;
    _Atomic int pos_step;
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- the durable core state (meta "consensus") ---- */

static const uint8_t durable_key[] = "consensus";
#define DURABLE_BYTES (8 + 4 + 1 + 4 + 32 + 4 + 32)

static void put_be(uint8_t *p, uint64_t v, int n)
{
    for (int i = n - 1; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

static uint64_t get_be(const uint8_t *p, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v = v << 8 | p[i];
    return v;
}

static const uint8_t valid_block_key[] = "consensus_valid_block";
static const uint8_t locked_block_key[] = "consensus_locked_block";
/* The valid value's POL: be32 count, then per signed prevote be32 length
 * and the encoded SignedVote. */
static const uint8_t pol_key[] = "consensus_pol";
#define POL_BYTES_MAX (4 + CS_VALIDATORS_MAX * (4 + CS_SIGNED_VOTE_BYTES_MAX))

/* The bytes of the block with this hash, if this node holds it. */
static const struct chain_block *held_block(struct cshell *s, const uint8_t hash[32]);

/* The valid value's POL from the core, framed for the meta family into
 * buf; returns its length. */
static size_t pol_frame(const struct cshell *s, const struct cs_durable *d, uint8_t *buf)
{
    const uint8_t *votes[CS_VALIDATORS_MAX];
    size_t lens[CS_VALIDATORS_MAX];
    uint32_t n = d->valid_round >= 0 && s->cs != NULL
                     ? consensus_pol(s->cs, (uint32_t)d->valid_round, d->valid_hash, votes, lens,
                                     CS_VALIDATORS_MAX)
                     : 0;
    size_t at = 4, kept = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (lens[i] > CS_SIGNED_VOTE_BYTES_MAX)
            continue; /* cannot be: the shell feeds no larger vote */
        put_be(buf + at, lens[i], 4);
        memcpy(buf + at + 4, votes[i], lens[i]);
        at += 4 + lens[i];
        kept++;
    }
    put_be(buf, kept, 4);
    return at;
}

/*
 * The durable state and, in the same synced batch, the blocks its locked
 * and valid values name and the valid value's POL: after a crash the core
 * may have to propose its valid value again (Alg. 1, line 16) or prevote for
 * its lock, and a block only kept in memory would be gone; others accept
 * that re-proposal only with the POL (line 28), and if every validator
 * restarted, the saved copies are the only ones left.
 */
static hansa_err durable_write(struct cshell *s, const struct cs_durable *d)
{
    uint8_t b[DURABLE_BYTES];
    put_be(b, d->height, 8);
    put_be(b + 8, d->round, 4);
    b[12] = (uint8_t)d->step;
    put_be(b + 13, (uint32_t)d->locked_round, 4);
    memcpy(b + 17, d->locked_hash, 32);
    put_be(b + 49, (uint32_t)d->valid_round, 4);
    memcpy(b + 53, d->valid_hash, 32);
    uint8_t *pol = malloc(POL_BYTES_MAX);
    if (pol == NULL)
        return HANSA_ENOMEM;
    struct store_put puts[4] = {
        {STORE_META, durable_key, sizeof durable_key - 1, b, sizeof b},
        {STORE_META, pol_key, sizeof pol_key - 1, pol, pol_frame(s, d, pol)}};
    size_t n = 2;
    const struct chain_block *vb = d->valid_round >= 0 ? held_block(s, d->valid_hash) : NULL;
    const struct chain_block *lb = d->locked_round >= 0 ? held_block(s, d->locked_hash) : NULL;
    if (vb != NULL)
        puts[n++] = (struct store_put){STORE_META, valid_block_key, sizeof valid_block_key - 1,
                                       vb->bytes, vb->len};
    if (lb != NULL)
        puts[n++] = (struct store_put){STORE_META, locked_block_key, sizeof locked_block_key - 1,
                                       lb->bytes, lb->len};
    hansa_err rv = store_write_sync(s->d.store, puts, n);
    free(pol);
    return rv;
}

/* The stored state if it is for height (a restart within a height). */
static bool durable_read(struct cshell *s, uint64_t height, struct cs_durable *d)
{
    uint8_t *b = NULL;
    size_t len = 0;
    if (store_get(s->d.store, STORE_META, durable_key, sizeof durable_key - 1, &b, &len) !=
        HANSA_OK)
        return false;
    bool ok = len == DURABLE_BYTES && get_be(b, 8) == height;
    if (ok) {
        d->height = height;
        d->round = (uint32_t)get_be(b + 8, 4);
        d->step = (enum cs_step)b[12];
        d->locked_round = (int32_t)(uint32_t)get_be(b + 13, 4);
        memcpy(d->locked_hash, b + 17, 32);
        d->valid_round = (int32_t)(uint32_t)get_be(b + 49, 4);
        memcpy(d->valid_hash, b + 53, 32);
    }
    free(b);
    return ok;
}

static void fresh_durable(uint64_t height, struct cs_durable *d)
{
    memset(d, 0, sizeof *d);
    d->height = height;
    d->step = CS_STEP_PROPOSE;
    d->locked_round = -1;
    d->valid_round = -1;
}

/* ---- small stores of the current height ---- */

/* Queue ev; owned (may be NULL) is what ev points to, freed once the core
 * has taken ev (the core copies what it keeps). */
static bool push_event_owned(struct cshell *s, const struct cs_event *ev, uint8_t *owned)
{
    if (s->q_len == CSHELL_QUEUE_MAX) {
        log_error("CONSENSUS-QUEUE-FULL", "dropping a feedback event (kind %d)", (int)ev->kind);
        free(owned);
        return false;
    }
    size_t at = (s->q_head + s->q_len) % CSHELL_QUEUE_MAX;
    s->queue[at] = *ev;
    s->queue_owned[at] = owned;
    s->q_len++;
    return true;
}

static void push_event(struct cshell *s, const struct cs_event *ev)
{
    push_event_owned(s, ev, NULL);
}

static void keep_own(struct cshell *s, uint8_t *msg, size_t len)
{
    if (s->n_own == CSHELL_OWN_MAX) {
        free(s->own_msgs[0]);
        memmove(s->own_msgs, s->own_msgs + 1, (CSHELL_OWN_MAX - 1) * sizeof s->own_msgs[0]);
        memmove(s->own_lens, s->own_lens + 1, (CSHELL_OWN_MAX - 1) * sizeof s->own_lens[0]);
        s->n_own--;
    }
    s->own_msgs[s->n_own] = msg;
    s->own_lens[s->n_own] = len;
    s->n_own++;
}

static struct known_block *find_block(struct cshell *s, const uint8_t hash[WIRE_HASH_BYTES])
{
    for (size_t i = 0; i < s->n_blocks; i++)
        if (memcmp(s->blocks[i].b.hash, hash, WIRE_HASH_BYTES) == 0)
            return &s->blocks[i];
    return NULL;
}

static const struct chain_block *held_block(struct cshell *s, const uint8_t hash[32])
{
    const struct known_block *k = find_block(s, hash);
    return k != NULL ? &k->b : NULL;
}

/* Give back the pooled transactions of an own block that was not decided. */
static void untake(struct cshell *s, struct known_block *k)
{
    if (k->n_taken == 0) {
        free(k->taken);
        k->taken = NULL;
        return;
    }
    mempool_forget(s->d.mempool, k->taken, k->n_taken);
    for (size_t i = 0; i < k->n_taken; i++)
        if (mempool_add(s->d.mempool, k->taken[i]) != HANSA_OK)
            mempool_tx_free(k->taken[i]);
    free(k->taken);
    k->taken = NULL;
    k->n_taken = 0;
}

static void drop_block(struct cshell *s, size_t i)
{
    untake(s, &s->blocks[i]);
    chain_block_free(&s->blocks[i].b);
    s->blocks[i] = s->blocks[--s->n_blocks];
}

/* Whether the core still needs block k: it is its locked or valid value. */
static bool core_holds(const struct cshell *s, const struct known_block *k)
{
    if (s->cs == NULL)
        return true; /* restoring: only the locked and valid blocks come back */
    struct cs_durable d;
    consensus_durable(s->cs, &d);
    return (d.locked_round >= 0 && memcmp(d.locked_hash, k->b.hash, WIRE_HASH_BYTES) == 0) ||
           (d.valid_round >= 0 && memcmp(d.valid_hash, k->b.hash, WIRE_HASH_BYTES) == 0);
}

/* Room for a block of round: when every slot is taken, the block of the
 * lowest round that is neither the locked nor the valid value is
 * forgotten (a later round's proposal, or the lock, is what can still be
 * decided; a peer that decides an old round's block is caught up from). */
static struct known_block *add_block(struct cshell *s, uint32_t round)
{
    if (s->n_blocks == CSHELL_BLOCKS_MAX) {
        size_t victim = 0;
        bool found = false;
        for (size_t i = 0; i < s->n_blocks; i++) {
            if (core_holds(s, &s->blocks[i]))
                continue;
            if (!found || s->blocks[i].round < s->blocks[victim].round)
                victim = i;
            found = true;
        }
        drop_block(s, victim);
    }
    struct known_block *k = &s->blocks[s->n_blocks++];
    memset(k, 0, sizeof *k);
    k->round = round;
    return k;
}

/* The block that came in round's proposal, if one did. */
static const struct known_block *proposed_in(const struct cshell *s, uint32_t round)
{
    for (size_t i = 0; i < s->n_blocks; i++)
        if (s->blocks[i].proposed && s->blocks[i].round == round)
            return &s->blocks[i];
    return NULL;
}

/* Whether a vote of round is worth re-broadcasting now: the previous
 * round on (peers may be a round behind or ahead), and the rounds of the
 * lock and valid value (the polka a re-proposal refers to). */
static bool seen_current(const struct cs_durable *d, uint32_t round)
{
    return (uint64_t)round + 1u >= d->round || (int64_t)round == d->locked_round ||
           (int64_t)round == d->valid_round;
}

/* Make room for one seen vote: forget the lowest-round entry that is no
 * longer worth re-broadcasting. False if every entry still is. */
static bool seen_make_room(struct cshell *s, const struct cs_durable *d)
{
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < s->n_seen; i++)
        if (!seen_current(d, s->seen[i].round) &&
            (victim == SIZE_MAX || s->seen[i].round < s->seen[victim].round))
            victim = i;
    if (victim == SIZE_MAX)
        return false;
    free(s->seen[victim].bytes);
    s->seen[victim] = s->seen[--s->n_seen];
    return true;
}

/* Keep a verified vote of validator who for re-broadcast: the first one of
 * its (type, round), for a round the core admits (CSHELL_SEEN_MAX). */
static void keep_seen(struct cshell *s, const Hansa__SignedVote *sv, uint32_t who,
                      enum cs_vote_type type, uint32_t round)
{
    struct cs_durable d;
    consensus_durable(s->cs, &d);
    if ((uint64_t)round > (uint64_t)d.round + CS_FUTURE_ROUNDS_MAX)
        return;
    for (size_t i = 0; i < s->n_seen; i++)
        if (s->seen[i].validator == who && s->seen[i].type == type && s->seen[i].round == round)
            return;
    if (s->n_seen == CSHELL_SEEN_MAX && !seen_make_room(s, &d))
        return;
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.chain_id = (char *)s->d.cfg->chain_id;
    m.sender = (char *)s->d.cfg->node_id;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_VOTE;
    m.vote = (Hansa__SignedVote *)sv;
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (wire_encode(&m.base, HANSA_PEER_MESSAGE_BYTES_MAX, &bytes, &len) != HANSA_OK)
        return;
    s->seen[s->n_seen++] = (struct seen_vote){
        .bytes = bytes, .len = len, .validator = who, .round = round, .type = type};
}

/* A new height: forget the last one's blocks, timers and own messages. */
static void new_height(struct cshell *s)
{
    for (size_t i = 0; i < s->n_seen; i++)
        free(s->seen[i].bytes);
    s->n_seen = 0;
    while (s->n_blocks > 0)
        drop_block(s, s->n_blocks - 1);
    s->n_timers = 0;
    for (size_t i = 0; i < s->n_own; i++)
        free(s->own_msgs[i]);
    s->n_own = 0;
    s->value_wanted = false;
}

/* ---- evidence waiting for a block ---- */

static bool bytes_less(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    int r = memcmp(a->data, b->data, a->len < b->len ? a->len : b->len);
    return r != 0 ? r < 0 : a->len < b->len;
}

/* Keep e (takes ownership) if it is new and worth committing. */
static void evidence_add(struct cshell *s, Hansa__Evidence *e)
{
    char why[256];
    uint8_t id[WIRE_HASH_BYTES], other[WIRE_HASH_BYTES];
    if (!chain_check_evidence(s->d.chain, e, why, sizeof why) ||
        chain_evidence_id(e, id) != HANSA_OK) {
        wire_free(e);
        return;
    }
    for (size_t i = 0; i < s->n_evidence; i++)
        if (chain_evidence_id(s->evidence[i], other) == HANSA_OK &&
            memcmp(id, other, WIRE_HASH_BYTES) == 0) {
            wire_free(e);
            return;
        }
    if (s->n_evidence == CSHELL_EVIDENCE_MAX) {
        wire_free(s->evidence[0]);
        memmove(s->evidence, s->evidence + 1, (CSHELL_EVIDENCE_MAX - 1) * sizeof s->evidence[0]);
        s->n_evidence--;
    }
    s->evidence[s->n_evidence++] = e;
}

/* After a commit: drop what is now committed (or no longer checks). */
static void evidence_prune(struct cshell *s)
{
    char why[256];
    size_t w = 0;
    for (size_t i = 0; i < s->n_evidence; i++) {
        if (chain_check_evidence(s->d.chain, s->evidence[i], why, sizeof why))
            s->evidence[w++] = s->evidence[i];
        else
            wire_free(s->evidence[i]);
    }
    s->n_evidence = w;
}

/* A copy of e that this shell owns. */
static Hansa__Evidence *evidence_copy(const Hansa__Evidence *e)
{
    uint8_t *bytes = NULL;
    size_t len = 0;
    Hansa__Evidence *copy = NULL;
    if (wire_encode(&e->base, HANSA_PEER_MESSAGE_BYTES_MAX, &bytes, &len) == HANSA_OK &&
        wire_decode(&hansa__evidence__descriptor, bytes, len, HANSA_PEER_MESSAGE_BYTES_MAX,
                    WIRE_LENIENT, (ProtobufCMessage **)&copy) != HANSA_OK)
        copy = NULL;
    free(bytes);
    return copy;
}

/* ---- actions ---- */

static void step(struct cshell *s, const struct cs_event *ev);
static void step_owned(struct cshell *s, const struct cs_event *ev, uint8_t *owned);

static hansa_err act_persist(struct cshell *s, const struct cs_action *a)
{
    hansa_err rv = durable_write(s, &a->persist.state);
    if (rv != HANSA_OK)
        return rv;
    struct cs_event ev = {.kind = CS_EV_PERSISTED, .persisted_seq = a->persist.seq};
    push_event(s, &ev);
    return HANSA_OK;
}

static void broadcast(struct cshell *s, Hansa__ConsensusMessage *m, bool keep)
{
    m->chain_id = (char *)s->d.cfg->chain_id;
    m->sender = (char *)s->d.cfg->node_id;
    if (s->d.peers != NULL)
        peers_broadcast(s->d.peers, m);
    if (keep) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (wire_encode(&m->base, HANSA_PEER_MESSAGE_BYTES_MAX, &bytes, &len) == HANSA_OK)
            keep_own(s, bytes, len);
    }
}

/* A re-proposal at a valid round goes out with that round's prevotes for
 * it (its POL): a validator that missed them could not accept it (line 28). */
static void send_pol(struct cshell *s, uint32_t round, const uint8_t hash[WIRE_HASH_BYTES])
{
    const uint8_t *votes[CS_VALIDATORS_MAX];
    size_t lens[CS_VALIDATORS_MAX];
    uint32_t n = consensus_pol(s->cs, round, hash, votes, lens, CS_VALIDATORS_MAX);
    for (uint32_t i = 0; i < n; i++) {
        Hansa__SignedVote *sv = NULL;
        if (wire_decode(&hansa__signed_vote__descriptor, votes[i], lens[i],
                        CS_SIGNED_VOTE_BYTES_MAX * 4, WIRE_LENIENT,
                        (ProtobufCMessage **)&sv) != HANSA_OK)
            continue;
        Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_VOTE;
        m.vote = sv;
        broadcast(s, &m, false);
        wire_free(sv);
    }
}

static hansa_err act_propose(struct cshell *s, const struct cs_action *a)
{
    struct known_block *k = find_block(s, a->propose.hash);
    if (k == NULL) {
        /* Normal when the sign queue released a proposal after its height
         * was decided (the block went with the height); otherwise a bug. */
        if (a->propose.height == s->d.chain->height + 1)
            log_error("CONSENSUS-NO-BLOCK", "asked to propose a block this node does not hold");
        return HANSA_OK;
    }
    Hansa__Proposal p = HANSA__PROPOSAL__INIT;
    p.height = a->propose.height;
    p.round = a->propose.round;
    p.pol_round = a->propose.valid_round;
    p.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, k->b.hash};
    p.proposer = (char *)s->d.cfg->node_id;
    p.chain_id = (char *)s->d.cfg->chain_id;
    uint8_t *bytes = NULL, sig[WIRE_SIG_BYTES];
    size_t len = 0;
    hansa_err rv = wire_encode(&p.base, HANSA_VOTE_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        rv = signer_sign(s->d.signer, p.height, p.round,
                         HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PROPOSE, WIRE_TAG_PROPOSAL, bytes,
                         len, sig);
    if (rv == HANSA_OK) {
        Hansa__SignedProposal sp = HANSA__SIGNED_PROPOSAL__INIT;
        sp.proposal = (ProtobufCBinaryData){len, bytes};
        sp.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
        Hansa__BlockProposal bp = HANSA__BLOCK_PROPOSAL__INIT;
        bp.proposal = &sp;
        bp.block = k->b.block;
        Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_PROPOSAL;
        m.proposal = &bp;
        broadcast(s, &m, true);
        if (a->propose.valid_round >= 0)
            send_pol(s, (uint32_t)a->propose.valid_round, k->b.hash);
    }
    free(bytes);
    return rv == HANSA_EPERM ? HANSA_OK : rv; /* a refusal is logged by the signer */
}

static hansa_err act_vote(struct cshell *s, const struct cs_action *a)
{
    Hansa__Vote v = HANSA__VOTE__INIT;
    v.type = a->vote.type == CS_PREVOTE ? HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE
                                        : HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT;
    v.height = a->vote.height;
    v.round = a->vote.round;
    if (!a->vote.value.nil)
        v.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)a->vote.value.hash};
    v.validator = (char *)s->d.cfg->node_id;
    v.chain_id = (char *)s->d.cfg->chain_id;
    uint8_t *bytes = NULL, sig[WIRE_SIG_BYTES];
    size_t len = 0;
    Hansa__ConsensusStep st = a->vote.type == CS_PREVOTE
                                  ? HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PREVOTE
                                  : HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PRECOMMIT;
    hansa_err rv = wire_encode(&v.base, HANSA_VOTE_BYTES_MAX, &bytes, &len);
    if (rv == HANSA_OK)
        rv = signer_sign(s->d.signer, v.height, v.round, st, WIRE_TAG_VOTE, bytes, len, sig);
    if (rv == HANSA_OK) {
        Hansa__SignedVote sv = HANSA__SIGNED_VOTE__INIT;
        sv.vote = (ProtobufCBinaryData){len, bytes};
        sv.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
        Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_VOTE;
        m.vote = &sv;
        broadcast(s, &m, true);
        /* The core counts its own vote like any other (consensus.h). */
        uint8_t *signed_bytes = NULL;
        size_t signed_len = 0;
        rv = wire_encode(&sv.base, HANSA_VOTE_BYTES_MAX + 128, &signed_bytes, &signed_len);
        if (rv == HANSA_OK) {
            struct cs_event ev = {.kind = CS_EV_VOTE};
            ev.vote = (struct cs_vote){.type = a->vote.type,
                                       .height = a->vote.height,
                                       .round = a->vote.round,
                                       .value = a->vote.value,
                                       .validator = s->self,
                                       .signed_bytes = signed_bytes,
                                       .signed_len = signed_len};
            push_event_owned(s, &ev, signed_bytes);
        }
    }
    free(bytes);
    return rv == HANSA_EPERM ? HANSA_OK : rv;
}

/* The idle gate: at round 0, blocks wait for transactions or the heartbeat. */
static bool gate_open(struct cshell *s, uint32_t round)
{
    if (round > 0)
        return true;
    uint64_t since_ms = mono_ms() - s->last_commit_mono;
    if (mempool_count(s->d.mempool) > 0 && since_ms >= s->d.cfg->block_interval_ms)
        return true; /* interval_ms lets a busy chain gather larger blocks */
    uint32_t hb = s->d.cfg->block_heartbeat_ms;
    return hb > 0 && since_ms >= hb;
}

static void act_timeout(struct cshell *s, const struct cs_action *a)
{
    if (s->n_timers == CSHELL_TIMERS_MAX) {
        memmove(s->timers, s->timers + 1, (CSHELL_TIMERS_MAX - 1) * sizeof s->timers[0]);
        s->n_timers--;
    }
    struct timer *t = &s->timers[s->n_timers++];
    t->height = a->timeout.height;
    t->round = a->timeout.round;
    t->step = a->timeout.step;
    t->delay_ms = a->timeout.delay_ms;
    bool held = a->timeout.step == CS_STEP_PROPOSE && !gate_open(s, a->timeout.round);
    t->due_ms = held ? 0 : mono_ms() + a->timeout.delay_ms;
}

/* Build the block a GET_VALUE asked for, once the gate opens. */
static hansa_err build_value(struct cshell *s)
{
    struct chain *c = s->d.chain;
    size_t max = s->d.cfg->block_txs_max;
    struct mempool_tx **txs = calloc(max ? max : 1, sizeof *txs);
    if (txs == NULL)
        return HANSA_ENOMEM;
    uint64_t time_ms = wall_ms();
    if (time_ms <= c->tip_time_ms)
        time_ms = c->tip_time_ms + 1;
    size_t k = mempool_take(s->d.mempool, txs, max, HANSA_BLOCK_BYTES_MAX / 2);
    k = chain_filter_txs(c, s->d.mempool, txs, k, time_ms);
    struct known_block *kb = add_block(s, s->value_round);
    kb->proposed = true;
    size_t n_ev = s->n_evidence < CHAIN_EVIDENCE_MAX ? s->n_evidence : CHAIN_EVIDENCE_MAX;
    hansa_err rv = chain_build(c, s->d.cfg->node_id, txs, k, s->evidence, n_ev, time_ms, &kb->b);
    if (rv != HANSA_OK) {
        s->n_blocks--;
        mempool_forget(s->d.mempool, txs, k);
        for (size_t i = 0; i < k; i++)
            mempool_tx_free(txs[i]);
        free(txs);
        return rv;
    }
    kb->valid = true;
    if (k == 0) { /* an empty block holds no pooled transactions */
        free(txs);
        txs = NULL;
    }
    kb->taken = txs;
    kb->n_taken = k;
    s->value_wanted = false;
    struct cs_event ev = {.kind = CS_EV_VALUE};
    ev.value.height = s->value_height;
    ev.value.round = s->value_round;
    memcpy(ev.value.hash, kb->b.hash, WIRE_HASH_BYTES);
    push_event(s, &ev);
    return HANSA_OK;
}

static void announce(struct cshell *s, const struct chain_block *b, const struct ledger_output *out)
{
    Hansa__BlockResults results = HANSA__BLOCK_RESULTS__INIT;
    results.height = b->header->height;
    results.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)b->hash};
    results.n_results = out->n_results;
    results.results = out->results;
    size_t ok = 0;
    for (size_t i = 0; i < out->n_results; i++)
        ok += out->results[i]->result == HANSA__RESULT_CODE__RESULT_OK;
    log_info("BLOCK-COMMIT", "height=%" PRIu64 " txs=%zu ok=%zu proposer=%s", b->header->height,
             b->n_txs, ok, b->header->proposer);
    api_on_commit(s->d.api, b->header->height, b->header->time_ms, &results);
    events_publish_block(s->d.events, b->header->height, b->hash, b->header->time_ms,
                         b->header->proposer, &results);
    if (s->d.committed != NULL)
        s->d.committed(s->d.committed_ctx);
}

/* Commit b with commit; then the pooled copies of its transactions go. */
static hansa_err commit_block(struct cshell *s, struct known_block *k, const Hansa__Commit *commit)
{
    struct ledger_output out;
    hansa_err rv = chain_commit(s->d.chain, &k->b, commit, &out);
    if (rv != HANSA_OK)
        return rv;
    if (k->n_taken > 0) { /* own block: its transactions are committed */
        mempool_forget(s->d.mempool, k->taken, k->n_taken);
        for (size_t i = 0; i < k->n_taken; i++)
            mempool_tx_free(k->taken[i]);
        free(k->taken);
        k->taken = NULL;
        k->n_taken = 0;
    } else {
        const uint8_t **ids = calloc(k->b.n_txs ? k->b.n_txs : 1, sizeof *ids);
        if (ids != NULL) {
            for (size_t i = 0; i < k->b.n_txs; i++)
                ids[i] = k->b.txs[i].id;
            mempool_remove_ids(s->d.mempool, ids, k->b.n_txs);
            free(ids);
        }
    }
    announce(s, &k->b, &out);
    if (k->b.block->n_evidence > 0)
        log_warn("CONSENSUS-EVIDENCE-COMMITTED",
                 "height %" PRIu64 " keeps evidence of %zu equivocation%s", k->b.header->height,
                 k->b.block->n_evidence, k->b.block->n_evidence == 1 ? "" : "s");
    ledger_output_free(&out);
    evidence_prune(s);
    s->last_commit_mono = mono_ms();
    return HANSA_OK;
}

static hansa_err act_decide(struct cshell *s, const struct cs_action *a)
{
    struct known_block *k = find_block(s, a->decide.hash);
    if (k == NULL) {
        /* Forgotten for later rounds' blocks (add_block): the others commit
         * it, and this node catches up from them as it hears of the next
         * height. */
        log_error("CONSENSUS-NO-BLOCK",
                  "decided height %" PRIu64 " on a block not held here; catching up from peers",
                  a->decide.height);
        return HANSA_OK;
    }
    Hansa__SignedVote **pcs = calloc(a->decide.n_precommits + 1, sizeof *pcs);
    if (pcs == NULL)
        return HANSA_ENOMEM;
    size_t n = 0;
    for (uint32_t i = 0; i < a->decide.n_precommits; i++)
        if (wire_decode(&hansa__signed_vote__descriptor, a->decide.precommits[i],
                        a->decide.precommit_lens[i], CS_SIGNED_VOTE_BYTES_MAX, WIRE_LENIENT,
                        (ProtobufCMessage **)&pcs[n]) == HANSA_OK)
            n++;
    Hansa__Commit commit = HANSA__COMMIT__INIT;
    commit.height = a->decide.height;
    commit.round = a->decide.round;
    commit.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)a->decide.hash};
    commit.n_precommits = n;
    commit.precommits = pcs;
    hansa_err rv = commit_block(s, k, &commit);
    for (size_t i = 0; i < n; i++)
        wire_free(pcs[i]);
    free(pcs);
    if (rv == HANSA_OK)
        new_height(s);
    return rv;
}

static void act_evidence(struct cshell *s, const struct cs_action *a)
{
    uint32_t who = a->evidence.validator;
    uint64_t height = s->d.chain->height + 1;
    if (who < s->d.chain->n_vals && who < CS_VALIDATORS_MAX &&
        s->vote_equivocation_logged[who] != height + 1) {
        s->vote_equivocation_logged[who] = height + 1;
        log_warn("CONSENSUS-EQUIVOCATION",
                 "validator %s signed two different votes at height %" PRIu64
                 " (logged once a height; each pair becomes evidence)",
                 s->d.chain->vals[who].id, height);
    }
    Hansa__SignedVote *va = NULL, *vb = NULL;
    if (wire_decode(&hansa__signed_vote__descriptor, a->evidence.vote_a, a->evidence.len_a,
                    CS_SIGNED_VOTE_BYTES_MAX, WIRE_LENIENT, (ProtobufCMessage **)&va) == HANSA_OK &&
        wire_decode(&hansa__signed_vote__descriptor, a->evidence.vote_b, a->evidence.len_b,
                    CS_SIGNED_VOTE_BYTES_MAX, WIRE_LENIENT, (ProtobufCMessage **)&vb) == HANSA_OK) {
        Hansa__Evidence e = HANSA__EVIDENCE__INIT;
        /* One encoding per equivocation: the smaller encoded vote first. */
        bool swap = bytes_less(&vb->vote, &va->vote);
        e.vote_a = swap ? vb : va;
        e.vote_b = swap ? va : vb;
        Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_EVIDENCE;
        m.evidence = &e;
        broadcast(s, &m, false);
        Hansa__Evidence *copy = evidence_copy(&e);
        if (copy != NULL)
            evidence_add(s, copy);
    }
    wire_free(va);
    wire_free(vb);
}

static hansa_err act(struct cshell *s, const struct cs_action *a)
{
    log_debug("CONSENSUS-ACTION", "kind %d", (int)a->kind);
    switch (a->kind) {
    case CS_ACT_PERSIST:
        return act_persist(s, a);
    case CS_ACT_PROPOSE:
        return act_propose(s, a);
    case CS_ACT_VOTE:
        return act_vote(s, a);
    case CS_ACT_SCHEDULE_TIMEOUT:
        act_timeout(s, a);
        return HANSA_OK;
    case CS_ACT_GET_VALUE:
        log_debug("CONSENSUS-GET-VALUE", "height %" PRIu64 " round %u (pooled %zu)",
                  a->get_value.height, a->get_value.round, mempool_count(s->d.mempool));
        /* Built by the loop (cshell_run), never inside a step: a chain with
         * a full mempool would otherwise decide height after height in one
         * call and starve the loop's other duties. */
        s->value_wanted = true;
        s->value_height = a->get_value.height;
        s->value_round = a->get_value.round;
        return HANSA_OK;
    case CS_ACT_DECIDE:
        return act_decide(s, a);
    case CS_ACT_EVIDENCE:
        act_evidence(s, a);
        return HANSA_OK;
    }
    return HANSA_OK;
}

/* Feed ev and everything it leads to (persisted, own votes, values). */
static void drain(struct cshell *s)
{
    while (s->q_len > 0 && s->fatal == HANSA_OK) {
        struct cs_event ev = s->queue[s->q_head];
        uint8_t *ev_owned = s->queue_owned[s->q_head];
        s->q_head = (s->q_head + 1) % CSHELL_QUEUE_MAX;
        s->q_len--;
        struct cs_actions out;
        consensus_step(s->cs, &ev, &out);
        free(ev_owned); /* the core copied what it keeps */
        for (size_t i = 0; i < out.n && s->fatal == HANSA_OK; i++)
            s->fatal = act(s, &out.items[i]);
    }
    struct cs_durable d;
    consensus_durable(s->cs, &d);
    atomic_store(&s->pos_height, d.height);
    atomic_store(&s->pos_round, d.round);
    atomic_store(&s->pos_step, (int)d.step);
}

static void step_owned(struct cshell *s, const struct cs_event *first, uint8_t *owned)
{
    push_event_owned(s, first, owned);
    drain(s);
}

static void step(struct cshell *s, const struct cs_event *first)
{
    step_owned(s, first, NULL);
}

/* ---- messages from peers ---- */

static void maybe_catch_up(struct cshell *s, const char *peer, uint64_t peer_height)
{
    struct chain *c = s->d.chain;
    uint64_t now = mono_ms();
    if (peer_height <= c->height || now - s->catchup_asked_mono < CSHELL_CATCHUP_RETRY_MS)
        return;
    s->catchup_asked_mono = now;
    Hansa__CatchUpRequest r = HANSA__CATCH_UP_REQUEST__INIT;
    r.chain_id = (char *)s->d.cfg->chain_id;
    r.requester = (char *)s->d.cfg->node_id;
    r.from_height = c->height + 1;
    r.max_blocks = CSHELL_CATCHUP_BLOCKS;
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.chain_id = (char *)s->d.cfg->chain_id;
    m.sender = (char *)s->d.cfg->node_id;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_REQUEST;
    m.catch_up_request = &r;
    log_info("CATCHUP-REQUEST", "at height %" PRIu64 ", %s is at %" PRIu64 ": asking it", c->height,
             peer, peer_height);
    if (peers_send(s->d.peers, peer, &m) != HANSA_OK)
        log_warn("CATCHUP-SEND-FAIL", "cannot send a catch-up request to %s", peer);
}

static void on_proposal(struct cshell *s, const char *sender, const Hansa__BlockProposal *bp)
{
    struct chain *c = s->d.chain;
    Hansa__Proposal *p = NULL;
    if (bp->proposal == NULL || bp->block == NULL ||
        bp->proposal->signature.len != WIRE_SIG_BYTES ||
        wire_proposal_decode(bp->proposal->proposal.data, bp->proposal->proposal.len, &p) !=
            HANSA_OK)
        return;
    uint32_t who = chain_validator_index(c, p->proposer);
    bool ok = strcmp(p->chain_id, c->chain_id) == 0 && who != UINT32_MAX &&
              p->block_hash.len == WIRE_HASH_BYTES &&
              wire_verify(WIRE_TAG_PROPOSAL, c->chain_id, bp->proposal->proposal.data,
                          bp->proposal->proposal.len, c->vals[who].key,
                          bp->proposal->signature.data) == HANSA_OK;
    if (ok && p->height > c->height + 1)
        maybe_catch_up(s, sender, p->height - 1);
    if (!ok || p->height != c->height + 1 ||
        strcmp(chain_proposer(c, p->height, p->round), p->proposer) != 0) {
        wire_free(p);
        return;
    }
    struct known_block *k = find_block(s, p->block_hash.data);
    if (k == NULL && proposed_in(s, p->round) != NULL) {
        /* The proposer signed two blocks for one round. The core keeps the
         * first proposal of a round and ignores the rest; so does the
         * shell, or a proposer could push out every block it holds. */
        if (s->equivocation_height != p->height) { /* one line a height */
            log_warn("CONSENSUS-PROPOSER-EQUIVOCATION",
                     "%s proposed a second, different block at height %" PRIu64
                     " round %u; ignored (the first one stands)",
                     p->proposer, p->height, p->round);
            s->equivocation_height = p->height;
        }
        wire_free(p);
        return;
    }
    if (k == NULL) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        k = add_block(s, p->round);
        k->proposed = true;
        if (wire_encode(&bp->block->base, HANSA_BLOCK_BYTES_MAX, &bytes, &len) != HANSA_OK ||
            chain_block_adopt(c->chain_id, bytes, len, &k->b) != HANSA_OK) {
            s->n_blocks--;
            wire_free(p);
            return;
        }
        char why[256] = "";
        k->valid = memcmp(k->b.hash, p->block_hash.data, WIRE_HASH_BYTES) == 0 &&
                   chain_validate(c, &k->b, wall_ms(), s->d.mempool, why, sizeof why);
        if (!k->valid)
            log_warn("CONSENSUS-BAD-BLOCK",
                     "block proposed by %s at height %" PRIu64 " round %u is invalid: %s",
                     p->proposer, p->height, p->round, why);
    }
    struct cs_event ev = {.kind = CS_EV_PROPOSAL};
    ev.proposal = (struct cs_proposal){
        .height = p->height, .round = p->round, .valid_round = p->pol_round, .valid = k->valid};
    memcpy(ev.proposal.hash, p->block_hash.data, WIRE_HASH_BYTES);
    wire_free(p);
    step(s, &ev);
}

static void on_vote(struct cshell *s, const char *sender, const Hansa__SignedVote *sv)
{
    struct chain *c = s->d.chain;
    Hansa__Vote *v = NULL;
    if (sv->signature.len != WIRE_SIG_BYTES ||
        wire_vote_decode(sv->vote.data, sv->vote.len, &v) != HANSA_OK)
        return;
    uint32_t who = chain_validator_index(c, v->validator);
    bool ok = strcmp(v->chain_id, c->chain_id) == 0 && who != UINT32_MAX &&
              (v->type == HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE ||
               v->type == HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT) &&
              (v->block_hash.len == 0 || v->block_hash.len == WIRE_HASH_BYTES) &&
              wire_verify(WIRE_TAG_VOTE, c->chain_id, sv->vote.data, sv->vote.len, c->vals[who].key,
                          sv->signature.data) == HANSA_OK;
    if (ok && v->height > c->height + 1)
        maybe_catch_up(s, sender, v->height - 1);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (ok && v->height == c->height + 1 &&
        wire_encode(&sv->base, CS_SIGNED_VOTE_BYTES_MAX, &bytes, &len) == HANSA_OK) {
        struct cs_event ev = {.kind = CS_EV_VOTE};
        ev.vote = (struct cs_vote){
            .type = v->type == HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE ? CS_PREVOTE : CS_PRECOMMIT,
            .height = v->height,
            .round = v->round,
            .value = {.nil = v->block_hash.len == 0},
            .validator = who,
            .signed_bytes = bytes,
            .signed_len = len};
        if (v->block_hash.len == WIRE_HASH_BYTES)
            memcpy(ev.vote.value.hash, v->block_hash.data, WIRE_HASH_BYTES);
        if (who != s->self)
            keep_seen(s, sv, who, ev.vote.type, ev.vote.round);
        step_owned(s, &ev, bytes);
    }
    wire_free(v);
}

static void on_txs(struct cshell *s, const Hansa__TxBatch *b)
{
    size_t n = b->n_txs < CSHELL_BATCH_TXS_MAX ? b->n_txs : CSHELL_BATCH_TXS_MAX;
    for (size_t i = 0; i < n; i++) {
        struct admission_result r;
        admission_admit(&s->d.admission, b->txs[i].data, b->txs[i].len, &r);
    }
}

/* Answer peer's catch-up request for blocks from from_height from the
 * store. */
static void serve_catch_up(struct cshell *s, const char *peer, uint64_t from_height,
                           uint32_t max_blocks)
{
    struct chain *c = s->d.chain;
    Hansa__CatchUpResponse resp = HANSA__CATCH_UP_RESPONSE__INIT;
    resp.peer_height = c->height;
    Hansa__CommittedBlock *blocks[CSHELL_CATCHUP_BLOCKS], cbs[CSHELL_CATCHUP_BLOCKS];
    Hansa__StoredBlock *sbs[CSHELL_CATCHUP_BLOCKS] = {NULL};
    size_t n = 0, bytes_total = 0;
    uint32_t want =
        max_blocks == 0 || max_blocks > CSHELL_CATCHUP_BLOCKS ? CSHELL_CATCHUP_BLOCKS : max_blocks;
    if (from_height == 0 || from_height > c->height) {
        resp.error = HANSA__ERROR_CODE__ERROR_NOT_FOUND;
        resp.error_message = (char *)"no committed blocks from that height";
    }
    for (uint64_t h = from_height;
         resp.error == HANSA__ERROR_CODE__ERROR_NONE && h <= c->height && n < want; h++) {
        uint8_t *val = NULL;
        size_t len = 0;
        if (store_get_block(c->store, h, &val, &len) != HANSA_OK)
            break;
        if (bytes_total + len > CSHELL_CATCHUP_SERVE_BYTES_MAX && n > 0) {
            free(val);
            break; /* the rest in the next request */
        }
        hansa_err rv = wire_decode(&hansa__stored_block__descriptor, val, len,
                                   2 * HANSA_PEER_MESSAGE_BYTES_MAX, WIRE_LENIENT,
                                   (ProtobufCMessage **)&sbs[n]);
        free(val);
        if (rv != HANSA_OK)
            break;
        bytes_total += len;
        hansa__committed_block__init(&cbs[n]);
        cbs[n].block = sbs[n]->block;
        cbs[n].commit = sbs[n]->commit;
        blocks[n] = &cbs[n];
        n++;
    }
    resp.n_blocks = n;
    resp.blocks = blocks;
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.chain_id = (char *)s->d.cfg->chain_id;
    m.sender = (char *)s->d.cfg->node_id;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_RESPONSE;
    m.catch_up_response = &resp;
    /* A full queue is counted and logged by the links (PEER-DROP-SEND). */
    if (peers_send(s->d.peers, peer, &m) != HANSA_OK)
        log_debug("CATCHUP-SEND-FAIL", "cannot answer the catch-up request of %s", peer);
    for (size_t i = 0; i < n; i++)
        wire_free(sbs[i]);
}

/* Answer the waiting catch-up requests whose peers are due
 * (CSHELL_CATCHUP_SERVE_MS). */
static void serve_catch_ups(struct cshell *s)
{
    uint64_t now = mono_ms();
    for (size_t i = 0; i < s->d.cfg->n_peers; i++) {
        struct catchup_wait *w = &s->catchup_waits[i];
        if (!w->pending || (w->served_mono != 0 && now - w->served_mono < CSHELL_CATCHUP_SERVE_MS))
            continue;
        w->pending = false;
        w->served_mono = now;
        serve_catch_up(s, s->d.cfg->peers[i].id, w->from_height, w->max_blocks);
    }
}

/* A peer's catch-up request: answered now if the peer is due, else when it
 * is, unless a newer request of the same peer replaces it. */
static void on_catch_up_request(struct cshell *s, const char *sender,
                                const Hansa__CatchUpRequest *r)
{
    const struct node_peer *peer = node_config_peer(s->d.cfg, sender);
    if (peer == NULL)
        return; /* the links accept configured senders only */
    struct catchup_wait *w = &s->catchup_waits[peer - s->d.cfg->peers];
    w->pending = true;
    w->from_height = r->from_height;
    w->max_blocks = r->max_blocks;
    serve_catch_ups(s);
}

static void restart_core(struct cshell *s);

/* Apply committed blocks a peer sent, each checked before it is executed. */
static void on_catch_up_response(struct cshell *s, const char *sender,
                                 const Hansa__CatchUpResponse *r)
{
    struct chain *c = s->d.chain;
    size_t applied = 0;
    for (size_t i = 0; i < r->n_blocks && s->fatal == HANSA_OK; i++) {
        const Hansa__CommittedBlock *cb = r->blocks[i];
        if (cb->block == NULL || cb->commit == NULL)
            break;
        uint8_t *bytes = NULL;
        size_t len = 0;
        struct known_block k = {0};
        if (wire_encode(&cb->block->base, HANSA_BLOCK_BYTES_MAX, &bytes, &len) != HANSA_OK ||
            chain_block_adopt(c->chain_id, bytes, len, &k.b) != HANSA_OK)
            break;
        char why[256] = "";
        bool ok = k.b.header->height == c->height + 1 &&
                  chain_verify_commit(c, k.b.header->height, k.b.hash, cb->commit, why,
                                      sizeof why) == HANSA_OK &&
                  chain_validator_index(c, k.b.header->proposer) != UINT32_MAX &&
                  chain_validate(c, &k.b, CHAIN_ANY_TIME, s->d.mempool, why, sizeof why);
        if (!ok) {
            log_warn("CATCHUP-BAD-BLOCK", "block %" PRIu64 " from %s refused: %s",
                     k.b.header->height, sender, why);
            chain_block_free(&k.b);
            break;
        }
        s->fatal = commit_block(s, &k, cb->commit);
        chain_block_free(&k.b);
        applied++;
    }
    if (applied > 0) {
        log_info("CATCHUP-PROGRESS",
                 "applied %zu blocks from %s: at height %" PRIu64 " of %" PRIu64, applied, sender,
                 c->height, r->peer_height);
        restart_core(s);
        s->catchup_asked_mono = 0;
        if (r->peer_height > c->height)
            maybe_catch_up(s, sender, r->peer_height);
    }
}

static void on_message(struct cshell *s, Hansa__ConsensusMessage *m)
{
    switch (m->kind_case) {
    case HANSA__CONSENSUS_MESSAGE__KIND_PROPOSAL:
        on_proposal(s, m->sender, m->proposal);
        break;
    case HANSA__CONSENSUS_MESSAGE__KIND_VOTE:
        on_vote(s, m->sender, m->vote);
        break;
    case HANSA__CONSENSUS_MESSAGE__KIND_TXS:
        on_txs(s, m->txs);
        break;
    case HANSA__CONSENSUS_MESSAGE__KIND_STATUS:
        maybe_catch_up(s, m->sender, m->status->committed_height);
        break;
    case HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_REQUEST:
        on_catch_up_request(s, m->sender, m->catch_up_request);
        break;
    case HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_RESPONSE:
        on_catch_up_response(s, m->sender, m->catch_up_response);
        break;
    case HANSA__CONSENSUS_MESSAGE__KIND_EVIDENCE: {
        Hansa__Evidence *copy = evidence_copy(m->evidence);
        if (copy != NULL)
            evidence_add(s, copy);
        break;
    }
    default:
        break;
    }
}

/* ---- the core's life ---- */

/* After a restart within a height: the blocks of the lock and valid value,
 * saved with the durable state, are known again (and still valid: the tip
 * has not moved since they were checked). */
static void restore_blocks(struct cshell *s, const struct cs_durable *d)
{
    const uint8_t *keys[2] = {valid_block_key, locked_block_key};
    size_t lens[2] = {sizeof valid_block_key - 1, sizeof locked_block_key - 1};
    for (int i = 0; i < 2; i++) {
        uint8_t *bytes = NULL;
        size_t len = 0;
        if (store_get(s->d.store, STORE_META, keys[i], lens[i], &bytes, &len) != HANSA_OK)
            continue;
        struct known_block *k = add_block(s, (uint32_t)(i == 0 ? d->valid_round : d->locked_round));
        if (chain_block_adopt(s->d.chain->chain_id, bytes, len, &k->b) != HANSA_OK ||
            k->b.header->height != d->height || find_block(s, k->b.hash) != k) {
            if (k->b.block != NULL)
                chain_block_free(&k->b);
            s->n_blocks--;
            continue;
        }
        k->valid = true;
    }
}

/* After a restart within a height, the vote this node signed last (kept by
 * the signer, synced) is the core's own again: fed back so it counts, and
 * re-broadcast, since peers may have missed it and a network that
 * restarted as a whole has nobody else to re-send it. */
static void replay_own_vote(struct cshell *s, uint64_t height)
{
    const struct signer *sg = s->d.signer;
    if (sg->height != height || (sg->step != HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PREVOTE &&
                                 sg->step != HANSA__CONSENSUS_STEP__CONSENSUS_STEP_PRECOMMIT))
        return;
    Hansa__Vote *v = NULL;
    if (wire_vote_decode(sg->bytes, sg->len, &v) != HANSA_OK)
        return;
    Hansa__SignedVote sv = HANSA__SIGNED_VOTE__INIT;
    sv.vote = (ProtobufCBinaryData){sg->len, sg->bytes};
    sv.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, (uint8_t *)sg->sig};
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (wire_encode(&sv.base, CS_SIGNED_VOTE_BYTES_MAX, &bytes, &len) == HANSA_OK) {
        Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_VOTE;
        m.vote = &sv;
        broadcast(s, &m, true);
        struct cs_event ev = {.kind = CS_EV_VOTE};
        ev.vote = (struct cs_vote){
            .type = v->type == HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE ? CS_PREVOTE : CS_PRECOMMIT,
            .height = v->height,
            .round = v->round,
            .value = {.nil = v->block_hash.len == 0},
            .validator = s->self,
            .signed_bytes = bytes,
            .signed_len = len};
        if (v->block_hash.len == WIRE_HASH_BYTES)
            memcpy(ev.vote.value.hash, v->block_hash.data, WIRE_HASH_BYTES);
        log_info("CONSENSUS-RESUME", "resuming height %" PRIu64 " with this node's last vote",
                 height);
        step_owned(s, &ev, bytes);
    }
    wire_free(v);
}

/* After a restart within a height: the POL saved with the durable state,
 * checked like any vote from a peer, counts again and is relayed. */
static void replay_pol(struct cshell *s)
{
    uint8_t *b = NULL;
    size_t len = 0;
    if (store_get(s->d.store, STORE_META, pol_key, sizeof pol_key - 1, &b, &len) != HANSA_OK)
        return;
    size_t at = 4, fed = 0;
    uint64_t n = len >= 4 ? get_be(b, 4) : 0;
    for (uint64_t i = 0; i < n && at + 4 <= len; i++) {
        size_t vlen = (size_t)get_be(b + at, 4);
        if (vlen > len - at - 4)
            break;
        Hansa__SignedVote *sv = NULL;
        if (wire_decode(&hansa__signed_vote__descriptor, b + at + 4, vlen,
                        CS_SIGNED_VOTE_BYTES_MAX * 4, WIRE_LENIENT,
                        (ProtobufCMessage **)&sv) == HANSA_OK) {
            on_vote(s, "restart", sv);
            fed++;
        }
        wire_free(sv);
        at += 4 + vlen;
    }
    free(b);
    if (fed > 0)
        log_info("CONSENSUS-RESUME-POL", "fed %zu saved prevotes of the valid value back", fed);
}

static hansa_err core_open(struct cshell *s)
{
    struct chain *c = s->d.chain;
    const struct node_config *cfg = s->d.cfg;
    struct cs_params p = {.n_validators = c->n_vals,
                          .self = s->self,
                          .propose_base_ms = cfg->consensus_propose_ms,
                          .propose_delta_ms = cfg->consensus_propose_ms / 2,
                          .prevote_base_ms = cfg->consensus_vote_ms,
                          .prevote_delta_ms = cfg->consensus_vote_ms / 2,
                          .precommit_base_ms = cfg->consensus_vote_ms,
                          .precommit_delta_ms = cfg->consensus_vote_ms / 2};
    struct cs_durable d;
    bool restored = durable_read(s, c->height + 1, &d);
    if (!restored)
        fresh_durable(c->height + 1, &d);
    else
        restore_blocks(s, &d);
    hansa_err rv = consensus_open(&p, &d, &s->cs);
    if (rv != HANSA_OK)
        return rv;
    struct cs_event ev = {.kind = CS_EV_START};
    step(s, &ev);
    replay_own_vote(s, d.height);
    if (restored && d.valid_round >= 0)
        replay_pol(s);
    return s->fatal;
}

/* After catch-up moved the tip: a new core at the new height. */
static void restart_core(struct cshell *s)
{
    consensus_close(s->cs);
    s->cs = NULL;
    new_height(s);
    for (size_t i = 0; i < s->q_len; i++) /* events of the old core */
        free(s->queue_owned[(s->q_head + i) % CSHELL_QUEUE_MAX]);
    s->q_len = 0;
    hansa_err rv = core_open(s);
    if (rv != HANSA_OK && s->fatal == HANSA_OK)
        s->fatal = rv;
}

static void fire_timers(struct cshell *s)
{
    uint64_t now = mono_ms();
    for (size_t i = 0; i < s->n_timers && s->fatal == HANSA_OK;) {
        struct timer *t = &s->timers[i];
        if (t->due_ms == 0 && gate_open(s, t->round))
            t->due_ms = now + t->delay_ms; /* the idle gate opened */
        if (t->due_ms == 0 || t->due_ms > now) {
            i++;
            continue;
        }
        struct cs_event ev = {.kind = CS_EV_TIMEOUT};
        ev.timeout.height = t->height;
        ev.timeout.round = t->round;
        ev.timeout.step = t->step;
        *t = s->timers[--s->n_timers];
        step(s, &ev);
        i = 0; /* the step may have changed the timer list */
    }
}

static uint64_t next_due(const struct cshell *s, uint64_t now)
{
    uint64_t wait = CSHELL_TICK_MS;
    for (size_t i = 0; i < s->n_timers; i++)
        if (s->timers[i].due_ms != 0 && s->timers[i].due_ms <= now + wait)
            wait = s->timers[i].due_ms > now ? s->timers[i].due_ms - now : 0;
    return wait;
}

/* Gossip one batch of what the API admitted; false when there was none. */
static bool flush_batch(struct cshell *s)
{
    struct outbox_tx batch[CSHELL_BATCH_TXS_MAX];
    pthread_mutex_lock(&s->out_mu);
    size_t n = s->n_outbox < CSHELL_BATCH_TXS_MAX ? s->n_outbox : CSHELL_BATCH_TXS_MAX;
    memcpy(batch, s->outbox, n * sizeof batch[0]);
    memmove(s->outbox, s->outbox + n, (s->n_outbox - n) * sizeof s->outbox[0]);
    s->n_outbox -= n;
    for (size_t i = 0; i < n; i++)
        s->outbox_bytes -= batch[i].len;
    pthread_mutex_unlock(&s->out_mu);
    if (n == 0)
        return false;
    if (s->d.peers != NULL) {
        ProtobufCBinaryData txs[CSHELL_BATCH_TXS_MAX];
        for (size_t i = 0; i < n; i++)
            txs[i] = (ProtobufCBinaryData){batch[i].len, batch[i].bytes};
        Hansa__TxBatch b = HANSA__TX_BATCH__INIT;
        b.n_txs = n;
        b.txs = txs;
        Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
        m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_TXS;
        m.txs = &b;
        broadcast(s, &m, false);
    }
    for (size_t i = 0; i < n; i++)
        free(batch[i].bytes);
    return true;
}

/* Gossip everything the API admitted since the last call, in batches: what
 * piles up while a block commits goes out before the next proposal does. */
static void flush_outbox(struct cshell *s)
{
    while (flush_batch(s))
        ;
}

void cshell_admitted(void *arg, const uint8_t *tx, size_t len)
{
    struct cshell *s = arg;
    uint8_t *copy = malloc(len ? len : 1);
    pthread_mutex_lock(&s->out_mu);
    if (copy != NULL && s->n_outbox < CSHELL_OUTBOX_MAX &&
        s->outbox_bytes + len <= CSHELL_OUTBOX_BYTES_MAX) {
        memcpy(copy, tx, len);
        s->outbox[s->n_outbox++] = (struct outbox_tx){copy, len};
        s->outbox_bytes += len;
        copy = NULL;
    } else {
        s->outbox_dropped++;
    }
    pthread_mutex_unlock(&s->out_mu);
    free(copy);
    cshell_wake(s);
}

/* Every CSHELL_REBROADCAST_MS: own messages of this height, the votes of
 * others still current (seen_current) and our status. */
static void rebroadcast(struct cshell *s)
{
    uint64_t now = mono_ms();
    if (now - s->last_rebroadcast_mono < CSHELL_REBROADCAST_MS || s->d.peers == NULL)
        return;
    s->last_rebroadcast_mono = now;
    struct cs_durable d;
    consensus_durable(s->cs, &d);
    for (size_t i = 0; i < s->n_own + s->n_seen; i++) {
        const struct seen_vote *v = i < s->n_own ? NULL : &s->seen[i - s->n_own];
        if (v != NULL && !seen_current(&d, v->round))
            continue;
        Hansa__ConsensusMessage *m = NULL;
        if (wire_consensus_decode(v != NULL ? v->bytes : s->own_msgs[i],
                                  v != NULL ? v->len : s->own_lens[i], &m) == HANSA_OK)
            peers_broadcast(s->d.peers, m);
        wire_free(m);
    }
    Hansa__PeerStatus st = HANSA__PEER_STATUS__INIT;
    st.committed_height = s->d.chain->height;
    st.height = d.height;
    st.round = d.round;
    st.step = (Hansa__ConsensusStep)d.step;
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_STATUS;
    m.status = &st;
    broadcast(s, &m, false);
}

hansa_err cshell_open(const struct cshell_deps *deps, struct cshell **out, char *why,
                      size_t why_len)
{
    struct cshell *s = calloc(1, sizeof *s);
    if (s == NULL)
        return HANSA_ENOMEM;
    s->d = *deps;
    pthread_mutex_init(&s->out_mu, NULL);
    s->self = chain_validator_index(deps->chain, deps->cfg->node_id);
    s->last_commit_mono = mono_ms();
    hansa_err rv = core_open(s);
    if (rv != HANSA_OK) {
        snprintf(why, why_len, "cannot start consensus: %s", hansa_strerror(rv));
        cshell_close(s);
        return rv;
    }
    *out = s;
    return HANSA_OK;
}

void cshell_close(struct cshell *s)
{
    if (s == NULL)
        return;
    new_height(s);
    for (size_t i = 0; i < s->q_len; i++)
        free(s->queue_owned[(s->q_head + i) % CSHELL_QUEUE_MAX]);
    consensus_close(s->cs);
    for (size_t i = 0; i < s->n_outbox; i++)
        free(s->outbox[i].bytes);
    for (size_t i = 0; i < s->n_evidence; i++)
        wire_free(s->evidence[i]);
    pthread_mutex_destroy(&s->out_mu);
    free(s);
}

void cshell_wake(struct cshell *s)
{
    if (s->d.peers != NULL)
        peers_wake(s->d.peers);
}

void cshell_position(struct cshell *s, uint64_t *height, uint32_t *round, int *step_out,
                     uint32_t *peers_connected)
{
    *height = atomic_load(&s->pos_height);
    *round = atomic_load(&s->pos_round);
    *step_out = atomic_load(&s->pos_step);
    struct peers_stats st = {0};
    if (s->d.peers != NULL)
        peers_stats(s->d.peers, &st);
    *peers_connected = st.peers_connected;
}

hansa_err cshell_run(struct cshell *s, const _Atomic bool *stop)
{
    while (!atomic_load(stop) && s->fatal == HANSA_OK) {
        uint64_t now = mono_ms();
        Hansa__ConsensusMessage *m =
            s->d.peers != NULL ? peers_next(s->d.peers, (uint32_t)next_due(s, now)) : NULL;
        if (m != NULL) {
            on_message(s, m);
            wire_free(m);
        }
        if (s->value_wanted && gate_open(s, s->value_round) && s->fatal == HANSA_OK) {
            s->fatal = build_value(s);
            drain(s); /* delivers the value */
        }
        fire_timers(s);
        flush_outbox(s);
        rebroadcast(s);
        serve_catch_ups(s);
        api_tick(s->d.api, wall_ms());
    }
    return s->fatal;
}
