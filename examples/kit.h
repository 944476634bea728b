/*
 * The trade flow's kit (examples/trade_flow.c): its command line, the
 * documents of the sale, and how amounts, times and protocol enums read.
 * Nothing here talks to a node; trade_flow.c is where the SDK is used.
 *
 * Document structs own everything their protocol message points to (order
 * lines, order references, HS codes), so a filled one can be passed to the
 * SDK as is; strings point to the caller's buffers or to constants and must
 * outlive the struct's use.
 */
#ifndef HANSA_EXAMPLES_KIT_H
#define HANSA_EXAMPLES_KIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hansa/hansa.h>

#define KIT_NODES_MAX     16
#define KIT_URL_BYTES     256
#define KIT_PATH_BYTES    1024
#define KIT_ID_BYTES      65 /* an id-string of hansa.proto, with its NUL */
#define KIT_TAG_BYTES_MAX 40 /* leaves room for the prefixes and suffixes of the ids */
#define KIT_BASE_PORT     26600
#define KIT_HOUR_MS       (3600u * 1000u)
#define KIT_DAY_MS        (24u * KIT_HOUR_MS)

/* ---- the command line ---- */

struct kit_node {
    char url[KIT_URL_BYTES];
    char server_name[KIT_ID_BYTES]; /* "" when not given */
    char events_url[KIT_URL_BYTES]; /* "" when unknown: the regulator long-polls */
};

struct kit_options {
    const char *net_dir;
    struct kit_node nodes[KIT_NODES_MAX];
    int n_nodes; /* at least 1 after kit_parse_args */
    char tag[KIT_TAG_BYTES_MAX + 1];
    uint32_t ready_ms;
    uint32_t alert_wait_ms;
};

/* 0 to run, 1 when --help was printed, 2 for a usage error (said on stderr). */
int kit_parse_args(int argc, char **argv, struct kit_options *o);

/* ---- the documents of the sale (MER-SZ-0001, EUR, CN -> DE) ---- */

/* The identity commitments of one buyer and consignee (32 bytes each). */
struct kit_people {
    uint8_t buyer[32], name[32], phone[32], address[32];
};

/* 24 solar lamps and 12 LED strings, placed on PLT-0001: EUR 420.00 paid. */
struct kit_order {
    Hansa__OrderItem items[2];
    Hansa__OrderItem *item_ptrs[2];
    Hansa__CreateOrder doc;
};
void kit_order_init(struct kit_order *d, const char *order_no, struct kit_people *who);

struct kit_payment {
    Hansa__OrderRef ref;
    Hansa__RecordPayment doc;
};
void kit_payment_init(struct kit_payment *p, const char *order_no, const char *pay_id,
                      uint8_t payer[32], int64_t amount_minor, uint64_t pay_time_ms);

/* 2 parcels, 6.4 kg, CNSZX -> DEHAM. */
struct kit_waybill {
    Hansa__OrderRef ref;
    char *hs_codes[2];
    Hansa__CreateWaybill doc;
};
void kit_waybill_init(struct kit_waybill *w, const char *order_no, const char *waybill_no,
                      struct kit_people *who);

/* Financing of one order on bank's line. */
struct kit_financing {
    Hansa__LineRef line;
    Hansa__OrderRef ref;
    Hansa__OrderRef *refs[1];
    Hansa__RequestFinancing doc;
};
void kit_financing_init(struct kit_financing *r, const char *financing_id, const char *bank,
                        const char *line_id, const char *order_no, int64_t amount_minor,
                        uint64_t maturity_ms);

/* ---- how things read ---- */

/* A line on stdout (flushed): the narrative. */
__attribute__((format(printf, 1, 2))) void kit_say(const char *fmt, ...);
/* "trade_flow: ..." on stderr; returns false so a step can `return kit_fail(...)`. */
__attribute__((format(printf, 1, 2))) bool kit_fail(const char *fmt, ...);

/* "EUR 1,234.56" for cents, into buf (48 bytes are always enough). */
const char *kit_money(char *buf, size_t len, int64_t minor);
/* "3f2a9c0e.." for the first 4 bytes of b, into buf (12 bytes). */
const char *kit_short_hex(char *buf, const uint8_t *b);
/* "23 Nov 10:49 UTC". */
const char *kit_utc_text(char *buf, size_t len, uint64_t ms);
/* An enum value's name without the prefix all its values share:
 * "SHIPPED" for ORDER_STATUS_SHIPPED; "?" for a value the schema lacks. */
const char *kit_enum_name(const ProtobufCEnumDescriptor *d, int value);
/* "MISMATCHED (PAYER, AMOUNT)", "MATCHED", "PENDING". */
const char *kit_match_text(const Hansa__Order *o, char *buf, size_t len);

uint64_t kit_wall_ms(void);
uint64_t kit_mono_ms(void);
/* The polling interval of a condition wait (never a wait for time itself). */
void kit_poll_pause(void);

#endif
