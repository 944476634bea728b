/*
 * ledger_genesis refuses an invalid genesis with HANSA_EINVAL and one
 * sentence saying what is wrong: the chain id, each parameter out of its
 * range, a party without a valid id, role, key or country, a key that is
 * not 32 bytes, a party listed twice. A valid genesis at the edges of the
 * ranges is accepted.
 */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "ledger.h"

TestSuite(genesis, .timeout = 30);

/* A valid genesis of one party, ready to spoil. */
struct gen {
    Hansa__Parameters params;
    Hansa__Party party, other;
    Hansa__Party *parties[2];
    Hansa__Role roles[2];
    uint8_t key_bytes[33], other_key_bytes[32];
    ProtobufCBinaryData keys[1], other_keys[1];
    struct ledger_genesis g;
};

static void gen_init(struct gen *x)
{
    memset(x, 0, sizeof *x);
    ledger_params_default(&x->params);
    x->roles[0] = HANSA__ROLE__ROLE_BANK;
    x->roles[1] = HANSA__ROLE__ROLE_ADMIN;
    /* Valid points: genesis refuses bytes that are not one. */
    struct wire_keypair kp;
    uint8_t seed[WIRE_SEED_BYTES] = {0x11};
    wire_keypair_from_seed(&kp, seed);
    memcpy(x->key_bytes, kp.public_key, sizeof x->key_bytes);
    seed[0] = 0x22;
    wire_keypair_from_seed(&kp, seed);
    memcpy(x->other_key_bytes, kp.public_key, sizeof x->other_key_bytes);
    x->keys[0] = (ProtobufCBinaryData){32, x->key_bytes};
    x->other_keys[0] = (ProtobufCBinaryData){32, x->other_key_bytes};
    hansa__party__init(&x->party);
    x->party.id = "BANK-X";
    x->party.display_name = "Bank X";
    x->party.country = "CN";
    x->party.n_roles = 1;
    x->party.roles = x->roles;
    x->party.n_keys = 1;
    x->party.keys = x->keys;
    hansa__party__init(&x->other);
    x->other.id = "ADMIN-X";
    x->other.display_name = "Admin X";
    x->other.country = "SG";
    x->other.n_roles = 1;
    x->other.roles = &x->roles[1];
    x->other.n_keys = 1;
    x->other.keys = x->other_keys;
    x->parties[0] = &x->party;
    x->parties[1] = &x->other;
    x->g = (struct ledger_genesis){.chain_id = "hansa-unit-1",
                                   .time_ms = 1768435200000,
                                   .params = &x->params,
                                   .parties = x->parties,
                                   .n_parties = 2};
}

/* Run genesis; returns its result and the why text in why. */
static hansa_err run(struct gen *x, char why[256])
{
    struct ledger_output out;
    memset(why, 0, 256);
    hansa_err rv = ledger_genesis(&x->g, &out, why, 256);
    if (rv == HANSA_OK)
        ledger_output_free(&out);
    return rv;
}

static void expect_refused(struct gen *x, const char *want, const char *what)
{
    char why[256];
    hansa_err rv = run(x, why);
    cr_assert_eq(rv, HANSA_EINVAL, "%s: accepted (%s)", what, hansa_strerror(rv));
    cr_assert_str_eq(why, want, "%s", what);
}

Test(genesis, accepts_a_valid_genesis_and_writes_parameters_and_parties)
{
    struct gen x;
    gen_init(&x);
    struct ledger_output out;
    char why[256] = "";
    cr_assert_eq(ledger_genesis(&x.g, &out, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(out.n_state, 3, "params and two parties");
    cr_assert_eq(out.n_history, 2, "one history entry per party");
    cr_assert_eq(out.n_results, 0);
    const char *want[] = {"params", "party/ADMIN-X", "party/BANK-X"};
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(out.state[i].key_len, strlen(want[i]));
        cr_assert_eq(memcmp(out.state[i].key, want[i], strlen(want[i])), 0);
    }
    ledger_output_free(&out);
}

Test(genesis, refuses_an_invalid_chain_id)
{
    const char *bad[] = {"", "hansa/unit", "hansa unit",
                         "a-chain-id-that-is-much-longer-than-sixty-four-characters-0123456789"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gen x;
        gen_init(&x);
        x.g.chain_id = bad[i];
        expect_refused(&x, "genesis chain id is not valid", bad[i]);
    }
}

/* ---- parameters: each out of its range, on either side ---- */

static void thr_low(Hansa__Parameters *p)
{
    p->governance_threshold_bps = 0;
}
static void thr_high(Hansa__Parameters *p)
{
    p->governance_threshold_bps = 10001;
}
static void window_zero(Hansa__Parameters *p)
{
    p->tx_replay_window_ms = 0;
}
static void tx_bytes_zero(Hansa__Parameters *p)
{
    p->max_tx_bytes = 0;
}
static void tx_bytes_high(Hansa__Parameters *p)
{
    p->max_tx_bytes = HANSA_TX_BYTES_MAX + 1;
}
static void lines_zero(Hansa__Parameters *p)
{
    p->max_order_lines = 0;
}
static void lines_high(Hansa__Parameters *p)
{
    p->max_order_lines = 201;
}
static void fin_zero(Hansa__Parameters *p)
{
    p->max_financing_orders = 0;
}
static void fin_high(Hansa__Parameters *p)
{
    p->max_financing_orders = 51;
}
static void tolerance_negative(Hansa__Parameters *p)
{
    p->match_amount_tolerance_minor = -1;
}
static void per_order_high(Hansa__Parameters *p)
{
    p->retail_import_per_order_limit_minor = INT64_C(1000000000000001);
}
static void annual_negative(Hansa__Parameters *p)
{
    p->retail_import_annual_limit_minor = -1;
}
static void offset_low(Hansa__Parameters *p)
{
    p->annual_limit_utc_offset_minutes = -841;
}
static void offset_high(Hansa__Parameters *p)
{
    p->annual_limit_utc_offset_minutes = 841;
}
static void advance_zero(Hansa__Parameters *p)
{
    p->default_advance_rate_bps = 0;
}
static void advance_high(Hansa__Parameters *p)
{
    p->default_advance_rate_bps = 10001;
}
static void events_zero(Hansa__Parameters *p)
{
    p->max_waybill_events = 0;
}

Test(genesis, refuses_each_parameter_out_of_its_range)
{
    static const struct {
        const char *name;
        void (*spoil)(Hansa__Parameters *);
        const char *why;
    } cases[] = {
        {"threshold 0", thr_low,
         "genesis parameters: governance_threshold_bps must be 5001..10000, not 0"},
        {"threshold 10001", thr_high,
         "genesis parameters: governance_threshold_bps must be 5001..10000, not 10001"},
        {"window 0", window_zero,
         "genesis parameters: tx_replay_window_ms must be 1000..86400000, not 0"},
        {"tx bytes 0", tx_bytes_zero,
         "genesis parameters: max_tx_bytes must be 1024..65536, not 0"},
        {"tx bytes over the transport limit", tx_bytes_high,
         "genesis parameters: max_tx_bytes must be 1024..65536, not 65537"},
        {"order lines 0", lines_zero, "genesis parameters: max_order_lines must be 1..200, not 0"},
        {"order lines 201", lines_high,
         "genesis parameters: max_order_lines must be 1..200, not 201"},
        {"financing orders 0", fin_zero,
         "genesis parameters: max_financing_orders must be 1..50, not 0"},
        {"financing orders 51", fin_high,
         "genesis parameters: max_financing_orders must be 1..50, not 51"},
        {"negative tolerance", tolerance_negative,
         "genesis parameters: match_amount_tolerance_minor must be 0..1000000000000000, not -1"},
        {"per-order limit over 10^15", per_order_high,
         "genesis parameters: retail_import_per_order_limit_minor must be 0..1000000000000000, "
         "not 1000000000000001"},
        {"negative annual limit", annual_negative,
         "genesis parameters: retail_import_annual_limit_minor must be 0..1000000000000000, not "
         "-1"},
        {"offset -841", offset_low,
         "genesis parameters: annual_limit_utc_offset_minutes must be -720..840, not -841"},
        {"offset 841", offset_high,
         "genesis parameters: annual_limit_utc_offset_minutes must be -720..840, not 841"},
        {"advance rate 0", advance_zero,
         "genesis parameters: default_advance_rate_bps must be 1..10000, not 0"},
        {"advance rate 10001", advance_high,
         "genesis parameters: default_advance_rate_bps must be 1..10000, not 10001"},
        {"waybill events 0", events_zero,
         "genesis parameters: max_waybill_events must be 16..1000, not 0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct gen x;
        gen_init(&x);
        cases[i].spoil(&x.params);
        expect_refused(&x, cases[i].why, cases[i].name);
    }
}

Test(genesis, accepts_parameters_at_the_edges_of_their_ranges)
{
    struct gen x;
    gen_init(&x);
    x.params.governance_threshold_bps = 10000;
    x.params.max_tx_bytes = HANSA_TX_BYTES_MAX;
    x.params.max_order_lines = 200;
    x.params.max_financing_orders = 50;
    x.params.match_amount_tolerance_minor = 0;
    x.params.retail_import_per_order_limit_minor = INT64_C(1000000000000000);
    x.params.retail_import_annual_limit_minor = INT64_C(1000000000000000);
    x.params.annual_limit_utc_offset_minutes = 840;
    x.params.default_advance_rate_bps = 10000;
    char why[256];
    cr_assert_eq(run(&x, why), HANSA_OK, "%s", why);
    x.params.max_order_lines = 1;
    x.params.max_financing_orders = 1;
    x.params.default_advance_rate_bps = 1;
    cr_assert_eq(run(&x, why), HANSA_OK, "%s", why);
}

/* ---- parties ---- */

Test(genesis, refuses_a_party_with_an_invalid_id)
{
    const char *bad[] = {"", "BANK/X", "BANK X",
                         "B1234567890123456789012345678901234567890123456789012345678901234"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct gen x;
        gen_init(&x);
        x.party.id = (char *)bad[i];
        char want[256];
        snprintf(want, sizeof want, "genesis party id '%s' is not valid", bad[i]);
        expect_refused(&x, want, bad[i]);
    }
}

Test(genesis, refuses_a_party_without_a_role_a_key_or_a_country)
{
    const char *want = "genesis party BANK-X needs a role, a key and a 2-letter country";
    struct gen x;
    gen_init(&x);
    x.party.n_roles = 0;
    expect_refused(&x, want, "no role");
    gen_init(&x);
    x.party.n_keys = 0;
    expect_refused(&x, want, "no key");
    const char *countries[] = {"", "C", "CHN", "cn", "C1"};
    for (size_t i = 0; i < sizeof countries / sizeof countries[0]; i++) {
        gen_init(&x);
        x.party.country = (char *)countries[i];
        expect_refused(&x, want, countries[i]);
    }
}

Test(genesis, refuses_a_party_with_an_unknown_role)
{
    const Hansa__Role bad[] = {HANSA__ROLE__ROLE_UNSPECIFIED, (Hansa__Role)8};
    for (size_t i = 0; i < 2; i++) {
        struct gen x;
        gen_init(&x);
        x.roles[0] = bad[i];
        expect_refused(&x, "genesis party BANK-X has an unknown role", "role");
    }
}

Test(genesis, refuses_a_key_that_is_not_a_valid_point)
{
    /* Small order; mixed order (speccheck vector 3's A), which libsodium's
     * verify would accept signatures by; not on the curve. */
    static const uint8_t bad[3][32] = {
        {1},
        {0xcd, 0xb2, 0x67, 0xce, 0x40, 0xc5, 0xcd, 0x45, 0x30, 0x6f, 0xa5,
         0xd2, 0xf2, 0x97, 0x31, 0x45, 0x93, 0x87, 0xdb, 0xf9, 0xeb, 0x93,
         0x3b, 0x7b, 0xd5, 0xae, 0xd9, 0xa7, 0x65, 0xb8, 0x8d, 0x4d},
        {2},
    };
    for (size_t i = 0; i < 3; i++) {
        struct gen x;
        gen_init(&x);
        memcpy(x.key_bytes, bad[i], 32);
        expect_refused(&x,
                       "genesis party BANK-X has a key that is not a valid Ed25519 public key (not "
                       "on the curve, of small order or outside the prime-order subgroup)",
                       "invalid point");
    }
}

Test(genesis, refuses_a_key_that_is_not_32_bytes)
{
    const size_t lens[] = {0, 31, 33};
    for (size_t i = 0; i < 3; i++) {
        struct gen x;
        gen_init(&x);
        x.keys[0].len = lens[i];
        expect_refused(&x, "genesis party BANK-X has a key that is not 32 bytes", "key length");
    }
}

Test(genesis, refuses_a_party_listed_twice)
{
    struct gen x;
    gen_init(&x);
    x.other.id = "BANK-X";
    expect_refused(&x, "genesis party BANK-X appears twice", "twice");
}

Test(genesis, checks_the_chain_id_before_the_parameters_and_the_parties)
{
    struct gen x;
    gen_init(&x);
    x.g.chain_id = "";
    x.params.max_order_lines = 0;
    x.party.n_keys = 0;
    expect_refused(&x, "genesis chain id is not valid", "chain id first");
    x.g.chain_id = "hansa-unit-1";
    expect_refused(&x, "genesis parameters: max_order_lines must be 1..200, not 0",
                   "parameters next");
}
