/*
 * The trade documents: `hansa order create|get|list|cancel`, `hansa
 * payment record|get`, `hansa waybill create|event|get`.
 *
 * Writes go through cli_write (docs.c builds the documents; the key's
 * party signs); reads are signed queries whose record is printed as text
 * or, with --json, as the protocol record in JSON. A party's own objects
 * need no owner option: the merchant of `order get` defaults to the key's
 * party, as do the institution of `payment get` and the carrier of
 * `waybill get`.
 */
#include <string.h>

#include "cli.h"

#define ACTION(x) HANSA__TX_BODY__ACTION_##x

/* Print a read's record (or its failure). */
#define SHOW(g, code, err, rec, render)                                                            \
    do {                                                                                           \
        if ((code) != HANSA_CODE_OK)                                                               \
            return cli_fail_sdk((g), (code), &(err));                                              \
        int rv_ = CLI_EXIT_OK;                                                                     \
        if ((g)->json)                                                                             \
            rv_ = cli_print_json((g), (rec));                                                      \
        else                                                                                       \
            render((g)->out, (rec));                                                               \
        hansa_free(rec);                                                                           \
        return rv_;                                                                                \
    } while (0)

/* ---- order ---- */

static int order_create(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(CREATE_ORDER), cli_doc_order);
}

static int cancel_doc(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    const char *merchant, *no;
    int rv = cli_id_opt(g, a, "merchant", true, &merchant);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "order-no", false, &no);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__CancelOrder *m = cli_arena_alloc(ar, sizeof *m);
    hansa__cancel_order__init(m);
    m->order = cli_arena_alloc(ar, sizeof *m->order);
    hansa__order_ref__init(m->order);
    m->order->merchant = cli_arena_strdup(ar, merchant);
    m->order->order_no = cli_arena_strdup(ar, no);
    *out = m;
    return CLI_EXIT_OK;
}

static int order_cancel(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(CANCEL_ORDER), cancel_doc);
}

static int order_get(struct cli *g, const struct cli_args *a)
{
    const char *merchant, *no;
    int rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "merchant", true, &merchant);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "order-no", false, &no);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__Order *o = NULL;
    hansa_error err;
    hansa_code code = hansa_order_get(g->client, merchant, no, &o, &err);
    SHOW(g, code, err, o, cli_render_order);
}

/* A page size option, 1-100 (0 = the node's default of 50). */
static int limit_opt(struct cli *g, const struct cli_args *a, uint32_t *limit)
{
    const char *v = cli_arg(a, "limit");
    uint64_t n = 0;
    if (v != NULL && (!cli_parse_u64(v, 100, &n) || n == 0))
        return cli_usage(g, "--limit %s: expected 1-100", v);
    *limit = (uint32_t)n;
    return CLI_EXIT_OK;
}

static int order_list(struct cli *g, const struct cli_args *a)
{
    const char *party;
    uint32_t limit = 0;
    int rv = limit_opt(g, a, &limit);
    if (rv == CLI_EXIT_OK)
        rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "party", true, &party);
    if (rv != CLI_EXIT_OK)
        return rv;
    const char *token = cli_arg(a, "page-token");
    Hansa__RecordPage *p = NULL;
    hansa_error err;
    hansa_code code = hansa_list(g->client, party, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER,
                                 token != NULL ? token : "", limit, &p, &err);
    if (code == HANSA_CODE_INVALID_ARGUMENT)
        return cli_usage(g, "%s", err.message);
    if (code != HANSA_CODE_OK)
        return cli_fail_sdk(g, code, &err);
    if (g->json) {
        rv = cli_print_json(g, p);
    } else {
        cli_render_records(g->out, p, HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER);
        char next[HANSA_PAGE_TOKEN_TEXT_MAX];
        if (p->next_page_token.len > 0 &&
            hansa_page_token_text(&p->next_page_token, next, sizeof next, &err) == HANSA_CODE_OK)
            fprintf(g->out, "… more, use --page-token %s\n", next);
    }
    hansa_free(p);
    return rv;
}

/* ---- payment ---- */

static int payment_record(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(RECORD_PAYMENT), cli_doc_payment);
}

static int payment_get(struct cli *g, const struct cli_args *a)
{
    const char *inst, *id;
    int rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "institution", true, &inst);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "pay-transaction-id", false, &id);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__Payment *p = NULL;
    hansa_error err;
    hansa_code code = hansa_payment_get(g->client, inst, id, &p, &err);
    SHOW(g, code, err, p, cli_render_payment);
}

/* ---- waybill ---- */

static int waybill_create(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(CREATE_WAYBILL), cli_doc_waybill);
}

static int event_doc(struct cli *g, const struct cli_args *a, struct cli_arena *ar, void **out)
{
    const char *no, *type, *loc;
    int rv = cli_id_opt(g, a, "logistics-no", false, &no);
    if (rv == CLI_EXIT_OK)
        rv = cli_need(g, a, "type", &type);
    if (rv == CLI_EXIT_OK)
        rv = cli_need(g, a, "location-locode", &loc);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__AddShipmentEvent *m = cli_arena_alloc(ar, sizeof *m);
    hansa__add_shipment_event__init(m);
    int t;
    if (!cli_parse_enum(&hansa__shipment_event_type__descriptor, type, &t)) {
        char names[512];
        cli_enum_list(&hansa__shipment_event_type__descriptor, names, sizeof names);
        return cli_usage(g, "--type %s: expected one of %s", type, names);
    }
    m->type = (Hansa__ShipmentEventType)t;
    m->waybill = cli_arena_alloc(ar, sizeof *m->waybill);
    hansa__waybill_ref__init(m->waybill);
    m->waybill->carrier = cli_arena_strdup(ar, cli_party(g));
    m->waybill->logistics_no = cli_arena_strdup(ar, no);
    m->location_locode = cli_arena_strdup(ar, loc);
    *out = m;
    return cli_time_opt(g, a, "event-time", cli_now_ms(), &m->event_time_ms);
}

static int waybill_event(struct cli *g, const struct cli_args *a)
{
    return cli_write(g, a, ACTION(ADD_SHIPMENT_EVENT), event_doc);
}

static int waybill_get(struct cli *g, const struct cli_args *a)
{
    const char *carrier, *no;
    int rv = cli_connect(g, true);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "carrier", true, &carrier);
    if (rv == CLI_EXIT_OK)
        rv = cli_id_opt(g, a, "logistics-no", false, &no);
    if (rv != CLI_EXIT_OK)
        return rv;
    Hansa__Waybill *w = NULL;
    hansa_error err;
    hansa_code code = hansa_waybill_get(g->client, carrier, no, &w, &err);
    SHOW(g, code, err, w, cli_render_waybill);
}

/* ---- options ---- */

/* The consignee of an order or a waybill: in clear (committed here with the
 * identity key) or as a ready commitment. */
/* clang-format off */
#define CONSIGNEE_OPTS \
    {"consignee-name", CLI_OPT_VALUE, NULL}, {"consignee-name-commitment", CLI_OPT_VALUE, NULL}, \
    {"consignee-phone", CLI_OPT_VALUE, NULL}, {"consignee-phone-commitment", CLI_OPT_VALUE, NULL}, \
    {"consignee-address", CLI_OPT_VALUE, NULL}, \
    {"consignee-address-commitment", CLI_OPT_VALUE, NULL}
/* clang-format on */

static const struct cli_opt order_create_opts[] = {
    {"order-no", CLI_OPT_VALUE, NULL},
    {"merchant", CLI_OPT_VALUE, NULL},
    {"platform", CLI_OPT_VALUE, NULL},
    {"trade-mode", CLI_OPT_VALUE, NULL},
    {"buyer-id", CLI_OPT_VALUE, NULL},
    {"buyer-commitment", CLI_OPT_VALUE, NULL},
    {"buyer-party", CLI_OPT_VALUE, NULL},
    CONSIGNEE_OPTS,
    {"item", CLI_OPT_LIST, NULL},
    {"currency", CLI_OPT_VALUE, NULL},
    {"freight", CLI_OPT_VALUE, NULL},
    {"tax", CLI_OPT_VALUE, NULL},
    {"tax-total", CLI_OPT_VALUE, "tax"},
    {"discount", CLI_OPT_VALUE, NULL},
    {"origin-country", CLI_OPT_VALUE, NULL},
    {"origin", CLI_OPT_VALUE, "origin-country"},
    {"destination-country", CLI_OPT_VALUE, NULL},
    {"destination", CLI_OPT_VALUE, "destination-country"},
    {"identity-key", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt order_ref_opts[] = {
    {"merchant", CLI_OPT_VALUE, NULL},
    {"order-no", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt order_cancel_opts[] = {
    {"merchant", CLI_OPT_VALUE, NULL},
    {"order-no", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt order_list_opts[] = {
    {"party", CLI_OPT_VALUE, NULL},
    {"limit", CLI_OPT_VALUE, NULL},
    {"page-token", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt payment_record_opts[] = {
    {"pay-transaction-id", CLI_OPT_VALUE, NULL},
    {"pay-id", CLI_OPT_VALUE, "pay-transaction-id"},
    {"merchant", CLI_OPT_VALUE, NULL},
    {"order-no", CLI_OPT_VALUE, NULL},
    {"payer-id", CLI_OPT_VALUE, NULL},
    {"payer-commitment", CLI_OPT_VALUE, NULL},
    {"amount", CLI_OPT_VALUE, NULL},
    {"amount-paid", CLI_OPT_VALUE, "amount"},
    {"currency", CLI_OPT_VALUE, NULL},
    {"pay-time", CLI_OPT_VALUE, NULL},
    {"identity-key", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt payment_get_opts[] = {
    {"institution", CLI_OPT_VALUE, NULL},
    {"pay-transaction-id", CLI_OPT_VALUE, NULL},
    {"pay-id", CLI_OPT_VALUE, "pay-transaction-id"},
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt waybill_create_opts[] = {
    {"logistics-no", CLI_OPT_VALUE, NULL},
    {"merchant", CLI_OPT_VALUE, NULL},
    {"order-no", CLI_OPT_VALUE, NULL},
    {"currency", CLI_OPT_VALUE, NULL},
    {"freight", CLI_OPT_VALUE, NULL},
    {"insured-fee", CLI_OPT_VALUE, NULL},
    {"gross-weight-grams", CLI_OPT_VALUE, NULL},
    {"package-count", CLI_OPT_VALUE, NULL},
    {"packages", CLI_OPT_VALUE, "package-count"},
    {"goods-description", CLI_OPT_VALUE, NULL},
    {"description", CLI_OPT_VALUE, "goods-description"},
    {"hs-code", CLI_OPT_LIST, NULL},
    CONSIGNEE_OPTS,
    {"origin-locode", CLI_OPT_VALUE, NULL},
    {"origin", CLI_OPT_VALUE, "origin-locode"},
    {"destination-locode", CLI_OPT_VALUE, NULL},
    {"destination", CLI_OPT_VALUE, "destination-locode"},
    {"identity-key", CLI_OPT_VALUE, NULL},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt waybill_event_opts[] = {
    {"logistics-no", CLI_OPT_VALUE, NULL},
    {"type", CLI_OPT_VALUE, NULL},
    {"location-locode", CLI_OPT_VALUE, NULL},
    {"location", CLI_OPT_VALUE, "location-locode"},
    {"event-time", CLI_OPT_VALUE, NULL},
    {"time", CLI_OPT_VALUE, "event-time"},
    CLI_WRITE_OPTS,
    {NULL, CLI_OPT_FLAG, NULL},
};

static const struct cli_opt waybill_get_opts[] = {
    {"carrier", CLI_OPT_VALUE, NULL},
    {"logistics-no", CLI_OPT_VALUE, NULL},
    {NULL, CLI_OPT_FLAG, NULL},
};

/* ---- help ---- */

#define WRITE_HELP                                                                                 \
    "Write options:\n"                                                                             \
    "  --file FILE         the whole document as JSON (hansa.proto field names;\n"                 \
    "                      '-' reads stdin) instead of the options above\n"                        \
    "  --wait MS           wait this long for the commit (default 30000)\n"                        \
    "  --no-wait           return once the node admitted it\n"                                     \
    "The signer is the key's party. Prints the result code, tx id and height.\n"

#define AMOUNTS_HELP                                                                               \
    "Amounts are in major units of the currency: 150.00 CNY is --freight 150.00\n"                 \
    "(JPY has no decimals, KWD three).\n"

static const char help_order_create[] =
    "Create an order (CEB311) as a merchant, or as a platform on a merchant's\n"
    "behalf. Goods value (the sum of line totals) and actual paid (goods value +\n"
    "freight + tax - discount) are computed; a line total is qty x price unless\n"
    "total= is given.\n"
    "\n"
    "  --order-no NO           your order number, unique forever (required)\n"
    "  --merchant ID           the seller (default: the key's party)\n"
    "  --platform ID           the platform the order was placed on; a platform\n"
    "                          signing names itself\n"
    "  --trade-mode MODE       EXPORT (default), RETAIL_IMPORT or B2B\n"
    "  --buyer-id TEXT         the buyer's account or customer id, committed with the\n"
    "                          identity key (or --buyer-commitment HEX) (required)\n"
    "  --buyer-party ID        B2B only: the buyer's party id\n"
    "  --consignee-name TEXT   consignee name, phone (international, +49 ...) and\n"
    "  --consignee-phone TEXT  address, each committed with the identity key (or\n"
    "  --consignee-address TEXT  --consignee-name-commitment HEX ...) (required)\n"
    "  --item SPEC             one order line, repeat per line (required):\n"
    "                          \"hs=851822,name=Bluetooth speaker,qty=2,unit=H87,\n"
    "                          price=150.00\" (optional total=..., line=N; \\, for a\n"
    "                          comma inside a value)\n"
    "  --currency CODE         ISO 4217 currency of every amount (required)\n"
    "  --freight AMOUNT        freight charged to the buyer (default 0)\n"
    "  --tax AMOUNT            taxes charged (default 0)\n"
    "  --discount AMOUNT       discount (default 0)\n"
    "  --origin-country CC     country the goods ship from, e.g. CN (required)\n"
    "  --destination-country CC  country they ship to, e.g. DE (required)\n"
    "  --identity-key FILE     consortium identity key (env HANSA_IDENTITY_KEY;\n"
    "                          default: identity.key beside the --key file)\n" AMOUNTS_HELP
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa order create --order-no SO-1001 --buyer-id DE-BUYER-0042 \\\n"
    "    --consignee-name 'Anna Schmidt' --consignee-phone '+49 40 1234 5678' \\\n"
    "    --consignee-address 'Jungfernstieg 1, Hamburg' --currency CNY \\\n"
    "    --item 'hs=851822,name=Bluetooth speaker,qty=2,unit=H87,price=150.00' \\\n"
    "    --freight 10.00 --origin-country CN --destination-country DE\n";

static const char help_order_get[] =
    "Show an order: status, three-document match, amounts, its payment, waybill and\n"
    "pledge, and its lines.\n"
    "\n"
    "  --merchant ID   the order's merchant (default: the key's party)\n"
    "  --order-no NO   the order number (required)\n"
    "\n"
    "Example:\n"
    "  hansa order get --merchant MER-SZ-0001 --order-no SO-1001\n";

static const char help_order_list[] =
    "List the orders of a party (as merchant or platform), a page at a time.\n"
    "\n"
    "  --party ID          whose orders (default: the key's party)\n"
    "  --limit N           orders per page, 1-100 (default 50)\n"
    "  --page-token TOKEN  the next page, as printed after the previous one\n"
    "\n"
    "Example:\n"
    "  hansa order list --limit 20\n";

static const char help_order_cancel[] =
    "Cancel an order that is still CREATED and not pledged (its merchant, or the\n"
    "platform that created it).\n"
    "\n"
    "  --merchant ID   the order's merchant (default: the key's party)\n"
    "  --order-no NO   the order number (required)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa order cancel --order-no SO-1001\n";

static const char help_payment_record[] =
    "Record the payment of an order (CEB411), as a payment institution.\n"
    "\n"
    "  --pay-transaction-id ID  your transaction id, unique (alias --pay-id) (required)\n"
    "  --merchant ID            the order's merchant (required)\n"
    "  --order-no NO            the order paid (required)\n"
    "  --payer-id TEXT          the payer's account or customer id, committed with the\n"
    "                           identity key like the order's --buyer-id (or\n"
    "                           --payer-commitment HEX) (required)\n"
    "  --amount AMOUNT          amount paid, major units (alias --amount-paid) (required)\n"
    "  --currency CODE          ISO 4217 currency (required)\n"
    "  --pay-time TIME          when it was paid: ISO-8601, now, -2h ... (default now)\n"
    "  --identity-key FILE      as for order create\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa payment record --pay-id PAY-1001 --merchant MER-SZ-0001 \\\n"
    "    --order-no SO-1001 --payer-id DE-BUYER-0042 --amount 310.00 --currency CNY\n";

static const char help_payment_get[] =
    "Show a payment.\n"
    "\n"
    "  --institution ID         the payment institution (default: the key's party)\n"
    "  --pay-transaction-id ID  its transaction id (alias --pay-id) (required)\n"
    "\n"
    "Example:\n"
    "  hansa payment get --institution PAY-0001 --pay-id PAY-1001\n";

static const char help_waybill_create[] =
    "Create the waybill of an order (CEB511), as a carrier or forwarder.\n"
    "\n"
    "  --logistics-no NO          your waybill number, unique (required)\n"
    "  --merchant ID              the order's merchant (required)\n"
    "  --order-no NO              the order shipped (required)\n"
    "  --currency CODE            currency of freight and insured fee (required)\n"
    "  --freight AMOUNT           freight (default 0)\n"
    "  --insured-fee AMOUNT       insurance fee (default 0)\n"
    "  --gross-weight-grams N     gross weight in grams (required)\n"
    "  --package-count N          number of packages (default 1)\n"
    "  --goods-description TEXT   description of the goods (required)\n"
    "  --hs-code CODE             an HS code of the goods, repeat per code (required)\n"
    "  --consignee-name TEXT      consignee, committed as for order create (required;\n"
    "  --consignee-phone TEXT     they must equal the order's for the match)\n"
    "  --consignee-address TEXT\n"
    "  --origin-locode CODE       UN/LOCODE the goods leave, e.g. CNSZX (required)\n"
    "  --destination-locode CODE  UN/LOCODE they go to, e.g. DEHAM (required)\n"
    "  --identity-key FILE        as for order create\n" AMOUNTS_HELP "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa waybill create --logistics-no WB-1001 --merchant MER-SZ-0001 \\\n"
    "    --order-no SO-1001 --currency CNY --freight 10.00 --gross-weight-grams 1200 \\\n"
    "    --goods-description 'Bluetooth speakers' --hs-code 851822 \\\n"
    "    --consignee-name 'Anna Schmidt' --consignee-phone '+49 40 1234 5678' \\\n"
    "    --consignee-address 'Jungfernstieg 1, Hamburg' \\\n"
    "    --origin-locode CNSZX --destination-locode DEHAM\n";

static const char help_waybill_event[] =
    "Add a shipment event to one of your waybills. The first DEPARTED ships the\n"
    "order; DELIVERED and RETURNED end it.\n"
    "\n"
    "  --logistics-no NO       your waybill number (required)\n"
    "  --type TYPE             RECEIVED, LOADED, DEPARTED, ARRIVED, DISCHARGED,\n"
    "                          CUSTOMS_HOLD, CUSTOMS_RELEASED, OUT_FOR_DELIVERY,\n"
    "                          DELIVERED, EXCEPTION or RETURNED (required)\n"
    "  --location-locode CODE  where, UN/LOCODE (alias --location) (required)\n"
    "  --event-time TIME       when: ISO-8601, now, -3h ... (alias --time; default now)\n"
    "\n" WRITE_HELP "\n"
    "Example:\n"
    "  hansa waybill event --logistics-no WB-1001 --type DEPARTED --location CNSZX\n";

static const char help_waybill_get[] =
    "Show a waybill with its shipment events.\n"
    "\n"
    "  --carrier ID        the carrier (default: the key's party)\n"
    "  --logistics-no NO   the waybill number (required)\n"
    "\n"
    "Example:\n"
    "  hansa waybill get --carrier LOG-0001 --logistics-no WB-1001\n";

const struct cli_cmd cli_cmds_trade[] = {
    {"order", "create", "create an order (merchant, platform)", help_order_create,
     "hansa order create --order-no NO --buyer-id ID --consignee-... --item SPEC... "
     "--currency CODE --origin-country CC --destination-country CC [options]",
     order_create_opts, 0, order_create},
    {"order", "get", "show an order", help_order_get,
     "hansa order get [--merchant ID] --order-no NO", order_ref_opts, 0, order_get},
    {"order", "list", "list a party's orders", help_order_list,
     "hansa order list [--party ID] [--limit N] [--page-token TOKEN]", order_list_opts, 0,
     order_list},
    {"order", "cancel", "cancel an order", help_order_cancel,
     "hansa order cancel [--merchant ID] --order-no NO", order_cancel_opts, 0, order_cancel},
    {"payment", "record", "record an order's payment (payment institution)", help_payment_record,
     "hansa payment record --pay-id ID --merchant ID --order-no NO --payer-id ID --amount "
     "AMOUNT --currency CODE [options]",
     payment_record_opts, 0, payment_record},
    {"payment", "get", "show a payment", help_payment_get,
     "hansa payment get [--institution ID] --pay-id ID", payment_get_opts, 0, payment_get},
    {"waybill", "create", "create an order's waybill (logistics)", help_waybill_create,
     "hansa waybill create --logistics-no NO --merchant ID --order-no NO [options]",
     waybill_create_opts, 0, waybill_create},
    {"waybill", "event", "add a shipment event (logistics)", help_waybill_event,
     "hansa waybill event --logistics-no NO --type TYPE --location CODE [--time TIME]",
     waybill_event_opts, 0, waybill_event},
    {"waybill", "get", "show a waybill and its events", help_waybill_get,
     "hansa waybill get [--carrier ID] --logistics-no NO", waybill_get_opts, 0, waybill_get},
    {NULL, NULL, NULL, NULL, NULL, NULL, 0, NULL},
};
