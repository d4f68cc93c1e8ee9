// Column permissions mirrored locally (docs/sync-rules.md, "Column permissions"): with the store's
// role set, an application write that sets a column the role may not set is refused at once, with
// a message naming the role, table and column; the sync engine's writes are not checked.
#include <catch2/catch.hpp>

#include "outpost/store.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;
using testing::CoreTestSchema;
using testing::MakeColumn;

// The core schema with "leaves": an "employee" may create and edit a leave's dates but not its
// status (constant default 'PENDING'), note (NULL) or stamp (computed default, server's).
Schema LeaveSchema() {
  Schema s = CoreTestSchema();
  s.roles = {"user", "employee"};
  Table leaves;
  leaves.name = "leaves";
  leaves.columns = {
      MakeColumn("id", TypeKind::kUuid, "uuid", false, "gen_random_uuid()"),
      MakeColumn("start", TypeKind::kDate, "date", false),
      MakeColumn("status", TypeKind::kText, "character varying(20)", false,
                 "'PENDING'::character varying"),
      MakeColumn("note", TypeKind::kText, "text", true),
      MakeColumn("stamp", TypeKind::kTimestamptz, "timestamp with time zone", false, "now()")};
  leaves.primary_key = {"id"};
  leaves.sync.scope.kind = ScopeKind::kAll;
  ColumnPermissions employee;
  employee.insert = ColumnGrant{true, {"status", "note", "stamp"}};
  employee.update = ColumnGrant{false, {"start"}};
  leaves.sync.column_permissions["employee"] = employee;
  s.tables.push_back(leaves);
  return s;
}

std::unique_ptr<Store> Open(const std::string& path = ":memory:") {
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  auto report = (*store)->ApplySchema(LeaveSchema());
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  return std::move(store).value();
}

const char* kId = "0190a5d2-1c4e-7000-8000-000000000001";

TEST_CASE("the store refuses app writes of columns its role may not set", "[core][columns]") {
  auto store = Open();
  REQUIRE(store->SetRole("employee").ok());
  CHECK(store->role() == "employee");

  // Leaving the columns out (their defaults, the computed one included) is allowed.
  REQUIRE(
      store->Execute("INSERT INTO leaves (id, start) VALUES (?, '2025-03-01')", json{kId}).ok());
  // So is giving them exactly their default.
  REQUIRE(store
              ->Execute("INSERT INTO leaves (id, start, status, note) VALUES "
                        "('0190a5d2-1c4e-7000-8000-000000000002', '2025-03-02', 'PENDING', NULL)")
              .ok());
  auto set_status = store->Execute(
      "INSERT INTO leaves (id, start, status) VALUES "
      "('0190a5d2-1c4e-7000-8000-000000000003', '2025-03-03', 'APPROVED')");
  REQUIRE_FALSE(set_status.ok());
  CHECK(set_status.status().code() == Code::kConstraint);
  CHECK_THAT(set_status.status().message(),
             Catch::Contains("role employee may not set column status of leaves"));

  REQUIRE(store->Execute("UPDATE leaves SET start = '2025-04-01' WHERE id = ?", json{kId}).ok());
  auto approve = store->Execute("UPDATE leaves SET status = 'APPROVED' WHERE id = ?", json{kId});
  REQUIRE_FALSE(approve.ok());
  CHECK_THAT(approve.status().message(),
             Catch::Contains("role employee may not update column status of leaves"));
  // Naming a column without changing it is not a change.
  CHECK(store
            ->Execute("UPDATE leaves SET status = status, start = '2025-04-02' WHERE id = ?",
                      json{kId})
            .ok());
  // A refused statement leaves nothing in the outbox: 2 inserts and 2 updates were captured.
  auto pending = store->PendingTransactions();
  REQUIRE(pending.ok());
  CHECK(pending->size() == 4);

  // The sync engine writes server state whatever the role.
  REQUIRE(store
              ->RunAsEngine([&] {
                return store
                    ->Execute("UPDATE leaves SET status = 'APPROVED' WHERE id = ?", json{kId})
                    .status();
              })
              .ok());

  // Other roles, and an unknown role, are not restricted locally.
  REQUIRE(store->SetRole("user").ok());
  CHECK(store->Execute("UPDATE leaves SET status = 'REJECTED' WHERE id = ?", json{kId}).ok());
  REQUIRE(store->SetRole("").ok());
  CHECK(store->Execute("UPDATE leaves SET status = 'CANCELLED' WHERE id = ?", json{kId}).ok());
}

TEST_CASE("the store's role survives reopening and cannot change mid-transaction",
          "[core][columns]") {
  char tmpl[] = "/tmp/outpost-role-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string path = std::string(tmpl) + "/local.db";
  {
    auto store = Open(path);
    REQUIRE(store->SetRole("employee").ok());
    REQUIRE(store->Execute("BEGIN").ok());
    CHECK(store->SetRole("user").code() == Code::kInvalidArgument);
    REQUIRE(store->Execute("ROLLBACK").ok());
  }
  auto reopened = Store::Open(path);
  REQUIRE(reopened.ok());
  CHECK((*reopened)->role() == "employee");
  REQUIRE((*reopened)
              ->Execute("INSERT INTO leaves (id, start) VALUES (?, '2025-03-01')", json{kId})
              .ok());
  CHECK_FALSE((*reopened)->Execute("UPDATE leaves SET note = 'mine' WHERE id = ?", json{kId}).ok());
}

}  // namespace
}  // namespace outpost
