// Column permissions on push (docs/sync-rules.md, "Column permissions"; write_guard.h) against a
// real PostgreSQL with GoGoTime's rules: an employee may edit a leave request's dates but not its
// status or rejection reason, nor a timesheet's approval; a manager may. A refused transaction
// is a permission_denied rejection naming the table and column, and changes nothing.
#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>

#include "catalog.h"
#include "install.h"
#include "model.h"
#include "pg.h"
#include "pg_cluster.h"
#include "push.h"
#include "push_db.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using server::PgConnection;
using server::Principal;
using server::ServerModel;

const char* kClient = "0193a0c0-0000-7000-8000-0000000000d1";

struct Fixture : PushDb {
  std::string company, employee, manager, leave, timesheet;
  Principal employee_p, manager_p;
  int64_t next_tx = 1;

  explicit Fixture(const std::string& db) : PushDb(db, "gogotime", 10) {
    company = Q("SELECT md5('gogotime:company:1')::uuid");
    employee = Q("SELECT md5('gogotime:user:1:7')::uuid");
    manager = Q("SELECT md5('gogotime:user:1:2')::uuid");
    // One of the employee's leave requests, pending, and one of its timesheets, submitted.
    leave =
        Q("UPDATE leave_requests SET status = 'PENDING', \"rejectionReason\" = NULL WHERE id = "
          "(SELECT id FROM leave_requests WHERE \"userId\" = '" +
          employee + "' ORDER BY id LIMIT 1) RETURNING id");
    timesheet =
        Q("UPDATE timesheets SET status = 'SUBMITTED', \"approverId\" = NULL, "
          "\"approvedAt\" = NULL WHERE id = (SELECT id FROM timesheets WHERE \"userId\" = '" +
          employee + "' ORDER BY id LIMIT 1) RETURNING id");
    REQUIRE(leave != "<none>");
    REQUIRE(timesheet != "<none>");
    employee_p = Principal{company, employee, "employee",
                           json{{"tenant", company}, {"sub", employee}, {"role", "employee"}}};
    manager_p = Principal{company, manager, "manager",
                          json{{"tenant", company}, {"sub", manager}, {"role", "manager"}}};
  }

  std::string Leave(const std::string& column) {
    return Q("SELECT \"" + column + "\"::text FROM leave_requests WHERE id = '" + leave + "'");
  }

  // Pushes one transaction of `mutations` and returns its result.
  json Push(const Principal& who, const json& mutations) {
    json body = {{"schema", model->version()},
                 {"client_id", kClient},
                 {"transactions", json::array({{{"tx_id", next_tx++}, {"mutations", mutations}}})}};
    auto r = server::HandlePush(*conn, *model, who, body.dump());
    INFO(body.dump() << " -> " << r.status().ToString());
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    return json::parse(protocol::EncodePushAnswer(*r))["results"][0];
  }
  static json Update(const std::string& table, const std::string& id, const json& nv,
                     const json& ov) {
    return json{{"op", "update"}, {"table", table}, {"pk", {id}},
                {"hlc", "1"},     {"new", nv},      {"old", ov}};
  }
};

void CheckDenied(const json& result, const std::string& table, const std::string& column) {
  INFO(result.dump());
  CHECK(result["status"] == "rejected");
  CHECK(result["error"]["code"] == "permission_denied");
  CHECK(result["error"]["table"] == table);
  CHECK(result["error"]["rule"] == column);
  CHECK(result["error"]["message"].get<std::string>().find("\"" + column + "\"") !=
        std::string::npos);
}

TEST_CASE("push: an employee edits a leave request's dates but not its status", "[push][columns]") {
  Fixture f("push_columns_update");
  const std::string start = f.Leave("startDate");

  // Dates and status in one transaction: refused as a whole, nothing written.
  json r =
      f.Push(f.employee_p,
             json::array({Fixture::Update("leave_requests", f.leave,
                                          {{"endDate", "2031-01-09"}, {"status", "APPROVED"}},
                                          {{"endDate", "2031-01-01"}, {"status", "PENDING"}})}));
  CheckDenied(r, "leave_requests", "status");
  CHECK(f.Leave("status") == "PENDING");
  CHECK(f.Leave("endDate") != "2031-01-09");
  r = f.Push(f.employee_p,
             json::array({Fixture::Update("leave_requests", f.leave, {{"rejectionReason", "none"}},
                                          {{"rejectionReason", nullptr}})}));
  CheckDenied(r, "leave_requests", "rejectionReason");
  CHECK(f.Leave("rejectionReason") == "<null>");

  // The dates alone are the employee's to change.
  r = f.Push(f.employee_p,
             json::array({Fixture::Update("leave_requests", f.leave,
                                          {{"startDate", "2031-01-02"}, {"reason", "family"}},
                                          {{"startDate", start}, {"reason", nullptr}})}));
  CHECK(r["status"] == "applied");
  CHECK(f.Leave("startDate") == "2031-01-02");
  CHECK(f.Leave("reason") == "family");

  // A status sent with the server's own value changes nothing, so it passes (a stale base
  // notwithstanding).
  r = f.Push(f.employee_p,
             json::array({Fixture::Update("leave_requests", f.leave, {{"status", "PENDING"}},
                                          {{"status", "CANCELLED"}})}));
  CHECK(r["status"] == "applied");
  CHECK(f.Leave("status") == "PENDING");

  // A manager approves.
  r = f.Push(f.manager_p,
             json::array({Fixture::Update("leave_requests", f.leave, {{"status", "APPROVED"}},
                                          {{"status", "PENDING"}})}));
  CHECK(r["status"] == "applied");
  CHECK(f.Leave("status") == "APPROVED");
  // Now the employee's client, still showing PENDING, cannot put it back.
  r = f.Push(f.employee_p,
             json::array({Fixture::Update("leave_requests", f.leave, {{"status", "PENDING"}},
                                          {{"status", "APPROVED"}})}));
  CheckDenied(r, "leave_requests", "status");
  CHECK(f.Leave("status") == "APPROVED");

  // Timesheets: the approval columns are the manager's.
  r = f.Push(f.employee_p,
             json::array({Fixture::Update("timesheets", f.timesheet, {{"approverId", f.employee}},
                                          {{"approverId", nullptr}})}));
  CheckDenied(r, "timesheets", "approverId");
  CHECK(f.Q("SELECT \"approverId\" FROM timesheets WHERE id = '" + f.timesheet + "'") == "<null>");
  r = f.Push(f.employee_p,
             json::array({Fixture::Update("timesheets", f.timesheet, {{"notes", "week 2"}},
                                          {{"notes", nullptr}})}));
  CHECK(r["status"] == "applied");
}

TEST_CASE("push: an employee's insert leaves approval columns at their defaults",
          "[push][columns]") {
  Fixture f("push_columns_insert");
  auto insert = [&](const std::string& id, const json& extra) {
    json values = {{"id", id},
                   {"companyId", f.company},
                   {"userId", f.employee},
                   {"startDate", "2032-02-01"},
                   {"endDate", "2032-02-03"},
                   {"leaveType", "PTO"},
                   {"createdAt", "2001-01-01T00:00:00Z"}};
    values.update(extra);
    return json::array({{{"op", "insert"},
                         {"table", "leave_requests"},
                         {"pk", {id}},
                         {"hlc", "1"},
                         {"new", values}}});
  };
  const std::string ok_id = "0193a0c0-0000-7000-8000-00000000aa01";
  // What the client's local defaults give: status PENDING, no rejection reason.
  json r =
      f.Push(f.employee_p, insert(ok_id, {{"status", "PENDING"}, {"rejectionReason", nullptr}}));
  INFO(r.dump());
  CHECK(r["status"] == "applied");
  CHECK(f.Q("SELECT status FROM leave_requests WHERE id = '" + ok_id + "'") == "PENDING");
  // Leaving them out altogether works too.
  const std::string bare_id = "0193a0c0-0000-7000-8000-00000000aa02";
  CHECK(f.Push(f.employee_p, insert(bare_id, json::object()))["status"] == "applied");

  const std::string bad_id = "0193a0c0-0000-7000-8000-00000000aa03";
  r = f.Push(f.employee_p, insert(bad_id, {{"status", "APPROVED"}}));
  CheckDenied(r, "leave_requests", "status");
  r = f.Push(f.employee_p, insert(bad_id, {{"rejectionReason", "self-approved"}}));
  CheckDenied(r, "leave_requests", "rejectionReason");
  CHECK(f.Q("SELECT count(*) FROM leave_requests WHERE id = '" + bad_id + "'") == "0");
  // A manager may create it approved.
  CHECK(f.Push(f.manager_p, insert(bad_id, {{"status", "APPROVED"}}))["status"] == "applied");
}

}  // namespace
}  // namespace outpost::testing
