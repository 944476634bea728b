/*
 * File helpers shared by the configuration module (internal to node/config).
 *
 * Everything this module writes (config.ini, genesis.json, certificates, key
 * files) goes through config_file_create(), which is crash-safe and never
 * overwrites: the bytes go to a temporary file that is fsynced, hard-linked
 * to the final name (link() fails when the name exists, where rename() would
 * replace it) and the directory is fsynced. A crash leaves either no file or
 * the whole file, never a torn one, and never a half-replaced key.
 */
#ifndef HANSA_CONFIG_FILEIO_H
#define HANSA_CONFIG_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

#include "hansa/error.h"

/* Longest path this module builds or accepts, terminating NUL included. */
#define CONFIG_PATH_BYTES_MAX 1024u

/* snprintf into why (when why != NULL and why_len > 0). */
__attribute__((format(printf, 3, 4))) void config_why(char *why, size_t why_len, const char *fmt,
                                                      ...);

/*
 * Create path holding data[0..len) with the given mode (0600 for secrets).
 * HANSA_EEXIST if path exists (nothing is changed), HANSA_EIO on a system
 * failure, HANSA_EINVAL for a path too long; why names the file.
 */
HANSA_MUST_USE hansa_err config_file_create(const char *path, const void *data, size_t len,
                                            mode_t mode, char *why, size_t why_len);

/*
 * Read a whole regular file of at most max_bytes into a new heap buffer
 * (*out, NUL-terminated, owned by the caller: free()). HANSA_ENOENT if it
 * does not exist, HANSA_ETOOLARGE past max_bytes, HANSA_EIO otherwise.
 */
HANSA_MUST_USE hansa_err config_file_read(const char *path, size_t max_bytes, char **out,
                                          size_t *out_len, char *why, size_t why_len);

/* out = dir "/" name; HANSA_EINVAL (with why) if it does not fit out_len. */
HANSA_MUST_USE hansa_err config_path_join(char *out, size_t out_len, const char *dir,
                                          const char *name, char *why, size_t why_len);

/* out = path if absolute, else the current directory "/" path (no symlink
 * resolution; "." and ".." stay). HANSA_EINVAL if it does not fit,
 * HANSA_EIO if the current directory cannot be read. */
HANSA_MUST_USE hansa_err config_path_absolute(char *out, size_t out_len, const char *path,
                                              char *why, size_t why_len);

/* mkdir with mode; an existing directory is fine. */
HANSA_MUST_USE hansa_err config_mkdir(const char *path, mode_t mode, char *why, size_t why_len);

#endif
