/*
 * Decoding hostile bytes, for every typed decoder of wire.h.
 *
 * Everything a peer or a client sends goes through one of these decoders, so
 * each must, for any input: return an error or a valid message, never crash,
 * never leak (the sanitizer build runs these tests under AddressSanitizer and
 * LeakSanitizer), refuse input over its size limit before allocating, and
 * stop with HANSA_ETOOLARGE when protobuf-c would allocate far more than the
 * input (a few KiB of empty repeated sub-messages can cost tens of MiB).
 *
 * Random tests use a fixed-seed PRNG; the seed is printed on stderr (shown by
 * ctest --output-on-failure) and can be replaced with HANSA_TEST_SEED=<n>.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/wire.h"
#include "leakcheck.h"

static void init(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
}

TestSuite(codec, .init = init, .timeout = 60);

/* ---- the decoders under test ----------------------------------------------------------------- */

#define WRAP(fn, type)                                                                             \
    static hansa_err call_##fn(const uint8_t *buf, size_t len, ProtobufCMessage **out)             \
    {                                                                                              \
        type *m = (type *)(uintptr_t)0x1; /* must be overwritten */                                \
        hansa_err rv = fn(buf, len, &m);                                                           \
        *out = m != NULL ? &m->base : NULL;                                                        \
        return rv;                                                                                 \
    }

WRAP(wire_tx_decode, Hansa__Tx)
WRAP(wire_tx_body_decode, Hansa__TxBody)
WRAP(wire_block_decode, Hansa__Block)
WRAP(wire_block_header_decode, Hansa__BlockHeader)
WRAP(wire_vote_decode, Hansa__Vote)
WRAP(wire_proposal_decode, Hansa__Proposal)
WRAP(wire_query_decode, Hansa__Query)
WRAP(wire_request_decode, Hansa__Request)
WRAP(wire_response_decode, Hansa__Response)
WRAP(wire_consensus_decode, Hansa__ConsensusMessage)
WRAP(wire_event_decode, Hansa__Event)

struct decoder {
    const char *name;
    hansa_err (*decode)(const uint8_t *, size_t, ProtobufCMessage **);
    const ProtobufCMessageDescriptor *desc;
    size_t max_len;
    bool canonical;
    uint8_t *(*sample)(size_t *len); /* a valid encoded message, rich in fields */
};

/* ---- samples --------------------------------------------------------------------------------- */

static char chain_text[] = "hansa-vectors-1";
static char val_text[] = "VAL-BANK-A";
static char bank_text[] = "BANK-A";
static uint8_t hash_a[32] = {0xaa, 1, 2, 3}, hash_b[32] = {0xbb, 4, 5, 6};
static uint8_t sig64[64] = {0x5a, 0x5b, 0x5c};
static uint8_t key32[32] = {0x0c, 0x0d};

static uint8_t *encode(const ProtobufCMessage *m, size_t *len)
{
    uint8_t *out = NULL;
    cr_assert_eq(wire_encode(m, HANSA_PEER_MESSAGE_BYTES_MAX, &out, len), HANSA_OK);
    return out;
}

static uint8_t *sample_vote(size_t *len)
{
    Hansa__Vote v;
    hansa__vote__init(&v);
    v.type = HANSA__VOTE_TYPE__VOTE_TYPE_PRECOMMIT;
    v.height = 123456789;
    v.round = 3;
    v.block_hash.data = hash_a;
    v.block_hash.len = sizeof hash_a;
    v.validator = val_text;
    v.chain_id = chain_text;
    return encode(&v.base, len);
}

static uint8_t *sample_proposal(size_t *len)
{
    Hansa__Proposal p;
    hansa__proposal__init(&p);
    p.height = 77;
    p.round = 2;
    p.pol_round = -1;
    p.block_hash.data = hash_b;
    p.block_hash.len = sizeof hash_b;
    p.proposer = val_text;
    p.chain_id = chain_text;
    return encode(&p.base, len);
}

static uint8_t *sample_block_header(size_t *len)
{
    Hansa__BlockHeader h;
    hansa__block_header__init(&h);
    h.chain_id = chain_text;
    h.height = 1000;
    h.time_ms = 1700000000000u;
    h.prev_block_hash = (ProtobufCBinaryData){32, hash_a};
    h.tx_root = (ProtobufCBinaryData){32, hash_b};
    h.state_root = (ProtobufCBinaryData){32, hash_a};
    h.proposer = val_text;
    h.validators_hash = (ProtobufCBinaryData){32, hash_b};
    h.last_commit_hash = (ProtobufCBinaryData){32, hash_a};
    h.evidence_root = (ProtobufCBinaryData){32, hash_b};
    return encode(&h.base, len);
}

static uint8_t *sample_tx_body(size_t *len)
{
    Hansa__TxBody b;
    hansa__tx_body__init(&b);
    Hansa__OpenCreditLine o;
    hansa__open_credit_line__init(&o);
    static char line[] = "L-7", merchant[] = "MER-SZ-0001", cny[] = "CNY";
    o.line_id = line;
    o.borrower = merchant;
    o.currency = cny;
    o.limit_minor = 500000000;
    o.advance_rate_bps = 8000;
    o.expiry_ms = 1767225600000u;
    b.chain_id = chain_text;
    b.signer = bank_text;
    b.created_ms = 1735689600000u;
    b.nonce = (ProtobufCBinaryData){16, hash_a};
    b.action_case = HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE;
    b.open_credit_line = &o;
    return encode(&b.base, len);
}

static uint8_t *sample_tx(size_t *len)
{
    size_t body_len = 0;
    uint8_t *body = sample_tx_body(&body_len);
    Hansa__Tx t;
    hansa__tx__init(&t);
    t.body = (ProtobufCBinaryData){body_len, body};
    t.signer_key = (ProtobufCBinaryData){32, key32};
    t.signature = (ProtobufCBinaryData){64, sig64};
    uint8_t *out = encode(&t.base, len);
    free(body);
    return out;
}

/* A signed vote, wrapping sample_vote(). */
struct signed_vote_holder {
    Hansa__SignedVote sv;
    uint8_t *vote;
};

static void signed_vote(struct signed_vote_holder *h)
{
    size_t n = 0;
    h->vote = sample_vote(&n);
    hansa__signed_vote__init(&h->sv);
    h->sv.vote = (ProtobufCBinaryData){n, h->vote};
    h->sv.signature = (ProtobufCBinaryData){64, sig64};
}

/* A block with a header, two txs, a commit of two precommits and one piece
 * of evidence. The parts live in the holder. */
struct block_holder {
    Hansa__Block block;
    Hansa__Commit commit;
    Hansa__Evidence evidence;
    struct signed_vote_holder votes[2];
    Hansa__SignedVote *precommits[2];
    Hansa__Evidence *evidence_list[1];
    ProtobufCBinaryData txs[2];
    uint8_t *header;
    uint8_t *tx;
};

static void block_build(struct block_holder *h)
{
    memset(h, 0, sizeof *h);
    size_t header_len = 0, tx_len = 0;
    h->header = sample_block_header(&header_len);
    h->tx = sample_tx(&tx_len);
    signed_vote(&h->votes[0]);
    signed_vote(&h->votes[1]);
    h->precommits[0] = &h->votes[0].sv;
    h->precommits[1] = &h->votes[1].sv;
    hansa__commit__init(&h->commit);
    h->commit.height = 999;
    h->commit.round = 1;
    h->commit.block_hash = (ProtobufCBinaryData){32, hash_a};
    h->commit.n_precommits = 2;
    h->commit.precommits = h->precommits;
    hansa__evidence__init(&h->evidence);
    h->evidence.vote_a = &h->votes[0].sv;
    h->evidence.vote_b = &h->votes[1].sv;
    h->evidence_list[0] = &h->evidence;
    h->txs[0] = (ProtobufCBinaryData){tx_len, h->tx};
    h->txs[1] = (ProtobufCBinaryData){tx_len, h->tx};
    hansa__block__init(&h->block);
    h->block.header = (ProtobufCBinaryData){header_len, h->header};
    h->block.n_txs = 2;
    h->block.txs = h->txs;
    h->block.last_commit = &h->commit;
    h->block.n_evidence = 1;
    h->block.evidence = h->evidence_list;
}

static void block_free(struct block_holder *h)
{
    free(h->header);
    free(h->tx);
    free(h->votes[0].vote);
    free(h->votes[1].vote);
}

static uint8_t *sample_block(size_t *len)
{
    struct block_holder h;
    block_build(&h);
    uint8_t *out = encode(&h.block.base, len);
    block_free(&h);
    return out;
}

static uint8_t *sample_consensus(size_t *len)
{
    struct block_holder h;
    block_build(&h);
    size_t p_len = 0;
    uint8_t *p = sample_proposal(&p_len);
    Hansa__SignedProposal sp;
    hansa__signed_proposal__init(&sp);
    sp.proposal = (ProtobufCBinaryData){p_len, p};
    sp.signature = (ProtobufCBinaryData){64, sig64};
    Hansa__BlockProposal bp;
    hansa__block_proposal__init(&bp);
    bp.proposal = &sp;
    bp.block = &h.block;
    Hansa__ConsensusMessage cm;
    hansa__consensus_message__init(&cm);
    cm.chain_id = chain_text;
    cm.sender = val_text;
    cm.kind_case = HANSA__CONSENSUS_MESSAGE__KIND_PROPOSAL;
    cm.proposal = &bp;
    uint8_t *out = encode(&cm.base, len);
    free(p);
    block_free(&h);
    return out;
}

static uint8_t *sample_query(size_t *len)
{
    static char rule1[] = "DUP-PLEDGE", rule2[] = "ENGINE-LAG";
    char *rules[] = {rule1, rule2};
    Hansa__AlertKind kinds[] = {HANSA__ALERT_KIND__ALERT_KIND_NEW,
                                HANSA__ALERT_KIND__ALERT_KIND_RESOLVED};
    Hansa__Cursor after;
    hansa__cursor__init(&after);
    after.height = 10;
    after.ordinal = 2;
    Hansa__EntityRef subject;
    hansa__entity_ref__init(&subject);
    static char line[] = "LINE-1";
    subject.type = HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE;
    subject.owner = bank_text;
    subject.id = line;
    Hansa__GetAlerts ga;
    hansa__get_alerts__init(&ga);
    ga.after = &after;
    ga.limit = 100;
    ga.wait_ms = 5000;
    ga.n_rule_ids = 2;
    ga.rule_ids = rules;
    ga.min_severity = HANSA__SEVERITY__SEVERITY_HIGH;
    ga.party = bank_text;
    ga.subject = &subject;
    ga.n_kinds = 2;
    ga.kinds = kinds;
    Hansa__Query q;
    hansa__query__init(&q);
    q.chain_id = chain_text;
    q.reader = bank_text;
    q.created_ms = 1700000000000u;
    q.nonce = (ProtobufCBinaryData){8, hash_b};
    q.kind_case = HANSA__QUERY__KIND_ALERTS;
    q.alerts = &ga;
    return encode(&q.base, len);
}

static uint8_t *sample_request(size_t *len)
{
    size_t tx_len = 0;
    uint8_t *tx = sample_tx(&tx_len);
    Hansa__SubmitTx s;
    hansa__submit_tx__init(&s);
    s.tx = (ProtobufCBinaryData){tx_len, tx};
    Hansa__Request r;
    hansa__request__init(&r);
    r.request_id = 42;
    r.kind_case = HANSA__REQUEST__KIND_SUBMIT;
    r.submit = &s;
    uint8_t *out = encode(&r.base, len);
    free(tx);
    return out;
}

static uint8_t *sample_event(size_t *len)
{
    static char why[] = "amount above the available limit";
    Hansa__Receipt rc;
    hansa__receipt__init(&rc);
    rc.tx_id = (ProtobufCBinaryData){32, hash_a};
    rc.height = 9;
    rc.index = 3;
    rc.result = HANSA__RESULT_CODE__RESULT_LIMIT_EXCEEDED;
    rc.message = why;
    rc.block_time_ms = 1700000000000u;
    rc.block_hash = (ProtobufCBinaryData){32, hash_b};
    Hansa__Event e;
    hansa__event__init(&e);
    e.height = 9;
    e.block_hash = (ProtobufCBinaryData){32, hash_b};
    e.block_time_ms = 1700000000000u;
    e.kind_case = HANSA__EVENT__KIND_TX;
    e.tx = &rc;
    return encode(&e.base, len);
}

static uint8_t *sample_response(size_t *len)
{
    Hansa__Cursor c;
    hansa__cursor__init(&c);
    c.height = 9;
    c.ordinal = 1;
    Hansa__AlertParty party;
    hansa__alert_party__init(&party);
    party.role = HANSA__ROLE__ROLE_BANK;
    party.party_id = bank_text;
    Hansa__AlertParty *parties[] = {&party, &party};
    Hansa__AlertEvidence ev;
    hansa__alert_evidence__init(&ev);
    static char field[] = "payment.amount_paid_minor", expected[] = "<= 9000", observed[] = "9500";
    ev.field = field;
    ev.expected = expected;
    ev.observed = observed;
    ev.source_tx_id = (ProtobufCBinaryData){32, hash_a};
    Hansa__AlertEvidence *evs[] = {&ev};
    ProtobufCBinaryData tx_ids[] = {{32, hash_a}, {32, hash_b}};
    char *audience[] = {bank_text, val_text};
    static char rule[] = "DUP-PLEDGE", msg[] = "order pledged twice";
    Hansa__Alert a;
    hansa__alert__init(&a);
    a.cursor = &c;
    a.alert_id = (ProtobufCBinaryData){32, hash_a};
    a.incident_id = (ProtobufCBinaryData){32, hash_b};
    a.kind = HANSA__ALERT_KIND__ALERT_KIND_NEW;
    a.rule_id = rule;
    a.rule_rev = 2;
    a.severity = HANSA__SEVERITY__SEVERITY_CRITICAL;
    a.height = 9;
    a.block_hash = (ProtobufCBinaryData){32, hash_b};
    a.block_time_ms = 1700000000000u;
    a.n_tx_ids = 2;
    a.tx_ids = tx_ids;
    a.n_parties = 2;
    a.parties = parties;
    a.n_audience = 2;
    a.audience = audience;
    a.n_evidence = 1;
    a.evidence = evs;
    a.message = msg;
    Hansa__Alert *alerts[] = {&a};
    Hansa__AlertPage page;
    hansa__alert_page__init(&page);
    page.n_alerts = 1;
    page.alerts = alerts;
    page.next_cursor = &c;
    page.head_cursor = &c;
    page.processed_height = 12;
    Hansa__Response r;
    hansa__response__init(&r);
    r.request_id = 42;
    r.kind_case = HANSA__RESPONSE__KIND_ALERTS;
    r.alerts = &page;
    return encode(&r.base, len);
}

static const struct decoder decoders[] = {
    {"tx", call_wire_tx_decode, &hansa__tx__descriptor, HANSA_TX_BYTES_MAX, true, sample_tx},
    {"tx_body", call_wire_tx_body_decode, &hansa__tx_body__descriptor, HANSA_TX_BYTES_MAX, true,
     sample_tx_body},
    {"block", call_wire_block_decode, &hansa__block__descriptor, HANSA_BLOCK_BYTES_MAX, false,
     sample_block},
    {"block_header", call_wire_block_header_decode, &hansa__block_header__descriptor,
     HANSA_BLOCK_BYTES_MAX, true, sample_block_header},
    {"vote", call_wire_vote_decode, &hansa__vote__descriptor, HANSA_VOTE_BYTES_MAX, true,
     sample_vote},
    {"proposal", call_wire_proposal_decode, &hansa__proposal__descriptor, HANSA_VOTE_BYTES_MAX,
     true, sample_proposal},
    {"query", call_wire_query_decode, &hansa__query__descriptor, HANSA_QUERY_BYTES_MAX, true,
     sample_query},
    {"request", call_wire_request_decode, &hansa__request__descriptor, HANSA_REQUEST_BYTES_MAX,
     false, sample_request},
    {"response", call_wire_response_decode, &hansa__response__descriptor, HANSA_RESPONSE_BYTES_MAX,
     false, sample_response},
    {"consensus", call_wire_consensus_decode, &hansa__consensus_message__descriptor,
     HANSA_PEER_MESSAGE_BYTES_MAX, false, sample_consensus},
    {"event", call_wire_event_decode, &hansa__event__descriptor, HANSA_EVENT_BYTES_MAX, false,
     sample_event},
};
#define N_DECODERS (sizeof decoders / sizeof decoders[0])

/* ---- PRNG ------------------------------------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t test_seed(const char *test)
{
    uint64_t seed = UINT64_C(0x48414e5341574952); /* "HANSAWIR" */
    const char *env = getenv("HANSA_TEST_SEED");
    if (env != NULL && *env != '\0')
        seed = strtoull(env, NULL, 0);
    fprintf(stderr, "codec/%s: PRNG seed %" PRIu64 " (replay with HANSA_TEST_SEED=%" PRIu64 ")\n",
            test, seed, seed);
    return seed;
}

static uint64_t rng_next(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

static size_t rng_below(size_t n)
{
    return (size_t)(rng_next() % n);
}

/* ---- checks shared by the tests -------------------------------------------------------------- */

static const hansa_err decode_errors[] = {HANSA_EMALFORMED, HANSA_ENONCANONICAL, HANSA_ETOOLARGE};

/* Decode and check the outcome is either an error with no message, or a
 * message that passes protobuf-c's own check. Returns the result. */
static hansa_err decode_checked(const struct decoder *d, const uint8_t *buf, size_t len,
                                const char *what, size_t i)
{
    ProtobufCMessage *m = NULL;
    hansa_err rv = d->decode(buf, len, &m);
    if (rv == HANSA_OK) {
        cr_assert(m != NULL, "%s %s #%zu: OK without a message", d->name, what, i);
        cr_assert(protobuf_c_message_check(m), "%s %s #%zu: invalid message", d->name, what, i);
        cr_assert_eq(m->descriptor, d->desc);
        if (d->canonical) {
            /* Canonical decoders only hand out messages that re-encode to
             * exactly their input. */
            cr_assert_eq(protobuf_c_message_get_packed_size(m), len, "%s %s #%zu", d->name, what,
                         i);
        }
        wire_free(m);
    } else {
        cr_assert_null(m, "%s %s #%zu: error %s with a message", d->name, what, i,
                       hansa_errname(rv));
        bool known = false;
        for (size_t k = 0; k < sizeof decode_errors / sizeof decode_errors[0]; k++)
            known = known || rv == decode_errors[k];
        cr_assert(known, "%s %s #%zu: unexpected %s", d->name, what, i, hansa_errname(rv));
    }
    return rv;
}

/* ---- tests ----------------------------------------------------------------------------------- */

Test(codec, every_decoder_accepts_its_sample_and_the_sample_round_trips)
{
    for (size_t k = 0; k < N_DECODERS; k++) {
        const struct decoder *d = &decoders[k];
        size_t len = 0;
        uint8_t *buf = d->sample(&len);
        cr_assert_gt(len, 20, "%s: sample too small to be useful", d->name);
        ProtobufCMessage *m = NULL;
        cr_assert_eq(d->decode(buf, len, &m), HANSA_OK, "%s sample", d->name);
        uint8_t *again = NULL;
        size_t again_len = 0;
        cr_assert_eq(wire_encode(m, d->max_len, &again, &again_len), HANSA_OK);
        cr_assert_eq(again_len, len, "%s", d->name);
        cr_assert_arr_eq(again, buf, len, "%s", d->name);
        free(again);
        wire_free(m);
        free(buf);
    }
    EXPECT_NO_LEAKS();
}

Test(codec, every_truncation_of_a_valid_message_is_an_error_or_a_valid_message)
{
    for (size_t k = 0; k < N_DECODERS; k++) {
        const struct decoder *d = &decoders[k];
        size_t len = 0;
        uint8_t *full = d->sample(&len);
        size_t refused = 0;
        for (size_t n = 0; n < len; n++) {
            /* A fresh allocation of exactly n bytes, so that AddressSanitizer
             * sees any read past the end. */
            uint8_t *buf = malloc(n ? n : 1);
            cr_assert(buf != NULL);
            memcpy(buf, full, n);
            if (decode_checked(d, buf, n, "truncated to", n) != HANSA_OK)
                refused++;
            free(buf);
        }
        cr_assert_gt(refused, len / 2, "%s: only %zu of %zu truncations refused", d->name, refused,
                     len);
        free(full);
    }
    EXPECT_NO_LEAKS();
}

Test(codec, random_buffers_return_without_crashing_or_leaking)
{
    rng_state = test_seed("random_buffers");
    enum { ROUNDS = 2000, LEN_MAX = 1200 };
    uint8_t *buf = malloc(LEN_MAX);
    cr_assert(buf != NULL);
    for (size_t k = 0; k < N_DECODERS; k++) {
        const struct decoder *d = &decoders[k];
        for (size_t i = 0; i < ROUNDS; i++) {
            size_t n = rng_below(LEN_MAX + 1);
            for (size_t j = 0; j < n; j++)
                buf[j] = (uint8_t)rng_next();
            /* Copy into an exact-size block for AddressSanitizer. */
            uint8_t *exact = malloc(n ? n : 1);
            cr_assert(exact != NULL);
            memcpy(exact, buf, n);
            decode_checked(d, exact, n, "random buffer", i);
            free(exact);
        }
    }
    free(buf);
    EXPECT_NO_LEAKS();
}

Test(codec, mutated_samples_return_without_crashing_or_leaking)
{
    /* Random bytes rarely get past the first tag; mutations of a valid
     * message reach the inner messages. */
    rng_state = test_seed("mutated_samples");
    enum { ROUNDS = 2000 };
    for (size_t k = 0; k < N_DECODERS; k++) {
        const struct decoder *d = &decoders[k];
        size_t len = 0;
        uint8_t *sample = d->sample(&len);
        size_t accepted = 0;
        for (size_t i = 0; i < ROUNDS; i++) {
            uint8_t *buf = malloc(len);
            cr_assert(buf != NULL);
            memcpy(buf, sample, len);
            size_t edits = 1 + rng_below(4);
            for (size_t e = 0; e < edits; e++) {
                size_t at = rng_below(len);
                switch (rng_below(3)) {
                case 0:
                    buf[at] = (uint8_t)rng_next();
                    break;
                case 1:
                    buf[at] ^= (uint8_t)(1u << rng_below(8));
                    break;
                default:
                    buf[at] = (uint8_t)(rng_below(2) ? 0xff : 0x00);
                    break;
                }
            }
            size_t n = len - rng_below(4 < len ? 4 : len); /* sometimes shorter too */
            if (decode_checked(d, buf, n, "mutation", i) == HANSA_OK)
                accepted++;
            free(buf);
        }
        cr_assert_lt(accepted, (size_t)ROUNDS, "%s: every mutation decoded", d->name);
        free(sample);
    }
    EXPECT_NO_LEAKS();
}

Test(codec, input_one_byte_over_each_limit_is_etoolarge)
{
    size_t biggest = 0;
    for (size_t k = 0; k < N_DECODERS; k++)
        if (decoders[k].max_len > biggest)
            biggest = decoders[k].max_len;
    /* Zero bytes: the first tag (0) is invalid, so at the limit itself the
     * answer is MALFORMED, and only the size check can say TOOLARGE. */
    uint8_t *zeros = calloc(1, biggest + 1);
    cr_assert(zeros != NULL);
    for (size_t k = 0; k < N_DECODERS; k++) {
        const struct decoder *d = &decoders[k];
        ProtobufCMessage *m = NULL;
        cr_assert_eq(d->decode(zeros, d->max_len + 1, &m), HANSA_ETOOLARGE, "%s at max+1", d->name);
        cr_assert_null(m);
        cr_assert_eq(d->decode(zeros, d->max_len, &m), HANSA_EMALFORMED, "%s at max", d->name);
        cr_assert_null(m);
    }
    free(zeros);
}

Test(codec, limits_are_the_documented_ones)
{
    /* The limits are part of the protocol: a peer may send up to them. */
    cr_assert_eq(HANSA_TX_BYTES_MAX, 65536u);
    cr_assert_eq(HANSA_VOTE_BYTES_MAX, 1024u);
    cr_assert_eq(HANSA_BLOCK_BYTES_MAX, 16u * 1024u * 1024u);
    size_t vote_len = 0, proposal_len = 0;
    uint8_t *v = sample_vote(&vote_len), *p = sample_proposal(&proposal_len);
    cr_assert_lt(vote_len, 200u, "wire.h: a vote encodes in under 200 bytes");
    cr_assert_lt(proposal_len, 200u);
    free(v);
    free(p);
}

/* Repeat the two bytes pair n times after prefix (caller frees). */
static uint8_t *repeated(const uint8_t *prefix, size_t prefix_len, uint8_t b0, uint8_t b1, size_t n,
                         size_t *len)
{
    *len = prefix_len + 2 * n;
    uint8_t *buf = malloc(*len);
    cr_assert(buf != NULL);
    if (prefix_len > 0)
        memcpy(buf, prefix, prefix_len);
    for (size_t i = 0; i < n; i++) {
        buf[prefix_len + 2 * i] = b0;
        buf[prefix_len + 2 * i + 1] = b1;
    }
    return buf;
}

static size_t put_varint(uint8_t *out, size_t v)
{
    size_t k = 0;
    while (v >= 0x80) {
        out[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[k++] = (uint8_t)v;
    return k;
}

Test(codec, many_empty_evidence_entries_in_a_block_hit_the_heap_budget)
{
    /* Block.evidence = 4: "22 00" is one empty Evidence, 2 bytes of input
     * for a struct, a pointer and malloc overhead (about 24x). */
    size_t len = 0;
    uint8_t *buf = repeated(NULL, 0, 0x22, 0x00, 100000, &len);
    ProtobufCMessage *m = NULL;
    cr_assert_eq(call_wire_block_decode(buf, len, &m), HANSA_ETOOLARGE);
    cr_assert_null(m);
    /* Control: the same pattern, short, decodes (the refusal above is the
     * budget, not the pattern). */
    cr_assert_eq(call_wire_block_decode(buf, 2000, &m), HANSA_OK);
    cr_assert_eq(((Hansa__Block *)m)->n_evidence, 1000);
    wire_free(m);
    free(buf);
    EXPECT_NO_LEAKS();
}

Test(codec, many_empty_precommits_in_a_commit_hit_the_heap_budget)
{
    /* Block.last_commit = 3 { Commit.precommits = 4: "22 00" x n }. */
    enum { N = 100000 };
    uint8_t prefix[8] = {0x1a};
    size_t p = 1 + put_varint(prefix + 1, 2 * N);
    size_t len = 0;
    uint8_t *buf = repeated(prefix, p, 0x22, 0x00, N, &len);
    ProtobufCMessage *m = NULL;
    cr_assert_eq(call_wire_block_decode(buf, len, &m), HANSA_ETOOLARGE);
    cr_assert_null(m);
    free(buf);
    EXPECT_NO_LEAKS();
}

Test(codec, hostile_consensus_message_with_empty_evidence_hits_the_heap_budget)
{
    /* ConsensusMessage.proposal = 10 { BlockProposal.block = 2 {
     * Block.evidence = 4: "22 00" x n } } */
    enum { N = 100000 };
    uint8_t prefix[16];
    size_t p = 0;
    prefix[p++] = 0x52; /* field 10, length-delimited */
    p += put_varint(prefix + p, 1 + 3 + 2 * N);
    prefix[p++] = 0x12; /* field 2 */
    size_t inner = put_varint(prefix + p, 2 * N);
    cr_assert_eq(inner, 3);
    p += inner;
    size_t len = 0;
    uint8_t *buf = repeated(prefix, p, 0x22, 0x00, N, &len);
    ProtobufCMessage *m = NULL;
    cr_assert_eq(call_wire_consensus_decode(buf, len, &m), HANSA_ETOOLARGE);
    cr_assert_null(m);
    free(buf);
    EXPECT_NO_LEAKS();
}

Test(codec, hostile_response_with_empty_alerts_hits_the_heap_budget)
{
    /* Response.alerts = 31 { AlertPage.alerts = 1: "0a 00" x n }; an Alert is
     * a large struct. */
    enum { N = 100000 };
    uint8_t prefix[16];
    size_t p = 0;
    prefix[p++] = 0xfa; /* field 31, length-delimited: (31 << 3) | 2 = 250 */
    prefix[p++] = 0x01;
    p += put_varint(prefix + p, 2 * N);
    size_t len = 0;
    uint8_t *buf = repeated(prefix, p, 0x0a, 0x00, N, &len);
    ProtobufCMessage *m = NULL;
    cr_assert_eq(call_wire_response_decode(buf, len, &m), HANSA_ETOOLARGE);
    cr_assert_null(m);
    free(buf);
    EXPECT_NO_LEAKS();
}

Test(codec, hostile_tx_body_with_empty_order_items_hits_the_heap_budget)
{
    /* Within the 64 KiB transaction limit: TxBody.create_order = 20 {
     * CreateOrder.items = 10: "52 00" x n }. */
    enum { N = 32000 };
    uint8_t prefix[16];
    size_t p = 0;
    prefix[p++] = 0xa2; /* field 20: (20 << 3) | 2 = 162 = a2 01 */
    prefix[p++] = 0x01;
    p += put_varint(prefix + p, 2 * N);
    size_t len = 0;
    uint8_t *buf = repeated(prefix, p, 0x52, 0x00, N, &len);
    cr_assert_leq(len, HANSA_TX_BYTES_MAX);
    ProtobufCMessage *m = NULL;
    cr_assert_eq(call_wire_tx_body_decode(buf, len, &m), HANSA_ETOOLARGE);
    cr_assert_null(m);
    free(buf);
    EXPECT_NO_LEAKS();
}

Test(codec, encode_with_too_small_a_limit_is_etoolarge)
{
    size_t len = 0;
    uint8_t *sample = sample_block_header(&len);
    Hansa__BlockHeader *h = NULL;
    cr_assert_eq(wire_block_header_decode(sample, len, &h), HANSA_OK);
    uint8_t *out = (uint8_t *)sample; /* must be reset */
    size_t out_len = 99;
    cr_assert_eq(wire_encode(&h->base, len - 1, &out, &out_len), HANSA_ETOOLARGE);
    cr_assert_null(out);
    cr_assert_eq(out_len, 0);
    cr_assert_eq(wire_encode(&h->base, 0, &out, &out_len), HANSA_ETOOLARGE);
    cr_assert_eq(wire_encode(&h->base, len, &out, &out_len), HANSA_OK);
    cr_assert_eq(out_len, len);
    free(out);
    wire_free(h);
    free(sample);
}

Test(codec, empty_message_encodes_to_zero_bytes)
{
    Hansa__Vote v;
    hansa__vote__init(&v);
    uint8_t *out = NULL;
    size_t out_len = 99;
    cr_assert_eq(wire_encode(&v.base, 0, &out, &out_len), HANSA_OK);
    cr_assert_eq(out_len, 0);
    cr_assert_not_null(out, "a buffer is returned even for zero bytes");
    free(out);
}

Test(codec, canonical_decoders_refuse_what_the_lenient_decoder_accepts)
{
    /* A vote with its fields out of order: the same vote to a lenient
     * reader, a second encoding (hence a second signature payload) to a
     * canonical one. */
    size_t len = 0;
    uint8_t *vote = sample_vote(&len);
    /* The first field is type (08 02); move it to the end. */
    cr_assert_eq(vote[0], 0x08);
    uint8_t *moved = malloc(len);
    cr_assert(moved != NULL);
    memcpy(moved, vote + 2, len - 2);
    memcpy(moved + len - 2, vote, 2);
    ProtobufCMessage *m = NULL;
    cr_assert_eq(
        wire_decode(&hansa__vote__descriptor, moved, len, HANSA_VOTE_BYTES_MAX, WIRE_LENIENT, &m),
        HANSA_OK);
    wire_free(m);
    cr_assert_eq(
        wire_decode(&hansa__vote__descriptor, moved, len, HANSA_VOTE_BYTES_MAX, WIRE_CANONICAL, &m),
        HANSA_ENONCANONICAL);
    cr_assert_null(m);
    Hansa__Vote *v = NULL;
    cr_assert_eq(wire_vote_decode(moved, len, &v), HANSA_ENONCANONICAL);
    cr_assert_eq(wire_vote_decode(vote, len, &v), HANSA_OK);
    wire_free(v);
    free(moved);
    free(vote);
    EXPECT_NO_LEAKS();
}

Test(codec, canonical_decoders_refuse_unknown_fields_at_any_depth)
{
    /* Query.alerts (21) { GetAlerts.after (1) { Cursor + unknown field 9 } }:
     * protobuf-c re-emits the unknown field where it was, so only the walk
     * over nested messages can see it. */
    /* clang-format off */
    static const uint8_t q[] = {
        0x0a, 0x0f, 'h', 'a', 'n', 's', 'a', '-', 'v', 'e', 'c', 't', 'o', 'r', 's', '-', '1',
        0xaa, 0x01, 0x08,       /* field 21, 8 bytes: GetAlerts */
        0x0a, 0x06,             /* after: Cursor, 6 bytes */
        0x08, 0x0a, 0x10, 0x02, /* height 10, ordinal 2 */
        0x48, 0x01,             /* field 9 = 1: unknown to Cursor */
    };
    /* clang-format on */
    ProtobufCMessage *m = NULL;
    cr_assert_eq(wire_decode(&hansa__query__descriptor, q, sizeof q, HANSA_QUERY_BYTES_MAX,
                             WIRE_LENIENT, &m),
                 HANSA_OK);
    uint8_t *again = NULL;
    size_t again_len = 0;
    cr_assert_eq(wire_encode(m, HANSA_QUERY_BYTES_MAX, &again, &again_len), HANSA_OK);
    cr_assert_eq(again_len, sizeof q, "re-encoding alone would not notice");
    cr_assert_arr_eq(again, q, sizeof q);
    free(again);
    wire_free(m);
    Hansa__Query *query = NULL;
    cr_assert_eq(wire_query_decode(q, sizeof q, &query), HANSA_ENONCANONICAL);
    cr_assert_null(query);
    EXPECT_NO_LEAKS();
}

Test(codec, null_buffer_with_a_length_is_einval)
{
    ProtobufCMessage *m = (ProtobufCMessage *)(uintptr_t)0x1;
    cr_assert_eq(
        wire_decode(&hansa__vote__descriptor, NULL, 5, HANSA_VOTE_BYTES_MAX, WIRE_CANONICAL, &m),
        HANSA_EINVAL);
    cr_assert_null(m);
    wire_free(NULL);
}

Test(codec, zero_length_input_is_an_empty_message)
{
    static const uint8_t nothing[1];
    ProtobufCMessage *m = NULL;
    cr_assert_eq(
        wire_decode(&hansa__vote__descriptor, nothing, 0, HANSA_VOTE_BYTES_MAX, WIRE_CANONICAL, &m),
        HANSA_OK);
    cr_assert_not_null(m);
    cr_assert_eq(((Hansa__Vote *)m)->height, 0);
    wire_free(m);
}

/*
 * wire_decode accepts buf == NULL with len == 0 (an empty message); under
 * WIRE_CANONICAL the comparison with the re-encoding must not touch the NULL
 * buffer (memcmp(x, NULL, 0) is undefined behaviour; UBSan checks it here).
 */
Test(codec, null_buffer_of_zero_length_is_an_empty_message)
{
    ProtobufCMessage *m = NULL;
    cr_assert_eq(
        wire_decode(&hansa__vote__descriptor, NULL, 0, HANSA_VOTE_BYTES_MAX, WIRE_CANONICAL, &m),
        HANSA_OK);
    cr_assert_not_null(m);
    wire_free(m);
}

/* ---- one field without decoding: wire_field_bytes ----------------------------------------------
 */

Test(codec, field_bytes_finds_the_nth_occurrence_as_the_decoder_sees_it)
{
    size_t len = 0;
    uint8_t *buf = sample_block(&len);
    Hansa__Block *b = NULL;
    cr_assert_eq(wire_block_decode(buf, len, &b), HANSA_OK);
    cr_assert_geq(b->n_txs, 2);
    const uint8_t *p = NULL;
    size_t n = 0;
    cr_assert_eq(wire_field_bytes(buf, len, 1, 0, &p, &n), HANSA_OK);
    cr_assert(n == b->header.len && memcmp(p, b->header.data, n) == 0, "header");
    for (size_t i = 0; i < b->n_txs; i++) {
        cr_assert_eq(wire_field_bytes(buf, len, 2, i, &p, &n), HANSA_OK, "tx %zu", i);
        cr_assert(n == b->txs[i].len && memcmp(p, b->txs[i].data, n) == 0, "tx %zu", i);
    }
    cr_assert_eq(wire_field_bytes(buf, len, 2, b->n_txs, &p, &n), HANSA_ENOENT);
    cr_assert_eq(wire_field_bytes(buf, len, 9, 0, &p, &n), HANSA_ENOENT, "an absent field");
    wire_free(b);
    free(buf);

    /* A field that is there but not length-delimited. */
    static const uint8_t varint_field[] = {0x08, 0x96, 0x01};
    cr_assert_eq(wire_field_bytes(varint_field, sizeof varint_field, 1, 0, &p, &n),
                 HANSA_EMALFORMED);
    cr_assert_eq(wire_field_bytes(varint_field, sizeof varint_field, 2, 0, &p, &n), HANSA_ENOENT);
    cr_assert_eq(wire_field_bytes(NULL, 0, 1, 0, &p, &n), HANSA_ENOENT, "empty message");
}

Test(codec, field_bytes_on_truncated_and_random_input_stays_inside_it)
{
    size_t len = 0;
    uint8_t *buf = sample_block(&len);
    for (size_t cut = 0; cut < len; cut++) {
        uint8_t *part = malloc(cut ? cut : 1); /* exact size: ASan sees any overread */
        memcpy(part, buf, cut);
        for (uint32_t field = 1; field <= 4; field++) {
            const uint8_t *p = NULL;
            size_t n = 0;
            hansa_err rv = wire_field_bytes(part, cut, field, 0, &p, &n);
            cr_assert(rv == HANSA_OK || rv == HANSA_ENOENT || rv == HANSA_EMALFORMED);
            if (rv == HANSA_OK)
                cr_assert(p >= part && p + n <= part + cut, "view outside the input");
        }
        free(part);
    }
    free(buf);
    rng_state = test_seed("field_bytes_random");
    for (int i = 0; i < 20000; i++) {
        uint8_t rnd[64];
        size_t n_rnd = (size_t)(rng_next() % sizeof rnd);
        for (size_t k = 0; k < n_rnd; k++)
            rnd[k] = (uint8_t)rng_next();
        uint8_t *exact = malloc(n_rnd ? n_rnd : 1);
        memcpy(exact, rnd, n_rnd);
        const uint8_t *p = NULL;
        size_t n = 0;
        hansa_err rv =
            wire_field_bytes(exact, n_rnd, (uint32_t)(rng_next() % 5) + 1, rng_next() % 3, &p, &n);
        if (rv == HANSA_OK)
            cr_assert(p >= exact && p + n <= exact + n_rnd, "view outside the input");
        free(exact);
    }
}
