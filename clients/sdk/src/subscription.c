/*
 * The durable alert subscription (RISK.md "Subscriptions").
 *
 * One thread per subscription:
 *
 *        +--> pull pages after pos until caught up --(error)--> report, pause, retry
 *        |            | caught up
 *        |            v
 *        +-- wait for a hint beyond pos, a reconnect of the events socket,
 *            or poll_ms (hints may be dropped: pull anyway)
 *
 * Without an events URL the pulls themselves wait (the node long-polls up
 * to poll_ms), so the loop is pull, pull, pull.
 *
 * Invariants:
 *   1. alerts are delivered in cursor order, each cursor once: an alert at
 *      or before pos is never delivered; pos only grows;
 *   2. an alert whose id is among the last HANSA_DEDUP_IDS delivered is not
 *      delivered again (a second guard, by id, as RISK.md asks);
 *   3. the cursor file is saved after every delivered alert, and when a
 *      page moves pos past alerts the filter skipped, so a restarted
 *      subscriber resumes after the last alert it was given;
 *   4. on_state reports a lost node once per outage and its return once.
 *
 * Stopping: hansa_subscription_close sets stop, wakes the thread's waits
 * (a pipe in its poll set) and cancels its request in flight (the call
 * slot), then joins it.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <nng/nng.h>
#include <nng/protocol/pubsub0/sub.h>

#include "hansa/assert.h"
#include "internal.h"

/* Alerts asked for per pull. */
#define SUB_PAGE_LIMIT 100u
/* Pauses after a failed pull: from the first to the longest. */
#define SUB_RETRY_MS_MIN 200u
#define SUB_RETRY_MS_MAX 5000u
/* Events are small (receipts, block summaries, alert hints). */
#define SUB_EVENT_BYTES_MAX (1024u * 1024u)
#define SUB_TOPIC           "alert/"

struct hansa_subscription {
    hansa_client *c;
    char *events_url;
    char *cursor_path;
    uint32_t poll_ms;
    hansa_alert_cb on_alert;
    hansa_subscription_state_cb on_state;
    void *arg;

    /* The filter, copied. */
    hansa_alert_filter filter;
    char **rule_ids;
    Hansa__AlertKind *kinds;
    char *party;
    Hansa__EntityRef subject;

    pthread_t thread;
    bool thread_started;
    int stop_pipe[2];
    atomic_bool stop;
    struct sdk_call_slot slot;

    pthread_mutex_t mu;
    hansa_cursor delivered; /* under mu */
    hansa_cursor pos;       /* the thread's: last delivered or examined */
    hansa_cursor saved;     /* what the cursor file holds */

    uint8_t seen[HANSA_DEDUP_IDS][WIRE_HASH_BYTES];
    size_t n_seen, next_seen;

    bool sub_open;
    nng_socket sub;
    int sub_fd;
    atomic_int sub_adds; /* connections of the events socket so far */
    int sub_adds_seen;

    bool reachable; /* invariant 4 */
};

static int cursor_cmp(hansa_cursor a, hansa_cursor b)
{
    if (a.height != b.height)
        return a.height < b.height ? -1 : 1;
    return (a.ordinal > b.ordinal) - (a.ordinal < b.ordinal);
}

static hansa_cursor cursor_of(const Hansa__Cursor *m)
{
    return m != NULL ? (hansa_cursor){m->height, m->ordinal} : (hansa_cursor){0, 0};
}

static bool stopped(hansa_subscription *s)
{
    return atomic_load(&s->stop);
}

/* Sleep ms, woken by a stop; false when stopped. */
static bool sub_sleep(hansa_subscription *s, uint32_t ms)
{
    uint64_t end = sdk_mono_ms() + ms;
    while (!stopped(s)) {
        uint64_t now = sdk_mono_ms();
        if (now >= end)
            return true;
        struct pollfd p = {.fd = s->stop_pipe[0], .events = POLLIN};
        (void)poll(&p, 1, (int)(end - now));
    }
    return false;
}

static void state(hansa_subscription *s, hansa_code code, const char *message)
{
    if (s->on_state != NULL)
        s->on_state(s->arg, code, message);
}

/* ---- dedup by alert id (invariant 2) ---- */

static bool seen_has(const hansa_subscription *s, const ProtobufCBinaryData *id)
{
    if (id->len != WIRE_HASH_BYTES)
        return false;
    for (size_t i = 0; i < s->n_seen; i++)
        if (memcmp(s->seen[i], id->data, WIRE_HASH_BYTES) == 0)
            return true;
    return false;
}

static void seen_add(hansa_subscription *s, const ProtobufCBinaryData *id)
{
    if (id->len != WIRE_HASH_BYTES)
        return;
    memcpy(s->seen[s->next_seen], id->data, WIRE_HASH_BYTES);
    s->next_seen = (s->next_seen + 1) % HANSA_DEDUP_IDS;
    if (s->n_seen < HANSA_DEDUP_IDS)
        s->n_seen++;
}

/* ---- pulling ---- */

static void save_pos(hansa_subscription *s)
{
    if (s->cursor_path == NULL || cursor_cmp(s->pos, s->saved) == 0)
        return;
    hansa_error e;
    if (sdk_cursor_save(s->cursor_path, s->pos, &e) == HANSA_CODE_OK)
        s->saved = s->pos;
    else
        state(s, e.code, e.message);
}

/* Deliver the page's new alerts; false when on_alert asked to stop. */
static bool deliver(hansa_subscription *s, const Hansa__AlertPage *page)
{
    for (size_t i = 0; i < page->n_alerts; i++) {
        const Hansa__Alert *a = page->alerts[i];
        hansa_cursor cur = cursor_of(a->cursor);
        if (cursor_cmp(cur, s->pos) <= 0) /* invariant 1 */
            continue;
        bool fresh = !seen_has(s, &a->alert_id);
        s->pos = cur;
        pthread_mutex_lock(&s->mu);
        s->delivered = cur; /* handed over: delivered, whatever on_alert returns */
        pthread_mutex_unlock(&s->mu);
        bool go = fresh ? s->on_alert(s->arg, a) : true;
        if (fresh)
            seen_add(s, &a->alert_id);
        /* Saved after the callback: a crash inside it delivers the alert
         * again after a restart rather than never. */
        save_pos(s);
        if (!go)
            return false;
    }
    hansa_cursor next = cursor_of(page->next_cursor);
    if (cursor_cmp(next, s->pos) > 0) {
        s->pos = next;
        save_pos(s);
    }
    return true;
}

enum pull_outcome { PULL_MORE, PULL_CAUGHT_UP, PULL_FAILED, PULL_STOP };

static enum pull_outcome expired(hansa_subscription *s, const Hansa__AlertPage *page)
{
    hansa_cursor from = s->pos, earliest = cursor_of(page->earliest_cursor);
    char msg[HANSA_MESSAGE_MAX];
    snprintf(msg, sizeof msg,
             "cursor %llu/%u is older than the node's retention: alerts were lost to this "
             "subscriber; resuming after %llu/%u",
             (unsigned long long)from.height, (unsigned)from.ordinal,
             (unsigned long long)earliest.height, (unsigned)earliest.ordinal);
    state(s, HANSA_CODE_CURSOR_EXPIRED, msg);
    s->pos = earliest;
    save_pos(s);
    return PULL_MORE;
}

static enum pull_outcome pull_once(hansa_subscription *s)
{
    uint32_t wait_ms = s->sub_open ? 0 : s->poll_ms;
    hansa_cursor after = s->pos;
    Hansa__AlertPage *page = NULL;
    hansa_error e;
    hansa_code code =
        sdk_alerts_pull(s->c, after, &s->filter, SUB_PAGE_LIMIT, wait_ms, &s->slot, &page, &e);
    if (stopped(s) || code == HANSA_CODE_CLOSED) {
        hansa_free(page);
        return PULL_STOP;
    }
    if (code != HANSA_CODE_OK && code != HANSA_CODE_CURSOR_EXPIRED) {
        if (s->reachable)
            state(s, code, e.message);
        s->reachable = false;
        return PULL_FAILED;
    }
    if (!s->reachable)
        state(s, HANSA_CODE_OK, "the node answers again");
    s->reachable = true;
    enum pull_outcome out;
    if (code == HANSA_CODE_CURSOR_EXPIRED)
        out = expired(s, page);
    else if (!deliver(s, page))
        out = PULL_STOP;
    else if ((page->n_alerts == 0 && cursor_cmp(cursor_of(page->next_cursor), after) <= 0) ||
             cursor_cmp(cursor_of(page->next_cursor), cursor_of(page->head_cursor)) >= 0)
        out = PULL_CAUGHT_UP;
    else
        out = PULL_MORE;
    hansa_free(page);
    return out;
}

/* ---- hints ---- */

/* Runs with the socket lock held: only the counter. */
static void on_sub_pipe(nng_pipe p, nng_pipe_ev ev, void *arg)
{
    (void)p;
    (void)ev;
    hansa_subscription *s = arg;
    atomic_fetch_add(&s->sub_adds, 1);
}

/* Read every waiting event; true when one is an alert hint beyond pos. */
static bool drain_hints(hansa_subscription *s)
{
    bool beyond = false;
    nng_msg *m = NULL;
    while (nng_recvmsg(s->sub, &m, NNG_FLAG_NONBLOCK) == 0) {
        const uint8_t *body = nng_msg_body(m);
        size_t len = nng_msg_len(m);
        const uint8_t *nul = memchr(body, 0, len);
        Hansa__Event *ev = NULL;
        if (nul != NULL &&
            wire_decode(&hansa__event__descriptor, nul + 1, len - (size_t)(nul + 1 - body),
                        SUB_EVENT_BYTES_MAX, WIRE_LENIENT, (ProtobufCMessage **)&ev) == HANSA_OK &&
            ev->kind_case == HANSA__EVENT__KIND_ALERT &&
            cursor_cmp(cursor_of(ev->alert->cursor), s->pos) > 0)
            beyond = true; /* a malformed event is only a missed hint */
        wire_free(ev);
        nng_msg_free(m);
    }
    return beyond;
}

/* Wait for a reason to pull: true to pull, false when stopped. Receives
 * never block: nng_recvmsg non-blocking and poll() on its descriptor
 * (LIBNOTES 1.9: timed receives on sub sockets crash nng 1.5.2). */
static bool wait_hints(hansa_subscription *s)
{
    uint64_t end = sdk_mono_ms() + s->poll_ms;
    for (;;) {
        if (stopped(s))
            return false;
        bool beyond = drain_hints(s);
        int adds = atomic_load(&s->sub_adds);
        if (beyond || adds != s->sub_adds_seen) {
            s->sub_adds_seen = adds; /* (re)connected: hints may have been missed */
            return true;
        }
        uint64_t now = sdk_mono_ms();
        if (now >= end)
            return true;
        struct pollfd p[2] = {{.fd = s->stop_pipe[0], .events = POLLIN},
                              {.fd = s->sub_fd, .events = POLLIN}};
        (void)poll(p, 2, (int)(end - now));
    }
}

static void *sub_main(void *p)
{
    hansa_subscription *s = p;
    uint32_t retry_ms = SUB_RETRY_MS_MIN;
    bool pull = true;
    while (!stopped(s)) {
        if (pull) {
            enum pull_outcome o = pull_once(s);
            if (o == PULL_STOP)
                break;
            if (o == PULL_FAILED) {
                if (!sub_sleep(s, retry_ms))
                    break;
                retry_ms = retry_ms * 2 > SUB_RETRY_MS_MAX ? SUB_RETRY_MS_MAX : retry_ms * 2;
                continue;
            }
            retry_ms = SUB_RETRY_MS_MIN;
            /* Without hints the next pull long-polls; with them, wait for one
             * once caught up. */
            pull = o == PULL_MORE || !s->sub_open;
            continue;
        }
        pull = wait_hints(s);
    }
    atomic_store(&s->stop, true);
    return NULL;
}

/* ---- opening and closing ---- */

static hansa_code copy_filter(hansa_subscription *s, const hansa_alert_filter *f, hansa_error *err)
{
    s->filter = *f;
    if ((f->n_rule_ids > 0 && f->rule_ids == NULL) || (f->n_kinds > 0 && f->kinds == NULL))
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "alert filter: a count without its array");
    if (f->n_rule_ids > 0) {
        s->rule_ids = calloc(f->n_rule_ids, sizeof *s->rule_ids);
        if (s->rule_ids == NULL)
            return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
        for (size_t i = 0; i < f->n_rule_ids; i++)
            if (f->rule_ids[i] == NULL || (s->rule_ids[i] = strdup(f->rule_ids[i])) == NULL)
                return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "alert filter: rule id %zu", i);
    }
    if (f->n_kinds > 0) {
        s->kinds = malloc(f->n_kinds * sizeof *s->kinds);
        if (s->kinds == NULL)
            return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
        memcpy(s->kinds, f->kinds, f->n_kinds * sizeof *s->kinds);
    }
    if (f->party != NULL && (s->party = strdup(f->party)) == NULL)
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    hansa__entity_ref__init(&s->subject);
    if (f->subject != NULL) {
        s->subject.type = f->subject->type;
        s->subject.owner = strdup(f->subject->owner != NULL ? f->subject->owner : "");
        s->subject.id = strdup(f->subject->id != NULL ? f->subject->id : "");
        if (s->subject.owner == NULL || s->subject.id == NULL)
            return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    }
    s->filter.rule_ids = (const char *const *)s->rule_ids;
    s->filter.kinds = s->kinds;
    s->filter.party = s->party;
    s->filter.subject = f->subject != NULL ? &s->subject : NULL;
    return HANSA_CODE_OK;
}

static hansa_code open_events(hansa_subscription *s, hansa_error *err)
{
    bool tls = strncmp(s->events_url, "tls+tcp://", 10) == 0;
    if (!tls && strncmp(s->events_url, "tcp://", 6) != 0)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "events url %s: expected tcp://host:port or tls+tcp://host:port",
                        s->events_url);
    if (tls && s->c->tls == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "events url %s is tls+tcp: open the client with ca_path", s->events_url);
    int rv = nng_sub0_open(&s->sub);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot open the events socket: %s",
                        nng_strerror(rv));
    s->sub_open = true;
    nng_socket_set_ms(s->sub, NNG_OPT_RECONNMINT, 100);
    nng_socket_set_ms(s->sub, NNG_OPT_RECONNMAXT, 2000);
    nng_dialer d;
    rv = nng_pipe_notify(s->sub, NNG_PIPE_EV_ADD_POST, on_sub_pipe, s);
    if (rv == 0) /* with its length: the NUL is no part of the prefix (LIBNOTES 1.3) */
        rv = nng_socket_set(s->sub, NNG_OPT_SUB_SUBSCRIBE, SUB_TOPIC, strlen(SUB_TOPIC));
    if (rv == 0)
        rv = nng_socket_get_int(s->sub, NNG_OPT_RECVFD, &s->sub_fd);
    if (rv == 0)
        rv = nng_dialer_create(&d, s->sub, s->events_url);
    if (rv == 0)
        rv = nng_dialer_set_size(d, NNG_OPT_RECVMAXSZ, SUB_EVENT_BYTES_MAX);
    if (rv == 0 && tls)
        rv = nng_dialer_set_ptr(d, NNG_OPT_TLS_CONFIG, s->c->tls);
    if (rv == 0) /* in the background: a node that is down is retried */
        rv = nng_dialer_start(d, NNG_FLAG_NONBLOCK);
    if (rv != 0)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "events url %s: %s", s->events_url,
                        nng_strerror(rv));
    return HANSA_CODE_OK;
}

static hansa_code open_stop_pipe(hansa_subscription *s, hansa_error *err)
{
    if (pipe(s->stop_pipe) != 0)
        return sdk_fail(err, HANSA_CODE_NOMEM, "cannot create a pipe: %s", strerror(errno));
    for (int i = 0; i < 2; i++) {
        fcntl(s->stop_pipe[i], F_SETFD, FD_CLOEXEC);
        fcntl(s->stop_pipe[i], F_SETFL, fcntl(s->stop_pipe[i], F_GETFL) | O_NONBLOCK);
    }
    return HANSA_CODE_OK;
}

/* The starting cursor: the file's, else opts->start (then written to the
 * file, which also proves it can be written). */
static hansa_code start_cursor(hansa_subscription *s, hansa_cursor start, hansa_error *err)
{
    s->pos = start;
    if (s->cursor_path == NULL)
        return HANSA_CODE_OK;
    bool found = false;
    hansa_cursor cur;
    hansa_code code = sdk_cursor_load(s->cursor_path, &cur, &found, err);
    if (code != HANSA_CODE_OK)
        return code;
    if (found) {
        s->pos = cur;
        s->saved = cur;
        return HANSA_CODE_OK;
    }
    code = sdk_cursor_save(s->cursor_path, start, err);
    if (code == HANSA_CODE_OK)
        s->saved = start;
    return code;
}

static void sub_free(hansa_subscription *s)
{
    if (s->stop_pipe[0] >= 0)
        close(s->stop_pipe[0]);
    if (s->stop_pipe[1] >= 0)
        close(s->stop_pipe[1]);
    /* A close that hangs (closer.h) keeps s: on_sub_pipe may still run. */
    if (s->sub_open && !sdk_close_sockets(&s->sub, 1, SDK_CLOSE_WAIT_MS))
        return;
    for (size_t i = 0; s->rule_ids != NULL && i < s->filter.n_rule_ids; i++)
        free(s->rule_ids[i]);
    free(s->rule_ids);
    free(s->kinds);
    free(s->party);
    free(s->subject.owner == protobuf_c_empty_string ? NULL : s->subject.owner);
    free(s->subject.id == protobuf_c_empty_string ? NULL : s->subject.id);
    free(s->events_url);
    free(s->cursor_path);
    sdk_slot_fini(&s->slot);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

static hansa_code sub_setup(hansa_subscription *s, const hansa_subscription_options *o,
                            hansa_error *err)
{
    hansa_code code = copy_filter(s, &o->filter, err);
    if (code == HANSA_CODE_OK && o->events_url != NULL &&
        (s->events_url = strdup(o->events_url)) == NULL)
        code = sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    if (code == HANSA_CODE_OK && o->cursor_path != NULL &&
        (s->cursor_path = strdup(o->cursor_path)) == NULL)
        code = sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    if (code == HANSA_CODE_OK)
        code = start_cursor(s, o->start, err);
    if (code == HANSA_CODE_OK)
        code = open_stop_pipe(s, err);
    if (code == HANSA_CODE_OK && s->events_url != NULL)
        code = open_events(s, err);
    return code;
}

hansa_code hansa_subscribe(hansa_client *c, const hansa_subscription_options *opts,
                           hansa_subscription **out, hansa_error *err)
{
    if (c == NULL || opts == NULL || out == NULL || opts->on_alert == NULL)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT,
                        "hansa_subscribe: client, options, out and on_alert needed");
    *out = NULL;
    hansa_code code = sdk_need_key(c, "an alert subscription", err);
    if (code != HANSA_CODE_OK)
        return code;
    hansa_subscription *s = calloc(1, sizeof *s);
    if (s == NULL)
        return sdk_fail(err, HANSA_CODE_NOMEM, "out of memory");
    s->c = c;
    s->poll_ms = opts->poll_ms ? opts->poll_ms : SDK_POLL_MS_DEFAULT;
    s->on_alert = opts->on_alert;
    s->on_state = opts->on_state;
    s->arg = opts->arg;
    s->stop_pipe[0] = s->stop_pipe[1] = -1;
    s->reachable = true;
    atomic_init(&s->stop, false);
    atomic_init(&s->sub_adds, 0);
    pthread_mutex_init(&s->mu, NULL);
    sdk_slot_init(&s->slot);
    code = sub_setup(s, opts, err);
    s->delivered = s->pos;
    if (code == HANSA_CODE_OK && pthread_create(&s->thread, NULL, sub_main, s) != 0)
        code = sdk_fail(err, HANSA_CODE_NOMEM, "cannot start the subscription's thread");
    if (code != HANSA_CODE_OK) {
        sub_free(s);
        return code;
    }
    s->thread_started = true;
    *out = s;
    return sdk_ok(err);
}

hansa_cursor hansa_subscription_cursor(hansa_subscription *s)
{
    if (s == NULL)
        return (hansa_cursor){0, 0};
    pthread_mutex_lock(&s->mu);
    hansa_cursor cur = s->delivered;
    pthread_mutex_unlock(&s->mu);
    return cur;
}

void hansa_subscription_close(hansa_subscription *s)
{
    if (s == NULL)
        return;
    HANSA_ASSERT(!s->thread_started || !pthread_equal(pthread_self(), s->thread));
    atomic_store(&s->stop, true);
    ssize_t n = write(s->stop_pipe[1], "x", 1);
    (void)n; /* a full pipe is already a wake-up */
    sdk_slot_cancel(&s->slot);
    if (s->thread_started)
        pthread_join(s->thread, NULL);
    sub_free(s);
}
