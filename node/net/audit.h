/*
 * The read-audit log (DOMAIN.md "Who takes part": every read of a record
 * that is not the reader's own, allowed or denied, is logged with reader,
 * record, time and verdict).
 *
 * One JSON object per line:
 *
 *   {"time_ms":1768435201000,"reader":"CUS-0001","record":"order/MER-SZ-0001/SO-1","allowed":true}
 *
 * The file is opened once with O_APPEND and every line is written with one
 * write(2), so lines from concurrent workers (and from other processes
 * appending to the same file) never interleave. A line is at most
 * AUDIT_LINE_BYTES_MAX bytes; longer values are cut and end in "...". A
 * failed write is logged (API-AUDIT-WRITE) and the read goes on: losing the
 * disk must not stop a node from answering.
 *
 * Thread safety: audit_record may be called from any thread.
 */
#ifndef HANSA_NET_AUDIT_H
#define HANSA_NET_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hansa/error.h"

/* A reader id is at most 64 characters and a record key under 512; escaping
 * may double a few characters. 2 KiB holds any line without cutting. */
#define AUDIT_LINE_BYTES_MAX 2048u

struct audit;

/* Open (creating, mode 0600) the log at path for appending. why receives a
 * sentence on failure. */
HANSA_MUST_USE hansa_err audit_open(const char *path, struct audit **out, char *why,
                                    size_t why_len);
/* Accepts NULL. */
void audit_close(struct audit *a);

/* Append one line. */
void audit_record(struct audit *a, uint64_t time_ms, const char *reader, const char *record,
                  bool allowed);

/* Writes that failed since open (for tests and status). */
uint64_t audit_failures(const struct audit *a);

#endif
