/*
 * Consortium CA and TLS certificates with mbedTLS 2.28 (see pki.h for what
 * is issued and why).
 *
 * A certificate is made in three steps: a key (make_key), the certificate
 * signed by the issuer's key (build_cert, in the order of LIBNOTES 5.2),
 * and both written as new files (save_pair). Nothing is written until both
 * PEM texts exist, and neither file is created when either exists, so a
 * failure never leaves a certificate without its key.
 *
 * Invariants: every buffer that held a private key is wiped with
 * mbedtls_platform_zeroize before it is released; the random generator is
 * freed on every path.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/platform_util.h>
#include <mbedtls/x509_crt.h>

#include "fileio.h"
#include "hansa/assert.h"
#include "hansa/wire.h"
#include "pki.h"

#define PKI_CA_CN           "Hansa Consortium CA"
#define PKI_PERSONALIZATION "hansa-pki"
#define PKI_CERT_PEM_BYTES  4096u
#define PKI_KEY_PEM_BYTES   1024u
#define PKI_SERIAL_BYTES    16u
#define PKI_SKEW_S          3600 /* validity starts this long before now */
#define X509_TIME_CHARS     14   /* YYYYMMDDhhmmss */

static hansa_err crypto_fail(int ret, const char *what, char *why, size_t why_len)
{
    char msg[160];
    mbedtls_strerror(ret, msg, sizeof msg);
    config_why(why, why_len, "%s: %s (mbedTLS -0x%04x)", what, msg, (unsigned)-ret);
    return HANSA_ECRYPTO;
}

/* ---- randomness ----------------------------------------------------------------------- */

struct rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static hansa_err rng_open(struct rng *r, char *why, size_t why_len)
{
    mbedtls_entropy_init(&r->entropy);
    mbedtls_ctr_drbg_init(&r->drbg);
    int ret = mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
                                    (const unsigned char *)PKI_PERSONALIZATION,
                                    strlen(PKI_PERSONALIZATION));
    return ret == 0 ? HANSA_OK : crypto_fail(ret, "seeding the random generator", why, why_len);
}

static void rng_close(struct rng *r)
{
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_entropy_free(&r->entropy);
}

/* ---- names and times ---------------------------------------------------------------------- */

static bool org_valid(const char *org)
{
    size_t n = strlen(org);
    if (n == 0 || n > PKI_ORG_LEN_MAX || org[0] == ' ' || org[n - 1] == ' ')
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = org[i];
        bool ok = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                  (ch >= '0' && ch <= '9') || ch == ' ' || ch == '.' || ch == '_' || ch == '-';
        if (!ok)
            return false;
    }
    return true;
}

static bool is_leap(int year)
{
    return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

/* "YYYYMMDDhhmmss"; false if a field is out of its range. */
static bool format_time(int year, int mon, int day, int hour, int min, int sec,
                        char out[X509_TIME_CHARS + 1])
{
    if (year < 0 || year > 9999 || mon < 1 || mon > 12 || day < 1 || day > 31 || hour < 0 ||
        hour > 23 || min < 0 || min > 59 || sec < 0 || sec > 60)
        return false;
    char buf[64];
    int n = snprintf(buf, sizeof buf, "%04d%02d%02d%02d%02d%02d", year, mon, day, hour, min, sec);
    if (n != X509_TIME_CHARS)
        return false;
    memcpy(out, buf, X509_TIME_CHARS + 1);
    return true;
}

/* "YYYYMMDDhhmmss" of t_s + years (UTC). */
static bool x509_time(int64_t t_s, int years, char out[X509_TIME_CHARS + 1])
{
    time_t t = (time_t)t_s;
    struct tm tm;
    if (gmtime_r(&t, &tm) == NULL)
        return false;
    int year = tm.tm_year + 1900 + years;
    if (year < 1950 || year > 9999)
        return false;
    if (tm.tm_mon == 1 && tm.tm_mday == 29 && !is_leap(year))
        tm.tm_mday = 28;
    return format_time(year, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, out);
}

static bool x509_time_of(const mbedtls_x509_time *t, char out[X509_TIME_CHARS + 1])
{
    return format_time(t->year, t->mon, t->day, t->hour, t->min, t->sec, out);
}

struct validity {
    char not_before[X509_TIME_CHARS + 1];
    char not_after[X509_TIME_CHARS + 1];
};

static hansa_err validity_from(uint64_t now_ms, int years, struct validity *v, char *why,
                               size_t why_len)
{
    int64_t now_s = (int64_t)(now_ms / 1000);
    int64_t start_s = now_s > PKI_SKEW_S ? now_s - PKI_SKEW_S : 0;
    if (now_ms > (uint64_t)INT64_MAX || !x509_time(start_s, 0, v->not_before) ||
        !x509_time(now_s, years, v->not_after)) {
        config_why(why, why_len, "time %llu ms cannot be written in a certificate",
                   (unsigned long long)now_ms);
        return HANSA_EINVAL;
    }
    return HANSA_OK;
}

/* ---- building ------------------------------------------------------------------------------- */

static int make_key(mbedtls_pk_context *key, struct rng *r)
{
    int ret = mbedtls_pk_setup(key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
        ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*key),
                                  mbedtls_ctr_drbg_random, &r->drbg);
    return ret;
}

/*
 * subjectAltName = SEQUENCE OF GeneralName, dNSName = [2] IMPLICIT
 * IA5String (RFC 5280 4.2.1.6). asn1write writes backwards from the end of
 * buf; *start receives where the DER begins.
 */
static int san_der(const char *name, unsigned char *buf, size_t size, unsigned char **start,
                   size_t *len)
{
    const char *names[2] = {name, "localhost"};
    size_t count = strcmp(name, "localhost") == 0 ? 1 : 2;
    unsigned char *p = buf + size;
    size_t total = 0;
    int ret;
    for (size_t i = count; i-- > 0;) {
        size_t n = strlen(names[i]);
        MBEDTLS_ASN1_CHK_ADD(
            total, mbedtls_asn1_write_raw_buffer(&p, buf, (const unsigned char *)names[i], n));
        MBEDTLS_ASN1_CHK_ADD(total, mbedtls_asn1_write_len(&p, buf, n));
        MBEDTLS_ASN1_CHK_ADD(total,
                             mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONTEXT_SPECIFIC | 2));
    }
    MBEDTLS_ASN1_CHK_ADD(total, mbedtls_asn1_write_len(&p, buf, total));
    MBEDTLS_ASN1_CHK_ADD(
        total, mbedtls_asn1_write_tag(&p, buf, MBEDTLS_ASN1_CONSTRUCTED | MBEDTLS_ASN1_SEQUENCE));
    *start = p;
    *len = total;
    return 0;
}

static int random_serial(mbedtls_mpi *serial, struct rng *r)
{
    unsigned char bytes[PKI_SERIAL_BYTES];
    int ret = mbedtls_ctr_drbg_random(&r->drbg, bytes, sizeof bytes);
    if (ret != 0)
        return ret;
    bytes[0] = (unsigned char)((bytes[0] & 0x7f) | 0x40); /* positive, never zero */
    return mbedtls_mpi_read_binary(serial, bytes, sizeof bytes);
}

struct cert_spec {
    mbedtls_pk_context *subject_key;
    mbedtls_pk_context *issuer_key;
    const char *subject; /* "CN=...,O=..." */
    const char *issuer;
    const char *san_name; /* NULL for the CA */
    const struct validity *validity;
};

/* The certificate as PEM into pem[PKI_CERT_PEM_BYTES]; an mbedTLS code. */
static int build_cert(const struct cert_spec *s, struct rng *r, unsigned char *pem)
{
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    unsigned char san[512], *san_start = NULL;
    size_t san_len = 0;
    bool ca = s->san_name == NULL;
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, s->subject_key);
    mbedtls_x509write_crt_set_issuer_key(&crt, s->issuer_key);
    int ret = mbedtls_x509write_crt_set_subject_name(&crt, s->subject);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_issuer_name(&crt, s->issuer);
    if (ret == 0)
        ret = random_serial(&serial, r);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_serial(&crt, &serial);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_validity(&crt, s->validity->not_before,
                                                 s->validity->not_after);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_basic_constraints(&crt, ca, ca ? 0 : -1);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_subject_key_identifier(&crt);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_authority_key_identifier(&crt);
    if (ret == 0)
        ret = mbedtls_x509write_crt_set_key_usage(&crt, ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN |
                                                                 MBEDTLS_X509_KU_CRL_SIGN
                                                           : MBEDTLS_X509_KU_DIGITAL_SIGNATURE);
    if (ret == 0 && !ca)
        ret = san_der(s->san_name, san, sizeof san, &san_start, &san_len);
    if (ret == 0 && !ca)
        ret = mbedtls_x509write_crt_set_extension(&crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                                  MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                                  san_start, san_len);
    if (ret == 0)
        ret = mbedtls_x509write_crt_pem(&crt, pem, PKI_CERT_PEM_BYTES, mbedtls_ctr_drbg_random,
                                        &r->drbg);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    return ret;
}

static bool exists(const char *path)
{
    struct stat st;
    return lstat(path, &st) == 0;
}

/* Write the key (0600) and the certificate (0644) as new files. */
static hansa_err save_pair(const char *cert_path, const unsigned char *cert_pem,
                           const char *key_path, mbedtls_pk_context *key, char *why, size_t why_len)
{
    unsigned char key_pem[PKI_KEY_PEM_BYTES];
    int ret = mbedtls_pk_write_key_pem(key, key_pem, sizeof key_pem);
    if (ret != 0)
        return crypto_fail(ret, "encoding the private key", why, why_len);
    hansa_err rv =
        config_file_create(key_path, key_pem, strlen((const char *)key_pem), 0600, why, why_len);
    mbedtls_platform_zeroize(key_pem, sizeof key_pem);
    if (rv == HANSA_OK)
        rv = config_file_create(cert_path, cert_pem, strlen((const char *)cert_pem), 0644, why,
                                why_len);
    return rv;
}

static hansa_err refuse_existing(const char *cert_path, const char *key_path, char *why,
                                 size_t why_len)
{
    const char *p = exists(cert_path) ? cert_path : exists(key_path) ? key_path : NULL;
    if (p == NULL)
        return HANSA_OK;
    config_why(why, why_len, "%s already exists; refusing to overwrite it", p);
    return HANSA_EEXIST;
}

/* ---- CA ---------------------------------------------------------------------------------------
 */

hansa_err pki_ca_create(const char *cert_path, const char *key_path, const char *org,
                        uint64_t now_ms, char *why, size_t why_len)
{
    HANSA_ASSERT(cert_path != NULL && key_path != NULL && org != NULL);
    if (!org_valid(org)) {
        config_why(why, why_len,
                   "organisation \"%s\" is not 1-%u characters of A-Z a-z 0-9 space . _ -", org,
                   PKI_ORG_LEN_MAX);
        return HANSA_EINVAL;
    }
    struct validity v;
    hansa_err rv = validity_from(now_ms, PKI_CA_VALIDITY_YEARS, &v, why, why_len);
    if (rv == HANSA_OK)
        rv = refuse_existing(cert_path, key_path, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    char subject[PKI_ORG_LEN_MAX + 64];
    snprintf(subject, sizeof subject, "CN=" PKI_CA_CN ",O=%s", org);
    struct rng r;
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    unsigned char pem[PKI_CERT_PEM_BYTES];
    rv = rng_open(&r, why, why_len);
    if (rv == HANSA_OK) {
        struct cert_spec s = {&key, &key, subject, subject, NULL, &v};
        int ret = make_key(&key, &r);
        if (ret == 0)
            ret = build_cert(&s, &r, pem);
        rv = ret == 0 ? save_pair(cert_path, pem, key_path, &key, why, why_len)
                      : crypto_fail(ret, "creating the CA certificate", why, why_len);
    }
    rng_close(&r);
    mbedtls_pk_free(&key);
    return rv;
}

void pki_ca_init(struct pki_ca *ca)
{
    HANSA_ASSERT(ca != NULL);
    mbedtls_x509_crt_init(&ca->cert);
    mbedtls_pk_init(&ca->key);
    ca->org[0] = '\0';
}

void pki_ca_close(struct pki_ca *ca)
{
    if (ca == NULL)
        return;
    mbedtls_x509_crt_free(&ca->cert);
    mbedtls_pk_free(&ca->key); /* mbedTLS zeroizes the key */
    pki_ca_init(ca);
}

/* The value of the attribute oid in name, as a C string, if it fits. */
static bool name_attr(const mbedtls_x509_name *name, const char *oid, size_t oid_len, char *out,
                      size_t out_len)
{
    for (const mbedtls_x509_name *n = name; n != NULL; n = n->next) {
        if (n->oid.len != oid_len || memcmp(n->oid.p, oid, oid_len) != 0)
            continue;
        if (n->val.len >= out_len)
            return false;
        memcpy(out, n->val.p, n->val.len);
        out[n->val.len] = '\0';
        return true;
    }
    return false;
}

/* A key file that others may read is refused before it is parsed. */
static hansa_err check_key_mode(const char *key_path, char *why, size_t why_len)
{
    struct stat st;
    if (stat(key_path, &st) != 0) {
        int e = errno;
        config_why(why, why_len, "cannot open %s: %s", key_path, strerror(e));
        return e == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    if (st.st_mode & 077) {
        config_why(why, why_len,
                   "private key %s may be read by group or others (mode %04o); refusing it: "
                   "run 'chmod 600 %s'",
                   key_path, (unsigned)(st.st_mode & 07777), key_path);
        return HANSA_EPERM;
    }
    return HANSA_OK;
}

static hansa_err parse_cert_file(mbedtls_x509_crt *crt, const char *path, char *why, size_t why_len)
{
    if (!exists(path)) {
        config_why(why, why_len, "cannot open %s: %s", path, strerror(ENOENT));
        return HANSA_ENOENT;
    }
    int ret = mbedtls_x509_crt_parse_file(crt, path);
    if (ret != 0) {
        char what[CONFIG_PATH_BYTES_MAX + 32];
        snprintf(what, sizeof what, "certificate %s", path);
        crypto_fail(ret < 0 ? ret : MBEDTLS_ERR_X509_INVALID_FORMAT, what, why, why_len);
        return HANSA_EFORMAT;
    }
    return HANSA_OK;
}

static hansa_err parse_key_file(mbedtls_pk_context *key, const mbedtls_x509_crt *crt,
                                const char *path, char *why, size_t why_len)
{
    hansa_err rv = check_key_mode(path, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    int ret = mbedtls_pk_parse_keyfile(key, path, NULL);
    if (ret != 0) {
        char what[CONFIG_PATH_BYTES_MAX + 32];
        snprintf(what, sizeof what, "private key %s", path);
        crypto_fail(ret, what, why, why_len);
        return HANSA_EFORMAT;
    }
    if (mbedtls_pk_check_pair(&crt->pk, key) != 0) {
        config_why(why, why_len, "private key %s does not belong to its certificate", path);
        return HANSA_EBADKEY;
    }
    return HANSA_OK;
}

hansa_err pki_ca_open(struct pki_ca *ca, const char *cert_path, const char *key_path, char *why,
                      size_t why_len)
{
    HANSA_ASSERT(ca != NULL && cert_path != NULL && key_path != NULL);
    hansa_err rv = parse_cert_file(&ca->cert, cert_path, why, why_len);
    char cn[64];
    if (rv == HANSA_OK &&
        (!ca->cert.ca_istrue ||
         !name_attr(&ca->cert.subject, MBEDTLS_OID_AT_CN, MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_CN), cn,
                    sizeof cn) ||
         strcmp(cn, PKI_CA_CN) != 0 ||
         !name_attr(&ca->cert.subject, MBEDTLS_OID_AT_ORGANIZATION,
                    MBEDTLS_OID_SIZE(MBEDTLS_OID_AT_ORGANIZATION), ca->org, sizeof ca->org) ||
         !org_valid(ca->org))) {
        config_why(why, why_len,
                   "%s is not a consortium CA certificate (CA:TRUE, subject CN=" PKI_CA_CN
                   ",O=<organisation>)",
                   cert_path);
        rv = HANSA_EFORMAT;
    }
    if (rv == HANSA_OK)
        rv = parse_key_file(&ca->key, &ca->cert, key_path, why, why_len);
    if (rv != HANSA_OK)
        pki_ca_close(ca);
    return rv;
}

/* ---- leaves ------------------------------------------------------------------------------------
 */

hansa_err pki_cert_issue(const struct pki_ca *ca, const char *name, const char *cert_path,
                         const char *key_path, uint64_t now_ms, char *why, size_t why_len)
{
    HANSA_ASSERT(ca != NULL && ca->org[0] != '\0' && name != NULL);
    if (!wire_id_valid(name)) {
        config_why(why, why_len,
                   "certificate name \"%s\" is not 1-%u characters of A-Z a-z 0-9 . _ -", name,
                   HANSA_ID_LEN_MAX);
        return HANSA_EINVAL;
    }
    struct validity v;
    hansa_err rv = validity_from(now_ms, PKI_LEAF_VALIDITY_YEARS, &v, why, why_len);
    if (rv == HANSA_OK)
        rv = refuse_existing(cert_path, key_path, why, why_len);
    if (rv != HANSA_OK)
        return rv;
    char ca_end[X509_TIME_CHARS + 1];
    if (x509_time_of(&ca->cert.valid_to, ca_end) && strcmp(v.not_after, ca_end) > 0)
        memcpy(v.not_after, ca_end, sizeof ca_end);
    char subject[HANSA_ID_LEN_MAX + PKI_ORG_LEN_MAX + 16], issuer[PKI_ORG_LEN_MAX + 64];
    snprintf(subject, sizeof subject, "CN=%s,O=%s", name, ca->org);
    snprintf(issuer, sizeof issuer, "CN=" PKI_CA_CN ",O=%s", ca->org);

    struct rng r;
    mbedtls_pk_context key;
    mbedtls_pk_init(&key);
    unsigned char pem[PKI_CERT_PEM_BYTES];
    rv = rng_open(&r, why, why_len);
    if (rv == HANSA_OK) {
        /* mbedTLS signs with the issuer key through a non-const pointer but
         * does not change it. */
        struct cert_spec s = {&key, (mbedtls_pk_context *)&ca->key, subject, issuer, name, &v};
        int ret = make_key(&key, &r);
        if (ret == 0)
            ret = build_cert(&s, &r, pem);
        rv = ret == 0 ? save_pair(cert_path, pem, key_path, &key, why, why_len)
                      : crypto_fail(ret, "creating the certificate", why, why_len);
    }
    rng_close(&r);
    mbedtls_pk_free(&key);
    return rv;
}

static hansa_err verify_leaf(mbedtls_x509_crt *crt, mbedtls_x509_crt *ca, const char *cert_path,
                             const char *name, char *why, size_t why_len)
{
    uint32_t flags = 0;
    int ret = mbedtls_x509_crt_verify(crt, ca, NULL, name, &flags, NULL, NULL);
    if (ret == 0)
        return HANSA_OK;
    char info[512] = "";
    if (flags != 0)
        mbedtls_x509_crt_verify_info(info, sizeof info, "", flags);
    /* verify_info ends every reason with a newline: make one line. */
    for (char *p = info; *p; p++)
        if (*p == '\n')
            *p = p[1] ? ';' : '\0';
    config_why(why, why_len, "certificate %s does not verify for \"%s\": %s", cert_path, name,
               info[0] ? info : "verification failed");
    return HANSA_EBADKEY;
}

hansa_err pki_cert_check(const char *ca_path, const char *cert_path, const char *key_path,
                         const char *name, char *why, size_t why_len)
{
    HANSA_ASSERT(ca_path != NULL && cert_path != NULL && name != NULL);
    mbedtls_x509_crt ca, crt;
    mbedtls_pk_context key;
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&key);
    hansa_err rv = parse_cert_file(&ca, ca_path, why, why_len);
    if (rv == HANSA_OK)
        rv = parse_cert_file(&crt, cert_path, why, why_len);
    if (rv == HANSA_OK)
        rv = verify_leaf(&crt, &ca, cert_path, name, why, why_len);
    if (rv == HANSA_OK && key_path != NULL)
        rv = parse_key_file(&key, &crt, key_path, why, why_len);
    mbedtls_pk_free(&key);
    mbedtls_x509_crt_free(&crt);
    mbedtls_x509_crt_free(&ca);
    return rv;
}
