/*
 * byz_validator: a Byzantine validator for test_byzantine.c. It loads a
 * validator's home (config.ini, TLS certificate, validator key), links to
 * the other validators like hansad would, and for SECONDS misbehaves as soon
 * as API_URL's node reports a new height, and again every second while that
 * height lasts:
 *
 *   proposals  for every round of the next height it is the round-robin
 *              proposer of (up to the 16 future rounds the core admits), it
 *              signs BLOCKS_ROUND different blocks and sends them all;
 *   votes      it signs a prevote and a precommit for every round of the
 *              next height up to JUNK_ROUND_END, and for each round the core
 *              admits (0-16) a second, different one of each;
 *   catchup    it asks every peer for the first CATCHUP_BLOCKS blocks,
 *              CATCHUP_BURST times every 20 ms or so, without pause.
 *
 *   byz_validator HOME API_URL SECONDS proposals|votes|catchup
 *
 * It reads what the others send it and counts the relays of its own votes
 * (a vote it signed, sent by another validator): "relayed N votes: J of
 * rounds JUNK_ROUND_START or later, S second votes of a round", and the
 * catch-up answers with blocks ("catch-up answers N to R requests to each
 * peer"). Then it prints "flooded N heights" (not for catchup) and exits 0; it exits 1 on a setup
 * error. It ends with _exit and leaves its sockets to the kernel: nng 1.5.2 can hang in nng_close
 * on a push socket whose queue is full (LIBNOTES 1.9), and a flood leaves them full.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "hansa/wire.h"
#include "peers.h"
#include "testclient.h"

#define BLOCKS_ROUND  40 /* different blocks signed per round: > the shell's 32-block cache */
#define FUTURE_ROUNDS 16 /* the core admits rounds up to its round + 16 */
/* Votes of rounds [JUNK_ROUND_START, JUNK_ROUND_END) are far beyond any
 * round the others reach in the test (rounds last a second or more). */
#define JUNK_ROUND_START 100
#define JUNK_ROUND_END   400
#define CATCHUP_BURST    10 /* requests to each peer per pass of the loop */
#define CATCHUP_BLOCKS   16

static struct node_config cfg;
static struct wire_keypair key;
static uint32_t n_validators, self;
/* Relays of its own votes received: all, of junk rounds, second votes. */
static uint64_t relayed, relayed_junk, relayed_second;
/* Catch-up answers with blocks received. */
static uint64_t answers, requests;

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void die(const char *what)
{
    fprintf(stderr, "byz_validator: %s\n", what);
    _exit(1);
}

/* Block number k of a round: a decodable block whose header differs in its
 * time, so every one has its own hash. */
static void make_block(uint64_t height, uint32_t round, uint32_t k, uint8_t **bytes, size_t *len,
                       uint8_t hash[WIRE_HASH_BYTES])
{
    uint8_t zero[WIRE_HASH_BYTES] = {0};
    Hansa__BlockHeader h = HANSA__BLOCK_HEADER__INIT;
    h.chain_id = cfg.chain_id;
    h.height = height;
    h.time_ms = 1700000000000ull + (uint64_t)round * 1000u + k;
    h.prev_block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, zero};
    h.tx_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, zero};
    h.state_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, zero};
    h.proposer = cfg.node_id;
    h.validators_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, zero};
    h.last_commit_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, zero};
    h.evidence_root = (ProtobufCBinaryData){WIRE_HASH_BYTES, zero};
    uint8_t *hb = NULL;
    size_t hlen = 0;
    if (wire_encode(&h.base, HANSA_BLOCK_BYTES_MAX, &hb, &hlen) != HANSA_OK)
        die("cannot encode a header");
    wire_block_hash(hb, hlen, hash);
    Hansa__Block b = HANSA__BLOCK__INIT;
    b.header = (ProtobufCBinaryData){hlen, hb};
    if (wire_encode(&b.base, HANSA_BLOCK_BYTES_MAX, bytes, len) != HANSA_OK)
        die("cannot encode a block");
    free(hb);
}

/* Encode msg (a Proposal or a Vote) into *bytes and sign it under tag with
 * the validator key; what names it in the error. */
static void encode_and_sign(const ProtobufCMessage *msg, const char *tag, uint8_t **bytes,
                            size_t *len, uint8_t sig[WIRE_SIG_BYTES], const char *what)
{
    if (wire_encode(msg, HANSA_VOTE_BYTES_MAX, bytes, len) != HANSA_OK ||
        wire_sign(tag, cfg.chain_id, *bytes, *len, key.secret_key, sig) != HANSA_OK)
        die(what);
}

/* Sign block k for (height, round) and send the proposal to every peer. */
static void propose(struct peers *p, uint64_t height, uint32_t round, uint32_t k)
{
    uint8_t *block_bytes = NULL, hash[WIRE_HASH_BYTES], sig[WIRE_SIG_BYTES];
    size_t block_len = 0;
    make_block(height, round, k, &block_bytes, &block_len, hash);
    Hansa__Block *block = NULL;
    if (wire_block_decode(block_bytes, block_len, &block) != HANSA_OK)
        die("cannot decode its own block");
    Hansa__Proposal pr = HANSA__PROPOSAL__INIT;
    pr.height = height;
    pr.round = round;
    pr.pol_round = -1;
    pr.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    pr.proposer = cfg.node_id;
    pr.chain_id = cfg.chain_id;
    uint8_t *pb = NULL;
    size_t plen = 0;
    encode_and_sign(&pr.base, WIRE_TAG_PROPOSAL, &pb, &plen, sig, "cannot sign a proposal");
    Hansa__SignedProposal sp = HANSA__SIGNED_PROPOSAL__INIT;
    sp.proposal = (ProtobufCBinaryData){plen, pb};
    sp.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__BlockProposal bp = HANSA__BLOCK_PROPOSAL__INIT;
    bp.proposal = &sp;
    bp.block = block;
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_PROPOSAL;
    m.proposal = &bp;
    peers_broadcast(p, &m);
    free(pb);
    wire_free(block);
    free(block_bytes);
}

/* The hash a vote of version 0 or 1 names: distinct per (height, round,
 * type, version), so version 1 conflicts with version 0. */
static void vote_hash(uint64_t height, uint32_t round, int type, int version,
                      uint8_t hash[WIRE_HASH_BYTES])
{
    memset(hash, 0xB0 + version, WIRE_HASH_BYTES);
    memcpy(hash, &height, sizeof height);
    memcpy(hash + 8, &round, sizeof round);
    hash[12] = (uint8_t)type;
}

static void vote(struct peers *p, uint64_t height, uint32_t round, Hansa__VoteType type,
                 int version)
{
    uint8_t hash[WIRE_HASH_BYTES], sig[WIRE_SIG_BYTES];
    vote_hash(height, round, type, version, hash);
    Hansa__Vote v = HANSA__VOTE__INIT;
    v.type = type;
    v.height = height;
    v.round = round;
    v.block_hash = (ProtobufCBinaryData){WIRE_HASH_BYTES, hash};
    v.validator = cfg.node_id;
    v.chain_id = cfg.chain_id;
    uint8_t *vb = NULL;
    size_t vlen = 0;
    encode_and_sign(&v.base, WIRE_TAG_VOTE, &vb, &vlen, sig, "cannot sign a vote");
    Hansa__SignedVote sv = HANSA__SIGNED_VOTE__INIT;
    sv.vote = (ProtobufCBinaryData){vlen, vb};
    sv.signature = (ProtobufCBinaryData){WIRE_SIG_BYTES, sig};
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_VOTE;
    m.vote = &sv;
    peers_broadcast(p, &m);
    free(vb);
}

static void flood_proposals(struct peers *p, uint64_t h)
{
    for (uint32_t r = 0; r <= FUTURE_ROUNDS; r++)
        if ((h + r) % n_validators == self)
            for (uint32_t k = 0; k < BLOCKS_ROUND; k++)
                propose(p, h, r, k);
}

static void flood_votes(struct peers *p, uint64_t h)
{
    static const Hansa__VoteType types[2] = {HANSA__VOTE_TYPE__VOTE_TYPE_PREVOTE,
                                             HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT};
    for (uint32_t r = 0; r < JUNK_ROUND_END; r++)
        for (int t = 0; t < 2; t++) {
            if (r > FUTURE_ROUNDS && r < JUNK_ROUND_START)
                continue;
            vote(p, h, r, types[t], 0);
            if (r <= FUTURE_ROUNDS)
                vote(p, h, r, types[t], 1);
        }
}

static void flood_catch_up(struct peers *p)
{
    Hansa__CatchUpRequest r = HANSA__CATCH_UP_REQUEST__INIT;
    r.chain_id = cfg.chain_id;
    r.requester = cfg.node_id;
    r.from_height = 1;
    r.max_blocks = CATCHUP_BLOCKS;
    Hansa__ConsensusMessage m = HANSA__CONSENSUS_MESSAGE__INIT;
    m.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_REQUEST;
    m.catch_up_request = &r;
    for (int i = 0; i < CATCHUP_BURST; i++)
        peers_broadcast(p, &m);
    requests += CATCHUP_BURST;
}

/* Count m if it answers a catch-up request or relays one of this
 * validator's votes. */
static void count_relay(const Hansa__ConsensusMessage *m)
{
    Hansa__Vote *v = NULL;
    if (m->kind_case == HANSA__CONSENSUS_MESSAGE__KIND_CATCH_UP_RESPONSE &&
        m->catch_up_response != NULL && m->catch_up_response->n_blocks > 0)
        answers++;
    if (m->kind_case != HANSA__CONSENSUS_MESSAGE__KIND_VOTE || m->vote == NULL ||
        strcmp(m->sender, cfg.node_id) == 0 ||
        wire_vote_decode(m->vote->vote.data, m->vote->vote.len, &v) != HANSA_OK)
        return;
    if (strcmp(v->validator, cfg.node_id) == 0) {
        uint8_t second[WIRE_HASH_BYTES];
        vote_hash(v->height, v->round, v->type, 1, second);
        relayed++;
        relayed_junk += v->round >= JUNK_ROUND_START;
        relayed_second += v->block_hash.len == WIRE_HASH_BYTES &&
                          memcmp(v->block_hash.data, second, WIRE_HASH_BYTES) == 0;
    }
    wire_free(v);
}

/* The height the node at url reports, 0 if it does not answer. */
static uint64_t height_of(const char *url)
{
    struct tc *t = NULL;
    Hansa__Response *r = NULL;
    uint64_t h = 0;
    if (tc_open(url, NULL, NULL, 1000, &t) == HANSA_OK && tc_status(t, &r) == HANSA_OK &&
        r->kind_case == HANSA__RESPONSE__KIND_STATUS)
        h = r->status->latest_height;
    wire_free(r);
    tc_close(t);
    return h;
}

int main(int argc, char **argv)
{
    if (argc != 5 || (strcmp(argv[4], "proposals") != 0 && strcmp(argv[4], "votes") != 0 &&
                      strcmp(argv[4], "catchup") != 0)) {
        fprintf(stderr, "usage: byz_validator HOME API_URL SECONDS proposals|votes|catchup\n");
        return 2;
    }
    const char *mode = argv[4];
    char why[512] = "", pub[65];
    if (wire_global_init() != HANSA_OK ||
        node_config_load(argv[1], &cfg, why, sizeof why) != HANSA_OK ||
        wire_keyfile_load(cfg.validator_key_path, &key, pub, sizeof pub, why, sizeof why) !=
            HANSA_OK)
        die(why[0] ? why : "cannot initialize");
    /* Validators are in id order (testnet names them node0, node1, ...):
     * the proposer of (h, r) is number (h + r) mod n. */
    n_validators = (uint32_t)cfg.n_peers + 1;
    self = (uint32_t)strtoul(cfg.node_id + strlen("node"), NULL, 10);
    struct peers *p = NULL;
    if (peers_open(&cfg, 64, &p, why, sizeof why) != HANSA_OK)
        die(why);
    /* Each new height is flooded at once, and again every second while it
     * lasts (its rounds go on); in between the height is polled. */
    uint64_t now = mono_ms(), until = now + strtoull(argv[3], NULL, 10) * 1000u;
    uint64_t flooded = 0, last = 0, last_ms = 0;
    while ((now = mono_ms()) < until) {
        uint64_t h = height_of(argv[2]) + 1;
        if (strcmp(mode, "catchup") == 0)
            flood_catch_up(p);
        else if (h != last || now - last_ms >= 1000) {
            if (strcmp(mode, "votes") == 0)
                flood_votes(p, h);
            else
                flood_proposals(p, h);
            flooded += h != last;
            last = h;
            last_ms = now;
        }
        /* What the others send it, for 20 ms at most. */
        uint64_t drain_until = mono_ms() + 20;
        for (uint64_t t; (t = mono_ms()) < drain_until;) {
            Hansa__ConsensusMessage *m = peers_next(p, (uint32_t)(drain_until - t));
            if (m == NULL)
                break;
            count_relay(m);
            wire_free(m);
        }
    }
    printf("relayed %" PRIu64 " votes: %" PRIu64 " of rounds %d or later, %" PRIu64
           " second votes of a round\n",
           relayed, relayed_junk, JUNK_ROUND_START, relayed_second);
    if (strcmp(mode, "catchup") == 0)
        printf("catch-up answers %" PRIu64 " to %" PRIu64 " requests to each peer\n", answers,
               requests);
    else
        printf("flooded %" PRIu64 " heights\n", flooded);
    fflush(stdout);
    _exit(0);
}
