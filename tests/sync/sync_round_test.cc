// The step-driven sync round (outpost/sync_round.h), driven by hand as the browser package drives
// it: no transport and no waiting; every request, wait and answer is a step the test sees.
#include "outpost/sync_round.h"

#include <catch2/catch.hpp>

#include "outpost/protocol.h"
#include "outpost/store.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;

constexpr const char* kP1 = "0190a5d2-1c4e-7000-8000-000000000001";

std::string CursorLine(int64_t w, bool bootstrap, bool more = false) {
  return json{{"type", "cursor"},
              {"cursor", protocol::WrapCursor(json{{"w", std::to_string(w)}})},
              {"bootstrap", bootstrap},
              {"more", more}}
      .dump();
}

std::string ProjectRows(const std::string& name) {
  return json{{"type", "rows"},
              {"table", "projects"},
              {"columns", {"id", "name"}},
              {"rows", json::array({json::array({kP1, name})})}}
      .dump();
}

struct Fixture {
  std::unique_ptr<Store> store;
  std::unique_ptr<SyncSession> session;
  Fixture() {
    auto s = Store::Open(":memory:");
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto sess = SyncSession::Open(store.get());
    REQUIRE(sess.ok());
    session = std::move(sess).value();
  }
};

// Takes the next step, which must be a request to `path`.
HttpRequest ExpectSend(SyncRound& round, const std::string& path) {
  SyncStep step = round.Next();
  INFO("status: " << step.status.ToString());
  REQUIRE(step.kind == SyncStep::Kind::kSend);
  INFO(step.request.target);
  CHECK(step.request.target.rfind(path, 0) == 0);
  return step.request;
}

void Answer(SyncRound& round, const std::vector<std::string>& lines, int status = 200) {
  for (const auto& l : lines) REQUIRE(round.OnLine(l).ok());
  round.OnAnswer(status);
}

TEST_CASE("a round is a sequence of steps: schema, push, pull, done", "[sync][round]") {
  Fixture f;
  SyncRound round(*f.session, SyncOptions{});
  ExpectSend(round, "/v1/schema");
  // The descriptor, pretty-printed over many lines; the round joins them.
  std::string schema = SchemaToJson(testing::CoreTestSchema(), /*pretty=*/true);
  for (size_t at = 0; at < schema.size();) {
    size_t nl = std::min(schema.find('\n', at), schema.size());
    REQUIRE(round.OnLine(std::string_view(schema).substr(at, nl - at)).ok());
    at = nl + 1;
  }
  round.OnAnswer(200);
  // Nothing to push: straight to the bootstrap.
  ExpectSend(round, "/v1/pull?schema=");
  Answer(round, {R"({"type":"reset"})", ProjectRows("Alpha"), CursorLine(10, false)});
  SyncStep done = round.Next();
  REQUIRE(done.kind == SyncStep::Kind::kDone);
  CHECK(done.status.ok());
  CHECK(done.report.bootstrapped_now);
  CHECK(done.report.rows_received == 1);
  // Done stays done, and the outcome is recorded in the store.
  CHECK(round.Next().kind == SyncStep::Kind::kDone);
  CHECK(f.session->status().last_sync.has_value());

  // The next round pushes the app's write first.
  REQUIRE(f.store->Execute("UPDATE projects SET name = 'mine'").ok());
  SyncRound second(*f.session, SyncOptions{});
  HttpRequest push = ExpectSend(second, "/v1/push");
  CHECK(push.method == "POST");
  int64_t tx = json::parse(push.body)["transactions"][0]["tx_id"];
  Answer(
      second,
      {json{{"results", {{{"tx_id", tx}, {"status", "applied"}, {"checkpoint", "11"}}}}}.dump()});
  ExpectSend(second, "/v1/pull?schema=");
  Answer(second, {ProjectRows("mine"), CursorLine(12, false)});
  SyncStep end = second.Next();
  REQUIRE(end.kind == SyncStep::Kind::kDone);
  CHECK(end.report.pushed_transactions == 1);
  CHECK(f.session->status().pending_transactions == 0);
}

TEST_CASE("unavailable answers are retried after waits that double", "[sync][round]") {
  Fixture f;
  SyncOptions options;
  options.initial_backoff_ms = 100;
  options.max_backoff_ms = 300;
  options.max_attempts = 4;
  SyncRound round(*f.session, options);
  HttpRequest first = ExpectSend(round, "/v1/schema");
  std::vector<int> waits;
  for (int attempt = 1; attempt < 4; ++attempt) {
    if (attempt == 2) {
      round.OnFailure(Status(Code::kUnavailable, "connection refused"));
    } else {
      round.OnAnswer(503, R"({"error":{"code":"unavailable","message":"busy"}})");
    }
    SyncStep wait = round.Next();
    REQUIRE(wait.kind == SyncStep::Kind::kWait);
    waits.push_back(wait.wait_ms);
    HttpRequest again = ExpectSend(round, "/v1/schema");
    CHECK(again.target == first.target);
  }
  CHECK(waits == std::vector<int>{100, 200, 300});
  // The fourth attempt fails too: the round ends with the error, recorded.
  round.OnFailure(Status(Code::kUnavailable, "connection refused"));
  SyncStep done = round.Next();
  REQUIRE(done.kind == SyncStep::Kind::kDone);
  CHECK(done.status.code() == Code::kUnavailable);
  REQUIRE(f.session->status().last_error.has_value());
}

TEST_CASE("a cut stream pulls again; errors that retrying cannot fix end the round",
          "[sync][round]") {
  Fixture f;
  REQUIRE(f.session->HandleSchema(SchemaToJson(testing::CoreTestSchema())).ok());
  SyncRound round(*f.session, SyncOptions{});
  ExpectSend(round, "/v1/pull?schema=");
  // The stream ends before its cursor line: nothing applied, a short wait, a new pull.
  Answer(round, {R"({"type":"reset"})", ProjectRows("Alpha")});
  CHECK(round.Next().kind == SyncStep::Kind::kWait);
  CHECK(f.store->Execute("SELECT count(*) FROM projects")->rows[0][0] == 0);
  ExpectSend(round, "/v1/pull?schema=");
  // An answer that is not the protocol's ends the round: the client's own error.
  REQUIRE(round.OnLine(R"({"type":"reset"})").ok());
  Status bad = round.OnLine(R"({"type":"rows","table":"projects","rows":[["x"]]})");
  CHECK(bad.code() == Code::kMalformedAnswer);
  round.OnFailure(bad);
  SyncStep done = round.Next();
  REQUIRE(done.kind == SyncStep::Kind::kDone);
  CHECK(done.status.code() == Code::kMalformedAnswer);
}

TEST_CASE("an expired cursor re-bootstraps within the round; a changed schema is fetched",
          "[sync][round]") {
  Fixture f;
  REQUIRE(f.session->HandleSchema(SchemaToJson(testing::CoreTestSchema())).ok());
  for (const auto& l :
       {std::string(R"({"type":"reset"})"), ProjectRows("Alpha"), CursorLine(10, false)}) {
    Status s = f.session->HandlePullLine(l);
    INFO(s.ToString());
    REQUIRE(s.ok());
  }
  REQUIRE(f.session->FinishPull().ok());
  SyncRound round(*f.session, SyncOptions{});
  HttpRequest incremental = ExpectSend(round, "/v1/pull?schema=");
  CHECK(incremental.target.find("cursor=") != std::string::npos);
  round.OnAnswer(410, R"({"error":{"code":"cursor_expired","message":"old"}})");
  HttpRequest bootstrap = ExpectSend(round, "/v1/pull?schema=");
  CHECK(bootstrap.target.find("cursor=") == std::string::npos);
  round.OnAnswer(409, R"({"error":{"code":"schema_mismatch","message":"new schema"}})");
  ExpectSend(round, "/v1/schema");
  Answer(round, {SchemaToJson(testing::CoreTestSchema())});
  ExpectSend(round, "/v1/pull?schema=");
  Answer(round, {R"({"type":"reset"})", ProjectRows("Beta"), CursorLine(20, false)});
  SyncStep done = round.Next();
  REQUIRE(done.kind == SyncStep::Kind::kDone);
  CHECK(done.status.ok());
  CHECK(done.report.bootstrapped_now);
  CHECK(f.store->Execute("SELECT name FROM projects")->rows == json{{"Beta"}});
}

TEST_CASE("a round can be cancelled, and is driven in order", "[sync][round]") {
  Fixture f;
  SyncRound round(*f.session, SyncOptions{});
  ExpectSend(round, "/v1/schema");
  // Asking for the next step before answering is a driver bug, reported as such.
  SyncStep early = round.Next();
  REQUIRE(early.kind == SyncStep::Kind::kDone);
  CHECK(early.status.code() == Code::kInternal);

  SyncRound cancelled(*f.session, SyncOptions{});
  ExpectSend(cancelled, "/v1/schema");
  round.Cancel();  // the first round is over already: no effect
  cancelled.Cancel();
  cancelled.OnAnswer(503);
  SyncStep done = cancelled.Next();
  REQUIRE(done.kind == SyncStep::Kind::kDone);
  CHECK(done.status.code() == Code::kUnavailable);
  CHECK(done.status.message().find("cancelled") != std::string::npos);
}

}  // namespace
}  // namespace outpost
