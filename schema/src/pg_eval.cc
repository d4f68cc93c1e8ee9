// Time keys and array functions of outpost/pg_eval.h (the regular expressions are in
// pg_regex.cc).
#include "outpost/pg_eval.h"

#include <cmath>
#include <cstdlib>
#include <limits>
#include <nlohmann/json.hpp>
#include <vector>

#include "outpost/civil_time.h"

namespace outpost {

namespace {

using nlohmann::json;

// Reads 1..max_digits digits at s[*i] into *out.
bool Digits(std::string_view s, size_t* i, size_t max_digits, int64_t* out) {
  size_t n = 0;
  int64_t v = 0;
  while (*i < s.size() && n < max_digits && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10 + (s[*i] - '0');
    ++*i, ++n;
  }
  *out = v;
  return n > 0;
}

int DaysInMonth(int64_t year, int64_t month) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// "Z", "+HH", "+HH:MM", "+HHMM", "+HH:MM:SS" -> seconds east of UTC.
bool ZoneOffset(std::string_view s, size_t* i, int64_t* seconds) {
  if (s[*i] == 'Z' || s[*i] == 'z') {
    ++*i;
    *seconds = 0;
    return true;
  }
  if (s[*i] != '+' && s[*i] != '-') return false;
  const int64_t sign = s[*i] == '-' ? -1 : 1;
  ++*i;
  int64_t h = 0, m = 0, sec = 0;
  if (!Digits(s, i, 2, &h)) return false;
  if (*i < s.size() && s[*i] == ':') ++*i;
  if (*i < s.size() && !Digits(s, i, 2, &m)) return false;
  if (*i < s.size() && s[*i] == ':') ++*i;
  if (*i < s.size() && !Digits(s, i, 2, &sec)) return false;
  if (h > 15 || m > 59 || sec > 59) return false;
  *seconds = sign * (h * 3600 + m * 60 + sec);
  return true;
}

}  // namespace

std::optional<int64_t> PgTimeKey(std::string_view text, TypeKind kind) {
  if (text == "infinity" || text == "+infinity") return std::numeric_limits<int64_t>::max();
  if (text == "-infinity") return std::numeric_limits<int64_t>::min();
  std::string_view s = text;
  bool bc = false;
  if (s.size() > 3 && s.substr(s.size() - 3) == " BC") {
    bc = true;
    s.remove_suffix(3);
  }
  size_t i = 0;
  int64_t year = 0, month = 0, day = 0;
  if (!Digits(s, &i, 7, &year) || i >= s.size() || s[i++] != '-') return std::nullopt;
  if (!Digits(s, &i, 2, &month) || i >= s.size() || s[i++] != '-') return std::nullopt;
  if (!Digits(s, &i, 2, &day)) return std::nullopt;
  int64_t hour = 0, minute = 0, second = 0, micros = 0, offset = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == 't' || s[i] == ' ')) {
    ++i;
    if (!Digits(s, &i, 2, &hour) || i >= s.size() || s[i++] != ':') return std::nullopt;
    if (!Digits(s, &i, 2, &minute)) return std::nullopt;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!Digits(s, &i, 2, &second)) return std::nullopt;
      if (i < s.size() && s[i] == '.') {
        ++i;
        size_t begin = i;
        int64_t frac = 0;
        if (!Digits(s, &i, 6, &frac)) return std::nullopt;
        for (size_t n = i - begin; n < 6; ++n) frac *= 10;
        // Further digits round to the microsecond (PostgreSQL keeps microseconds).
        if (i < s.size() && s[i] >= '5' && s[i] <= '9') ++frac;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        micros = frac;
      }
    }
    if (i < s.size() && s[i] == ' ') ++i;
    if (i < s.size() && !ZoneOffset(s, &i, &offset)) return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  if (year == 0 || year > 294277 || month < 1 || month > 12 || minute > 59 || second > 60) {
    return std::nullopt;
  }
  if (hour > 24 || (hour == 24 && (minute != 0 || second != 0 || micros != 0))) {
    return std::nullopt;
  }
  const int64_t astronomical = bc ? 1 - year : year;
  if (astronomical < -4713 || day < 1 || day > DaysInMonth(astronomical, month)) {
    return std::nullopt;
  }
  const int64_t days =
      DaysFromCivil(static_cast<int>(astronomical), static_cast<int>(month), static_cast<int>(day));
  if (kind == TypeKind::kDate) return days * kMicrosPerDay;
  int64_t key = days * kMicrosPerDay + ((hour * 60 + minute) * 60 + second) * 1000000 + micros;
  if (kind == TypeKind::kTimestamptz) key -= offset * 1000000;
  return key;
}

namespace {

// A JSON number, boolean or numeric string as a number: exact integers where both are integers.
struct Number {
  bool integer = false;
  int64_t i = 0;
  double d = 0;
};

std::optional<Number> NumberOf(const json& e) {
  if (e.is_boolean()) return Number{true, e.get<bool>() ? 1 : 0, e.get<bool>() ? 1.0 : 0.0};
  if (e.is_number_integer()) {
    if (e.is_number_unsigned() &&
        e.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Number{false, 0, e.get<double>()};
    }
    return Number{true, e.get<int64_t>(), static_cast<double>(e.get<int64_t>())};
  }
  if (e.is_number_float()) return Number{false, 0, e.get<double>()};
  if (e.is_string()) {
    const std::string& t = e.get_ref<const std::string&>();
    char* end = nullptr;
    double d = std::strtod(t.c_str(), &end);
    if (t.empty() || end != t.c_str() + t.size()) return std::nullopt;
    return Number{false, 0, d};
  }
  return std::nullopt;
}

std::optional<Number> NumberOf(const PgScalar& v) {
  switch (v.kind) {
    case PgScalar::Kind::kInteger: return Number{true, v.integer, static_cast<double>(v.integer)};
    case PgScalar::Kind::kReal: return Number{false, 0, v.real};
    case PgScalar::Kind::kText: return NumberOf(json(std::string(v.text)));
    default: return std::nullopt;
  }
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

bool EqualNoCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    auto fold = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    if (fold(a[i]) != fold(b[i])) return false;
  }
  return true;
}

bool ElementEquals(const json& e, const PgScalar& v, PgElementCompare compare) {
  if (compare == PgElementCompare::kNumber) {
    auto a = NumberOf(e);
    auto b = NumberOf(v);
    if (!a || !b) return false;
    if (a->integer && b->integer) return a->i == b->i;
    return a->d == b->d;
  }
  if (!e.is_string() || v.kind != PgScalar::Kind::kText) return false;
  std::string_view a = e.get_ref<const std::string&>();
  switch (compare) {
    case PgElementCompare::kNoCase: return EqualNoCase(a, v.text);
    case PgElementCompare::kBpchar: return TrimSpaces(a) == TrimSpaces(v.text);
    case PgElementCompare::kDate:
    case PgElementCompare::kTimestamp:
    case PgElementCompare::kTimestamptz: {
      const TypeKind kind = compare == PgElementCompare::kDate        ? TypeKind::kDate
                            : compare == PgElementCompare::kTimestamp ? TypeKind::kTimestamp
                                                                      : TypeKind::kTimestamptz;
      auto ka = PgTimeKey(a, kind);
      auto kb = PgTimeKey(v.text, kind);
      if (ka && kb) return *ka == *kb;
      return a == v.text;
    }
    default: return a == v.text;
  }
}

Result<json> ParseArray(std::string_view array_json) {
  json j = json::parse(array_json, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_array()) {
    return Status(Code::kInvalidArgument, "not a local array (a JSON array)");
  }
  return j;
}

// Calls f(element) for every non-array element of `j`, all dimensions, without recursion.
template <typename F>
void ForEachElement(const json& j, F&& f) {
  std::vector<const json*> stack = {&j};
  while (!stack.empty()) {
    const json* at = stack.back();
    stack.pop_back();
    if (!at->is_array()) {
      if (f(*at)) return;
      continue;
    }
    for (auto it = at->rbegin(); it != at->rend(); ++it) stack.push_back(&*it);
  }
}

}  // namespace

Result<std::optional<bool>> PgArrayContains(std::string_view array_json, const PgScalar& value,
                                            PgElementCompare compare) {
  OUTPOST_ASSIGN_OR_RETURN(json j, ParseArray(array_json));
  bool found = false, saw_null = false, any = false;
  ForEachElement(j, [&](const json& e) {
    any = true;
    if (e.is_null() || value.kind == PgScalar::Kind::kNull) {
      saw_null = true;
      return false;
    }
    found = ElementEquals(e, value, compare);
    return found;
  });
  if (found) return std::optional<bool>(true);
  if (saw_null && any) return std::optional<bool>();
  return std::optional<bool>(false);
}

Result<int64_t> PgArrayCardinality(std::string_view array_json) {
  OUTPOST_ASSIGN_OR_RETURN(json j, ParseArray(array_json));
  int64_t n = 0;
  ForEachElement(j, [&](const json&) {
    ++n;
    return false;
  });
  return n;
}

}  // namespace outpost
