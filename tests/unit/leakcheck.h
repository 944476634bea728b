/*
 * Leak checks inside a test.
 *
 * Criterion 2.4.1 reports a test's result before the process exits, so the
 * report LeakSanitizer prints at exit does not fail the test (checked: a test
 * leaking 1,234 bytes still counted as passing, exit status 0). Tests that
 * feed hostile input to the library therefore ask LeakSanitizer themselves,
 * at the end of the test body, when built with AddressSanitizer
 * (-DHANSA_SANITIZE=address,...). Without it the check compiles to nothing.
 */
#ifndef HANSA_TEST_LEAKCHECK_H
#define HANSA_TEST_LEAKCHECK_H

#include <criterion/criterion.h>

#if defined(__SANITIZE_ADDRESS__)
#define HANSA_TEST_HAVE_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HANSA_TEST_HAVE_LSAN 1
#endif
#endif

#ifdef HANSA_TEST_HAVE_LSAN
#include <sanitizer/lsan_interface.h>
#define EXPECT_NO_LEAKS()                                                                          \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,                                            \
                 "memory leaked: see the LeakSanitizer report above")
#else
#define EXPECT_NO_LEAKS()                                                                          \
    do {                                                                                           \
    } while (0)
#endif

#endif
