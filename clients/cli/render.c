/*
 * Records as text: a key-value block per record, with a table under it for
 * its lines (order items, shipment events, block transactions), and one
 * line per record or alert for listings.
 *
 * Conventions: amounts in major units with their currency ("150.00 CNY"),
 * times ISO-8601 UTC with milliseconds, hashes and commitments in full
 * lower-case hex, enum values by their short name ("DISBURSED"), references
 * as owner/id ("MER-SZ-0001/SO-1"), "-" for what is not set. Every field a
 * person acts on is shown; the full record is what --json prints.
 *
 * The small formatting helpers return rotating static buffers so that one
 * cli_kv call can format several values; rendering runs on one thread at a
 * time (the main thread, or the subscription's callback while the main
 * thread waits).
 */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "cli.h"

#define ROT 16

static char *rot(void)
{
    static char bufs[ROT][192];
    static unsigned i;
    return bufs[i++ % ROT];
}

static const char *amt(int64_t minor, const char *currency)
{
    char *b = rot();
    cli_format_amount(minor, currency, b, 192);
    return b;
}

static const char *tm(uint64_t ms)
{
    char *b = rot();
    cli_format_time(ms, b, 192);
    return b;
}

static const char *en(const ProtobufCEnumDescriptor *d, int v)
{
    char *b = rot();
    return cli_enum_name(d, v, b, 192);
}

static const char *hex(ProtobufCBinaryData b)
{
    static char bufs[4][2 * 64 + 1];
    static unsigned i;
    char *out = bufs[i++ % 4];
    if (b.len > 64) {
        cli_hex(b.data, 64, out);
        return out;
    }
    cli_hex(b.data, b.len, out);
    return out;
}

static const char *str(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "-";
}

void cli_ref(const char *owner, const char *id, char *out, size_t out_len)
{
    if (owner != NULL && owner[0] != '\0')
        snprintf(out, out_len, "%s/%s", owner, id != NULL ? id : "");
    else
        snprintf(out, out_len, "%s", id != NULL && id[0] ? id : "-");
}

static const char *ref(const char *owner, const char *id)
{
    char *b = rot();
    cli_ref(owner, id, b, 192);
    return b;
}

static void kv_print(FILE *f, struct cli_table *t)
{
    cli_table_print(t, f, NULL);
    cli_table_free(t);
}

#define E(type, v) en(&hansa__##type##__descriptor, (int)(v))

/* ---- orders ---- */

static void order_match(struct cli_table *t, const Hansa__MatchResult *m)
{
    if (m == NULL) {
        cli_kv(t, "match", "-");
        return;
    }
    char reasons[256] = "";
    size_t o = 0;
    for (size_t i = 0; i < m->n_reasons && o < sizeof reasons; i++)
        o += (size_t)snprintf(reasons + o, sizeof reasons - o, "%s%s", i ? ", " : ": ",
                              E(match_reason, m->reasons[i]));
    if (m->decided_height != 0)
        cli_kv(t, "match", "%s%s (height %llu, %s)", E(match_status, m->status), reasons,
               (unsigned long long)m->decided_height, tm(m->decided_ms));
    else
        cli_kv(t, "match", "%s%s", E(match_status, m->status), reasons);
}

static void order_items(FILE *f, const Hansa__CreateOrder *d)
{
    static const char *const head[] = {"LINE", "HS CODE",    "ITEM",      "QTY",
                                       "UNIT", "UNIT PRICE", "LINE TOTAL"};
    struct cli_table t;
    cli_table_init(&t, 7, head);
    for (size_t i = 0; i < d->n_items; i++) {
        const Hansa__OrderItem *it = d->items[i];
        char line[16], qty[CLI_VALUE_TEXT_MAX];
        snprintf(line, sizeof line, "%u", (unsigned)it->line_no);
        cli_format_quantity(it->quantity_milli, qty, sizeof qty);
        const char *row[] = {line,
                             it->hs_code,
                             it->item_name,
                             qty,
                             it->unit,
                             amt(it->unit_price_minor, d->currency),
                             amt(it->line_total_minor, d->currency)};
        cli_table_row(&t, row);
    }
    fputc('\n', f);
    cli_table_print(&t, f, NULL);
    cli_table_free(&t);
}

void cli_render_order(FILE *f, const Hansa__Order *o)
{
    static const Hansa__CreateOrder empty = HANSA__CREATE_ORDER__INIT;
    const Hansa__CreateOrder *d = o->document != NULL ? o->document : &empty;
    const char *cur = d->currency;
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "order", "%s", ref(d->merchant, d->order_no));
    cli_kv(&t, "status", "%s", E(order_status, o->status));
    order_match(&t, o->match);
    cli_kv(&t, "trade mode", "%s", E(trade_mode, d->trade_mode));
    cli_kv(&t, "platform", "%s", str(d->platform));
    if (d->buyer_party != NULL && d->buyer_party[0])
        cli_kv(&t, "buyer party", "%s", d->buyer_party);
    cli_kv(&t, "buyer", "%s", hex(d->buyer_commitment));
    cli_kv(&t, "route", "%s -> %s", str(d->origin_country), str(d->destination_country));
    cli_kv(&t, "goods value", "%s", amt(d->goods_value_minor, cur));
    cli_kv(&t, "freight", "%s", amt(d->freight_minor, cur));
    cli_kv(&t, "tax", "%s", amt(d->tax_total_minor, cur));
    cli_kv(&t, "discount", "%s", amt(d->discount_minor, cur));
    cli_kv(&t, "actual paid", "%s", amt(d->actual_paid_minor, cur));
    cli_kv(&t, "payment", "%s",
           o->payment ? ref(o->payment->institution, o->payment->pay_transaction_id) : "-");
    cli_kv(&t, "waybill", "%s",
           o->waybill ? ref(o->waybill->carrier, o->waybill->logistics_no) : "-");
    cli_kv(&t, "pledged to", "%s",
           o->pledged_by ? ref(o->pledged_by->merchant, o->pledged_by->financing_id) : "-");
    cli_kv(&t, "created", "%s by %s at height %llu", tm(o->created_ms), str(o->created_by),
           (unsigned long long)o->created_height);
    cli_kv(&t, "created tx", "%s", hex(o->created_tx_id));
    cli_kv(&t, "updated height", "%llu", (unsigned long long)o->updated_height);
    kv_print(f, &t);
    order_items(f, d);
}

/* ---- payments and waybills ---- */

void cli_render_payment(FILE *f, const Hansa__Payment *p)
{
    static const Hansa__RecordPayment empty = HANSA__RECORD_PAYMENT__INIT;
    const Hansa__RecordPayment *d = p->document != NULL ? p->document : &empty;
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "payment", "%s", ref(p->institution, d->pay_transaction_id));
    cli_kv(&t, "order", "%s", d->order ? ref(d->order->merchant, d->order->order_no) : "-");
    cli_kv(&t, "amount paid", "%s", amt(d->amount_paid_minor, d->currency));
    cli_kv(&t, "payer", "%s", hex(d->payer_commitment));
    cli_kv(&t, "paid at", "%s", tm(d->pay_time_ms));
    cli_kv(&t, "recorded", "%s at height %llu", tm(p->recorded_ms),
           (unsigned long long)p->recorded_height);
    cli_kv(&t, "tx", "%s", hex(p->tx_id));
    kv_print(f, &t);
}

static void waybill_events(FILE *f, const Hansa__Waybill *w)
{
    fputc('\n', f);
    if (w->n_events == 0) {
        fputs("no shipment events yet\n", f);
        return;
    }
    static const char *const head[] = {"EVENT", "LOCATION", "EVENT TIME", "RECORDED", "HEIGHT"};
    struct cli_table t;
    cli_table_init(&t, 5, head);
    for (size_t i = 0; i < w->n_events; i++) {
        const Hansa__ShipmentEvent *e = w->events[i];
        char h[24];
        snprintf(h, sizeof h, "%llu", (unsigned long long)e->recorded_height);
        const char *row[] = {E(shipment_event_type, e->type), e->location_locode,
                             tm(e->event_time_ms), tm(e->recorded_ms), h};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, f, NULL);
    cli_table_free(&t);
}

void cli_render_waybill(FILE *f, const Hansa__Waybill *w)
{
    static const Hansa__CreateWaybill empty = HANSA__CREATE_WAYBILL__INIT;
    const Hansa__CreateWaybill *d = w->document != NULL ? w->document : &empty;
    char hs[512] = "";
    size_t o = 0;
    for (size_t i = 0; i < d->n_hs_codes && o < sizeof hs; i++)
        o += (size_t)snprintf(hs + o, sizeof hs - o, "%s%s", i ? ", " : "", d->hs_codes[i]);
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "waybill", "%s", ref(w->carrier, d->logistics_no));
    cli_kv(&t, "order", "%s", d->order ? ref(d->order->merchant, d->order->order_no) : "-");
    cli_kv(&t, "route", "%s -> %s", str(d->origin_locode), str(d->destination_locode));
    cli_kv(&t, "goods", "%s", str(d->goods_description));
    cli_kv(&t, "hs codes", "%s", str(hs));
    cli_kv(&t, "packages", "%u", (unsigned)d->package_count);
    cli_kv(&t, "gross weight", "%llu g", (unsigned long long)d->gross_weight_grams);
    cli_kv(&t, "freight", "%s", amt(d->freight_minor, d->currency));
    cli_kv(&t, "insured fee", "%s", amt(d->insured_fee_minor, d->currency));
    cli_kv(&t, "created", "%s at height %llu", tm(w->created_ms),
           (unsigned long long)w->created_height);
    cli_kv(&t, "tx", "%s", hex(w->tx_id));
    kv_print(f, &t);
    waybill_events(f, w);
}

/* ---- credit ---- */

void cli_render_line(FILE *f, const Hansa__CreditLine *l)
{
    const char *cur = l->currency;
    int64_t avail = l->limit_minor - l->outstanding_minor - l->approved_undisbursed_minor;
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "credit line", "%s", ref(l->bank, l->line_id));
    cli_kv(&t, "borrower", "%s", str(l->borrower));
    cli_kv(&t, "status", "%s", E(credit_line_status, l->status));
    cli_kv(&t, "limit", "%s", amt(l->limit_minor, cur));
    cli_kv(&t, "available", "%s", amt(avail > 0 ? avail : 0, cur));
    cli_kv(&t, "outstanding", "%s", amt(l->outstanding_minor, cur));
    cli_kv(&t, "approved, not disbursed", "%s", amt(l->approved_undisbursed_minor, cur));
    cli_kv(&t, "disbursed total", "%s", amt(l->disbursed_total_minor, cur));
    cli_kv(&t, "repaid total", "%s", amt(l->repaid_total_minor, cur));
    cli_kv(&t, "advance rate", "%u.%02u %%", (unsigned)l->advance_rate_bps / 100,
           (unsigned)l->advance_rate_bps % 100);
    cli_kv(&t, "expiry", "%s", tm(l->expiry_ms));
    cli_kv(&t, "opened", "%s at height %llu", tm(l->opened_ms),
           (unsigned long long)l->opened_height);
    cli_kv(&t, "opened tx", "%s", hex(l->opened_tx_id));
    cli_kv(&t, "updated height", "%llu", (unsigned long long)l->updated_height);
    kv_print(f, &t);
}

static const char *orders_text(Hansa__OrderRef *const *refs, size_t n)
{
    char *b = rot();
    size_t o = 0;
    b[0] = '\0';
    for (size_t i = 0; i < n && o < 192; i++) {
        /* ref() returns another of the rotating buffers: copy it out first
         * so the compiler need not assume the two overlap. */
        char one[192];
        snprintf(one, sizeof one, "%s", ref(refs[i]->merchant, refs[i]->order_no));
        o += (size_t)snprintf(b + o, 192 - o, "%s%s", i ? ", " : "", one);
    }
    return n > 0 ? b : "-";
}

void cli_render_financing(FILE *f, const Hansa__Financing *x)
{
    const char *cur = x->currency;
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "financing", "%s", ref(x->merchant, x->financing_id));
    cli_kv(&t, "line", "%s", x->line ? ref(x->line->bank, x->line->line_id) : "-");
    cli_kv(&t, "status", "%s", E(financing_status, x->status));
    cli_kv(&t, "amount", "%s", amt(x->amount_minor, cur));
    cli_kv(&t, "principal outstanding", "%s", amt(x->principal_outstanding_minor, cur));
    cli_kv(&t, "repaid", "%s", amt(x->repaid_total_minor, cur));
    cli_kv(&t, "maturity", "%s", tm(x->maturity_ms));
    cli_kv(&t, "orders", "%s", orders_text(x->orders, x->n_orders));
    cli_kv(&t, "pledged orders", "%s", orders_text(x->pledged_orders, x->n_pledged_orders));
    cli_kv(&t, "requested", "%s at height %llu", tm(x->requested_ms),
           (unsigned long long)x->requested_height);
    cli_kv(&t, "requested tx", "%s", hex(x->requested_tx_id));
    static const char *const names[] = {"approved", "rejected", "disbursed",
                                        "overdue",  "settled",  "defaulted"};
    const uint64_t times[] = {x->approved_ms, x->rejected_ms, x->disbursed_ms,
                              x->overdue_ms,  x->settled_ms,  x->defaulted_ms};
    for (size_t i = 0; i < 6; i++)
        if (times[i] != 0)
            cli_kv(&t, names[i], "%s", tm(times[i]));
    cli_kv(&t, "updated height", "%llu", (unsigned long long)x->updated_height);
    kv_print(f, &t);
}

void cli_render_exposure(FILE *f, const Hansa__Exposure *e)
{
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "borrower", "%s", str(e->borrower));
    cli_kv(&t, "as of height", "%llu", (unsigned long long)e->height);
    if (e->n_outstanding == 0)
        cli_kv(&t, "outstanding", "none");
    for (size_t i = 0; i < e->n_outstanding; i++)
        cli_kv(&t, i == 0 ? "outstanding" : "", "%s",
               amt(e->outstanding[i]->amount_minor, e->outstanding[i]->currency));
    kv_print(f, &t);
}

/* ---- chain ---- */

void cli_render_status(FILE *f, const Hansa__NodeStatus *s)
{
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "chain", "%s", str(s->chain_id));
    cli_kv(&t, "node", "%s", str(s->node_id));
    cli_kv(&t, "software", "%s, protocol %s", str(s->software_version), str(s->protocol_version));
    cli_kv(&t, "height", "%llu", (unsigned long long)s->latest_height);
    cli_kv(&t, "block hash", "%s", hex(s->latest_block_hash));
    cli_kv(&t, "block time", "%s", tm(s->latest_block_time_ms));
    cli_kv(&t, "state root", "%s", hex(s->latest_state_root));
    cli_kv(&t, "validators hash", "%s", hex(s->validators_hash));
    cli_kv(&t, "catching up", "%s", s->catching_up ? "yes" : "no");
    cli_kv(&t, "consensus", "height %llu, round %u, %s", (unsigned long long)s->consensus_height,
           (unsigned)s->consensus_round, E(consensus_step, s->consensus_step));
    cli_kv(&t, "peers", "%u", (unsigned)s->peers_connected);
    cli_kv(&t, "mempool", "%u txs, %llu bytes", (unsigned)s->mempool_txs,
           (unsigned long long)s->mempool_bytes);
    cli_kv(&t, "risk processed", "height %llu", (unsigned long long)s->risk_processed_height);
    cli_kv(&t, "alert head", "%llu:%u",
           (unsigned long long)(s->alert_head ? s->alert_head->height : 0),
           (unsigned)(s->alert_head ? s->alert_head->ordinal : 0));
    cli_kv(&t, "node time", "%s", tm(s->local_time_ms));
    kv_print(f, &t);
}

static void block_txs(FILE *f, const Hansa__StoredBlock *sb, bool withheld)
{
    const Hansa__BlockResults *r = sb->results;
    fputc('\n', f);
    if (r == NULL || r->n_results == 0) {
        fputs("no transactions\n", f);
        return;
    }
    static const char *const head[] = {"INDEX", "TX ID", "RESULT", "MESSAGE"};
    struct cli_table t;
    cli_table_init(&t, 4, head);
    for (size_t i = 0; i < r->n_results; i++) {
        char idx[24];
        snprintf(idx, sizeof idx, "%zu", i);
        const char *row[] = {idx, hex(r->results[i]->tx_id), E(result_code, r->results[i]->result),
                             r->results[i]->message ? r->results[i]->message : ""};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, f, NULL);
    cli_table_free(&t);
    if (withheld)
        fputs("(transaction bodies withheld: only regulators read them)\n", f);
}

void cli_render_block(FILE *f, const Hansa__BlockAnswer *b)
{
    const Hansa__StoredBlock *sb = b->block;
    if (sb == NULL || sb->block == NULL) {
        fputs("no block\n", f);
        return;
    }
    const ProtobufCBinaryData hb = sb->block->header;
    Hansa__BlockHeader *h = hansa__block_header__unpack(NULL, hb.len, hb.data);
    uint8_t hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, hb.data, hb.len);
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    if (h != NULL) {
        cli_kv(&t, "height", "%llu", (unsigned long long)h->height);
        cli_kv(&t, "time", "%s", tm(h->time_ms));
    }
    cli_kv(&t, "hash", "%s", hex((ProtobufCBinaryData){sizeof hash, hash}));
    if (h != NULL) {
        cli_kv(&t, "chain", "%s", str(h->chain_id));
        cli_kv(&t, "proposer", "%s", str(h->proposer));
        cli_kv(&t, "previous hash", "%s", hex(h->prev_block_hash));
        cli_kv(&t, "tx root", "%s", hex(h->tx_root));
        cli_kv(&t, "state root", "%s", hex(h->state_root));
        cli_kv(&t, "validators hash", "%s", hex(h->validators_hash));
    } else {
        cli_kv(&t, "header", "does not decode");
    }
    size_t n = sb->results != NULL ? sb->results->n_results : sb->block->n_txs;
    cli_kv(&t, "transactions", "%zu", n);
    if (sb->commit != NULL)
        cli_kv(&t, "commit", "round %u, %zu precommits", (unsigned)sb->commit->round,
               sb->commit->n_precommits);
    kv_print(f, &t);
    if (h != NULL)
        hansa__block_header__free_unpacked(h, NULL);
    block_txs(f, sb, b->txs_withheld);
}

void cli_render_receipt(FILE *f, const hansa_receipt *r)
{
    char id[65];
    cli_hex(r->tx_id, sizeof r->tx_id, id);
    struct cli_table t;
    cli_table_init(&t, 2, NULL);
    cli_kv(&t, "tx id", "%s", id);
    if (!r->committed) {
        cli_kv(&t, "status", "PENDING (in the node's mempool, not committed yet)");
    } else {
        cli_kv(&t, "status", "COMMITTED");
        cli_kv(&t, "result", "%s", hansa_result_name(r->result));
        if (r->message[0])
            cli_kv(&t, "message", "%s", r->message);
        cli_kv(&t, "height", "%llu", (unsigned long long)r->height);
        cli_kv(&t, "index", "%u", (unsigned)r->index);
        cli_kv(&t, "block time", "%s", tm(r->block_time_ms));
    }
    kv_print(f, &t);
}

/* ---- listings ---- */

/* What a record is and its state, for a listing or a history line. */
static void record_summary(const Hansa__Record *r, const char **id, const char **state)
{
    *id = "-";
    *state = "-";
    switch (r->kind_case) {
    case HANSA__RECORD__KIND_PARTY:
        *id = r->party->id;
        *state = E(party_status, r->party->status);
        break;
    case HANSA__RECORD__KIND_ORDER:
        if (r->order->document != NULL)
            *id = ref(r->order->document->merchant, r->order->document->order_no);
        *state = E(order_status, r->order->status);
        break;
    case HANSA__RECORD__KIND_PAYMENT:
        *id = ref(r->payment->institution,
                  r->payment->document ? r->payment->document->pay_transaction_id : "");
        *state = "RECORDED";
        break;
    case HANSA__RECORD__KIND_WAYBILL: {
        const Hansa__Waybill *w = r->waybill;
        *id = ref(w->carrier, w->document ? w->document->logistics_no : "");
        *state =
            w->n_events > 0 ? E(shipment_event_type, w->events[w->n_events - 1]->type) : "CREATED";
        break;
    }
    case HANSA__RECORD__KIND_CREDIT_LINE:
        *id = ref(r->credit_line->bank, r->credit_line->line_id);
        *state = E(credit_line_status, r->credit_line->status);
        break;
    case HANSA__RECORD__KIND_FINANCING:
        *id = ref(r->financing->merchant, r->financing->financing_id);
        *state = E(financing_status, r->financing->status);
        break;
    case HANSA__RECORD__KIND_PROPOSAL:
        *id = hex(r->proposal->proposal_id);
        *state = E(governance_proposal_status, r->proposal->status);
        break;
    default:
        break;
    }
}

static void order_row(struct cli_table *t, const Hansa__Order *o)
{
    static const Hansa__CreateOrder empty = HANSA__CREATE_ORDER__INIT;
    const Hansa__CreateOrder *d = o->document != NULL ? o->document : &empty;
    const char *row[] = {ref(d->merchant, d->order_no),
                         E(order_status, o->status),
                         o->match ? E(match_status, o->match->status) : "-",
                         amt(d->actual_paid_minor, d->currency),
                         o->pledged_by ? ref(o->pledged_by->merchant, o->pledged_by->financing_id)
                                       : "-",
                         tm(o->created_ms)};
    cli_table_row(t, row);
}

void cli_render_records(FILE *f, const Hansa__RecordPage *p, Hansa__EntityType type)
{
    if (p->n_records == 0) {
        fputs("no records\n", f);
        return;
    }
    struct cli_table t;
    if (type == HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER) {
        static const char *const head[] = {"ORDER",       "STATUS",     "MATCH",
                                           "ACTUAL PAID", "PLEDGED TO", "CREATED"};
        cli_table_init(&t, 6, head);
    } else {
        static const char *const head[] = {"RECORD", "STATUS"};
        cli_table_init(&t, 2, head);
    }
    for (size_t i = 0; i < p->n_records; i++) {
        const Hansa__Record *r = p->records[i];
        if (type == HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER &&
            r->kind_case == HANSA__RECORD__KIND_ORDER) {
            order_row(&t, r->order);
            continue;
        }
        const char *id, *state;
        record_summary(r, &id, &state);
        const char *row[6] = {id, state, "", "", "", ""};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, f, NULL);
    cli_table_free(&t);
}

/* What changed in an order between two history entries: its status, its
 * match, a leg or a pledge arriving or going (a record's status alone
 * would read CREATED four times for the four steps of a matched order). */
static void order_change(const Hansa__Order *prev, const Hansa__Order *o, char *out, size_t n)
{
    size_t k = 0;
    out[0] = '\0';
#define ADD(...)                                                                                   \
    do {                                                                                           \
        if (k < n)                                                                                 \
            k += (size_t)snprintf(out + k, n - k, "%s", k ? ", " : "");                            \
        if (k < n)                                                                                 \
            k += (size_t)snprintf(out + k, n - k, __VA_ARGS__);                                    \
    } while (0)
    if (prev == NULL || prev->status != o->status)
        ADD("%s", E(order_status, o->status));
    int pm = prev && prev->match ? (int)prev->match->status : 0;
    int om = o->match ? (int)o->match->status : 0;
    if (prev != NULL && pm != om)
        ADD("match %s", E(match_status, om));
    if (o->payment != NULL && (prev == NULL || prev->payment == NULL))
        ADD("payment %s", ref(o->payment->institution, o->payment->pay_transaction_id));
    if (o->waybill != NULL && (prev == NULL || prev->waybill == NULL))
        ADD("waybill %s", ref(o->waybill->carrier, o->waybill->logistics_no));
    if (o->pledged_by != NULL && (prev == NULL || prev->pledged_by == NULL))
        ADD("pledged to %s", ref(o->pledged_by->merchant, o->pledged_by->financing_id));
    if (o->pledged_by == NULL && prev != NULL && prev->pledged_by != NULL)
        ADD("pledge released");
#undef ADD
    if (k == 0)
        snprintf(out, n, "%s", E(order_status, o->status));
}

static void history_change(const Hansa__HistoryEntry *prev, const Hansa__HistoryEntry *e, char *out,
                           size_t n)
{
    const Hansa__Record *r = e->after, *pr = prev != NULL ? prev->after : NULL;
    if (e->credit_event != NULL) {
        snprintf(out, n, "%s %s", E(credit_event_type, e->credit_event->type),
                 amt(e->credit_event->amount_minor, e->credit_event->currency));
    } else if (r != NULL && r->kind_case == HANSA__RECORD__KIND_ORDER) {
        bool same = pr != NULL && pr->kind_case == HANSA__RECORD__KIND_ORDER;
        order_change(same ? pr->order : NULL, r->order, out, n);
    } else if (r != NULL && r->kind_case == HANSA__RECORD__KIND_WAYBILL &&
               r->waybill->n_events > 0) {
        const Hansa__ShipmentEvent *ev = r->waybill->events[r->waybill->n_events - 1];
        snprintf(out, n, "event %s at %s", E(shipment_event_type, ev->type), ev->location_locode);
    } else {
        const char *id = "-", *state = "-";
        if (r != NULL)
            record_summary(r, &id, &state);
        snprintf(out, n, "%s", state);
    }
}

void cli_render_history(FILE *f, const Hansa__HistoryPage *p)
{
    if (p->n_entries == 0) {
        fputs("no history\n", f);
        return;
    }
    static const char *const head[] = {"HEIGHT", "TIME", "CHANGE", "TX ID"};
    struct cli_table t;
    cli_table_init(&t, 4, head);
    for (size_t i = 0; i < p->n_entries; i++) {
        const Hansa__HistoryEntry *e = p->entries[i];
        char h[24], change[256];
        snprintf(h, sizeof h, "%llu", (unsigned long long)e->height);
        history_change(i > 0 ? p->entries[i - 1] : NULL, e, change, sizeof change);
        const char *row[] = {h, tm(e->time_ms), change,
                             e->tx_id.len ? hex(e->tx_id) : "(by the block)"};
        cli_table_row(&t, row);
    }
    cli_table_print(&t, f, NULL);
    cli_table_free(&t);
}

/* ---- alerts ---- */

#define ALERT_LINE "%-10s %-24s %-8s %-16s %-8s %-28s %s\n"

void cli_render_alert_header(FILE *f)
{
    fprintf(f, ALERT_LINE, "CURSOR", "TIME", "SEVERITY", "RULE", "KIND", "SUBJECT", "MESSAGE");
}

void cli_render_alert(FILE *f, const Hansa__Alert *al)
{
    char cursor[48], subject[192] = "-";
    snprintf(cursor, sizeof cursor, "%llu:%u",
             (unsigned long long)(al->cursor ? al->cursor->height : 0),
             (unsigned)(al->cursor ? al->cursor->ordinal : 0));
    if (al->n_subjects > 0) {
        const Hansa__EntityRef *s = al->subjects[0];
        snprintf(subject, sizeof subject, "%s%s", ref(s->owner, s->id),
                 al->n_subjects > 1 ? " +" : "");
    }
    fprintf(f, ALERT_LINE, cursor, tm(al->block_time_ms), E(severity, al->severity),
            str(al->rule_id), E(alert_kind, al->kind), subject, str(al->message));
}
