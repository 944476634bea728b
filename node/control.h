/*
 * The node's control socket, for the operator's commands while the node
 * runs: a Unix stream socket at <home>/control.sock, mode 0600, served only
 * to a peer with the node's uid (or root). One command:
 *
 *   backup <absolute directory>\n   ->   ok <height>\n  |  error <reason>\n
 *
 * A RocksDB checkpoint taken through the running node's own handle, which
 * is consistent while blocks commit (LIBNOTES 2.5), then verified by opening
 * it (store_backup). `hansad backup` uses it when the node holds the
 * database.
 *
 * Threads: one, which accepts and serves one connection at a time; a
 * request is at most CONTROL_REQUEST_BYTES_MAX and must arrive within
 * CONTROL_IO_TIMEOUT_MS, so a stuck client cannot hold the socket.
 */
#ifndef HANSA_NODE_CONTROL_H
#define HANSA_NODE_CONTROL_H

#include <stddef.h>
#include <stdint.h>

#include "hansa/error.h"

#define CONTROL_SOCKET_NAME       "control.sock"
#define CONTROL_REQUEST_BYTES_MAX 4096u
#define CONTROL_IO_TIMEOUT_MS     5000u

struct control;
struct store;

/* Listen at <home>/control.sock (a stale file from a killed node is
 * replaced: the caller holds the database lock, so no other node uses
 * this home). */
HANSA_MUST_USE hansa_err control_open(const char *home, struct store *s, struct control **out,
                                      char *why, size_t why_len);
/* Stop the thread and remove the socket file. NULL is fine. */
void control_close(struct control *c);

/* Client: send one request line to the node at home and read its answer
 * line (without the newline) into answer. HANSA_ENOENT when no node
 * listens there; HANSA_ETIMEDOUT past timeout_ms. */
HANSA_MUST_USE hansa_err control_call(const char *home, const char *request, char *answer,
                                      size_t answer_len, uint32_t timeout_ms, char *why,
                                      size_t why_len);

#endif
