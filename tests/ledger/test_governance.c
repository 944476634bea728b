/*
 * Governance (DOMAIN.md "Who takes part"; hansa.proto "Governance actions"):
 * proposals by ADMIN parties, votes, the threshold, expiry and rejection,
 * and each kind of change taking effect exactly at the height after it
 * passed: added parties sign, removed ones cannot, revoked roles and
 * rotated-out keys stop working, parameters govern the effective block.
 *
 * The cast has three admins, ADMIN-1..ADMIN-3. The suite runs with the
 * threshold of hansa.proto's default, 6,666 bps, under which two of three
 * YES votes pass (2 × 10,000 ≥ 6,666 × 3).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "internal.h" /* ledger_governance_check */
#include "ledger_fixture.h"

#define OK           HANSA__RESULT_CODE__RESULT_OK
#define RC(x)        HANSA__RESULT_CODE__RESULT_##x
#define ST(x)        HANSA__GOVERNANCE_PROPOSAL_STATUS__GOVERNANCE_PROPOSAL_STATUS_##x
#define YES          HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES
#define NO           HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_NO
#define PID(x)       HANSA__PARAMETER_ID__PARAMETER_ID_##x
#define ROLE(x)      HANSA__ROLE__ROLE_##x
#define TWO_THIRDS   6666u
#define BLOCK_ORIGIN UINT32_MAX /* HistoryEntry.tx_index of changes made by the block */

static struct fx f;

static void init_with_threshold(uint32_t threshold_bps)
{
    Hansa__Parameters p;
    ledger_params_default(&p);
    p.governance_threshold_bps = threshold_bps;
    fx_init_params(&f, &p);
}

static void setup(void)
{
    init_with_threshold(TWO_THIRDS);
}

static void teardown(void)
{
    fx_close(&f);
}

TestSuite(governance, .init = setup, .fini = teardown, .timeout = 60);

/* ---- building changes ---- */

/* One proposed change with room for every kind; points into itself, so
 * build it in place and never copy it. */
struct gov_change {
    Hansa__ProposeGovernance pg;
    Hansa__AddParty add;
    Hansa__RemoveParty remove;
    Hansa__ChangeRoles roles;
    Hansa__RotateKey rotate;
    Hansa__ChangeParameter param;
    Hansa__Role role_buf[8];
    ProtobufCBinaryData keys[9];
    struct wire_keypair kps[9];
    char party[80];
};

static void change_init(struct gov_change *c, const char *party)
{
    memset(c, 0, sizeof *c);
    hansa__propose_governance__init(&c->pg);
    snprintf(c->party, sizeof c->party, "%s", party);
}

/* A new party whose key is fx_keypair(id). */
static void change_add_party(struct gov_change *c, const char *id, Hansa__Role role)
{
    change_init(c, id);
    hansa__add_party__init(&c->add);
    fx_keypair(id, &c->kps[0]);
    c->keys[0] = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, c->kps[0].public_key};
    c->role_buf[0] = role;
    c->add.party_id = c->party;
    c->add.display_name = "Hansa 贸易 GmbH";
    c->add.country = "DE";
    c->add.n_roles = 1;
    c->add.roles = c->role_buf;
    c->add.n_keys = 1;
    c->add.keys = c->keys;
    c->pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY;
    c->pg.add_party = &c->add;
}

static void change_remove(struct gov_change *c, const char *id)
{
    change_init(c, id);
    hansa__remove_party__init(&c->remove);
    c->remove.party_id = c->party;
    c->pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY;
    c->pg.remove_party = &c->remove;
}

static void change_roles(struct gov_change *c, const char *id, const Hansa__Role *roles, size_t n)
{
    change_init(c, id);
    hansa__change_roles__init(&c->roles);
    if (n > 0)
        memcpy(c->role_buf, roles, n * sizeof *roles);
    c->roles.party_id = c->party;
    c->roles.n_roles = n;
    c->roles.roles = c->role_buf;
    c->pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_ROLES;
    c->pg.change_roles = &c->roles;
}

/* Add the key of fx_keypair(add_from) and/or remove that of
 * fx_keypair(remove_from); NULL leaves that side empty. */
static void change_rotate(struct gov_change *c, const char *id, const char *add_from,
                          const char *remove_from)
{
    change_init(c, id);
    hansa__rotate_key__init(&c->rotate);
    c->rotate.party_id = c->party;
    if (add_from != NULL) {
        fx_keypair(add_from, &c->kps[0]);
        c->rotate.add_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, c->kps[0].public_key};
    }
    if (remove_from != NULL) {
        fx_keypair(remove_from, &c->kps[1]);
        c->rotate.remove_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, c->kps[1].public_key};
    }
    c->pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_ROTATE_KEY;
    c->pg.rotate_key = &c->rotate;
}

static void change_param(struct gov_change *c, Hansa__ParameterId id, int64_t value)
{
    change_init(c, "");
    hansa__change_parameter__init(&c->param);
    c->param.parameter = id;
    c->param.value = value;
    c->pg.change_case = HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_PARAMETER;
    c->pg.change_parameter = &c->param;
}

/* ---- submitting ---- */

static void propose_body(Hansa__TxBody *b, struct gov_change *c)
{
    fx_body(b, HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE, &c->pg);
}

static struct fx_result propose(const char *signer, struct gov_change *c)
{
    Hansa__TxBody b;
    propose_body(&b, c);
    return fx_submit(&f, signer, &b);
}

struct vote_doc {
    Hansa__VoteGovernance v;
    uint8_t id[WIRE_HASH_BYTES];
};

static void vote_body(Hansa__TxBody *b, struct vote_doc *d, const uint8_t id[WIRE_HASH_BYTES],
                      Hansa__GovernanceBallot ballot)
{
    hansa__vote_governance__init(&d->v);
    memcpy(d->id, id, WIRE_HASH_BYTES);
    d->v.proposal_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, d->id};
    d->v.ballot = ballot;
    fx_body(b, HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE, &d->v);
}

static struct fx_result vote(const char *signer, const uint8_t id[WIRE_HASH_BYTES],
                             Hansa__GovernanceBallot ballot)
{
    struct vote_doc d;
    Hansa__TxBody b;
    vote_body(&b, &d, id, ballot);
    return fx_submit(&f, signer, &b);
}

/* Evaluates r once: r is often the submission itself. */
#define EXPECT(r, want)                                                                            \
    do {                                                                                           \
        struct fx_result expect_r_ = (r);                                                          \
        cr_assert_eq(expect_r_.code, (want), "got %s: %s", ledger_result_name(expect_r_.code),     \
                     expect_r_.why);                                                               \
    } while (0)

/* ADMIN-1 proposes, ADMIN-2 votes YES: PASSED in the returned height. */
static uint64_t pass(struct gov_change *c, uint8_t id[WIRE_HASH_BYTES])
{
    struct fx_result r = propose("ADMIN-1", c);
    EXPECT(r, OK);
    memcpy(id, r.tx_id, WIRE_HASH_BYTES);
    r = vote("ADMIN-2", id, YES);
    EXPECT(r, OK);
    return f.height;
}

/* Sign b as signer with kp (not necessarily the party's fixture key). */
static void sign_with(const char *signer, const struct wire_keypair *kp, Hansa__TxBody *b,
                      struct wire_tx *tx, uint8_t **bytes)
{
    uint8_t nonce[8];
    uint64_t n = ++f.nonce;
    memcpy(nonce, &n, sizeof nonce);
    b->chain_id = FX_CHAIN_ID;
    b->signer = (char *)signer;
    b->created_ms = f.time_ms;
    b->nonce = (ProtobufCBinaryData){sizeof nonce, nonce};
    size_t len = 0;
    cr_assert_eq(wire_tx_build(b, kp, bytes, &len, NULL), HANSA_OK);
    b->nonce = (ProtobufCBinaryData){0, NULL};
    cr_assert_eq(wire_tx_open(tx, *bytes, len, FX_CHAIN_ID), HANSA_OK);
    cr_assert_eq(wire_tx_verify(tx), HANSA_OK);
}

/* Execute txs as the next block, bypassing admission. */
static void run_block(const struct wire_tx *txs, size_t n)
{
    struct ledger_block blk = {.chain_id = FX_CHAIN_ID,
                               .height = f.height + 1,
                               .time_ms = f.time_ms,
                               .txs = txs,
                               .n_txs = n};
    memcpy(blk.prev_state_root, f.root, WIRE_HASH_BYTES);
    ledger_output_free(&f.last);
    cr_assert_eq(ledger_execute(&f.view, &blk, &f.last), HANSA_OK);
    memstate_apply(f.ms, &f.last);
    memcpy(f.root, f.last.state_root, WIRE_HASH_BYTES);
    f.height++;
    f.time_ms += FX_BLOCK_MS;
}

/* Like fx_submit, but signed with kp; admission is skipped when !admit. */
static struct fx_result submit_with_key(const char *signer, const struct wire_keypair *kp,
                                        Hansa__TxBody *b, bool admit)
{
    struct fx_result r;
    memset(&r, 0, sizeof r);
    struct wire_tx tx;
    memset(&tx, 0, sizeof tx);
    uint8_t *bytes = NULL;
    sign_with(signer, kp, b, &tx, &bytes);
    memcpy(r.tx_id, tx.id, WIRE_HASH_BYTES);
    r.code = OK;
    if (admit) {
        r.code = ledger_admit_signer(&f.view, &tx, r.why, sizeof r.why);
        if (r.code == OK)
            r.code = ledger_admit(&f.view, &tx, f.time_ms, r.why, sizeof r.why);
    }
    if (r.code == OK) {
        r.admitted = true;
        run_block(&tx, 1);
        r.code = f.last.results[0]->result;
        snprintf(r.why, sizeof r.why, "%s", f.last.results[0]->message);
    }
    wire_tx_close(&tx);
    free(bytes);
    return r;
}

/* ---- reading state ---- */

static void proposal_key(char *buf, size_t len, const uint8_t id[WIRE_HASH_BYTES])
{
    char hex[2 * WIRE_HASH_BYTES + 1];
    wire_hex_encode(id, WIRE_HASH_BYTES, hex);
    snprintf(buf, len, "proposal/%s", hex);
}

static Hansa__GovernanceProposal *get_proposal(const uint8_t id[WIRE_HASH_BYTES])
{
    char key[128];
    proposal_key(key, sizeof key, id);
    return fx_get(&f, &hansa__governance_proposal__descriptor, key);
}

static Hansa__GovernanceProposalStatus proposal_status(const uint8_t id[WIRE_HASH_BYTES])
{
    Hansa__GovernanceProposal *p = get_proposal(id);
    cr_assert_not_null(p);
    Hansa__GovernanceProposalStatus s = p->status;
    wire_free(p);
    return s;
}

static Hansa__Party *get_party(const char *id)
{
    char key[128];
    snprintf(key, sizeof key, "party/%s", id);
    return fx_get(&f, &hansa__party__descriptor, key);
}

static Hansa__Parameters *get_params(void)
{
    return fx_get(&f, &hansa__parameters__descriptor, "params");
}

static bool has_key(const char *key)
{
    uint8_t *val = NULL;
    size_t len = 0;
    hansa_err rv = f.view.get(f.view.ctx, (const uint8_t *)key, strlen(key), &val, &len);
    free(val);
    return rv == HANSA_OK;
}

static bool due_timer_exists(const uint8_t id[WIRE_HASH_BYTES], uint64_t expires_ms)
{
    char pkey[128], key[256];
    proposal_key(pkey, sizeof pkey, id);
    snprintf(key, sizeof key, "due/%016llx/proposal/%s", (unsigned long long)expires_ms, pkey);
    return has_key(key);
}

/* The single history entry of the last block under prefix; caller frees. */
static Hansa__HistoryEntry *last_history_one(const char *prefix)
{
    Hansa__HistoryEntry **h = NULL;
    size_t n = fx_last_history(&f, prefix, &h);
    cr_assert_eq(n, 1, "expected one history entry under %s, got %zu", prefix, n);
    Hansa__HistoryEntry *e = h[0];
    free(h);
    return e;
}

static Hansa__HistoryEntry *proposal_history(const uint8_t id[WIRE_HASH_BYTES])
{
    char hex[2 * WIRE_HASH_BYTES + 1], prefix[128];
    wire_hex_encode(id, WIRE_HASH_BYTES, hex);
    snprintf(prefix, sizeof prefix, "proposal/%s/", hex);
    return last_history_one(prefix);
}

/* ---- proposing and passing ---- */

Test(governance, proposal_is_open_with_the_proposers_yes_and_an_expiry)
{
    struct gov_change c;
    change_add_party(&c, "ADMIN-4", ROLE(ADMIN));
    uint64_t created_ms = f.time_ms;
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);

    Hansa__GovernanceProposal *p = get_proposal(r.tx_id);
    cr_assert_not_null(p);
    cr_assert_eq(p->status, ST(OPEN));
    cr_assert_eq(memcmp(p->proposal_id.data, r.tx_id, WIRE_HASH_BYTES), 0);
    cr_assert_str_eq(p->proposer, "ADMIN-1");
    cr_assert_eq(p->change->change_case, HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY);
    cr_assert_str_eq(p->change->add_party->party_id, "ADMIN-4");
    cr_assert_eq(p->n_votes, 1);
    cr_assert_str_eq(p->votes[0]->voter, "ADMIN-1");
    cr_assert_eq(p->votes[0]->ballot, YES);
    cr_assert_eq(p->votes[0]->height, f.height);
    cr_assert_eq(memcmp(p->votes[0]->tx_id.data, r.tx_id, WIRE_HASH_BYTES), 0);
    cr_assert_eq(p->created_height, f.height);
    cr_assert_eq(p->created_ms, created_ms);
    cr_assert_eq(p->expires_ms, created_ms + f.params.governance_proposal_ttl_ms);
    cr_assert_eq(p->decided_height, 0);
    cr_assert_eq(p->effective_height, 0);
    cr_assert(due_timer_exists(r.tx_id, p->expires_ms));
    wire_free(p);

    Hansa__HistoryEntry *h = proposal_history(r.tx_id);
    cr_assert_eq(h->after->kind_case, HANSA__RECORD__KIND_PROPOSAL);
    cr_assert_eq(h->after->proposal->status, ST(OPEN));
    cr_assert_eq(memcmp(h->tx_id.data, r.tx_id, WIRE_HASH_BYTES), 0);
    wire_free(h);
}

Test(governance, proposal_is_indexed_for_every_active_admin_only)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-2", &c);
    EXPECT(r, OK);
    char pkey[128], key[256];
    proposal_key(pkey, sizeof pkey, r.tx_id);
    const char *admins[] = {"ADMIN-1", "ADMIN-2", "ADMIN-3"};
    for (size_t i = 0; i < 3; i++) {
        snprintf(key, sizeof key, "ix/%s/proposal/%s", admins[i], pkey);
        cr_assert(has_key(key), "missing %s", key);
    }
    snprintf(key, sizeof key, "ix/BANK-B/proposal/%s", pkey);
    cr_assert_not(has_key(key));
    snprintf(key, sizeof key, "ix/CUS-0001/proposal/%s", pkey);
    cr_assert_not(has_key(key));
}

Test(governance, passes_with_two_of_three_and_takes_effect_exactly_at_the_next_height)
{
    struct gov_change c;
    change_add_party(&c, "ADMIN-4", ROLE(ADMIN));
    uint8_t id[WIRE_HASH_BYTES];
    uint64_t h = pass(&c, id);

    Hansa__GovernanceProposal *p = get_proposal(id);
    cr_assert_eq(p->status, ST(PASSED));
    cr_assert_eq(p->n_votes, 2);
    cr_assert_str_eq(p->votes[1]->voter, "ADMIN-2");
    cr_assert_eq(p->votes[1]->height, h);
    cr_assert_eq(p->decided_height, h);
    cr_assert_eq(p->effective_height, h + 1);
    cr_assert_not(due_timer_exists(id, p->expires_ms), "a decided proposal has no expiry timer");
    wire_free(p);
    Hansa__HistoryEntry *e = proposal_history(id);
    cr_assert_eq(e->after->proposal->status, ST(PASSED));
    wire_free(e);
    cr_assert_null(get_party("ADMIN-4"), "not before the effective height");

    fx_empty_block(&f); /* height h + 1 */
    Hansa__Party *np = get_party("ADMIN-4");
    cr_assert_not_null(np);
    cr_assert_eq(np->status, HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE);
    cr_assert_str_eq(np->display_name, "Hansa 贸易 GmbH");
    cr_assert_str_eq(np->country, "DE");
    cr_assert_eq(np->n_roles, 1);
    cr_assert_eq(np->roles[0], ROLE(ADMIN));
    cr_assert_eq(np->n_keys, 1);
    cr_assert_eq(np->added_height, h + 1);
    cr_assert_eq(np->updated_height, 0);
    wire_free(np);
    cr_assert_eq(proposal_status(id), ST(PASSED), "applied proposals stay PASSED");

    Hansa__HistoryEntry *ph = last_history_one("party/ADMIN-4/");
    cr_assert_eq(ph->after->kind_case, HANSA__RECORD__KIND_PARTY);
    cr_assert_str_eq(ph->after->party->id, "ADMIN-4");
    cr_assert_eq(ph->height, h + 1);
    cr_assert_eq(ph->tx_index, BLOCK_ORIGIN);
    cr_assert_eq(ph->tx_id.len, 0);
    wire_free(ph);
}

Test(governance, one_yes_of_three_leaves_the_proposal_open)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    fx_empty_block(&f);
    fx_empty_block(&f);
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));
    Hansa__Party *p = get_party("BANK-B");
    cr_assert_eq(p->status, HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE);
    wire_free(p);
}

Test(governance, threshold_is_yes_times_10000_at_least_threshold_times_admins)
{
    /* 6,667 × 3 = 20,001 > 2 × 10,000: two of three no longer pass. */
    fx_close(&f);
    init_with_threshold(6667);
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    EXPECT(vote("ADMIN-2", r.tx_id, YES), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));
    EXPECT(vote("ADMIN-3", r.tx_id, YES), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(PASSED));
}

Test(governance, party_added_by_governance_signs_from_the_effective_height)
{
    struct gov_change c, probe;
    change_add_party(&c, "ADMIN-4", ROLE(ADMIN));
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);

    /* Committed state does not know ADMIN-4 yet: refused at admission. */
    change_remove(&probe, "BANK-B");
    struct fx_result r = propose("ADMIN-4", &probe);
    cr_assert_not(r.admitted);
    EXPECT(r, RC(UNKNOWN_SIGNER));

    /* Executed in the effective block itself, it is accepted. */
    struct wire_keypair kp;
    fx_keypair("ADMIN-4", &kp);
    Hansa__TxBody b;
    propose_body(&b, &probe);
    r = submit_with_key("ADMIN-4", &kp, &b, false);
    EXPECT(r, OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));

    /* And from then on through admission as any party; it votes too. */
    change_remove(&probe, "BANK-A");
    r = propose("ADMIN-1", &probe);
    EXPECT(r, OK);
    struct fx_result v = vote("ADMIN-4", r.tx_id, NO);
    cr_assert(v.admitted);
    EXPECT(v, OK);
}

Test(governance, removed_party_is_rejected_once_effective_and_refused_after)
{
    struct gov_change c, probe;
    change_remove(&c, "ADMIN-3");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    uint8_t id[WIRE_HASH_BYTES];
    memcpy(id, r.tx_id, WIRE_HASH_BYTES);

    /* The deciding vote and a tx of ADMIN-3 in the same block: not yet removed. */
    struct vote_doc d;
    Hansa__TxBody vb, pb;
    vote_body(&vb, &d, id, YES);
    change_remove(&probe, "BANK-B");
    propose_body(&pb, &probe);
    const char *signers[2] = {"ADMIN-2", "ADMIN-3"};
    Hansa__TxBody *bodies[2] = {&vb, &pb};
    struct fx_result rs[2];
    fx_block(&f, signers, bodies, 2, rs);
    EXPECT(rs[0], OK);
    EXPECT(rs[1], OK);
    cr_assert_eq(proposal_status(id), ST(PASSED));
    uint64_t h = f.height;

    /* Admitted against the state of height h, executed at h + 1. */
    change_remove(&probe, "BANK-A");
    r = propose("ADMIN-3", &probe);
    cr_assert(r.admitted);
    EXPECT(r, RC(NOT_AUTHORIZED));
    Hansa__HistoryEntry *e = last_history_one("party/ADMIN-3/");
    cr_assert_eq(e->after->party->status, HANSA__PARTY_STATUS__PARTY_STATUS_REMOVED);
    wire_free(e);

    /* From then on refused at admission. */
    r = propose("ADMIN-3", &probe);
    cr_assert_not(r.admitted);
    EXPECT(r, RC(UNKNOWN_SIGNER));

    Hansa__Party *p = get_party("ADMIN-3");
    cr_assert_eq(p->status, HANSA__PARTY_STATUS__PARTY_STATUS_REMOVED);
    cr_assert_eq(p->n_roles, 1, "its record stays as it was");
    cr_assert_eq(p->n_keys, 1);
    cr_assert_eq(p->updated_height, h + 1);
    wire_free(p);
}

Test(governance, removed_or_unknown_party_cannot_be_changed_again)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    fx_empty_block(&f);

    static const Hansa__Role regulator[] = {ROLE(REGULATOR)};
    struct {
        const char *name;
        int kind;
        const char *party;
        Hansa__ResultCode code;
    } cases[] = {
        {"remove again", 0, "BANK-B", RC(NOT_FOUND)},
        {"remove unknown", 0, "BANK-Z", RC(NOT_FOUND)},
        {"roles of removed", 1, "BANK-B", RC(NOT_FOUND)},
        {"roles of unknown", 1, "BANK-Z", RC(NOT_FOUND)},
        {"key of removed", 2, "BANK-B", RC(NOT_FOUND)},
        {"key of unknown", 2, "BANK-Z", RC(NOT_FOUND)},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (cases[i].kind == 0)
            change_remove(&c, cases[i].party);
        else if (cases[i].kind == 1)
            change_roles(&c, cases[i].party, regulator, 1);
        else
            change_rotate(&c, cases[i].party, "FRESH-KEY", NULL);
        struct fx_result r = propose("ADMIN-1", &c);
        cr_assert(r.admitted, "%s", cases[i].name);
        cr_assert_eq(r.code, cases[i].code, "%s: %s: %s", cases[i].name, ledger_result_name(r.code),
                     r.why);
        cr_assert(strstr(r.why, cases[i].party) != NULL, "%s: %s", cases[i].name, r.why);
    }
}

Test(governance, role_change_revokes_the_role_from_the_effective_height)
{
    static const Hansa__Role regulator[] = {ROLE(REGULATOR)};
    struct gov_change c, probe;
    change_roles(&c, "ADMIN-3", regulator, 1);
    uint8_t id[WIRE_HASH_BYTES];
    uint64_t h = pass(&c, id);

    /* Admitted as ADMIN, executed after the change: the role is gone. */
    change_remove(&probe, "BANK-B");
    struct fx_result r = propose("ADMIN-3", &probe);
    cr_assert(r.admitted);
    EXPECT(r, RC(NOT_AUTHORIZED));
    cr_assert(strstr(r.why, "ADMIN") != NULL, "%s", r.why);

    r = vote("ADMIN-3", id, YES);
    cr_assert_not(r.admitted);
    EXPECT(r, RC(NOT_AUTHORIZED));

    Hansa__Party *p = get_party("ADMIN-3");
    cr_assert_eq(p->status, HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE);
    cr_assert_eq(p->n_roles, 1);
    cr_assert_eq(p->roles[0], ROLE(REGULATOR));
    cr_assert_eq(p->updated_height, h + 1);
    wire_free(p);
}

Test(governance, role_change_can_grant_several_roles)
{
    static const Hansa__Role roles[] = {ROLE(BANK), ROLE(REGULATOR), ROLE(ADMIN)};
    struct gov_change c, probe;
    change_roles(&c, "BANK-A", roles, 3);
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    fx_empty_block(&f);
    change_remove(&probe, "BANK-B");
    EXPECT(propose("BANK-A", &probe), OK);
}

Test(governance, key_rotation_makes_the_old_key_unknown_and_the_new_one_sign)
{
    struct gov_change c, probe;
    change_rotate(&c, "ADMIN-3", "ADMIN-3-NEW-KEY", "ADMIN-3");
    uint8_t id[WIRE_HASH_BYTES];
    uint64_t h = pass(&c, id);

    /* Admitted with the old key, executed after the rotation. */
    change_remove(&probe, "BANK-B");
    struct fx_result r = propose("ADMIN-3", &probe);
    cr_assert(r.admitted);
    EXPECT(r, RC(NOT_AUTHORIZED));

    r = propose("ADMIN-3", &probe);
    cr_assert_not(r.admitted);
    EXPECT(r, RC(UNKNOWN_SIGNER));

    struct wire_keypair kp;
    fx_keypair("ADMIN-3-NEW-KEY", &kp);
    Hansa__TxBody b;
    propose_body(&b, &probe);
    r = submit_with_key("ADMIN-3", &kp, &b, true);
    cr_assert(r.admitted, "%s", r.why);
    EXPECT(r, OK);

    Hansa__Party *p = get_party("ADMIN-3");
    cr_assert_eq(p->n_keys, 1);
    cr_assert_eq(memcmp(p->keys[0].data, kp.public_key, WIRE_PUBKEY_BYTES), 0);
    cr_assert_eq(p->updated_height, h + 1);
    wire_free(p);
}

Test(governance, adding_a_key_keeps_the_old_one)
{
    struct gov_change c, probe;
    change_rotate(&c, "ADMIN-3", "ADMIN-3-SECOND", NULL);
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    fx_empty_block(&f);

    change_remove(&probe, "BANK-B");
    EXPECT(propose("ADMIN-3", &probe), OK);
    struct wire_keypair kp;
    fx_keypair("ADMIN-3-SECOND", &kp);
    Hansa__TxBody b;
    change_remove(&probe, "BANK-A");
    propose_body(&b, &probe);
    EXPECT(submit_with_key("ADMIN-3", &kp, &b, true), OK);
    Hansa__Party *p = get_party("ADMIN-3");
    cr_assert_eq(p->n_keys, 2);
    wire_free(p);
}

Test(governance, key_changes_that_cannot_apply_are_refused_in_check_order)
{
    struct {
        const char *name, *party, *add_from, *remove_from;
        Hansa__ResultCode code;
        const char *why;
    } cases[] = {
        {"add a key of another party", "ADMIN-3", "BANK-A", NULL, RC(DUPLICATE_ID),
         "already registered to BANK-A"},
        {"add its own key", "ADMIN-3", "ADMIN-3", NULL, RC(DUPLICATE_ID),
         "already registered to ADMIN-3"},
        {"remove a key it does not hold", "ADMIN-3", NULL, "ADMIN-2", RC(NOT_FOUND),
         "not registered to ADMIN-3"},
        {"duplicate add is checked before the removed key", "ADMIN-3", "BANK-A", "ADMIN-2",
         RC(DUPLICATE_ID), "BANK-A"},
        {"remove its only key", "ADMIN-3", NULL, "ADMIN-3", RC(INVALID_TRANSITION),
         "would have 0 keys"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gov_change c;
        change_rotate(&c, cases[i].party, cases[i].add_from, cases[i].remove_from);
        struct fx_result r = propose("ADMIN-1", &c);
        cr_assert(r.admitted, "%s: %s", cases[i].name, r.why);
        cr_assert_eq(r.code, cases[i].code, "%s: %s: %s", cases[i].name, ledger_result_name(r.code),
                     r.why);
        cr_assert(strstr(r.why, cases[i].why) != NULL, "%s: %s", cases[i].name, r.why);
    }
}

Test(governance, a_party_keeps_at_most_eight_keys)
{
    struct gov_change c;
    change_add_party(&c, "MULTI-KEY", ROLE(MERCHANT));
    for (size_t i = 0; i < 8; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "MULTI-KEY-%zu", i);
        fx_keypair(seed, &c.kps[i]);
        c.keys[i] = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, c.kps[i].public_key};
    }
    c.add.n_keys = 8;
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    fx_empty_block(&f);
    change_rotate(&c, "MULTI-KEY", "MULTI-KEY-9", NULL);
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, RC(INVALID_TRANSITION));
    cr_assert(strstr(r.why, "would have 9 keys") != NULL, "%s", r.why);
    /* Rotation (add one, remove one) keeps eight. */
    change_rotate(&c, "MULTI-KEY", "MULTI-KEY-9", "MULTI-KEY-0");
    EXPECT(propose("ADMIN-1", &c), OK);
}

Test(governance, adding_a_registered_party_or_key_is_a_duplicate)
{
    struct gov_change c;
    change_add_party(&c, "BANK-A", ROLE(BANK));
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, RC(DUPLICATE_ID));
    cr_assert(strstr(r.why, "BANK-A is already registered") != NULL, "%s", r.why);

    change_add_party(&c, "BANK-C", ROLE(BANK));
    fx_keypair("BANK-B", &c.kps[0]); /* BANK-B's key under a new id */
    r = propose("ADMIN-1", &c);
    EXPECT(r, RC(DUPLICATE_ID));
    cr_assert(strstr(r.why, "already registered to BANK-B") != NULL, "%s", r.why);
}

Test(governance, removed_party_id_is_never_reused)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    fx_empty_block(&f);
    change_add_party(&c, "BANK-B", ROLE(BANK));
    fx_keypair("BANK-B-AGAIN", &c.kps[0]);
    EXPECT(propose("ADMIN-1", &c), RC(DUPLICATE_ID));
    /* Nor are its keys. */
    change_add_party(&c, "BANK-C", ROLE(BANK));
    fx_keypair("BANK-B", &c.kps[0]);
    EXPECT(propose("ADMIN-1", &c), RC(DUPLICATE_ID));
}

Test(governance, change_that_no_longer_applies_leaves_the_proposal_failed)
{
    /* Two proposals to add the same party both pass in one block. */
    struct gov_change c1, c2;
    change_add_party(&c1, "LOG-0003", ROLE(LOGISTICS));
    change_add_party(&c2, "LOG-0003", ROLE(LOGISTICS));
    struct fx_result r1 = propose("ADMIN-1", &c1);
    EXPECT(r1, OK);
    struct fx_result r2 = propose("ADMIN-1", &c2);
    EXPECT(r2, OK);
    struct vote_doc d1, d2;
    Hansa__TxBody b1, b2;
    vote_body(&b1, &d1, r1.tx_id, YES);
    vote_body(&b2, &d2, r2.tx_id, YES);
    const char *signers[2] = {"ADMIN-2", "ADMIN-3"};
    Hansa__TxBody *bodies[2] = {&b1, &b2};
    struct fx_result rs[2];
    fx_block(&f, signers, bodies, 2, rs);
    EXPECT(rs[0], OK);
    EXPECT(rs[1], OK);
    uint64_t h = f.height;

    fx_empty_block(&f);
    cr_assert_eq(proposal_status(r1.tx_id), ST(PASSED), "the first to pass applies");
    Hansa__GovernanceProposal *p = get_proposal(r2.tx_id);
    cr_assert_eq(p->status, ST(FAILED));
    cr_assert_eq(p->failure, RC(DUPLICATE_ID));
    cr_assert_eq(p->decided_height, h);
    cr_assert_eq(p->effective_height, h + 1);
    wire_free(p);
    Hansa__HistoryEntry *e = proposal_history(r2.tx_id);
    cr_assert_eq(e->after->proposal->status, ST(FAILED));
    cr_assert_eq(e->tx_index, BLOCK_ORIGIN);
    wire_free(e);
    Hansa__Party *party = get_party("LOG-0003");
    cr_assert_not_null(party);
    cr_assert_eq(party->added_height, h + 1);
    wire_free(party);
}

/* ---- parameters ---- */

Test(governance, parameter_change_writes_the_parameter_at_the_effective_height)
{
    struct gov_change c;
    change_param(&c, PID(MAX_ORDER_LINES), 3);
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    Hansa__Parameters *p = get_params();
    cr_assert_eq(p->max_order_lines, HANSA_ORDER_LINES_MAX, "not before the effective height");
    wire_free(p);
    fx_empty_block(&f);
    p = get_params();
    cr_assert_eq(p->max_order_lines, 3);
    cr_assert_eq(p->max_financing_orders, HANSA_FINANCING_ORDERS_MAX, "nothing else changes");
    wire_free(p);
}

Test(governance, parameter_change_governs_the_transactions_of_its_effective_block)
{
    /* P is open with the proposer's YES; a second YES would pass it at 6,666. */
    struct gov_change c, unanimity;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    change_param(&unanimity, PID(GOVERNANCE_THRESHOLD_BPS), 10000);
    uint8_t id[WIRE_HASH_BYTES];
    pass(&unanimity, id);
    /* This vote executes in the effective block, under 10,000 bps. */
    EXPECT(vote("ADMIN-2", r.tx_id, YES), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));
    EXPECT(vote("ADMIN-3", r.tx_id, YES), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(PASSED));
}

Test(governance, replay_window_change_is_enforced_at_admission_from_the_effective_height)
{
    struct gov_change c, probe;
    change_param(&c, PID(TX_REPLAY_WINDOW_MS), 5000);
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    change_remove(&probe, "BANK-B");
    Hansa__TxBody b;
    propose_body(&b, &probe);
    b.created_ms = f.time_ms - 6000; /* inside 10 min, outside 5 s */
    EXPECT(fx_submit(&f, "ADMIN-1", &b), OK);
    propose_body(&b, &probe);
    b.created_ms = f.time_ms - 6000;
    struct fx_result r = fx_submit(&f, "ADMIN-1", &b);
    EXPECT(r, RC(OUTSIDE_WINDOW));
}

Test(governance, every_parameter_can_be_changed)
{
    static const struct {
        Hansa__ParameterId id;
        int64_t value;
    } changes[] = {
        {PID(GOVERNANCE_THRESHOLD_BPS), 7500},
        {PID(GOVERNANCE_PROPOSAL_TTL_MS), 86400000},
        {PID(TX_REPLAY_WINDOW_MS), 120000},
        {PID(MAX_TX_BYTES), 32768},
        {PID(MAX_ORDER_LINES), 10},
        {PID(MAX_FINANCING_ORDERS), 5},
        {PID(MATCH_AMOUNT_TOLERANCE_MINOR), 3},
        {PID(RETAIL_IMPORT_PER_ORDER_LIMIT_MINOR), 100},
        {PID(RETAIL_IMPORT_ANNUAL_LIMIT_MINOR), 200},
        {PID(ANNUAL_LIMIT_UTC_OFFSET_MINUTES), -300},
        {PID(DEFAULT_ADVANCE_RATE_BPS), 5000},
        {PID(EVENT_FUTURE_BOUND_MS), 0},
        {PID(MAX_WAYBILL_EVENTS), 16},
    };
    enum { N = sizeof changes / sizeof changes[0] };
    static struct gov_change c[N];
    static struct vote_doc d[N];
    Hansa__TxBody b[N], *bodies[N];
    const char *signers[N];
    struct fx_result r[N];
    for (size_t i = 0; i < N; i++) {
        change_param(&c[i], changes[i].id, changes[i].value);
        propose_body(&b[i], &c[i]);
        bodies[i] = &b[i];
        signers[i] = "ADMIN-1";
    }
    fx_block(&f, signers, bodies, N, r);
    uint8_t ids[N][WIRE_HASH_BYTES];
    for (size_t i = 0; i < N; i++) {
        EXPECT(r[i], OK);
        memcpy(ids[i], r[i].tx_id, WIRE_HASH_BYTES);
        vote_body(&b[i], &d[i], ids[i], YES);
        signers[i] = "ADMIN-2";
    }
    fx_block(&f, signers, bodies, N, r);
    for (size_t i = 0; i < N; i++)
        EXPECT(r[i], OK);
    fx_empty_block(&f);

    Hansa__Parameters *p = get_params();
    cr_assert_eq(p->governance_threshold_bps, 7500);
    cr_assert_eq(p->governance_proposal_ttl_ms, 86400000);
    cr_assert_eq(p->tx_replay_window_ms, 120000);
    cr_assert_eq(p->max_tx_bytes, 32768);
    cr_assert_eq(p->max_order_lines, 10);
    cr_assert_eq(p->max_financing_orders, 5);
    cr_assert_eq(p->match_amount_tolerance_minor, 3);
    cr_assert_eq(p->retail_import_per_order_limit_minor, 100);
    cr_assert_eq(p->retail_import_annual_limit_minor, 200);
    cr_assert_eq(p->annual_limit_utc_offset_minutes, -300);
    cr_assert_eq(p->default_advance_rate_bps, 5000);
    cr_assert_eq(p->event_future_bound_ms, 0);
    cr_assert_eq(p->max_waybill_events, 16);
    wire_free(p);
    for (size_t i = 0; i < N; i++)
        cr_assert_eq(proposal_status(ids[i]), ST(PASSED));
}

Test(governance, parameter_values_outside_their_range_are_invalid_documents)
{
    static const struct {
        Hansa__ParameterId id;
        const char *name;
        int64_t min, max;
    } ranges[] = {
        {PID(GOVERNANCE_THRESHOLD_BPS), "governance_threshold_bps", 5001, 10000},
        {PID(GOVERNANCE_PROPOSAL_TTL_MS), "governance_proposal_ttl_ms", 1000, 31536000000},
        {PID(TX_REPLAY_WINDOW_MS), "tx_replay_window_ms", 1000, 86400000},
        {PID(MAX_TX_BYTES), "max_tx_bytes", 1024, 65536},
        {PID(MAX_ORDER_LINES), "max_order_lines", 1, 200},
        {PID(MAX_FINANCING_ORDERS), "max_financing_orders", 1, 50},
        {PID(MATCH_AMOUNT_TOLERANCE_MINOR), "match_amount_tolerance_minor", 0, 1000000000000000},
        {PID(RETAIL_IMPORT_PER_ORDER_LIMIT_MINOR), "retail_import_per_order_limit_minor", 0,
         1000000000000000},
        {PID(RETAIL_IMPORT_ANNUAL_LIMIT_MINOR), "retail_import_annual_limit_minor", 0,
         1000000000000000},
        {PID(ANNUAL_LIMIT_UTC_OFFSET_MINUTES), "annual_limit_utc_offset_minutes", -720, 840},
        {PID(DEFAULT_ADVANCE_RATE_BPS), "default_advance_rate_bps", 1, 10000},
        {PID(EVENT_FUTURE_BOUND_MS), "event_future_bound_ms", 0, 86400000},
        {PID(MAX_WAYBILL_EVENTS), "max_waybill_events", 16, 1000},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        const int64_t values[4] = {ranges[i].min - 1, ranges[i].max + 1, ranges[i].min,
                                   ranges[i].max};
        for (size_t k = 0; k < 4; k++) {
            struct gov_change c;
            change_param(&c, ranges[i].id, values[k]);
            struct fx_result r = propose("ADMIN-1", &c);
            if (k < 2) {
                cr_assert_not(r.admitted, "%s = %lld", ranges[i].name, (long long)values[k]);
                cr_assert_eq(r.code, RC(INVALID_DOCUMENT), "%s: %s", ranges[i].name, r.why);
                char want[160];
                snprintf(want, sizeof want, "%s must be %lld..%lld, not %lld", ranges[i].name,
                         (long long)ranges[i].min, (long long)ranges[i].max, (long long)values[k]);
                cr_assert_str_eq(r.why, want);
            } else {
                cr_assert_eq(r.code, OK, "%s = %lld: %s", ranges[i].name, (long long)values[k],
                             r.why);
            }
        }
    }
}

/* ---- expiry and rejection ---- */

Test(governance, open_proposal_expires_in_the_first_block_past_its_expiry)
{
    fx_close(&f);
    Hansa__Parameters params;
    ledger_params_default(&params);
    params.governance_threshold_bps = TWO_THIRDS;
    params.governance_proposal_ttl_ms = 5000;
    fx_init_params(&f, &params);

    struct gov_change c;
    change_remove(&c, "BANK-B");
    uint64_t created_ms = f.time_ms;
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    /* The next block is at created + 1 s; move it to exactly the expiry. */
    fx_advance(&f, 5000 - FX_BLOCK_MS);
    cr_assert_eq(f.time_ms, created_ms + 5000);
    EXPECT(vote("ADMIN-3", r.tx_id, NO), OK); /* at expires_ms: still open */
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));

    fx_empty_block(&f); /* expires_ms + 1 s */
    Hansa__GovernanceProposal *p = get_proposal(r.tx_id);
    cr_assert_eq(p->status, ST(EXPIRED));
    cr_assert_eq(p->decided_height, f.height);
    cr_assert_eq(p->effective_height, 0);
    cr_assert_not(due_timer_exists(r.tx_id, p->expires_ms));
    wire_free(p);
    Hansa__HistoryEntry *e = proposal_history(r.tx_id);
    cr_assert_eq(e->after->proposal->status, ST(EXPIRED));
    cr_assert_eq(e->tx_index, BLOCK_ORIGIN);
    wire_free(e);

    struct fx_result v = vote("ADMIN-2", r.tx_id, YES);
    cr_assert(v.admitted);
    EXPECT(v, RC(INVALID_TRANSITION));
    cr_assert(strstr(v.why, "EXPIRED") != NULL, "%s", v.why);
}

Test(governance, no_votes_reject_once_the_threshold_is_unreachable)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    /* 3 − 1 NO = 2 possible YES: 20,000 ≥ 19,998 is still reachable. */
    EXPECT(vote("ADMIN-2", r.tx_id, NO), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));
    EXPECT(vote("ADMIN-3", r.tx_id, NO), OK);
    Hansa__GovernanceProposal *p = get_proposal(r.tx_id);
    cr_assert_eq(p->status, ST(REJECTED));
    cr_assert_eq(p->decided_height, f.height);
    cr_assert_eq(p->effective_height, 0);
    cr_assert_eq(p->n_votes, 3);
    cr_assert_eq(p->votes[2]->ballot, NO);
    cr_assert_not(due_timer_exists(r.tx_id, p->expires_ms));
    wire_free(p);
    fx_empty_block(&f);
    Hansa__Party *b = get_party("BANK-B");
    cr_assert_eq(b->status, HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE);
    wire_free(b);
}

Test(governance, one_no_rejects_when_unanimity_is_required)
{
    fx_close(&f);
    init_with_threshold(10000);
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    EXPECT(vote("ADMIN-2", r.tx_id, NO), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(REJECTED));
    EXPECT(vote("ADMIN-3", r.tx_id, YES), RC(INVALID_TRANSITION));
}

Test(governance, votes_of_a_party_no_longer_admin_do_not_count)
{
    fx_close(&f);
    init_with_threshold(10000);
    struct gov_change c, removal;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    EXPECT(vote("ADMIN-3", r.tx_id, YES), OK); /* 2 of 3 YES: open */
    /* Remove ADMIN-3 unanimously. */
    change_remove(&removal, "ADMIN-3");
    struct fx_result rr = propose("ADMIN-1", &removal);
    EXPECT(rr, OK);
    EXPECT(vote("ADMIN-2", rr.tx_id, YES), OK);
    EXPECT(vote("ADMIN-3", rr.tx_id, YES), OK);
    fx_empty_block(&f);
    /* Admins are now ADMIN-1 and ADMIN-2; ADMIN-3's YES no longer counts,
     * so ADMIN-2's NO leaves 1 of 2 possible: rejected, not passed. */
    EXPECT(vote("ADMIN-2", r.tx_id, NO), OK);
    cr_assert_eq(proposal_status(r.tx_id), ST(REJECTED));
}

/* ---- votes ---- */

Test(governance, each_admin_votes_once_and_proposing_counts)
{
    fx_close(&f);
    init_with_threshold(10000);
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    struct fx_result v = vote("ADMIN-1", r.tx_id, YES);
    cr_assert(v.admitted);
    EXPECT(v, RC(DUPLICATE_ID));
    cr_assert(strstr(v.why, "ADMIN-1 already voted") != NULL, "%s", v.why);
    EXPECT(vote("ADMIN-2", r.tx_id, YES), OK);
    EXPECT(vote("ADMIN-2", r.tx_id, NO), RC(DUPLICATE_ID));
    Hansa__GovernanceProposal *p = get_proposal(r.tx_id);
    cr_assert_eq(p->n_votes, 2, "rejected votes are not recorded");
    cr_assert_eq(p->status, ST(OPEN));
    wire_free(p);
}

Test(governance, two_votes_of_one_admin_in_one_block_count_once)
{
    fx_close(&f);
    init_with_threshold(10000);
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    struct vote_doc d1, d2;
    Hansa__TxBody b1, b2;
    vote_body(&b1, &d1, r.tx_id, YES);
    vote_body(&b2, &d2, r.tx_id, YES);
    const char *signers[2] = {"ADMIN-2", "ADMIN-2"};
    Hansa__TxBody *bodies[2] = {&b1, &b2};
    struct fx_result rs[2];
    fx_block(&f, signers, bodies, 2, rs);
    EXPECT(rs[0], OK);
    EXPECT(rs[1], RC(DUPLICATE_ID));
    cr_assert_eq(proposal_status(r.tx_id), ST(OPEN));
}

Test(governance, duplicate_vote_is_checked_before_the_proposal_state)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    uint8_t id[WIRE_HASH_BYTES];
    pass(&c, id);
    /* ADMIN-2 voted: DUPLICATE_ID; ADMIN-3 did not: INVALID_TRANSITION. */
    EXPECT(vote("ADMIN-2", id, YES), RC(DUPLICATE_ID));
    struct fx_result v = vote("ADMIN-3", id, YES);
    EXPECT(v, RC(INVALID_TRANSITION));
    cr_assert(strstr(v.why, "PASSED, not OPEN") != NULL, "%s", v.why);
}

Test(governance, vote_by_a_party_without_admin_is_refused_at_admission)
{
    struct gov_change c;
    change_remove(&c, "BANK-B");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, OK);
    const char *others[] = {"BANK-A", "CUS-0001", "MER-SZ-0001"};
    for (size_t i = 0; i < 3; i++) {
        struct fx_result v = vote(others[i], r.tx_id, YES);
        cr_assert_not(v.admitted, "%s", others[i]);
        EXPECT(v, RC(NOT_AUTHORIZED));
        cr_assert(strstr(v.why, "ADMIN") != NULL, "%s", v.why);
        struct fx_result p = propose(others[i], &c);
        cr_assert_not(p.admitted, "%s", others[i]);
        EXPECT(p, RC(NOT_AUTHORIZED));
    }
    Hansa__GovernanceProposal *p = get_proposal(r.tx_id);
    cr_assert_eq(p->n_votes, 1);
    wire_free(p);
}

Test(governance, vote_on_an_unknown_proposal_is_not_found)
{
    uint8_t id[WIRE_HASH_BYTES] = {0xAB, 0xCD};
    struct fx_result v = vote("ADMIN-1", id, YES);
    cr_assert(v.admitted);
    EXPECT(v, RC(NOT_FOUND));
    cr_assert(strstr(v.why, "abcd000") != NULL, "%s", v.why);
}

/* ---- document checks (admission) ---- */

static void bad_nothing(struct gov_change *c)
{
    change_init(c, "");
}
static void bad_party_id(struct gov_change *c)
{
    c->add.party_id = "BAD/ID";
}
static void bad_empty_name(struct gov_change *c)
{
    c->add.display_name = "";
}
static void bad_long_name(struct gov_change *c)
{
    static char name[130];
    memset(name, 'n', 129);
    c->add.display_name = name;
}
static void bad_utf8_name(struct gov_change *c)
{
    c->add.display_name = "Overlong \xC0\xAF slash";
}
static void bad_surrogate_name(struct gov_change *c)
{
    c->add.display_name = "\xED\xA0\x80";
}
static void bad_truncated_name(struct gov_change *c)
{
    c->add.display_name = "Hansa \xE8\xB4";
}
static void bad_country(struct gov_change *c)
{
    c->add.country = "de";
}
static void bad_no_roles(struct gov_change *c)
{
    c->add.n_roles = 0;
}
static void bad_role_unspecified(struct gov_change *c)
{
    c->role_buf[0] = HANSA__ROLE__ROLE_UNSPECIFIED;
}
static void bad_role_unknown(struct gov_change *c)
{
    c->role_buf[0] = (Hansa__Role)8;
}
static void bad_roles_descending(struct gov_change *c)
{
    c->role_buf[0] = ROLE(BANK);
    c->role_buf[1] = ROLE(MERCHANT);
    c->add.n_roles = 2;
}
static void bad_roles_repeated(struct gov_change *c)
{
    c->role_buf[0] = ROLE(BANK);
    c->role_buf[1] = ROLE(BANK);
    c->add.n_roles = 2;
}
static void bad_no_keys(struct gov_change *c)
{
    c->add.n_keys = 0;
}
static void bad_nine_keys(struct gov_change *c)
{
    for (size_t i = 0; i < 9; i++) {
        char seed[32];
        snprintf(seed, sizeof seed, "NINE-%zu", i);
        fx_keypair(seed, &c->kps[i]);
        c->keys[i] = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, c->kps[i].public_key};
    }
    c->add.n_keys = 9;
}
static void bad_short_key(struct gov_change *c)
{
    c->keys[0].len = 31;
}
static void bad_same_key_twice(struct gov_change *c)
{
    c->keys[1] = c->keys[0];
    c->add.n_keys = 2;
}
/* Keys libsodium's verify would take or refuse, but no party may register:
 * a mixed-order point (speccheck vector 3's A, tests/vectors/ed25519.txt)
 * and a point of small order. */
static uint8_t mixed_order_key[WIRE_PUBKEY_BYTES] = {
    0xcd, 0xb2, 0x67, 0xce, 0x40, 0xc5, 0xcd, 0x45, 0x30, 0x6f, 0xa5, 0xd2, 0xf2, 0x97, 0x31, 0x45,
    0x93, 0x87, 0xdb, 0xf9, 0xeb, 0x93, 0x3b, 0x7b, 0xd5, 0xae, 0xd9, 0xa7, 0x65, 0xb8, 0x8d, 0x4d};
static uint8_t small_order_key[WIRE_PUBKEY_BYTES] = {1};
static void bad_mixed_order_key(struct gov_change *c)
{
    c->keys[1] = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, mixed_order_key};
    c->add.n_keys = 2;
}
static void bad_small_order_key(struct gov_change *c)
{
    c->keys[0] = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, small_order_key};
}
static void bad_rotate_mixed_order(struct gov_change *c)
{
    change_rotate(c, "BANK-A", "K", NULL);
    c->rotate.add_key = (ProtobufCBinaryData){WIRE_PUBKEY_BYTES, mixed_order_key};
}
static void bad_remove_id(struct gov_change *c)
{
    change_remove(c, "");
}
static void bad_roles_id(struct gov_change *c)
{
    static const Hansa__Role r[] = {ROLE(BANK)};
    change_roles(c, "A/B", r, 1);
}
static void bad_roles_empty(struct gov_change *c)
{
    change_roles(c, "BANK-A", NULL, 0);
}
static void bad_roles_change_repeated(struct gov_change *c)
{
    static const Hansa__Role r[] = {ROLE(BANK), ROLE(BANK)};
    change_roles(c, "BANK-A", r, 2);
}
static void bad_rotate_nothing(struct gov_change *c)
{
    change_rotate(c, "BANK-A", NULL, NULL);
}
static void bad_rotate_short(struct gov_change *c)
{
    change_rotate(c, "BANK-A", "K", NULL);
    c->rotate.add_key.len = 16;
}
static void bad_rotate_same(struct gov_change *c)
{
    change_rotate(c, "BANK-A", "BANK-A", "BANK-A");
}
static void bad_rotate_id(struct gov_change *c)
{
    change_rotate(c, "", "K", NULL);
}
static void bad_param_unspecified(struct gov_change *c)
{
    change_param(c, PID(UNSPECIFIED), 1);
}
static void bad_param_unknown(struct gov_change *c)
{
    change_param(c, (Hansa__ParameterId)14, 1);
}

Test(governance, documents_are_checked_at_admission)
{
    static const struct {
        const char *name;
        void (*spoil)(struct gov_change *);
        Hansa__ResultCode code;
        const char *why;
    } cases[] = {
        {"no change", bad_nothing, RC(MALFORMED), "governance proposal carries no change"},
        {"party id", bad_party_id, RC(INVALID_DOCUMENT),
         "new party id is not 1-64 characters of [A-Za-z0-9._-]"},
        {"empty name", bad_empty_name, RC(INVALID_DOCUMENT),
         "display name of NEW-1 must be 1-128 bytes of UTF-8"},
        {"long name", bad_long_name, RC(INVALID_DOCUMENT),
         "display name of NEW-1 must be 1-128 bytes of UTF-8"},
        {"overlong UTF-8", bad_utf8_name, RC(INVALID_DOCUMENT),
         "display name of NEW-1 must be 1-128 bytes of UTF-8"},
        {"surrogate", bad_surrogate_name, RC(INVALID_DOCUMENT),
         "display name of NEW-1 must be 1-128 bytes of UTF-8"},
        {"truncated UTF-8", bad_truncated_name, RC(INVALID_DOCUMENT),
         "display name of NEW-1 must be 1-128 bytes of UTF-8"},
        {"country", bad_country, RC(INVALID_DOCUMENT),
         "country of NEW-1 is not an ISO 3166-1 alpha-2 code"},
        {"no roles", bad_no_roles, RC(INVALID_DOCUMENT),
         "roles of NEW-1 must be 1-7 distinct known roles in ascending order"},
        {"UNSPECIFIED role", bad_role_unspecified, RC(INVALID_DOCUMENT),
         "roles of NEW-1 must be 1-7 distinct known roles in ascending order"},
        {"unknown role", bad_role_unknown, RC(INVALID_DOCUMENT),
         "roles of NEW-1 must be 1-7 distinct known roles in ascending order"},
        {"descending roles", bad_roles_descending, RC(INVALID_DOCUMENT),
         "roles of NEW-1 must be 1-7 distinct known roles in ascending order"},
        {"repeated role", bad_roles_repeated, RC(INVALID_DOCUMENT),
         "roles of NEW-1 must be 1-7 distinct known roles in ascending order"},
        {"no keys", bad_no_keys, RC(INVALID_DOCUMENT), "NEW-1 needs 1-8 keys, not 0"},
        {"nine keys", bad_nine_keys, RC(INVALID_DOCUMENT), "NEW-1 needs 1-8 keys, not 9"},
        {"31-byte key", bad_short_key, RC(INVALID_DOCUMENT), "key 0 of NEW-1 is 31 bytes, not 32"},
        {"same key twice", bad_same_key_twice, RC(INVALID_DOCUMENT),
         "keys 0 and 1 of NEW-1 are the same"},
        {"mixed-order key", bad_mixed_order_key, RC(INVALID_DOCUMENT),
         "key 1 of NEW-1 is not a valid Ed25519 public key (not on the curve, not canonical, of "
         "small order or outside the prime-order subgroup)"},
        {"small-order key", bad_small_order_key, RC(INVALID_DOCUMENT),
         "key 0 of NEW-1 is not a valid Ed25519 public key (not on the curve, not canonical, of "
         "small order or outside the prime-order subgroup)"},
        {"rotate: mixed-order key", bad_rotate_mixed_order, RC(INVALID_DOCUMENT),
         "the key the rotation adds to BANK-A is not a valid Ed25519 public key (not on the "
         "curve, not canonical, of small order or outside the prime-order subgroup)"},
        {"remove: id", bad_remove_id, RC(INVALID_DOCUMENT), "party id to remove is not valid"},
        {"roles: id", bad_roles_id, RC(INVALID_DOCUMENT),
         "party id of the role change is not valid"},
        {"roles: none", bad_roles_empty, RC(INVALID_DOCUMENT),
         "new roles of BANK-A must be 1-7 distinct known roles in ascending order"},
        {"roles: repeated", bad_roles_change_repeated, RC(INVALID_DOCUMENT),
         "new roles of BANK-A must be 1-7 distinct known roles in ascending order"},
        {"rotate: nothing", bad_rotate_nothing, RC(INVALID_DOCUMENT),
         "key rotation for BANK-A neither adds nor removes a key"},
        {"rotate: short key", bad_rotate_short, RC(INVALID_DOCUMENT),
         "keys in the rotation for BANK-A must be 32 bytes"},
        {"rotate: same key", bad_rotate_same, RC(INVALID_DOCUMENT),
         "key rotation for BANK-A adds the key it removes"},
        {"rotate: id", bad_rotate_id, RC(INVALID_DOCUMENT),
         "party id of the key rotation is not valid"},
        {"parameter UNSPECIFIED", bad_param_unspecified, RC(INVALID_DOCUMENT),
         "parameter 0 is not a known parameter"},
        {"parameter 14", bad_param_unknown, RC(INVALID_DOCUMENT),
         "parameter 14 is not a known parameter"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gov_change c;
        change_add_party(&c, "NEW-1", ROLE(MERCHANT));
        cases[i].spoil(&c);
        struct fx_result r = propose("ADMIN-1", &c);
        cr_assert_not(r.admitted, "%s was admitted", cases[i].name);
        cr_assert_eq(r.code, cases[i].code, "%s: %s: %s", cases[i].name, ledger_result_name(r.code),
                     r.why);
        cr_assert_str_eq(r.why, cases[i].why, "%s", cases[i].name);
    }
}

Test(governance, valid_add_party_documents_are_admitted)
{
    struct gov_change c;
    change_add_party(&c, "NEW-1", ROLE(MERCHANT));
    static char name[129];
    memset(name, 'n', 128); /* 128 bytes: the most */
    c.add.display_name = name;
    c.role_buf[0] = ROLE(MERCHANT);
    c.role_buf[1] = ROLE(BANK);
    c.role_buf[2] = ROLE(ADMIN);
    c.add.n_roles = 3;
    EXPECT(propose("ADMIN-1", &c), OK);
    change_add_party(&c, "NEW-2", ROLE(PLATFORM)); /* multi-byte UTF-8 name */
    EXPECT(propose("ADMIN-1", &c), OK);
}

Test(governance, votes_are_checked_at_admission)
{
    struct fx_result r;
    uint8_t id[WIRE_HASH_BYTES] = {1};
    struct vote_doc d;
    Hansa__TxBody b;

    vote_body(&b, &d, id, YES);
    d.v.proposal_id.len = 31;
    r = fx_submit(&f, "ADMIN-1", &b);
    cr_assert_not(r.admitted);
    EXPECT(r, RC(INVALID_DOCUMENT));
    cr_assert_str_eq(r.why, "proposal id is 31 bytes, not 32");

    const Hansa__GovernanceBallot bad[] = {HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_UNSPECIFIED,
                                           (Hansa__GovernanceBallot)3};
    for (size_t i = 0; i < 2; i++) {
        vote_body(&b, &d, id, bad[i]);
        r = fx_submit(&f, "ADMIN-1", &b);
        cr_assert_not(r.admitted);
        EXPECT(r, RC(INVALID_DOCUMENT));
        cr_assert_str_eq(r.why, "ballot must be YES or NO");
    }
}

Test(governance, governance_check_is_pure_and_names_the_problem)
{
    /* The same function admission and execution call, without a ledger. */
    struct gov_change c;
    change_param(&c, PID(MAX_ORDER_LINES), 201);
    Hansa__TxBody b;
    propose_body(&b, &c);
    char why[256] = "";
    cr_assert_eq(ledger_governance_check(&b, why, sizeof why), RC(INVALID_DOCUMENT));
    cr_assert_str_eq(why, "max_order_lines must be 1..200, not 201");
    c.param.value = 200;
    cr_assert_eq(ledger_governance_check(&b, why, sizeof why), OK);
}

Test(governance, last_active_admin_can_be_neither_removed_nor_demoted)
{
    struct gov_change c;
    uint8_t id[WIRE_HASH_BYTES];
    change_remove(&c, "ADMIN-3");
    pass(&c, id);
    fx_empty_block(&f);
    change_remove(&c, "ADMIN-2");
    pass(&c, id); /* 2 of the 2 remaining admins */
    fx_empty_block(&f);
    cr_assert_eq(proposal_status(id), ST(PASSED));

    change_remove(&c, "ADMIN-1");
    struct fx_result r = propose("ADMIN-1", &c);
    EXPECT(r, RC(INVALID_TRANSITION));
    cr_assert(strstr(r.why, "last active ADMIN") != NULL, "why: %s", r.why);
    static const Hansa__Role bank_only[] = {ROLE(BANK)};
    change_roles(&c, "ADMIN-1", bank_only, 1);
    EXPECT(propose("ADMIN-1", &c), RC(INVALID_TRANSITION));
    /* Changing the last admin's roles while keeping ADMIN is fine. */
    static const Hansa__Role bank_admin[] = {ROLE(BANK), ROLE(ADMIN)};
    change_roles(&c, "ADMIN-1", bank_admin, 2);
    EXPECT(propose("ADMIN-1", &c), OK);
}
