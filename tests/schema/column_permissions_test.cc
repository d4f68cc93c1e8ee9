// Column permissions in the sync rules (docs/sync-rules.md, "Column permissions"): parsing, the
// descriptor round trip, and the validation errors that name the offender.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "outpost/mirror.h"
#include "outpost/schema.h"
#include "sample_schema.h"

namespace outpost {
namespace {

using testing::SampleSchema;

// The sample schema with `columns` (a rule's "columns" member, parsed from a rules file) on its
// child table, validated and read back from its descriptor JSON like a client receives it.
Result<Schema> WithColumns(const std::string& columns, const std::string& write = "") {
  Schema s = SampleSchema();
  s.tables[1].sync.write_roles.reset();
  if (!write.empty()) s.tables[1].sync.write_roles = std::vector<std::string>{write};
  auto rules = ParseSyncRules(
      R"({"app":"demo","roles":["admin","employee"],"tables":{"child":{"scope":"all","columns":)" +
      columns + "}}}");
  if (!rules.ok()) return rules.status();
  s.tables[1].sync.column_permissions = rules->tables["child"].column_permissions;
  OUTPOST_RETURN_IF_ERROR(ValidateSchema(s));
  return SchemaFromJson(SchemaToJson(s));
}

TEST_CASE("column permissions parse in both forms and round-trip", "[schema][columns]") {
  auto s = WithColumns(
      R"({"employee":{"insert":["parent_id","tags"],"update":{"except":["amount","mood"]}}})");
  INFO(s.status().ToString());
  REQUIRE(s.ok());
  const SyncRule& r = s->tables[1].sync;
  REQUIRE(r.column_permissions.count("employee"));
  const ColumnPermissions& p = r.column_permissions.at("employee");
  REQUIRE(p.insert);
  CHECK_FALSE(p.insert->except);
  REQUIRE(p.update);
  CHECK(p.update->except);
  CHECK(r.may_set("employee", "tags", WriteKind::kInsert));
  CHECK_FALSE(r.may_set("employee", "mood", WriteKind::kInsert));
  CHECK(r.may_set("employee", "tags", WriteKind::kUpdate));
  CHECK_FALSE(r.may_set("employee", "amount", WriteKind::kUpdate));
  // A role without an entry may set every column.
  CHECK(r.may_set("admin", "amount", WriteKind::kUpdate));

  // The descriptor carries the permissions (their version changes), and a rule without them
  // serialises exactly as before (existing descriptors keep their version).
  CHECK(SchemaToJson(*s).find("\"columns\":{\"employee\"") != std::string::npos);
  CHECK(SchemaVersion(*s) != SchemaVersion(SampleSchema()));
  auto plain = nlohmann::json::parse(SchemaToJson(SampleSchema()));
  CHECK_FALSE(plain["tables"][1]["sync"].contains("columns"));
}

TEST_CASE("column permissions that name what cannot be are malformed", "[schema][columns]") {
  auto expect = [](const Result<Schema>& r, const std::string& fragment) {
    INFO(fragment);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kMalformedDescriptor);
    CHECK_THAT(r.status().message(), Catch::Contains(fragment));
  };
  expect(WithColumns(R"({"employee":{"update":["nope"]}})"), "unknown column \"nope\"");
  expect(WithColumns(R"({"employee":{"update":["id"]}})"), "primary key column \"id\"");
  expect(WithColumns(R"({"employee":{"insert":{"except":["id"]}}})"), "primary key column \"id\"");
  expect(WithColumns(R"({"employee":{"delete":["mood"]}})"), "unknown key \"delete\"");
  expect(WithColumns(R"({"employee":{"update":"mood"}})"), "{\"except\": [columns]}");
  expect(WithColumns(R"({"employee":{"update":["mood","mood"]}})"), "named twice");
  // A role that may not write the table at all has nothing to restrict.
  expect(WithColumns(R"({"employee":{"update":["mood"]}})", "admin"),
         "may not write the table at all");
  // amount is NOT NULL with a default: fine to leave out; a NOT NULL column without default
  // that a role may not insert would make every insert of that role fail.
  CHECK(WithColumns(R"({"employee":{"insert":["mood"]}})").ok());

  // Rules files: the role must be declared.
  auto undeclared = ParseSyncRules(
      R"({"app":"a","roles":["admin"],"tables":{"t":{"scope":"all","columns":{"boss":{"update":[]}}}}})");
  REQUIRE_FALSE(undeclared.ok());
  CHECK_THAT(undeclared.status().message(), Catch::Contains("\"boss\""));

  Schema s = SampleSchema();
  s.tables[0].columns.push_back({"code", {TypeKind::kText, "text"}, false, std::nullopt});
  s.tables[0].sync.column_permissions["employee"].insert = ColumnGrant{true, {"code"}};
  auto r = ValidateSchema(s);
  CHECK(r.code() == Code::kMalformedDescriptor);
  CHECK_THAT(r.message(), Catch::Contains("NOT NULL column \"code\""));
  // Excluded columns are never writable, so naming them is an error too (checked on the full
  // table, where the rule still lists them).
  s = SampleSchema();
  s.tables[1].sync.write_roles.reset();
  s.tables[1].sync.excluded_columns = {"tags"};
  s.tables[1].sync.column_permissions["employee"].update = ColumnGrant{false, {"tags"}};
  CHECK_THAT(ValidateColumnPermissions(s.tables[1], s.roles).message(),
             Catch::Contains("excluded column \"tags\""));
}

TEST_CASE("a column's default as an insert leaving it out gets it", "[schema][columns]") {
  Schema s = SampleSchema();
  const Table& child = s.tables[1];
  CHECK(DefaultOf(*child.FindColumn("id")).kind == ColumnDefault::kComputed);
  CHECK(DefaultOf(*child.FindColumn("tags")).kind == ColumnDefault::kNull);
  ColumnDefault mood = DefaultOf(*child.FindColumn("mood"));
  CHECK(mood.kind == ColumnDefault::kConstant);
  CHECK(mood.value == Value(std::string("sad")));
  CHECK(mood.sql == "'sad'");
  CHECK(DefaultOf(*s.tables[0].FindColumn("id")).kind == ColumnDefault::kComputed);
}

}  // namespace
}  // namespace outpost
