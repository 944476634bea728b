/*
 * Admission (DOMAIN.md "Transactions and rejections", "Order of checks")
 * and the part of it that execution repeats.
 *
 *   admission:  [size, decoding, chain id: wire_tx_open]
 *               signer registered and active, key registered to it  UNKNOWN_SIGNER
 *               [signature: caller]                                   BAD_SIGNATURE
 *               creation time within the replay window                OUTSIDE_WINDOW
 *               [already committed: caller's tx index]                ALREADY_COMMITTED
 *               role allows the action                                NOT_AUTHORIZED
 *               document checks that need no state                    INVALID_DOCUMENT
 *   execution:  signer still registered with this key and role        NOT_AUTHORIZED
 *               document checks under the parameters now in force     INVALID_DOCUMENT
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

#define OK HANSA__RESULT_CODE__RESULT_OK

bool ledger_party_has_role(const Hansa__Party *p, Hansa__Role role)
{
    for (size_t i = 0; i < p->n_roles; i++)
        if (p->roles[i] == role)
            return true;
    return false;
}

bool ledger_party_has_key(const Hansa__Party *p, const uint8_t key[WIRE_PUBKEY_BYTES])
{
    for (size_t i = 0; i < p->n_keys; i++)
        if (p->keys[i].len == WIRE_PUBKEY_BYTES &&
            memcmp(p->keys[i].data, key, WIRE_PUBKEY_BYTES) == 0)
            return true;
    return false;
}

bool ledger_party_active_with_role(struct ledger_exec *ex, const char *party, Hansa__Role role)
{
    const Hansa__Party *p = ledger_load_party(ex, party);
    return p != NULL && p->status == HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE &&
           ledger_party_has_role(p, role);
}

static const char *role_name(Hansa__Role r)
{
    const ProtobufCEnumValue *v =
        protobuf_c_enum_descriptor_get_value(&hansa__role__descriptor, (int)r);
    return v ? v->name + 5 /* "ROLE_" */ : "?";
}

/* The role the action needs, given who signs it. */
static Hansa__ResultCode check_role(const Hansa__Party *p, const Hansa__TxBody *b, char *why,
                                    size_t why_len)
{
    Hansa__Role need;
    switch (b->action_case) {
    case HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE:
    case HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE:
        need = HANSA__ROLE__ROLE_ADMIN;
        break;
    case HANSA__TX_BODY__ACTION_CREATE_ORDER: {
        /* Its merchant, or a platform naming itself as the order's platform. */
        const Hansa__CreateOrder *o = b->create_order;
        if (o->merchant != NULL && strcmp(o->merchant, p->id) == 0)
            need = HANSA__ROLE__ROLE_MERCHANT;
        else if (o->platform != NULL && strcmp(o->platform, p->id) == 0)
            need = HANSA__ROLE__ROLE_PLATFORM;
        else {
            snprintf(why, why_len,
                     "%s may create orders only as their merchant or as their platform", p->id);
            return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
        }
        break;
    }
    case HANSA__TX_BODY__ACTION_CANCEL_ORDER:
        if (ledger_party_has_role(p, HANSA__ROLE__ROLE_MERCHANT) ||
            ledger_party_has_role(p, HANSA__ROLE__ROLE_PLATFORM))
            return OK;
        snprintf(why, why_len, "%s holds neither MERCHANT nor PLATFORM", p->id);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    case HANSA__TX_BODY__ACTION_RECORD_PAYMENT:
        need = HANSA__ROLE__ROLE_PAYMENT;
        break;
    case HANSA__TX_BODY__ACTION_CREATE_WAYBILL:
    case HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT:
        need = HANSA__ROLE__ROLE_LOGISTICS;
        break;
    case HANSA__TX_BODY__ACTION_REQUEST_FINANCING:
        need = HANSA__ROLE__ROLE_MERCHANT;
        break;
    case HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_CHANGE_CREDIT_LIMIT:
    case HANSA__TX_BODY__ACTION_SUSPEND_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_RESUME_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_CLOSE_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_APPROVE_FINANCING:
    case HANSA__TX_BODY__ACTION_REJECT_FINANCING:
    case HANSA__TX_BODY__ACTION_DISBURSE_FINANCING:
    case HANSA__TX_BODY__ACTION_RECORD_REPAYMENT:
    case HANSA__TX_BODY__ACTION_DECLARE_DEFAULT:
        need = HANSA__ROLE__ROLE_BANK;
        break;
    default:
        snprintf(why, why_len, "transaction carries no known action");
        return HANSA__RESULT_CODE__RESULT_MALFORMED;
    }
    if (ledger_party_has_role(p, need))
        return OK;
    snprintf(why, why_len, "%s does not hold the %s role this action needs", p->id,
             role_name(need));
    return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
}

static Hansa__ResultCode check_document(const Hansa__TxBody *b, const Hansa__Parameters *params,
                                        char *why, size_t why_len)
{
    switch (b->action_case) {
    case HANSA__TX_BODY__ACTION_PROPOSE_GOVERNANCE:
    case HANSA__TX_BODY__ACTION_VOTE_GOVERNANCE:
        return ledger_governance_check(b, why, why_len);
    case HANSA__TX_BODY__ACTION_CREATE_ORDER:
    case HANSA__TX_BODY__ACTION_CANCEL_ORDER:
        return ledger_order_check(b, params, why, why_len);
    case HANSA__TX_BODY__ACTION_RECORD_PAYMENT:
        return ledger_payment_check(b, params, why, why_len);
    case HANSA__TX_BODY__ACTION_CREATE_WAYBILL:
    case HANSA__TX_BODY__ACTION_ADD_SHIPMENT_EVENT:
        return ledger_waybill_check(b, params, why, why_len);
    case HANSA__TX_BODY__ACTION_OPEN_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_CHANGE_CREDIT_LIMIT:
    case HANSA__TX_BODY__ACTION_SUSPEND_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_RESUME_CREDIT_LINE:
    case HANSA__TX_BODY__ACTION_CLOSE_CREDIT_LINE:
        return ledger_credit_check(b, params, why, why_len);
    default:
        return ledger_financing_check(b, params, why, why_len);
    }
}

/* Read and decode one record from committed state; NULL if absent. */
static void *state_load(const struct ledger_state *st, const ProtobufCMessageDescriptor *d,
                        const char *key, size_t key_len, hansa_err *err)
{
    uint8_t *val = NULL;
    size_t len = 0;
    *err = st->get(st->ctx, (const uint8_t *)key, key_len, &val, &len);
    if (*err == HANSA_ENOENT) {
        *err = HANSA_OK;
        return NULL;
    }
    if (*err != HANSA_OK)
        return NULL;
    ProtobufCMessage *m = NULL;
    *err = wire_decode(d, val, len, HANSA_BLOCK_BYTES_MAX, WIRE_LENIENT, &m);
    free(val);
    if (*err != HANSA_OK)
        *err = HANSA_EFORMAT;
    return m;
}

hansa_err ledger_admission_params(const struct ledger_state *st, struct ledger_admission *a)
{
    hansa_err err;
    wire_free(a->params);
    a->params = state_load(st, &hansa__parameters__descriptor, LEDGER_KEY_PARAMS,
                           strlen(LEDGER_KEY_PARAMS), &err);
    if (err == HANSA_OK && a->params == NULL)
        err = HANSA_EFORMAT; /* genesis always writes them */
    return err;
}

hansa_err ledger_admission_signer(const struct ledger_state *st, const char *signer,
                                  struct ledger_admission *a)
{
    char key[LEDGER_KEY_BYTES_MAX];
    size_t n = ledger_key_party(key, signer);
    hansa_err err;
    wire_free(a->signer);
    a->signer = state_load(st, &hansa__party__descriptor, key, n, &err);
    return err;
}

hansa_err ledger_admission_load(const struct ledger_state *st, const char *signer,
                                struct ledger_admission *a, char *why, size_t why_len)
{
    memset(a, 0, sizeof *a);
    hansa_err err = ledger_admission_params(st, a);
    if (err == HANSA_OK)
        err = ledger_admission_signer(st, signer, a);
    if (err != HANSA_OK) {
        snprintf(why, why_len, "state read failed: %s", hansa_strerror(err));
        ledger_admission_free(a);
    }
    return err;
}

void ledger_admission_free(struct ledger_admission *a)
{
    wire_free(a->params);
    wire_free(a->signer);
    memset(a, 0, sizeof *a);
}

Hansa__ResultCode ledger_admit_signer_with(const struct ledger_admission *a,
                                           const struct wire_tx *tx, char *why, size_t why_len)
{
    const Hansa__Party *p = a->signer;
    if (p == NULL || p->status != HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE) {
        snprintf(why, why_len, "signer %s is not a registered party", tx->body->signer);
        return HANSA__RESULT_CODE__RESULT_UNKNOWN_SIGNER;
    }
    if (!ledger_party_has_key(p, tx->envelope->signer_key.data)) {
        snprintf(why, why_len, "the signing key is not registered to %s", tx->body->signer);
        return HANSA__RESULT_CODE__RESULT_UNKNOWN_SIGNER;
    }
    return OK;
}

Hansa__ResultCode ledger_admit_with(const struct ledger_admission *a, const struct wire_tx *tx,
                                    uint64_t now_ms, char *why, size_t why_len)
{
    const Hansa__Parameters *params = a->params;
    const Hansa__Party *p = a->signer;
    HANSA_ASSERT(params != NULL); /* ledger_admission_params succeeded */
    uint64_t created = tx->body->created_ms;
    if (p == NULL) {
        snprintf(why, why_len, "state read failed: no party %s", tx->body->signer);
        return HANSA__RESULT_CODE__RESULT_UNSPECIFIED;
    }
    if ((created > now_ms ? created - now_ms : now_ms - created) > params->tx_replay_window_ms) {
        snprintf(why, why_len, "created_ms %llu is more than %llu ms from the node's time %llu",
                 (unsigned long long)created, (unsigned long long)params->tx_replay_window_ms,
                 (unsigned long long)now_ms);
        return HANSA__RESULT_CODE__RESULT_OUTSIDE_WINDOW;
    }
    Hansa__ResultCode code = check_role(p, tx->body, why, why_len);
    if (code == OK)
        code = check_document(tx->body, params, why, why_len);
    return code;
}

Hansa__ResultCode ledger_admit_signer(const struct ledger_state *st, const struct wire_tx *tx,
                                      char *why, size_t why_len)
{
    /* The signer only: chain_validate calls this for every transaction of
     * a proposal, and the parameters play no part here. */
    struct ledger_admission a = {0};
    hansa_err err = ledger_admission_signer(st, tx->body->signer, &a);
    if (err != HANSA_OK) {
        snprintf(why, why_len, "state read failed: %s", hansa_strerror(err));
        ledger_admission_free(&a);
        return HANSA__RESULT_CODE__RESULT_UNSPECIFIED;
    }
    Hansa__ResultCode code = ledger_admit_signer_with(&a, tx, why, why_len);
    ledger_admission_free(&a);
    return code;
}

Hansa__ResultCode ledger_admit(const struct ledger_state *st, const struct wire_tx *tx,
                               uint64_t now_ms, char *why, size_t why_len)
{
    struct ledger_admission a;
    if (ledger_admission_load(st, tx->body->signer, &a, why, why_len) != HANSA_OK)
        return HANSA__RESULT_CODE__RESULT_UNSPECIFIED;
    Hansa__ResultCode code = ledger_admit_with(&a, tx, now_ms, why, why_len);
    ledger_admission_free(&a);
    return code;
}

Hansa__ResultCode ledger_exec_recheck(struct ledger_exec *ex, const struct wire_tx *tx)
{
    const Hansa__Party *p = ledger_load_party(ex, tx->body->signer);
    if (ex->fatal != HANSA_OK)
        return HANSA__RESULT_CODE__RESULT_UNSPECIFIED;
    if (p == NULL || p->status != HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE) {
        ledger_why(ex, "signer %s is no longer a registered party", tx->body->signer);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    if (!ledger_party_has_key(p, tx->envelope->signer_key.data)) {
        ledger_why(ex, "the signing key is no longer registered to %s", tx->body->signer);
        return HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED;
    }
    Hansa__ResultCode code = check_role(p, tx->body, ex->why, sizeof ex->why);
    if (code == OK)
        code = check_document(tx->body, ex->params, ex->why, sizeof ex->why);
    return code;
}
