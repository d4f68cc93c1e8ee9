// Civil dates and times (outpost/civil_time.h).
#include "outpost/civil_time.h"

#include <cstdio>
#include <limits>

namespace outpost {
namespace {

// PostgreSQL's j2date (src/backend/utils/adt/datetime.c): Julian day -> proleptic Gregorian date
// with astronomical year numbering (year 0 is 1 BC).
void JulianToDate(int jd, int* year, int* month, int* day) {
  unsigned int julian = static_cast<unsigned int>(jd) + 32044;
  unsigned int quad = julian / 146097;
  const unsigned int extra = (julian - quad * 146097) * 4 + 3;
  julian += 60 + quad * 3 + extra / 146097;
  quad = julian / 1461;
  julian -= quad * 1461;
  int y = static_cast<int>(julian * 4 / 1461);
  julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
  y += static_cast<int>(quad * 4);
  *year = y - 4800;
  quad = julian * 2141 / 65536;
  *day = static_cast<int>(julian - 7834 * quad / 256);
  *month = static_cast<int>((quad + 10) % 12 + 1);
}

}  // namespace

bool CivilFromDays(int64_t days, CivilTime* c) {
  const int64_t jd = days + kPostgresEpochJulianDay;
  if (jd < 0 || jd > std::numeric_limits<int>::max()) return false;
  JulianToDate(static_cast<int>(jd), &c->year, &c->month, &c->day);
  return true;
}

bool CivilFromMicros(int64_t t, CivilTime* c) {
  int64_t days = t / kMicrosPerDay;
  t -= days * kMicrosPerDay;
  if (t < 0) {
    t += kMicrosPerDay;
    days -= 1;
  }
  c->second_of_day = t / 1000000;
  c->micros = t % 1000000;
  return CivilFromDays(days, c);
}

int64_t DaysFromCivil(int year, int month, int day) {
  // PostgreSQL's date2j.
  int64_t y = year, m = month;
  if (m > 2) {
    m += 1;
    y += 4800;
  } else {
    m += 13;
    y += 4799;
  }
  const int64_t century = y / 100;
  int64_t julian = y * 365 - 32167;
  julian += y / 4 - century + century / 4;
  julian += 7834 * m / 256 + day;
  return julian - kPostgresEpochJulianDay;
}

std::string IsoUtcMillis(int64_t unix_micros) {
  CivilTime c;
  const int64_t t = unix_micros - kUnixToPostgresEpochDays * kMicrosPerDay;
  if (!CivilFromMicros(t, &c) || c.year < 1 || c.year > 9999) return "";
  char buf[40];
  const int64_t s = c.second_of_day;
  snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", c.year, c.month, c.day,
           static_cast<int>(s / 3600), static_cast<int>(s / 60 % 60), static_cast<int>(s % 60),
           static_cast<int>(c.micros / 1000));
  return buf;
}

}  // namespace outpost
