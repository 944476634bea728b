/*
 * State keys. Text, '/'-separated, readable in a RocksDB dump:
 *
 *   party/<id>                      Party
 *   order/<merchant>/<order_no>     Order (with its match result and legs)
 *   payment/<institution>/<pay id>  Payment
 *   waybill/<carrier>/<no>          Waybill (with its events)
 *   line/<bank>/<line_id>           CreditLine
 *   financing/<merchant>/<id>       Financing
 *   proposal/<64 hex>               GovernanceProposal
 *   annual/<64 hex buyer>/<year>    RetailImportAnnualTotal
 *   params                          Parameters in force
 *   due/<16 hex ms>/<kind>/<key>    timers (overdue, governance), by time
 *   ix/<party>/<type>/<key>         "list by party" index
 *
 * Ids are [A-Za-z0-9._-] (wire_id_valid), so '/' separates unambiguously and
 * every key fits LEDGER_KEY_BYTES_MAX.
 */
#include <stdio.h>

#include "hansa/assert.h"
#include "keys.h"

static size_t key_fmt(char *buf, int n)
{
    HANSA_ASSERT(n > 0 && (size_t)n < LEDGER_KEY_BYTES_MAX);
    (void)buf;
    return (size_t)n;
}

size_t ledger_key_party(char *buf, const char *party)
{
    return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "party/%s", party));
}

size_t ledger_key_order(char *buf, const char *merchant, const char *order_no)
{
    return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "order/%s/%s", merchant, order_no));
}

size_t ledger_key_payment(char *buf, const char *institution, const char *pay_transaction_id)
{
    return key_fmt(
        buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "payment/%s/%s", institution, pay_transaction_id));
}

size_t ledger_key_waybill(char *buf, const char *carrier, const char *logistics_no)
{
    return key_fmt(buf,
                   snprintf(buf, LEDGER_KEY_BYTES_MAX, "waybill/%s/%s", carrier, logistics_no));
}

size_t ledger_key_line(char *buf, const char *bank, const char *line_id)
{
    return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "line/%s/%s", bank, line_id));
}

size_t ledger_key_financing(char *buf, const char *merchant, const char *financing_id)
{
    return key_fmt(buf,
                   snprintf(buf, LEDGER_KEY_BYTES_MAX, "financing/%s/%s", merchant, financing_id));
}

size_t ledger_key_proposal(char *buf, const uint8_t id[WIRE_HASH_BYTES])
{
    char hex[2 * WIRE_HASH_BYTES + 1];
    wire_hex_encode(id, WIRE_HASH_BYTES, hex);
    return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "proposal/%s", hex));
}

size_t ledger_key_annual(char *buf, const uint8_t buyer[WIRE_HASH_BYTES], uint32_t year)
{
    char hex[2 * WIRE_HASH_BYTES + 1];
    wire_hex_encode(buyer, WIRE_HASH_BYTES, hex);
    return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "annual/%s/%u", hex, year));
}

size_t ledger_key_due(char *buf, uint64_t due_ms, const char *kind, const char *subject_key)
{
    return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "due/%016llx/%s/%s",
                                 (unsigned long long)due_ms, kind, subject_key));
}

size_t ledger_key_entity(char *buf, Hansa__EntityType type, const char *owner, const char *id)
{
    switch (type) {
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PARTY:
        return ledger_key_party(buf, id);
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_ORDER:
        return ledger_key_order(buf, owner, id);
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_PAYMENT:
        return ledger_key_payment(buf, owner, id);
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_WAYBILL:
        return ledger_key_waybill(buf, owner, id);
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_CREDIT_LINE:
        return ledger_key_line(buf, owner, id);
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_FINANCING:
        return ledger_key_financing(buf, owner, id);
    case HANSA__ENTITY_TYPE__ENTITY_TYPE_GOVERNANCE_PROPOSAL:
        return key_fmt(buf, snprintf(buf, LEDGER_KEY_BYTES_MAX, "proposal/%s", id));
    default:
        buf[0] = '\0';
        return 0;
    }
}
