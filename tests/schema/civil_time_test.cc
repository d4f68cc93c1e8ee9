// Civil dates (outpost/civil_time.h): PostgreSQL's calendar arithmetic, both epochs.
#include "outpost/civil_time.h"

#include <catch2/catch.hpp>

namespace outpost {
namespace {

TEST_CASE("days and microseconds become PostgreSQL's civil dates", "[schema][time]") {
  CivilTime c;
  REQUIRE(CivilFromDays(0, &c));
  CHECK((c.year == 2000 && c.month == 1 && c.day == 1));
  REQUIRE(CivilFromDays(-1, &c));
  CHECK((c.year == 1999 && c.month == 12 && c.day == 31));
  REQUIRE(CivilFromDays(8825, &c));  // 2024-02-29, a leap day
  CHECK((c.year == 2024 && c.month == 2 && c.day == 29));
  REQUIRE(CivilFromDays(-730120, &c));  // 0001-01-01 minus one day: 1 BC, year 0
  CHECK((c.year == 0 && c.month == 12 && c.day == 31));
  REQUIRE(CivilFromMicros(-1, &c));  // one microsecond before 2000: the day is floored
  CHECK((c.year == 1999 && c.day == 31 && c.second_of_day == 86399 && c.micros == 999999));
  CHECK_FALSE(CivilFromDays(-3000000, &c));  // before Julian day 0
}

TEST_CASE("the client's times print as ISO 8601 UTC with milliseconds", "[schema][time]") {
  CHECK(IsoUtcMillis(0) == "1970-01-01T00:00:00.000Z");
  CHECK(IsoUtcMillis(1700000000123456) == "2023-11-14T22:13:20.123Z");
  CHECK(IsoUtcMillis(951782400000000) == "2000-02-29T00:00:00.000Z");
  CHECK(IsoUtcMillis(-1000) == "1969-12-31T23:59:59.999Z");
}

}  // namespace
}  // namespace outpost
