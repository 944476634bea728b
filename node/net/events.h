/*
 * Live events on an nng pub0 socket (DESIGN.md §6).
 *
 * Message layout: topic bytes, one 0x00 byte, then an encoded hansa.Event.
 * Topics (nng filters by byte prefix on the subscriber):
 *   block/<height>        one per committed block (Event.block)
 *   tx/<64 hex tx id>     one per committed transaction (Event.tx = Receipt)
 *   alert/<SEVERITY>/<RULE>/<party>   risk alerts (the risk engine)
 * Events are hints: pub/sub drops messages for slow subscribers (LIBNOTES
 * 1.3). Every event carries its height so a subscriber can detect a gap and
 * fetch what it missed with a signed query.
 */
#ifndef HANSA_NET_EVENTS_H
#define HANSA_NET_EVENTS_H

#include <stdint.h>

#include "config.h"
#include "hansa/error.h"
#include "hansa/wire.h"

struct events;

HANSA_MUST_USE hansa_err events_open(const struct node_config *cfg, struct events **out, char *why,
                                     size_t why_len);
void events_close(struct events *ev);

/* Publish block/<height> and tx/<id> for every result of a committed block.
 * Never blocks; drops are the subscriber's to detect. */
void events_publish_block(struct events *ev, uint64_t height,
                          const uint8_t block_hash[WIRE_HASH_BYTES], uint64_t block_time_ms,
                          const char *proposer, const Hansa__BlockResults *results);

/* Publish one message under topic (used by the risk engine). */
void events_publish(struct events *ev, const char *topic, const Hansa__Event *event);

#endif
