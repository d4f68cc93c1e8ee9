// Civil dates and times from day and microsecond counts, as PostgreSQL computes them: its j2date
// algorithm (proleptic Gregorian calendar, astronomical year numbering), so that a date Outpost
// prints is the one PostgreSQL prints. Used for PostgreSQL's binary dates and timestamps (counted
// from 2000-01-01) and for the times the client records (counted from the Unix epoch).
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>

namespace outpost {

inline constexpr int kPostgresEpochJulianDay = 2451545;  // 2000-01-01, day 0 of date/timestamp
inline constexpr int64_t kMicrosPerDay = 86400000000LL;
inline constexpr int64_t kUnixToPostgresEpochDays = 10957;  // 1970-01-01 -> 2000-01-01

// A finite date or timestamp in civil parts (PostgreSQL's timestamp2tm).
struct CivilTime {
  int year = 0, month = 0, day = 0;  // astronomical year numbering: 0 is 1 BC
  int64_t second_of_day = 0, micros = 0;
};

// Days since 2000-01-01 -> date. False outside the Julian days PostgreSQL's j2date takes.
bool CivilFromDays(int64_t days, CivilTime* c);
// Microseconds since 2000-01-01 00:00 -> date and time of day (the day floored).
bool CivilFromMicros(int64_t t, CivilTime* c);
// Date (astronomical year, month 1-12, day) -> days since 2000-01-01: PostgreSQL's date2j, the
// inverse of CivilFromDays. Meaningful for years from -4713 on.
int64_t DaysFromCivil(int year, int month, int day);

// "YYYY-MM-DDTHH:MM:SS.mmmZ" for microseconds since the Unix epoch (years 1..9999).
std::string IsoUtcMillis(int64_t unix_micros);

}  // namespace outpost
