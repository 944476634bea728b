/*
 * Closing nng sockets without hanging the caller.
 *
 * nng 1.5.2 (Debian 12) can deadlock in nng_close: its reaper waits forever
 * for a pipe's receive that was being re-armed as the socket closed (nng
 * #1813, fixed in 1.8.0; LIBNOTES 1.9). Seen in alert_watch's
 * hansa_client_close after SIGINT (test_examples) and twice in
 * hansa-bench. So sockets are closed on a thread of their own and the
 * caller waits a bounded time; past it, the caller goes on and leaves the
 * thread, the sockets and whatever their callbacks point to behind.
 *
 * Used by the SDK (client and subscription sockets) and hansa-bench.
 */
#ifndef HANSA_SDK_CLOSER_H
#define HANSA_SDK_CLOSER_H

#include <stdbool.h>
#include <stdint.h>

#include <nng/nng.h>

/* Run fn(arg) on a thread of its own and wait for it at most wait_ms. True
 * when it finished; false when it still runs: it is left to finish (or
 * not) on its own, and arg must stay valid for it. Without a thread to
 * spare, fn runs on the caller's. */
bool sdk_run_bounded(void (*fn)(void *), void *arg, uint32_t wait_ms);

/* nng_close each of socks[0..n) within wait_ms (sdk_run_bounded). False
 * if that hung: anything a pipe callback of these sockets points to must
 * then stay allocated. */
bool sdk_close_sockets(const nng_socket *socks, int n, uint32_t wait_ms);

#endif
