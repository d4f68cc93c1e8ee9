// Many connected clients against one real outpost-server: parked long-polls cost no thread, so
// the server keeps answering everyone else; a change wakes them all; per-token and per-client
// long-poll limits hold. (Before the event-driven HTTP layer, 70 long-polling clients made
// /healthz time out.)
#include <sys/resource.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>

#include "e2e_harness.h"
#include "outpost/protocol_pull.h"
#include "pg_cluster.h"
#include "raw_socket.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// A subject id that fits a uuid column.
std::string SubjectUuid(int i) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "00000000-0000-4000-8000-%012d", i);
  return buf;
}

void RaiseFileLimit() {
  rlimit lim{};
  getrlimit(RLIMIT_NOFILE, &lim);
  lim.rlim_cur = lim.rlim_max;
  setrlimit(RLIMIT_NOFILE, &lim);
}

struct Fleet {
  std::string db, tenant, user, version, cursor;
  std::unique_ptr<ServerProcess> server;

  explicit Fleet(const std::string& name, std::vector<std::string> args = {}) {
    RaiseFileLimit();
    db = PgCluster::Shared().LoadApp(name, "gogotime", 20);
    server = std::make_unique<ServerProcess>(db, "gogotime", std::move(args));
    tenant = PgScalar(db, "SELECT id FROM companies ORDER BY id LIMIT 1");
    user = PgScalar(db, "SELECT id FROM users WHERE \"companyId\" = '" + tenant + "' LIMIT 1");
    std::string token = MintToken(tenant, user, "admin");
    version = SchemaVersionOf(server->url(), token);
    TestClient client(server->url(), token);
    client.Sync();
    cursor = client.session().status().cursor;
    REQUIRE(!cursor.empty());
  }

  std::string LongPoll(const std::string& token, const std::string& client_id = "") {
    protocol::PullQuery q;
    q.schema = version;
    q.cursor = cursor;
    q.wait_seconds = 55;
    if (!client_id.empty()) q.client_id = client_id;
    return "GET " + protocol::EncodePullTarget(q) +
           " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
  }

  // A change every waiting long-poll of the tenant should wake for.
  void Touch() {
    PgScalar(db,
             "UPDATE action_codes SET name = name || '.' WHERE id = (SELECT id FROM "
             "action_codes WHERE \"companyId\" = '" +
                 tenant + "' ORDER BY id LIMIT 1) RETURNING id");
  }
};

TEST_CASE(
    "capacity: 400 parked long-polls; health, pushes and pulls still answer; a change "
    "wakes them all",
    "[e2e][capacity]") {
  Fleet f("capacity_many");
  const int kPolls = 400;
  std::vector<std::unique_ptr<Socket>> polls;
  for (int i = 0; i < kPolls; ++i) {
    polls.push_back(std::make_unique<Socket>(f.server->port()));
    REQUIRE(polls.back()->connected());
    REQUIRE(polls.back()->Send(f.LongPoll(MintToken(f.tenant, SubjectUuid(i), "admin"))));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  // Nobody has been answered yet: they are waiting for a change.
  size_t answered = 0;
  std::string first_answer;
  for (auto& p : polls) {
    std::string out = p->Read(std::chrono::milliseconds(1));
    if (out.empty()) continue;
    if (answered++ == 0) first_answer = out;
  }
  INFO("first early answer: " << first_answer << "\nfleet cursor: " << f.cursor << "\nchanges: "
                              << PgScalar(f.db,
                                          "SELECT string_agg(xid || ' ' || tbl || ' ' || tenant || "
                                          "' ' || pk::text, E'\\n' ORDER BY id) FROM "
                                          "_outpost.changes"));
  CHECK(answered == 0);

  auto started = Clock::now();
  RawResponse health = RawGet(f.server->url(), "/healthz", "");
  CHECK(health.status == 200);
  CHECK(Clock::now() - started < std::chrono::seconds(5));

  // A field client still pushes and pulls.
  TestClient client(f.server->url(), MintToken(f.tenant, f.user, "admin"));
  client.Sync();
  std::string action = PgScalar(f.db, "SELECT id FROM action_codes WHERE \"companyId\" = '" +
                                          f.tenant + "' ORDER BY id LIMIT 1");
  client.Sql("UPDATE action_codes SET name = 'while 400 wait' WHERE id = ?", json::array({action}));
  client.Sync();
  CHECK(PgScalar(f.db, "SELECT name FROM action_codes WHERE id = '" + action + "'") ==
        "while 400 wait");

  // That push was a change of the tenant: every long-poll answers with it.
  size_t woke = 0;
  auto deadline = Clock::now() + std::chrono::seconds(30);
  for (auto& p : polls) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::string out = p->Read(std::max(left, std::chrono::milliseconds(1)), "\"type\":\"cursor\"");
    if (out.find("HTTP/1.1 200") != std::string::npos &&
        out.find("while 400 wait") != std::string::npos) {
      ++woke;
    }
  }
  CHECK(woke == kPolls);
}

TEST_CASE("capacity: long-polls per token are limited (429); the client id keeps one waiting",
          "[e2e][capacity]") {
  Fleet f("capacity_limits", {"--long-polls-per-token", "3"});
  std::string token = MintToken(f.tenant, f.user, "admin");
  std::vector<std::unique_ptr<Socket>> polls;
  for (int i = 0; i < 3; ++i) {
    polls.push_back(std::make_unique<Socket>(f.server->port()));
    REQUIRE(polls.back()->Send(f.LongPoll(token)));
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  Socket fourth(f.server->port());
  REQUIRE(fourth.Send(f.LongPoll(token)));
  std::string out = fourth.Read(std::chrono::seconds(5), "}");
  CHECK(out.find("HTTP/1.1 429") != std::string::npos);
  CHECK(out.find("\"unavailable\"") != std::string::npos);
  // Another token is not affected.
  Socket other(f.server->port());
  REQUIRE(other.Send(f.LongPoll(MintToken(f.tenant, SubjectUuid(7), "admin"))));
  CHECK(other.Read(std::chrono::milliseconds(300)).empty());

  // One client id: a newer long-poll makes the older one answer at once (an empty page), so
  // abandoned long-polls of a reconnecting client never pile up against the token's limit.
  std::string token2 = MintToken(f.tenant, SubjectUuid(8), "admin");
  Socket first(f.server->port());
  REQUIRE(first.Send(f.LongPoll(token2, "client-a")));
  CHECK(first.Read(std::chrono::milliseconds(300)).empty());
  auto started = Clock::now();
  Socket second(f.server->port());
  REQUIRE(second.Send(f.LongPoll(token2, "client-a")));
  std::string first_out = first.Read(std::chrono::seconds(5), "\"type\":\"cursor\"");
  CHECK(first_out.find("HTTP/1.1 200") != std::string::npos);
  CHECK(Clock::now() - started < std::chrono::seconds(5));
  CHECK(second.Read(std::chrono::milliseconds(300)).empty());  // the newer one waits

  f.Touch();
  for (auto& p : polls) {
    CHECK(p->Read(std::chrono::seconds(10), "\"type\":\"cursor\"").find("HTTP/1.1 200") !=
          std::string::npos);
  }
  CHECK(second.Read(std::chrono::seconds(10), "\"type\":\"cursor\"").find("HTTP/1.1 200") !=
        std::string::npos);
}

}  // namespace
}  // namespace outpost::testing
