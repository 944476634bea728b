/*
 * `hansad testnet`: everything N local validators need, in one directory.
 *
 *   hansad testnet --validators N --dir DIR [--base-port P] [--chain-id ID]
 *
 * DIR must not exist or be empty (an existing network is never touched).
 * It receives:
 *
 *   DIR/ca/ca.crt, ca.key            the consortium CA (key 0600)
 *   DIR/node<i>/config.ini           node_config_write(); peers = all other
 *                                    nodes, named by their node ids
 *   DIR/node<i>/validator.key        Ed25519 validator key (wire_keyfile_save,
 *                                    party "")
 *   DIR/node<i>/tls/node.crt, .key   CN=node<i>, DNS SANs node<i>, localhost
 *   DIR/node<i>/ca.crt               copy of the CA certificate
 *   DIR/node<i>/genesis.json         identical bytes in every node directory
 *   DIR/parties/<ID>.key             Ed25519 key of each demo party of genesis
 *   DIR/parties/identity.key         consortium identity key (format below)
 *   DIR/parties/client.crt, .key     TLS client certificate for tools (CN=client)
 *   DIR/parties/ca.crt               copy of the CA certificate for tools
 *
 * Ports, all on 127.0.0.1: node i uses P+10*i for p2p, P+10*i+1 for the TLS
 * client API, P+10*i+2 for the plain-tcp client API, P+10*i+3 for events.
 * P defaults to 26600.
 *
 * Genesis: default parameters, the validators node0..node<N-1> (operated by
 * ADMIN-NODE<i>), and the parties MER-SZ-0001 (MERCHANT, CN), PLT-0001
 * (PLATFORM, CN), PAY-0001 (PAYMENT, CN), LOG-0001 (LOGISTICS, CN), BANK-A
 * (BANK, CN), BANK-B (BANK, DE), CUS-0001 (REGULATOR, CN) and one
 * ADMIN-NODE<i> (ADMIN, CN) per validator, one key each.
 *
 * Identity key file (DOMAIN "Personal data": the HMAC key of identity
 * commitments, handed to member organisations off the ledger):
 *
 *   {"type": "hansa-identity-key", "version": 1, "key": "<64 hex>"}
 *
 * JSON, mode 0600, 32 random bytes (libsodium's system RNG) as lower-case
 * hex; loaders must refuse a file group or others can read, as for key
 * files.
 */
#ifndef HANSA_CONFIG_TESTNET_H
#define HANSA_CONFIG_TESTNET_H

#include <stdint.h>

#include "hansa/error.h"
#include "hansa/wire.h"

#define TESTNET_VALIDATORS_MAX    16
#define TESTNET_BASE_PORT_DEFAULT 26600
#define TESTNET_CHAIN_ID_DEFAULT  "hansa-local-1"
#define IDENTITY_KEY_FILE_TYPE    "hansa-identity-key"

/*
 * The subcommand. argv[0] is the subcommand's own name ("testnet"), as
 * hansad's main passes (argc - 1, argv + 1). Writes progress and the
 * summary to stdout, errors to stderr. Returns the process exit status:
 * 0 done (or --help), 1 failed, 2 bad usage.
 */
int testnet_main(int argc, char **argv);

/* Create the identity key file at path (format above; never overwrites:
 * HANSA_EEXIST). */
HANSA_MUST_USE hansa_err testnet_identity_key_save(const char *path,
                                                   const uint8_t key[WIRE_IDENTITY_KEY_BYTES],
                                                   char *why, size_t why_len);

/* Load it: HANSA_EPERM if group or others may read it, HANSA_EFORMAT for
 * anything but the format above, HANSA_ENOENT, HANSA_EIO. */
HANSA_MUST_USE hansa_err testnet_identity_key_load(const char *path,
                                                   uint8_t key[WIRE_IDENTITY_KEY_BYTES], char *why,
                                                   size_t why_len);

#endif
