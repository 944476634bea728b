/*
 * Error values of the SDK: names of hansa_code, of the protocol's result and
 * error codes, and the helpers that fill a hansa_error.
 *
 * Protocol enum values are named by hansa.proto with a prefix every value of
 * the enum shares (RESULT_, ERROR_, SEVERITY_, ...); the SDK drops it in
 * names and in JSON. The prefix is derived from the descriptor, not from the
 * enum's name, because the two differ (ResultCode values start RESULT_).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

hansa_code sdk_vfail(hansa_error *err, hansa_code code, const char *fmt, va_list ap)
{
    if (err != NULL) {
        err->code = code;
        err->result = 0;
        err->node_error = 0;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
    }
    return code;
}

hansa_code sdk_fail(hansa_error *err, hansa_code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sdk_vfail(err, code, fmt, ap);
    va_end(ap);
    return code;
}

hansa_code sdk_ok(hansa_error *err)
{
    if (err != NULL) {
        err->code = HANSA_CODE_OK;
        err->result = 0;
        err->node_error = 0;
        err->message[0] = '\0';
    }
    return HANSA_CODE_OK;
}

const char *hansa_code_name(hansa_code code)
{
    switch (code) {
    case HANSA_CODE_OK:
        return "OK";
    case HANSA_CODE_INVALID_ARGUMENT:
        return "INVALID_ARGUMENT";
    case HANSA_CODE_KEY:
        return "KEY";
    case HANSA_CODE_CONNECT:
        return "CONNECT";
    case HANSA_CODE_TIMEOUT:
        return "TIMEOUT";
    case HANSA_CODE_REFUSED:
        return "REFUSED";
    case HANSA_CODE_REJECTED:
        return "REJECTED";
    case HANSA_CODE_NOT_FOUND:
        return "NOT_FOUND";
    case HANSA_CODE_DENIED:
        return "DENIED";
    case HANSA_CODE_NODE:
        return "NODE";
    case HANSA_CODE_CURSOR_EXPIRED:
        return "CURSOR_EXPIRED";
    case HANSA_CODE_PROTOCOL:
        return "PROTOCOL";
    case HANSA_CODE_NOMEM:
        return "NOMEM";
    case HANSA_CODE_IO:
        return "IO";
    case HANSA_CODE_CLOSED:
        return "CLOSED";
    }
    return "UNKNOWN";
}

size_t sdk_enum_prefix_len(const ProtobufCEnumDescriptor *d)
{
    if (d->n_values == 0)
        return 0;
    const char *first = d->values[0].name;
    size_t common = strlen(first);
    for (unsigned i = 1; i < d->n_values; i++) {
        const char *v = d->values[i].name;
        size_t k = 0;
        while (k < common && v[k] == first[k])
            k++;
        common = k;
    }
    /* Cut after the last '_' of the common part, and never the whole name
     * of a value (an enum of one value keeps its name). */
    while (common > 0 && first[common - 1] != '_')
        common--;
    for (unsigned i = 0; i < d->n_values; i++)
        if (strlen(d->values[i].name) <= common)
            return 0;
    return common;
}

const char *sdk_enum_short_name(const ProtobufCEnumDescriptor *d, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v == NULL)
        return NULL;
    return v->name + sdk_enum_prefix_len(d);
}

const char *hansa_result_name(int result)
{
    const char *n = sdk_enum_short_name(&hansa__result_code__descriptor, result);
    return n != NULL ? n : "UNKNOWN";
}

const char *hansa_node_error_name(int node_error)
{
    const char *n = sdk_enum_short_name(&hansa__error_code__descriptor, node_error);
    return n != NULL ? n : "UNKNOWN";
}
