#!/bin/sh
# The hansa program without a node: help at every level, usage errors with
# their golden messages and exit status 2, keygen (offline), a key file
# that is missing (1), and a node that refuses the connection (3).
#
# usage: test_usage.sh BIN_DIR GOLDEN_DIR
set -u
BIN=$1
GOLD=$2 # read by lib.sh
export GOLD
HERE=$(dirname "$0")
# shellcheck source=tests/cli/lib.sh
. "$HERE/lib.sh"
WORK=$(mktemp -d /tmp/hansa-cli-usage-XXXXXX)
HANSA=$BIN/hansa
# Nothing listens on this port: commands that get as far as the node fail
# to connect (exit 3); usage errors never get there.
PORT=$("$BIN/cli_free_port" 1) || exit 1
export HANSA_NODE="tcp://127.0.0.1:$PORT"
unset HANSA_KEY HANSA_CA HANSA_SERVER_NAME HANSA_IDENTITY_KEY HANSA_EVENTS

# ---- help ----
run help 0 "$HANSA" --help && golden help
run help_word 0 "$HANSA" help && contains help_word "Exit status: 0 ok"
run help_order 0 "$HANSA" order --help && golden help_order
run help_order_create 0 "$HANSA" order create --help && golden help_order_create
run help_word_cmd 0 "$HANSA" help finance approve && golden help_word_cmd
run version 0 "$HANSA" --version && contains version "hansa "
# Every command answers --help with its usage, an example and the exit statuses.
for cmd in keygen status "block get" "tx get" history "order create" "order get" "order list" \
    "order cancel" "payment record" "payment get" "waybill create" "waybill event" "waybill get" \
    "credit open" "credit limit" "credit suspend" "credit resume" "credit close" "credit get" \
    "finance request" "finance approve" "finance reject" "finance disburse" "finance repay" \
    "finance default" "finance get" exposure "alerts list" "alerts watch"; do
    n=help_$(echo "$cmd" | tr ' ' _)
    # shellcheck disable=SC2086
    run "$n" 0 "$HANSA" $cmd --help && contains "$n" "usage: hansa $cmd" &&
        contains "$n" "Example" && contains "$n" "Exit status"
done

# ---- usage errors (exit 2) ----
run no_command 2 "$HANSA" && golden no_command err
run unknown_command 2 "$HANSA" frobnicate && golden unknown_command err
run group_only 2 "$HANSA" order && golden group_only err
run unknown_sub 2 "$HANSA" order frobnicate && golden unknown_sub err
run unknown_option 2 "$HANSA" order get --colour red && golden unknown_option err
run bad_timeout 2 "$HANSA" --timeout soon status && golden bad_timeout err
run no_node 2 env -u HANSA_NODE "$HANSA" status && golden no_node err
run tls_no_name 2 "$HANSA" --node tls+tcp://127.0.0.1:1 --ca /nonexistent/ca.crt status &&
    golden tls_no_name err
run tls_no_ca 2 "$HANSA" --node tls+tcp://127.0.0.1:1 --server-name node0 status &&
    golden tls_no_ca err
run no_key 2 "$HANSA" order get --order-no SO-1 && golden no_key err
run bad_txid 2 "$HANSA" tx get 12ab && golden bad_txid err
run bad_height 2 "$HANSA" block get zero && golden bad_height err
run bad_cursor 2 "$HANSA" alerts list --after 12 && golden bad_cursor err
run bad_severity 2 "$HANSA" alerts list --min-severity SEVERE && golden bad_severity err
run history_args 2 "$HANSA" history order SO-1 && golden history_args err
run option_twice 2 "$HANSA" order get --order-no A --order-no B && golden option_twice err

# ---- keygen (offline) ----
run keygen 0 "$HANSA" keygen --out "$WORK/mer.key" --party MER-TEST-1 && golden keygen
run keygen_again 1 "$HANSA" keygen --out "$WORK/mer.key" && golden keygen_again err
run keygen_json 0 "$HANSA" --json keygen --out "$WORK/other.key" && golden keygen_json
if [ "$(stat -c %a "$WORK/mer.key")" != 600 ]; then
    fail "keygen: the key file is not mode 0600"
fi
export HANSA_KEY="$WORK/mer.key"

# ---- documents from flags: usage errors before anything is sent ----
C1=0000000000000000000000000000000000000000000000000000000000000001
ORDER="order create --buyer-commitment $C1 --consignee-name-commitment $C1
  --consignee-phone-commitment $C1 --consignee-address-commitment $C1
  --origin-country CN --destination-country DE"
ITEM="hs=851822,name=Bluetooth speaker,qty=2,unit=H87,price=150.00"
# shellcheck disable=SC2086
{
    run no_item 2 "$HANSA" $ORDER --order-no SO-1 --currency CNY && golden no_item err
    run bad_price 2 "$HANSA" $ORDER --order-no SO-1 --currency CNY \
        --item "hs=851822,name=x,qty=1,unit=H87,price=1.234" &&
        golden bad_price err
    run bad_item 2 "$HANSA" $ORDER --order-no SO-1 --currency CNY \
        --item "hs=851822,name=x,unit=H87,price=1" &&
        golden bad_item err
    run inexact_item 2 "$HANSA" $ORDER --order-no SO-1 --currency CNY \
        --item "hs=851822,name=x,qty=0.5,unit=H87,price=0.01" &&
        golden inexact_item err
    run bad_mode 2 "$HANSA" $ORDER --order-no SO-1 --currency CNY --item "$ITEM" \
        --trade-mode BARTER && golden bad_mode err
    run big_discount 2 "$HANSA" $ORDER --order-no SO-1 --currency CNY --item "$ITEM" \
        --discount 301 && golden big_discount err
    run bad_currency 2 "$HANSA" $ORDER --order-no SO-1 --item "$ITEM" --currency yuan &&
        golden bad_currency err
    run no_identity_key 2 "$HANSA" order create --order-no SO-1 --buyer-id DE-BUYER-0042 \
        --currency CNY --origin-country CN --destination-country DE --item "$ITEM" &&
        golden no_identity_key err
    run bad_order_no 2 "$HANSA" $ORDER --currency CNY --item "$ITEM" --order-no "SO/1" &&
        golden bad_order_no err
    # A complete document gets as far as the node, which is not there.
    run refused_connection 3 "$HANSA" $ORDER --order-no SO-1 --currency CNY --item "$ITEM" &&
        golden refused_connection err
}
run bad_time 2 "$HANSA" credit open --line-id L1 --borrower MER-SZ-0001 --currency CNY \
    --limit 1000 --expiry "next year" && golden bad_time err
run bad_event 2 "$HANSA" waybill event --logistics-no WB-1 --type TELEPORTED --location CNSZX &&
    golden bad_event err
echo '{"order_no": "SO-1", "colour": "red"}' >"$WORK/bad.json"
run file_unknown_field 2 "$HANSA" order create --file "$WORK/bad.json" &&
    golden file_unknown_field err
run file_and_flags 2 "$HANSA" order create --file "$WORK/bad.json" --currency CNY &&
    golden file_and_flags err
run file_missing 1 "$HANSA" order create --file "$WORK/none.json" && golden file_missing err
run missing_key_file 1 "$HANSA" --key "$WORK/none.key" order get --order-no SO-1 &&
    golden missing_key_file err
run status_refused 3 "$HANSA" status && golden status_refused err

rm -rf "$WORK/out/"*.norm
[ "$FAILURES" -eq 0 ] && rm -rf "$WORK"
finish
