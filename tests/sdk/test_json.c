/*
 * The JSON mapping of protocol messages (hansa.h, clients/sdk/src/json.c).
 *
 * Round trips use a generic filler that sets every field of a message
 * from its descriptor (each oneof member in turn, two elements per
 * repeated field, 64-bit values on both sides of INT64_MAX, non-ASCII
 * strings, an enum number the schema does not name), so every document the
 * CLI sends and every record it prints is covered field by field: message
 * -> JSON -> message must give the same encoding, and the JSON again the
 * same text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/hansa.h"

struct filler {
    unsigned seq;
    unsigned variant;
};

static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, struct filler *f);

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4;
    }
}

/* Members of f's oneof before f, and the oneof's size. */
static void oneof_position(const ProtobufCMessageDescriptor *d, const ProtobufCFieldDescriptor *f,
                           unsigned *index, unsigned *size)
{
    *index = 0;
    *size = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *g = &d->fields[i];
        if (!(g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
            g->quantifier_offset != f->quantifier_offset)
            continue;
        if (g == f)
            *index = *size;
        (*size)++;
    }
}

static void fill_value(const ProtobufCFieldDescriptor *fd, void *dst, struct filler *f)
{
    unsigned s = ++f->seq;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        *(int32_t *)dst = -(int32_t)s * 1000;
        break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        *(uint32_t *)dst = 4000000000u + s;
        break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        *(int64_t *)dst = s % 2 ? -1000000000000000000ll - s : 1000000000000000ll + s;
        break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        *(uint64_t *)dst = s % 2 ? UINT64_MAX - s : 1764000000000ull + s;
        break;
    case PROTOBUF_C_TYPE_BOOL:
        *(protobuf_c_boolean *)dst = 1;
        break;
    case PROTOBUF_C_TYPE_ENUM: {
        const ProtobufCEnumDescriptor *e = fd->descriptor;
        *(int *)dst = f->variant == 3 ? 77 : e->values[e->n_values - 1].value;
        break;
    }
    case PROTOBUF_C_TYPE_STRING: {
        char buf[64];
        snprintf(buf, sizeof buf, "%s-%u-Ä深圳\"\\", fd->name, s);
        *(char **)dst = strdup(buf);
        break;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        uint8_t *b = malloc(3);
        b[0] = (uint8_t)s;
        b[1] = 0xAB;
        b[2] = 0x00;
        *(ProtobufCBinaryData *)dst = (ProtobufCBinaryData){3, b};
        break;
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        *(ProtobufCMessage **)dst = fill(fd->descriptor, f);
        break;
    default:
        cr_assert_fail("hansa.proto has a field of type %d", (int)fd->type);
    }
}

static ProtobufCMessage *fill(const ProtobufCMessageDescriptor *d, struct filler *f)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    cr_assert_not_null(m);
    d->message_init(m);
    char *base = (char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            unsigned index, size;
            oneof_position(d, fd, &index, &size);
            if (index != f->variant % size)
                continue;
            *(uint32_t *)(base + fd->quantifier_offset) = fd->id;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = 2, size = elem_size(fd->type);
            char *arr = calloc(n, size);
            *(size_t *)(base + fd->quantifier_offset) = n;
            *(char **)(base + fd->offset) = arr;
            for (size_t k = 0; k < n; k++)
                fill_value(fd, arr + k * size, f);
        } else {
            fill_value(fd, base + fd->offset, f);
        }
    }
    return m;
}

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *b = malloc(*len + 1);
    cr_assert_eq(protobuf_c_message_pack(m, b), *len);
    return b;
}

static void round_trip(const ProtobufCMessageDescriptor *d, unsigned variant)
{
    struct filler f = {.seq = 0, .variant = variant};
    ProtobufCMessage *m = fill(d, &f);
    char *json = hansa_json_from_message(m, variant % 2 == 0);
    cr_assert_not_null(json, "%s (variant %u) does not convert", d->name, variant);
    void *back = NULL;
    hansa_error err;
    cr_assert_eq(hansa_json_to_message(json, d, &back, &err), HANSA_CODE_OK,
                 "%s (variant %u): %s\n%s", d->name, variant, err.message, json);
    size_t la, lb;
    uint8_t *a = pack(m, &la), *b = pack(back, &lb);
    cr_assert_eq(la, lb, "%s (variant %u) changed size: %zu -> %zu\n%s", d->name, variant, la, lb,
                 json);
    cr_assert_arr_eq(a, b, la, "%s (variant %u) changed\n%s", d->name, variant, json);
    char *again = hansa_json_from_message(back, variant % 2 == 0);
    cr_assert_str_eq(again, json);
    free(again);
    free(a);
    free(b);
    free(json);
    hansa_free(back);
    hansa_free(m);
}

static const ProtobufCMessageDescriptor *const documents[] = {
    &hansa__create_order__descriptor,
    &hansa__cancel_order__descriptor,
    &hansa__record_payment__descriptor,
    &hansa__create_waybill__descriptor,
    &hansa__add_shipment_event__descriptor,
    &hansa__open_credit_line__descriptor,
    &hansa__change_credit_limit__descriptor,
    &hansa__suspend_credit_line__descriptor,
    &hansa__resume_credit_line__descriptor,
    &hansa__close_credit_line__descriptor,
    &hansa__request_financing__descriptor,
    &hansa__approve_financing__descriptor,
    &hansa__reject_financing__descriptor,
    &hansa__disburse_financing__descriptor,
    &hansa__record_repayment__descriptor,
    &hansa__declare_default__descriptor,
    &hansa__propose_governance__descriptor,
    &hansa__vote_governance__descriptor,
    &hansa__tx_body__descriptor,
};

static const ProtobufCMessageDescriptor *const records[] = {
    &hansa__party__descriptor,
    &hansa__order__descriptor,
    &hansa__payment__descriptor,
    &hansa__waybill__descriptor,
    &hansa__credit_line__descriptor,
    &hansa__financing__descriptor,
    &hansa__governance_proposal__descriptor,
    &hansa__record__descriptor,
    &hansa__record_page__descriptor,
    &hansa__history_page__descriptor,
    &hansa__history_entry__descriptor,
    &hansa__exposure__descriptor,
    &hansa__credit_event__descriptor,
    &hansa__credit_event_page__descriptor,
    &hansa__alert__descriptor,
    &hansa__alert_page__descriptor,
    &hansa__node_status__descriptor,
    &hansa__block_answer__descriptor,
    &hansa__receipt__descriptor,
    &hansa__receipt_answer__descriptor,
    &hansa__parameters__descriptor,
    &hansa__event__descriptor,
    &hansa__submit_result__descriptor,
};

Test(json, every_document_round_trips_field_by_field)
{
    for (size_t i = 0; i < sizeof documents / sizeof documents[0]; i++)
        for (unsigned v = 0; v < 20; v++)
            round_trip(documents[i], v);
}

Test(json, every_record_and_answer_round_trips_field_by_field)
{
    for (size_t i = 0; i < sizeof records / sizeof records[0]; i++)
        for (unsigned v = 0; v < 8; v++)
            round_trip(records[i], v);
}

Test(json, writes_enums_without_prefix_bytes_as_hex_and_fields_in_number_order)
{
    uint8_t id[3] = {0x0a, 0xbc, 0xff};
    Hansa__Alert a = HANSA__ALERT__INIT;
    a.severity = HANSA__SEVERITY__SEVERITY_HIGH;
    a.kind = HANSA__ALERT_KIND__ALERT_KIND_NEW;
    a.alert_id = (ProtobufCBinaryData){3, id};
    a.rule_id = "DUP-PLEDGE";
    a.block_time_ms = 1764000000123ull;
    char *j = hansa_json_from_message(&a, false);
    cr_assert_not_null(j);
    cr_assert_not_null(strstr(j, "\"severity\":\"HIGH\""), "%s", j);
    cr_assert_not_null(strstr(j, "\"kind\":\"NEW\""), "%s", j);
    cr_assert_not_null(strstr(j, "\"alert_id\":\"0abcff\""), "%s", j);
    cr_assert_not_null(strstr(j, "\"block_time_ms\":1764000000123"), "%s", j);
    cr_assert_not_null(strstr(j, "\"tx_ids\":[]"), "%s", j);
    cr_assert_null(strstr(j, "\"cursor\""), "an unset message field is left out: %s", j);
    cr_assert_lt(strstr(j, "\"alert_id\""), strstr(j, "\"rule_id\""));
    cr_assert_lt(strstr(j, "\"rule_id\""), strstr(j, "\"severity\""));
    free(j);

    Hansa__SubmitResult r = HANSA__SUBMIT_RESULT__INIT;
    r.result = HANSA__RESULT_CODE__RESULT_ASSET_ALREADY_PLEDGED;
    j = hansa_json_from_message(&r, true);
    cr_assert_not_null(strstr(j, "\"result\": \"ASSET_ALREADY_PLEDGED\""), "%s", j);
    free(j);

    Hansa__TxBody b = HANSA__TX_BODY__INIT;
    Hansa__CancelOrder c = HANSA__CANCEL_ORDER__INIT;
    b.action_case = HANSA__TX_BODY__ACTION_CANCEL_ORDER;
    b.cancel_order = &c;
    j = hansa_json_from_message(&b, false);
    cr_assert_str_eq(j, "{\"chain_id\":\"\",\"signer\":\"\",\"created_ms\":0,\"nonce\":\"\","
                        "\"cancel_order\":{}}");
    free(j);
}

Test(json, reads_short_and_full_enum_names_numbers_and_upper_case_hex)
{
    const char *text = "{\"order_no\": \"ORD-1\", \"trade_mode\": \"TRADE_MODE_B2B\", "
                       "\"buyer_commitment\": \"0A0b\", \"goods_value_minor\": \"-5\", "
                       "\"items\": [{\"line_no\": 1, \"unit\": \"PCE\"}]}";
    Hansa__CreateOrder *o = NULL;
    hansa_error err;
    cr_assert_eq(hansa_json_to_message(text, &hansa__create_order__descriptor, (void **)&o, &err),
                 HANSA_CODE_OK, "%s", err.message);
    cr_assert_str_eq(o->order_no, "ORD-1");
    cr_assert_eq(o->trade_mode, HANSA__TRADE_MODE__TRADE_MODE_B2B);
    cr_assert_eq(o->buyer_commitment.len, 2u);
    cr_assert_eq(o->buyer_commitment.data[0], 0x0a);
    cr_assert_eq(o->buyer_commitment.data[1], 0x0b);
    cr_assert_eq(o->goods_value_minor, -5);
    cr_assert_eq(o->n_items, 1u);
    cr_assert_str_eq(o->items[0]->unit, "PCE");
    cr_assert_str_eq(o->merchant, "", "a field not given keeps its default");
    hansa_free(o);
    o = NULL;
    cr_assert_eq(hansa_json_to_message("{\"trade_mode\": \"EXPORT\"}",
                                       &hansa__create_order__descriptor, (void **)&o, &err),
                 HANSA_CODE_OK);
    cr_assert_eq(o->trade_mode, HANSA__TRADE_MODE__TRADE_MODE_EXPORT);
    hansa_free(o);
    o = NULL;
    cr_assert_eq(hansa_json_to_message("{\"trade_mode\": 2}", &hansa__create_order__descriptor,
                                       (void **)&o, &err),
                 HANSA_CODE_OK);
    cr_assert_eq(o->trade_mode, HANSA__TRADE_MODE__TRADE_MODE_RETAIL_IMPORT);
    hansa_free(o);
}

/* The code is INVALID_ARGUMENT and the message contains want. */
static void refused(const char *text, const ProtobufCMessageDescriptor *d, const char *want)
{
    void *m = (void *)1;
    hansa_error err;
    cr_assert_eq(hansa_json_to_message(text, d, &m, &err), HANSA_CODE_INVALID_ARGUMENT, "%s", text);
    cr_assert_null(m);
    cr_assert_eq(err.code, HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_not_null(strstr(err.message, want), "\"%s\" does not name %s", err.message, want);
}

Test(json, refuses_unknown_fields_naming_them)
{
    refused("{\"order_no\": \"A\", \"colour\": \"red\"}", &hansa__create_order__descriptor,
            "colour");
    refused("{\"items\": [{\"line_no\": 1}, {\"line_no\": 2, \"bogus\": 3}]}",
            &hansa__create_order__descriptor, "items[1].bogus");
    refused("{\"line\": {\"bank\": \"BANK-A\", \"line\": \"L1\"}}",
            &hansa__change_credit_limit__descriptor, "line.line");
}

Test(json, refuses_values_of_the_wrong_type_or_range_naming_the_field)
{
    const ProtobufCMessageDescriptor *o = &hansa__create_order__descriptor;
    refused("{\"order_no\": 5}", o, "order_no");
    refused("{\"goods_value_minor\": \"12x\"}", o, "goods_value_minor");
    refused("{\"items\": [{\"line_no\": -1}]}", o, "items[0].line_no");
    refused("{\"items\": [{\"line_no\": 4294967296}]}", o, "items[0].line_no");
    refused("{\"trade_mode\": \"BARTER\"}", o, "trade_mode");
    refused("{\"buyer_commitment\": \"abc\"}", o, "buyer_commitment");
    refused("{\"buyer_commitment\": \"zz\"}", o, "buyer_commitment");
    refused("{\"items\": {\"line_no\": 1}}", o, "items");
    refused("{\"order_no\": \"a\\u0000b\"}", o, "not allowed");
    refused("[1, 2]", o, "expected an object");
    refused("{\"order_no\": ", o, "JSON line 1");
    refused("{\"order_no\": \"a\", \"order_no\": \"b\"}", o, "JSON");
}

Test(json, refuses_two_members_of_one_oneof)
{
    refused("{\"cancel_order\": {}, \"create_order\": {}}", &hansa__tx_body__descriptor, "oneof");
    refused("{\"payment\": {}, \"order\": {}}", &hansa__get_payment__descriptor, "oneof");
}

Test(json, writes_uint64_above_int64_as_a_decimal_string_and_reads_it_back)
{
    Hansa__Cursor c = HANSA__CURSOR__INIT;
    c.height = UINT64_MAX;
    c.ordinal = 4294967295u;
    char *j = hansa_json_from_message(&c, false);
    cr_assert_str_eq(j, "{\"height\":\"18446744073709551615\",\"ordinal\":4294967295}");
    Hansa__Cursor *back = NULL;
    hansa_error err;
    cr_assert_eq(hansa_json_to_message(j, &hansa__cursor__descriptor, (void **)&back, &err),
                 HANSA_CODE_OK, "%s", err.message);
    cr_assert_eq(back->height, UINT64_MAX);
    hansa_free(back);
    free(j);
    refused("{\"height\": -1}", &hansa__cursor__descriptor, "height");
    refused("{\"height\": \"18446744073709551616\"}", &hansa__cursor__descriptor, "height");
}

Test(json, repairs_invalid_utf8_when_writing)
{
    Hansa__Party p = HANSA__PARTY__INIT;
    p.display_name = "ok\xff\xc3(";
    char *j = hansa_json_from_message(&p, false);
    cr_assert_not_null(j);
    cr_assert_not_null(strstr(j, "\"display_name\":\"ok\xef\xbf\xbd\xef\xbf\xbd(\""), "%s", j);
    free(j);
}

Test(json, refuses_what_is_not_a_message)
{
    hansa_error err;
    void *m = NULL;
    cr_assert_null(hansa_json_from_message(NULL, false));
    cr_assert_eq(hansa_json_to_message("{}", NULL, &m, &err), HANSA_CODE_INVALID_ARGUMENT);
    cr_assert_eq(hansa_json_to_message(NULL, &hansa__cursor__descriptor, &m, &err),
                 HANSA_CODE_INVALID_ARGUMENT);
}
