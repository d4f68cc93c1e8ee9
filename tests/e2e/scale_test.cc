// Horizontal scale: several outpost-server instances over one PostgreSQL, behind a load balancer
// that sends each request to the next instance, must behave as one server (docs/server.md).
// Everything that must hold across requests lives in PostgreSQL: the exactly-once record
// (_outpost.pushes), the change log and its watermarks (_outpost.changes, cursors carry no
// server-local state), and long-poll wake-ups (LISTEN/NOTIFY, which every instance listens to).
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <future>
#include <thread>

#include "e2e_harness.h"
#include "pg.h"
#include "pg_cluster.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A round-robin load balancer in front of several instances: request i goes to instance
// i mod n. `lose_next_push` makes it drop the answer of the next push after the instance has
// answered (a connection cut on the way back), so the client retries it, on the next instance.
class Balancer : public Transport {
 public:
  Balancer(const std::vector<std::string>& urls, const std::string& token, size_t first = 0)
      : next_(first) {
    for (const auto& u : urls) backends_.push_back(std::make_unique<HttpTransport>(u, token));
    served_.assign(urls.size(), 0);
  }

  Result<int> Send(const HttpRequest& request,
                   const std::function<Status(std::string_view line)>& on_line,
                   std::string* error_body) override {
    size_t i = next_++ % backends_.size();
    ++served_[i];
    const bool push = request.target.rfind("/v1/push", 0) == 0;
    if (push) pushes_.push_back(i);
    if (push && lose_next_push_) {
      lose_next_push_ = false;
      auto r = backends_[i]->Send(
          request, [](std::string_view) { return Status::Ok(); }, error_body);
      if (!r.ok()) return r;
      ++lost_;
      return Status(Code::kUnavailable, "balancer: the answer was lost on the way back");
    }
    return backends_[i]->Send(request, on_line, error_body);
  }

  void LoseNextPush() { lose_next_push_ = true; }
  const std::vector<int>& served() const { return served_; }
  const std::vector<size_t>& pushes() const { return pushes_; }  // instance of each push sent
  int lost() const { return lost_; }

 private:
  std::vector<std::unique_ptr<HttpTransport>> backends_;
  size_t next_;
  std::vector<int> served_;
  std::vector<size_t> pushes_;
  bool lose_next_push_ = false;
  int lost_ = 0;
};

// GoGoTime served by two instances on one database.
struct Cluster {
  std::string db, tenant, user, action, token;
  std::unique_ptr<ServerProcess> a, b;

  explicit Cluster(const std::string& name) {
    db = PgCluster::Shared().LoadApp(name, "gogotime", 100);
    // Started at the same time, as a deployment rolls out instances: both install the
    // `_outpost` state and triggers at once (install.cc serialises them with an advisory lock).
    auto start = [&] { return std::make_unique<ServerProcess>(db, "gogotime"); };
    auto fa = std::async(std::launch::async, start);
    auto fb = std::async(std::launch::async, start);
    a = fa.get();
    b = fb.get();
    tenant = PgScalar(db, "SELECT id FROM companies ORDER BY id LIMIT 1");
    user = PgScalar(
        db, "SELECT id FROM users WHERE \"companyId\" = '" + tenant + "' ORDER BY id LIMIT 1");
    action = PgScalar(db, "SELECT id FROM action_codes WHERE \"companyId\" = '" + tenant +
                              "' ORDER BY id LIMIT 1");
    token = MintToken(tenant, user, "admin");
  }
  std::vector<std::string> urls() const { return {a->url(), b->url()}; }
  std::string InsertEntry(const std::string& note) const {
    return "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", country, "
           "\"durationMin\", day, note) VALUES ('" +
           tenant + "', '" + user + "', '" + action + "', 'TH', 30, '2026-11-21', '" + note + "')";
  }
  json Expected(const std::string& table) const {
    return ExpectedRows(db, "gogotime", table, tenant, user, "admin");
  }
};

SyncReport SyncVia(TestClient& client, Transport& transport, int wait_seconds = 0) {
  SyncOptions options;
  options.wait_seconds = wait_seconds;
  options.initial_backoff_ms = 20;
  auto r = SyncNow(client.session(), transport, options);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

TEST_CASE("scale: a push replayed to another instance after a lost answer applies once",
          "[sync][scale]") {
  Cluster c("scale_once");
  TestClient client(c.a->url(), c.token);
  Balancer lb(c.urls(), c.token);
  SyncVia(client, lb);  // bootstrap, pages from both instances
  CHECK(lb.served()[0] > 0);
  CHECK(lb.served()[1] > 0);

  std::string id = PgScalar(c.db, "SELECT id FROM timesheets WHERE \"companyId\" = '" + c.tenant +
                                      "' ORDER BY id LIMIT 1");
  int base =
      std::stoi(PgScalar(c.db, "SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + id + "'"));
  // totalMinutes is additive: applying the transaction twice would add 15 twice, and the
  // insert would come back as row_exists.
  client.Sql("BEGIN");
  client.Sql("UPDATE timesheets SET \"totalMinutes\" = \"totalMinutes\" + 15 WHERE id = ?",
             json{id});
  client.Sql(c.InsertEntry("scale-once"));
  client.Sql("COMMIT");
  lb.LoseNextPush();
  SyncReport r = SyncVia(client, lb);
  CHECK(lb.lost() == 1);
  // The push was sent twice, to different instances.
  REQUIRE(lb.pushes().size() == 2);
  CHECK(lb.pushes()[0] != lb.pushes()[1]);
  CHECK(r.rejected_transactions == 0);
  CHECK(client.session().status().pending_mutations == 0);
  CHECK(PgScalar(c.db, "SELECT count(*) FROM timesheet_entries WHERE note = 'scale-once'") == "1");
  CHECK(PgScalar(c.db, "SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + id + "'") ==
        std::to_string(base + 15));
  CHECK(PgScalar(c.db, "SELECT count(*) FROM _outpost.pushes") == "1");
  SyncVia(client, lb);
  CHECK(client.Rows("timesheets") == c.Expected("timesheets"));
  CHECK(client.Rows("timesheet_entries") == c.Expected("timesheet_entries"));
}

TEST_CASE("scale: concurrent writers through alternating instances miss no change",
          "[sync][scale]") {
  Cluster c("scale_no_miss");
  constexpr int kRounds = 12;
  TestClient x(c.a->url(), c.token), y(c.b->url(), c.token);
  Balancer lx(c.urls(), c.token, 0), ly(c.urls(), c.token, 1);
  SyncVia(x, lx);
  SyncVia(y, ly);
  std::atomic<bool> failed{false};
  auto writer = [&](TestClient* client, Balancer* lb, const std::string& name) {
    for (int i = 0; i < kRounds && !failed; ++i) {
      Status w = client->TrySql(c.InsertEntry(name + "-" + std::to_string(i)));
      SyncOptions options;
      options.initial_backoff_ms = 20;
      auto r = SyncNow(client->session(), *lb, options);
      if (!w.ok() || !r.ok() || r->rejected_transactions != 0) failed = true;
    }
  };
  // A third writer straight into PostgreSQL, as other backends of the application do.
  auto pg = server::PgConnection::Connect(c.db);
  REQUIRE(pg.ok());
  std::thread direct([&] {
    for (int i = 0; i < kRounds; ++i) {
      if (!(*pg)->Exec(c.InsertEntry("pg-" + std::to_string(i))).ok()) failed = true;
      std::this_thread::sleep_for(std::chrono::milliseconds(15));
    }
  });
  std::thread tx([&] { writer(&x, &lx, "x"); });
  std::thread ty([&] { writer(&y, &ly, "y"); });
  tx.join();
  ty.join();
  direct.join();
  REQUIRE_FALSE(failed);
  // Each client pulled through both instances, each instance answering cursors the other issued.
  CHECK(lx.served()[0] > kRounds);
  CHECK(lx.served()[1] > kRounds);
  CHECK(ly.served()[0] > kRounds);
  CHECK(ly.served()[1] > kRounds);

  SyncVia(x, lx);
  SyncVia(y, ly);
  const json expected = c.Expected("timesheet_entries");
  CHECK(PgScalar(c.db, "SELECT count(*) FROM timesheet_entries WHERE note ~ '^[xy]-|^pg-'") ==
        std::to_string(3 * kRounds));
  for (TestClient* client : {&x, &y}) {
    CHECK(client->Scalar("SELECT count(*) FROM timesheet_entries WHERE note LIKE 'x-%'") ==
          kRounds);
    CHECK(client->Scalar("SELECT count(*) FROM timesheet_entries WHERE note LIKE 'y-%'") ==
          kRounds);
    CHECK(client->Scalar("SELECT count(*) FROM timesheet_entries WHERE note LIKE 'pg-%'") ==
          kRounds);
    CHECK(client->Rows("timesheet_entries") == expected);
  }
}

TEST_CASE("scale: a long-poll on one instance wakes when a push lands on the other",
          "[sync][scale]") {
  Cluster c("scale_wake");
  TestClient listener(c.b->url(), c.token), writer(c.a->url(), c.token);
  listener.Sync();
  writer.Sync();
  for (int round = 0; round < 2; ++round) {
    std::atomic<bool> done{false};
    Clock::time_point returned;
    Result<SyncReport> polled = Status(Code::kInternal, "not run");
    std::thread poll([&] {
      polled = listener.TrySync(/*wait_seconds=*/30);
      returned = Clock::now();
      done = true;
    });
    // Let the long-poll reach instance B and start waiting.
    std::this_thread::sleep_for(std::chrono::milliseconds(1000));
    CHECK_FALSE(done);
    const std::string note = "wake-" + std::to_string(round);
    writer.Sql(c.InsertEntry(note));
    Clock::time_point pushed = Clock::now();
    writer.Sync();  // through instance A
    poll.join();
    INFO(polled.status().ToString());
    REQUIRE(polled.ok());
    auto latency = std::chrono::duration_cast<std::chrono::milliseconds>(returned - pushed).count();
    INFO("woke " << latency << " ms after the push started");
    CHECK(latency < 5000);
    CHECK(polled->rows_received >= 1);
    CHECK(listener.Scalar("SELECT count(*) FROM timesheet_entries WHERE note = ?", json{note}) ==
          1);
  }
}

}  // namespace
}  // namespace outpost::testing
