// Schema model: JSON round trip, validation and the errors bad descriptors and rules produce.
#include "outpost/schema.h"

#include <catch2/catch.hpp>

#include "sample_schema.h"

namespace outpost {

using testing::SampleSchema;

TEST_CASE("a descriptor round-trips through its canonical JSON", "[schema]") {
  Schema s = SampleSchema();
  REQUIRE(ValidateSchema(s).ok());
  std::string json = SchemaToJson(s);
  auto back = SchemaFromJson(json);
  INFO(back.status().ToString());
  REQUIRE(back.ok());
  CHECK(*back == s);
  CHECK(SchemaToJson(*back) == json);
  CHECK(SchemaVersion(s).rfind("sha256:", 0) == 0);
  CHECK(SchemaVersion(s).size() == 7 + 64);
  CHECK(back->tables[1].has_serial_key());
  CHECK(back->tables[1].sync.may_write("admin"));
  CHECK_FALSE(back->tables[1].sync.may_write("employee"));

  Schema changed = s;
  changed.tables[1].columns[2].nullable = true;
  CHECK(SchemaVersion(changed) != SchemaVersion(s));
}

TEST_CASE("malformed descriptors are rejected with stable codes", "[schema]") {
  auto expect = [](const std::string& json, Code code, const std::string& fragment) {
    auto r = SchemaFromJson(json);
    INFO(json);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == code);
    CHECK_THAT(r.status().message(), Catch::Contains(fragment));
  };
  expect("{not json", Code::kMalformedDescriptor, "not valid JSON");
  expect("[]", Code::kMalformedDescriptor, "expected an object");
  expect(R"({"format":2,"tables":[]})", Code::kMalformedDescriptor, "format");
  expect(R"({"format":1})", Code::kMalformedDescriptor, "tables");
  expect(R"({"format":1,"tables":[{"name":"t","columns":[{"name":"a","type":"frobnicate",
          "pg_type":"x","nullable":true}],"primary_key":["a"]}]})",
         Code::kUnknownType, "frobnicate");
  expect(R"({"format":1,"tables":[{"name":"t","columns":[{"name":"a","type":"text",
          "pg_type":"text","nullable":true}],"primary_key":["b"]}]})",
         Code::kMalformedDescriptor, "unknown column \"b\"");
  expect(R"({"format":1,"tables":[{"name":"t","columns":[{"name":"a","type":"text",
          "pg_type":"text","nullable":"yes"}],"primary_key":["a"]}]})",
         Code::kMalformedDescriptor, "nullable");
  expect(R"({"format":1,"tables":[{"name":"t","columns":[{"name":"a","type":"text",
          "pg_type":"text","nullable":true}],"primary_key":[]}]})",
         Code::kMalformedDescriptor, "no primary key");
  expect(R"({"format":1,"tables":[{"name":"_outpost_x","columns":[{"name":"a","type":"text",
          "pg_type":"text","nullable":true}],"primary_key":["a"]}]})",
         Code::kMalformedDescriptor, "reserved");

  // A descriptor whose content was altered no longer matches its version.
  std::string json = SchemaToJson(SampleSchema());
  auto pos = json.find("numeric(10,2)");
  REQUIRE(pos != std::string::npos);
  json.replace(pos, 13, "numeric(12,2)");
  expect(json, Code::kMalformedDescriptor, "does not match");
}

TEST_CASE("sync rules parse and validate", "[schema]") {
  CHECK(
      ParseSyncRules(R"({"app":"a","roles":[],"tables":{"t":{"scope":"mine"}}})").status().code() ==
      Code::kMalformedDescriptor);
  CHECK_FALSE(
      ParseSyncRules(R"({"app":"a","roles":["x"],"tables":{"t":{"scope":"all","write":["y"]}}})")
          .ok());
  CHECK_FALSE(
      ParseSyncRules(
          R"({"app":"a","roles":[],"tables":{"t":{"scope":"all","conflict":{"default":"additive"}}}})")
          .ok());
  CHECK_FALSE(
      ParseSyncRules(R"({"app":"a","roles":[],"tables":{"t":{"scope":"all","surprise":1}}})").ok());
}

}  // namespace outpost
