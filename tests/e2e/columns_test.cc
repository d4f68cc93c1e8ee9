// Column permissions end to end (docs/sync-rules.md, "Column permissions"): GoGoTime's employees
// edit their leave requests' dates but not their status. A client that knows its role refuses the
// write locally; one that does not gets the server's rejection, and its row back as the server
// has it; a manager's approval reaches the employee.
#include <catch2/catch.hpp>

#include "e2e_harness.h"
#include "pg_cluster.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;

TEST_CASE("column permissions: an employee edits dates, only a manager approves",
          "[sync][columns]") {
  std::string db = PgCluster::Shared().LoadApp("columns_e2e", "gogotime", 10);
  ServerProcess server(db, "gogotime");
  std::string company = PgScalar(db, "SELECT md5('gogotime:company:1')::uuid");
  std::string employee = PgScalar(db, "SELECT md5('gogotime:user:1:7')::uuid");
  std::string manager = PgScalar(db, "SELECT md5('gogotime:user:1:2')::uuid");
  // One of the employee's leave requests, pending.
  std::string leave = PgScalar(
      db,
      "UPDATE leave_requests SET status = 'PENDING', \"rejectionReason\" = NULL WHERE id = "
      "(SELECT id FROM leave_requests WHERE \"userId\" = '" +
          employee + "' ORDER BY id LIMIT 1) RETURNING id");
  REQUIRE_FALSE(leave.empty());
  auto pg = [&](const std::string& column) {
    return PgScalar(
        db, "SELECT \"" + column + "\"::text FROM leave_requests WHERE id = '" + leave + "'");
  };

  TestClient mine(server.url(), MintToken(company, employee, "employee"));
  mine.Sync();
  REQUIRE(mine.store().SetRole("employee").ok());
  // Refused locally, at once: nothing is queued.
  Status approve =
      mine.TrySql("UPDATE leave_requests SET status = 'APPROVED' WHERE id = ?", json{leave});
  CHECK(approve.code() == Code::kConstraint);
  CHECK_THAT(approve.message(), Catch::Contains("may not update column status of leave_requests"));
  CHECK(mine.session().status().pending_mutations == 0);
  // The dates are the employee's.
  mine.Sql("UPDATE leave_requests SET \"endDate\" = '2031-05-09', reason = 'trip' WHERE id = ?",
           json{leave});
  // A new request with the defaults the store fills in (status PENDING).
  mine.Sql(
      "INSERT INTO leave_requests (\"companyId\", \"userId\", \"startDate\", \"endDate\", "
      "\"leaveType\") VALUES (?, ?, '2031-06-01', '2031-06-02', 'SICK')",
      json{company, employee});
  SyncReport pushed = mine.Sync();
  CHECK(pushed.rejected_transactions == 0);
  CHECK(pg("endDate") == "2031-05-09");
  CHECK(PgScalar(db, "SELECT count(*) FROM leave_requests WHERE \"startDate\" = '2031-06-01'") ==
        "1");

  // Another device of the same employee that does not know its role: the server refuses.
  TestClient other(server.url(), MintToken(company, employee, "employee"));
  other.Sync();
  other.Sql("UPDATE leave_requests SET status = 'APPROVED' WHERE id = ?", json{leave});
  SyncReport refused = other.Sync();
  CHECK(refused.rejected_transactions == 1);
  CHECK(pg("status") == "PENDING");
  auto rejections = other.store().Rejections();
  REQUIRE(rejections.ok());
  REQUIRE(rejections->size() == 1);
  CHECK((*rejections)[0].code == "permission_denied");
  CHECK((*rejections)[0].rule == "status");
  // Its row is the server's again.
  CHECK(other.Scalar("SELECT status = 'PENDING' FROM leave_requests WHERE id = ?", json{leave}) ==
        1);

  // The manager approves; the employee sees it.
  TestClient boss(server.url(), MintToken(company, manager, "manager"));
  boss.Sync();
  REQUIRE(boss.store().SetRole("manager").ok());
  boss.Sql("UPDATE leave_requests SET status = 'APPROVED' WHERE id = ?", json{leave});
  CHECK(boss.Sync().rejected_transactions == 0);
  CHECK(pg("status") == "APPROVED");
  mine.Sync();
  CHECK(mine.Scalar("SELECT status = 'APPROVED' FROM leave_requests WHERE id = ?", json{leave}) ==
        1);
}

}  // namespace
}  // namespace outpost::testing
