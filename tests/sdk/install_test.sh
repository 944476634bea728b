#!/bin/sh
# test_sdk_install: install the SDK (component "sdk") into a temporary
# prefix, then compile and link a small client with nothing but
# `pkg-config --cflags --libs hansa` - once against libhansa.so, once
# against libhansa.a - and run both.
#   install_test.sh <build dir> <C compiler> [extra compiler flags]
set -eu
build=$1
cc=$2
extra=${3:-}
tmp=$(mktemp -d /tmp/hansa-sdk-install-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
prefix="$tmp/prefix"

"${CMAKE:-cmake}" --install "$build" --component sdk --prefix "$prefix" > "$tmp/install.log"
for f in include/hansa/hansa.h include/hansa/hansa.pb-c.h lib/libhansa.a lib/pkgconfig/hansa.pc; do
  test -f "$prefix/$f" || { echo "not installed: $f"; cat "$tmp/install.log"; exit 1; }
done

export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
pkg-config --exists --print-errors hansa
version=$(pkg-config --modversion hansa)

cat > "$tmp/client.c" <<'PROGRAM'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hansa/hansa.h>

int main(void)
{
    Hansa__CreateOrder o = HANSA__CREATE_ORDER__INIT;
    o.order_no = "ORD-1";
    char *j = hansa_json_from_message(&o, false);
    if (j == NULL || strstr(j, "\"order_no\":\"ORD-1\"") == NULL)
        return 1;
    free(j);
    if (strcmp(hansa_code_name(HANSA_CODE_CONNECT), "CONNECT") != 0)
        return 2;
    hansa_client *c = NULL;
    hansa_error err;
    hansa_client_options opt = {.url = "tcp://127.0.0.1:1"};
    if (hansa_client_open(&opt, &c, &err) != HANSA_CODE_OK)
        return 3;
    hansa_client_close(c);
    puts(HANSA_SDK_VERSION);
    return 0;
}
PROGRAM

# Shared: -lhansa finds libhansa.so.
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c11 -Wall -Wextra -Werror -o "$tmp/client" "$tmp/client.c" \
  $(pkg-config --cflags --libs hansa)
out=$(LD_LIBRARY_PATH="$prefix/lib" "$tmp/client")
test "$out" = "$version" || { echo "shared client printed '$out', hansa.pc says $version"; exit 1; }

# Static: the archive plus the private libraries hansa.pc names.
# shellcheck disable=SC2046,SC2086
"$cc" $extra -std=c11 -Wall -Wextra -Werror -o "$tmp/client-static" "$tmp/client.c" \
  $(pkg-config --cflags hansa) "$prefix/lib/libhansa.a" \
  $(pkg-config --static --libs hansa | sed 's/-lhansa\b//')
if ldd "$tmp/client-static" | grep -q libhansa; then
  echo "the static client links libhansa.so"; exit 1
fi
out=$("$tmp/client-static")
test "$out" = "$version" || { echo "static client printed '$out'"; exit 1; }
echo "hansa $version: installed, compiled and linked with pkg-config (shared and static)"
