/*
 * libhansa: the Hansa client SDK.
 *
 * One handle (hansa_client) talks to one node's client API over tcp:// (tools
 * on the node's host) or tls+tcp:// (anywhere; the node proves itself with a
 * certificate of the consortium CA). Requests are signed with the party key
 * the client was opened with, so the node knows who writes and who reads.
 *
 *   hansa_client *c;
 *   hansa_error err;
 *   hansa_client_options o = {.url = "tls+tcp://127.0.0.1:26601", .ca_path = "ca.crt",
 *                             .server_name = "node0", .key_path = "MER-SZ-0001.key"};
 *   if (hansa_client_open(&o, &c, &err) != HANSA_CODE_OK) { puts(err.message); return 1; }
 *   Hansa__CreateOrder doc = HANSA__CREATE_ORDER__INIT;  ...fill the document...
 *   hansa_receipt r;
 *   if (hansa_order_create(c, &doc, &r, &err) != HANSA_CODE_OK) ...
 *   hansa_client_close(c);
 *
 * Documents and records are the protocol's messages (hansa.proto, compiled
 * by protobuf-c into <hansa/hansa.pb-c.h>, included below): fill a document
 * with its INIT macro; records returned by reads are owned by the caller
 * and freed with hansa_free().
 *
 * Writes: the SDK builds the transaction body (chain id, signer, creation
 * time, a random nonce), signs it, submits it, and by default waits for the
 * commit receipt (hansa_submit_options). A write returns:
 *   HANSA_CODE_OK        committed with RESULT_OK;
 *   HANSA_CODE_REFUSED   refused at admission (err.result says why: not
 *                        authorized, invalid document, ...); never in a block;
 *   HANSA_CODE_REJECTED  committed with a business rejection (err.result,
 *                        e.g. RESULT_ASSET_ALREADY_PLEDGED); it is in the
 *                        block for the audit trail and changed nothing;
 *   HANSA_CODE_TIMEOUT   admitted but not committed within the timeout (the
 *                        receipt can still be asked for with hansa_tx_get).
 *
 * Every failure fills the optional hansa_error with a code and a sentence.
 *
 * Threads: a hansa_client may be used from any number of threads at once
 * (each request runs on its own nng context). Callbacks of asynchronous
 * submits and of subscriptions run on SDK threads: keep them short and do
 * not close the client from inside them.
 *
 * Alerts: hansa_alerts_pull() reads the node's alert log after a cursor;
 * hansa_subscribe() is the durable subscription of RISK.md — it pulls from
 * a saved cursor until caught up, takes live pushes as hints, pulls again
 * on any gap or reconnect, dedups by alert id, and saves the cursor to a
 * file after every alert it delivers, so a subscriber restarted after an
 * hour gets every alert it missed, in order, each once.
 */
#ifndef HANSA_HANSA_H
#define HANSA_HANSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <hansa/hansa.pb-c.h>

#ifdef __cplusplus
extern "C" {
#endif

#define HANSA_SDK_VERSION "0.1.0"

/* ---- errors ---- */

typedef enum hansa_code {
    HANSA_CODE_OK = 0,
    HANSA_CODE_INVALID_ARGUMENT, /* the caller passed something unusable */
    HANSA_CODE_KEY,              /* a key file is missing, unreadable, too open or malformed */
    HANSA_CODE_CONNECT,          /* the node cannot be reached (or TLS failed) */
    HANSA_CODE_TIMEOUT,          /* no answer, or no commit, within the timeout */
    HANSA_CODE_REFUSED,          /* a transaction refused at admission (error.result) */
    HANSA_CODE_REJECTED,         /* committed with a business rejection (error.result) */
    HANSA_CODE_NOT_FOUND,        /* no such record, block or transaction */
    HANSA_CODE_DENIED,           /* the key's party may not read this */
    HANSA_CODE_NODE,             /* any other error the node answered (error.node_error) */
    HANSA_CODE_CURSOR_EXPIRED,   /* an alert cursor older than the node's retention */
    HANSA_CODE_PROTOCOL,         /* the node's answer does not decode or does not fit */
    HANSA_CODE_NOMEM,
    HANSA_CODE_IO,     /* a local file (cursor file, document) cannot be read or written */
    HANSA_CODE_CLOSED, /* the client or subscription is closing */
} hansa_code;

#define HANSA_MESSAGE_MAX 512

typedef struct hansa_error {
    hansa_code code;
    int result;     /* Hansa__ResultCode for REFUSED / REJECTED, else 0 */
    int node_error; /* Hansa__ErrorCode when the node answered an error, else 0 */
    char message[HANSA_MESSAGE_MAX];
} hansa_error;

/* "CONNECT" for HANSA_CODE_CONNECT. */
const char *hansa_code_name(hansa_code code);
/* "ASSET_ALREADY_PLEDGED" for a Hansa__ResultCode; "UNKNOWN" otherwise. */
const char *hansa_result_name(int result);
/* "NOT_AUTHORIZED" for a Hansa__ErrorCode (hansa_error.node_error);
 * "UNKNOWN" otherwise. */
const char *hansa_node_error_name(int node_error);

/* ---- the client ---- */

typedef struct hansa_client hansa_client;

typedef struct hansa_client_options {
    const char *url;         /* tcp://host:port or tls+tcp://host:port (required) */
    const char *ca_path;     /* tls+tcp: the consortium CA certificate (PEM) */
    const char *server_name; /* tls+tcp: the name in the node's certificate (its id) */
    const char *key_path;    /* party key file (hansad testnet writes parties/<ID>.key);
                                NULL for a client that only reads status */
    uint32_t timeout_ms;     /* per request; 0 = 10,000 */
} hansa_client_options;

/* Details of the options:
 *   - tls+tcp needs ca_path. Without server_name any certificate of that CA
 *     is accepted; with it, only the node of that name. ca_path and
 *     server_name also serve a subscription's tls+tcp events_url, for a
 *     tcp:// client too.
 *   - key_path: the key file must be mode 0600 (HANSA_CODE_KEY otherwise).
 *   - The first request dials the node and fails at once with
 *     HANSA_CODE_CONNECT when it refuses the connection or TLS fails; once
 *     connected, the client reconnects by itself after the node restarts,
 *     and a request made while it is away fails with HANSA_CODE_CONNECT at
 *     its timeout.
 *   - The chain id is learned by the first request that needs it (writes,
 *     signed reads, hansa_status): hansa_client_chain() returns "" before.
 * Requests answered ERROR_BUSY by the node are retried within their timeout. */
/* Connect (lazily: a node that is down is found at the first request),
 * load the key, learn the chain id from the node. */
hansa_code hansa_client_open(const hansa_client_options *opts, hansa_client **out,
                             hansa_error *err);
/* Waits for asynchronous submits in flight to finish (their callbacks run
 * with HANSA_CODE_CLOSED). Accepts NULL. Returns within about 5 s even
 * when nng 1.5.2's close deadlock strikes (nng #1813, fixed in nng 1.8.0):
 * the socket and a few KiB are then left behind. */
void hansa_client_close(hansa_client *c);
/* The key's party id ("" without a key); the node's chain id. */
const char *hansa_client_party(const hansa_client *c);
const char *hansa_client_chain(const hansa_client *c);

/* Free a record, page or receipt the SDK returned (NULL is fine). */
void hansa_free(void *protobuf_message);

/* ---- writes ---- */

typedef struct hansa_receipt {
    uint8_t tx_id[32];
    bool committed;         /* false: admitted, not (yet) committed */
    uint64_t height;        /* block holding it */
    uint32_t index;         /* its index in the block */
    int result;             /* Hansa__ResultCode */
    char message[256];      /* the ledger's sentence for a rejection */
    uint64_t block_time_ms; /* block time */
} hansa_receipt;

typedef struct hansa_submit_options {
    bool no_wait;     /* return once admitted (receipt.committed = false) */
    uint32_t wait_ms; /* how long to wait for the commit; 0 = 30,000 */
} hansa_submit_options;

/* Submitting (hansa_submit and every write below):
 *   - a node answering RESULT_BUSY (mempool full) or ERROR_BUSY is asked
 *     again within the client's timeout; if it stays busy the write fails
 *     with HANSA_CODE_REFUSED and result RESULT_BUSY;
 *   - ALREADY_PENDING counts as admitted; ALREADY_COMMITTED returns the
 *     original receipt (OK or REJECTED by its result);
 *   - waiting for the commit survives a node restart: the SDK keeps asking
 *     for the receipt until wait_ms has passed;
 *   - out->tx_id is set as soon as the transaction is built, also when the
 *     write fails afterwards.
 * hansa_client_close() cancels asynchronous submits still waiting: their
 * callbacks run with HANSA_CODE_CLOSED (the transaction may still commit).
 * hansa_submit_async builds and signs on the caller's thread, so argument
 * errors return at once; when it returns anything but HANSA_CODE_OK, done
 * is never called. */
/* Sign and submit one action: action is the TxBody oneof case
 * (HANSA__TX_BODY__ACTION_CREATE_ORDER, ...) and msg the matching message
 * (Hansa__CreateOrder *, ...). opts may be NULL. */
hansa_code hansa_submit(hansa_client *c, Hansa__TxBody__ActionCase action, const void *msg,
                        const hansa_submit_options *opts, hansa_receipt *out, hansa_error *err);

/* The same without blocking: done runs once, on an SDK thread, with the
 * outcome (receipt and err valid only during the call). At most
 * HANSA_ASYNC_MAX submits per client are in flight; beyond that the call
 * fails at once with HANSA_CODE_NODE and node_error = ERROR_BUSY. */
#define HANSA_ASYNC_MAX 256
typedef void (*hansa_submit_cb)(void *arg, hansa_code code, const hansa_receipt *receipt,
                                const hansa_error *err);
hansa_code hansa_submit_async(hansa_client *c, Hansa__TxBody__ActionCase action, const void *msg,
                              const hansa_submit_options *opts, hansa_submit_cb done, void *arg,
                              hansa_error *err);

/* Role-oriented writes: each is hansa_submit with default options (wait for
 * the commit). The signer is the client's key. */

/* merchants (and platforms on a merchant's behalf) */
hansa_code hansa_order_create(hansa_client *c, const Hansa__CreateOrder *doc, hansa_receipt *out,
                              hansa_error *err);
hansa_code hansa_order_cancel(hansa_client *c, const char *merchant, const char *order_no,
                              hansa_receipt *out, hansa_error *err);
hansa_code hansa_finance_request(hansa_client *c, const Hansa__RequestFinancing *doc,
                                 hansa_receipt *out, hansa_error *err);
/* payment institutions */
hansa_code hansa_payment_record(hansa_client *c, const Hansa__RecordPayment *doc,
                                hansa_receipt *out, hansa_error *err);
/* logistics firms */
hansa_code hansa_waybill_create(hansa_client *c, const Hansa__CreateWaybill *doc,
                                hansa_receipt *out, hansa_error *err);
hansa_code hansa_waybill_event(hansa_client *c, const char *logistics_no,
                               Hansa__ShipmentEventType type, const char *location_locode,
                               uint64_t event_time_ms, hansa_receipt *out, hansa_error *err);
/* banks */
hansa_code hansa_credit_open(hansa_client *c, const Hansa__OpenCreditLine *doc, hansa_receipt *out,
                             hansa_error *err);
hansa_code hansa_credit_limit(hansa_client *c, const char *line_id, int64_t limit_minor,
                              hansa_receipt *out, hansa_error *err);
hansa_code hansa_credit_suspend(hansa_client *c, const char *line_id, hansa_receipt *out,
                                hansa_error *err);
hansa_code hansa_credit_resume(hansa_client *c, const char *line_id, hansa_receipt *out,
                               hansa_error *err);
hansa_code hansa_credit_close(hansa_client *c, const char *line_id, hansa_receipt *out,
                              hansa_error *err);
hansa_code hansa_finance_approve(hansa_client *c, const char *merchant, const char *financing_id,
                                 hansa_receipt *out, hansa_error *err);
hansa_code hansa_finance_reject(hansa_client *c, const char *merchant, const char *financing_id,
                                hansa_receipt *out, hansa_error *err);
hansa_code hansa_finance_disburse(hansa_client *c, const char *merchant, const char *financing_id,
                                  hansa_receipt *out, hansa_error *err);
hansa_code hansa_finance_repay(hansa_client *c, const char *merchant, const char *financing_id,
                               int64_t amount_minor, hansa_receipt *out, hansa_error *err);
hansa_code hansa_finance_default(hansa_client *c, const char *merchant, const char *financing_id,
                                 hansa_receipt *out, hansa_error *err);

/* ---- reads (signed queries; the node applies DOMAIN.md's read rules) ---- */

hansa_code hansa_status(hansa_client *c, Hansa__NodeStatus **out, hansa_error *err);
hansa_code hansa_order_get(hansa_client *c, const char *merchant, const char *order_no,
                           Hansa__Order **out, hansa_error *err);
hansa_code hansa_payment_get(hansa_client *c, const char *institution,
                             const char *pay_transaction_id, Hansa__Payment **out,
                             hansa_error *err);
hansa_code hansa_waybill_get(hansa_client *c, const char *carrier, const char *logistics_no,
                             Hansa__Waybill **out, hansa_error *err);
hansa_code hansa_credit_get(hansa_client *c, const char *bank, const char *line_id,
                            Hansa__CreditLine **out, hansa_error *err);
hansa_code hansa_finance_get(hansa_client *c, const char *merchant, const char *financing_id,
                             Hansa__Financing **out, hansa_error *err);
/* A borrower's aggregate exposure across banks (banks and regulators). */
hansa_code hansa_exposure_get(hansa_client *c, const char *borrower, Hansa__Exposure **out,
                              hansa_error *err);
/* Records of one type involving party, a page at a time: pass the page's
 * next_page_token back as page_token ("" for the first page). */
hansa_code hansa_list(hansa_client *c, const char *party, Hansa__EntityType type,
                      const char *page_token, uint32_t limit, Hansa__RecordPage **out,
                      hansa_error *err);
/* Page tokens are given as text: the lower-case hex of a page's
 * next_page_token (as hansa_json_from_message prints it), written by
 * hansa_page_token_text() into out (at least HANSA_PAGE_TOKEN_TEXT_MAX
 * bytes fit every token). An empty next_page_token gives "", which is also
 * how a listing reached its last page. */
#define HANSA_PAGE_TOKEN_TEXT_MAX 513
hansa_code hansa_page_token_text(const ProtobufCBinaryData *next_page_token, char *out,
                                 size_t out_len, hansa_error *err);
/* Every change of one entity, oldest first, a page at a time. */
hansa_code hansa_history(hansa_client *c, Hansa__EntityType type, const char *owner, const char *id,
                         const char *page_token, uint32_t limit, Hansa__HistoryPage **out,
                         hansa_error *err);
hansa_code hansa_block_get(hansa_client *c, uint64_t height, Hansa__BlockAnswer **out,
                           hansa_error *err);
/* The receipt of a transaction (waits up to wait_ms for it to commit). */
/* HANSA_CODE_OK with out->committed = true and out->result the ledger's
 * verdict (RESULT_OK or the rejection) once committed; HANSA_CODE_OK with
 * out->committed = false while it is still in the node's mempool after
 * wait_ms; HANSA_CODE_NOT_FOUND when the node knows nothing of it. */
hansa_code hansa_tx_get(hansa_client *c, const uint8_t tx_id[32], uint32_t wait_ms,
                        hansa_receipt *out, hansa_error *err);

/* ---- alerts ---- */

typedef struct hansa_cursor {
    uint64_t height;
    uint32_t ordinal;
} hansa_cursor;

typedef struct hansa_alert_filter {
    const char *const *rule_ids; /* NULL / 0 = every rule */
    size_t n_rule_ids;
    Hansa__Severity min_severity; /* UNSPECIFIED = all */
    const char *party;            /* NULL = any */
    const Hansa__EntityRef *subject;
    const Hansa__AlertKind *kinds;
    size_t n_kinds;
} hansa_alert_filter;

/* One page of alerts after `after` (the node long-polls up to wait_ms when
 * there are none). filter may be NULL. HANSA_CODE_CURSOR_EXPIRED returns
 * the page too, with earliest_cursor set. */
/* A wait_ms above 30,000 (the node's longest long-poll) waits 30,000. */
hansa_code hansa_alerts_pull(hansa_client *c, hansa_cursor after, const hansa_alert_filter *filter,
                             uint32_t limit, uint32_t wait_ms, Hansa__AlertPage **out,
                             hansa_error *err);

typedef struct hansa_subscription hansa_subscription;

/* Called once per alert, in cursor order, on the subscription's thread;
 * the alert is valid during the call. Return false to stop the
 * subscription (the alert counts as delivered). */
typedef bool (*hansa_alert_cb)(void *arg, const Hansa__Alert *alert);
/* Called when the subscription cannot reach the node, recovers, or hits a
 * cursor older than retention (code says which); may be NULL. */
typedef void (*hansa_subscription_state_cb)(void *arg, hansa_code code, const char *message);

typedef struct hansa_subscription_options {
    const char *events_url;  /* the node's pub socket ([events] listen); NULL: pull only */
    const char *cursor_path; /* file holding the cursor across restarts (created; fsynced
                                after every delivered alert); NULL: start at `start` and
                                keep the cursor in memory */
    hansa_cursor start;      /* where to begin when there is no cursor file */
    hansa_alert_filter filter;
    uint32_t poll_ms; /* long-poll length; 0 = 10,000 */
    hansa_alert_cb on_alert;
    hansa_subscription_state_cb on_state;
    void *arg;
} hansa_subscription_options;

/* How the subscription behaves:
 *   - It needs a client opened with a key (its pulls are signed reads); the
 *     client must outlive the subscription.
 *   - The cursor file holds where to resume: the last delivered alert, or
 *     past alerts the filter skipped. It is a small JSON document replaced
 *     atomically (temporary file, fsync, rename, fsync of the directory), so
 *     a crash leaves the old or the new cursor, never a torn one. A file
 *     that exists but cannot be read or parsed fails hansa_subscribe with
 *     HANSA_CODE_IO.
 *   - With events_url it waits for live hints (nng sub0, tls+tcp with the
 *     client's CA and server name) between pulls and still pulls every
 *     poll_ms; without it, it long-polls the node.
 *   - on_state: the node cannot be reached (the failing code, e.g.
 *     HANSA_CODE_CONNECT or HANSA_CODE_TIMEOUT, also DENIED for a key the
 *     node does not accept), reached again (HANSA_CODE_OK), or the cursor is
 *     older than retention (HANSA_CODE_CURSOR_EXPIRED; the subscription then
 *     resumes from the earliest retained alert, whose cursor the message
 *     names), or the cursor file cannot be written (HANSA_CODE_IO; the alert
 *     was delivered). It keeps retrying with a growing pause (up to 5 s).
 *   - Alerts are delivered at most once per subscription by cursor order
 *     and by alert id (the ids of the last HANSA_DEDUP_IDS alerts are kept).
 *     The file is written after on_alert returns, so a process that dies
 *     inside on_alert gets that alert again after a restart (never none).
 *   - hansa_subscription_cursor() is the cursor of the last alert handed to
 *     on_alert (the starting cursor before the first).
 *   - hansa_subscription_close() must not be called from its callbacks;
 *     like hansa_client_close() it returns within about 5 s of its
 *     callbacks finishing, whatever nng_close does. */
#define HANSA_DEDUP_IDS 1024
hansa_code hansa_subscribe(hansa_client *c, const hansa_subscription_options *opts,
                           hansa_subscription **out, hansa_error *err);
/* The cursor of the last delivered alert. */
hansa_cursor hansa_subscription_cursor(hansa_subscription *s);
/* Stop (waits for a callback in progress) and free. Accepts NULL. */
void hansa_subscription_close(hansa_subscription *s);

/* ---- identity commitments (DOMAIN.md "Personal data") ---- */

typedef enum hansa_identity_kind {
    HANSA_IDENTITY_NAME = 1,
    HANSA_IDENTITY_PHONE,
    HANSA_IDENTITY_ADDRESS,
    HANSA_IDENTITY_BUYER, /* a buyer's account or customer id */
} hansa_identity_kind;

typedef struct hansa_identity_key hansa_identity_key;

/* The consortium identity key (hansad testnet writes parties/identity.key). */
hansa_code hansa_identity_key_load(const char *path, hansa_identity_key **out, hansa_error *err);
void hansa_identity_key_free(hansa_identity_key *k);
/* The key file is JSON, {"type": "hansa-identity-key", "version": 1,
 * "key": "<64 hex>"}, mode 0600 (HANSA_CODE_KEY otherwise). Kinds map to
 * the protocol's normalizations (libhansa_wire): NAME "name", PHONE "phone"
 * (international form, E.164 digits), ADDRESS "address", BUYER "document"
 * (an identifier: spaces and hyphens dropped). A payer commitment must use
 * the kind of the buyer commitment it is to match (BUYER). A value that
 * does not normalize (empty, a phone without its country code, invalid
 * UTF-8) is HANSA_CODE_INVALID_ARGUMENT. */
/* Normalize value for its kind and commit to it: 32 bytes for the
 * document's *_commitment fields. */
hansa_code hansa_identity_commit(const hansa_identity_key *k, hansa_identity_kind kind,
                                 const char *value, uint8_t out[32], hansa_error *err);

/* ---- keys ---- */

/* Write a new Ed25519 party key file (mode 0600; never overwrites) and
 * return its public key; the public key is what governance registers. */
hansa_code hansa_keygen(const char *path, const char *party_id, uint8_t public_key[32],
                        hansa_error *err);

/* ---- JSON ---- */

/* The JSON mapping in detail:
 *   - objects carry every field of the message in field-number order:
 *     scalars and strings also when empty or zero, repeated fields as
 *     arrays (possibly empty), message fields unless unset (NULL), and of a
 *     oneof only the member that is set;
 *   - enums by value name without the prefix all values of that enum share:
 *     SEVERITY_HIGH is "HIGH", RESULT_ASSET_ALREADY_PLEDGED is
 *     "ASSET_ALREADY_PLEDGED", TRADE_MODE_EXPORT is "EXPORT"; when reading,
 *     the full value name and the number are accepted too, and a number the
 *     schema does not name is written as a number;
 *   - bytes as lower-case hex (either case is read);
 *   - 64-bit integers as JSON integers; a uint64 above 2^63 - 1 (which JSON
 *     parsers cannot hold as an integer) as a string of decimal digits, and
 *     every integer field also reads such a string;
 *   - reading: null leaves a field unset; an unknown field, a value of the
 *     wrong type or range, or two members of one oneof are
 *     HANSA_CODE_INVALID_ARGUMENT with the field's path in the message
 *     (e.g. "items[0].unit_price_minor").
 * Protocol strings are UTF-8; a string that is not is written with U+FFFD
 * for each invalid byte. Messages of hansa.proto only: it has no
 * floating-point fields, and a message with one gives NULL (writing) or
 * HANSA_CODE_INVALID_ARGUMENT (reading). */
/* Any protocol message as JSON (field names of hansa.proto; bytes as lower
 * hex; enums by name without prefix; 64-bit integers as numbers). Caller
 * frees the string with free(). NULL on memory failure. */
char *hansa_json_from_message(const void *protobuf_message, bool pretty);
/* A document from JSON (same mapping; unknown fields are an error naming
 * the field). *out is freed with hansa_free(). */
hansa_code hansa_json_to_message(const char *json, const ProtobufCMessageDescriptor *d, void **out,
                                 hansa_error *err);

#ifdef __cplusplus
}
#endif

#endif
