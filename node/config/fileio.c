/*
 * File helpers of node/config: crash-safe create-only writes, bounded reads,
 * path joining. See fileio.h for the guarantees.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "hansa/assert.h"

void config_why(char *why, size_t why_len, const char *fmt, ...)
{
    if (why == NULL || why_len == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, why_len, fmt, ap);
    va_end(ap);
}

static hansa_err write_all(int fd, const unsigned char *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return HANSA_EIO;
        buf += n;
        len -= (size_t)n;
    }
    return HANSA_OK;
}

static hansa_err fsync_parent_dir(const char *path)
{
    char copy[CONFIG_PATH_BYTES_MAX];
    HANSA_ASSERT(strlen(path) < sizeof copy);
    strcpy(copy, path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return HANSA_EIO;
    int rv = fsync(fd);
    close(fd);
    return rv == 0 ? HANSA_OK : HANSA_EIO;
}

/* Write and sync the temporary file; closes fd. */
static hansa_err fill_temp(int fd, const void *data, size_t len, mode_t mode)
{
    hansa_err rv = HANSA_OK;
    if (fchmod(fd, mode) != 0)
        rv = HANSA_EIO;
    if (rv == HANSA_OK)
        rv = write_all(fd, data, len);
    if (rv == HANSA_OK && fsync(fd) != 0)
        rv = HANSA_EIO;
    if (close(fd) != 0 && rv == HANSA_OK)
        rv = HANSA_EIO;
    return rv;
}

hansa_err config_file_create(const char *path, const void *data, size_t len, mode_t mode, char *why,
                             size_t why_len)
{
    HANSA_ASSERT(path != NULL && (data != NULL || len == 0));
    char tmp[CONFIG_PATH_BYTES_MAX];
    if (snprintf(tmp, sizeof tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof tmp) {
        config_why(why, why_len, "path too long: %s", path);
        return HANSA_EINVAL;
    }
    /* mkstemp creates the file with mode 0600, so a secret is never
     * readable by others, not even for a moment. */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        config_why(why, why_len, "cannot create a file next to %s: %s", path, strerror(errno));
        return HANSA_EIO;
    }
    hansa_err rv = fill_temp(fd, data, len, mode);
    if (rv != HANSA_OK) {
        config_why(why, why_len, "cannot write %s: %s", tmp, strerror(errno));
    } else if (link(tmp, path) != 0) {
        rv = errno == EEXIST ? HANSA_EEXIST : HANSA_EIO;
        config_why(why, why_len, "cannot create %s: %s", path, strerror(errno));
    } else if (fsync_parent_dir(path) != HANSA_OK) {
        rv = HANSA_EIO;
        config_why(why, why_len, "cannot sync the directory of %s: %s", path, strerror(errno));
    }
    unlink(tmp);
    return rv;
}

static hansa_err read_fd(int fd, char *buf, size_t len)
{
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, buf + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return HANSA_EIO; /* an error, or the file shrank under us */
        got += (size_t)n;
    }
    return HANSA_OK;
}

hansa_err config_file_read(const char *path, size_t max_bytes, char **out, size_t *out_len,
                           char *why, size_t why_len)
{
    HANSA_ASSERT(path != NULL && out != NULL && out_len != NULL);
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        config_why(why, why_len, "cannot open %s: %s", path, strerror(e));
        return e == ENOENT ? HANSA_ENOENT : HANSA_EIO;
    }
    struct stat st;
    hansa_err rv = HANSA_OK;
    char *buf = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        config_why(why, why_len, "%s is not a regular file", path);
        rv = HANSA_EIO;
    } else if ((unsigned long long)st.st_size > max_bytes) {
        config_why(why, why_len, "%s is %lld bytes; at most %zu are accepted", path,
                   (long long)st.st_size, max_bytes);
        rv = HANSA_ETOOLARGE;
    } else if ((buf = malloc((size_t)st.st_size + 1)) == NULL) {
        config_why(why, why_len, "out of memory reading %s", path);
        rv = HANSA_ENOMEM;
    } else if ((rv = read_fd(fd, buf, (size_t)st.st_size)) != HANSA_OK) {
        config_why(why, why_len, "cannot read %s: %s", path, strerror(errno));
    }
    close(fd);
    if (rv != HANSA_OK) {
        free(buf);
        return rv;
    }
    buf[st.st_size] = '\0';
    *out = buf;
    *out_len = (size_t)st.st_size;
    return HANSA_OK;
}

hansa_err config_path_join(char *out, size_t out_len, const char *dir, const char *name, char *why,
                           size_t why_len)
{
    HANSA_ASSERT(out != NULL && dir != NULL && name != NULL);
    size_t d = strlen(dir);
    const char *sep = (d > 0 && dir[d - 1] == '/') ? "" : "/";
    int n = snprintf(out, out_len, "%s%s%s", dir, sep, name);
    if (n < 0 || (size_t)n >= out_len) {
        config_why(why, why_len, "path %s%s%s is longer than %zu bytes", dir, sep, name,
                   out_len - 1);
        return HANSA_EINVAL;
    }
    return HANSA_OK;
}

hansa_err config_path_absolute(char *out, size_t out_len, const char *path, char *why,
                               size_t why_len)
{
    HANSA_ASSERT(out != NULL && path != NULL);
    if (path[0] == '/') {
        if (strlen(path) >= out_len) {
            config_why(why, why_len, "path %s is longer than %zu bytes", path, out_len - 1);
            return HANSA_EINVAL;
        }
        strcpy(out, path);
        return HANSA_OK;
    }
    char cwd[CONFIG_PATH_BYTES_MAX];
    if (getcwd(cwd, sizeof cwd) == NULL) {
        config_why(why, why_len, "cannot read the current directory: %s", strerror(errno));
        return HANSA_EIO;
    }
    /* "./x" reads better as "x" in messages. */
    while (path[0] == '.' && path[1] == '/')
        path += 2;
    if (strcmp(path, ".") == 0 || path[0] == '\0') {
        if (strlen(cwd) >= out_len)
            return HANSA_EINVAL;
        strcpy(out, cwd);
        return HANSA_OK;
    }
    return config_path_join(out, out_len, cwd, path, why, why_len);
}

hansa_err config_mkdir(const char *path, mode_t mode, char *why, size_t why_len)
{
    if (mkdir(path, mode) == 0)
        return HANSA_OK;
    struct stat st;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return HANSA_OK;
    config_why(why, why_len, "cannot create directory %s: %s", path, strerror(errno));
    return HANSA_EIO;
}
