/*
 * Who may read what (DOMAIN.md "Who takes part", "may read" column, and
 * "Precise points": "A reader's own records"), decided on committed state.
 *
 * A verdict is OWN (the reader's own record: never audited), ALLOW (readable
 * but not the reader's own: audited) or DENY (audited). In short:
 *
 *   REGULATOR        everything (ALLOW when not its own)
 *   order            OWN: its merchant, the party that created it;
 *                    ALLOW: the institution of its payment, the carrier of
 *                    its waybill, a bank with financing on one of its lines
 *                    that references the order
 *   payment/waybill  OWN: its institution/carrier, the order's merchant and
 *                    creator; ALLOW: a bank financing the order
 *   credit line      OWN: its bank and its borrower
 *   financing        OWN: its merchant and the bank of its line
 *   party            OWN: itself; ALLOW: ADMIN ("may read: parties and
 *                    parameters")
 *   parameters       ALLOW: ADMIN (reads.c)
 *   governance proposal
 *                    OWN: the proposer; ALLOW: ADMIN, who votes on it (a
 *                    proposal is a change of parties or parameters)
 *   order of a B2B buyer: DENY, as for any other party the order names
 *   only as a commitment or a counterparty (the ledger does not index it
 *   for the buyer either)
 *
 * Also here: the state keys of records (the layout of node/ledger/keys.c,
 * which the ledger keeps private) and decoding of stored records.
 *
 * Thread safety: pure functions over the store, which allows concurrent
 * reads.
 */
#ifndef HANSA_NET_READ_RULES_H
#define HANSA_NET_READ_RULES_H

#include <stdbool.h>
#include <stddef.h>

#include "hansa/wire.h"
#include "keys.h"
#include "store.h"

/* Longest key built here: "financing/" + two ids, or an index key
 * "ix/<party>/<type>/" + a state key, with room to spare. */
#define RULES_KEY_BYTES_MAX (LEDGER_KEY_BYTES_MAX + 128u)
/* State records a read rule or an exposure sum may examine (financing of
 * one merchant, lines of one borrower). Years of daily financing fit; a
 * worker must not walk without bound. */
#define RULES_SCAN_MAX 10000u

/* The verified reader of a signed query. */
struct api_reader {
    const char *id; /* party id, borrowed from the reader's Party record */
    bool regulator; /* holds ROLE_REGULATOR */
    bool bank;      /* holds ROLE_BANK */
    bool admin;     /* holds ROLE_ADMIN */
};

enum rules_verdict { RULES_DENY, RULES_ALLOW, RULES_OWN };

/* ---- state keys (node/ledger/keys.c layout) ---- */
#define RULES_KEY_PARAMS "params"

/* Decoded record at key of the state family: HANSA_OK, HANSA_ENOENT, or a
 * storage error (HANSA_EFORMAT for a stored value that does not decode).
 * *out is the caller's (wire_free). */
HANSA_MUST_USE hansa_err rules_load(struct store *s, const char *key,
                                    const ProtobufCMessageDescriptor *d, void **out);

/* ---- verdicts ---- */
HANSA_MUST_USE hansa_err rules_order(struct store *s, const struct api_reader *r,
                                     const Hansa__Order *o, enum rules_verdict *v);
HANSA_MUST_USE hansa_err rules_payment(struct store *s, const struct api_reader *r,
                                       const Hansa__Payment *p, enum rules_verdict *v);
HANSA_MUST_USE hansa_err rules_waybill(struct store *s, const struct api_reader *r,
                                       const Hansa__Waybill *w, enum rules_verdict *v);
enum rules_verdict rules_line(const struct api_reader *r, const Hansa__CreditLine *l);
enum rules_verdict rules_financing(const struct api_reader *r, const Hansa__Financing *f);
enum rules_verdict rules_party(const struct api_reader *r, const Hansa__Party *p);
enum rules_verdict rules_proposal(const struct api_reader *r, const Hansa__GovernanceProposal *p);
/* True for readers of parties, parameters and proposals (ADMIN,
 * REGULATOR): reads.c answers NOT_FOUND and serves the parameters to them
 * only. */
bool rules_reads_governance(const struct api_reader *r);
/* Any record of the Record oneof. */
HANSA_MUST_USE hansa_err rules_record(struct store *s, const struct api_reader *r,
                                      const Hansa__Record *rec, enum rules_verdict *v);

/* True in *yes when financing requested on one of bank's lines references
 * the order (merchant, order_no), in any state. Examines at most
 * RULES_SCAN_MAX financing records of the merchant. */
HANSA_MUST_USE hansa_err rules_bank_finances_order(struct store *s, const char *bank,
                                                   const char *merchant, const char *order_no,
                                                   bool *yes);

#endif
