/* Hex encoding of keys, ids and hashes (key files, logs, the CLI). */
#include <string.h>

#include <criterion/criterion.h>

#include "hansa/wire.h"

static void init(void)
{
    cr_assert_eq(wire_global_init(), HANSA_OK);
}

TestSuite(hex, .init = init);

Test(hex, encode_is_lower_case_and_nul_terminated)
{
    static const uint8_t bin[] = {0x00, 0x01, 0xab, 0xcd, 0xef, 0xff};
    char out[2 * sizeof bin + 1];
    memset(out, 'X', sizeof out);
    wire_hex_encode(bin, sizeof bin, out);
    cr_assert_str_eq(out, "0001abcdefff");
}

Test(hex, every_byte_value_round_trips)
{
    uint8_t bin[256], back[256];
    for (unsigned i = 0; i < 256; i++)
        bin[i] = (uint8_t)i;
    char text[2 * sizeof bin + 1];
    wire_hex_encode(bin, sizeof bin, text);
    cr_assert_eq(strlen(text), 2 * sizeof bin);
    memset(back, 0, sizeof back);
    cr_assert_eq(wire_hex_decode(text, back, sizeof back), HANSA_OK);
    cr_assert_arr_eq(back, bin, sizeof bin);
}

Test(hex, decode_accepts_upper_case_digits)
{
    uint8_t out[3];
    cr_assert_eq(wire_hex_decode("ABcDeF", out, sizeof out), HANSA_OK);
    static const uint8_t want[] = {0xab, 0xcd, 0xef};
    cr_assert_arr_eq(out, want, sizeof want);
}

Test(hex, empty_string_is_zero_bytes)
{
    uint8_t out[1] = {0x5a};
    cr_assert_eq(wire_hex_decode("", out, 0), HANSA_OK);
    cr_assert_eq(out[0], 0x5a);
}

Test(hex, odd_number_of_digits_is_einval)
{
    uint8_t out[4];
    cr_assert_eq(wire_hex_decode("abc", out, 1), HANSA_EINVAL);
    cr_assert_eq(wire_hex_decode("abc", out, 2), HANSA_EINVAL);
    cr_assert_eq(wire_hex_decode("0", out, 1), HANSA_EINVAL);
}

Test(hex, non_hex_characters_are_einval)
{
    uint8_t out[2];
    const char *bad[] = {"zz00",
                         "0g00",
                         "00 0",
                         " 000",
                         "000 ",
                         "ab:c",
                         "-1ff",
                         "0x1f",
                         "\xc3\xa4"
                         "00",
                         "abc\n"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_eq(wire_hex_decode(bad[i], out, sizeof out), HANSA_EINVAL, "'%s' accepted",
                     bad[i]);
    cr_assert_eq(wire_hex_decode("beef", out, sizeof out), HANSA_OK);
}

Test(hex, wrong_length_is_einval)
{
    uint8_t out[4];
    cr_assert_eq(wire_hex_decode("0102", out, 4), HANSA_EINVAL, "too short");
    cr_assert_eq(wire_hex_decode("0102030405", out, 4), HANSA_EINVAL, "too long");
    cr_assert_eq(wire_hex_decode("01020304", out, 4), HANSA_OK);
}

Test(hex, null_is_einval)
{
    uint8_t out[1];
    cr_assert_eq(wire_hex_decode(NULL, out, 1), HANSA_EINVAL);
}
