/*
 * The executor and admission, independent of any one document: genesis,
 * signer and role checks, the replay window, rollback of rejected
 * transactions, determinism of the state root.
 */
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ledger_fixture.h"
#include "overlay.h"

#define OK HANSA__RESULT_CODE__RESULT_OK

static struct fx f;
static void setup(void)
{
    fx_init(&f);
}
static void teardown(void)
{
    fx_close(&f);
}
TestSuite(ledger_core, .init = setup, .fini = teardown, .timeout = 30);

Test(ledger_core, genesis_registers_every_party_and_the_parameters)
{
    Hansa__Party *p = fx_get(&f, &hansa__party__descriptor, "party/BANK-A");
    cr_assert_not_null(p);
    cr_assert_eq(p->status, HANSA__PARTY_STATUS__PARTY_STATUS_ACTIVE);
    cr_assert_eq(p->n_roles, 1);
    cr_assert_eq(p->roles[0], HANSA__ROLE__ROLE_BANK);
    wire_free(p);
    Hansa__Parameters *params = fx_get(&f, &hansa__parameters__descriptor, "params");
    cr_assert_not_null(params);
    cr_assert_eq(params->tx_replay_window_ms, 600000);
    cr_assert_eq(params->retail_import_annual_limit_minor, 2600000);
    wire_free(params);
}

Test(ledger_core, genesis_refuses_a_party_listed_twice)
{
    Hansa__Parameters params;
    ledger_params_default(&params);
    struct wire_keypair kp;
    uint8_t seed[WIRE_SEED_BYTES] = {1};
    wire_keypair_from_seed(&kp, seed); /* a valid point: genesis refuses others */
    uint8_t *key = kp.public_key;
    ProtobufCBinaryData k = {32, key};
    Hansa__Role role = HANSA__ROLE__ROLE_BANK;
    Hansa__Party a = HANSA__PARTY__INIT;
    a.id = "BANK-X";
    a.country = "CN";
    a.n_roles = 1;
    a.roles = &role;
    a.n_keys = 1;
    a.keys = &k;
    Hansa__Party *pp[2] = {&a, &a};
    struct ledger_genesis g = {"hansa-unit-1", 0, &params, pp, 2};
    struct ledger_output out;
    char why[256] = "";
    cr_assert_eq(ledger_genesis(&g, &out, why, sizeof why), HANSA_EINVAL);
    cr_assert(strstr(why, "twice") != NULL, "why: %s", why);
}

Test(ledger_core, unregistered_signer_is_refused_at_admission)
{
    struct fx_order_doc o;
    fx_order_doc(&o, "MER-NOBODY", "SO-1", 1000);
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
    struct fx_result r = fx_submit(&f, "MER-NOBODY", &b);
    cr_assert_not(r.admitted);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_UNKNOWN_SIGNER, "%s", r.why);
}

Test(ledger_core, signer_without_the_role_is_refused_at_admission)
{
    struct fx_payment_doc p;
    fx_payment_doc(&p, "MER-SZ-0001", "SO-1", "P-1", 1000);
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_RECORD_PAYMENT, &p.doc);
    struct fx_result r = fx_submit(&f, "BANK-A", &b);
    cr_assert_not(r.admitted);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED, "%s", r.why);
    cr_assert(strstr(r.why, "PAYMENT") != NULL, "why: %s", r.why);
}

Test(ledger_core, transaction_outside_the_replay_window_is_refused)
{
    struct fx_order_doc o;
    fx_order_doc(&o, "MER-SZ-0001", "SO-1", 1000);
    Hansa__TxBody b;
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
    b.created_ms = f.time_ms - 600001;
    struct fx_result r = fx_submit(&f, "MER-SZ-0001", &b);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_OUTSIDE_WINDOW, "%s", r.why);
    fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
    b.created_ms = f.time_ms + 600001;
    r = fx_submit(&f, "MER-SZ-0001", &b);
    cr_assert_eq(r.code, HANSA__RESULT_CODE__RESULT_OUTSIDE_WINDOW, "%s", r.why);
}

Test(ledger_core, same_blocks_give_the_same_state_root)
{
    struct fx g;
    fx_init(&g);
    cr_assert_eq(memcmp(f.root, g.root, 32), 0);
    fx_empty_block(&f);
    fx_empty_block(&g);
    cr_assert_eq(memcmp(f.root, g.root, 32), 0);
    uint8_t before[32];
    memcpy(before, f.root, 32);
    fx_empty_block(&f);
    cr_assert_neq(memcmp(f.root, before, 32), 0, "the root chains the height");
    fx_close(&g);
}

/* ---- two admission checks failing at once: the earlier one names the code ----
 * DOMAIN.md "Precise points", order of checks: ... signer and key, signature,
 * window, already committed, role, document. ledger_admit_signer and
 * ledger_admit cover signer, window, role and document; the signature and
 * the tx index are the mempool's (tests/net/test_api.c covers every pair). */

struct admit_pair {
    const char *what;
    const char *signer;
    bool old;        /* created 600,001 ms before block time: outside the window */
    bool broken;     /* Σ line totals ≠ goods_value: INVALID_DOCUMENT */
    bool wrong_role; /* signed by a carrier, which may not create orders */
    Hansa__ResultCode code;
};

static const struct admit_pair admit_pairs[] = {
    {"unknown signer, outside the window", "MER-NOBODY", true, false, false,
     HANSA__RESULT_CODE__RESULT_UNKNOWN_SIGNER},
    {"outside the window, wrong role", NULL, true, false, true,
     HANSA__RESULT_CODE__RESULT_OUTSIDE_WINDOW},
    {"outside the window, broken document", NULL, true, true, false,
     HANSA__RESULT_CODE__RESULT_OUTSIDE_WINDOW},
    {"outside the window, wrong role, broken document", NULL, true, true, true,
     HANSA__RESULT_CODE__RESULT_OUTSIDE_WINDOW},
    {"wrong role, broken document", NULL, false, true, true,
     HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED},
    {"broken document alone", NULL, false, true, false,
     HANSA__RESULT_CODE__RESULT_INVALID_DOCUMENT},
};

Test(ledger_core, when_two_admission_checks_fail_the_earlier_names_the_code)
{
    for (size_t i = 0; i < sizeof admit_pairs / sizeof admit_pairs[0]; i++) {
        const struct admit_pair *c = &admit_pairs[i];
        struct fx_order_doc o;
        fx_order_doc(&o, "MER-SZ-0001", "SO-1", 1000);
        if (c->broken)
            o.doc.goods_value_minor = 999;
        Hansa__TxBody b;
        fx_body(&b, HANSA__TX_BODY__ACTION_CREATE_ORDER, &o.doc);
        if (c->old)
            b.created_ms = f.time_ms - 600001;
        const char *signer = c->signer ? c->signer : c->wrong_role ? "LOG-0001" : "MER-SZ-0001";
        struct fx_result r = fx_submit(&f, signer, &b);
        cr_assert_not(r.admitted, "%s: admitted", c->what);
        cr_assert_eq(r.code, c->code, "%s: %s (%s), expected %s", c->what,
                     ledger_result_name(r.code), r.why, ledger_result_name(c->code));
    }
}

/* overlay_rollback itself: the undo run_tx relies on when a transaction is
 * rejected after staging writes. (No handler stages a write before its
 * last check today, so no transaction reaches it: test_credit.c,
 * approval_rejected_at_its_last_order_or_its_limit_writes_nothing.) */
Test(ledger_core, overlay_rollback_undoes_every_change_since_the_mark)
{
    struct ledger_overlay *ov = NULL;
    uint8_t hk[16] = {0};
    cr_assert_eq(overlay_open(&ov, hk), HANSA_OK);
    cr_assert_eq(overlay_put(ov, (const uint8_t *)"a", 1, (const uint8_t *)"1", 1), HANSA_OK);
    cr_assert_eq(overlay_put(ov, (const uint8_t *)"d", 1, (const uint8_t *)"4", 1), HANSA_OK);
    overlay_mark(ov); /* the next transaction starts */
    cr_assert_eq(overlay_put(ov, (const uint8_t *)"a", 1, (const uint8_t *)"2", 1), HANSA_OK);
    cr_assert_eq(overlay_put(ov, (const uint8_t *)"a", 1, (const uint8_t *)"3", 1), HANSA_OK);
    cr_assert_eq(overlay_put(ov, (const uint8_t *)"b", 1, (const uint8_t *)"9", 1), HANSA_OK);
    cr_assert_eq(overlay_put(ov, (const uint8_t *)"d", 1, NULL, 0), HANSA_OK);
    overlay_rollback(ov);
    struct overlay_entry_view v;
    cr_assert_eq(overlay_get(ov, (const uint8_t *)"a", 1, &v), 1);
    cr_assert_eq(v.val_len, 1);
    cr_assert_eq(v.val[0], '1', "the value before the mark");
    cr_assert_eq(overlay_get(ov, (const uint8_t *)"b", 1, &v), 0, "a key new since the mark");
    cr_assert_eq(overlay_get(ov, (const uint8_t *)"d", 1, &v), 1);
    cr_assert_not_null(v.val, "a delete since the mark is undone");
    struct overlay_entry_view *all = NULL;
    size_t n = 0;
    cr_assert_eq(overlay_sorted(ov, &all, &n), HANSA_OK);
    cr_assert_eq(n, 2, "the block's write set is as at the mark");
    free(all);
    overlay_close(ov);
}
