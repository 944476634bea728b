/*
 * Assertions that stay on in every build.
 *
 * HANSA_ASSERT checks a programming invariant and aborts with file, line and
 * expression when it fails. Never use it on anything a peer, a client or the
 * disk sent: that is an error value, not a bug.
 */
#ifndef HANSA_ASSERT_H
#define HANSA_ASSERT_H

_Noreturn void hansa_assert_fail(const char *expr, const char *file, int line, const char *func);

#define HANSA_ASSERT(x)                                                                            \
    do {                                                                                           \
        if (!(x))                                                                                  \
            hansa_assert_fail(#x, __FILE__, __LINE__, __func__);                                   \
    } while (0)

#endif
