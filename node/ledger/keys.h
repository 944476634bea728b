/*
 * The ledger's state-key layout, public so that readers of committed state
 * (the client API, tools) build exactly the keys the ledger writes. See the
 * table at the top of keys.c. Every builder writes a NUL-terminated key into
 * buf (LEDGER_KEY_BYTES_MAX bytes) and returns its length.
 */
#ifndef HANSA_LEDGER_KEYS_H
#define HANSA_LEDGER_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "hansa.pb-c.h"
#include "hansa/wire.h"

/* Longest state key: "financing/" + id + "/" + id plus an index prefix. */
#define LEDGER_KEY_BYTES_MAX 384u

size_t ledger_key_party(char *buf, const char *party);
size_t ledger_key_order(char *buf, const char *merchant, const char *order_no);
size_t ledger_key_payment(char *buf, const char *institution, const char *pay_transaction_id);
size_t ledger_key_waybill(char *buf, const char *carrier, const char *logistics_no);
size_t ledger_key_line(char *buf, const char *bank, const char *line_id);
size_t ledger_key_financing(char *buf, const char *merchant, const char *financing_id);
size_t ledger_key_proposal(char *buf, const uint8_t id[WIRE_HASH_BYTES]);
size_t ledger_key_annual(char *buf, const uint8_t buyer[WIRE_HASH_BYTES], uint32_t year);
#define LEDGER_KEY_PARAMS "params"
/* Timer index: "due/<16 hex ms>/<kind>/<subject key>" sorts by time. */
size_t ledger_key_due(char *buf, uint64_t due_ms, const char *kind, const char *subject_key);
#define LEDGER_DUE_PREFIX "due/"
/* The state key of an entity (party, order, payment, waybill, line,
 * financing, proposal with id = 64 hex digits); its history lives under
 * "<key>/". 0 for a type without state records. */
size_t ledger_key_entity(char *buf, Hansa__EntityType type, const char *owner, const char *id);

#endif
