// PostgreSQL text <-> local value conversion (the server-independent half of the round trip).
#include "outpost/value.h"

#include <catch2/catch.hpp>

namespace outpost {

namespace {
ColumnType T(TypeKind k, const char* pg, TypeKind element = TypeKind::kText) {
  return ColumnType{k, pg, element, {}};
}
}  // namespace

TEST_CASE("scalars convert to their local form and back", "[schema][types]") {
  auto uuid = PgTextToValue(T(TypeKind::kUuid, "uuid"), "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11");
  REQUIRE(uuid.ok());
  CHECK(std::get<std::string>(*uuid) == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  CHECK_FALSE(PgTextToValue(T(TypeKind::kUuid, "uuid"), "not-a-uuid").ok());

  auto tz =
      PgTextToValue(T(TypeKind::kTimestamptz, "timestamptz"), "2024-01-01 10:00:00.123456+00");
  REQUIRE(tz.ok());
  CHECK(std::get<std::string>(*tz) == "2024-01-01T10:00:00.123456Z");
  auto ts = PgTextToValue(T(TypeKind::kTimestamp, "timestamp"), "0044-03-15 12:00:00 BC");
  REQUIRE(ts.ok());
  CHECK(std::get<std::string>(*ts) == "0044-03-15T12:00:00 BC");

  auto b = PgTextToValue(T(TypeKind::kBoolean, "boolean"), "t");
  CHECK(std::get<int64_t>(*b) == 1);
  CHECK(*ValueToPgText(T(TypeKind::kBoolean, "boolean"), Value(int64_t{0})) == "f");
  CHECK_FALSE(ValueToPgText(T(TypeKind::kBoolean, "boolean"), Value(int64_t{2})).ok());

  auto big = PgTextToValue(T(TypeKind::kInteger, "bigint"), "-9223372036854775808");
  CHECK(std::get<int64_t>(*big) == INT64_MIN);
  CHECK_FALSE(PgTextToValue(T(TypeKind::kInteger, "bigint"), "9223372036854775808").ok());

  auto num = PgTextToValue(T(TypeKind::kNumeric, "numeric"), "-0.000000000000000000001");
  CHECK(std::get<std::string>(*num) == "-0.000000000000000000001");
  CHECK_FALSE(ValueToPgText(T(TypeKind::kNumeric, "numeric"), Value(std::string("1,5"))).ok());

  auto d = PgTextToValue(T(TypeKind::kReal, "double precision"), "0.1");
  CHECK(*ValueToPgText(T(TypeKind::kReal, "double precision"), *d) == "0.1");
  auto inf = PgTextToValue(T(TypeKind::kReal, "double precision"), "-Infinity");
  CHECK(*ValueToPgText(T(TypeKind::kReal, "double precision"), *inf) == "-Infinity");
  auto nan = PgTextToValue(T(TypeKind::kReal, "double precision"), "NaN");
  REQUIRE_FALSE(nan.ok());
  CHECK(nan.status().code() == Code::kUnsupported);

  auto bytes = PgTextToValue(T(TypeKind::kBytea, "bytea"), "\\x00ff");
  REQUIRE(bytes.ok());
  CHECK(std::get<Blob>(*bytes).bytes == std::vector<uint8_t>{0x00, 0xff});
  CHECK(*ValueToPgText(T(TypeKind::kBytea, "bytea"), *bytes) == "\\x00ff");

  CHECK_FALSE(ValueToPgText(T(TypeKind::kInteger, "integer"), Value(std::string("12"))).ok());
  ColumnType mood{TypeKind::kEnum, "mood", TypeKind::kText, {"sad", "happy"}};
  CHECK_FALSE(PgTextToValue(mood, "angry").ok());
}

TEST_CASE("arrays become JSON arrays and back", "[schema][types]") {
  ColumnType text_array = T(TypeKind::kArray, "text[]", TypeKind::kText);
  auto j = PgArrayToJson(text_array, R"({"a,b","c\"d",NULL,"","NULL",plain})");
  REQUIRE(j.ok());
  CHECK(*j == R"(["a,b","c\"d",null,"","NULL","plain"])");
  auto back = JsonToPgArray(text_array, *j);
  REQUIRE(back.ok());
  CHECK(*back == R"({"a,b","c\"d",NULL,"","NULL","plain"})");

  ColumnType int2d = T(TypeKind::kArray, "integer[]", TypeKind::kInteger);
  CHECK(*PgArrayToJson(int2d, "{{1,2},{3,NULL}}") == "[[1,2],[3,null]]");
  CHECK(*JsonToPgArray(int2d, "[[1,2],[3,null]]") == R"({{"1","2"},{"3",NULL}})");
  ColumnType bools = T(TypeKind::kArray, "boolean[]", TypeKind::kBoolean);
  CHECK(*PgArrayToJson(bools, "{t,f,NULL}") == "[true,false,null]");
  CHECK(*JsonToPgArray(bools, "[true,false,null]") == R"({"t","f",NULL})");

  CHECK_FALSE(JsonToPgArray(text_array, R"({"not":"an array"})").ok());
  CHECK_FALSE(PgArrayToJson(text_array, "{unterminated").ok());
  CHECK(PgArrayToJson(int2d, "[0:1]={1,2}").status().code() == Code::kUnsupported);
}

}  // namespace outpost
