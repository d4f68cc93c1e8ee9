// The conflict rules of docs/protocol.md ("Conflict rules"), end to end: two field clients of one
// GoGoTime company edit offline and sync in a chosen order; PostgreSQL and both clients must agree
// on the result the rules prescribe.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "e2e_harness.h"
#include "pg_cluster.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;

struct Fixture {
  std::string db;
  std::unique_ptr<ServerProcess> server;
  std::string tenant, user, token;
  std::unique_ptr<TestClient> a, b;

  explicit Fixture(const std::string& name) {
    db = PgCluster::Shared().LoadApp(name, "gogotime", 200);
    server = std::make_unique<ServerProcess>(db, "gogotime");
    tenant = PgScalar(db, "SELECT id FROM companies ORDER BY id LIMIT 1");
    user = PgScalar(
        db, "SELECT id FROM users WHERE \"companyId\" = '" + tenant + "' ORDER BY id LIMIT 1");
    token = MintToken(tenant, user, "admin");
    a = std::make_unique<TestClient>(server->url(), token);
    b = std::make_unique<TestClient>(server->url(), token);
    a->Sync();
    b->Sync();
  }
  std::string Pg(const std::string& sql) { return PgScalar(db, sql); }
  // Both clients converge and equal PostgreSQL for `table`.
  void RequireConverged(const std::string& table) {
    a->Sync();
    b->Sync();
    a->Sync();
    json expected = ExpectedRows(db, "gogotime", table, tenant, user, "admin");
    CHECK(a->Rows(table) == expected);
    CHECK(b->Rows(table) == expected);
  }
  std::string SomeEntry() {
    return Pg("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + tenant +
              "' ORDER BY id LIMIT 1");
  }
};

void Tick() {
  std::this_thread::sleep_for(std::chrono::milliseconds(3));
}

TEST_CASE("different columns of one row: both changes are kept", "[sync][conflict]") {
  Fixture f("conflict_columns");
  std::string id = f.SomeEntry();
  f.a->Sql("UPDATE timesheet_entries SET country = 'FR' WHERE id = ?", json{id});
  f.b->Sql("UPDATE timesheet_entries SET \"durationMin\" = 123 WHERE id = ?", json{id});
  f.a->Sync();
  f.b->Sync();
  CHECK(f.Pg("SELECT country || ',' || \"durationMin\" FROM timesheet_entries WHERE id = '" + id +
             "'") == "FR,123");
  f.RequireConverged("timesheet_entries");
}

TEST_CASE("same column: the later hybrid logical clock wins whatever the push order",
          "[sync][conflict]") {
  Fixture f("conflict_lww");
  std::string id = f.SomeEntry();
  SECTION("later edit pushed last") {
    f.a->Sql("UPDATE timesheet_entries SET country = 'FR' WHERE id = ?", json{id});
    Tick();
    f.b->Sql("UPDATE timesheet_entries SET country = 'DE' WHERE id = ?", json{id});
    f.a->Sync();
    f.b->Sync();
  }
  SECTION("later edit pushed first") {
    f.a->Sql("UPDATE timesheet_entries SET country = 'FR' WHERE id = ?", json{id});
    Tick();
    f.b->Sql("UPDATE timesheet_entries SET country = 'DE' WHERE id = ?", json{id});
    f.b->Sync();
    f.a->Sync();
  }
  CHECK(f.Pg("SELECT country FROM timesheet_entries WHERE id = '" + id + "'") == "DE");
  f.RequireConverged("timesheet_entries");
}

TEST_CASE("a write by another backend after the client's edit wins over it", "[sync][conflict]") {
  Fixture f("conflict_backend");
  std::string id = f.SomeEntry();
  f.a->Sql("UPDATE timesheet_entries SET country = 'FR' WHERE id = ?", json{id});
  Tick();
  PgCluster::Shared().Psql(f.db,
                           "UPDATE timesheet_entries SET country = 'IT' WHERE id = '" + id + "'");
  f.a->Sync();
  CHECK(f.Pg("SELECT country FROM timesheet_entries WHERE id = '" + id + "'") == "IT");
  f.RequireConverged("timesheet_entries");
}

TEST_CASE("server_wins column keeps the server's value", "[sync][conflict]") {
  Fixture f("conflict_server_wins");
  std::string id = f.SomeEntry();
  f.a->Sql("UPDATE timesheet_entries SET note = 'from A' WHERE id = ?", json{id});
  f.a->Sync();
  Tick();
  f.b->Sql("UPDATE timesheet_entries SET note = 'from B' WHERE id = ?", json{id});
  f.b->Sync();
  CHECK(f.Pg("SELECT note FROM timesheet_entries WHERE id = '" + id + "'") == "from A");
  f.RequireConverged("timesheet_entries");
}

TEST_CASE("additive column applies both deltas", "[sync][conflict]") {
  Fixture f("conflict_additive");
  std::string id = f.Pg("SELECT id FROM timesheets WHERE \"companyId\" = '" + f.tenant +
                        "' ORDER BY id LIMIT 1");
  REQUIRE(!id.empty());
  int base = std::stoi(f.Pg("SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + id + "'"));
  f.a->Sql("UPDATE timesheets SET \"totalMinutes\" = \"totalMinutes\" + 10 WHERE id = ?", json{id});
  f.b->Sql("UPDATE timesheets SET \"totalMinutes\" = \"totalMinutes\" + 20 WHERE id = ?", json{id});
  f.a->Sync();
  f.b->Sync();
  CHECK(f.Pg("SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + id + "'") ==
        std::to_string(base + 30));
  f.RequireConverged("timesheets");
}

TEST_CASE("update of a row deleted elsewhere: delete wins", "[sync][conflict]") {
  Fixture f("conflict_delete_wins");
  std::string id = f.SomeEntry();
  f.a->Sql("DELETE FROM timesheet_entries WHERE id = ?", json{id});
  f.b->Sql("UPDATE timesheet_entries SET note = 'edited offline' WHERE id = ?", json{id});
  f.a->Sync();
  f.b->Sync();
  CHECK(f.Pg("SELECT count(*) FROM timesheet_entries WHERE id = '" + id + "'") == "0");
  CHECK(f.b->Scalar("SELECT count(*) FROM timesheet_entries WHERE id = ?", json{id}) == 0);
  CHECK(f.b->session().status().pending_mutations == 0);
  f.RequireConverged("timesheet_entries");
}

TEST_CASE("a unique violation rejects the whole client transaction and restores server state",
          "[sync][conflict]") {
  Fixture f("conflict_unique");
  const char* insert =
      "INSERT INTO action_codes (\"companyId\", code, name) VALUES (?, 'E2E-DUP', ?)";
  f.a->Sql(insert, json{f.tenant, "A's code"});
  f.b->Sql("BEGIN");
  f.b->Sql(insert, json{f.tenant, "B's code"});
  std::string entry = f.SomeEntry();
  f.b->Sql("UPDATE timesheet_entries SET \"durationMin\" = 999 WHERE id = ?", json{entry});
  f.b->Sql("COMMIT");
  std::string before =
      f.Pg("SELECT \"durationMin\" FROM timesheet_entries WHERE id = '" + entry + "'");
  f.a->Sync();
  SyncReport r = f.b->Sync();
  CHECK(r.rejected_transactions == 1);
  // Nothing of B's transaction reached PostgreSQL, not even the valid update.
  CHECK(f.Pg("SELECT name FROM action_codes WHERE code = 'E2E-DUP'") == "A's code");
  CHECK(f.Pg("SELECT \"durationMin\" FROM timesheet_entries WHERE id = '" + entry + "'") == before);
  // B restored server state for its rows and can read why.
  CHECK(f.b->Scalar("SELECT \"durationMin\" FROM timesheet_entries WHERE id = ?", json{entry}) ==
        std::stoi(before));
  auto rejections = f.b->session().Rejections();
  REQUIRE(rejections.ok());
  REQUIRE(rejections->size() == 1);
  CHECK((*rejections)[0].code == "constraint_violation");
  CHECK((*rejections)[0].rule == "UQ_action_codes_companyId_code");
  CHECK(f.b->Scalar("SELECT count(*) FROM _outpost_rejections") == 1);
  f.RequireConverged("action_codes");
  f.RequireConverged("timesheet_entries");
}

TEST_CASE("an insert whose key exists is rejected with the server row", "[sync][conflict]") {
  Fixture f("conflict_row_exists");
  std::string id = "0193a0c0-0000-7000-8000-00000000e2e1";
  const char* insert =
      "INSERT INTO action_codes (id, \"companyId\", code, name) VALUES (?, ?, ?, 'same key')";
  f.a->Sql(insert, json{id, f.tenant, "A-KEY"});
  f.b->Sql(insert, json{id, f.tenant, "B-KEY"});
  f.a->Sync();
  SyncReport r = f.b->Sync();
  CHECK(r.rejected_transactions == 1);
  auto rejections = f.b->session().Rejections();
  REQUIRE(rejections.ok());
  REQUIRE(rejections->size() == 1);
  CHECK((*rejections)[0].code == "row_exists");
  CHECK(f.Pg("SELECT code FROM action_codes WHERE id = '" + id + "'") == "A-KEY");
  f.RequireConverged("action_codes");
}

}  // namespace
}  // namespace outpost::testing
