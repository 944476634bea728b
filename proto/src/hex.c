/* Hex encoding for keys, ids and hashes in files, logs and the CLI. */
#include <string.h>

#include <sodium.h>

#include "hansa/wire.h"

void wire_hex_encode(const uint8_t *bin, size_t len, char *out)
{
    sodium_bin2hex(out, 2 * len + 1, bin, len);
}

hansa_err wire_hex_decode(const char *hex, uint8_t *out, size_t len)
{
    if (hex == NULL || strlen(hex) != 2 * len)
        return HANSA_EINVAL;
    size_t bin_len = 0;
    const char *end = NULL;
    if (sodium_hex2bin(out, len, hex, 2 * len, NULL, &bin_len, &end) != 0 || bin_len != len ||
        *end != '\0')
        return HANSA_EINVAL;
    return HANSA_OK;
}
