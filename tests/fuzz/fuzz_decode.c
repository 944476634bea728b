/*
 * libFuzzer target: every decoder of libhansa_wire on arbitrary bytes. The
 * first byte picks the decoder. Decoders must return an error or a message
 * for any input, within their size and heap limits, without a sanitizer
 * report; a decoded canonical message must re-encode to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hansa/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef hansa_err (*decoder)(const uint8_t *, size_t, void **);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const decoder decoders[] = {
        (decoder)wire_tx_decode,       (decoder)wire_tx_body_decode,
        (decoder)wire_block_decode,    (decoder)wire_block_header_decode,
        (decoder)wire_vote_decode,     (decoder)wire_proposal_decode,
        (decoder)wire_query_decode,    (decoder)wire_request_decode,
        (decoder)wire_response_decode, (decoder)wire_consensus_decode,
        (decoder)wire_event_decode,
    };
    size_t which = data[0] % (sizeof decoders / sizeof decoders[0]);
    void *m = NULL;
    if (decoders[which](data + 1, size - 1, &m) == HANSA_OK) {
        /* Canonical decoders (the first six but block) must round-trip. */
        bool canonical = which <= 6 && which != 2;
        if (canonical) {
            uint8_t *again = NULL;
            size_t len = 0;
            if (wire_encode(m, size, &again, &len) != HANSA_OK || len != size - 1 ||
                (len && memcmp(again, data + 1, len) != 0))
                abort();
            free(again);
        }
        wire_free(m);
    }
    return 0;
}
