/*
 * The event queue: a binary min-heap of events ordered by (time_ms, seq).
 * seq is unique and increasing in scheduling order, so two events due at
 * the same simulated millisecond run in the order they were scheduled and
 * the order never depends on heap layout: the run is a function of the seed.
 */
#include <stdlib.h>

#include "hansa/assert.h"
#include "sim.h"

void sim_queue_init(struct sim_queue *q)
{
    q->heap = NULL;
    q->n = q->cap = 0;
}

static void event_free(struct sim_event *ev)
{
    if (ev->kind == SIM_EV_DELIVER)
        free(ev->msg);
    else if (ev->kind == SIM_EV_PERSISTED)
        free(ev->persisted.write);
}

void sim_queue_free(struct sim_queue *q)
{
    for (size_t i = 0; i < q->n; i++)
        event_free(&q->heap[i]);
    free(q->heap);
    sim_queue_init(q);
}

static bool before(const struct sim_event *a, const struct sim_event *b)
{
    return a->time_ms < b->time_ms || (a->time_ms == b->time_ms && a->seq < b->seq);
}

void sim_queue_push(struct sim_queue *q, const struct sim_event *ev)
{
    if (q->n == q->cap) {
        q->cap = q->cap ? q->cap * 2 : 1024;
        q->heap = realloc(q->heap, q->cap * sizeof *q->heap);
        HANSA_ASSERT(q->heap != NULL);
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(ev, &q->heap[parent]))
            break;
        q->heap[i] = q->heap[parent];
        i = parent;
    }
    q->heap[i] = *ev;
}

bool sim_queue_pop(struct sim_queue *q, struct sim_event *out)
{
    if (q->n == 0)
        return false;
    *out = q->heap[0];
    struct sim_event last = q->heap[--q->n];
    size_t i = 0;
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= q->n)
            break;
        if (child + 1 < q->n && before(&q->heap[child + 1], &q->heap[child]))
            child++;
        if (!before(&q->heap[child], &last))
            break;
        q->heap[i] = q->heap[child];
        i = child;
    }
    if (q->n > 0)
        q->heap[i] = last;
    return true;
}
