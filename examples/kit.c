/* See kit.h. */
/* POSIX.1-2008 (clock_gettime, gmtime_r, sigwait): the project's build sets
 * it; this keeps the file compiling on its own (cc $(pkg-config ...)). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kit.h"

/* ---- the command line ------------------------------------------------------------------ */

static const char usage_text[] =
    "usage: trade_flow [--net DIR] [--base-port P] [--nodes N]\n"
    "                  [--node URL --server-name NAME [--events URL]]...\n"
    "                  [--tag TAG] [--ready-ms MS] [--alert-wait-ms MS]\n"
    "\n"
    "Record, finance and protect one cross-border sale on a network made by\n"
    "`hansad testnet`, narrating what each party does and what the ledger answers.\n"
    "\n"
    "  --net DIR          the testnet directory: parties/<ID>.key, parties/identity.key,\n"
    "                     parties/ca.crt (default ./demo-net)\n"
    "  --base-port P      the testnet's base port: node i at tls+tcp://127.0.0.1:P+10i+1\n"
    "                     (server name node<i>), events at P+10i+3 (default 26600)\n"
    "  --nodes N          how many nodes from the base port to use (default 4)\n"
    "  --node URL         a node's client API instead (repeat for several nodes);\n"
    "                     --server-name and --events after it belong to it\n"
    "  --tag TAG          suffix of every id this run creates (default: the UTC time)\n"
    "  --ready-ms MS      how long to wait for the nodes to answer (default 60000)\n"
    "  --alert-wait-ms MS how long to wait for each alert (default 30000)\n"
    "\n"
    "Parties talk to nodes in turn: merchant and payment institution to the first,\n"
    "the carrier to the second, the banks to the third, the regulator to the fourth.\n";

static bool parse_u32(const char *s, uint32_t lo, uint32_t hi, uint32_t *out)
{
    char *end = NULL;
    unsigned long long v = strtoull(s, &end, 10);
    if (s[0] < '0' || s[0] > '9' || *end != '\0' || v < lo || v > hi)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool tag_valid(const char *t)
{
    size_t n = strlen(t);
    if (n == 0 || n > KIT_TAG_BYTES_MAX)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((t[i] >= 'A' && t[i] <= 'Z') || (t[i] >= 'a' && t[i] <= 'z') ||
              (t[i] >= '0' && t[i] <= '9') || t[i] == '-' || t[i] == '.' || t[i] == '_'))
            return false;
    return true;
}

static void nodes_from_base(struct kit_options *o, uint32_t base, uint32_t n)
{
    o->n_nodes = (int)n;
    for (uint32_t i = 0; i < n; i++) {
        struct kit_node *a = &o->nodes[i];
        snprintf(a->url, sizeof a->url, "tls+tcp://127.0.0.1:%u", base + 10 * i + 1);
        snprintf(a->server_name, sizeof a->server_name, "node%u", i);
        snprintf(a->events_url, sizeof a->events_url, "tls+tcp://127.0.0.1:%u", base + 10 * i + 3);
    }
}

static void default_tag(char *out, size_t len)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, len, "%Y%m%d-%H%M%S", &tm);
}

/* One option with its value; false on a usage error (said on stderr). */
static bool parse_option(struct kit_options *o, const char *name, const char *v, uint32_t *base,
                         uint32_t *n)
{
    struct kit_node *last = o->n_nodes > 0 ? &o->nodes[o->n_nodes - 1] : NULL;
    bool ok = true;
    if (strcmp(name, "--net") == 0)
        o->net_dir = v;
    else if (strcmp(name, "--base-port") == 0)
        ok = parse_u32(v, 1, 65535 - 10 * KIT_NODES_MAX, base);
    else if (strcmp(name, "--nodes") == 0)
        ok = parse_u32(v, 1, KIT_NODES_MAX, n);
    else if (strcmp(name, "--node") == 0 && o->n_nodes < KIT_NODES_MAX)
        snprintf(o->nodes[o->n_nodes++].url, sizeof o->nodes[0].url, "%s", v);
    else if (strcmp(name, "--server-name") == 0 && last != NULL)
        snprintf(last->server_name, sizeof last->server_name, "%s", v);
    else if (strcmp(name, "--events") == 0 && last != NULL)
        snprintf(last->events_url, sizeof last->events_url, "%s", v);
    else if (strcmp(name, "--tag") == 0 && tag_valid(v))
        snprintf(o->tag, sizeof o->tag, "%s", v);
    else if (strcmp(name, "--ready-ms") == 0)
        ok = parse_u32(v, 1, 3600000, &o->ready_ms);
    else if (strcmp(name, "--alert-wait-ms") == 0)
        ok = parse_u32(v, 1, 3600000, &o->alert_wait_ms);
    else
        ok = false;
    if (!ok)
        fprintf(stderr, "trade_flow: bad option %s %s (see --help)\n", name, v);
    return ok;
}

int kit_parse_args(int argc, char **argv, struct kit_options *o)
{
    uint32_t base = KIT_BASE_PORT, n = 4;
    memset(o, 0, sizeof *o);
    o->net_dir = "demo-net";
    o->ready_ms = 60000;
    o->alert_wait_ms = 30000;
    default_tag(o->tag, sizeof o->tag);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            fputs(usage_text, stdout);
            return 1;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "trade_flow: %s needs a value (see --help)\n", argv[i]);
            return 2;
        }
        if (!parse_option(o, argv[i], argv[i + 1], &base, &n))
            return 2;
        i++;
    }
    if (o->n_nodes == 0)
        nodes_from_base(o, base, n);
    return 0;
}

/* ---- how things read -------------------------------------------------------------------- */

void kit_say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

bool kit_fail(const char *fmt, ...)
{
    fflush(stdout);
    fputs("trade_flow: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return false;
}

uint64_t kit_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t kit_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

void kit_poll_pause(void)
{
    struct timespec ts = {0, 50 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

const char *kit_money(char *buf, size_t len, int64_t minor)
{
    char digits[32];
    int64_t units = minor / 100;
    snprintf(digits, sizeof digits, "%" PRId64, units);
    size_t n = strlen(digits), o = 0;
    char grouped[32]; /* 19 digits and 6 commas at most */
    for (size_t i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            grouped[o++] = ',';
        grouped[o++] = digits[i];
    }
    grouped[o] = '\0';
    snprintf(buf, len, "EUR %s.%02d", grouped, (int)(minor % 100));
    return buf;
}

const char *kit_short_hex(char *buf, const uint8_t *b)
{
    snprintf(buf, 12, "%02x%02x%02x%02x..", b[0], b[1], b[2], b[3]);
    return buf;
}

const char *kit_utc_text(char *buf, size_t len, uint64_t ms)
{
    time_t t = (time_t)(ms / 1000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, len, "%d %b %H:%M UTC", &tm);
    return buf;
}

const char *kit_enum_name(const ProtobufCEnumDescriptor *d, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v == NULL || d->n_values == 0)
        return "?";
    /* The prefix all names share, cut back to its last '_'. */
    size_t common = strlen(d->values[0].name);
    for (unsigned i = 1; i < d->n_values; i++) {
        size_t k = 0;
        while (k < common && d->values[i].name[k] == d->values[0].name[k])
            k++;
        common = k;
    }
    while (common > 0 && d->values[0].name[common - 1] != '_')
        common--;
    return v->name + common;
}

const char *kit_match_text(const Hansa__Order *o, char *buf, size_t len)
{
    const Hansa__MatchResult *m = o->match;
    int n =
        snprintf(buf, len, "%s",
                 kit_enum_name(&hansa__match_status__descriptor, m != NULL ? (int)m->status : 0));
    for (size_t i = 0; m != NULL && i < m->n_reasons && n > 0 && (size_t)n < len; i++)
        n += snprintf(buf + n, len - (size_t)n, "%s%s%s", i == 0 ? " (" : ", ",
                      kit_enum_name(&hansa__match_reason__descriptor, (int)m->reasons[i]),
                      i + 1 == m->n_reasons ? ")" : "");
    return buf;
}

/* ---- the documents of the sale ---------------------------------------------------------- */

static ProtobufCBinaryData bytes32(uint8_t *b)
{
    return (ProtobufCBinaryData){32, b};
}

static void order_ref_init(Hansa__OrderRef *ref, const char *order_no)
{
    hansa__order_ref__init(ref);
    ref->merchant = "MER-SZ-0001";
    ref->order_no = (char *)order_no;
}

void kit_order_init(struct kit_order *d, const char *order_no, struct kit_people *who)
{
    static const struct {
        const char *name, *hs;
        uint64_t quantity;
        int64_t unit_price_minor;
    } lines[2] = {{"Solar garden lamp", "940540", 24, 1250},
                  {"LED string light 10 m", "940530", 12, 840}};
    int64_t goods_minor = 0;
    for (int i = 0; i < 2; i++) {
        Hansa__OrderItem *it = &d->items[i];
        hansa__order_item__init(it);
        it->line_no = (uint32_t)i + 1;
        it->item_name = (char *)lines[i].name;
        it->hs_code = (char *)lines[i].hs;
        it->quantity_milli = lines[i].quantity * 1000;
        it->unit = "H87"; /* piece */
        it->unit_price_minor = lines[i].unit_price_minor;
        it->line_total_minor = (int64_t)lines[i].quantity * lines[i].unit_price_minor;
        goods_minor += it->line_total_minor;
        d->item_ptrs[i] = it;
    }
    Hansa__CreateOrder *o = &d->doc;
    hansa__create_order__init(o);
    o->order_no = (char *)order_no;
    o->merchant = "MER-SZ-0001";
    o->platform = "PLT-0001";
    o->trade_mode = HANSA__TRADE_MODE__TRADE_MODE_EXPORT;
    o->buyer_commitment = bytes32(who->buyer);
    o->consignee_name_commitment = bytes32(who->name);
    o->consignee_phone_commitment = bytes32(who->phone);
    o->consignee_address_commitment = bytes32(who->address);
    o->n_items = 2;
    o->items = d->item_ptrs;
    /* DOMAIN "Documents": Σ line totals = goods value; actual paid = goods
     * value + freight + tax - discount. */
    o->goods_value_minor = goods_minor; /* 40,080 */
    o->freight_minor = 2500;
    o->discount_minor = 580;
    o->actual_paid_minor = goods_minor + o->freight_minor - o->discount_minor; /* 42,000 */
    o->currency = "EUR";
    o->origin_country = "CN";
    o->destination_country = "DE";
}

void kit_payment_init(struct kit_payment *p, const char *order_no, const char *pay_id,
                      uint8_t payer[32], int64_t amount_minor, uint64_t pay_time_ms)
{
    order_ref_init(&p->ref, order_no);
    hansa__record_payment__init(&p->doc);
    p->doc.pay_transaction_id = (char *)pay_id;
    p->doc.order = &p->ref;
    p->doc.payer_commitment = bytes32(payer);
    p->doc.amount_paid_minor = amount_minor;
    p->doc.currency = "EUR";
    p->doc.pay_time_ms = pay_time_ms;
}

void kit_waybill_init(struct kit_waybill *w, const char *order_no, const char *waybill_no,
                      struct kit_people *who)
{
    order_ref_init(&w->ref, order_no);
    w->hs_codes[0] = "940540";
    w->hs_codes[1] = "940530";
    Hansa__CreateWaybill *d = &w->doc;
    hansa__create_waybill__init(d);
    d->logistics_no = (char *)waybill_no;
    d->order = &w->ref;
    d->freight_minor = 2500;
    d->currency = "EUR";
    d->gross_weight_grams = 6400;
    d->package_count = 2;
    d->goods_description = "Solar garden lamps and LED string lights";
    d->n_hs_codes = 2;
    d->hs_codes = w->hs_codes;
    d->consignee_name_commitment = bytes32(who->name);
    d->consignee_phone_commitment = bytes32(who->phone);
    d->consignee_address_commitment = bytes32(who->address);
    d->origin_locode = "CNSZX";
    d->destination_locode = "DEHAM";
}

void kit_financing_init(struct kit_financing *r, const char *financing_id, const char *bank,
                        const char *line_id, const char *order_no, int64_t amount_minor,
                        uint64_t maturity_ms)
{
    hansa__line_ref__init(&r->line);
    r->line.bank = (char *)bank;
    r->line.line_id = (char *)line_id;
    order_ref_init(&r->ref, order_no);
    r->refs[0] = &r->ref;
    hansa__request_financing__init(&r->doc);
    r->doc.financing_id = (char *)financing_id;
    r->doc.line = &r->line;
    r->doc.n_orders = 1;
    r->doc.orders = r->refs;
    r->doc.amount_minor = amount_minor;
    r->doc.currency = "EUR";
    r->doc.maturity_ms = maturity_ms;
}
