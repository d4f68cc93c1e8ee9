// Schema model: JSON round trip, validation and the errors bad descriptors and rules produce.
#include "outpost/schema.h"

#include <catch2/catch.hpp>

namespace outpost {
namespace {

Schema SampleSchema() {
  Schema s;
  s.app = "demo";
  s.roles = {"admin", "employee"};
  Table parent;
  parent.name = "parent";
  parent.columns = {{"id", {TypeKind::kUuid, "uuid"}, false, "gen_random_uuid()"},
                    {"name", {TypeKind::kCitext, "citext"}, false, std::nullopt}};
  parent.primary_key = {"id"};
  parent.uniques = {{"parent_name_key", {"name"}}};
  parent.sync.scope = {ScopeKind::kTenantKey, "id", "", ""};
  Table child;
  child.name = "child";
  ColumnType tags{TypeKind::kArray, "text[]", TypeKind::kText, {}};
  ColumnType mood{TypeKind::kEnum, "mood", TypeKind::kText, {"sad", "happy"}};
  child.columns = {
      {"id", {TypeKind::kInteger, "integer"}, false, "nextval('child_id_seq'::regclass)", true},
      {"parent_id", {TypeKind::kUuid, "uuid"}, true, std::nullopt},
      {"amount", {TypeKind::kNumeric, "numeric(10,2)"}, false, "0.00"},
      {"tags", tags, true, std::nullopt},
      {"mood", mood, true, "'sad'::mood"}};
  child.primary_key = {"id"};
  child.checks = {{"amount_positive", "(amount >= (0)::numeric)"}};
  child.foreign_keys = {{"child_parent_fk",
                         {"parent_id"},
                         "parent",
                         {"id"},
                         FkAction::kSetNull,
                         FkAction::kNoAction,
                         false,
                         false}};
  child.indexes = {{"child_mood_idx", false, "btree", {"mood"}, {false}, {true}, "(amount > 0)"}};
  child.sync.scope = {ScopeKind::kVia, "parent_id", "", ""};
  child.sync.write_roles = std::vector<std::string>{"admin"};
  child.sync.conflict.columns["amount"] = ConflictPolicy::kAdditive;
  s.tables = {parent, child};
  return s;
}

}  // namespace

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

TEST_CASE("sync rules parse, validate and apply", "[schema]") {
  auto rules = ParseSyncRules(R"({"app":"demo","roles":["admin","employee"],"tables":{
      "parent":{"scope":{"tenant_key":"id"},"write":[]},
      "child":{"scope":{"via":"parent_id"},"exclude":["amount"],
               "filter":{"column":"mood","claim":"sub","roles":["employee"]}}}})");
  INFO(rules.status().ToString());
  REQUIRE(rules.ok());
  Schema described = SampleSchema();
  std::vector<std::string> dropped;
  auto applied = ApplySyncRules(described, *rules, &dropped);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  const Table* child = applied->FindTable("child");
  REQUIRE(child);
  CHECK(child->FindColumn("amount") == nullptr);
  CHECK(child->checks.empty());   // mentioned the excluded column
  CHECK(child->indexes.empty());  // its predicate did too
  CHECK(dropped.size() == 2);
  CHECK(applied->FindTable("parent")->sync.read_only());

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

TEST_CASE("status codes have stable names", "[schema]") {
  CHECK(Status().ok());
  CHECK(Status(Code::kUnknownType, "x").ToString() == "unknown_type: x");
  CHECK(CodeName(Code::kConstraint) == "constraint_violation");
  CHECK(CodeName(Code::kMalformedDescriptor) == "malformed_descriptor");
  CHECK(CodeName(Code::kSqlError) == "sql_error");
}

}  // namespace outpost
