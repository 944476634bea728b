/*
 * Names of the SDK's codes and of the protocol's result and error codes:
 * every hansa_code has its own name, protocol names lose the prefix their
 * enum shares, and numbers no enum names are "UNKNOWN".
 */
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/hansa.h"

Test(errors, every_code_has_a_distinct_name)
{
    for (int a = HANSA_CODE_OK; a <= HANSA_CODE_CLOSED; a++) {
        const char *na = hansa_code_name((hansa_code)a);
        cr_assert_str_neq(na, "UNKNOWN", "code %d has no name", a);
        for (int b = a + 1; b <= HANSA_CODE_CLOSED; b++)
            cr_assert_str_neq(na, hansa_code_name((hansa_code)b), "codes %d and %d share %s", a, b,
                              na);
    }
    cr_assert_str_eq(hansa_code_name(HANSA_CODE_CONNECT), "CONNECT");
    cr_assert_str_eq(hansa_code_name(HANSA_CODE_CURSOR_EXPIRED), "CURSOR_EXPIRED");
    cr_assert_str_eq(hansa_code_name((hansa_code)99), "UNKNOWN");
}

Test(errors, result_names_drop_the_result_prefix)
{
    cr_assert_str_eq(hansa_result_name(HANSA__RESULT_CODE__RESULT_ASSET_ALREADY_PLEDGED),
                     "ASSET_ALREADY_PLEDGED");
    cr_assert_str_eq(hansa_result_name(HANSA__RESULT_CODE__RESULT_OK), "OK");
    cr_assert_str_eq(hansa_result_name(HANSA__RESULT_CODE__RESULT_NOT_AUTHORIZED),
                     "NOT_AUTHORIZED");
    cr_assert_str_eq(hansa_result_name(HANSA__RESULT_CODE__RESULT_UNSPECIFIED), "UNSPECIFIED");
    cr_assert_str_eq(hansa_result_name(999), "UNKNOWN");
    cr_assert_str_eq(hansa_result_name(-1), "UNKNOWN");
}

Test(errors, node_error_names_drop_the_error_prefix)
{
    cr_assert_str_eq(hansa_node_error_name(HANSA__ERROR_CODE__ERROR_BUSY), "BUSY");
    cr_assert_str_eq(hansa_node_error_name(HANSA__ERROR_CODE__ERROR_NONE), "NONE");
    cr_assert_str_eq(hansa_node_error_name(HANSA__ERROR_CODE__ERROR_CURSOR_EXPIRED),
                     "CURSOR_EXPIRED");
    cr_assert_str_eq(hansa_node_error_name(1000), "UNKNOWN");
}
