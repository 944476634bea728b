/*
 * The genesis state: parameters and the parties of the consortium, written
 * at height 0 with their history, state root chained from 32 zero bytes.
 */
#include <stdio.h>
#include <string.h>

#include "hansa/assert.h"
#include "internal.h"

static bool party_valid(const Hansa__Party *p, char *why, size_t why_len)
{
    if (!wire_id_valid(p->id)) {
        snprintf(why, why_len, "genesis party id '%s' is not valid", p->id ? p->id : "");
        return false;
    }
    if (p->n_roles == 0 || p->n_keys == 0 || !ledger_country_valid(p->country)) {
        snprintf(why, why_len, "genesis party %s needs a role, a key and a 2-letter country",
                 p->id);
        return false;
    }
    for (size_t i = 0; i < p->n_roles; i++)
        if (p->roles[i] < HANSA__ROLE__ROLE_MERCHANT || p->roles[i] > HANSA__ROLE__ROLE_ADMIN) {
            snprintf(why, why_len, "genesis party %s has an unknown role", p->id);
            return false;
        }
    for (size_t i = 0; i < p->n_keys; i++)
        if (p->keys[i].len != WIRE_PUBKEY_BYTES) {
            snprintf(why, why_len, "genesis party %s has a key that is not 32 bytes", p->id);
            return false;
        } else if (!wire_pubkey_valid(p->keys[i].data)) {
            snprintf(why, why_len,
                     "genesis party %s has a key that is not a valid Ed25519 public key (not "
                     "on the curve, of small order or outside the prime-order subgroup)",
                     p->id);
            return false;
        }
    return true;
}

static hansa_err empty_get(void *ctx, const uint8_t *key, size_t key_len, uint8_t **val,
                           size_t *val_len)
{
    return HANSA_ENOENT;
}

static hansa_err empty_scan(void *ctx, const uint8_t *prefix, size_t prefix_len,
                            ledger_visit_fn visit, void *arg)
{
    return HANSA_OK;
}

hansa_err ledger_genesis(const struct ledger_genesis *g, struct ledger_output *out, char *why,
                         size_t why_len)
{
    HANSA_ASSERT(g != NULL && out != NULL);
    memset(out, 0, sizeof *out);
    if (!wire_chain_id_valid(g->chain_id)) {
        snprintf(why, why_len, "genesis chain id is not valid");
        return HANSA_EINVAL;
    }
    if (g->params == NULL) {
        snprintf(why, why_len, "genesis has no parameters");
        return HANSA_EINVAL;
    }
    if (!ledger_params_valid(g->params, why, why_len))
        return HANSA_EINVAL;
    for (size_t i = 0; i < g->n_parties; i++) {
        if (!party_valid(g->parties[i], why, why_len))
            return HANSA_EINVAL;
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->parties[i]->id, g->parties[j]->id) == 0) {
                snprintf(why, why_len, "genesis party %s appears twice", g->parties[i]->id);
                return HANSA_EINVAL;
            }
    }

    static const struct ledger_state empty = {.get = empty_get, .scan = empty_scan};
    static const uint8_t zero_root[WIRE_HASH_BYTES];
    struct ledger_exec ex;
    hansa_err rv = ledger_exec_open(&ex, &empty, g->chain_id, 0, g->time_ms, zero_root);
    if (rv != HANSA_OK)
        return rv;
    ex.tx_index = UINT32_MAX; /* written by genesis, not by a transaction */
    ledger_put(&ex, LEDGER_KEY_PARAMS, strlen(LEDGER_KEY_PARAMS), &g->params->base);
    for (size_t i = 0; i < g->n_parties; i++) {
        Hansa__Party p = *g->parties[i];
        p.status = HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE;
        p.added_height = 0;
        p.updated_height = 0;
        char key[LEDGER_KEY_BYTES_MAX];
        size_t n = ledger_key_party(key, p.id);
        ledger_put(&ex, key, n, &p.base);
        Hansa__Record rec = HANSA__RECORD__INIT;
        rec.kind_case = HANSA__RECORD__KIND_PARTY;
        rec.party = &p;
        ledger_history(&ex, HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY, "", p.id, &rec, NULL);
    }
    rv = ex.fatal;
    if (rv == HANSA_OK)
        rv = ledger_exec_finish(&ex, zero_root, out);
    ledger_exec_close(&ex);
    if (rv != HANSA_OK)
        ledger_output_free(out);
    return rv;
}
