/*
 * The timeline driver of timeline.h: builds events, steps the core, renders
 * the actions. Any action the renderer cannot express (a hash that is not
 * one repeated character, a NULL pointer with a length) fails the test.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "timeline.h"

static void fill_hash(uint8_t hash[CS_HASH_BYTES], char value)
{
    memset(hash, (unsigned char)value, CS_HASH_BYTES);
}

static char hash_name(const uint8_t hash[CS_HASH_BYTES])
{
    for (size_t i = 1; i < CS_HASH_BYTES; i++)
        cr_assert_eq(hash[i], hash[0], "hash is not one repeated character");
    cr_assert(hash[0] >= 'A' && hash[0] <= 'Z', "hash byte %u is not a value name", hash[0]);
    return (char)hash[0];
}

static char value_name(const struct cs_value *v)
{
    return v->nil ? '-' : hash_name(v->hash);
}

static const char *step_name(enum cs_step step)
{
    switch (step) {
    case CS_STEP_PROPOSE:
        return "propose";
    case CS_STEP_PREVOTE:
        return "prevote";
    case CS_STEP_PRECOMMIT:
        return "precommit";
    }
    cr_assert_fail("bad step %d", (int)step);
    return "?";
}

struct cs_params tl_params(uint32_t n_validators, uint32_t self)
{
    struct cs_params p = {
        .n_validators = n_validators,
        .self = self,
        .propose_base_ms = TL_PROPOSE_BASE_MS,
        .propose_delta_ms = TL_PROPOSE_DELTA_MS,
        .prevote_base_ms = TL_PREVOTE_BASE_MS,
        .prevote_delta_ms = TL_PREVOTE_DELTA_MS,
        .precommit_base_ms = TL_PRECOMMIT_BASE_MS,
        .precommit_delta_ms = TL_PRECOMMIT_DELTA_MS,
    };
    return p;
}

struct cs_durable tl_state(uint64_t height, uint32_t round, enum cs_step step, int32_t locked_round,
                           char locked, int32_t valid_round, char valid)
{
    struct cs_durable d;
    memset(&d, 0, sizeof(d));
    d.height = height;
    d.round = round;
    d.step = step;
    d.locked_round = locked_round;
    d.valid_round = valid_round;
    if (locked != 0)
        fill_hash(d.locked_hash, locked);
    if (valid != 0)
        fill_hash(d.valid_hash, valid);
    return d;
}

void tl_open_at(struct tl *t, uint32_t n_validators, uint32_t self, const struct cs_durable *d)
{
    memset(t, 0, sizeof(*t));
    t->params = tl_params(n_validators, self);
    cr_assert_eq(consensus_open(&t->params, d, &t->cs), HANSA_OK);
}

void tl_open(struct tl *t, uint32_t n_validators, uint32_t self, uint64_t height)
{
    struct cs_durable d = tl_state(height, 0, CS_STEP_PROPOSE, -1, 0, -1, 0);
    tl_open_at(t, n_validators, self, &d);
}

void tl_close(struct tl *t)
{
    consensus_close(t->cs);
    t->cs = NULL;
}

__attribute__((format(printf, 3, 4))) static void put(char *buf, size_t len, const char *fmt, ...)
{
    size_t used = strlen(buf);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, len - used, fmt, ap);
    va_end(ap);
    cr_assert(n >= 0 && (size_t)n < len - used, "timeline text too long");
}

static void render_state(char *buf, size_t len, const struct cs_durable *d)
{
    put(buf, len, "h%llu r%u %s ", (unsigned long long)d->height, d->round, step_name(d->step));
    if (d->locked_round >= 0)
        put(buf, len, "lock%d:%c ", d->locked_round, hash_name(d->locked_hash));
    else
        put(buf, len, "lock%s ", d->locked_round == -1 ? "-" : "?");
    if (d->valid_round >= 0)
        put(buf, len, "valid%d:%c", d->valid_round, hash_name(d->valid_hash));
    else
        put(buf, len, "valid%s", d->valid_round == -1 ? "-" : "?");
}

/* "PV|1|0|2|A" -> 2: the validator field of a stand-in signed vote. */
static unsigned voter_of(const uint8_t *bytes, size_t len)
{
    cr_assert(bytes != NULL && len > 0 && len < 64, "bad signed vote");
    char s[64];
    memcpy(s, bytes, len);
    s[len] = '\0';
    char type[3];
    unsigned long long h;
    unsigned r, v;
    char value;
    cr_assert_eq(sscanf(s, "%2[A-Z]|%llu|%u|%u|%c", type, &h, &r, &v, &value), 5,
                 "not a stand-in vote: %s", s);
    return v;
}

static void render_bytes(char *buf, size_t len, const uint8_t *bytes, size_t n)
{
    cr_assert(bytes != NULL || n == 0);
    put(buf, len, "%.*s", (int)n, (const char *)bytes);
}

static void render_action(char *buf, size_t len, const struct cs_action *a)
{
    switch (a->kind) {
    case CS_ACT_PERSIST:
        put(buf, len, "persist#%llu{", (unsigned long long)a->persist.seq);
        render_state(buf, len, &a->persist.state);
        put(buf, len, "}");
        return;
    case CS_ACT_PROPOSE:
        put(buf, len, "propose(h%llu r%u vr%d %c)", (unsigned long long)a->propose.height,
            a->propose.round, a->propose.valid_round, hash_name(a->propose.hash));
        return;
    case CS_ACT_VOTE: {
        const char *type = a->vote.type == CS_PREVOTE ? "prevote" : "precommit";
        char v = value_name(&a->vote.value);
        put(buf, len, "%s(h%llu r%u %s)", type, (unsigned long long)a->vote.height, a->vote.round,
            v == '-' ? "nil" : (char[]){v, '\0'});
        return;
    }
    case CS_ACT_SCHEDULE_TIMEOUT:
        put(buf, len, "timeout(h%llu r%u %s %ums)", (unsigned long long)a->timeout.height,
            a->timeout.round, step_name(a->timeout.step), a->timeout.delay_ms);
        return;
    case CS_ACT_GET_VALUE:
        put(buf, len, "get_value(h%llu r%u)", (unsigned long long)a->get_value.height,
            a->get_value.round);
        return;
    case CS_ACT_DECIDE:
        put(buf, len, "decide(h%llu r%u %c by", (unsigned long long)a->decide.height,
            a->decide.round, hash_name(a->decide.hash));
        for (uint32_t i = 0; i < a->decide.n_precommits; i++)
            put(buf, len, " %u", voter_of(a->decide.precommits[i], a->decide.precommit_lens[i]));
        put(buf, len, ")");
        return;
    case CS_ACT_EVIDENCE:
        put(buf, len, "evidence(v%u: ", a->evidence.validator);
        render_bytes(buf, len, a->evidence.vote_a, a->evidence.len_a);
        put(buf, len, " / ");
        render_bytes(buf, len, a->evidence.vote_b, a->evidence.len_b);
        put(buf, len, ")");
        return;
    }
    cr_assert_fail("unknown action kind %d", (int)a->kind);
}

static const char *step_core(struct tl *t, const struct cs_event *ev)
{
    consensus_step(t->cs, ev, &t->out);
    cr_assert(t->out.n <= CS_ACTIONS_MAX);
    t->text[0] = '\0';
    for (size_t i = 0; i < t->out.n; i++) {
        if (i > 0)
            put(t->text, sizeof(t->text), "; ");
        render_action(t->text, sizeof(t->text), &t->out.items[i]);
    }
    return t->text;
}

const char *tl_start(struct tl *t)
{
    struct cs_event ev = {.kind = CS_EV_START};
    return step_core(t, &ev);
}

const char *tl_proposal(struct tl *t, uint64_t height, uint32_t round, int32_t valid_round,
                        char value, bool valid)
{
    struct cs_event ev = {.kind = CS_EV_PROPOSAL};
    ev.proposal.height = height;
    ev.proposal.round = round;
    ev.proposal.valid_round = valid_round;
    ev.proposal.valid = valid;
    fill_hash(ev.proposal.hash, value);
    return step_core(t, &ev);
}

void tl_vote_bytes(enum cs_vote_type type, uint64_t height, uint32_t round, uint32_t validator,
                   char value, char *buf, size_t len)
{
    int n = snprintf(buf, len, "%s|%llu|%u|%u|%c", type == CS_PREVOTE ? "PV" : "PC",
                     (unsigned long long)height, round, validator, value == 0 ? '-' : value);
    cr_assert(n > 0 && (size_t)n < len);
}

static const char *vote(struct tl *t, enum cs_vote_type type, uint64_t height, uint32_t round,
                        uint32_t validator, char value)
{
    char bytes[64];
    tl_vote_bytes(type, height, round, validator, value, bytes, sizeof(bytes));
    struct cs_event ev = {.kind = CS_EV_VOTE};
    ev.vote.type = type;
    ev.vote.height = height;
    ev.vote.round = round;
    ev.vote.validator = validator;
    ev.vote.value.nil = value == 0;
    if (value != 0)
        fill_hash(ev.vote.value.hash, value);
    ev.vote.signed_bytes = (const uint8_t *)bytes;
    ev.vote.signed_len = strlen(bytes);
    const char *text = step_core(t, &ev);
    /* The core must have copied what it keeps: scribble over the event's. */
    memset(bytes, 'x', sizeof(bytes));
    return text;
}

const char *tl_prevote(struct tl *t, uint64_t height, uint32_t round, uint32_t validator,
                       char value)
{
    return vote(t, CS_PREVOTE, height, round, validator, value);
}

const char *tl_precommit(struct tl *t, uint64_t height, uint32_t round, uint32_t validator,
                         char value)
{
    return vote(t, CS_PRECOMMIT, height, round, validator, value);
}

const char *tl_timeout(struct tl *t, uint64_t height, uint32_t round, enum cs_step step)
{
    struct cs_event ev = {.kind = CS_EV_TIMEOUT};
    ev.timeout.height = height;
    ev.timeout.round = round;
    ev.timeout.step = step;
    return step_core(t, &ev);
}

const char *tl_persisted(struct tl *t, uint64_t seq)
{
    struct cs_event ev = {.kind = CS_EV_PERSISTED};
    ev.persisted_seq = seq;
    return step_core(t, &ev);
}

const char *tl_value(struct tl *t, uint64_t height, uint32_t round, char value)
{
    struct cs_event ev = {.kind = CS_EV_VALUE};
    ev.value.height = height;
    ev.value.round = round;
    fill_hash(ev.value.hash, value);
    return step_core(t, &ev);
}

const char *tl_durable(struct tl *t)
{
    struct cs_durable d;
    consensus_durable(t->cs, &d);
    t->text[0] = '\0';
    render_state(t->text, sizeof(t->text), &d);
    return t->text;
}
