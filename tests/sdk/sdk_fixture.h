/*
 * A one-validator network of real hansad processes (tests/cluster/cluster.h)
 * seen through libhansa: SDK clients per testnet party, the consortium's
 * identity commitments, and the documents of a matched order (order,
 * payment and waybill that agree), for the SDK's cluster tests.
 */
#ifndef HANSA_TEST_SDK_FIXTURE_H
#define HANSA_TEST_SDK_FIXTURE_H

#include <stdbool.h>

#include "cluster.h"
#include "hansa/hansa.h"

struct sdk_net {
    struct cluster c;
    char tcp_url[64];    /* client API without TLS (loopback) */
    char tls_url[64];    /* client API over TLS, server name "node0" */
    char events_url[64]; /* live events, tls+tcp */
    char ca[400];        /* the consortium CA */
    uint8_t buyer[32], consignee_name[32], consignee_phone[32], consignee_address[32];
};

/* testnet of one validator with fast blocks (and, with alerts_de, a
 * ruleset listing DE so every order to DE raises one JURISDICTION alert);
 * extra config (key, value) pairs before starting, NULL-terminated. */
void sdk_net_init(struct sdk_net *n, const char *chain, bool alerts_de, const char *const *config);
void sdk_net_start(struct sdk_net *n);
void sdk_net_fini(struct sdk_net *n);

/* An SDK client of party over plain tcp (with the CA, for tls events). */
hansa_client *sdk_client(struct sdk_net *n, const char *party);
/* The same over TLS. */
hansa_client *sdk_client_tls(struct sdk_net *n, const char *party, const char *server_name);

/* Documents of order_no (EXPORT CN -> DE, CNY, one line of amount_minor),
 * its payment (PAY-<order_no>, by PAY-0001) and waybill (WB-<order_no>, by
 * LOG-0001) that match. Strings point into the struct. */
struct sdk_trade {
    char order_no[64], pay_id[64], waybill_no[64];
    Hansa__OrderItem item;
    Hansa__OrderItem *items[1];
    Hansa__CreateOrder order;
    Hansa__OrderRef ref;
    Hansa__RecordPayment payment;
    char *hs_codes[1];
    Hansa__CreateWaybill waybill;
};
void sdk_trade_init(struct sdk_net *n, struct sdk_trade *t, const char *order_no,
                    int64_t amount_minor);
/* Create the order, its payment and waybill: the order is MATCHED. */
void sdk_matched_order(struct sdk_net *n, hansa_client *merchant, hansa_client *payment,
                       hansa_client *logistics, const char *order_no, int64_t amount_minor);

/* A credit line of bank to MER-SZ-0001 in CNY. */
void sdk_open_line(hansa_client *bank, const char *line_id, int64_t limit_minor);
/* RequestFinancing of MER-SZ-0001 on bank's line over one order. */
void sdk_financing_doc(Hansa__RequestFinancing *f, Hansa__LineRef *line, Hansa__OrderRef *order,
                       Hansa__OrderRef **orders, const char *financing_id, const char *bank,
                       const char *line_id, const char *order_no, int64_t amount_minor);

uint64_t sdk_now_ms_test(void);

#endif
