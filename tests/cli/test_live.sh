#!/bin/sh
# A whole trade through the hansa program against real hansad processes:
# a one-validator network (hansad testnet + start on free loopback ports)
# where a Shenzhen merchant sells to Hamburg, the payment institution and
# the carrier record their legs, BANK-A finances the order, BANK-B is asked
# to finance it again and the ledger refuses (exit 5), and a regulator
# lists and watches the alerts with a durable cursor. Along the way: golden
# tables and --json of every get, each exit status (0, 3, 4, 5, 6), the
# credit-line and financing lifecycles, paging, blocks and receipts. A
# second network of two validators with only one running shows a write
# that is admitted but never commits (exit 3, with its progress lines).
# Every process it starts is stopped at the end.
#
# usage: test_live.sh BIN_DIR GOLDEN_DIR
# Functions below are called through trap, run and wait_for.
# shellcheck disable=SC2317
set -u
BIN=$1
GOLD=$2 # read by lib.sh
export GOLD
HERE=$(dirname "$0")
# shellcheck source=tests/cli/lib.sh
. "$HERE/lib.sh"
WORK=$(mktemp -d /tmp/hansa-cli-live-XXXXXX)
HANSA=$BIN/hansa
HANSAD=$BIN/hansad
NET=$WORK/net
NET2=$WORK/net2
P=$NET/parties
PIDS=""

cleanup() {
    for p in $PIDS; do
        kill -KILL "$p" 2>/dev/null
    done
    for p in $PIDS; do
        wait "$p" 2>/dev/null
    done
}
trap cleanup EXIT

die() {
    echo "FATAL: $*" >&2
    for log in "$WORK"/node*.log; do
        [ -f "$log" ] && {
            echo "---- last lines of $log ----" >&2
            tail -n 30 "$log" >&2
        }
    done
    exit 1
}

# Poll a command until it succeeds (20 ms apart, like proc_wait_until),
# at most $1 seconds.
wait_for() {
    limit=$1
    shift
    end=$(($(date +%s) + limit))
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$end" ] && return 1
        sleep 0.02
    done
    return 0
}

set_config() { # file key value
    sed -i "s|^$2 = .*|$2 = $3|" "$1"
}

# In a sanitizer build this test checks the CLI for leaks, not hansad: a
# leak report at a node's exit (node/cshell.c, reported to its owners) would
# turn its clean stop into status 1. The hansa processes keep the default.
start_node() { # start_node HOME LOG
    ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
        "$HANSAD" start --home "$1" >"$2" 2>&1 &
}

BASE=$("$BIN/cli_free_port" 30) || die "no free ports"
export HANSA_NODE=tcp://127.0.0.1:$((BASE + 2))
unset HANSA_KEY HANSA_CA HANSA_SERVER_NAME HANSA_IDENTITY_KEY HANSA_EVENTS

# ---- the network ----
"$HANSAD" testnet --validators 1 --dir "$NET" --base-port "$BASE" --chain-id hansa-cli-live \
    >"$WORK/testnet.log" 2>&1 || die "hansad testnet failed: $(cat "$WORK/testnet.log")"
CONF=$NET/node0/config.ini
set_config "$CONF" heartbeat_ms 200
set_config "$CONF" propose_timeout_ms 500
set_config "$CONF" vote_timeout_ms 300
start_node "$NET/node0" "$WORK/node0.log"
NODE0=$!
PIDS="$PIDS $NODE0"
wait_for 60 "$HANSA" status || die "node0 did not answer within 60 s"

# as PARTY ARGS...: the hansa program with that party's key.
as() {
    party=$1
    shift
    HANSA_KEY=$P/$party.key "$HANSA" "$@"
}

TLS="--node tls+tcp://127.0.0.1:$((BASE + 1)) --ca $NET/ca/ca.crt"
# shellcheck disable=SC2086
{
    run status_tls 0 "$HANSA" $TLS --server-name node0 status && contains status_tls hansa-cli-live
    run status_tls_wrong_name 3 "$HANSA" $TLS --server-name node7 status &&
        contains status_tls_wrong_name CONNECT
}
run status_json 0 "$HANSA" --json status && contains status_json '"chain_id":"hansa-cli-live"'

# ---- the documents of a cross-border sale ----
SPEAKER="hs=851822,name=Bluetooth speaker,qty=2,unit=H87,price=150.00"
LAMP="hs=940540,name=Solar lamp,qty=1.5,unit=KGM,price=20.00"

order() { # order NAME CODE ORDER_NO [extra options]
    n=$1
    code=$2
    no=$3
    shift 3
    run "$n" "$code" as MER-SZ-0001 order create --order-no "$no" --buyer-id DE-BUYER-0042 \
        --consignee-name "Anna Schmidt" --consignee-phone "+49 40 1234 5678" \
        --consignee-address "Jungfernstieg 1, 20354 Hamburg" --currency CNY \
        --item "$SPEAKER" --item "$LAMP" --freight 10.00 --origin-country CN \
        --destination-country DE "$@"
}

payment() { # payment NAME ORDER_NO PAYER
    run "$1" 0 as PAY-0001 payment record --pay-id "PAY-$2" --merchant MER-SZ-0001 \
        --order-no "$2" --payer-id "$3" --amount 340.00 --currency CNY
}

waybill() { # waybill NAME ORDER_NO
    run "$1" 0 as LOG-0001 waybill create --logistics-no "WB-$2" --merchant MER-SZ-0001 \
        --order-no "$2" --currency CNY --freight 10.00 --gross-weight-grams 2600 \
        --package-count 2 --goods-description "Speakers and solar lamps" --hs-code 851822 \
        --hs-code 940540 --consignee-name "Anna Schmidt" --consignee-phone "+49 40 1234 5678" \
        --consignee-address "Jungfernstieg 1, 20354 Hamburg" --origin-locode CNSZX \
        --destination-locode DEHAM
}

matched() { # matched ORDER_NO: order, payment and waybill that agree
    order "order_$1" 0 "$1"
    payment "payment_$1" "$1" DE-BUYER-0042
    waybill "waybill_$1" "$1"
}

order order_create 0 SO-1001 && golden order_create
payment payment_record SO-1001 DE-BUYER-0042 && golden payment_record
waybill waybill_create SO-1001
run event_departed 0 as LOG-0001 waybill event --logistics-no WB-SO-1001 --type DEPARTED \
    --location CNSZX --time -2h
run event_arrived 0 as LOG-0001 waybill event --logistics-no WB-SO-1001 --type arrived \
    --location-locode DEHAM
run event_backwards 5 as LOG-0001 waybill event --logistics-no WB-SO-1001 --type DELIVERED \
    --location DEHAM --time -3h && contains event_backwards IMPLAUSIBLE_EVENT

for fmt in "" --json; do
    s=${fmt:+_json}
    run "order_get$s" 0 as MER-SZ-0001 $fmt order get --order-no SO-1001 && golden "order_get$s"
    run "payment_get$s" 0 as CUS-0001 $fmt payment get --institution PAY-0001 \
        --pay-id PAY-SO-1001 && golden "payment_get$s"
    run "waybill_get$s" 0 as MER-SZ-0001 $fmt waybill get --carrier LOG-0001 \
        --logistics-no WB-SO-1001 && golden "waybill_get$s"
done

# ---- credit and financing ----
run line_a 0 as BANK-A credit open --line-id LINE-A1 --borrower MER-SZ-0001 --currency CNY \
    --limit 100000.00 --advance-rate-bps 8000 --expiry +365d
run line_b 0 as BANK-B credit open --line-id LINE-B1 --borrower MER-SZ-0001 --currency CNY \
    --limit 50000 --expiry 2099-12-31
run request 0 as MER-SZ-0001 finance request --financing-id FIN-1001 --bank BANK-A \
    --line-id LINE-A1 --order SO-1001 --amount 272.00 --currency CNY --maturity +90d
run approve 0 as BANK-A finance approve --merchant MER-SZ-0001 --financing-id FIN-1001
run disburse 0 as BANK-A finance disburse --merchant MER-SZ-0001 --financing-id FIN-1001

# The same order, financed again at another bank: refused by the ledger.
run double_financing 5 as MER-SZ-0001 finance request --financing-id FIN-1002 --bank BANK-B \
    --line-id LINE-B1 --order SO-1001 --amount 200.00 --currency CNY --maturity +90d &&
    golden double_financing && contains double_financing "ASSET_ALREADY_PLEDGED"
TX=$(sed -n 's/^tx id *//p' "$WORK/out/double_financing.out")
HEIGHT=$(sed -n 's/^height *//p' "$WORK/out/double_financing.out")
run tx_get 0 as MER-SZ-0001 tx get "$TX" && golden tx_get
run tx_get_json 0 as MER-SZ-0001 --json tx get "$TX" && golden tx_get_json
run block_regulator 0 as CUS-0001 block get "$HEIGHT" &&
    contains block_regulator ASSET_ALREADY_PLEDGED
run block_merchant_json 0 as MER-SZ-0001 --json block get "$HEIGHT" &&
    contains block_merchant_json '"txs_withheld":true'
run block_merchant 0 as MER-SZ-0001 block get "$HEIGHT" &&
    contains block_merchant "withheld"

for fmt in "" --json; do
    s=${fmt:+_json}
    run "finance_get$s" 0 as BANK-A $fmt finance get --merchant MER-SZ-0001 \
        --financing-id FIN-1001 && golden "finance_get$s"
    run "credit_get$s" 0 as BANK-A $fmt credit get --line-id LINE-A1 && golden "credit_get$s"
    run "exposure$s" 0 as BANK-B $fmt exposure --borrower MER-SZ-0001 && golden "exposure$s"
    run "history_financing$s" 0 as MER-SZ-0001 $fmt history financing MER-SZ-0001 FIN-1001 &&
        golden "history_financing$s"
done
run history_order 0 as CUS-0001 history order MER-SZ-0001 SO-1001 && golden history_order
run history_waybill 0 as CUS-0001 history waybill LOG-0001 WB-SO-1001 &&
    golden history_waybill

# ---- each class of failure ----
# A bank may not create orders: refused at admission, never in a block.
C1=0000000000000000000000000000000000000000000000000000000000000001
for fmt in "" --json; do
    s=${fmt:+_json}
    run "refused$s" 4 as BANK-A $fmt order create --order-no SO-X --buyer-commitment $C1 \
        --consignee-name-commitment $C1 --consignee-phone-commitment $C1 \
        --consignee-address-commitment $C1 --currency CNY --item "$SPEAKER" \
        --origin-country CN --destination-country DE && golden "refused$s"
done
run not_found 6 as MER-SZ-0001 order get --order-no SO-NONE && golden not_found err
run tx_not_found 6 as MER-SZ-0001 tx get \
    0000000000000000000000000000000000000000000000000000000000000000 &&
    golden tx_not_found err
# A three-document mismatch (the payer is not the buyer), and a bank that
# may not read that order.
order order_mismatch 0 SO-2001
payment payment_mismatch SO-2001 SOMEONE-ELSE
waybill waybill_mismatch SO-2001
run denied 6 as BANK-B order get --merchant MER-SZ-0001 --order-no SO-2001 && golden denied err
run not_matched 5 as MER-SZ-0001 finance request --financing-id FIN-2001 --bank BANK-A \
    --line-id LINE-A1 --order SO-2001 --amount 100 --currency CNY --maturity +30d &&
    contains not_matched NOT_MATCHED

# ---- repayment, rejection, default ----
run repay_part 0 as BANK-A finance repay --merchant MER-SZ-0001 --financing-id FIN-1001 \
    --amount 72.00
run overpay_json 5 as BANK-A --json finance repay --merchant MER-SZ-0001 \
    --financing-id FIN-1001 --amount 300 && golden overpay_json
run repay_rest 0 as BANK-A finance repay --merchant MER-SZ-0001 --financing-id FIN-1001 \
    --amount 200 --currency CNY
run settled 0 as MER-SZ-0001 finance get --financing-id FIN-1001 && contains settled SETTLED

matched SO-3001
run request_3001 0 as MER-SZ-0001 finance request --financing-id FIN-3001 --bank BANK-A \
    --line-id LINE-A1 --order SO-3001 --amount 100 --currency CNY --maturity +30d
run reject 0 as BANK-A finance reject --merchant MER-SZ-0001 --financing-id FIN-3001
run rejected 0 as BANK-A finance get --merchant MER-SZ-0001 --financing-id FIN-3001 &&
    contains rejected REJECTED

matched SO-4001
run request_4001 0 as MER-SZ-0001 finance request --financing-id FIN-4001 --bank BANK-A \
    --line-id LINE-A1 --order SO-4001 --amount 100 --currency CNY --maturity -1m
run approve_4001 0 as BANK-A finance approve --merchant MER-SZ-0001 --financing-id FIN-4001
run disburse_4001 0 as BANK-A finance disburse --merchant MER-SZ-0001 --financing-id FIN-4001
overdue() {
    as BANK-A --json finance get --merchant MER-SZ-0001 --financing-id FIN-4001 |
        grep -q '"status":"OVERDUE"'
}
wait_for 30 overdue || fail "FIN-4001 did not become OVERDUE"
run default 0 as BANK-A finance default --merchant MER-SZ-0001 --financing-id FIN-4001
run defaulted 0 as BANK-A finance get --merchant MER-SZ-0001 --financing-id FIN-4001 &&
    contains defaulted DEFAULTED

# ---- a line's lifecycle ----
run line_limit 0 as BANK-B credit limit --line-id LINE-B1 --limit 60000.00
run line_suspend 0 as BANK-B credit suspend --line-id LINE-B1
run on_suspended 5 as MER-SZ-0001 finance request --financing-id FIN-3002 --bank BANK-B \
    --line-id LINE-B1 --order SO-3001 --amount 100 --currency CNY --maturity +30d &&
    contains on_suspended LINE_INACTIVE
run line_resume 0 as BANK-B credit resume --line-id LINE-B1
run line_close 0 as BANK-B credit close --line-id LINE-B1
run close_again 5 as BANK-B credit close --line-id LINE-B1 &&
    contains close_again INVALID_TRANSITION
run line_closed 0 as BANK-B credit get --line-id LINE-B1 && contains line_closed CLOSED &&
    contains line_closed "60000.00 CNY"

# ---- orders: cancel, a document from a file, paging ----
order order_5001 0 SO-5001
run cancel 0 as MER-SZ-0001 order cancel --order-no SO-5001
run cancel_pledged 5 as MER-SZ-0001 order cancel --order-no SO-4001 &&
    contains cancel_pledged INVALID_TRANSITION
Z=0000000000000000000000000000000000000000000000000000000000000000
cat >"$WORK/order.json" <<EOF
{"order_no": "SO-6001", "merchant": "MER-SZ-0001", "trade_mode": "EXPORT",
 "buyer_commitment": "$Z", "consignee_name_commitment": "$Z",
 "consignee_phone_commitment": "$Z", "consignee_address_commitment": "$Z",
 "items": [{"line_no": 1, "item_name": "Solar lamp", "hs_code": "940540",
            "quantity_milli": 4000, "unit": "H87", "unit_price_minor": 2000,
            "line_total_minor": 8000}],
 "goods_value_minor": 8000, "actual_paid_minor": 8000, "currency": "CNY",
 "origin_country": "CN", "destination_country": "DE"}
EOF
run order_file 0 as MER-SZ-0001 order create --file "$WORK/order.json"
run order_list 0 as MER-SZ-0001 order list && golden order_list
run order_page1 0 as MER-SZ-0001 order list --limit 2 && contains order_page1 "… more"
TOKEN=$(sed -n 's/^… more, use --page-token //p' "$WORK/out/order_page1.out")
run order_page2 0 as MER-SZ-0001 order list --limit 2 --page-token "$TOKEN" &&
    contains order_page2 SO-3001

# ---- alerts ----
RULES="--rule DUP-PLEDGE --rule 3DOC-MISMATCH"
# The risk engine runs behind the chain on its own thread: wait until it
# has seen the mismatch of SO-2001 (the later of the two alerts).
engine_caught_up() {
    as CUS-0001 alerts list --rule 3DOC-MISMATCH | grep -q SO-2001
}
wait_for 60 engine_caught_up || fail "no 3DOC-MISMATCH alert for SO-2001 within 60 s"
# shellcheck disable=SC2086
{
    run alerts_list 0 as CUS-0001 alerts list $RULES && golden alerts_list
    run alerts_list_json 0 as CUS-0001 --json alerts list $RULES && golden alerts_list_json
    run alerts_page 0 as CUS-0001 alerts list $RULES --limit 1 &&
        contains alerts_page "… more, use --after"
    run alerts_merchant 0 as MER-SZ-0001 alerts list --min-severity critical &&
        contains alerts_merchant DUP-PLEDGE
    # The regulator follows the log with a cursor file: the two alerts so far,
    # then, started again, only the next one.
    run alerts_watch 0 as CUS-0001 alerts watch $RULES --cursor-file "$WORK/reg.cursor" \
        --count 2 && golden alerts_watch && golden alerts_watch err
    HANSA_KEY=$P/CUS-0001.key "$HANSA" alerts watch $RULES --cursor-file "$WORK/reg.cursor" \
        --count 1 --poll 1000 >"$WORK/out/alerts_resume.out" 2>"$WORK/out/alerts_resume.err" &
    WATCH=$!
    PIDS="$PIDS $WATCH"
}
order order_7001 0 SO-7001
payment payment_7001 SO-7001 SOMEONE-ELSE
waybill waybill_7001 SO-7001
watch_ended() { ! kill -0 "$WATCH" 2>/dev/null; }
if wait_for 60 watch_ended; then
    wait "$WATCH"
    rc=$?
    CHECKS=$((CHECKS + 1))
    [ "$rc" -eq 0 ] || fail "alerts watch (resumed) exited $rc"
    golden alerts_resume
else
    fail "alerts watch (resumed) did not print the new alert within 60 s"
    show alerts_resume
fi
run alerts_watch_json 0 as CUS-0001 --json alerts watch --rule DUP-PLEDGE --after 0:0 \
    --count 1 && contains alerts_watch_json '"rule_id":"DUP-PLEDGE"'

# ---- a write that is admitted but never commits ----
"$HANSAD" testnet --validators 2 --dir "$NET2" --base-port $((BASE + 10)) \
    --chain-id hansa-cli-stalled >"$WORK/testnet2.log" 2>&1 || die "second testnet failed"
start_node "$NET2/node0" "$WORK/node2.log"
STALLED=$!
PIDS="$PIDS $STALLED"
N2="--node tcp://127.0.0.1:$((BASE + 12))"
# shellcheck disable=SC2086
{
    wait_for 60 "$HANSA" $N2 status || die "the second network's node0 did not answer"
    run not_committed 3 "$HANSA" $N2 --key "$NET2/parties/BANK-A.key" credit open \
        --line-id LINE-S --borrower MER-SZ-0001 --currency CNY --limit 1 --expiry +1d \
        --wait 6000 && contains not_committed "PENDING" &&
        contains not_committed "waiting for the commit (5 s)"
}

# ---- stop the nodes ----
for pid in $STALLED $NODE0; do
    kill -TERM "$pid"
    wait "$pid"
    rc=$?
    CHECKS=$((CHECKS + 1))
    [ "$rc" -eq 0 ] || fail "hansad (pid $pid) did not stop cleanly: status $rc"
done
PIDS=""

rm -rf "$WORK/out/"*.norm
if [ "$FAILURES" -eq 0 ]; then
    rm -rf "$WORK"
fi
finish
