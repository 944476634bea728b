/*
 * Documents from the command line: the five documents of hansa.proto that
 * carry more than a reference (CreateOrder, RecordPayment, CreateWaybill,
 * OpenCreditLine, RequestFinancing), built from options named after their
 * fields, or read from a JSON file (--file, the SDK's JSON mapping).
 *
 * Conventions every builder follows:
 *   - option names are the proto field names with hyphens, without the
 *     unit suffix: --order-no, --gross-weight-grams, --freight (not
 *     --freight-minor); amounts are typed in major units of the document's
 *     currency ("150.00"), times as ISO-8601 or relative ("+90d");
 *   - what can be computed is computed: an order's goods value (Σ line
 *     totals) and actual paid (goods + freight + tax − discount), a line
 *     total (qty × price), the merchant of one's own order (the key's
 *     party);
 *   - identities are never typed as commitments: --buyer-id, --payer-id
 *     and --consignee-name/-phone/-address are committed here with the
 *     consortium identity key (--identity-key FILE, HANSA_IDENTITY_KEY, or
 *     identity.key beside the party key, where `hansad testnet` puts it);
 *     a ready commitment can be given as 64 hex digits instead
 *     (--buyer-commitment ...).
 * All memory of a built document lives in the command's arena.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Largest JSON document read with --file: far above any transaction
 * (HANSA_TX_BYTES_MAX is 64 KiB of protobuf; JSON with hex is ~3x). */
#define CLI_DOC_FILE_BYTES_MAX (1024u * 1024u)

/* ---- options ---- */

int cli_need(struct cli *g, const struct cli_args *a, const char *name, const char **out)
{
    *out = cli_arg(a, name);
    if (*out == NULL || (*out)[0] == '\0')
        return cli_usage(g, "--%s is required", name);
    return CLI_EXIT_OK;
}

int cli_amount_opt(struct cli *g, const struct cli_args *a, const char *name, const char *currency,
                   bool required, int64_t *minor)
{
    const char *v = cli_arg(a, name);
    *minor = 0;
    if (v == NULL)
        return required ? cli_usage(g, "--%s is required", name) : CLI_EXIT_OK;
    char why[256];
    if (!cli_parse_amount(v, currency, minor, why, sizeof why))
        return cli_usage(g, "--%s: %s", name, why);
    return CLI_EXIT_OK;
}

int cli_time_opt(struct cli *g, const struct cli_args *a, const char *name, uint64_t def_ms,
                 uint64_t *ms)
{
    const char *v = cli_arg(a, name);
    *ms = def_ms;
    if (v == NULL)
        return def_ms != 0 ? CLI_EXIT_OK : cli_usage(g, "--%s is required", name);
    char why[256];
    if (!cli_parse_time(v, cli_now_ms(), ms, why, sizeof why))
        return cli_usage(g, "--%s: %s", name, why);
    return CLI_EXIT_OK;
}

int cli_id_opt(struct cli *g, const struct cli_args *a, const char *name, bool dflt_party,
               const char **out)
{
    const char *v = cli_arg(a, name);
    if (v == NULL && dflt_party && cli_party(g)[0] != '\0')
        v = cli_party(g);
    if (v == NULL || v[0] == '\0')
        return cli_usage(g, "--%s is required", name);
    if (!cli_id_valid(v))
        return cli_usage(g, "--%s '%s': expected 1-64 characters of A-Z a-z 0-9 . _ -", name, v);
    *out = v;
    return CLI_EXIT_OK;
}

/* A code of n letters (currency 3, country 2) or a UN/LOCODE (5 of A-Z 0-9). */
static int code_opt(struct cli *g, const struct cli_args *a, const char *name, size_t n,
                    bool digits_ok, const char **out)
{
    int rv = cli_need(g, a, name, out);
    if (rv != CLI_EXIT_OK)
        return rv;
    bool ok = strlen(*out) == n;
    for (size_t i = 0; ok && i < n; i++)
        ok = isupper((unsigned char)(*out)[i]) || (digits_ok && isdigit((unsigned char)(*out)[i]));
    if (!ok)
        return cli_usage(g, "--%s '%s': expected %zu %s", name, *out, n,
                         digits_ok ? "capital letters or digits (a UN/LOCODE like CNSZX)"
                         : n == 3  ? "capital letters (an ISO 4217 currency like CNY)"
                                   : "capital letters (an ISO 3166 country like CN)");
    return CLI_EXIT_OK;
}

static int u64_opt(struct cli *g, const struct cli_args *a, const char *name, uint64_t max,
                   uint64_t def, uint64_t *out)
{
    const char *v = cli_arg(a, name);
    *out = def;
    if (v == NULL)
        return def != 0 ? CLI_EXIT_OK : cli_usage(g, "--%s is required", name);
    if (!cli_parse_u64(v, max, out) || *out == 0)
        return cli_usage(g, "--%s %s: expected a whole number 1-%llu", name, v,
                         (unsigned long long)max);
    return CLI_EXIT_OK;
}

/* ---- identity commitments ---- */

struct ident {
    hansa_identity_key *key;
};

static int ident_load(struct cli *g, const struct cli_args *a, struct ident *id)
{
    if (id->key != NULL)
        return CLI_EXIT_OK;
    const char *path = cli_arg(a, "identity-key");
    if (path == NULL)
        path = getenv("HANSA_IDENTITY_KEY");
    char beside[4096];
    if ((path == NULL || path[0] == '\0') && g->key != NULL) {
        const char *slash = strrchr(g->key, '/');
        int dir = slash != NULL ? (int)(slash - g->key + 1) : 0;
        snprintf(beside, sizeof beside, "%.*sidentity.key", dir, g->key);
        if (access(beside, F_OK) == 0)
            path = beside;
    }
    if (path == NULL || path[0] == '\0')
        return cli_usage(g, "identities are committed with the consortium identity key: give "
                            "--identity-key FILE or set HANSA_IDENTITY_KEY");
    hansa_error err;
    hansa_code code = hansa_identity_key_load(path, &id->key, &err);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    return CLI_EXIT_OK;
}

/* The commitment of option `name` (committed as kind) or of option
 * hex_name (64 hex digits); one of them is required. */
static int commit_opt(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                      struct ident *id, const char *name, const char *hex_name,
                      hansa_identity_kind kind, ProtobufCBinaryData *out)
{
    const char *value = cli_arg(a, name), *hex = cli_arg(a, hex_name);
    if (value != NULL && hex != NULL)
        return cli_usage(g, "give --%s or --%s, not both", name, hex_name);
    if (value == NULL && hex == NULL)
        return cli_usage(g, "--%s is required (or --%s with 64 hex digits)", name, hex_name);
    uint8_t *bytes = cli_arena_alloc(ar, 32);
    *out = (ProtobufCBinaryData){32, bytes};
    if (hex != NULL) {
        if (!cli_unhex(hex, bytes, 32))
            return cli_usage(g, "--%s: expected 64 hex digits", hex_name);
        return CLI_EXIT_OK;
    }
    int rv = ident_load(g, a, id);
    if (rv != CLI_EXIT_OK)
        return rv;
    hansa_error err;
    hansa_code code = hansa_identity_commit(id->key, kind, value, bytes, &err);
    if (code != HANSA_CODE_OK)
        return cli_usage(g, "--%s: %s", name, err.message);
    return CLI_EXIT_OK;
}

static int consignee(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                     struct ident *id, ProtobufCBinaryData *name, ProtobufCBinaryData *phone,
                     ProtobufCBinaryData *address)
{
    int rv = commit_opt(g, a, ar, id, "consignee-name", "consignee-name-commitment",
                        HANSA_IDENTITY_NAME, name);
    if (rv == CLI_EXIT_OK)
        rv = commit_opt(g, a, ar, id, "consignee-phone", "consignee-phone-commitment",
                        HANSA_IDENTITY_PHONE, phone);
    if (rv == CLI_EXIT_OK)
        rv = commit_opt(g, a, ar, id, "consignee-address", "consignee-address-commitment",
                        HANSA_IDENTITY_ADDRESS, address);
    return rv;
}

static char *sdup(struct cli_arena *ar, const char *s)
{
    return cli_arena_strdup(ar, s != NULL ? s : "");
}

/* ---- CreateOrder ---- */

static int order_items(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                       Hansa__CreateOrder *o)
{
    size_t n = cli_arg_count(a, "item");
    if (n == 0)
        return cli_usage(g, "--item is required (one per order line)");
    if (n > 200)
        return cli_usage(g, "an order has at most 200 lines; use --file for the unusual");
    o->items = cli_arena_alloc(ar, n * sizeof *o->items);
    o->n_items = n;
    for (size_t i = 0; i < n; i++) {
        const char *spec = cli_arg_nth(a, "item", i);
        size_t buf_len = 2 * strlen(spec) + 16;
        char *buf = cli_arena_alloc(ar, buf_len), why[512];
        struct cli_item it;
        if (!cli_parse_item(spec, o->currency, (uint32_t)(i + 1), &it, buf, buf_len, why,
                            sizeof why))
            return cli_usage(g, "--%s", why);
        Hansa__OrderItem *x = cli_arena_alloc(ar, sizeof *x);
        hansa__order_item__init(x);
        x->line_no = it.line_no;
        x->item_name = (char *)(uintptr_t)it.name;
        x->hs_code = (char *)(uintptr_t)it.hs_code;
        x->quantity_milli = it.quantity_milli;
        x->unit = (char *)(uintptr_t)it.unit;
        x->unit_price_minor = it.unit_price_minor;
        x->line_total_minor = it.line_total_minor;
        o->items[i] = x;
        o->goods_value_minor += it.line_total_minor;
    }
    return CLI_EXIT_OK;
}

static int order_amounts(struct cli *g, const struct cli_args *a, Hansa__CreateOrder *o)
{
    int rv = cli_amount_opt(g, a, "freight", o->currency, false, &o->freight_minor);
    if (rv == CLI_EXIT_OK)
        rv = cli_amount_opt(g, a, "discount", o->currency, false, &o->discount_minor);
    if (rv == CLI_EXIT_OK)
        rv = cli_amount_opt(g, a, "tax", o->currency, false, &o->tax_total_minor);
    if (rv != CLI_EXIT_OK)
        return rv;
    o->actual_paid_minor =
        o->goods_value_minor + o->freight_minor + o->tax_total_minor - o->discount_minor;
    if (o->actual_paid_minor < 0)
        return cli_usage(g, "--discount is larger than goods value + freight + tax");
    return CLI_EXIT_OK;
}

static int order_parties(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                         Hansa__CreateOrder *o)
{
    const char *v;
    int rv = cli_id_opt(g, a, "order-no", false, &v);
    if (rv != CLI_EXIT_OK)
        return rv;
    o->order_no = sdup(ar, v);
    if ((rv = cli_id_opt(g, a, "merchant", true, &v)) != CLI_EXIT_OK)
        return rv;
    o->merchant = sdup(ar, v);
    o->platform = sdup(ar, "");
    if (cli_arg(a, "platform") != NULL) {
        if ((rv = cli_id_opt(g, a, "platform", false, &v)) != CLI_EXIT_OK)
            return rv;
        o->platform = sdup(ar, v);
    }
    o->buyer_party = sdup(ar, "");
    if (cli_arg(a, "buyer-party") != NULL) {
        if ((rv = cli_id_opt(g, a, "buyer-party", false, &v)) != CLI_EXIT_OK)
            return rv;
        o->buyer_party = sdup(ar, v);
    }
    int mode = HANSA__TRADE_MODE__TRADE_MODE_EXPORT;
    const char *m = cli_arg(a, "trade-mode");
    if (m != NULL && !cli_parse_enum(&hansa__trade_mode__descriptor, m, &mode)) {
        char names[256];
        cli_enum_list(&hansa__trade_mode__descriptor, names, sizeof names);
        return cli_usage(g, "--trade-mode %s: expected one of %s", m, names);
    }
    o->trade_mode = (Hansa__TradeMode)mode;
    return CLI_EXIT_OK;
}

int cli_doc_order(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    Hansa__CreateOrder *o = cli_arena_alloc(ar, sizeof *o);
    hansa__create_order__init(o);
    struct ident id = {NULL};
    const char *v;
    int rv = order_parties(g, a, ar, o);
    if (rv == CLI_EXIT_OK && (rv = code_opt(g, a, "currency", 3, false, &v)) == CLI_EXIT_OK)
        o->currency = sdup(ar, v);
    if (rv == CLI_EXIT_OK && (rv = code_opt(g, a, "origin-country", 2, false, &v)) == CLI_EXIT_OK)
        o->origin_country = sdup(ar, v);
    if (rv == CLI_EXIT_OK &&
        (rv = code_opt(g, a, "destination-country", 2, false, &v)) == CLI_EXIT_OK)
        o->destination_country = sdup(ar, v);
    if (rv == CLI_EXIT_OK)
        rv = order_items(g, a, ar, o);
    if (rv == CLI_EXIT_OK)
        rv = order_amounts(g, a, o);
    if (rv == CLI_EXIT_OK)
        rv = commit_opt(g, a, ar, &id, "buyer-id", "buyer-commitment", HANSA_IDENTITY_BUYER,
                        &o->buyer_commitment);
    if (rv == CLI_EXIT_OK)
        rv = consignee(g, a, ar, &id, &o->consignee_name_commitment, &o->consignee_phone_commitment,
                       &o->consignee_address_commitment);
    hansa_identity_key_free(id.key);
    *out = o;
    return rv;
}

/* ---- RecordPayment ---- */

static Hansa__OrderRef *order_ref(struct cli_arena *ar, const char *merchant, const char *no)
{
    Hansa__OrderRef *r = cli_arena_alloc(ar, sizeof *r);
    hansa__order_ref__init(r);
    r->merchant = sdup(ar, merchant);
    r->order_no = sdup(ar, no);
    return r;
}

int cli_doc_payment(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    Hansa__RecordPayment *p = cli_arena_alloc(ar, sizeof *p);
    hansa__record_payment__init(p);
    *out = p;
    struct ident id = {NULL};
    const char *pay_id, *merchant, *order_no, *currency;
    int rv = cli_id_opt(g, a, "pay-transaction-id", false, &pay_id);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "merchant", false, &merchant);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "order-no", false, &order_no);
    if (rv == CLI_EXIT_OK)
        rv = code_opt(g, a, "currency", 3, false, &currency);
    if (rv != CLI_EXIT_OK)
        return rv;
    p->pay_transaction_id = sdup(ar, pay_id);
    p->order = order_ref(ar, merchant, order_no);
    p->currency = sdup(ar, currency);
    rv = cli_amount_opt(g, a, "amount", currency, true, &p->amount_paid_minor);
    if (rv == CLI_EXIT_OK)
        rv = cli_time_opt(g, a, "pay-time", cli_now_ms(), &p->pay_time_ms);
    if (rv == CLI_EXIT_OK)
        rv = commit_opt(g, a, ar, &id, "payer-id", "payer-commitment", HANSA_IDENTITY_BUYER,
                        &p->payer_commitment);
    hansa_identity_key_free(id.key);
    return rv;
}

/* ---- CreateWaybill ---- */

static int waybill_goods(struct cli *g, const struct cli_args *a, struct cli_arena *ar,
                         Hansa__CreateWaybill *w)
{
    uint64_t grams, packages;
    const char *desc;
    int rv = u64_opt(g, a, "gross-weight-grams", 1000000000000ull, 0, &grams);
    if (rv == CLI_EXIT_OK)
        rv = u64_opt(g, a, "package-count", 1000000, 1, &packages);
    if (rv == CLI_EXIT_OK)
        rv = cli_need(g, a, "goods-description", &desc);
    if (rv != CLI_EXIT_OK)
        return rv;
    w->gross_weight_grams = grams;
    w->package_count = (uint32_t)packages;
    w->goods_description = sdup(ar, desc);
    size_t n = cli_arg_count(a, "hs-code");
    if (n == 0)
        return cli_usage(g, "--hs-code is required (once per HS code of the goods)");
    w->hs_codes = cli_arena_alloc(ar, n * sizeof *w->hs_codes);
    w->n_hs_codes = n;
    for (size_t i = 0; i < n; i++)
        w->hs_codes[i] = sdup(ar, cli_arg_nth(a, "hs-code", i));
    return CLI_EXIT_OK;
}

int cli_doc_waybill(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    Hansa__CreateWaybill *w = cli_arena_alloc(ar, sizeof *w);
    hansa__create_waybill__init(w);
    *out = w;
    struct ident id = {NULL};
    const char *no, *merchant, *order_no, *currency, *from, *to;
    int rv = cli_id_opt(g, a, "logistics-no", false, &no);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "merchant", false, &merchant);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "order-no", false, &order_no);
    if (rv == CLI_EXIT_OK)
        rv = code_opt(g, a, "currency", 3, false, &currency);
    if (rv == CLI_EXIT_OK)
        rv = code_opt(g, a, "origin-locode", 5, true, &from);
    if (rv == CLI_EXIT_OK)
        rv = code_opt(g, a, "destination-locode", 5, true, &to);
    if (rv != CLI_EXIT_OK)
        return rv;
    w->logistics_no = sdup(ar, no);
    w->order = order_ref(ar, merchant, order_no);
    w->currency = sdup(ar, currency);
    w->origin_locode = sdup(ar, from);
    w->destination_locode = sdup(ar, to);
    rv = cli_amount_opt(g, a, "freight", currency, false, &w->freight_minor);
    if (rv == CLI_EXIT_OK)
        rv = cli_amount_opt(g, a, "insured-fee", currency, false, &w->insured_fee_minor);
    if (rv == CLI_EXIT_OK)
        rv = waybill_goods(g, a, ar, w);
    if (rv == CLI_EXIT_OK)
        rv = consignee(g, a, ar, &id, &w->consignee_name_commitment, &w->consignee_phone_commitment,
                       &w->consignee_address_commitment);
    hansa_identity_key_free(id.key);
    return rv;
}

/* ---- OpenCreditLine ---- */

int cli_doc_line(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    Hansa__OpenCreditLine *l = cli_arena_alloc(ar, sizeof *l);
    hansa__open_credit_line__init(l);
    *out = l;
    const char *line_id, *borrower, *currency;
    int rv = cli_id_opt(g, a, "line-id", false, &line_id);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "borrower", false, &borrower);
    if (rv == CLI_EXIT_OK)
        rv = code_opt(g, a, "currency", 3, false, &currency);
    if (rv != CLI_EXIT_OK)
        return rv;
    l->line_id = sdup(ar, line_id);
    l->borrower = sdup(ar, borrower);
    l->currency = sdup(ar, currency);
    rv = cli_amount_opt(g, a, "limit", currency, true, &l->limit_minor);
    if (rv == CLI_EXIT_OK && cli_arg(a, "advance-rate-bps") != NULL) {
        uint64_t bps;
        rv = u64_opt(g, a, "advance-rate-bps", 10000, 0, &bps);
        l->advance_rate_bps = (uint32_t)bps;
    }
    if (rv == CLI_EXIT_OK)
        rv = cli_time_opt(g, a, "expiry", 0, &l->expiry_ms);
    return rv;
}

/* ---- RequestFinancing ---- */

int cli_doc_financing(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    Hansa__RequestFinancing *f = cli_arena_alloc(ar, sizeof *f);
    hansa__request_financing__init(f);
    *out = f;
    const char *fin_id, *bank, *line_id, *currency;
    int rv = cli_id_opt(g, a, "financing-id", false, &fin_id);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "bank", false, &bank);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "line-id", false, &line_id);
    if (rv == CLI_EXIT_OK)
        rv = code_opt(g, a, "currency", 3, false, &currency);
    if (rv != CLI_EXIT_OK)
        return rv;
    f->financing_id = sdup(ar, fin_id);
    f->line = cli_arena_alloc(ar, sizeof *f->line);
    hansa__line_ref__init(f->line);
    f->line->bank = sdup(ar, bank);
    f->line->line_id = sdup(ar, line_id);
    f->currency = sdup(ar, currency);
    size_t n = cli_arg_count(a, "order");
    if (n == 0)
        return cli_usage(g, "--order is required (an order number of yours; repeat it for more)");
    if (n > 50)
        return cli_usage(g, "a financing covers at most 50 orders");
    f->orders = cli_arena_alloc(ar, n * sizeof *f->orders);
    f->n_orders = n;
    for (size_t i = 0; i < n; i++) {
        const char *no = cli_arg_nth(a, "order", i);
        if (!cli_id_valid(no))
            return cli_usage(g, "--order '%s': expected an order number", no);
        f->orders[i] = order_ref(ar, cli_party(g), no);
    }
    rv = cli_amount_opt(g, a, "amount", currency, true, &f->amount_minor);
    if (rv == CLI_EXIT_OK)
        rv = cli_time_opt(g, a, "maturity", 0, &f->maturity_ms);
    return rv;
}

/* ---- documents from files ---- */

static int read_all(struct cli *g, const char *path, char **out)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    if (f == NULL)
        return cli_fail(g, CLI_EXIT_FAILURE, "cannot read %s: %s", path, strerror(errno));
    char *buf = cli_xmalloc(CLI_DOC_FILE_BYTES_MAX + 1);
    size_t n = fread(buf, 1, CLI_DOC_FILE_BYTES_MAX + 1, f);
    bool failed = ferror(f) != 0;
    if (f != stdin)
        fclose(f);
    if (failed || n > CLI_DOC_FILE_BYTES_MAX) {
        free(buf);
        return failed ? cli_fail(g, CLI_EXIT_FAILURE, "cannot read %s", path)
                      : cli_usage(g, "%s is larger than %u bytes", path,
                                  (unsigned)CLI_DOC_FILE_BYTES_MAX);
    }
    buf[n] = '\0';
    *out = buf;
    return CLI_EXIT_OK;
}

int cli_doc_file(struct cli *g, const char *path, const ProtobufCMessageDescriptor *d, void **out)
{
    char *text = NULL;
    int rv = read_all(g, path, &text);
    if (rv != CLI_EXIT_OK)
        return rv;
    hansa_error err;
    hansa_code code = hansa_json_to_message(text, d, out, &err);
    free(text);
    if (code != HANSA_CODE_OK)
        return cli_usage(g, "%s is not a %s document: %s", path, d->name, err.message);
    return CLI_EXIT_OK;
}

/* ---- the write command ---- */

/* --file replaces the document's options; only these may stand beside it. */
static int file_alone(struct cli *g, const struct cli_args *a)
{
    static const char *const ok[] = {"file", "no-wait", "wait", "identity-key", NULL};
    for (size_t i = 0; i < a->n; i++) {
        bool allowed = false;
        for (size_t k = 0; ok[k] != NULL && !allowed; k++)
            allowed = strcmp(a->names[i], ok[k]) == 0;
        for (size_t k = 0; cli_global_opts[k].name != NULL && !allowed; k++)
            allowed = strcmp(a->names[i], cli_global_opts[k].name) == 0;
        if (!allowed)
            return cli_usage(g, "--file holds the whole document: --%s cannot be added to it",
                             a->names[i]);
    }
    return CLI_EXIT_OK;
}

int cli_write(struct cli *g, const struct cli_args *a, Hansa__TxBody__ActionCase action,
              cli_doc_fn build)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&hansa__tx_body__descriptor, (unsigned)action);
    CLI_ASSERT(f != NULL && f->type == PROTOBUF_C_TYPE_MESSAGE);
    const char *file = cli_arg(a, "file");
    int rv = file != NULL ? file_alone(g, a) : CLI_EXIT_OK;
    if (rv == CLI_EXIT_OK)
        rv = cli_connect(g, true);
    if (rv != CLI_EXIT_OK)
        return rv;
    struct cli_arena ar = {0};
    void *from_file = NULL, *doc = NULL;
    if (file != NULL) {
        rv = cli_doc_file(g, file, f->descriptor, &from_file);
        doc = from_file;
    } else {
        rv = build(g, a, &ar, &doc);
    }
    if (rv == CLI_EXIT_OK)
        rv = cli_submit(g, a, action, doc);
    hansa_free(from_file);
    cli_arena_free(&ar);
    return rv;
}
