/*
 * libFuzzer target: transaction decoding, admission and execution.
 *
 * The input is tried two ways:
 *   1. as a whole Tx envelope: wire_tx_open (size, decoding, canonical form,
 *      chain id), then admission against a genesis state;
 *   2. as a TxBody, signed with a registered party's key so that admission
 *      and the ledger's execution of every action are reached; the body's
 *      chain id and signer are forced to valid ones half of the time.
 * Every outcome must be a result code; a crash, a sanitizer report or an
 * assertion is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ledger_fixture.h"

static struct fx f;
static const char *const signers[] = {"MER-SZ-0001", "PLT-0001", "PAY-0001", "LOG-0001",
                                      "BANK-A",      "CUS-0001", "ADMIN-1"};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    fx_init(&f);
    return 0;
}

static void admit_and_execute(const struct wire_tx *tx)
{
    char why[256];
    Hansa__ResultCode code = ledger_admit_signer(&f.view, tx, why, sizeof why);
    if (code == HANSA__RESULT_CODE__RESULT_OK)
        (void)ledger_admit(&f.view, tx, f.time_ms, why, sizeof why);
    /* Execute whatever opened: execution must cope with anything admission
     * might have let through, and never change the fixture's state. */
    struct ledger_block blk = {FX_CHAIN_ID, f.height + 1, f.time_ms, {0}, tx, 1};
    memcpy(blk.prev_state_root, f.root, sizeof f.root);
    struct ledger_output out;
    if (ledger_execute(&f.view, &blk, &out) != HANSA_OK)
        abort(); /* memory state never fails: any error is a bug */
    ledger_output_free(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct wire_tx tx;
    if (wire_tx_open(&tx, data, size, FX_CHAIN_ID) == HANSA_OK) {
        admit_and_execute(&tx);
        wire_tx_close(&tx);
    }

    Hansa__TxBody *body = NULL;
    if (size < 1 || wire_decode(&hansa__tx_body__descriptor, data + 1, size - 1, HANSA_TX_BYTES_MAX,
                                WIRE_LENIENT, (ProtobufCMessage **)&body) != HANSA_OK)
        return 0;
    const char *signer = signers[data[0] % (sizeof signers / sizeof signers[0])];
    char *orig_chain = body->chain_id, *orig_signer = body->signer;
    if (data[0] & 0x80) {
        body->chain_id = (char *)FX_CHAIN_ID;
        body->signer = (char *)signer;
    }
    struct wire_keypair kp;
    fx_keypair(signer, &kp);
    uint8_t *bytes = NULL;
    size_t len = 0;
    if (wire_tx_build(body, &kp, &bytes, &len, NULL) == HANSA_OK &&
        wire_tx_open(&tx, bytes, len, FX_CHAIN_ID) == HANSA_OK) {
        if (wire_tx_verify(&tx) != HANSA_OK)
            abort(); /* we just signed it */
        admit_and_execute(&tx);
        wire_tx_close(&tx);
    }
    free(bytes);
    /* Give the decoded strings back before freeing the message. */
    body->chain_id = orig_chain;
    body->signer = orig_signer;
    wire_free(body);
    return 0;
}
