/*
 * Node configuration: <home>/config.ini, read with libinih.
 *
 *   [node]     id, chain_id, log_level
 *   [paths]    validator_key, data_dir, genesis, tls_ca, tls_cert, tls_key,
 *              read_audit_log
 *   [p2p]      listen                      (tls+tcp://host:port)
 *   [peers]    <validator id> = tls+tcp://host:port     (one line per peer)
 *   [api]      listen_tls, listen_tcp       (client API)
 *   [events]   listen                      (pub socket for live events)
 *   [blocks]   heartbeat_ms, interval_ms, max_txs
 *   [mempool]  max_txs, max_bytes, verifier_threads
 *   [consensus] propose_timeout_ms, vote_timeout_ms
 *   [risk]     ruleset, retention_blocks
 *
 * node_config_write() produces a file with a comment above every key saying
 * what it means; `hansad testnet` uses it, and it is the reference for the
 * format.
 *
 * Rules (each violation is an error that names the file and the line):
 *   1. Every section and key is known. A typo is an error, never a silently
 *      ignored setting; a key given twice is an error too (libinih also
 *      reports an indented line as a continuation of the key above it, which
 *      then reads as the key given twice).
 *   2. Required: [node] id and chain_id, [p2p] listen, [api] listen_tls,
 *      [events] listen. Everything else has a default (node_config_init);
 *      the default paths are the layout `hansad testnet` writes.
 *   3. Relative paths resolve against the home directory; the loaded
 *      config holds absolute paths only.
 *   4. Validator links and the TLS client API are tls+tcp:// only (mutual
 *      TLS with the consortium CA, DESIGN 4). The one plain tcp:// client
 *      listener, and an events listener on tcp://, must bind a loopback
 *      address (127.0.0.1, ::1 or localhost): plain tcp is for tools on the
 *      same host. Ports are 1..65535; no two listeners share host and port.
 *   5. A peer is named by its validator id, which is also the name its TLS
 *      certificate must carry (CN / DNS SAN): a node dialing a peer sets that
 *      id as the TLS server name, because mbedTLS 2.28 never matches IP
 *      addresses (LIBNOTES 1.6).
 *   6. A line holds at most libinih's buffer minus 3 characters (197); a
 *      longer line is an error, never silently cut.
 *
 * Lifetime: struct node_config is a plain value without heap pointers;
 * node_config_init() cannot fail, node_config_load() can, nothing to free.
 * The struct is about 52 KiB: keep it static or on the heap in threads
 * with small stacks.
 */
#ifndef HANSA_NODE_CONFIG_H
#define HANSA_NODE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "genesis.h"
#include "hansa/error.h"
#include "hansa/limits.h"

/* Peers of one node. A validator set has at most GENESIS_VALIDATORS_MAX (64,
 * the ValidatorSet bound of hansa.proto) members, so a validator has at most
 * 63 validator peers; every peer costs a push socket, a TLS session and a
 * copy of every broadcast, so the bound also caps the broadcast fan-out. */
#define HANSA_PEERS_MAX 64u
_Static_assert(HANSA_PEERS_MAX >= GENESIS_VALIDATORS_MAX - 1, "a validator must reach all others");

/* A URL "tls+tcp://host:port", NUL included. DNS names are at most 253
 * characters; the scheme and port fit in the rest. */
#define NODE_CONFIG_URL_BYTES_MAX 288u
/* A resolved path (home + relative path), NUL included. */
#define NODE_CONFIG_PATH_BYTES_MAX 1024u

/* Bounds of the numeric settings, with their reasons. */
/* Empty blocks at most every 10 ms, at least every hour (0 = never). */
#define NODE_CONFIG_HEARTBEAT_MS_MAX 3600000u
/* A block interval target above a minute is a misconfiguration. */
#define NODE_CONFIG_INTERVAL_MS_MIN 10u
#define NODE_CONFIG_INTERVAL_MS_MAX 60000u
/* The mempool holds at most a million transactions (its index is in RAM)
 * and at most 4 GiB of transactions, never less than one transaction. */
#define NODE_CONFIG_MEMPOOL_TXS_MAX   1000000u
#define NODE_CONFIG_MEMPOOL_BYTES_MAX (UINT64_C(4) << 30)
/* Consensus timeouts: under 100 ms a round cannot complete even on one
 * host; over a minute a failed proposer stalls the chain for too long. */
#define NODE_CONFIG_TIMEOUT_MS_MIN 100u
#define NODE_CONFIG_TIMEOUT_MS_MAX 60000u
/* Signature verifier threads; more than 64 cores is not a target. */
#define NODE_CONFIG_VERIFIERS_MAX 64u

/* A listening or dialing address. url is given to nng as is; host and port
 * are its parts (host without brackets for IPv6). An unset optional URL has
 * url[0] == '\0'. */
struct node_url {
    char url[NODE_CONFIG_URL_BYTES_MAX];
    char host[NODE_CONFIG_URL_BYTES_MAX];
    uint16_t port;
    bool tls; /* tls+tcp:// (true) or tcp:// (false) */
};

/* A validator peer: its id doubles as the TLS server name to expect. */
struct node_peer {
    char id[HANSA_ID_LEN_MAX + 1];
    struct node_url addr;
};

struct node_config {
    /* Absolute home directory and config file (set by node_config_load). */
    char home[NODE_CONFIG_PATH_BYTES_MAX];
    char file[NODE_CONFIG_PATH_BYTES_MAX];

    /* [node] */
    char node_id[HANSA_ID_LEN_MAX + 1];        /* validator id, [A-Za-z0-9._-] */
    char chain_id[HANSA_CHAIN_ID_LEN_MAX + 1]; /* must equal genesis chain_id */
    char log_level[8];                         /* "debug", "info", "warn" or "error" */

    /* [paths]: relative to home in a file, absolute once loaded. */
    char validator_key_path[NODE_CONFIG_PATH_BYTES_MAX]; /* wire_keyfile_load() format */
    char data_dir[NODE_CONFIG_PATH_BYTES_MAX];           /* RocksDB and consensus WAL */
    char genesis_path[NODE_CONFIG_PATH_BYTES_MAX];
    char tls_ca_path[NODE_CONFIG_PATH_BYTES_MAX];         /* consortium CA certificate, PEM */
    char tls_cert_path[NODE_CONFIG_PATH_BYTES_MAX];       /* this node's certificate, PEM */
    char tls_key_path[NODE_CONFIG_PATH_BYTES_MAX];        /* its private key, PEM, mode 0600 */
    char read_audit_log_path[NODE_CONFIG_PATH_BYTES_MAX]; /* DOMAIN "read-audit log" */

    /* [p2p] and [peers] */
    struct node_url p2p_listen; /* tls+tcp; the pull0 listener of DESIGN 6 */
    struct node_peer peers[HANSA_PEERS_MAX];
    size_t n_peers; /* in file order */

    /* [api] and [events] */
    struct node_url api_listen_tls; /* tls+tcp, required */
    struct node_url api_listen_tcp; /* tcp on loopback; url[0] == '\0' when off */
    struct node_url events_listen;  /* pub0: tls+tcp, or tcp on loopback */

    /* [blocks] */
    uint32_t block_heartbeat_ms; /* an empty block after this idle time; 0 = never */
    uint32_t block_interval_ms;  /* least time between two blocks */
    uint32_t block_txs_max;      /* 1..HANSA_BLOCK_TXS_MAX */

    /* [consensus]: Tendermint timeouts of round 0; round r waits
     * timeout x (1 + r/2). */
    uint32_t consensus_propose_ms;
    uint32_t consensus_vote_ms;

    /* [mempool] */
    uint32_t mempool_txs_max;
    uint64_t mempool_bytes_max;
    uint32_t verifier_threads;

    /* [risk] */
    char risk_ruleset_path[NODE_CONFIG_PATH_BYTES_MAX]; /* INI, RISK.md; must exist */
    uint64_t risk_retention_blocks;                     /* 0 = keep every alert */
};

/*
 * Defaults for every optional setting, empty required ones; cannot fail.
 * Paths are the relative defaults ("validator.key", "data", "genesis.json",
 * "ca.crt", "tls/node.crt", "tls/node.key", "read-audit.log"); log level
 * "info"; heartbeat 5,000 ms; interval 50 ms; 5,000 txs per block;
 * mempool 20,000 txs and 256 MiB; 2 verifier threads.
 */
void node_config_init(struct node_config *c);

/*
 * Read <home>/config.ini into *c (initialised here first). HANSA_OK, or:
 *   HANSA_ENOENT  home or config.ini does not exist;
 *   HANSA_EIO     it cannot be read;
 *   HANSA_EFORMAT its content breaks a rule above.
 * why (why_len bytes, may be NULL) receives one sentence for the operator,
 * "<file>:<line>: [section] key: what is wrong" when a line is at fault,
 * "<file>: missing required key [section] key" for a missing key.
 */
HANSA_MUST_USE hansa_err node_config_load(const char *home, struct node_config *c, char *why,
                                          size_t why_len);

/*
 * Write c as a new config file at path (mode 0644; never overwrites:
 * HANSA_EEXIST; crash-safe), with a comment above every key. Paths are
 * written as they are in c, so relative ones stay relative. Only fields
 * that node_config_load would accept may be set; HANSA_EINVAL otherwise
 * (why says which), so a written file always loads.
 */
HANSA_MUST_USE hansa_err node_config_write(const char *path, const struct node_config *c, char *why,
                                           size_t why_len);

/*
 * Cross-check a loaded config against the loaded genesis: the chain ids are
 * equal, node_id is a genesis validator, every peer is a genesis validator
 * other than this node, and every other genesis validator is a peer (a
 * missing one would never receive this node's votes). HANSA_OK or
 * HANSA_EINVAL with why.
 */
HANSA_MUST_USE hansa_err node_config_check_genesis(const struct node_config *c,
                                                   const struct genesis_doc *g, char *why,
                                                   size_t why_len);

/* The peer with this id, or NULL. */
const struct node_peer *node_config_peer(const struct node_config *c, const char *id);

/*
 * Parse "tls+tcp://host:port" or "tcp://host:port" into *u (url copied).
 * Host: a DNS name or IPv4 address of [A-Za-z0-9.-], "*" (any), or an IPv6
 * address in brackets; port 1..65535. HANSA_EINVAL with why otherwise.
 */
HANSA_MUST_USE hansa_err node_url_parse(const char *url, struct node_url *u, char *why,
                                        size_t why_len);

/* True for 127.0.0.0/8 dotted quads, "::1" and "localhost". */
bool node_url_is_loopback(const struct node_url *u);
/* True for the any-address hosts "*", "0.0.0.0" and "::". */
bool node_url_is_wildcard(const struct node_url *u);

#endif
