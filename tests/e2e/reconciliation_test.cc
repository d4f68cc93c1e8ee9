// No write vanishes unexplained (docs/semantics.md): transactions that depend on a rejected one
// are rejected naming it, whether the server or the client finds the dependency; notices of
// applied transactions reach the app; foreign keys across clients (a parent deleted with its
// cascade, a child for a parent deleted elsewhere, a rejected parent with dependants).
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "e2e_harness.h"
#include "pg_cluster.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;

struct Company {
  std::string db;
  std::unique_ptr<ServerProcess> server;
  std::string tenant, user, code, token;
  std::unique_ptr<TestClient> m, n;  // two field clients of one company (admins)

  explicit Company(const std::string& name) {
    db = PgCluster::Shared().LoadApp(name, "gogotime", 120);
    server = std::make_unique<ServerProcess>(db, "gogotime");
    tenant = Pg("SELECT id FROM companies ORDER BY id LIMIT 1");
    user = Pg("SELECT id FROM users WHERE \"companyId\" = '" + tenant + "' ORDER BY id LIMIT 1");
    code = Pg("SELECT id FROM action_codes WHERE \"companyId\" = '" + tenant +
              "' ORDER BY id LIMIT 1");
    token = MintToken(tenant, user, "admin");
    m = std::make_unique<TestClient>(server->url(), token);
    n = std::make_unique<TestClient>(server->url(), token);
    m->Sync();
    n->Sync();
  }
  std::string Pg(const std::string& sql) { return PgScalar(db, sql); }
  std::string InsertEntry(const std::string& id, const std::string& action) const {
    return "INSERT INTO timesheet_entries (id, \"companyId\", \"userId\", \"actionCodeId\", "
           "country, \"durationMin\", day) VALUES ('" +
           id + "', '" + tenant + "', '" + user + "', '" + action + "', 'TH', 30, '2026-11-21')";
  }
  std::string InsertCode(const std::string& id, const std::string& code_text) const {
    return "INSERT INTO action_codes (id, \"companyId\", code, name) VALUES ('" + id + "', '" +
           tenant + "', '" + code_text + "', 'n')";
  }
  void RequireConverged(const std::string& table) {
    m->Sync();
    n->Sync();
    json expected = ExpectedRows(db, "gogotime", table, tenant, user, "admin");
    CHECK(m->Rows(table) == expected);
    CHECK(n->Rows(table) == expected);
  }
};

Result<SyncReport> SyncInBatchesOf(TestClient& c, size_t batch) {
  SyncOptions options;
  options.push_batch = batch;
  return SyncNow(c.session(), c.transport(), options);
}

const char* kLostCode = "0193a0c0-0000-7000-8000-00000000aa01";
const char* kChild = "0193a0c0-0000-7000-8000-00000000aa02";
const char* kOther = "0193a0c0-0000-7000-8000-00000000aa03";

TEST_CASE("a write on a row whose insert lost a unique race is rejected, naming the insert",
          "[sync][dependent]") {
  // The case that used to vanish: the insert comes back rejected, the later update was answered
  // "applied" with a notice nobody kept.
  Company c(GENERATE(as<std::string>{}, "dependent_one_request", "dependent_many_requests"));
  const bool one_request = c.db.find("dependent_one_request") != std::string::npos;
  c.n->Sql(c.InsertCode("0193a0c0-0000-7000-8000-00000000aa0f", "RACE"));
  c.n->Sync();
  // M, offline, takes the same code, then edits it, then uses it, then does something unrelated.
  c.m->Sql(c.InsertCode(kLostCode, "RACE"));
  c.m->Sql("UPDATE action_codes SET name = 'renamed' WHERE id = ?", json{kLostCode});
  c.m->Sql(c.InsertEntry(kChild, kLostCode));
  c.m->Sql(c.InsertEntry(kOther, c.code));
  // One request: the server finds the dependants. One transaction per request: the client finds
  // them once it has the insert's rejection, and never pushes them.
  auto report = SyncInBatchesOf(*c.m, one_request ? 500 : 1);
  REQUIRE(report.ok());
  CHECK(report->rejected_transactions == 3);
  CHECK(report->pushed_transactions == 1);

  auto rejections = c.m->session().Rejections();
  REQUIRE(rejections.ok());
  REQUIRE(rejections->size() == 3);
  const auto& lost = (*rejections)[0];
  CHECK(lost.code == "constraint_violation");
  CHECK(lost.rule == "UQ_action_codes_companyId_code");
  CHECK((*rejections)[1].code == "dependent");
  CHECK((*rejections)[1].depends_on == lost.tx_id);
  CHECK((*rejections)[1].table == "action_codes");
  CHECK((*rejections)[1].message.find("transaction " + std::to_string(lost.tx_id)) !=
        std::string::npos);
  CHECK((*rejections)[2].code == "dependent");
  CHECK((*rejections)[2].depends_on == lost.tx_id);
  CHECK((*rejections)[2].table == "timesheet_entries");
  CHECK(c.m->session().status().rejections == 3);
  CHECK(c.m->session().status().pending_transactions == 0);

  // Nothing of them anywhere; the unrelated entry is in.
  CHECK(c.m->Scalar("SELECT count(*) FROM action_codes WHERE id = ?", json{kLostCode}) == 0);
  CHECK(c.m->Scalar("SELECT count(*) FROM timesheet_entries WHERE id = ?", json{kChild}) == 0);
  CHECK(c.Pg("SELECT count(*) FROM action_codes WHERE id = '" + std::string(kLostCode) + "'") ==
        "0");
  CHECK(c.Pg("SELECT count(*) FROM timesheet_entries WHERE id = '" + std::string(kOther) + "'") ==
        "1");
  c.RequireConverged("action_codes");
  c.RequireConverged("timesheet_entries");

  // Writes made after the client learned of the rejection are judged on their own.
  c.m->Sql(c.InsertCode(kLostCode, "RACE-2"));
  c.m->Sync();
  CHECK(c.Pg("SELECT code FROM action_codes WHERE id = '" + std::string(kLostCode) + "'") ==
        "RACE-2");
  CHECK(c.m->session().status().rejections == 3);
}

TEST_CASE("notices of applied transactions are kept for the app", "[sync][notices]") {
  Company c("notices_kept");
  std::string gone = c.Pg("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + c.tenant +
                          "' ORDER BY id LIMIT 1");
  std::string busy = c.Pg("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + c.tenant +
                          "' ORDER BY id OFFSET 1 LIMIT 1");
  // M edits two rows offline; N then deletes one and edits the other's column later.
  c.m->Sql("UPDATE timesheet_entries SET country = 'NZ' WHERE id = ?", json{gone});
  c.m->Sql("UPDATE timesheet_entries SET country = 'NZ', \"durationMin\" = 11 WHERE id = ?",
           json{busy});
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  c.n->Sql("DELETE FROM timesheet_entries WHERE id = ?", json{gone});
  c.n->Sql("UPDATE timesheet_entries SET country = 'PT' WHERE id = ?", json{busy});
  c.n->Sync();
  c.m->Sync();

  auto notices = c.m->session().Notices();
  REQUIRE(notices.ok());
  for (const auto& n : *notices) UNSCOPED_INFO(NoticeToJson(n).dump());
  REQUIRE(notices->size() == 2);
  CHECK((*notices)[0].code == "row_deleted");
  CHECK((*notices)[0].table == "timesheet_entries");
  CHECK((*notices)[0].pk == json::array({gone}));
  CHECK((*notices)[1].code == "superseded");
  CHECK((*notices)[1].pk == json::array({busy}));
  CHECK((*notices)[1].columns == std::vector<std::string>{"country"});
  CHECK((*notices)[0].tx_id > 0);
  CHECK(!(*notices)[0].at.empty());
  CHECK(c.m->session().status().notices == 2);
  CHECK(c.Pg("SELECT country || ',' || \"durationMin\" FROM timesheet_entries WHERE id = '" +
             busy + "'") == "PT,11");
  CHECK(c.m->session().Rejections()->empty());
  // Dismissed one by one; an unknown id is not found.
  REQUIRE(c.m->session().DismissNotice((*notices)[0].id).ok());
  CHECK(c.m->session().DismissNotice((*notices)[0].id).code() == Code::kNotFound);
  CHECK(c.m->session().status().notices == 1);
  c.RequireConverged("timesheet_entries");
}

TEST_CASE("foreign keys across clients", "[sync][fk]") {
  Company c("fk_across_clients");
  SECTION("a parent deleted offline takes its ON DELETE CASCADE children, cleanly") {
    std::string sheet = c.Pg(
        "SELECT t.id FROM timesheets t JOIN timesheet_approvals a ON a.\"timesheetId\" = t.id "
        "WHERE t.\"companyId\" = '" +
        c.tenant + "' ORDER BY t.id LIMIT 1");
    REQUIRE(!sheet.empty());
    REQUIRE(c.m->Scalar("SELECT count(*) FROM timesheet_approvals WHERE \"timesheetId\" = ?",
                        json{sheet}) > 0);
    c.m->Sql("DELETE FROM timesheets WHERE id = ?", json{sheet});
    auto report = c.m->Sync();
    CHECK(report.rejected_transactions == 0);
    CHECK(c.m->session().Rejections()->empty());
    auto notices = c.m->session().Notices();
    REQUIRE(notices.ok());
    for (const auto& n : *notices) UNSCOPED_INFO(NoticeToJson(n).dump());
    CHECK(notices->empty());
    CHECK(c.Pg("SELECT count(*) FROM timesheet_approvals WHERE \"timesheetId\" = '" + sheet +
               "'") == "0");
    CHECK(c.Pg("SELECT count(*) FROM timesheets WHERE id = '" + sheet + "'") == "0");
    c.RequireConverged("timesheets");
    c.RequireConverged("timesheet_approvals");
  }
  SECTION("a child made offline for a parent deleted elsewhere is rejected and undone") {
    std::string parent = "0193a0c0-0000-7000-8000-00000000ab01";
    c.n->Sql(c.InsertCode(parent, "SHORT-LIVED"));
    c.n->Sync();
    c.m->Sync();
    // N deletes the code; M, offline, logs time against it.
    c.n->Sql("DELETE FROM action_codes WHERE id = ?", json{parent});
    c.n->Sync();
    c.m->Sql(c.InsertEntry(kChild, parent));
    c.m->Sync();
    auto rejections = c.m->session().Rejections();
    REQUIRE(rejections.ok());
    REQUIRE(rejections->size() == 1);
    CHECK((*rejections)[0].code == "constraint_violation");
    CHECK((*rejections)[0].rule == "FK_timesheet_entries_actionCodeId");
    CHECK(c.m->Scalar("SELECT count(*) FROM timesheet_entries WHERE id = ?", json{kChild}) == 0);
    CHECK(c.m->Scalar("SELECT count(*) FROM action_codes WHERE id = ?", json{parent}) == 0);
    c.RequireConverged("timesheet_entries");
    c.RequireConverged("action_codes");
  }
}

}  // namespace
}  // namespace outpost::testing
