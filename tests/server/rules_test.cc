// Applying sync rules to a described database (sync/server/src/rules.h): the client view.
#include "rules.h"

#include <catch2/catch.hpp>

#include "sample_schema.h"

namespace outpost {
namespace {

using testing::SampleSchema;

TEST_CASE("sync rules make the client view of a described database", "[rules]") {
  auto rules = ParseSyncRules(R"({"app":"demo","roles":["admin","employee"],"tables":{
      "parent":{"scope":{"tenant_key":"id"},"write":[]},
      "child":{"scope":{"via":"parent_id"},"exclude":["amount"],
               "filter":{"column":"mood","claim":"sub","roles":["employee"]}}}})");
  INFO(rules.status().ToString());
  REQUIRE(rules.ok());
  Schema described = SampleSchema();
  std::vector<std::string> dropped;
  auto applied = server::ApplySyncRules(described, *rules, &dropped);
  INFO(applied.status().ToString());
  REQUIRE(applied.ok());
  const Table* child = applied->FindTable("child");
  REQUIRE(child);
  CHECK(child->FindColumn("amount") == nullptr);
  CHECK(child->checks.empty());   // mentioned the excluded column
  CHECK(child->indexes.empty());  // its predicate did too
  CHECK(dropped.size() == 2);
  CHECK(applied->FindTable("parent")->sync.read_only());

  // Rules that name what the database does not have are refused by name.
  auto unknown = ParseSyncRules(R"({"app":"a","roles":[],"tables":{"nope":{"scope":"all"}}})");
  REQUIRE(unknown.ok());
  auto refused = server::ApplySyncRules(described, *unknown, nullptr);
  CHECK(refused.status().code() == Code::kMalformedDescriptor);
  CHECK(refused.status().message().find("nope") != std::string::npos);
  auto bad_column = ParseSyncRules(
      R"({"app":"a","roles":[],"tables":{"parent":{"scope":{"tenant_key":"missing"}}}})");
  REQUIRE(bad_column.ok());
  CHECK(
      server::ApplySyncRules(described, *bad_column, nullptr).status().message().find("missing") !=
      std::string::npos);

  // Column permissions are checked against the described table, so an excluded column is named
  // as such (the client view no longer has it), and the view carries the permissions.
  auto cols = ParseSyncRules(R"({"app":"a","roles":["admin","employee"],"tables":{
      "parent":{"scope":{"tenant_key":"id"}},
      "child":{"scope":{"via":"parent_id"},"exclude":["tags"],
               "columns":{"employee":{"update":["tags"]}}}}})");
  REQUIRE(cols.ok());
  auto named_excluded = server::ApplySyncRules(described, *cols, nullptr);
  CHECK(named_excluded.status().code() == Code::kMalformedDescriptor);
  CHECK(named_excluded.status().message().find("excluded column \"tags\"") != std::string::npos);
  cols->tables["child"].column_permissions["employee"].update = ColumnGrant{true, {"mood"}};
  auto carried = server::ApplySyncRules(described, *cols, nullptr);
  INFO(carried.status().ToString());
  REQUIRE(carried.ok());
  CHECK_FALSE(carried->FindTable("child")->sync.may_set("employee", "mood", WriteKind::kUpdate));
  CHECK(carried->FindTable("child")->sync.may_set("employee", "amount", WriteKind::kUpdate));
}

TEST_CASE("a global table referencing a tenant-scoped table is warned about", "[rules]") {
  Schema described = SampleSchema();
  auto parse = [](const char* json) {
    auto r = ParseSyncRules(json);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    return *r;
  };
  // child's rows reference parent rows (a tenant): as a global table every tenant gets them all.
  SyncRules leaky = parse(R"({"app":"a","roles":[],"tables":{
      "parent":{"scope":{"tenant_key":"id"}},
      "child":{"scope":"global","exclude":["parent_id"]}}})");
  REQUIRE(server::ApplySyncRules(described, leaky, nullptr).ok());  // valid, yet leaky
  auto warnings = server::RuleWarnings(described, leaky);
  REQUIRE(warnings.size() == 1);
  CHECK(warnings[0].table == "child");
  CHECK(warnings[0].columns == std::vector<std::string>{"parent_id"});
  CHECK(warnings[0].ref_table == "parent");
  CHECK_THAT(warnings[0].message, Catch::Contains("global table \"child\"") &&
                                      Catch::Contains("\"parent_id\"") &&
                                      Catch::Contains("tenant-scoped table \"parent\""));
  // Every tenant-scoped kind of the referenced table counts.
  for (const char* scope :
       {R"({"tenant_column":"name"})", R"({"referenced_by":"child.parent_id"})"}) {
    SyncRules r = parse((std::string(R"({"app":"a","roles":[],"tables":{"parent":{"scope":)") +
                         scope + R"(},"child":{"scope":"global"}}})")
                            .c_str());
    CHECK(server::RuleWarnings(described, r).size() == 1);
  }
  // Not when the child follows its parent, when both are global or the app is single-tenant, or
  // when the referenced table is not synced at all.
  for (const char* tables :
       {R"("parent":{"scope":{"tenant_key":"id"}},"child":{"scope":{"via":"parent_id"}})",
        R"("parent":{"scope":"global"},"child":{"scope":"global"})",
        R"("parent":{"scope":"all"},"child":{"scope":"global"})",
        R"("child":{"scope":"global"})"}) {
    SyncRules r =
        parse((std::string(R"({"app":"a","roles":[],"tables":{)") + tables + "}}").c_str());
    INFO(tables);
    CHECK(server::RuleWarnings(described, r).empty());
  }
}

}  // namespace
}  // namespace outpost
