/*
 * The cursor file of a durable alert subscription: where to resume after a
 * restart.
 *
 *   {"type": "hansa-alert-cursor", "version": 1, "height": 42, "ordinal": 3}
 *
 * Saving replaces the file atomically and durably: the new text goes to
 * "<path>.tmp", which is fsynced and renamed over the file, and then the
 * directory is fsynced so the rename itself survives a power cut (STYLE.md:
 * a file replaced by rename needs its directory fsynced). A crash at any
 * point leaves either the old cursor or the new one under the file's name,
 * never a torn or empty file; a stale temporary file left by a crash is
 * ignored by loading and overwritten by the next save.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "internal.h"

#define CURSOR_FILE_TYPE "hansa-alert-cursor"
/* A cursor file is one short line; anything much larger is not one. */
#define CURSOR_FILE_BYTES_MAX 1024
#define CURSOR_PATH_BYTES_MAX 4096

static hansa_code read_text(const char *path, char *buf, size_t cap, size_t *len, bool *found,
                            hansa_error *err)
{
    *found = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT)
            return HANSA_CODE_OK;
        return sdk_fail(err, HANSA_CODE_IO, "cannot open cursor file %s: %s", path,
                        strerror(errno));
    }
    *found = true;
    size_t n = 0;
    hansa_code code = HANSA_CODE_OK;
    for (;;) {
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            code = sdk_fail(err, HANSA_CODE_IO, "cannot read cursor file %s: %s", path,
                            strerror(errno));
            break;
        }
        if (r == 0)
            break;
        n += (size_t)r;
        if (n == cap) {
            code = sdk_fail(err, HANSA_CODE_IO, "cursor file %s is too large to be one", path);
            break;
        }
    }
    close(fd);
    *len = n;
    return code;
}

hansa_code sdk_cursor_load(const char *path, hansa_cursor *out, bool *found, hansa_error *err)
{
    char text[CURSOR_FILE_BYTES_MAX];
    size_t len = 0;
    hansa_code code = read_text(path, text, sizeof text, &len, found, err);
    if (code != HANSA_CODE_OK || !*found)
        return code;
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type = json_string_value(json_object_get(doc, "type"));
    json_t *version = json_object_get(doc, "version");
    json_t *height = json_object_get(doc, "height");
    json_t *ordinal = json_object_get(doc, "ordinal");
    if (json_object_size(doc) != 4 || type == NULL || strcmp(type, CURSOR_FILE_TYPE) != 0 ||
        !json_is_integer(version) || json_integer_value(version) != 1 || !json_is_integer(height) ||
        json_integer_value(height) < 0 || !json_is_integer(ordinal) ||
        json_integer_value(ordinal) < 0 || json_integer_value(ordinal) > (json_int_t)UINT32_MAX)
        code =
            sdk_fail(err, HANSA_CODE_IO, "%s is not a version 1 " CURSOR_FILE_TYPE " file", path);
    else
        *out = (hansa_cursor){(uint64_t)json_integer_value(height),
                              (uint32_t)json_integer_value(ordinal)};
    json_decref(doc);
    return code;
}

static bool write_all(int fd, const char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        buf += n;
        len -= (size_t)n;
    }
    return true;
}

static bool fsync_dir_of(const char *path)
{
    char copy[CURSOR_PATH_BYTES_MAX];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = fsync(fd) == 0;
    close(fd);
    return ok;
}

hansa_code sdk_cursor_save(const char *path, hansa_cursor cur, hansa_error *err)
{
    char tmp[CURSOR_PATH_BYTES_MAX], text[160];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return sdk_fail(err, HANSA_CODE_INVALID_ARGUMENT, "cursor file path is too long");
    int len = snprintf(text, sizeof text,
                       "{\"type\": \"" CURSOR_FILE_TYPE "\", \"version\": 1, \"height\": %llu, "
                       "\"ordinal\": %u}\n",
                       (unsigned long long)cur.height, (unsigned)cur.ordinal);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return sdk_fail(err, HANSA_CODE_IO, "cannot create %s: %s", tmp, strerror(errno));
    bool ok = write_all(fd, text, (size_t)len) && fsync(fd) == 0;
    int saved = errno;
    if (close(fd) != 0)
        ok = false;
    if (!ok) {
        unlink(tmp);
        return sdk_fail(err, HANSA_CODE_IO, "cannot write %s: %s", tmp, strerror(saved));
    }
    if (rename(tmp, path) != 0) {
        saved = errno;
        unlink(tmp);
        return sdk_fail(err, HANSA_CODE_IO, "cannot replace %s: %s", path, strerror(saved));
    }
    if (!fsync_dir_of(path))
        return sdk_fail(err, HANSA_CODE_IO, "cannot sync the directory of %s: %s", path,
                        strerror(errno));
    return HANSA_CODE_OK;
}
