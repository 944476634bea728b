/*
 * An in-memory committed state for the ledger (struct ledger_state): a
 * sorted array of keys and values. Used by the unit tests and the
 * deterministic simulator in place of RocksDB; not for production sizes.
 */
#ifndef HANSA_TEST_MEMSTATE_H
#define HANSA_TEST_MEMSTATE_H

#include "ledger.h"

struct memstate;

struct memstate *memstate_new(void);
void memstate_free(struct memstate *m);
/* A ledger_state reading m. */
struct ledger_state memstate_view(struct memstate *m);
/* Apply a block's state writes (puts and deletes). */
void memstate_apply(struct memstate *m, const struct ledger_output *out);
/* Number of keys, and a deep copy (for crash/restart in the simulator). */
size_t memstate_count(const struct memstate *m);
struct memstate *memstate_clone(const struct memstate *m);

#endif
