/* Error values: one X-macro list gives the enum, the names and the messages. */
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/error.h"
#include "hansa/wire.h"

static void init(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
}

TestSuite(error, .init = init);

Test(error, every_error_has_a_distinct_nonempty_name_and_message)
{
    cr_assert_gt(HANSA_ERR_COUNT, 1);
    for (int i = 0; i < HANSA_ERR_COUNT; i++) {
        const char *name = hansa_errname((hansa_err)i);
        const char *msg = hansa_strerror((hansa_err)i);
        cr_assert(name != NULL && name[0] != '\0', "error %d has no name", i);
        cr_assert(msg != NULL && msg[0] != '\0', "error %d has no message", i);
        cr_assert_eq(strncmp(name, "HANSA_", 6), 0, "name of %d is '%s'", i, name);
        for (int j = 0; j < i; j++) {
            cr_assert_str_neq(name, hansa_errname((hansa_err)j), "errors %d and %d", i, j);
            cr_assert_str_neq(msg, hansa_strerror((hansa_err)j), "errors %d and %d", i, j);
        }
    }
}

Test(error, names_match_their_enum_values)
{
    /* Log lines carry the numbers; the list is append-only. */
    cr_assert_eq(HANSA_OK, 0);
    cr_assert_str_eq(hansa_errname(HANSA_OK), "HANSA_OK");
    cr_assert_str_eq(hansa_errname(HANSA_EBADSIG), "HANSA_EBADSIG");
    cr_assert_str_eq(hansa_errname(HANSA_ECRYPTO), "HANSA_ECRYPTO");
    cr_assert_str_eq(hansa_strerror(HANSA_EBADSIG), "signature verification failed");
    cr_assert_str_eq(hansa_strerror(HANSA_OK), "success");
}

Test(error, out_of_range_values_give_a_string_not_null)
{
    const int bad[] = {HANSA_ERR_COUNT, HANSA_ERR_COUNT + 1, 1000, -1, -1000};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *name = hansa_errname((hansa_err)bad[i]);
        const char *msg = hansa_strerror((hansa_err)bad[i]);
        cr_assert(name != NULL && name[0] != '\0', "errname(%d)", bad[i]);
        cr_assert(msg != NULL && msg[0] != '\0', "strerror(%d)", bad[i]);
        /* Not mistaken for a real error, least of all for success. */
        for (int j = 0; j < HANSA_ERR_COUNT; j++) {
            cr_assert_str_neq(name, hansa_errname((hansa_err)j), "errname(%d)", bad[i]);
            cr_assert_str_neq(msg, hansa_strerror((hansa_err)j), "strerror(%d)", bad[i]);
        }
    }
}
