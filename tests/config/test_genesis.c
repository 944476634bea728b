/*
 * genesis.json: what the writer writes, the loader loads back equal and
 * byte for byte; missing parameters take the ledger's defaults; every
 * malformed party, validator or parameter is refused with a message naming
 * it and the field; the loaded doc is accepted by ledger_genesis.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "genesis.h"
#include "testdir.h"

static char dir[128];

static void setup(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
    td_make(dir, sizeof dir, "genesis");
}

static void teardown(void)
{
    td_remove(dir);
}

TestSuite(genesis, .init = setup, .fini = teardown);

/* Ed25519 public keys of the seeds 0x41.. (genesis refuses bytes that are
 * not a valid point). */
#define K1 "39f46305fd9225f564694469157e8896d7f72a8ce1daa70beb7e9e176568439e"
#define K2 "ccbc3da2c4267cc8553be0c7b5790cc75a121297528462c3d2cc679d16eb8684"
#define K3 "6f7e716f4d2c8f14cd26c027c167610cfffefa9c61aa045006e299be8b98487f"
#define K4 "e536020ed01e3f19b1944e380c7f0dae7203785d546f79df16b55efc303e79ab"
#define V1 "b4f05aee172965774743f4cd7de4c3621c9e36fd77af7139aafec25eb3fb3360"
#define V2 "42da1d19dfee0eee94d5c3dbb6312abeeea5ac9dffb301da3f5daeee81344aec"

static const char doc_text[] =
    "{\n"
    " \"chain_id\": \"hansa-test-1\",\n"
    " \"genesis_time_ms\": 1764134400000,\n"
    " \"parameters\": {\"max_order_lines\": 100, \"annual_limit_utc_offset_minutes\": -300,\n"
    "                \"retail_import_annual_limit_minor\": 1000000000000000},\n"
    " \"parties\": [\n"
    "  {\"id\": \"MER-SZ-0001\", \"display_name\": \"Shenzhen Bright Electronics\",\n"
    "   \"country\": \"CN\", \"roles\": [\"MERCHANT\"], \"keys\": [\"" K1 "\"]},\n"
    "  {\"id\": \"BANK-A\", \"display_name\": \"Bank A\", \"country\": \"CN\",\n"
    "   \"roles\": [\"ADMIN\", \"BANK\"], \"keys\": [\"" K2 "\", \"" K3 "\"]},\n"
    "  {\"id\": \"CUS-0001\", \"display_name\": \"海关\", \"country\": \"CN\",\n"
    "   \"roles\": [\"REGULATOR\"], \"keys\": [\"" K4 "\"]}\n"
    " ],\n"
    " \"validators\": [\n"
    "  {\"id\": \"node0\", \"key\": \"" V1 "\", \"operator_party\": \"BANK-A\"},\n"
    "  {\"id\": \"node1\", \"key\": \"" V2 "\"}\n"
    " ]\n"
    "}\n";

/* doc_text with the first occurrence of old replaced by new. */
static char *with(const char *old, const char *new)
{
    const char *at = strstr(doc_text, old);
    cr_assert(at != NULL, "doc_text lacks \"%s\"", old);
    size_t head = (size_t)(at - doc_text);
    char *out = malloc(strlen(doc_text) + strlen(new) + 1);
    cr_assert_not_null(out);
    memcpy(out, doc_text, head);
    strcpy(out + head, new);
    strcat(out, at + strlen(old));
    return out;
}

/* Parse doc_text with old -> new; expect HANSA_EFORMAT with exactly why. */
static void expect_refused(const char *old, const char *new, const char *expect)
{
    char *text = with(old, new);
    struct genesis_doc g;
    char why[512] = "";
    cr_assert_eq(genesis_parse(text, strlen(text), "genesis.json", &g, why, sizeof why),
                 HANSA_EFORMAT, "accepted: %s -> %s", old, new);
    cr_assert_str_eq(why, expect);
    cr_assert_null(g.parties, "a refused doc is left empty");
    free(text);
}

static void parse_ok(const char *text, struct genesis_doc *g)
{
    char why[512] = "";
    cr_assert_eq(genesis_parse(text, strlen(text), "genesis.json", g, why, sizeof why), HANSA_OK,
                 "%s", why);
}

/* Field by field through the descriptor (struct padding is not compared). */
static void assert_params_equal(const Hansa__Parameters *a, const Hansa__Parameters *b)
{
    const ProtobufCMessageDescriptor *d = &hansa__parameters__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        bool wide = f->type == PROTOBUF_C_TYPE_INT64 || f->type == PROTOBUF_C_TYPE_UINT64 ||
                    f->type == PROTOBUF_C_TYPE_SINT64 || f->type == PROTOBUF_C_TYPE_FIXED64 ||
                    f->type == PROTOBUF_C_TYPE_SFIXED64;
        cr_assert_eq(memcmp((const char *)a + f->offset, (const char *)b + f->offset, wide ? 8 : 4),
                     0, "parameter %s differs", f->name);
    }
}

static void assert_docs_equal(const struct genesis_doc *a, const struct genesis_doc *b)
{
    cr_assert_str_eq(a->chain_id, b->chain_id);
    cr_assert_eq(a->time_ms, b->time_ms);
    assert_params_equal(&a->params, &b->params);
    cr_assert_eq(a->n_parties, b->n_parties);
    for (size_t i = 0; i < a->n_parties; i++) {
        const Hansa__Party *p = a->parties[i], *q = b->parties[i];
        cr_assert_str_eq(p->id, q->id);
        cr_assert_str_eq(p->display_name, q->display_name);
        cr_assert_str_eq(p->country, q->country);
        cr_assert_eq(p->n_roles, q->n_roles);
        cr_assert_arr_eq(p->roles, q->roles, p->n_roles * sizeof *p->roles);
        cr_assert_eq(p->n_keys, q->n_keys);
        for (size_t k = 0; k < p->n_keys; k++)
            cr_assert_arr_eq(p->keys[k].data, q->keys[k].data, 32);
    }
    cr_assert_eq(a->n_validators, b->n_validators);
    for (size_t i = 0; i < a->n_validators; i++) {
        cr_assert_str_eq(a->validators[i]->id, b->validators[i]->id);
        cr_assert_arr_eq(a->validators[i]->key.data, b->validators[i]->key.data, 32);
        cr_assert_str_eq(a->validators[i]->operator_party, b->validators[i]->operator_party);
    }
}

Test(genesis, loads_every_field)
{
    struct genesis_doc g;
    parse_ok(doc_text, &g);
    cr_assert_str_eq(g.chain_id, "hansa-test-1");
    cr_assert_eq(g.time_ms, UINT64_C(1764134400000));
    cr_assert_eq(g.n_parties, 3);
    cr_assert_str_eq(g.parties[0]->id, "MER-SZ-0001");
    cr_assert_str_eq(g.parties[0]->display_name, "Shenzhen Bright Electronics");
    cr_assert_eq(g.parties[1]->n_roles, 2);
    cr_assert_eq(g.parties[1]->roles[0], HANSA__ROLE__ROLE_BANK, "roles are sorted ascending");
    cr_assert_eq(g.parties[1]->roles[1], HANSA__ROLE__ROLE_ADMIN);
    cr_assert_eq(g.parties[1]->n_keys, 2);
    cr_assert_eq(g.parties[1]->keys[1].len, 32);
    cr_assert_eq(g.parties[1]->keys[1].data[0], 0x6f); /* K3 */
    cr_assert_str_eq(g.parties[2]->display_name, "海关");
    cr_assert_eq(g.n_validators, 2);
    cr_assert_str_eq(g.validators[0]->operator_party, "BANK-A");
    cr_assert_str_eq(g.validators[1]->operator_party, "", "operator_party is optional");
    cr_assert_eq(g.validators[1]->key.data[31], 0xec); /* V2 */
    cr_assert_eq(genesis_validator(&g, "node1"), g.validators[1]);
    cr_assert_null(genesis_validator(&g, "node2"));

    uint8_t hash[WIRE_HASH_BYTES];
    wire_sha256(doc_text, strlen(doc_text), hash);
    cr_assert_arr_eq(g.file_hash, hash, sizeof hash);
    genesis_doc_free(&g);
    genesis_doc_free(&g); /* a freed doc is zeroed: freeing again is harmless */
}

Test(genesis, missing_parameters_take_the_ledger_defaults)
{
    struct genesis_doc g;
    Hansa__Parameters def;
    ledger_params_default(&def);
    parse_ok(doc_text, &g);
    cr_assert_eq(g.params.max_order_lines, 100);
    cr_assert_eq(g.params.annual_limit_utc_offset_minutes, -300);
    cr_assert_eq(g.params.retail_import_annual_limit_minor, INT64_C(1000000000000000));
    cr_assert_eq(g.params.governance_threshold_bps, def.governance_threshold_bps);
    cr_assert_eq(g.params.tx_replay_window_ms, def.tx_replay_window_ms);
    cr_assert_eq(g.params.max_waybill_events, def.max_waybill_events);
    genesis_doc_free(&g);

    char *text = with(" \"parameters\": {\"max_order_lines\": 100, "
                      "\"annual_limit_utc_offset_minutes\": -300,\n"
                      "                \"retail_import_annual_limit_minor\": 1000000000000000},\n",
                      "");
    parse_ok(text, &g);
    assert_params_equal(&g.params, &def); /* no parameters: all defaults */
    genesis_doc_free(&g);
    free(text);
}

Test(genesis, writer_output_loads_back_equal_and_byte_identical)
{
    struct genesis_doc g, back, again;
    parse_ok(doc_text, &g);
    char *text = NULL, why[512] = "";
    size_t len = 0;
    cr_assert_eq(genesis_encode(&g, &text, &len, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(strlen(text), len);
    cr_assert_eq(text[len - 1], '\n');
    parse_ok(text, &back);
    assert_docs_equal(&g, &back);

    char *text2 = NULL;
    size_t len2 = 0;
    cr_assert_eq(genesis_encode(&back, &text2, &len2, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_str_eq(text, text2, "the writer is deterministic");
    parse_ok(text2, &again);
    cr_assert_arr_eq(back.file_hash, again.file_hash, WIRE_HASH_BYTES);

    /* Every Parameters field is written by its proto name. */
    for (unsigned i = 0; i < hansa__parameters__descriptor.n_fields; i++) {
        char quoted[128];
        snprintf(quoted, sizeof quoted, "\"%s\":", hansa__parameters__descriptor.fields[i].name);
        cr_assert(strstr(text, quoted) != NULL, "%s not written", quoted);
    }
    free(text);
    free(text2);
    genesis_doc_free(&g);
    genesis_doc_free(&back);
    genesis_doc_free(&again);
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, file_round_trip_and_hash)
{
    struct genesis_doc g, back;
    char path[256], why[512] = "";
    td_path(path, sizeof path, dir, "genesis.json");
    parse_ok(doc_text, &g);
    cr_assert_eq(genesis_write(path, &g, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_eq(td_mode(path), 0644);
    cr_assert_eq(genesis_load(path, &back, why, sizeof why), HANSA_OK, "%s", why);
    assert_docs_equal(&g, &back);

    size_t len;
    char *bytes = td_read(path, &len);
    uint8_t expect[WIRE_HASH_BYTES], hash[WIRE_HASH_BYTES];
    wire_sha256(bytes, len, expect);
    cr_assert_arr_eq(back.file_hash, expect, sizeof expect);
    cr_assert_eq(genesis_hash_file(path, hash, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_arr_eq(hash, expect, sizeof expect);

    cr_assert_eq(genesis_write(path, &g, why, sizeof why), HANSA_EEXIST, "never overwrites");
    free(bytes);
    genesis_doc_free(&g);
    genesis_doc_free(&back);
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, loaded_doc_builds_the_ledger_genesis_state)
{
    struct genesis_doc g;
    parse_ok(doc_text, &g);
    struct ledger_genesis lg = genesis_ledger(&g);
    cr_assert_str_eq(lg.chain_id, "hansa-test-1");
    cr_assert_eq(lg.n_parties, 3);
    struct ledger_output out;
    char why[256] = "";
    cr_assert_eq(ledger_genesis(&lg, &out, why, sizeof why), HANSA_OK, "%s", why);
    cr_assert_gt(out.n_state, 3, "parameters and three parties written");
    ledger_output_free(&out);

    Hansa__ValidatorSet set;
    genesis_validator_set(&g, &set);
    cr_assert_eq(set.n_validators, 2);
    cr_assert_eq(protobuf_c_message_get_packed_size(&set.base) > 64, true);
    genesis_doc_free(&g);
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, role_names_round_trip)
{
    for (int r = HANSA__ROLE__ROLE_MERCHANT; r <= HANSA__ROLE__ROLE_ADMIN; r++) {
        const char *name = genesis_role_name((Hansa__Role)r);
        cr_assert_not_null(name);
        cr_assert_eq(genesis_role_parse(name), r);
    }
    cr_assert_eq(genesis_role_parse("UNSPECIFIED"), HANSA__ROLE__ROLE_UNSPECIFIED);
    cr_assert_eq(genesis_role_parse("ROLE_BANK"), HANSA__ROLE__ROLE_UNSPECIFIED);
    cr_assert_eq(genesis_role_parse("bank"), HANSA__ROLE__ROLE_UNSPECIFIED);
    cr_assert_null(genesis_role_name(HANSA__ROLE__ROLE_UNSPECIFIED));
}

Test(genesis, unknown_role_is_named_with_its_party)
{
    expect_refused("[\"MERCHANT\"]", "[\"SELLER\"]",
                   "genesis.json: party MER-SZ-0001: \"roles\"[0]: unknown role \"SELLER\" "
                   "(MERCHANT, PLATFORM, PAYMENT, LOGISTICS, BANK, REGULATOR or ADMIN)");
    expect_refused("[\"ADMIN\", \"BANK\"]", "[\"ADMIN\", \"ADMIN\"]",
                   "genesis.json: party BANK-A: \"roles\" lists ADMIN twice");
    expect_refused("[\"MERCHANT\"]", "[]",
                   "genesis.json: party MER-SZ-0001: \"roles\" must be an array of 1-7 role "
                   "names");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, keys_that_are_not_valid_curve_points_are_refused)
{
    /* Mixed order (speccheck vector 3's A) and small order: libsodium's
     * verify would accept signatures by the first. */
    expect_refused("\"" K3 "\"",
                   "\"cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d\"",
                   "genesis.json: party BANK-A: \"keys\"[1] "
                   "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d is not a "
                   "valid Ed25519 public key (not on the curve, of small order or outside the "
                   "prime-order subgroup)");
    expect_refused("\"key\": \"" V2 "\"",
                   "\"key\": "
                   "\"0100000000000000000000000000000000000000000000000000000000000000\"",
                   "genesis.json: validator node1: \"key\" "
                   "0100000000000000000000000000000000000000000000000000000000000000 is not a "
                   "valid Ed25519 public key (not on the curve, of small order or outside the "
                   "prime-order subgroup)");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, bad_hex_key_is_named_with_its_party)
{
    expect_refused("\"" K3 "\"", "\"33zz\"",
                   "genesis.json: party BANK-A: \"keys\"[1] must be 64 hex digits (a 32-byte "
                   "Ed25519 public key), got \"33zz\"");
    expect_refused("\"key\": \"" V2 "\"", "\"key\": 7",
                   "genesis.json: validator node1: \"key\" must be a string of 64 hex digits");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, duplicate_party_and_shared_key_are_refused)
{
    expect_refused("\"id\": \"CUS-0001\"", "\"id\": \"BANK-A\"",
                   "genesis.json: party BANK-A appears twice (parties[1] and parties[2])");
    expect_refused("\"keys\": [\"" K4 "\"]", "\"keys\": [\"" K1 "\"]",
                   "genesis.json: key " K1 " is registered to both party MER-SZ-0001 and party "
                   "CUS-0001");
    expect_refused("[\"" K2 "\", \"" K3 "\"]", "[\"" K2 "\", \"" K2 "\"]",
                   "genesis.json: party BANK-A lists key " K2 " twice");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, unknown_fields_are_refused_at_every_level)
{
    expect_refused("\"chain_id\"", "\"chainid\": 1, \"chain_id\"",
                   "genesis.json: top level: unknown field \"chainid\"");
    expect_refused("\"max_order_lines\"", "\"max_lines\": 1, \"max_order_lines\"",
                   "genesis.json: parameters: unknown field \"max_lines\"");
    expect_refused("\"roles\": [\"MERCHANT\"]", "\"role\": [\"MERCHANT\"]",
                   "genesis.json: party MER-SZ-0001: unknown field \"role\"");
    expect_refused("\"operator_party\"", "\"address\": \"x\", \"operator_party\"",
                   "genesis.json: validator node0: unknown field \"address\"");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, missing_and_mistyped_fields_are_named)
{
    expect_refused("\"display_name\": \"Bank A\", ", "",
                   "genesis.json: party BANK-A: missing field \"display_name\"");
    expect_refused("\"Bank A\", \"country\": \"CN\"", "\"Bank A\", \"country\": \"cn\"",
                   "genesis.json: party BANK-A: \"country\" \"cn\" is not an ISO 3166-1 alpha-2 "
                   "code like \"CN\"");
    expect_refused("{\"id\": \"MER-SZ-0001\"", "{\"id\": \"MER/SZ\"",
                   "genesis.json: parties[0]: \"id\" \"MER/SZ\" is not 1-64 characters of A-Z "
                   "a-z 0-9 . _ -");
    expect_refused("\"genesis_time_ms\": 1764134400000", "\"genesis_time_ms\": \"now\"",
                   "genesis.json: \"genesis_time_ms\" must be a non-negative integer (ms since "
                   "1970 UTC)");
    expect_refused("\"chain_id\": \"hansa-test-1\"", "\"chain_id\": \"hansa test\"",
                   "genesis.json: \"chain_id\" \"hansa test\" is not 1-64 characters of A-Z a-z "
                   "0-9 . _ -");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, parameters_must_be_integers_in_their_type_range)
{
    expect_refused("\"max_order_lines\": 100", "\"max_order_lines\": -1",
                   "genesis.json: parameters: \"max_order_lines\" = -1 is out of range "
                   "0..4294967295");
    expect_refused("\"max_order_lines\": 100", "\"max_order_lines\": 4294967296",
                   "genesis.json: parameters: \"max_order_lines\" = 4294967296 is out of range "
                   "0..4294967295");
    expect_refused("\"max_order_lines\": 100", "\"max_order_lines\": \"100\"",
                   "genesis.json: parameters: \"max_order_lines\" must be an integer");
    expect_refused("-300", "-3000000000",
                   "genesis.json: parameters: \"annual_limit_utc_offset_minutes\" = -3000000000 "
                   "is out of range -2147483648..2147483647");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, validator_set_rules)
{
    expect_refused("\"id\": \"node1\"", "\"id\": \"node0\"",
                   "genesis.json: validator node0 appears twice");
    expect_refused("\"key\": \"" V2 "\"", "\"key\": \"" V1 "\"",
                   "genesis.json: validators node0 and node1 have the same key");
    expect_refused("\"operator_party\": \"BANK-A\"", "\"operator_party\": \"BANK-Z\"",
                   "genesis.json: validator node0: \"operator_party\" BANK-Z is not a party of "
                   "this genesis");
    char *text = with("\"validators\": [", "\"validators\": [], \"x\": [");
    struct genesis_doc g;
    char why[512] = "";
    cr_assert_eq(genesis_parse(text, strlen(text), "genesis.json", &g, why, sizeof why),
                 HANSA_EFORMAT);
    cr_assert_str_eq(why, "genesis.json: top level: unknown field \"x\"");
    free(text);
    const char *none = "{\"chain_id\": \"c\", \"genesis_time_ms\": 0, \"parties\": [], "
                       "\"validators\": []}";
    cr_assert_eq(genesis_parse(none, strlen(none), "genesis.json", &g, why, sizeof why),
                 HANSA_EFORMAT);
    cr_assert_str_eq(why, "genesis.json: \"validators\" must be an array of 1-64 validators");
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, invalid_json_names_line_and_column)
{
    char *text = with("\"country\": \"CN\",\n   \"roles\": [\"REGULATOR\"]",
                      "\"country\": \"CN\",,\n   \"roles\": [\"REGULATOR\"]");
    struct genesis_doc g;
    char why[512] = "";
    cr_assert_eq(genesis_parse(text, strlen(text), "genesis.json", &g, why, sizeof why),
                 HANSA_EFORMAT);
    cr_assert(strncmp(why, "genesis.json:11:", 16) == 0, "%s", why);
    free(text);
    text = with("\"genesis_time_ms\"", "\"chain_id\": \"x\", \"genesis_time_ms\"");
    cr_assert_eq(genesis_parse(text, strlen(text), "genesis.json", &g, why, sizeof why),
                 HANSA_EFORMAT);
    cr_assert(strstr(why, "duplicate object key") != NULL, "%s", why);
    free(text);
    TD_EXPECT_NO_LEAKS();
}

Test(genesis, missing_file_is_enoent)
{
    struct genesis_doc g;
    char path[256], why[512] = "";
    td_path(path, sizeof path, dir, "nope.json");
    cr_assert_eq(genesis_load(path, &g, why, sizeof why), HANSA_ENOENT);
    cr_assert(strstr(why, "nope.json") != NULL);
}

Test(genesis, writer_refuses_a_doc_that_would_not_load)
{
    struct genesis_doc g;
    parse_ok(doc_text, &g);
    char *saved = g.parties[0]->country;
    g.parties[0]->country = "China";
    char *text = NULL, why[512] = "";
    size_t len = 0;
    cr_assert_eq(genesis_encode(&g, &text, &len, why, sizeof why), HANSA_EINVAL);
    cr_assert_null(text);
    cr_assert(strstr(why, "party MER-SZ-0001: \"country\" \"China\"") != NULL, "%s", why);
    g.parties[0]->country = saved;
    genesis_doc_free(&g);
    TD_EXPECT_NO_LEAKS();
}
