// The run-time pieces of translated rules (outpost/pg_eval.h): regular expressions with
// PostgreSQL's answers (checked with psql against PostgreSQL 15, C.UTF-8), LIKE, time keys and
// array membership.
#include "outpost/pg_eval.h"

#include <catch2/catch.hpp>
#include <limits>

namespace outpost {

namespace {

bool Matches(std::string_view pattern, std::string_view text, bool icase = false) {
  auto re = PgRegex::Compile(pattern, icase);
  INFO(pattern << ": " << re.status().ToString());
  REQUIRE(re.ok());
  return re->Search(text);
}

}  // namespace

TEST_CASE("PgRegex answers as PostgreSQL's ~ does", "[schema][pg_eval]") {
  CHECK(Matches("^[a-z]+$", "abc"));
  CHECK_FALSE(Matches("^[a-z]+$", "abC"));
  CHECK(Matches("b", "abc"));         // anywhere in the text
  CHECK(Matches("a.b", "a\nb"));      // . matches a newline
  CHECK_FALSE(Matches("a$", "a\n"));  // $ only at the end
  CHECK(Matches("^.{3}$", "été"));    // characters, not bytes
  CHECK_FALSE(Matches("^.{4}$", "été"));
  CHECK(Matches("x{", "x{"));  // { without a digit is literal
  CHECK_FALSE(Matches("a{,2}", "a"));
  CHECK(Matches("a{,2}", "a{,2}"));
  CHECK(Matches("^(ab|cd){2,3}$", "abcdab"));
  CHECK_FALSE(Matches("^(ab|cd){2,3}$", "ab"));
  CHECK_FALSE(Matches("^(ab|cd){2,3}$", "abcdabcd"));
  CHECK(Matches("^a(?:b|c)*?d$", "abcbcd"));
  CHECK(Matches(R"(^\d{5}$)", "12345"));
  CHECK_FALSE(Matches(R"(^\d{5}$)", "١٢٣٤٥"));  // \d is 0-9
  CHECK(Matches(R"(\s)", "\u2003"));
  CHECK_FALSE(Matches(R"(\s)", "\u00a0"));
  CHECK(Matches(R"(^\S+@\S+\.[a-z]{2,}$)", "a.b@example.org"));
  CHECK_FALSE(Matches(R"(^\S+@\S+\.[a-z]{2,}$)", "a b@example.org"));
  CHECK(Matches(R"(^[^\s-]+$)", "ab"));
  CHECK_FALSE(Matches(R"(^[^\s-]+$)", "a-b"));
  CHECK(Matches(R"(^\+?[0-9]{7,15}$)", "+33123456789"));
  CHECK(Matches(R"([]a])", "]"));
  CHECK(Matches(R"(^[a\-z]$)", "-"));
  CHECK(Matches(R"(\u00e9)", "é"));
  CHECK(Matches("(?i)AB", "ab"));
  CHECK(Matches("[a-c]", "A", /*icase=*/true));
  CHECK(Matches("(?c)a", "a", /*icase=*/true));
  CHECK_FALSE(Matches("(?c)a", "A", /*icase=*/true));
  CHECK_FALSE(Matches("^[^a-z]$", "A", /*icase=*/true));
  CHECK(Matches("", "anything"));
  CHECK(Matches("a|", "b"));
  // No backtracking: a long text and a pathological pattern take linear time and no stack.
  std::string long_text(200000, 'a');
  CHECK_FALSE(Matches("^(a*)*b$", long_text));
  CHECK(Matches("^[a ]*$", long_text));
}

TEST_CASE("PgRegex refuses what would not mean the same locally", "[schema][pg_eval]") {
  auto refused = [](std::string_view pattern, std::string_view fragment, bool icase = false) {
    auto re = PgRegex::Compile(pattern, icase);
    INFO(pattern);
    REQUIRE_FALSE(re.ok());
    CHECK(re.status().code() == Code::kUnsupported);
    CHECK_THAT(re.status().message(), Catch::Contains(std::string(fragment)));
  };
  refused(R"(\w+)", "\\w");
  refused(R"(\W)", "\\W");
  refused("[[:alpha:]]", "[[:class:]]");
  refused("[[.a.]]", "collating");
  refused(R"((a)\1)", "back reference");
  refused(R"(a\b)", "backspace");
  refused(R"(\y)", "\\y");
  refused(R"(\A)", "\\A");
  refused("a(?=b)", "lookaround");
  refused("***:a", "director");
  refused("(?x)a", "(?x)");
  refused("é", "non-ASCII", /*icase=*/true);
  refused("*a", "without an operand");
  refused("a**", "after a quantifier");
  refused("(a", "unbalanced");
  refused("a)", "unbalanced");
  refused("[a", "unterminated");
  refused("[z-a]", "out of order");
  refused("a{3,2}", "m > n");
  refused("a{300}", "255");
  refused(R"(a\)", "trailing backslash");
  refused("^*", "anchor");
}

TEST_CASE("LIKE patterns become regular expressions", "[schema][pg_eval]") {
  CHECK(*LikeToPgRegex("a%") == "^a.*$");
  CHECK(*LikeToPgRegex("_b_") == "^.b.$");
  CHECK(*LikeToPgRegex(R"(100\%)") == "^100%$");
  CHECK(*LikeToPgRegex("a.b(c)*") == R"(^a\.b\(c\)\*$)");
  CHECK(LikeToPgRegex("ab\\").status().code() == Code::kUnsupported);
  auto re = PgRegex::Compile(*LikeToPgRegex("a%z"));
  REQUIRE(re.ok());
  CHECK(re->Search("a\nz"));
  CHECK_FALSE(re->Search("A z"));
}

TEST_CASE("time keys order dates and times as PostgreSQL does", "[schema][pg_eval]") {
  auto key = [](std::string_view text, TypeKind kind) {
    auto k = PgTimeKey(text, kind);
    INFO(text);
    REQUIRE(k.has_value());
    return *k;
  };
  const auto kDate = TypeKind::kDate, kTs = TypeKind::kTimestamp, kTz = TypeKind::kTimestamptz;
  CHECK(key("2000-01-01", kDate) == 0);
  CHECK(key("2000-01-02T00:00:00", kTs) == 86400000000LL);
  // Text order is wrong here ('Z' sorts after '.'); the keys are right.
  CHECK(key("2024-05-01T10:00:00Z", kTz) < key("2024-05-01T10:00:00.5Z", kTz));
  CHECK(key("2024-05-01 12:00:00+02", kTz) == key("2024-05-01T10:00:00Z", kTz));
  CHECK(key("2024-05-01 12:00:00+02:30", kTz) == key("2024-05-01T09:30:00Z", kTz));
  CHECK(key("2024-05-01 12:00:00+02", kTs) == key("2024-05-01T12:00:00", kTs));  // ignored
  CHECK(key("2024-05-01T23:59:59.999999", kDate) == key("2024-05-01", kDate));
  CHECK(key("2024-05-01", kDate) == key("2024-05-01T00:00:00", kTs));
  CHECK(key("2020-01-01 24:00:00", kTs) == key("2020-01-02T00:00:00", kTs));
  CHECK(key("0044-03-15 BC", kDate) < key("0001-01-01", kDate));
  CHECK(key("0001-12-31 BC", kDate) + 86400000000LL == key("0001-01-01", kDate));
  CHECK(key("10000-01-01", kDate) > key("9999-12-31", kDate));
  CHECK(key("2024-02-29", kDate) + 86400000000LL == key("2024-03-01", kDate));
  CHECK(key("infinity", kTs) == std::numeric_limits<int64_t>::max());
  CHECK(key("-infinity", kDate) == std::numeric_limits<int64_t>::min());
  CHECK(key("2024-05-01T10:00:00.1234567", kTs) == key("2024-05-01T10:00:00.123457", kTs));
  for (const char* bad : {"", "tomorrow", "2023-02-29", "2024-13-01", "2024-01-01T25:00",
                          "2024-01-01 10:00:00 junk", "0000-01-01"}) {
    INFO(bad);
    CHECK_FALSE(PgTimeKey(bad, kTs).has_value());
  }
}

TEST_CASE("array membership is three-valued, over every dimension", "[schema][pg_eval]") {
  auto text = [](std::string_view v) {
    PgScalar s;
    s.kind = PgScalar::Kind::kText;
    s.text = v;
    return s;
  };
  auto integer = [](int64_t v) {
    PgScalar s;
    s.kind = PgScalar::Kind::kInteger;
    s.integer = v;
    return s;
  };
  using C = PgElementCompare;
  auto has = [](std::string_view array, const PgScalar& v, C c) {
    auto r = PgArrayContains(array, v, c);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(has(R"(["a","b"])", text("b"), C::kText) == std::optional<bool>(true));
  CHECK(has(R"(["a","b"])", text("c"), C::kText) == std::optional<bool>(false));
  CHECK(has(R"(["a",null])", text("c"), C::kText) == std::nullopt);
  CHECK(has(R"(["a",null])", text("a"), C::kText) == std::optional<bool>(true));
  CHECK(has("[]", PgScalar{}, C::kText) == std::optional<bool>(false));
  CHECK(has(R"(["a"])", PgScalar{}, C::kText) == std::nullopt);
  CHECK(has(R"(["ADMIN"])", text("admin"), C::kNoCase) == std::optional<bool>(true));
  CHECK(has(R"(["AB "])", text("AB"), C::kBpchar) == std::optional<bool>(true));
  CHECK(has("[[1,2],[3,4]]", integer(4), C::kNumber) == std::optional<bool>(true));
  CHECK(has(R"(["1.50"])", text("1.5"), C::kNumber) == std::optional<bool>(true));
  CHECK(has("[true]", integer(1), C::kNumber) == std::optional<bool>(true));
  CHECK(has(R"(["2024-05-01T12:00:00+02"])", text("2024-05-01T10:00:00Z"), C::kTimestamptz) ==
        std::optional<bool>(true));
  CHECK(PgArrayContains("{}", text("a"), C::kText).status().code() == Code::kInvalidArgument);
  CHECK(*PgArrayCardinality("[[1,2],[3,null]]") == 4);
  CHECK(*PgArrayCardinality("[]") == 0);
}

}  // namespace outpost
