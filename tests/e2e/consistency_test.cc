// No change lost, none applied twice: writes by other PostgreSQL backends, transactions that
// commit out of xid order while clients pull continuously, long-poll wake-ups, a server killed
// between committing a push and answering it, an expired cursor.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <random>
#include <thread>

#include "outpost/encoding.h"
#include "outpost/value.h"
#include "pg.h"
#include "pg_cluster.h"
#include "e2e_harness.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

struct Gogotime {
  std::string db, tenant, other_tenant, user, action, token;
  std::unique_ptr<ServerProcess> server;

  explicit Gogotime(const std::string& name, std::vector<std::string> env = {}, int rows = 200) {
    db = PgCluster::Shared().LoadApp(name, "gogotime", rows);
    server = std::make_unique<ServerProcess>(db, "gogotime", std::vector<std::string>{}, env);
    tenant = PgScalar(db, "SELECT id FROM companies ORDER BY id LIMIT 1");
    other_tenant = PgScalar(db, "SELECT id FROM companies ORDER BY id OFFSET 1 LIMIT 1");
    user = PgScalar(
        db, "SELECT id FROM users WHERE \"companyId\" = '" + tenant + "' ORDER BY id LIMIT 1");
    action = PgScalar(db, "SELECT id FROM action_codes WHERE \"companyId\" = '" + tenant +
                              "' ORDER BY id LIMIT 1");
    token = MintToken(tenant, user, "admin");
  }
  // SQL inserting one entry of the tenant with `note`.
  std::string InsertEntry(const std::string& note, const std::string& company = "") const {
    std::string c = company.empty() ? tenant : company;
    std::string u =
        company.empty()
            ? user
            : PgScalar(db, "SELECT id FROM users WHERE \"companyId\" = '" + c + "' LIMIT 1");
    std::string a =
        company.empty()
            ? action
            : PgScalar(db, "SELECT id FROM action_codes WHERE \"companyId\" = '" + c + "' LIMIT 1");
    return "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", country, "
           "\"durationMin\", day, note) VALUES ('" +
           c + "', '" + u + "', '" + a + "', 'TH', 30, '2026-11-21', '" + note + "')";
  }
  json Expected(const std::string& table) const {
    return ExpectedRows(db, "gogotime", table, tenant, user, "admin");
  }
};

std::unique_ptr<server::PgConnection> Connect(const std::string& url) {
  auto c = server::PgConnection::Connect(url);
  REQUIRE(c.ok());
  return std::move(c).value();
}

void Exec(server::PgConnection& c, const std::string& sql) {
  auto r = c.Exec(sql);
  INFO(sql << " -> " << r.status().ToString());
  REQUIRE(r.ok());
}

TEST_CASE("writes made directly in PostgreSQL reach the clients", "[sync][consistency]") {
  Gogotime g("direct_writes");
  TestClient client(g.server->url(), g.token);
  client.Sync();
  std::string moved = PgScalar(g.db, "SELECT id FROM timesheet_entries WHERE \"companyId\" = '" +
                                         g.tenant + "' ORDER BY id DESC LIMIT 1");
  std::string updated = PgScalar(g.db, "SELECT id FROM timesheet_entries WHERE \"companyId\" = '" +
                                           g.tenant + "' ORDER BY id LIMIT 1");
  auto& cluster = PgCluster::Shared();
  cluster.Psql(g.db, g.InsertEntry("direct insert"));
  cluster.Psql(g.db,
               "UPDATE timesheet_entries SET note = 'direct update' WHERE id = '" + updated + "'");
  // Moving a row to another company is a deletion for this tenant's clients.
  cluster.Psql(g.db, "UPDATE timesheet_entries SET \"companyId\" = '" + g.other_tenant +
                         "' WHERE id = '" + moved + "'");
  cluster.Psql(g.db, "DELETE FROM timesheet_entries WHERE \"companyId\" = '" + g.tenant +
                         "' AND id NOT IN ('" + updated +
                         "') AND note IS DISTINCT FROM "
                         "'direct insert' AND id IN (SELECT id FROM timesheet_entries WHERE "
                         "\"companyId\" = '" +
                         g.tenant + "' ORDER BY id LIMIT 3)");
  SyncReport r = client.Sync();
  CHECK(r.rows_received >= 2);
  CHECK(r.deletes_received >= 1);
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE id = ?", json{moved}) == 0);
  CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
}

// The cursor's JSON (base64url): only for looking at what the server chose.
json DecodeCursor(const std::string& cursor) {
  std::string b64 = cursor;
  for (char& c : b64) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (b64.size() % 4) b64.push_back('=');
  auto bytes = Base64Decode(b64);
  REQUIRE(bytes.ok());
  return json::parse(bytes->begin(), bytes->end());
}

TEST_CASE("a big tenant bootstraps in physical order, across a table rewrite, keys rebuilt",
          "[sync][consistency]") {
  // 30,000 entries per company, each company's rows stored together: read by block ranges.
  Gogotime g("physical_order", {}, 90000);
  PgCluster::Shared().Psql(g.db, "VACUUM ANALYZE timesheet_entries");
  const std::string version = SchemaVersionOf(g.server->url(), g.token);

  // The server's answer: every rows line is bounded, however the tenant's rows are spread.
  RawResponse raw = RawGet(g.server->url(), "/v1/pull?schema=" + version + "&limit=20000", g.token);
  REQUIRE(raw.status == 200);
  bool by_block = false;
  size_t lines = 0;
  for (size_t start = 0, nl; (nl = raw.body.find('\n', start)) != std::string::npos;
       start = nl + 1) {
    json line = json::parse(raw.body.substr(start, nl - start));
    ++lines;
    if (line["type"] == "rows") CHECK(line["rows"].size() <= 2 * 4096);
    if (line["type"] == "cursor" && line["bootstrap"] == true) {
      by_block = by_block || DecodeCursor(line["cursor"].get<std::string>()).contains("b");
    }
  }
  CHECK(lines > 10);
  CHECK(by_block);

  // A client with a low set-aside threshold takes a few pages, then the table is rewritten
  // (VACUUM FULL: new relation file), so the server reads it again from block 0 and rows come
  // twice; the client finishes, dropping the earlier copies when it rebuilds the key.
  SessionOptions options;
  options.set_aside_index_rows = 1000;
  TestClient client(g.server->url(), g.token, options);
  REQUIRE(client.session().HandleSchema(RawGet(g.server->url(), "/v1/schema", g.token).body).ok());
  int cursors_after_entries = 0;
  bool entries_seen = false;
  std::string error_body;
  // Pulls until `cursors` cursor lines have come after the first timesheet_entries rows.
  auto pull_cut_after = [&](int cursors) {
    cursors_after_entries = 0;
    auto cut = client.transport().Send(
        client.session().PullRequest(0, 2000),
        [&](std::string_view text) -> Status {
          OUTPOST_RETURN_IF_ERROR(client.session().HandlePullLine(text));
          json line = json::parse(text);
          if (line["type"] == "rows" && line["table"] == "timesheet_entries") entries_seen = true;
          if (line["type"] == "cursor" && entries_seen && ++cursors_after_entries == cursors) {
            return Status(Code::kUnavailable, "cut on purpose");
          }
          return Status::Ok();
        },
        &error_body);
    client.session().AbortPull();
    REQUIRE(cursors_after_entries == cursors);
    return cut;
  };
  auto cut = pull_cut_after(3);
  CHECK(cut.status().code() == Code::kUnavailable);
  CHECK_FALSE(client.session().bootstrapped());
  // The key index of timesheet_entries is set aside by now.
  CHECK(client.Scalar("SELECT count(*) FROM sqlite_schema WHERE name = "
                      "'_outpost_key_timesheet_entries'") == 0);
  const int64_t before_rewrite = client.Scalar("SELECT count(*) FROM timesheet_entries");
  CHECK(before_rewrite >= 4000);

  PgCluster::Shared().Psql(g.db, "VACUUM FULL timesheet_entries");
  CHECK(pull_cut_after(1).status().code() == Code::kUnavailable);
  // Read again from block 0: the first rows came a second time.
  CHECK(client.Scalar("SELECT count(*) - count(DISTINCT id) FROM timesheet_entries") > 0);
  client.Sync();
  CHECK(client.session().bootstrapped());
  CHECK(client.Scalar("SELECT count(*) FROM sqlite_schema WHERE name = "
                      "'_outpost_key_timesheet_entries'") == 1);
  CHECK(client.Scalar("SELECT count(*) FROM sqlite_schema WHERE name = "
                      "'IDX_timesheet_entries_companyId_userId_day'") == 1);
  CHECK(client.Scalar("SELECT count(*) FROM _outpost_meta WHERE key = "
                      "'bootstrap_set_aside_indexes'") == 0);
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries") == 30000);
  CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
  CHECK(client.Rows("timesheets") == g.Expected("timesheets"));

  // The key works again: an offline write and an incremental pull.
  client.Sql(g.InsertEntry("after bootstrap"));
  PgCluster::Shared().Psql(g.db,
                           "UPDATE timesheet_entries SET note = 'server side' WHERE id = "
                           "(SELECT id FROM timesheet_entries WHERE \"companyId\" = '" +
                               g.tenant + "' ORDER BY id LIMIT 1)");
  client.Sync();
  CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
}

TEST_CASE("a long-poll pull wakes up when a change commits", "[sync][consistency]") {
  Gogotime g("long_poll");
  TestClient client(g.server->url(), g.token);
  client.Sync();
  std::atomic<bool> done{false};
  Result<SyncReport> result = Status(Code::kInternal, "not run");
  auto start = Clock::now();
  std::thread poller([&] {
    result = client.TrySync(20);
    done = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  PgCluster::Shared().Psql(g.db, g.InsertEntry("woke the poll"));
  poller.join();
  auto elapsed = Clock::now() - start;
  REQUIRE(result.ok());
  CHECK(elapsed < std::chrono::seconds(15));  // woken, not timed out at 20 s
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE note = 'woke the poll'") == 1);
}

TEST_CASE("a long-poll wakes up when an older transaction stops holding a change back",
          "[sync][consistency]") {
  Gogotime g("long_poll_held");
  TestClient client(g.server->url(), g.token);
  client.Sync();
  // An older transaction with an xid, touching no synced table: it holds the watermark below the
  // change committed next, and its own end sends no NOTIFY.
  auto older = Connect(g.db);
  Exec(*older, "BEGIN");
  Exec(*older, "SELECT pg_current_xact_id()");
  PgCluster::Shared().Psql(g.db, g.InsertEntry("held back"));
  Result<SyncReport> result = Status(Code::kInternal, "not run");
  auto start = Clock::now();
  std::thread poller([&] { result = client.TrySync(20); });
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  Exec(*older, "COMMIT");
  poller.join();
  auto elapsed = Clock::now() - start;
  REQUIRE(result.ok());
  CHECK(elapsed < std::chrono::seconds(15));  // re-checked, not timed out at 20 s
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE note = 'held back'") == 1);
}

TEST_CASE("transactions committing out of xid order are never missed", "[sync][consistency]") {
  Gogotime g("xid_order");
  TestClient client(g.server->url(), g.token);
  client.Sync();

  SECTION("one held open while a later one commits") {
    auto early = Connect(g.db);
    auto late = Connect(g.db);
    Exec(*early, "BEGIN");
    Exec(*early, g.InsertEntry("early xid"));  // takes the lower xid
    Exec(*late, g.InsertEntry("late xid"));    // autocommit: higher xid, commits first
    client.Sync();
    Exec(*early, "COMMIT");
    client.Sync();
    CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE note IN ('early xid', "
                        "'late xid')") == 2);
  }

  SECTION("many writers with random hold times while the client pulls continuously") {
    constexpr int kWriters = 4;
    constexpr int kTransactionsPerWriter = 25;
    std::atomic<int> writers_left{kWriters};
    std::vector<std::thread> writers;
    for (int w = 0; w < kWriters; ++w) {
      writers.emplace_back([&, w] {
        auto conn = server::PgConnection::Connect(g.db);
        if (!conn.ok()) {
          --writers_left;
          return;
        }
        std::mt19937 rng(static_cast<unsigned>(w + 1));
        for (int i = 0; i < kTransactionsPerWriter; ++i) {
          (void)(*conn)->Exec("BEGIN");
          (void)(*conn)->Exec(g.InsertEntry("w" + std::to_string(w) + "-" + std::to_string(i)));
          (void)(*conn)->Exec("UPDATE timesheet_entries SET \"durationMin\" = " +
                              std::to_string(i) + " WHERE note = 'w" + std::to_string(w) + "-0'");
          std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 40));
          (void)(*conn)->Exec("COMMIT");
        }
        --writers_left;
      });
    }
    int pulls = 0;
    while (writers_left > 0) {
      auto r = client.TrySync(1);
      INFO(r.status().ToString());
      REQUIRE(r.ok());
      ++pulls;
    }
    for (auto& t : writers) t.join();
    client.Sync();
    CHECK(pulls > 3);
    CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE note LIKE 'w%-%'") ==
          kWriters * kTransactionsPerWriter);
    CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
  }
}

TEST_CASE("a push committed by a server killed before answering is applied exactly once",
          "[sync][consistency]") {
  Gogotime g("exactly_once", {"OUTPOST_FAULT=crash_after_push_commit"});
  TestClient client(g.server->url(), g.token);
  client.Sync();
  std::string id = PgScalar(g.db, "SELECT id FROM timesheets WHERE \"companyId\" = '" + g.tenant +
                                      "' ORDER BY id LIMIT 1");
  int base =
      std::stoi(PgScalar(g.db, "SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + id + "'"));
  // totalMinutes is additive: applying the transaction twice would add 15 twice.
  client.Sql("BEGIN");
  client.Sql("UPDATE timesheets SET \"totalMinutes\" = \"totalMinutes\" + 15 WHERE id = ?",
             json{id});
  client.Sql(
      "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", country, "
      "\"durationMin\", day, note) VALUES (?, ?, ?, 'TH', 15, '2026-11-22', 'once')",
      json{g.tenant, g.user, g.action});
  client.Sql("COMMIT");
  auto first = client.TrySync();
  CHECK_FALSE(first.ok());  // the server died before answering
  CHECK(client.session().status().pending_mutations == 2);
  // The transaction did commit in PostgreSQL.
  CHECK(PgScalar(g.db, "SELECT count(*) FROM timesheet_entries WHERE note = 'once'") == "1");

  g.server->set_env({});
  g.server->Start();
  SyncReport r = client.Sync();
  CHECK(r.rejected_transactions == 0);
  CHECK(client.session().status().pending_mutations == 0);
  CHECK(PgScalar(g.db, "SELECT count(*) FROM timesheet_entries WHERE note = 'once'") == "1");
  CHECK(PgScalar(g.db, "SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + id + "'") ==
        std::to_string(base + 15));
  client.Sync();
  CHECK(client.Rows("timesheets") == g.Expected("timesheets"));
}

TEST_CASE("an expired cursor re-bootstraps and keeps the outbox", "[sync][consistency]") {
  Gogotime g("expired_cursor");
  TestClient client(g.server->url(), g.token);
  client.Sync();
  client.Sql(
      "UPDATE timesheet_entries SET note = 'kept offline' WHERE id = (SELECT id FROM "
      "timesheet_entries ORDER BY id LIMIT 1)");
  PgCluster::Shared().Psql(g.db, g.InsertEntry("after prune"));
  PgCluster::Shared().Psql(g.db,
                           "SELECT _outpost.prune_before(pg_snapshot_xmin(pg_current_snapshot()))");
  // The stored cursor is now below the horizon: the server answers 410 and the client starts over.
  SyncReport r = client.Sync();
  CHECK(r.bootstrapped_now);
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE note = 'after prune'") == 1);
  CHECK(PgScalar(g.db, "SELECT count(*) FROM timesheet_entries WHERE note = 'kept offline'") ==
        "1");
  client.Sync();
  CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
}

TEST_CASE("a TRUNCATE in PostgreSQL makes clients bootstrap again and keeps their offline writes",
          "[sync][consistency]") {
  Gogotime g("truncated");
  TestClient client(g.server->url(), g.token);
  client.Sync();
  REQUIRE(client.Scalar("SELECT count(*) FROM timesheet_history") > 0);
  client.Sql(
      "UPDATE timesheet_entries SET note = 'kept offline' WHERE id = (SELECT id FROM "
      "timesheet_entries ORDER BY id LIMIT 1)");
  // No row is visited by a TRUNCATE, so no key is logged: without the marker the client would
  // keep every row of the table.
  PgCluster::Shared().Psql(g.db, "TRUNCATE timesheet_history");
  PgCluster::Shared().Psql(g.db, g.InsertEntry("after truncate"));
  SyncReport r = client.Sync();
  CHECK(r.bootstrapped_now);
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_history") == 0);
  CHECK(client.Scalar("SELECT count(*) FROM timesheet_entries WHERE note = 'after truncate'") == 1);
  CHECK(PgScalar(g.db, "SELECT count(*) FROM timesheet_entries WHERE note = 'kept offline'") ==
        "1");
  CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
  // The marker is behind the new cursor: later pulls are incremental again.
  PgCluster::Shared().Psql(g.db, g.InsertEntry("later"));
  SyncReport later = client.Sync();
  CHECK_FALSE(later.bootstrapped_now);
  CHECK(client.Rows("timesheet_entries") == g.Expected("timesheet_entries"));
  CHECK(client.Rows("timesheet_history") == g.Expected("timesheet_history"));
}

TEST_CASE("rows of via children move with a parent that changes tenant", "[sync][consistency]") {
  const std::string db = PgCluster::Shared().LoadApp("via_move", "ncy8", 200);
  ServerProcess server(db, "ncy8");
  const std::string org_a = PgScalar(db, "SELECT id FROM \"Organization\" ORDER BY id LIMIT 1");
  const std::string org_b =
      PgScalar(db, "SELECT id FROM \"Organization\" ORDER BY id OFFSET 1 LIMIT 1");
  auto member_of = [&](const std::string& org) {
    return PgScalar(db, "SELECT user_id FROM \"OrganizationMember\" WHERE organization_id = '" +
                            org + "' ORDER BY user_id LIMIT 1");
  };
  const std::string user_a = member_of(org_a), user_b = member_of(org_b);
  TestClient a(server.url(), MintToken(org_a, user_a, "OWNER"));
  TestClient b(server.url(), MintToken(org_b, user_b, "OWNER"));
  a.Sync();
  b.Sync();
  const std::string project =
      PgScalar(db, "SELECT p.id FROM \"Project\" p WHERE p.organization_id = '" + org_a +
                       "' AND EXISTS (SELECT 1 FROM \"Task\" t WHERE t.project_id = p.id) "
                       "ORDER BY p.id LIMIT 1");
  REQUIRE_FALSE(project.empty());
  const std::string tasks_of = "SELECT count(*) FROM \"Task\" WHERE project_id = ?";
  const int64_t tasks = a.Scalar(tasks_of, json::array({project}));
  REQUIRE(tasks > 0);
  CHECK(b.Scalar(tasks_of, json::array({project})) == 0);

  // Task rows are scoped through their project: moving the project to B moves its tasks, though
  // no Task row changes.
  PgCluster::Shared().Psql(
      db, "UPDATE \"Project\" SET organization_id = '" + org_b + "' WHERE id = '" + project + "'");
  a.Sync();
  b.Sync();
  CHECK(a.Scalar(tasks_of, json::array({project})) == 0);
  CHECK(b.Scalar(tasks_of, json::array({project})) == tasks);
  for (const char* table : {"Project", "Task"}) {
    INFO(table);
    CHECK(a.Rows(table) == ExpectedRows(db, "ncy8", table, org_a, user_a, "OWNER"));
    CHECK(b.Rows(table) == ExpectedRows(db, "ncy8", table, org_b, user_b, "OWNER"));
  }
}

}  // namespace
}  // namespace outpost::testing
