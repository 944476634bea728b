/*
 * Helpers of the node/config tests: a fresh mkdtemp directory per test
 * (Criterion runs tests in parallel processes), files in it, and removal.
 */
#ifndef HANSA_TEST_CONFIG_TESTDIR_H
#define HANSA_TEST_CONFIG_TESTDIR_H

#include <stddef.h>
#include <sys/types.h>

/* Create /tmp/hansa-<tag>-XXXXXX into dir (at least 64 bytes); asserts. */
void td_make(char *dir, size_t dir_len, const char *tag);
/* Remove a directory tree; missing is fine. */
void td_remove(const char *dir);
/* out = dir/name; asserts that it fits. */
void td_path(char *out, size_t out_len, const char *dir, const char *name);
/* Write text to path (creating directories is the caller's job); asserts. */
void td_write(const char *path, const char *text);
/* Read a whole file (NUL-terminated, caller frees); NULL if missing. */
char *td_read(const char *path, size_t *len);
/* Permission bits of path, or -1 if it does not exist. */
int td_mode(const char *path);

/*
 * Fail the test if anything allocated so far is unreachable. Criterion
 * reports before the process exits, so LeakSanitizer's exit report alone
 * never fails a test; this asks it inside the test. No-op without ASan.
 */
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#define TD_EXPECT_NO_LEAKS()                                                                       \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,                                            \
                 "memory leaked: see the LeakSanitizer report above")
#else
#define TD_EXPECT_NO_LEAKS()                                                                       \
    do {                                                                                           \
    } while (0)
#endif

#endif
