/*
 * The consortium PKI: a CA and the TLS certificates it signs (mbedTLS 2.28,
 * LIBNOTES 5.2). Certificates are how a member is admitted: every TLS link
 * of Hansa (validator to validator, client to node) is mutual TLS with
 * certificates of this CA (DESIGN 4 and 6).
 *
 *   CA    P-256 key, self-signed, subject "CN=Hansa Consortium CA,O=<org>",
 *         basicConstraints CA:TRUE (path length 0: it signs leaves only),
 *         keyUsage keyCertSign + cRLSign, valid 10 years.
 *   leaf  P-256 key, subject "CN=<name>,O=<org of the CA>", CA:FALSE,
 *         keyUsage digitalSignature, subjectAltName DNS:<name>,
 *         DNS:localhost, valid 5 years but never past the CA.
 *
 * The name is a node id for node certificates (a dialer sets the peer's id
 * as TLS server name, and mbedTLS 2.28 matches only the CN and DNS SANs,
 * never IP addresses: LIBNOTES 1.6) or a tool's name ("client"). The SAN
 * extension is built by hand, since 2.28 has no helper for it.
 *
 * Time: no function here reads the clock to date a certificate; the caller
 * passes now_ms. Validity starts one hour before now_ms so that a host whose
 * clock is a little behind accepts a certificate made elsewhere.
 *
 * Randomness: keys and serial numbers come from mbedTLS's CTR-DRBG seeded
 * from its entropy collector (the OS), fresh for each call. Serial numbers
 * are 127 random bits, so two CAs of two test networks never collide.
 *
 * Files: PEM. Certificates are created with mode 0644, private keys (SEC1
 * "EC PRIVATE KEY") with mode 0600, both crash-safe and never overwriting an
 * existing file (HANSA_EEXIST; nothing is written when either file exists).
 * Key material is wiped from memory after use.
 */
#ifndef HANSA_CONFIG_PKI_H
#define HANSA_CONFIG_PKI_H

#include <stdint.h>

#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include "hansa/error.h"

/* CA and leaf validity. */
#define PKI_CA_VALIDITY_YEARS   10
#define PKI_LEAF_VALIDITY_YEARS 5
/* Organisation names of the CA: 1-64 characters of A-Z a-z 0-9 space . _ -
 * (no characters that need escaping in a distinguished name). */
#define PKI_ORG_LEN_MAX 64u

/* An opened CA that can sign (its private key is in memory). */
struct pki_ca {
    mbedtls_x509_crt cert;
    mbedtls_pk_context key;
    char org[PKI_ORG_LEN_MAX + 1];
};

/*
 * Create a new CA: a fresh key, a self-signed certificate valid from
 * now_ms (minus one hour) for PKI_CA_VALIDITY_YEARS, written to cert_path
 * and key_path. org names the consortium (e.g. the chain id). HANSA_EINVAL
 * for a bad org or now_ms, HANSA_EEXIST, HANSA_EIO, HANSA_ECRYPTO (an
 * mbedTLS failure; why carries its message).
 */
HANSA_MUST_USE hansa_err pki_ca_create(const char *cert_path, const char *key_path, const char *org,
                                       uint64_t now_ms, char *why, size_t why_len);

/* Empty CA; cannot fail. pki_ca_close() works on it. */
void pki_ca_init(struct pki_ca *ca);

/*
 * Load a CA (pki_ca_init first). Refuses a key file that group or others
 * may read (HANSA_EPERM), a certificate that is not a CA or whose subject
 * this module did not write (HANSA_EFORMAT), a key that does not belong to
 * the certificate (HANSA_EBADKEY); HANSA_ENOENT, HANSA_EFORMAT for files that
 * do not parse.
 */
HANSA_MUST_USE hansa_err pki_ca_open(struct pki_ca *ca, const char *cert_path, const char *key_path,
                                     char *why, size_t why_len);

/* Free what pki_ca_open loaded (wiping the key); accepts an initialised,
 * half-opened or closed CA. */
void pki_ca_close(struct pki_ca *ca);

/*
 * Issue a leaf certificate for name (1-64 characters of A-Z a-z 0-9 . _ -)
 * signed by ca, valid from now_ms (minus one hour) for
 * PKI_LEAF_VALIDITY_YEARS or until the CA expires, whichever is first;
 * write it to cert_path and its new key to key_path. Errors as
 * pki_ca_create.
 */
HANSA_MUST_USE hansa_err pki_cert_issue(const struct pki_ca *ca, const char *name,
                                        const char *cert_path, const char *key_path,
                                        uint64_t now_ms, char *why, size_t why_len);

/*
 * Check, before using them, that cert_path verifies against the CA in
 * ca_path for name (chain, validity at the current time, CN/DNS SAN) and,
 * when key_path is not NULL, that key_path is mode 0600 and holds the key of
 * that certificate. A node runs this on its own files at start so that a
 * misplaced file is reported in words, not as a failed TLS handshake later.
 * HANSA_OK; HANSA_EBADKEY (why lists mbedTLS's reasons, e.g. "The
 * certificate Common Name (CN) does not match with the expected CN"),
 * HANSA_EPERM, HANSA_ENOENT, HANSA_EFORMAT.
 */
HANSA_MUST_USE hansa_err pki_cert_check(const char *ca_path, const char *cert_path,
                                        const char *key_path, const char *name, char *why,
                                        size_t why_len);

#endif
