/*
 * TLS configuration for nng endpoints from the node's PEM files (consortium
 * CA, node certificate, node key). nng 1.5.2 takes the certificate and key
 * as PEM strings (or one combined file), so they are read here into heap
 * buffers; key bytes are wiped after use. Safe from any thread.
 */
#ifndef HANSA_NET_TLS_H
#define HANSA_NET_TLS_H

#include <nng/nng.h>
#include <nng/supplemental/tls/tls.h>

#include "config.h"
#include "hansa/error.h"

/* A new server-side config: own certificate and key, the CA chain, and
 * auth_mode (NNG_TLS_AUTH_MODE_REQUIRED for validator links, _NONE for
 * clients that authenticate by signatures). Caller frees with
 * nng_tls_config_free after setting it on a listener. */
HANSA_MUST_USE hansa_err net_tls_server(const struct node_config *cfg, nng_tls_auth_mode mode,
                                        nng_tls_config **out, char *why, size_t why_len);

/* A new client-side config for dialing one peer: own certificate and key
 * (the listener requires them), the CA chain, and server_name, the name the
 * peer's certificate must carry (its validator id: mbedTLS 2.28 never
 * matches IP addresses, LIBNOTES 1.6). One config per dialer, so that each
 * peer is pinned to its own name. Caller frees with nng_tls_config_free
 * after setting it on a dialer. */
HANSA_MUST_USE hansa_err net_tls_client(const struct node_config *cfg, const char *server_name,
                                        nng_tls_config **out, char *why, size_t why_len);

#endif
