/*
 * Aligned text output: tables with a header row and key-value blocks (a
 * two-column table without header), plus the memory helpers of the CLI.
 *
 * Columns are aligned by display width, not bytes, so an item name in
 * Chinese (two columns per character on a terminal) does not push the
 * columns after it out of line. The last column is never padded, so lines
 * carry no trailing blanks (golden files compare them byte for byte).
 *
 * Invariants: a table holds nrows × ncols cells, each a private copy;
 * cli_table_free releases them all.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

_Noreturn void cli_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "hansa: internal error: %s:%d: assertion failed: %s\n", file, line, expr);
    abort();
}

void *cli_xmalloc(size_t n)
{
    void *p = malloc(n != 0 ? n : 1);
    if (p == NULL) {
        fputs("hansa: out of memory\n", stderr);
        exit(CLI_EXIT_FAILURE);
    }
    return p;
}

char *cli_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cli_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* ---- arena ---- */

void *cli_arena_alloc(struct cli_arena *ar, size_t n)
{
    if (ar->n == ar->cap) {
        size_t cap = ar->cap ? 2 * ar->cap : 32;
        void **p = realloc(ar->ptrs, cap * sizeof *p);
        if (p == NULL) {
            fputs("hansa: out of memory\n", stderr);
            exit(CLI_EXIT_FAILURE);
        }
        ar->ptrs = p;
        ar->cap = cap;
    }
    void *m = cli_xmalloc(n);
    memset(m, 0, n != 0 ? n : 1);
    ar->ptrs[ar->n++] = m;
    return m;
}

char *cli_arena_strdup(struct cli_arena *ar, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = cli_arena_alloc(ar, n);
    memcpy(d, s, n);
    return d;
}

void cli_arena_free(struct cli_arena *ar)
{
    for (size_t i = 0; i < ar->n; i++)
        free(ar->ptrs[i]);
    free(ar->ptrs);
    memset(ar, 0, sizeof *ar);
}

/* ---- display width ---- */

/* East Asian wide and fullwidth ranges (Unicode 15, abridged to the blocks
 * trade documents use: CJK, Hangul, fullwidth forms). */
static bool wide(uint32_t cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) ||
           (cp >= 0x3041 && cp <= 0x33FF) || (cp >= 0x3400 && cp <= 0x4DBF) ||
           (cp >= 0x4E00 && cp <= 0x9FFF) || (cp >= 0xA000 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
           (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
           (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
}

size_t cli_display_width(const char *s)
{
    size_t w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        uint32_t cp;
        int len;
        if (*p < 0x80) {
            cp = *p;
            len = 1;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1Fu;
            len = 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0Fu;
            len = 3;
        } else if ((*p & 0xF8) == 0xF0) {
            cp = *p & 0x07u;
            len = 4;
        } else {
            cp = 0xFFFD; /* a stray byte: one column */
            len = 1;
        }
        int k = 1;
        for (; k < len && (p[k] & 0xC0) == 0x80; k++)
            cp = cp << 6 | (p[k] & 0x3Fu);
        if (k < len) { /* truncated sequence */
            cp = 0xFFFD;
            len = k;
        }
        /* Combining marks (U+0300-036F) take no column of their own. */
        if (!(cp >= 0x300 && cp <= 0x36F))
            w += wide(cp) ? 2 : 1;
        p += len;
    }
    return w;
}

/* ---- tables ---- */

static void add_row(struct cli_table *t, const char *const *cells)
{
    if (t->nrows == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 16;
        char **c = realloc(t->cells, cap * t->ncols * sizeof *c);
        if (c == NULL) {
            fputs("hansa: out of memory\n", stderr);
            exit(CLI_EXIT_FAILURE);
        }
        t->cells = c;
        t->cap = cap;
    }
    for (size_t i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = cli_xstrdup(cells[i] != NULL ? cells[i] : "");
    t->nrows++;
}

void cli_table_init(struct cli_table *t, size_t ncols, const char *const *headers)
{
    CLI_ASSERT(ncols > 0 && ncols <= 16);
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    t->header = headers != NULL;
    if (headers != NULL)
        add_row(t, headers);
}

void cli_table_row(struct cli_table *t, const char *const *cells)
{
    add_row(t, cells);
}

void cli_kv(struct cli_table *t, const char *key, const char *fmt, ...)
{
    CLI_ASSERT(t->ncols == 2);
    char value[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    const char *cells[2] = {key, value};
    add_row(t, cells);
}

void cli_table_print(const struct cli_table *t, FILE *f, const char *indent)
{
    size_t widths[16] = {0};
    for (size_t r = 0; r < t->nrows; r++)
        for (size_t c = 0; c < t->ncols; c++) {
            size_t w = cli_display_width(t->cells[r * t->ncols + c]);
            if (w > widths[c])
                widths[c] = w;
        }
    for (size_t r = 0; r < t->nrows; r++) {
        /* Columns that are empty to the end of the row are left out, so no
         * line ends in blanks. */
        size_t last = t->ncols;
        while (last > 1 && t->cells[r * t->ncols + last - 1][0] == '\0')
            last--;
        fputs(indent != NULL ? indent : "", f);
        for (size_t c = 0; c < last; c++) {
            const char *cell = t->cells[r * t->ncols + c];
            fputs(cell, f);
            if (c + 1 < last)
                for (size_t pad = cli_display_width(cell); pad < widths[c] + 2; pad++)
                    fputc(' ', f);
        }
        fputc('\n', f);
    }
}

void cli_table_free(struct cli_table *t)
{
    for (size_t i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}
