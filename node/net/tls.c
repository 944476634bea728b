/* See tls.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "tls.h"

/* A PEM certificate chain or key is a few KiB; 64 KiB refuses anything else
 * before it is parsed. */
#define TLS_PEM_BYTES_MAX (64u * 1024u)

static char *read_pem(const char *path, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(why, why_len, "cannot open %s", path);
        return NULL;
    }
    char *buf = malloc(TLS_PEM_BYTES_MAX + 1);
    size_t n = buf != NULL ? fread(buf, 1, TLS_PEM_BYTES_MAX + 1, f) : 0;
    bool err = ferror(f) != 0;
    fclose(f);
    if (buf == NULL || err || n == 0 || n > TLS_PEM_BYTES_MAX) {
        snprintf(why, why_len, "%s: %s", path,
                 buf == NULL ? "out of memory"
                 : err       ? "read error"
                 : n == 0    ? "empty file"
                             : "larger than a PEM file can be");
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* One config for either side: own certificate and key, the CA chain, the
 * auth mode, and (client side) the server name to expect. */
static hansa_err tls_config(const struct node_config *cfg, nng_tls_mode side,
                            nng_tls_auth_mode mode, const char *server_name, nng_tls_config **out,
                            char *why, size_t why_len)
{
    *out = NULL;
    char *cert = read_pem(cfg->tls_cert_path, why, why_len);
    char *key = cert != NULL ? read_pem(cfg->tls_key_path, why, why_len) : NULL;
    char *ca = key != NULL ? read_pem(cfg->tls_ca_path, why, why_len) : NULL;
    hansa_err err = HANSA_EIO;
    nng_tls_config *tc = NULL;
    if (ca != NULL) {
        const char *step = "alloc";
        int rv = nng_tls_config_alloc(&tc, side);
        if (rv == 0) {
            step = "own_cert";
            rv = nng_tls_config_own_cert(tc, cert, key, NULL);
        }
        if (rv == 0) {
            step = "ca_chain";
            rv = nng_tls_config_ca_chain(tc, ca, NULL);
        }
        if (rv == 0) {
            step = "auth_mode";
            rv = nng_tls_config_auth_mode(tc, mode);
        }
        if (rv == 0 && server_name != NULL) {
            step = "server_name";
            rv = nng_tls_config_server_name(tc, server_name);
        }
        if (rv == 0) {
            *out = tc;
            tc = NULL;
            err = HANSA_OK;
        } else {
            snprintf(why, why_len, "TLS %s configuration (%s)%s%s from %s, %s, %s: %s",
                     side == NNG_TLS_MODE_SERVER ? "server" : "client", step,
                     server_name ? " for " : "", server_name ? server_name : "", cfg->tls_cert_path,
                     cfg->tls_key_path, cfg->tls_ca_path, nng_strerror(rv));
            err = HANSA_ECRYPTO;
        }
    }
    if (tc != NULL)
        nng_tls_config_free(tc);
    if (key != NULL)
        sodium_memzero(key, strlen(key));
    free(cert);
    free(key);
    free(ca);
    return err;
}

hansa_err net_tls_server(const struct node_config *cfg, nng_tls_auth_mode mode,
                         nng_tls_config **out, char *why, size_t why_len)
{
    return tls_config(cfg, NNG_TLS_MODE_SERVER, mode, NULL, out, why, why_len);
}

hansa_err net_tls_client(const struct node_config *cfg, const char *server_name,
                         nng_tls_config **out, char *why, size_t why_len)
{
    /* The client default is REQUIRED already; said here so that the
     * server's certificate is verified whatever a later nng does. */
    return tls_config(cfg, NNG_TLS_MODE_CLIENT, NNG_TLS_AUTH_MODE_REQUIRED, server_name, out, why,
                      why_len);
}
