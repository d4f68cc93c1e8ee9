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

}  // namespace
}  // namespace outpost
