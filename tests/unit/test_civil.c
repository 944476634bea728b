/*
 * hansa/civil.h: dates and day numbers agree with each other for every day
 * of ±2,000 years around 1970, with known dates (epoch, leap days, century
 * rules), and with the floor division of seconds before 1970.
 */
#include <criterion/criterion.h>

#include "hansa/civil.h"

Test(civil, known_dates_have_their_day_numbers)
{
    static const struct {
        int64_t y;
        unsigned m, d;
        int64_t days;
    } cases[] = {
        {1970, 1, 1, 0},      {1969, 12, 31, -1},      {2000, 2, 29, 11016},  {2000, 3, 1, 11017},
        {1900, 3, 1, -25508}, {2024, 2, 29, 19782},    {2026, 11, 26, 20783}, {1600, 1, 1, -135140},
        {2100, 3, 1, 47541},  {9999, 12, 31, 2932896},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cr_assert_eq(hansa_days_from_civil(cases[i].y, cases[i].m, cases[i].d), cases[i].days,
                     "%lld-%u-%u", (long long)cases[i].y, cases[i].m, cases[i].d);
        int64_t y;
        unsigned m, d;
        hansa_civil_from_days(cases[i].days, &y, &m, &d);
        cr_assert(y == cases[i].y && m == cases[i].m && d == cases[i].d, "day %lld: %lld-%u-%u",
                  (long long)cases[i].days, (long long)y, m, d);
    }
}

Test(civil, every_day_of_four_thousand_years_round_trips_in_order)
{
    int64_t py = 0;
    unsigned pm = 0, pd = 0;
    for (int64_t days = -730500; days <= 730500; days++) {
        int64_t y;
        unsigned m, d;
        hansa_civil_from_days(days, &y, &m, &d);
        cr_assert(m >= 1 && m <= 12 && d >= 1 && d <= 31);
        cr_assert_eq(hansa_days_from_civil(y, m, d), days);
        if (days > -730500) /* the next day: same month and d + 1, or the 1st of the next */
            cr_assert(
                (y == py && m == pm && d == pd + 1) ||
                    (d == 1 && ((y == py && m == pm + 1) || (y == py + 1 && m == 1 && pm == 12))),
                "%lld-%u-%u after %lld-%u-%u", (long long)y, m, d, (long long)py, pm, pd);
        py = y;
        pm = m;
        pd = d;
    }
}

Test(civil, seconds_before_1970_fall_on_the_day_before)
{
    cr_assert_eq(hansa_days_of_second(0), 0);
    cr_assert_eq(hansa_days_of_second(86399), 0);
    cr_assert_eq(hansa_days_of_second(86400), 1);
    cr_assert_eq(hansa_days_of_second(-1), -1);
    cr_assert_eq(hansa_days_of_second(-86400), -1);
    cr_assert_eq(hansa_days_of_second(-86401), -2);
}
