/*
 * Error names and messages, generated from the one list in hansa/error.h, and
 * the failure path of HANSA_ASSERT.
 */
#include <stdio.h>
#include <stdlib.h>

#include "hansa/assert.h"
#include "hansa/error.h"

static const char *const error_names[] = {
#define HANSA_X_NAME(name, msg) #name,
    HANSA_ERRORS(HANSA_X_NAME)
#undef HANSA_X_NAME
};

static const char *const error_messages[] = {
#define HANSA_X_MSG(name, msg) msg,
    HANSA_ERRORS(HANSA_X_MSG)
#undef HANSA_X_MSG
};

_Static_assert(sizeof error_names / sizeof error_names[0] == HANSA_ERR_COUNT, "one name per error");

const char *hansa_strerror(hansa_err err)
{
    if ((unsigned)err >= HANSA_ERR_COUNT)
        return "unknown error";
    return error_messages[err];
}

const char *hansa_errname(hansa_err err)
{
    if ((unsigned)err >= HANSA_ERR_COUNT)
        return "HANSA_E?";
    return error_names[err];
}

void hansa_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "hansa: assertion failed: %s (%s:%d, %s)\n", expr, file, line, func);
    fflush(stderr);
    abort();
}
