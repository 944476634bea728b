/*
 * trade_flow: one cross-border sale on a Hansa network, told as it happens.
 *
 * A Shenzhen merchant (MER-SZ-0001) sells lamps to a buyer in Hamburg. The
 * demo parties of `hansad testnet`, each with its own key and each talking
 * to a validator of its own organisation, record and finance the trade:
 *
 *   1. the merchant records the order; buyer and consignee appear only as
 *      identity commitments (HMAC under the consortium identity key);
 *   2. PAY-0001 records the payment and LOG-0001 the waybill (CNSZX ->
 *      DEHAM): the ledger's three-document match says MATCHED;
 *   3. LOG-0001 reports the shipment: RECEIVED, LOADED, DEPARTED;
 *   4. BANK-A opens a credit line, the merchant requests financing against
 *      the order, BANK-A approves (the order is now pledged) and disburses;
 *      the goods arrive and are delivered; a first repayment;
 *   5. the merchant asks BANK-B to finance the same order: the ledger
 *      commits the request with ASSET_ALREADY_PLEDGED and changes nothing;
 *   6. a second order is paid by someone other than its buyer: MISMATCHED,
 *      and a request to finance it is refused with NOT_MATCHED;
 *   7. the rest is repaid: SETTLED, the pledge released;
 *   8. the regulator CUS-0001, subscribed (hansa_subscribe) since the start,
 *      has received the DUP-PLEDGE and 3DOC-MISMATCH alerts, and every
 *      validator holds the same last block.
 *
 * Invariants of the program:
 *   1. every write waits for its commit and is checked against the outcome
 *      the story expects (code and ledger result); the first surprise stops
 *      the flow with exit status 1 and a sentence saying what happened;
 *   2. a read that follows a write made through another node first waits
 *      until the reader's node has committed that write's block, so every
 *      read shows the effect of the writes before it;
 *   3. the regulator's subscription starts at the alert head seen before
 *      the first write, so only this run's alerts are shown, each once;
 *   4. every wait has a deadline.
 *
 * Ids carry a tag (default: the UTC time, YYYYMMDD-HHMMSS), so the flow can
 * run again on the same network. Shipment event times are the carrier's and
 * lie in the past: the flight takes 34 hours even though the demo takes
 * seconds.
 *
 * The command line, the documents of the sale and how amounts and enums
 * read are in kit.c; everything that talks to the network is here.
 *
 * Exit status: 0 when every step had the expected outcome, 1 otherwise,
 * 2 for a usage error.
 */
/* POSIX.1-2008 (clock_gettime, gmtime_r, sigwait): the project's build sets
 * it; this keeps the file compiling on its own (cc $(pkg-config ...)). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hansa/hansa.h>

#include "kit.h"

#define FLOW_ALERTS_MAX 64 /* alerts the regulator keeps; a run raises three */

/* ---- the regulator's inbox: alerts delivered by the subscription --------------------- */

struct alert_note {
    char rule_id[33];
    Hansa__Severity severity;
    Hansa__AlertKind kind;
    uint64_t height;
    uint32_t ordinal;
    char message[513];
};

struct inbox {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on every alert */
    struct alert_note notes[FLOW_ALERTS_MAX];
    size_t n;             /* notes kept */
    size_t shown;         /* notes already printed */
    size_t n_lost;        /* alerts beyond FLOW_ALERTS_MAX */
    char last_state[256]; /* the subscription's last trouble, for a failed wait */
};

/* On the subscription's thread: keep a copy (the alert lives during the call). */
static bool inbox_on_alert(void *arg, const Hansa__Alert *a)
{
    struct inbox *box = arg;
    pthread_mutex_lock(&box->mu);
    if (box->n < FLOW_ALERTS_MAX) {
        struct alert_note *note = &box->notes[box->n++];
        snprintf(note->rule_id, sizeof note->rule_id, "%s", a->rule_id);
        snprintf(note->message, sizeof note->message, "%s", a->message);
        note->severity = a->severity;
        note->kind = a->kind;
        note->height = a->cursor != NULL ? a->cursor->height : 0;
        note->ordinal = a->cursor != NULL ? a->cursor->ordinal : 0;
    } else {
        box->n_lost++;
    }
    pthread_cond_broadcast(&box->cv);
    pthread_mutex_unlock(&box->mu);
    return true;
}

static void inbox_on_state(void *arg, hansa_code code, const char *message)
{
    struct inbox *box = arg;
    pthread_mutex_lock(&box->mu);
    snprintf(box->last_state, sizeof box->last_state, "%s: %s", hansa_code_name(code), message);
    pthread_mutex_unlock(&box->mu);
}

/* ---- the flow ------------------------------------------------------------------------- */

enum party { P_MERCHANT, P_PAYMENT, P_CARRIER, P_BANK_A, P_BANK_B, P_CUSTOMS, N_PARTIES };

static const struct {
    const char *id;
    const char *what;
    int node; /* taken modulo the number of nodes */
} party_info[N_PARTIES] = {
    {"MER-SZ-0001", "merchant, Shenzhen", 0},
    {"PAY-0001", "payment institution", 0},
    {"LOG-0001", "carrier", 1},
    {"BANK-A", "bank, Shenzhen", 2},
    {"BANK-B", "bank, Hamburg", 2},
    {"CUS-0001", "customs, the regulator", 3},
};

struct flow {
    const struct kit_options *o;
    hansa_client *c[N_PARTIES];
    hansa_subscription *sub;
    struct inbox inbox;
    uint64_t start_ms;    /* wall clock when the flow began */
    uint64_t last_height; /* highest block any write of ours committed in */
    char order1[KIT_ID_BYTES], order2[KIT_ID_BYTES], pay1[KIT_ID_BYTES], pay2[KIT_ID_BYTES];
    char wb1[KIT_ID_BYTES], wb2[KIT_ID_BYTES], line_a[KIT_ID_BYTES], line_b[KIT_ID_BYTES];
    char fin_a[KIT_ID_BYTES], fin_b[KIT_ID_BYTES], fin_c[KIT_ID_BYTES];
    /* identity commitments: buyer and consignee of each order, the stranger who paid order 2 */
    struct kit_people people1, people2;
    uint8_t payer2[32];
};

/* Check a write's outcome against what the story expects, and say what the
 * ledger answered. */
static bool answer(struct flow *f, hansa_code code, const hansa_receipt *r, const hansa_error *err,
                   hansa_code want, int want_result)
{
    if (code != want || (want_result != 0 && err->result != want_result)) {
        return kit_fail("expected %s%s%s, the node answered %s %s: %s", hansa_code_name(want),
                        want_result ? " " : "", want_result ? hansa_result_name(want_result) : "",
                        hansa_code_name(code), hansa_result_name(err->result), err->message);
    }
    if (r->height > f->last_height)
        f->last_height = r->height;
    if (code == HANSA_CODE_OK)
        kit_say("     ledger: OK, committed in block %" PRIu64, r->height);
    else
        kit_say("     ledger: REJECTED %s, committed in block %" PRIu64 ": %s",
                hansa_result_name(r->result), r->height, r->message);
    return true;
}

static bool ok(struct flow *f, hansa_code code, const hansa_receipt *r, const hansa_error *err)
{
    return answer(f, code, r, err, HANSA_CODE_OK, 0);
}

/* Invariant 2: wait until party's node has committed our last block. */
static bool caught_up(struct flow *f, enum party p)
{
    uint64_t deadline = kit_mono_ms() + f->o->ready_ms;
    for (;;) {
        Hansa__NodeStatus *s = NULL;
        hansa_error err;
        uint64_t h = 0;
        if (hansa_status(f->c[p], &s, &err) == HANSA_CODE_OK)
            h = s->latest_height;
        hansa_free(s);
        if (h >= f->last_height)
            return true;
        if (kit_mono_ms() >= deadline)
            return kit_fail("%s's node did not reach block %" PRIu64, party_info[p].id,
                            f->last_height);
        kit_poll_pause();
    }
}

static bool read_order(struct flow *f, enum party p, const char *order_no, Hansa__Order **out)
{
    hansa_error err;
    if (!caught_up(f, p))
        return false;
    if (hansa_order_get(f->c[p], "MER-SZ-0001", order_no, out, &err) != HANSA_CODE_OK)
        return kit_fail("%s cannot read order %s: %s", party_info[p].id, order_no, err.message);
    return true;
}

/* ---- setting up: clients, the network, the subscription -------------------------------- */

/* A client of node i with the key of party (NULL: status only). */
static hansa_client *node_client(const struct flow *f, int i, const char *party,
                                 uint32_t timeout_ms)
{
    const struct kit_node *a = &f->o->nodes[i];
    char key[KIT_PATH_BYTES], ca[KIT_PATH_BYTES];
    snprintf(key, sizeof key, "%s/parties/%s.key", f->o->net_dir, party ? party : "");
    snprintf(ca, sizeof ca, "%s/parties/ca.crt", f->o->net_dir);
    hansa_client_options co = {.url = a->url,
                               .ca_path = ca,
                               .server_name = a->server_name[0] ? a->server_name : NULL,
                               .key_path = party ? key : NULL,
                               .timeout_ms = timeout_ms};
    hansa_client *c = NULL;
    hansa_error err;
    if (hansa_client_open(&co, &c, &err) != HANSA_CODE_OK)
        kit_fail("%s cannot open a client of %s: %s", party ? party : "status", a->url,
                 err.message);
    return c;
}

static bool open_clients(struct flow *f)
{
    for (int p = 0; p < N_PARTIES; p++) {
        f->c[p] = node_client(f, party_info[p].node % f->o->n_nodes, party_info[p].id, 0);
        if (f->c[p] == NULL)
            return false;
    }
    return true;
}

/* Every node answers; say where the network stands. */
static bool network_ready(struct flow *f)
{
    uint64_t deadline = kit_mono_ms() + f->o->ready_ms;
    Hansa__NodeStatus *s = NULL;
    for (int i = 0; i < f->o->n_nodes; i++) {
        const struct kit_node *a = &f->o->nodes[i];
        hansa_client *c = node_client(f, i, NULL, 2000);
        hansa_error err = {0};
        if (c == NULL)
            return false;
        hansa_free(s);
        s = NULL;
        while (hansa_status(c, &s, &err) != HANSA_CODE_OK && kit_mono_ms() < deadline)
            kit_poll_pause();
        hansa_client_close(c);
        if (s == NULL)
            return kit_fail("%s (%s) does not answer: %s", a->url, a->server_name, err.message);
    }
    kit_say("Network  chain %s: %d node%s answer, %s at block %" PRIu64, s->chain_id, f->o->n_nodes,
            f->o->n_nodes == 1 ? "" : "s", s->node_id, s->latest_height);
    hansa_free(s);
    return true;
}

static void say_parties(const struct flow *f)
{
    for (int p = 0; p < N_PARTIES; p++) {
        const struct kit_node *a = &f->o->nodes[party_info[p].node % f->o->n_nodes];
        kit_say("%s %-11s  %-24s talks to %s", p == 0 ? "Parties " : "        ", party_info[p].id,
                party_info[p].what, a->server_name[0] ? a->server_name : a->url);
    }
}

/* Invariant 3: the regulator subscribes from the current alert head. */
static bool regulator_subscribe(struct flow *f)
{
    Hansa__NodeStatus *s = NULL;
    hansa_error err;
    if (hansa_status(f->c[P_CUSTOMS], &s, &err) != HANSA_CODE_OK)
        return kit_fail("CUS-0001's node does not answer: %s", err.message);
    hansa_cursor head = {s->alert_head ? s->alert_head->height : 0,
                         s->alert_head ? s->alert_head->ordinal : 0};
    hansa_free(s);
    const struct kit_node *a = &f->o->nodes[party_info[P_CUSTOMS].node % f->o->n_nodes];
    hansa_subscription_options so = {.events_url = a->events_url[0] ? a->events_url : NULL,
                                     .start = head,
                                     .poll_ms = 2000,
                                     .on_alert = inbox_on_alert,
                                     .on_state = inbox_on_state,
                                     .arg = &f->inbox};
    if (hansa_subscribe(f->c[P_CUSTOMS], &so, &f->sub, &err) != HANSA_CODE_OK)
        return kit_fail("CUS-0001 cannot subscribe to alerts: %s", err.message);
    if (head.height == 0)
        kit_say("         CUS-0001 subscribes to risk alerts, from the start of the alert log");
    else
        kit_say("         CUS-0001 subscribes to risk alerts after the newest so far (%" PRIu64
                ".%u)",
                head.height, head.ordinal);
    return true;
}

static bool commit_identities(struct flow *f)
{
    char path[KIT_PATH_BYTES];
    snprintf(path, sizeof path, "%s/parties/identity.key", f->o->net_dir);
    hansa_identity_key *k = NULL;
    hansa_error err;
    if (hansa_identity_key_load(path, &k, &err) != HANSA_CODE_OK)
        return kit_fail("%s", err.message);
    const struct {
        hansa_identity_kind kind;
        const char *value;
        uint8_t *out;
    } in[] = {
        {HANSA_IDENTITY_BUYER, "HH-BUYER-77812", f->people1.buyer},
        {HANSA_IDENTITY_NAME, "Jonas Becker", f->people1.name},
        {HANSA_IDENTITY_PHONE, "+49 40 3861 2290", f->people1.phone},
        {HANSA_IDENTITY_ADDRESS, "Ballindamm 17, 20095 Hamburg", f->people1.address},
        {HANSA_IDENTITY_BUYER, "HH-BUYER-90233", f->people2.buyer},
        {HANSA_IDENTITY_NAME, "Lena Vogt", f->people2.name},
        {HANSA_IDENTITY_PHONE, "+49 40 5512 0730", f->people2.phone},
        {HANSA_IDENTITY_ADDRESS, "Grindelallee 80, 20146 Hamburg", f->people2.address},
        {HANSA_IDENTITY_BUYER, "PAYER-ACCT-55120", f->payer2},
    };
    bool good = true;
    for (size_t i = 0; good && i < sizeof in / sizeof in[0]; i++)
        good = hansa_identity_commit(k, in[i].kind, in[i].value, in[i].out, &err) == HANSA_CODE_OK;
    hansa_identity_key_free(k);
    return good ? true : kit_fail("identity commitment: %s", err.message);
}

/* ---- the story ------------------------------------------------------------------------- */

static bool step_order(struct flow *f)
{
    struct kit_order d;
    kit_order_init(&d, f->order1, &f->people1);
    char m[3][48], h[2][12];
    kit_say("\n1. The order");
    kit_say("   MER-SZ-0001 records order %s, placed on PLT-0001 by a buyer in Hamburg:",
            f->order1);
    for (int i = 0; i < 2; i++) {
        const Hansa__OrderItem *it = &d.items[i];
        kit_say("     %2" PRIu64 " x %-22s HS %s  at %-10s %s", it->quantity_milli / 1000,
                it->item_name, it->hs_code, kit_money(m[0], sizeof m[0], it->unit_price_minor),
                kit_money(m[1], sizeof m[1], it->line_total_minor));
    }
    kit_say("     freight %s, discount %s: the buyer pays %s",
            kit_money(m[0], sizeof m[0], d.doc.freight_minor),
            kit_money(m[1], sizeof m[1], d.doc.discount_minor),
            kit_money(m[2], sizeof m[2], d.doc.actual_paid_minor));
    kit_say("     buyer and consignee go on the ledger only as identity commitments:");
    kit_say("     buyer %s, consignee name %s (HMAC under the consortium identity key)",
            kit_short_hex(h[0], f->people1.buyer), kit_short_hex(h[1], f->people1.name));
    hansa_receipt r;
    hansa_error err;
    return ok(f, hansa_order_create(f->c[P_MERCHANT], &d.doc, &r, &err), &r, &err);
}

static bool step_legs(struct flow *f)
{
    hansa_receipt r;
    hansa_error err;
    struct kit_payment pay;
    char m[48], h[12];
    kit_payment_init(&pay, f->order1, f->pay1, f->people1.buyer, 42000,
                     f->start_ms - 2 * KIT_HOUR_MS);
    kit_say("\n2. Payment and waybill: the three documents");
    kit_say("   PAY-0001 records payment %s: %s paid by buyer %s", f->pay1,
            kit_money(m, sizeof m, 42000), kit_short_hex(h, f->people1.buyer));
    if (!ok(f, hansa_payment_record(f->c[P_PAYMENT], &pay.doc, &r, &err), &r, &err))
        return false;
    struct kit_waybill wb;
    kit_waybill_init(&wb, f->order1, f->wb1, &f->people1);
    kit_say(
        "   LOG-0001 creates waybill %s: CNSZX (Shenzhen) -> DEHAM (Hamburg), 2 parcels, 6.4 kg",
        f->wb1);
    if (!ok(f, hansa_waybill_create(f->c[P_CARRIER], &wb.doc, &r, &err), &r, &err))
        return false;
    Hansa__Order *o = NULL;
    if (!read_order(f, P_MERCHANT, f->order1, &o))
        return false;
    char mt[128];
    kit_say("   MER-SZ-0001 reads its order: three-document match %s",
            kit_match_text(o, mt, sizeof mt));
    bool matched =
        o->match != NULL && o->match->status == HANSA__MATCH_STATUS__MATCH_STATUS_MATCHED;
    hansa_free(o);
    return matched ? true : kit_fail("order %s is %s, expected MATCHED", f->order1, mt);
}

struct ship_event {
    Hansa__ShipmentEventType type;
    const char *locode;
    uint64_t ago_ms; /* before the flow started */
};

static bool report_events(struct flow *f, const struct ship_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        hansa_receipt r;
        hansa_error err;
        char when[32];
        uint64_t t = f->start_ms - ev[i].ago_ms;
        kit_say("   LOG-0001 reports %-16s at %s, %s",
                kit_enum_name(&hansa__shipment_event_type__descriptor, (int)ev[i].type),
                ev[i].locode, kit_utc_text(when, sizeof when, t));
        if (!ok(f,
                hansa_waybill_event(f->c[P_CARRIER], f->wb1, ev[i].type, ev[i].locode, t, &r, &err),
                &r, &err))
            return false;
    }
    return true;
}

static bool expect_order_status(struct flow *f, Hansa__OrderStatus want)
{
    Hansa__Order *o = NULL;
    if (!read_order(f, P_MERCHANT, f->order1, &o))
        return false;
    Hansa__OrderStatus got = o->status;
    kit_say("   order %s is now %s", f->order1,
            kit_enum_name(&hansa__order_status__descriptor, (int)o->status));
    hansa_free(o);
    return got == want ? true : kit_fail("order %s has an unexpected status", f->order1);
}

static bool step_ship(struct flow *f)
{
    static const struct ship_event ev[] = {
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_RECEIVED, "CNSZX", 70 * KIT_HOUR_MS},
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_LOADED, "CNSZX", 66 * KIT_HOUR_MS},
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DEPARTED, "CNSZX", 64 * KIT_HOUR_MS},
    };
    kit_say("\n3. The goods leave Shenzhen (the carrier's event times: picked up three days ago)");
    return report_events(f, ev, sizeof ev / sizeof ev[0]) &&
           expect_order_status(f, HANSA__ORDER_STATUS__ORDER_STATUS_SHIPPED);
}

static bool open_line(struct flow *f, enum party bank, const char *line_id, int64_t limit_minor)
{
    Hansa__OpenCreditLine l = HANSA__OPEN_CREDIT_LINE__INIT;
    l.line_id = (char *)line_id;
    l.borrower = "MER-SZ-0001";
    l.currency = "EUR";
    l.limit_minor = limit_minor;
    l.advance_rate_bps = 8000;
    l.expiry_ms = f->start_ms + 365ull * KIT_DAY_MS;
    char m[48];
    kit_say("   %s opens credit line %s to MER-SZ-0001: limit %s, advance rate 80 %%, one year",
            party_info[bank].id, line_id, kit_money(m, sizeof m, limit_minor));
    hansa_receipt r;
    hansa_error err;
    return ok(f, hansa_credit_open(f->c[bank], &l, &r, &err), &r, &err);
}

static bool step_finance(struct flow *f)
{
    hansa_receipt r;
    hansa_error err;
    char m[48];
    kit_say("\n4. Financing at BANK-A");
    if (!open_line(f, P_BANK_A, f->line_a, 5000000))
        return false;
    struct kit_financing req;
    kit_financing_init(&req, f->fin_a, "BANK-A", f->line_a, f->order1, 30000,
                       f->start_ms + 60ull * KIT_DAY_MS);
    kit_say("   MER-SZ-0001 requests financing %s: %s against order %s, due in 60 days", f->fin_a,
            kit_money(m, sizeof m, 30000), f->order1);
    if (!ok(f, hansa_finance_request(f->c[P_MERCHANT], &req.doc, &r, &err), &r, &err))
        return false;
    kit_say("   BANK-A approves %s: the order is pledged to it", f->fin_a);
    if (!ok(f, hansa_finance_approve(f->c[P_BANK_A], "MER-SZ-0001", f->fin_a, &r, &err), &r, &err))
        return false;
    kit_say("   BANK-A disburses %s to MER-SZ-0001", kit_money(m, sizeof m, 30000));
    return ok(f, hansa_finance_disburse(f->c[P_BANK_A], "MER-SZ-0001", f->fin_a, &r, &err), &r,
              &err);
}

static bool repay(struct flow *f, int64_t amount_minor, Hansa__FinancingStatus want)
{
    hansa_receipt r;
    hansa_error err;
    char m[2][48];
    kit_say("   BANK-A records a repayment of %s on %s", kit_money(m[0], sizeof m[0], amount_minor),
            f->fin_a);
    if (!ok(f, hansa_finance_repay(f->c[P_BANK_A], "MER-SZ-0001", f->fin_a, amount_minor, &r, &err),
            &r, &err))
        return false;
    Hansa__Financing *fin = NULL;
    if (hansa_finance_get(f->c[P_BANK_A], "MER-SZ-0001", f->fin_a, &fin, &err) != HANSA_CODE_OK)
        return kit_fail("BANK-A cannot read %s: %s", f->fin_a, err.message);
    kit_say("   financing %s: %s, %s outstanding, %zu order%s pledged", f->fin_a,
            kit_enum_name(&hansa__financing_status__descriptor, (int)fin->status),
            kit_money(m[1], sizeof m[1], fin->principal_outstanding_minor), fin->n_pledged_orders,
            fin->n_pledged_orders == 1 ? "" : "s");
    bool good = fin->status == want;
    hansa_free(fin);
    return good ? true : kit_fail("financing %s has an unexpected status", f->fin_a);
}

static bool step_deliver(struct flow *f)
{
    static const struct ship_event ev[] = {
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_ARRIVED, "DEHAM", 30 * KIT_HOUR_MS},
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_CUSTOMS_RELEASED, "DEHAM",
         26 * KIT_HOUR_MS},
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_OUT_FOR_DELIVERY, "DEHAM",
         6 * KIT_HOUR_MS},
        {HANSA__SHIPMENT_EVENT_TYPE__SHIPMENT_EVENT_TYPE_DELIVERED, "DEHAM", 2 * KIT_HOUR_MS},
    };
    kit_say("\n5. Hamburg: the goods arrive; a first repayment");
    return report_events(f, ev, sizeof ev / sizeof ev[0]) &&
           expect_order_status(f, HANSA__ORDER_STATUS__ORDER_STATUS_DELIVERED) &&
           repay(f, 10000, HANSA__FINANCING_STATUS__FINANCING_STATUS_DISBURSED);
}

/* Print the alerts delivered since the last call; with rule_id, first wait
 * for one of that rule (false when none came in time). */
static bool regulator_inbox(struct flow *f, const char *rule_id)
{
    struct inbox *box = &f->inbox;
    uint64_t deadline = kit_mono_ms() + f->o->alert_wait_ms;
    bool found = rule_id == NULL;
    pthread_mutex_lock(&box->mu);
    for (size_t i = 0; !found;) {
        for (; i < box->n && !found; i++)
            found = strcmp(box->notes[i].rule_id, rule_id) == 0;
        if (found || kit_mono_ms() >= deadline)
            break;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 100 * 1000 * 1000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&box->cv, &box->mu, &ts);
    }
    for (; box->shown < box->n; box->shown++) {
        const struct alert_note *a = &box->notes[box->shown];
        kit_say("   CUS-0001 receives alert %s %s (block %" PRIu64 "): %s",
                kit_enum_name(&hansa__severity__descriptor, (int)a->severity), a->rule_id,
                a->height, a->message);
    }
    char state[256];
    snprintf(state, sizeof state, "%s", box->last_state);
    pthread_mutex_unlock(&box->mu);
    if (!found)
        return kit_fail("no %s alert reached CUS-0001 within %u ms%s%s", rule_id,
                        f->o->alert_wait_ms, state[0] ? "; the subscription said " : "", state);
    return true;
}

static bool read_exposure(struct flow *f)
{
    Hansa__Exposure *x = NULL;
    hansa_error err;
    if (!caught_up(f, P_BANK_B))
        return false;
    if (hansa_exposure_get(f->c[P_BANK_B], "MER-SZ-0001", &x, &err) != HANSA_CODE_OK)
        return kit_fail("BANK-B cannot read the exposure of MER-SZ-0001: %s", err.message);
    char m[48] = "nothing";
    for (size_t i = 0; i < x->n_outstanding; i++)
        if (strcmp(x->outstanding[i]->currency, "EUR") == 0)
            kit_money(m, sizeof m, x->outstanding[i]->amount_minor);
    kit_say(
        "   BANK-B reads what MER-SZ-0001 owes across all banks: %s (one number, no bank named)",
        m);
    hansa_free(x);
    return true;
}

static bool step_second_bank(struct flow *f)
{
    hansa_receipt r;
    hansa_error err;
    char m[48];
    kit_say("\n6. The same goods, a second bank");
    if (!open_line(f, P_BANK_B, f->line_b, 2000000))
        return false;
    struct kit_financing req;
    kit_financing_init(&req, f->fin_b, "BANK-B", f->line_b, f->order1, 30000,
                       f->start_ms + 60ull * KIT_DAY_MS);
    kit_say("   MER-SZ-0001 asks BANK-B for %s against the same order %s (%s)",
            kit_money(m, sizeof m, 30000), f->order1, f->fin_b);
    if (!answer(f, hansa_finance_request(f->c[P_MERCHANT], &req.doc, &r, &err), &r, &err,
                HANSA_CODE_REJECTED, HANSA__RESULT_CODE__RESULT_ASSET_ALREADY_PLEDGED))
        return false;
    kit_say("     the refusal stays in block %" PRIu64 " for the audit trail; it changed nothing",
            r.height);
    return read_exposure(f) && regulator_inbox(f, "DUP-PLEDGE");
}

static bool step_mismatch(struct flow *f)
{
    hansa_receipt r;
    hansa_error err;
    char m[48], h[2][12];
    struct kit_order d;
    kit_order_init(&d, f->order2, &f->people2);
    kit_say("\n7. An order paid by someone else");
    kit_say("   MER-SZ-0001 records order %s for buyer %s, %s", f->order2,
            kit_short_hex(h[0], f->people2.buyer), kit_money(m, sizeof m, d.doc.actual_paid_minor));
    if (!ok(f, hansa_order_create(f->c[P_MERCHANT], &d.doc, &r, &err), &r, &err))
        return false;
    struct kit_payment pay;
    kit_payment_init(&pay, f->order2, f->pay2, f->payer2, d.doc.actual_paid_minor,
                     f->start_ms - KIT_HOUR_MS);
    kit_say("   PAY-0001 records payment %s, made from account %s, not the buyer's", f->pay2,
            kit_short_hex(h[1], f->payer2));
    if (!ok(f, hansa_payment_record(f->c[P_PAYMENT], &pay.doc, &r, &err), &r, &err))
        return false;
    struct kit_waybill wb;
    kit_waybill_init(&wb, f->order2, f->wb2, &f->people2);
    kit_say("   LOG-0001 creates waybill %s: CNSZX -> DEHAM", f->wb2);
    if (!ok(f, hansa_waybill_create(f->c[P_CARRIER], &wb.doc, &r, &err), &r, &err))
        return false;
    Hansa__Order *o = NULL;
    if (!read_order(f, P_MERCHANT, f->order2, &o))
        return false;
    char mt[128];
    kit_say("   three-document match: %s", kit_match_text(o, mt, sizeof mt));
    bool mismatched =
        o->match != NULL && o->match->status == HANSA__MATCH_STATUS__MATCH_STATUS_MISMATCHED;
    hansa_free(o);
    if (!mismatched)
        return kit_fail("order %s is %s, expected MISMATCHED", f->order2, mt);
    struct kit_financing req;
    kit_financing_init(&req, f->fin_c, "BANK-A", f->line_a, f->order2, 30000,
                       f->start_ms + 60ull * KIT_DAY_MS);
    kit_say("   MER-SZ-0001 asks BANK-A to finance it anyway (%s)", f->fin_c);
    return answer(f, hansa_finance_request(f->c[P_MERCHANT], &req.doc, &r, &err), &r, &err,
                  HANSA_CODE_REJECTED, HANSA__RESULT_CODE__RESULT_NOT_MATCHED) &&
           regulator_inbox(f, "3DOC-MISMATCH");
}

static bool step_settle(struct flow *f)
{
    kit_say("\n8. Repaid");
    if (!repay(f, 20000, HANSA__FINANCING_STATUS__FINANCING_STATUS_SETTLED))
        return false;
    Hansa__Order *o = NULL;
    if (!read_order(f, P_MERCHANT, f->order1, &o))
        return false;
    bool released = o->pledged_by == NULL;
    kit_say("   order %s is %s", f->order1,
            released ? "released: no longer pledged" : "still pledged");
    hansa_free(o);
    return released ? true : kit_fail("order %s is still pledged after settlement", f->order1);
}

/* Wait until the regulator's node has run the risk engine over our last
 * block and the subscription has delivered every alert up to there: a pull
 * after the subscription's cursor that finds nothing more (AlertPage's
 * processed_height says how far the engine is). */
static bool regulator_drained(struct flow *f)
{
    uint64_t deadline = kit_mono_ms() + f->o->alert_wait_ms;
    for (;;) {
        Hansa__AlertPage *page = NULL;
        hansa_error err;
        hansa_cursor got = hansa_subscription_cursor(f->sub);
        bool done =
            hansa_alerts_pull(f->c[P_CUSTOMS], got, NULL, 1, 0, &page, &err) == HANSA_CODE_OK &&
            page->processed_height >= f->last_height && page->n_alerts == 0;
        hansa_free(page);
        if (done)
            return true;
        if (kit_mono_ms() >= deadline)
            return kit_fail("CUS-0001's subscription did not catch up with the alert log");
        kit_poll_pause();
    }
}

static bool step_regulator(struct flow *f)
{
    kit_say("\n9. At the regulator");
    if (!regulator_drained(f) || !regulator_inbox(f, NULL))
        return false;
    pthread_mutex_lock(&f->inbox.mu);
    size_t n = f->inbox.n + f->inbox.n_lost;
    bool fast = false;
    for (size_t i = 0; i < f->inbox.n; i++)
        fast = fast || strcmp(f->inbox.notes[i].rule_id, "FAST-CYCLE") == 0;
    pthread_mutex_unlock(&f->inbox.mu);
    if (fast)
        kit_say("   (FAST-CYCLE: the demo compresses months into seconds, so the risk engine also "
                "flags how quickly the financing was settled)");
    kit_say("   CUS-0001 received %zu alert%s in this run", n, n == 1 ? "" : "s");
    return true;
}

/* Every node holds byte-identical copies of our last block. */
static bool step_agreement(struct flow *f)
{
    Hansa__BlockAnswer *first = NULL;
    bool same = true;
    for (int i = 0; i < f->o->n_nodes && same; i++) {
        hansa_client *c = node_client(f, i, "CUS-0001", 0);
        Hansa__BlockAnswer *b = NULL;
        hansa_error err;
        uint64_t deadline = kit_mono_ms() + f->o->ready_ms;
        same = c != NULL;
        while (same && hansa_block_get(c, f->last_height, &b, &err) != HANSA_CODE_OK &&
               kit_mono_ms() < deadline)
            kit_poll_pause();
        hansa_client_close(c);
        same = same && b != NULL && b->block != NULL && b->block->block != NULL;
        if (same && first == NULL)
            first = b;
        else if (same) {
            const ProtobufCBinaryData *x = &first->block->block->header,
                                      *y = &b->block->block->header;
            same = x->len == y->len && memcmp(x->data, y->data, x->len) == 0;
            hansa_free(b);
        } else {
            hansa_free(b);
        }
    }
    hansa_free(first);
    if (!same)
        return kit_fail("the nodes do not hold the same block %" PRIu64, f->last_height);
    kit_say("\nEvery one of the %d nodes holds the same block %" PRIu64 ", the last of this trade.",
            f->o->n_nodes, f->last_height);
    return true;
}

static void ids_init(struct flow *f, const char *tag)
{
    snprintf(f->order1, sizeof f->order1, "SO-%s", tag);
    snprintf(f->order2, sizeof f->order2, "SO-%s-2", tag);
    snprintf(f->pay1, sizeof f->pay1, "PRP-%s-1", tag);
    snprintf(f->pay2, sizeof f->pay2, "PRP-%s-2", tag);
    snprintf(f->wb1, sizeof f->wb1, "YEX-%s-1", tag);
    snprintf(f->wb2, sizeof f->wb2, "YEX-%s-2", tag);
    snprintf(f->line_a, sizeof f->line_a, "LINE-A-%s", tag);
    snprintf(f->line_b, sizeof f->line_b, "LINE-B-%s", tag);
    snprintf(f->fin_a, sizeof f->fin_a, "FIN-%s-A", tag);
    snprintf(f->fin_b, sizeof f->fin_b, "FIN-%s-B", tag);
    snprintf(f->fin_c, sizeof f->fin_c, "FIN-%s-C", tag);
}

static bool run(struct flow *f)
{
    kit_say("Hansa trade flow: lamps from Shenzhen to Hamburg, financed once and only once\n");
    if (!network_ready(f) || !open_clients(f) || !commit_identities(f))
        return false;
    say_parties(f);
    if (!regulator_subscribe(f))
        return false;
    bool good = step_order(f) && step_legs(f) && step_ship(f) && step_finance(f) &&
                step_deliver(f) && step_second_bank(f) && step_mismatch(f) && step_settle(f) &&
                step_regulator(f) && step_agreement(f);
    if (good) {
        kit_say(
            "\nTrade flow complete: order %s recorded, matched, shipped, financed by BANK-A and "
            "repaid;",
            f->order1);
        kit_say("BANK-B's financing of the same goods was refused; order %s did not match.",
                f->order2);
    }
    return good;
}

int main(int argc, char **argv)
{
    struct kit_options o;
    int rv = kit_parse_args(argc, argv, &o);
    if (rv != 0)
        return rv == 1 ? 0 : 2;
    struct flow *f = calloc(1, sizeof *f);
    if (f == NULL)
        return 1;
    f->o = &o;
    f->start_ms = kit_wall_ms();
    ids_init(f, o.tag);
    pthread_mutex_init(&f->inbox.mu, NULL);
    pthread_cond_init(&f->inbox.cv, NULL);
    bool good = run(f);
    hansa_subscription_close(f->sub);
    for (int p = 0; p < N_PARTIES; p++)
        hansa_client_close(f->c[p]);
    pthread_cond_destroy(&f->inbox.cv);
    pthread_mutex_destroy(&f->inbox.mu);
    free(f);
    return good ? 0 : 1;
}
