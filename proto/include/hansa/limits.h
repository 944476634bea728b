/*
 * Every size limit of Hansa, each with the reason for its value.
 *
 * Anything that arrives from outside is checked against one of these before
 * it is decoded or stored, so that no input can make a node allocate without
 * bound. Relations between limits are checked at compile time at the bottom.
 */
#ifndef HANSA_LIMITS_H
#define HANSA_LIMITS_H

/* A transaction envelope (body + key + signature). A trade document with 200
 * order lines and long item names fits in ~40 KiB; 64 KiB leaves headroom
 * while keeping a block of thousands of transactions in a few MiB. DOMAIN.md
 * names this as the default of the TOO_LARGE rule. */
#define HANSA_TX_BYTES_MAX (64u * 1024u)

/* Chain id: a short printable name ("hansa-test-1"), part of every signed
 * message. 64 characters is ample for a name plus a version. */
#define HANSA_CHAIN_ID_LEN_MAX 64u

/* Party id ("MER-SZ-0001"), order_no, logistics_no, line and financing ids:
 * customs message fields are at most 60 characters (CEB311 orderNo is 60). */
#define HANSA_ID_LEN_MAX 64u

/* Client-chosen nonce of a transaction body: enough for a UUID or a hash. */
#define HANSA_NONCE_BYTES_MAX 32u

/* Lines of one order and orders of one financing (DOMAIN.md, "Document
 * limits"). */
#define HANSA_ORDER_LINES_MAX      200u
#define HANSA_FINANCING_ORDERS_MAX 50u

/* Transactions in one block. Bounds execution time of a block on the event
 * loop (~10k x 100 us of signature checks on a node that has seen none of
 * them = 1 s) and the size of a block's results. */
#define HANSA_BLOCK_TXS_MAX 10000u

/* One encoded block: all its transactions plus header, commit and evidence. */
#define HANSA_BLOCK_BYTES_MAX (16u * 1024u * 1024u)

/* One message between validators (a proposal carries a whole block; a gossip
 * batch carries many transactions). */
#define HANSA_PEER_MESSAGE_BYTES_MAX (HANSA_BLOCK_BYTES_MAX + 1024u * 1024u)

/* A vote or a proposal: type, height, round, a 32-byte hash and two short ids
 * encode in under 200 bytes; 1 KiB refuses anything else at once. */
#define HANSA_VOTE_BYTES_MAX 1024u

/* A signed query's body: a record id or a few filters and a page token. */
#define HANSA_QUERY_BYTES_MAX (8u * 1024u)

/* One client API request: a submitted transaction or a signed query. */
#define HANSA_REQUEST_BYTES_MAX (HANSA_TX_BYTES_MAX + 4096u)

/* One client API response: a block by height is the largest answer. */
#define HANSA_RESPONSE_BYTES_MAX HANSA_PEER_MESSAGE_BYTES_MAX

/* One live event on a node's pub socket (block, receipt or alert hint):
 * the topic and the encoded Event. */
#define HANSA_EVENT_BYTES_MAX (1024u * 1024u)

/* nng counts its protocol header in NNG_OPT_RECVMAXSZ: req/rep carries 4
 * bytes per hop and at most 8 hops. A receive limit is the message limit
 * plus this, so a message exactly at its limit still arrives (and one over
 * it is answered TOO_LARGE by the application, not dropped by nng). */
#define HANSA_NNG_HEADER_BYTES_MAX 64u

/* How much heap protobuf-c may use to decode N bytes: N x this factor plus a
 * small constant. Legitimate messages need 2-8x (string copies, structs and
 * pointer arrays); a hostile message of empty repeated sub-messages would
 * need ~40x (LIBNOTES 3.2). Decoding stops with HANSA_ETOOLARGE instead. */
#define HANSA_DECODE_EXPANSION_MAX    16u
#define HANSA_DECODE_HEAP_SLACK_BYTES (64u * 1024u)

/* One value given to the identity commitment (a name, a phone number, an
 * address) before normalization. */
#define HANSA_IDENTITY_VALUE_BYTES_MAX 1024u

/* A key file is a few hundred bytes of JSON; anything much larger is not one. */
#define HANSA_KEYFILE_BYTES_MAX 4096u

/* Signing messages up to this size are assembled on the stack; larger ones
 * (rare: big transactions) on the heap. */
#define HANSA_SIGN_STACK_BYTES 4096u

_Static_assert(HANSA_TX_BYTES_MAX < HANSA_BLOCK_BYTES_MAX, "a block must hold a transaction");
_Static_assert(HANSA_BLOCK_BYTES_MAX < HANSA_PEER_MESSAGE_BYTES_MAX,
               "a proposal message must hold a block");
_Static_assert(HANSA_TX_BYTES_MAX < HANSA_REQUEST_BYTES_MAX, "a submit request must hold a tx");
_Static_assert(HANSA_QUERY_BYTES_MAX < HANSA_REQUEST_BYTES_MAX, "a request must hold a query");
_Static_assert(HANSA_PEER_MESSAGE_BYTES_MAX < (1u << 30) / HANSA_DECODE_EXPANSION_MAX,
               "the decode heap budget must not overflow 32 bits");

#endif
