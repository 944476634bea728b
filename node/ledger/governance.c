/*
 * Governance (DOMAIN.md "Who takes part"; hansa.proto "Governance actions"):
 * after genesis, parties and parameters change only through proposals that
 * the consortium's ADMIN parties vote on.
 *
 *   ProposeGovernance (ADMIN) ──▶ OPEN ──yes × 10,000 ≥ threshold × admins──▶ PASSED
 *                                  │ │                                           │
 *                                  │ └─NO votes make the threshold unreachable─▶ REJECTED
 *                                  └──first block with time > expires_ms──────▶ EXPIRED
 *   PASSED at height h ──start of block h + 1: checks hold──▶ applied (stays PASSED)
 *                                         └──checks fail────▶ FAILED (failure = code)
 *
 * The proposal id is the proposing transaction's id; proposing counts as the
 * proposer's YES. "admins" is the number of ACTIVE parties holding ADMIN when
 * the votes are counted (after every vote, under the parameters in force),
 * and only votes of parties that are active ADMINs at that moment count: a
 * voter removed or stripped of ADMIN since it voted no longer weighs on
 * either side, so yes + no <= admins always holds.
 *
 * State (keys.c): the proposal record at proposal/<64 hex id>, indexed under
 * every active ADMIN at creation (ix/<admin>/proposal/...). Two schedules:
 *   due/<16 hex expires_ms>/proposal/proposal/<64 hex>   expiry timer, exists
 *       exactly while the proposal is OPEN (ledger_key_due);
 *   gov/effective/<16 hex height>/<8 hex tx index>/<64 hex>   a PASSED
 *       proposal waiting for its effective height. The tx index of the vote
 *       that passed it makes proposals effective at the same height apply in
 *       the order they passed.
 * Both are consumed by ledger_governance_begin_block, which the executor
 * runs at the start of each block before any other hook; the executor then
 * reloads the parameters, so a parameter change effective at height h
 * governs every transaction of block h.
 *
 * Invariants:
 *   1. A proposal's change passes the stateless checks (ledger_governance_
 *      check) and, at proposal time, the state checks; both run again when
 *      it takes effect, and a change that no longer applies leaves it FAILED
 *      with the result code as failure, changing nothing else.
 *   2. One vote per ADMIN per proposal; votes only while OPEN.
 *   3. A key is registered to one party only, removed parties included, and
 *      every party keeps 1-8 keys and 1-7 roles.
 *   4. Every change of a party or a proposal writes exactly one history
 *      entry with the record after the change.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK    HANSA__RESULT_CODE__RESULT_OK
#define ST(s) HANSA__GOVERNANCE_PROPOSAL_STATUS__GOVERNANCE_PROPOSAL_STATUS_##s

#define GOV_EFFECTIVE_PREFIX "gov/effective/"
#define GOV_DUE_KIND         "proposal"
/* Party limits of hansa.proto (Party, AddParty). */
#define GOV_KEYS_MAX               8u
#define GOV_ROLES_MAX              7u
#define GOV_DISPLAY_NAME_BYTES_MAX 128u
#define GOV_BPS_DENOMINATOR        10000u

_Static_assert(HANSA__ROLE__ROLE_ADMIN - HANSA__ROLE__ROLE_MERCHANT + 1 == GOV_ROLES_MAX,
               "a role set holds each role at most once");

/* ---- stateless checks ---- */

__attribute__((format(printf, 3, 4))) static Hansa__ResultCode
doc_invalid(char *why, size_t why_len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
    return HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT;
}

/* 1-7 roles, each MERCHANT..ADMIN, strictly ascending (hence distinct). */
static bool roles_valid(const Hansa__Role *roles, size_t n)
{
    if (n == 0 || n > GOV_ROLES_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (roles[i] < HANSA__ROLE__ROLE_MERCHANT || roles[i] > HANSA__ROLE__ROLE_ADMIN)
            return false;
        if (i > 0 && roles[i] <= roles[i - 1])
            return false;
    }
    return true;
}

static bool key_equal(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
    return a->len == b->len && (a->len == 0 || memcmp(a->data, b->data, a->len) == 0);
}

#define KEY_INVALID                                                                                \
    "is not a valid Ed25519 public key (not on the curve, not canonical, of small order or "       \
    "outside the prime-order subgroup)"

static Hansa__ResultCode check_add_party(const Hansa__AddParty *a, char *why, size_t why_len)
{
    if (!wire_id_valid(a->party_id))
        return doc_invalid(why, why_len, "new party id is not 1-64 characters of [A-Za-z0-9._-]");
    if (!ledger_text_valid(a->display_name, GOV_DISPLAY_NAME_BYTES_MAX))
        return doc_invalid(why, why_len, "display name of %s must be 1-128 bytes of UTF-8",
                           a->party_id);
    if (!ledger_country_valid(a->country))
        return doc_invalid(why, why_len, "country of %s is not an ISO 3166-1 alpha-2 code",
                           a->party_id);
    if (!roles_valid(a->roles, a->n_roles))
        return doc_invalid(why, why_len,
                           "roles of %s must be 1-7 distinct known roles in ascending order",
                           a->party_id);
    if (a->n_keys == 0 || a->n_keys > GOV_KEYS_MAX)
        return doc_invalid(why, why_len, "%s needs 1-8 keys, not %zu", a->party_id, a->n_keys);
    for (size_t i = 0; i < a->n_keys; i++) {
        if (a->keys[i].len != WIRE_PUBKEY_BYTES)
            return doc_invalid(why, why_len, "key %zu of %s is %zu bytes, not 32", i, a->party_id,
                               a->keys[i].len);
        if (!wire_pubkey_valid(a->keys[i].data))
            return doc_invalid(why, why_len, "key %zu of %s %s", i, a->party_id, KEY_INVALID);
        for (size_t j = 0; j < i; j++)
            if (key_equal(&a->keys[i], &a->keys[j]))
                return doc_invalid(why, why_len, "keys %zu and %zu of %s are the same", j, i,
                                   a->party_id);
    }
    return OK;
}

static Hansa__ResultCode check_rotate_key(const Hansa__RotateKey *a, char *why, size_t why_len)
{
    if (!wire_id_valid(a->party_id))
        return doc_invalid(why, why_len, "party id of the key rotation is not valid");
    if (a->add_key.len == 0 && a->remove_key.len == 0)
        return doc_invalid(why, why_len, "key rotation for %s neither adds nor removes a key",
                           a->party_id);
    if ((a->add_key.len != 0 && a->add_key.len != WIRE_PUBKEY_BYTES) ||
        (a->remove_key.len != 0 && a->remove_key.len != WIRE_PUBKEY_BYTES))
        return doc_invalid(why, why_len, "keys in the rotation for %s must be 32 bytes",
                           a->party_id);
    if (a->add_key.len != 0 && !wire_pubkey_valid(a->add_key.data))
        return doc_invalid(why, why_len, "the key the rotation adds to %s %s", a->party_id,
                           KEY_INVALID);
    if (key_equal(&a->add_key, &a->remove_key))
        return doc_invalid(why, why_len, "key rotation for %s adds the key it removes",
                           a->party_id);
    return OK;
}

static Hansa__ResultCode check_change_parameter(const Hansa__ChangeParameter *a, char *why,
                                                size_t why_len)
{
    if (!ledger_param_check(a->parameter, a->value, why, why_len))
        return HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT;
    return OK;
}

/* The stateless checks of one proposed change. */
static Hansa__ResultCode check_change(const Hansa__ProposeGovernance *c, char *why, size_t why_len)
{
    switch (c->change_case) {
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY:
        return check_add_party(c->add_party, why, why_len);
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY:
        if (!wire_id_valid(c->remove_party->party_id))
            return doc_invalid(why, why_len, "party id to remove is not valid");
        return OK;
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_ROLES:
        if (!wire_id_valid(c->change_roles->party_id))
            return doc_invalid(why, why_len, "party id of the role change is not valid");
        if (!roles_valid(c->change_roles->roles, c->change_roles->n_roles))
            return doc_invalid(why, why_len,
                               "new roles of %s must be 1-7 distinct known roles in ascending "
                               "order",
                               c->change_roles->party_id);
        return OK;
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_ROTATE_KEY:
        return check_rotate_key(c->rotate_key, why, why_len);
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_PARAMETER:
        return check_change_parameter(c->change_parameter, why, why_len);
    default:
        snprintf(why, why_len, "governance proposal carries no change");
        return HANSA__RESULT_CODE__RESULT_MALFORMED;
    }
}

Hansa__ResultCode ledger_governance_check(const Hansa__TxBody *b, char *why, size_t why_len)
{
    HANSA_ASSERT(b != NULL && why != NULL);
    if (b->action_case == HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE)
        return check_change(b->propose_governance, why, why_len);
    HANSA_ASSERT(b->action_case == HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE);
    const Hansa__VoteGovernance *v = b->vote_governance;
    if (v->proposal_id.len != WIRE_HASH_BYTES)
        return doc_invalid(why, why_len, "proposal id is %zu bytes, not 32", v->proposal_id.len);
    if (v->ballot != HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES &&
        v->ballot != HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_NO)
        return doc_invalid(why, why_len, "ballot must be YES or NO");
    return OK;
}

/* ---- reading the party registry ---- */

/* Visits every party record; stops early when visit returns false. */
struct party_walk {
    struct ledger_exec *ex;
    bool (*visit)(void *arg, const Hansa__Party *p);
    void *arg;
};

static bool party_walk_one(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    (void)key, (void)key_len;
    struct party_walk *w = arg;
    ProtobufCMessage *m = NULL;
    if (wire_decode(&hansa__party__descriptor, val, val_len, HANSA_BLOCK_BYTES_MAX, WIRE_LENIENT,
                    &m) != HANSA_OK) {
        if (w->ex->fatal == HANSA_OK)
            w->ex->fatal = HANSA_EFORMAT; /* our own record does not decode: corrupt state */
        return false;
    }
    bool go = w->visit(w->arg, (const Hansa__Party *)m);
    wire_free(m);
    return go;
}

static void party_walk(struct ledger_exec *ex, bool (*visit)(void *, const Hansa__Party *),
                       void *arg)
{
    struct party_walk w = {ex, visit, arg};
    ledger_scan(ex, "party/", party_walk_one, &w);
}

/* Does any party, removed ones included, hold one of these keys? */
struct key_search {
    const ProtobufCBinaryData *keys;
    size_t n_keys;
    char owner[HANSA_ID_LEN_MAX + 1];
    bool found;
};

static bool key_search_visit(void *arg, const Hansa__Party *p)
{
    struct key_search *s = arg;
    for (size_t i = 0; i < s->n_keys; i++)
        if (s->keys[i].len == WIRE_PUBKEY_BYTES && ledger_party_has_key(p, s->keys[i].data)) {
            snprintf(s->owner, sizeof s->owner, "%s", p->id);
            s->found = true;
            return false;
        }
    return true;
}

static bool key_registered(struct ledger_exec *ex, const ProtobufCBinaryData *keys, size_t n,
                           char owner[HANSA_ID_LEN_MAX + 1])
{
    struct key_search s = {.keys = keys, .n_keys = n};
    party_walk(ex, key_search_visit, &s);
    snprintf(owner, HANSA_ID_LEN_MAX + 1, "%s", s.owner);
    return s.found;
}

/* The ids of the active ADMIN parties, in key order. */
struct admin_set {
    char (*ids)[HANSA_ID_LEN_MAX + 1];
    size_t n, cap;
    bool failed;
};

static bool admin_set_visit(void *arg, const Hansa__Party *p)
{
    struct admin_set *s = arg;
    if (p->status != HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE ||
        !ledger_party_has_role(p, HANSA__ROLE__ROLE_ADMIN))
        return true;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        void *ids = realloc(s->ids, cap * sizeof *s->ids);
        if (ids == NULL) {
            s->failed = true;
            return false;
        }
        s->ids = ids;
        s->cap = cap;
    }
    snprintf(s->ids[s->n++], sizeof s->ids[0], "%s", p->id);
    return true;
}

/* Fill s (caller frees s->ids); false after a storage or memory failure. */
static bool admin_set_load(struct ledger_exec *ex, struct admin_set *s)
{
    memset(s, 0, sizeof *s);
    party_walk(ex, admin_set_visit, s);
    if (s->failed && ex->fatal == HANSA_OK)
        ex->fatal = HANSA_ENOMEM;
    return ex->fatal == HANSA_OK;
}

static bool admin_set_has(const struct admin_set *s, const char *id)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->ids[i], id) == 0)
            return true;
    return false;
}

/* ---- state checks of a change: at proposal and again when it takes effect ---- */

/* The party, if registered and not removed. */
static const Hansa__Party *party_active(struct ledger_exec *ex, const char *id)
{
    const Hansa__Party *p = ledger_load_party(ex, id);
    return p != NULL && p->status == HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE ? p : NULL;
}

static Hansa__ResultCode state_add_party(struct ledger_exec *ex, const Hansa__AddParty *a)
{
    if (ledger_load_party(ex, a->party_id) != NULL) {
        ledger_why(ex, "party %s is already registered (ids are never reused)", a->party_id);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    char owner[HANSA_ID_LEN_MAX + 1];
    if (key_registered(ex, a->keys, a->n_keys, owner)) {
        ledger_why(ex, "a key of new party %s is already registered to %s", a->party_id, owner);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    return OK;
}

static Hansa__ResultCode state_rotate_key(struct ledger_exec *ex, const Hansa__RotateKey *a)
{
    const Hansa__Party *p = party_active(ex, a->party_id);
    if (p == NULL) {
        ledger_why(ex, "party %s is not registered or was removed", a->party_id);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    char owner[HANSA_ID_LEN_MAX + 1];
    if (a->add_key.len != 0 && key_registered(ex, &a->add_key, 1, owner)) {
        ledger_why(ex, "the key to add to %s is already registered to %s", a->party_id, owner);
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    if (a->remove_key.len != 0 && !ledger_party_has_key(p, a->remove_key.data)) {
        ledger_why(ex, "the key to remove is not registered to %s", a->party_id);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    size_t n = p->n_keys + (a->add_key.len != 0) - (a->remove_key.len != 0);
    if (n < 1 || n > GOV_KEYS_MAX) {
        ledger_why(ex, "%s would have %zu keys; a party keeps 1-8", a->party_id, n);
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    return OK;
}

static Hansa__ResultCode state_check(struct ledger_exec *ex, const Hansa__ProposeGovernance *c)
{
    const char *id = NULL;
    switch (c->change_case) {
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY:
        return state_add_party(ex, c->add_party);
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_ROTATE_KEY:
        return state_rotate_key(ex, c->rotate_key);
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY:
        id = c->remove_party->party_id;
        break;
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_ROLES:
        id = c->change_roles->party_id;
        break;
    default: /* ChangeParameter: its checks need no state */
        return OK;
    }
    /* A removed party is never changed again: its record stays as it was. */
    const Hansa__Party *p = party_active(ex, id);
    if (p == NULL) {
        ledger_why(ex, "party %s is not registered or was removed", id);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    /* Governance must stay possible: the last active ADMIN can be neither
     * removed nor demoted, or no proposal could ever pass again. */
    bool loses_admin = c->change_case == HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY;
    if (c->change_case == HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_ROLES) {
        loses_admin = true;
        for (size_t i = 0; i < c->change_roles->n_roles; i++)
            if (c->change_roles->roles[i] == HANSA__ROLE__ROLE_ADMIN)
                loses_admin = false;
    }
    if (loses_admin && ledger_party_has_role(p, HANSA__ROLE__ROLE_ADMIN)) {
        struct admin_set admins;
        if (!admin_set_load(ex, &admins))
            return HANSA__RESULT_CODE__RESULT_UNSPECIFIED; /* ex->fatal is set */
        size_t n = admins.n;
        free(admins.ids);
        if (n <= 1) {
            ledger_why(ex, "%s is the last active ADMIN: governance would end", id);
            return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
        }
    }
    return OK;
}

/* ---- applying a change at its effective height ---- */

static void put_party(struct ledger_exec *ex, Hansa__Party *p)
{
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_party(key, p->id);
    ledger_put(ex, key, n, &p->base);
    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_PARTY;
    rec.party = p;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", p->id, &rec, NULL);
}

static void apply_add_party(struct ledger_exec *ex, const Hansa__AddParty *a)
{
    Hansa__Party p = HANSA__PARTY__INIT;
    p.id = a->party_id;
    p.display_name = a->display_name;
    p.country = a->country;
    p.n_roles = a->n_roles;
    p.roles = a->roles;
    p.n_keys = a->n_keys;
    p.keys = a->keys;
    p.status = HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE;
    p.added_height = ex->height;
    put_party(ex, &p);
}

static void apply_rotate_key(struct ledger_exec *ex, const Hansa__RotateKey *a)
{
    const Hansa__Party *old = party_active(ex, a->party_id);
    HANSA_ASSERT(old != NULL && old->n_keys <= GOV_KEYS_MAX); /* state_rotate_key passed */
    ProtobufCBinaryData keys[GOV_KEYS_MAX + 1];
    size_t n = 0;
    for (size_t i = 0; i < old->n_keys; i++)
        if (a->remove_key.len == 0 || !key_equal(&old->keys[i], &a->remove_key))
            keys[n++] = old->keys[i];
    if (a->add_key.len != 0)
        keys[n++] = a->add_key;
    HANSA_ASSERT(n >= 1 && n <= GOV_KEYS_MAX);
    Hansa__Party p = *old;
    p.n_keys = n;
    p.keys = keys;
    p.updated_height = ex->height;
    put_party(ex, &p);
}

static void apply_party_change(struct ledger_exec *ex, const Hansa__ProposeGovernance *c)
{
    const char *id = c->change_case == HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY
                         ? c->remove_party->party_id
                         : c->change_roles->party_id;
    const Hansa__Party *old = party_active(ex, id);
    HANSA_ASSERT(old != NULL); /* state_check passed */
    Hansa__Party p = *old;
    p.updated_height = ex->height;
    if (c->change_case == HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY) {
        p.status = HANSA__PARTY_STATUS__PARTY_STATUS_REMOVED;
    } else {
        p.n_roles = c->change_roles->n_roles;
        p.roles = c->change_roles->roles;
    }
    put_party(ex, &p);
}

static void apply_parameter(struct ledger_exec *ex, const Hansa__ChangeParameter *a)
{
    /* The record as this block sees it: several changes may apply at once. */
    Hansa__Parameters *p = ledger_load(ex, &hansa__parameters__descriptor, LEDGER_KEY_PARAMS,
                                       strlen(LEDGER_KEY_PARAMS));
    if (p == NULL) {
        if (ex->fatal == HANSA_OK)
            ex->fatal = HANSA_EFORMAT; /* no parameters: not a ledger */
        return;
    }
    ledger_param_set(p, a->parameter, a->value); /* checked by check_change_parameter */
    ledger_put(ex, LEDGER_KEY_PARAMS, strlen(LEDGER_KEY_PARAMS), &p->base);
}

static void apply_change(struct ledger_exec *ex, const Hansa__ProposeGovernance *c)
{
    switch (c->change_case) {
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_ADD_PARTY:
        apply_add_party(ex, c->add_party);
        break;
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_ROTATE_KEY:
        apply_rotate_key(ex, c->rotate_key);
        break;
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_REMOVE_PARTY:
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_ROLES:
        apply_party_change(ex, c);
        break;
    case HANSA__PROPOSE_GOVERNANCE__CHANGE_CHANGE_PARAMETER:
        apply_parameter(ex, c->change_parameter);
        break;
    default:
        HANSA_ASSERT(!"stored proposal without a change");
    }
}

/* ---- proposals: record, schedules, counting ---- */

static void proposal_hex(const Hansa__GovernanceProposal *p, char hex[2 * WIRE_HASH_BYTES + 1])
{
    HANSA_ASSERT(p->proposal_id.len == WIRE_HASH_BYTES);
    wire_hex_encode(p->proposal_id.data, WIRE_HASH_BYTES, hex);
}

static void put_proposal(struct ledger_exec *ex, Hansa__GovernanceProposal *p)
{
    char key[LEDGER_KEY_BYTES_MAX], hex[2 * WIRE_HASH_BYTES + 1];
    size_t n = ledger_key_proposal(key, p->proposal_id.data);
    proposal_hex(p, hex);
    ledger_put(ex, key, n, &p->base);
    Hansa__Record rec = HANSA__RECORD__INIT;
    rec.kind_case = HANSA__RECORD__KIND_PROPOSAL;
    rec.proposal = p;
    ledger_history(ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL, "", hex, &rec, NULL);
}

static size_t due_key(char *buf, const Hansa__GovernanceProposal *p)
{
    char subject[LEDGER_KEY_BYTES_MAX];
    ledger_key_proposal(subject, p->proposal_id.data);
    return ledger_key_due(buf, p->expires_ms, GOV_DUE_KIND, subject);
}

static size_t effective_key(char *buf, uint64_t height, uint32_t tx_index, const char *hex)
{
    int n = snprintf(buf, LEDGER_KEY_BYTES_MAX, GOV_EFFECTIVE_PREFIX "%016llx/%08x/%s",
                     (unsigned long long)height, tx_index, hex);
    HANSA_ASSERT(n > 0 && (size_t)n < LEDGER_KEY_BYTES_MAX);
    return (size_t)n;
}

static void put_marker(struct ledger_exec *ex, const char *key, size_t n)
{
    ledger_put_raw(ex, key, n, (const uint8_t *)"", 0);
}

/* Count the votes of p against the active admins and move it out of OPEN
 * when they decide it. Returns the new status. */
static Hansa__GovernanceProposalStatus
count_votes(struct ledger_exec *ex, Hansa__GovernanceProposal *p, const struct admin_set *admins)
{
    HANSA_ASSERT(p->status == ST(OPEN) && admins->n >= 1);
    uint64_t yes = 0, no = 0;
    for (size_t i = 0; i < p->n_votes; i++) {
        if (!admin_set_has(admins, p->votes[i]->voter))
            continue;
        if (p->votes[i]->ballot == HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES)
            yes++;
        else
            no++;
    }
    HANSA_ASSERT(yes + no <= admins->n);
    uint64_t need = (uint64_t)ex->params->governance_threshold_bps * admins->n;
    if (yes * GOV_BPS_DENOMINATOR >= need)
        p->status = ST(PASSED);
    else if ((admins->n - no) * GOV_BPS_DENOMINATOR < need)
        p->status = ST(REJECTED);
    if (p->status != ST(OPEN)) {
        p->decided_height = ex->height;
        p->effective_height = p->status == ST(PASSED) ? ex->height + 1 : 0;
    }
    return p->status;
}

/* After a vote or a proposal: schedule the application of a PASSED one. */
static void schedule_if_passed(struct ledger_exec *ex, const Hansa__GovernanceProposal *p)
{
    if (p->status != ST(PASSED))
        return;
    char key[LEDGER_KEY_BYTES_MAX], hex[2 * WIRE_HASH_BYTES + 1];
    proposal_hex(p, hex);
    put_marker(ex, key, effective_key(key, p->effective_height, ex->tx_index, hex));
}

Hansa__ResultCode ledger_governance_propose(struct ledger_exec *ex,
                                            const Hansa__ProposeGovernance *a)
{
    HANSA_ASSERT(ex->tx != NULL && a != NULL);
    Hansa__ResultCode code = state_check(ex, a);
    if (code != OK)
        return code;
    char key[LEDGER_KEY_BYTES_MAX];
    size_t key_len = ledger_key_proposal(key, ex->tx->id);
    if (ledger_load(ex, &hansa__governance_proposal__descriptor, key, key_len) != NULL) {
        ledger_why(ex, "a proposal with this id already exists");
        return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
    }
    struct admin_set admins;
    if (!admin_set_load(ex, &admins)) {
        free(admins.ids);
        return HANSA__RESULT_CODE__RESULT_UNSPECIFIED; /* ex->fatal stops the block */
    }

    Hansa__GovernanceVoteRecord own = HANSA__GOVERNANCE_VOTE_RECORD__INIT;
    own.voter = (char *)(uintptr_t)ex->signer;
    own.ballot = HANSA__GOVERNANCE_BALLOT__GOVERNANCE_BALLOT_YES;
    own.height = ex->height;
    own.tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)(uintptr_t)ex->tx->id};
    Hansa__GovernanceVoteRecord *votes[1] = {&own};
    Hansa__GovernanceProposal p = HANSA__GOVERNANCE_PROPOSAL__INIT;
    p.proposal_id = own.tx_id;
    p.proposer = own.voter;
    p.change = (Hansa__ProposeGovernance *)(uintptr_t)a;
    p.status = ST(OPEN);
    p.n_votes = 1;
    p.votes = votes;
    p.created_height = ex->height;
    p.created_ms = ex->time_ms;
    uint64_t ttl_ms = ex->params->governance_proposal_ttl_ms;
    p.expires_ms = ex->time_ms > UINT64_MAX - ttl_ms ? UINT64_MAX : ex->time_ms + ttl_ms;
    count_votes(ex, &p, &admins); /* passes at once if one YES reaches the threshold */

    put_proposal(ex, &p);
    if (p.status == ST(OPEN)) {
        char due[LEDGER_KEY_BYTES_MAX];
        put_marker(ex, due, due_key(due, &p));
    }
    schedule_if_passed(ex, &p);
    for (size_t i = 0; i < admins.n; i++)
        ledger_index(ex, admins.ids[i], HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL, key);
    free(admins.ids);
    return OK;
}

Hansa__ResultCode ledger_governance_vote(struct ledger_exec *ex, const Hansa__VoteGovernance *a)
{
    HANSA_ASSERT(ex->tx != NULL && a->proposal_id.len == WIRE_HASH_BYTES);
    char key[LEDGER_KEY_BYTES_MAX], hex[2 * WIRE_HASH_BYTES + 1];
    size_t key_len = ledger_key_proposal(key, a->proposal_id.data);
    wire_hex_encode(a->proposal_id.data, WIRE_HASH_BYTES, hex);
    const Hansa__GovernanceProposal *old =
        ledger_load(ex, &hansa__governance_proposal__descriptor, key, key_len);
    if (old == NULL) {
        ledger_why(ex, "no governance proposal %s", hex);
        return HANSA__RESULT_CODE__RESULT_NOT_FOUND;
    }
    for (size_t i = 0; i < old->n_votes; i++)
        if (strcmp(old->votes[i]->voter, ex->signer) == 0) {
            ledger_why(ex, "%s already voted on proposal %s", ex->signer, hex);
            return HANSA__RESULT_CODE__RESULT_DUPLICATE_ID;
        }
    if (old->status != ST(OPEN)) {
        const ProtobufCEnumValue *s = protobuf_c_enum_descriptor_get_value(
            &hansa__governance_proposal_status__descriptor, (int)old->status);
        ledger_why(ex, "proposal %s is %s, not OPEN", hex,
                   s ? s->name + strlen("GOVERNANCE_PROPOSAL_STATUS_") : "?");
        return HANSA__RESULT_CODE__RESULT_INVALID_TRANSITION;
    }
    struct admin_set admins = {0};
    Hansa__GovernanceVoteRecord **votes = malloc((old->n_votes + 1) * sizeof *votes);
    if (votes == NULL || !admin_set_load(ex, &admins)) {
        if (ex->fatal == HANSA_OK)
            ex->fatal = HANSA_ENOMEM;
        free(votes);
        free(admins.ids);
        return HANSA__RESULT_CODE__RESULT_UNSPECIFIED; /* ex->fatal stops the block */
    }

    Hansa__GovernanceVoteRecord mine = HANSA__GOVERNANCE_VOTE_RECORD__INIT;
    mine.voter = (char *)(uintptr_t)ex->signer;
    mine.ballot = a->ballot;
    mine.height = ex->height;
    mine.tx_id = (ProtobufCBinaryData){WIRE_HASH_BYTES, (uint8_t *)(uintptr_t)ex->tx->id};
    memcpy(votes, old->votes, old->n_votes * sizeof *votes);
    votes[old->n_votes] = &mine;
    Hansa__GovernanceProposal p = *old; /* shallow: old still owns its members */
    p.n_votes = old->n_votes + 1;
    p.votes = votes;
    if (count_votes(ex, &p, &admins) != ST(OPEN)) {
        char due[LEDGER_KEY_BYTES_MAX];
        ledger_delete(ex, due, due_key(due, &p));
    }
    put_proposal(ex, &p);
    schedule_if_passed(ex, &p);
    free(votes);
    free(admins.ids);
    return OK;
}

/* ---- the start of a block: changes taking effect, proposals expiring ---- */

/* Keys of a schedule that are due, collected before any is changed. */
struct due_list {
    char (*keys)[LEDGER_KEY_BYTES_MAX];
    size_t n, cap;
    size_t prefix_len; /* bytes before the 16 hex digits */
    uint64_t upto;     /* collect while the 16 hex digits are <= upto */
    bool failed;
};

/* The 16 lower-case hex digits at s, or false. */
static bool hex16(const uint8_t *s, size_t len, uint64_t *v)
{
    if (len < 16)
        return false;
    *v = 0;
    for (size_t i = 0; i < 16; i++) {
        uint8_t c = s[i];
        unsigned d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : 16;
        if (d == 16)
            return false;
        *v = (*v << 4) | d;
    }
    return true;
}

static bool due_list_visit(void *arg, const uint8_t *key, size_t key_len, const uint8_t *val,
                           size_t val_len)
{
    (void)val, (void)val_len;
    struct due_list *d = arg;
    uint64_t at = 0;
    if (!hex16(key + d->prefix_len, key_len - d->prefix_len, &at))
        return true; /* not a schedule entry: keys.c's layout puts none here */
    if (at > d->upto)
        return false; /* keys sort by the hex digits: nothing later is due */
    if (key_len >= LEDGER_KEY_BYTES_MAX)
        return true; /* not one of ours: every key we write fits */
    if (d->n == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        void *keys = realloc(d->keys, cap * sizeof *d->keys);
        if (keys == NULL) {
            d->failed = true;
            return false;
        }
        d->keys = keys;
        d->cap = cap;
    }
    memcpy(d->keys[d->n], key, key_len);
    d->keys[d->n][key_len] = '\0';
    d->n++;
    return true;
}

static bool due_list_load(struct ledger_exec *ex, const char *prefix, uint64_t upto,
                          struct due_list *d)
{
    memset(d, 0, sizeof *d);
    d->prefix_len = strlen(prefix);
    d->upto = upto;
    ledger_scan(ex, prefix, due_list_visit, d);
    if (d->failed && ex->fatal == HANSA_OK)
        ex->fatal = HANSA_ENOMEM;
    return ex->fatal == HANSA_OK;
}

/* Apply (or fail) one PASSED proposal at its effective height. */
static void take_effect(struct ledger_exec *ex, const char *proposal_key)
{
    const Hansa__GovernanceProposal *old = ledger_load(ex, &hansa__governance_proposal__descriptor,
                                                       proposal_key, strlen(proposal_key));
    if (old == NULL || old->status != ST(PASSED) || old->effective_height != ex->height)
        return;
    HANSA_ASSERT(old->change != NULL);
    Hansa__ResultCode code = check_change(old->change, ex->why, sizeof ex->why);
    if (code == OK)
        code = state_check(ex, old->change);
    if (code == OK) {
        apply_change(ex, old->change);
        return;
    }
    Hansa__GovernanceProposal p = *old;
    p.status = ST(FAILED);
    p.failure = code;
    put_proposal(ex, &p);
}

static void apply_effective(struct ledger_exec *ex)
{
    struct due_list d;
    if (due_list_load(ex, GOV_EFFECTIVE_PREFIX, ex->height, &d)) {
        for (size_t i = 0; i < d.n && ex->fatal == HANSA_OK; i++) {
            /* gov/effective/<16 hex>/<8 hex>/<64 hex id> */
            const char *hex = strrchr(d.keys[i], '/') + 1;
            char key[LEDGER_KEY_BYTES_MAX];
            snprintf(key, sizeof key, "proposal/%s", hex);
            take_effect(ex, key);
            ledger_delete(ex, d.keys[i], strlen(d.keys[i]));
        }
    }
    free(d.keys);
}

static void expire(struct ledger_exec *ex, const char *proposal_key)
{
    const Hansa__GovernanceProposal *old = ledger_load(ex, &hansa__governance_proposal__descriptor,
                                                       proposal_key, strlen(proposal_key));
    if (old == NULL || old->status != ST(OPEN) || old->expires_ms >= ex->time_ms)
        return;
    Hansa__GovernanceProposal p = *old;
    p.status = ST(EXPIRED);
    p.decided_height = ex->height;
    put_proposal(ex, &p);
}

static void expire_due(struct ledger_exec *ex)
{
    if (ex->time_ms == 0)
        return; /* nothing can be past expiry at time 0 */
    /* "first block with time past expires_ms": expires_ms < block time. */
    struct due_list d;
    if (due_list_load(ex, LEDGER_DUE_PREFIX, ex->time_ms - 1, &d)) {
        const char kind[] = "/" GOV_DUE_KIND "/";
        size_t skip = strlen(LEDGER_DUE_PREFIX) + 16;
        for (size_t i = 0; i < d.n && ex->fatal == HANSA_OK; i++) {
            /* due/<16 hex>/proposal/<proposal key>; other kinds belong to others */
            if (strncmp(d.keys[i] + skip, kind, strlen(kind)) != 0)
                continue;
            expire(ex, d.keys[i] + skip + strlen(kind));
            ledger_delete(ex, d.keys[i], strlen(d.keys[i]));
        }
    }
    free(d.keys);
}

void ledger_governance_begin_block(struct ledger_exec *ex)
{
    HANSA_ASSERT(ex->tx == NULL && ex->params != NULL);
    /* hansa.proto HistoryEntry: changes made by the block itself carry tx
     * index 4,294,967,295. Left so for the hooks after this one; run_tx sets
     * the index of each transaction. */
    ex->tx_index = UINT32_MAX;
    apply_effective(ex);
    expire_due(ex);
}
