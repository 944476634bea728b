/*
 * Hansa error values.
 *
 * One enum for transport, system and protocol errors, generated from the
 * X-macro list below so that the enum, hansa_errname() and hansa_strerror()
 * can never drift apart. Fallible functions return a hansa_err and are marked
 * HANSA_MUST_USE.
 *
 * A business rejection of a transaction (ASSET_ALREADY_PLEDGED, ...) is NOT a
 * hansa_err: it is a transaction result (Hansa__ResultCode in hansa.proto),
 * recorded in the block. This enum says whether an operation could be carried
 * out at all.
 */
#ifndef HANSA_ERROR_H
#define HANSA_ERROR_H

#define HANSA_MUST_USE __attribute__((warn_unused_result))

/* X(name, message). Append only: the numeric values appear in logs. */
#define HANSA_ERRORS(X)                                                                            \
    X(HANSA_OK, "success")                                                                         \
    X(HANSA_EINVAL, "invalid argument")                                                            \
    X(HANSA_ENOMEM, "out of memory")                                                               \
    X(HANSA_ETOOLARGE, "input exceeds its size limit")                                             \
    X(HANSA_EMALFORMED, "malformed encoding")                                                      \
    X(HANSA_ENONCANONICAL, "encoding is not canonical")                                            \
    X(HANSA_EBADSIG, "signature verification failed")                                              \
    X(HANSA_EBADKEY, "invalid key")                                                                \
    X(HANSA_EWRONGCHAIN, "wrong chain id")                                                         \
    X(HANSA_EIO, "input/output error")                                                             \
    X(HANSA_ENOENT, "no such file or record")                                                      \
    X(HANSA_EEXIST, "already exists")                                                              \
    X(HANSA_EPERM, "permissions too open")                                                         \
    X(HANSA_EFORMAT, "bad file format")                                                            \
    X(HANSA_EBUSY, "busy, try again later")                                                        \
    X(HANSA_ETIMEDOUT, "timed out")                                                                \
    X(HANSA_ECLOSED, "closed")                                                                     \
    X(HANSA_ECRYPTO, "cryptographic library failure")

typedef enum hansa_err {
#define HANSA_X_ENUM(name, msg) name,
    HANSA_ERRORS(HANSA_X_ENUM)
#undef HANSA_X_ENUM
        HANSA_ERR_COUNT
} hansa_err;

/* "signature verification failed"; never NULL, also for values out of range. */
const char *hansa_strerror(hansa_err err);
/* "HANSA_EBADSIG"; never NULL. */
const char *hansa_errname(hansa_err err);

#endif
