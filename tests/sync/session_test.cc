// The client sync session against hand-written wire-format fixtures (docs/protocol.md): pull
// lines and push answers as the server sends them, with the local database and outbox checked
// after each step. No server and no mocks of PostgreSQL.
#include <catch2/catch.hpp>
#include <deque>

#include "outpost/encoding.h"
#include "outpost/mirror.h"
#include "outpost/store.h"
#include "outpost/sync_round.h"
#include "outpost/value.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;

constexpr const char* kP1 = "0190a5d2-1c4e-7000-8000-000000000001";
constexpr const char* kP2 = "0190a5d2-1c4e-7000-8000-000000000002";
constexpr const char* kP3 = "0190a5d2-1c4e-7000-8000-000000000003";
constexpr const char* kT1 = "0190a5d2-1c4e-7000-8000-0000000000a1";
constexpr const char* kT2 = "0190a5d2-1c4e-7000-8000-0000000000a2";

// The core test schema plus a child of the serial-keyed orders table, and a table with a plain
// and a partial unique index.
Schema ClientSchema() {
  Schema s = testing::CoreTestSchema();
  Table lines;
  lines.name = "order_lines";
  Column id = testing::MakeColumn("id", TypeKind::kUuid, "uuid", false);
  id.default_expr = "gen_random_uuid()";
  Column order_id = testing::MakeColumn("order_id", TypeKind::kInteger, "integer", false);
  Column qty = testing::MakeColumn("qty", TypeKind::kInteger, "integer", false);
  lines.columns = {id, order_id, qty};
  lines.primary_key = {"id"};
  ForeignKey fk;
  fk.name = "order_lines_order_fk";
  fk.columns = {"order_id"};
  fk.ref_table = "orders";
  fk.ref_columns = {"id"};
  fk.on_delete = FkAction::kCascade;
  lines.foreign_keys = {fk};
  Index by_order;  // a plain index, set aside during bootstraps
  by_order.name = "order_lines_order_idx";
  by_order.keys = {"order_id", "qty"};
  by_order.key_is_expression = {false, false};
  by_order.descending = {false, true};
  lines.indexes = {by_order};
  lines.sync.scope.kind = ScopeKind::kAll;
  s.tables.push_back(lines);

  // A table with a plain unique constraint (set aside during bootstraps) and a partial unique
  // index (which stays).
  Table members;
  members.name = "members";
  Column email = testing::MakeColumn("email", TypeKind::kText, "text", false);
  Column nick = testing::MakeColumn("nick", TypeKind::kText, "text", true);
  Column team = testing::MakeColumn("team", TypeKind::kInteger, "integer", true);
  members.columns = {id, email, nick, team};
  members.primary_key = {"id"};
  members.uniques = {UniqueConstraint{"members_email_key", {"email"}}};
  Index nick_in_team;
  nick_in_team.name = "members_nick_in_team_key";
  nick_in_team.unique = true;
  nick_in_team.keys = {"nick"};
  nick_in_team.key_is_expression = {false};
  nick_in_team.descending = {false};
  nick_in_team.where = "(team IS NOT NULL)";
  members.indexes = {nick_in_team};
  members.sync.scope.kind = ScopeKind::kAll;
  s.tables.push_back(members);
  return s;
}

// A cursor as the server makes them: base64url of its JSON, here with the watermark w.
std::string Cursor(int64_t w, int page = 0) {
  return protocol::WrapCursor(json{{"w", std::to_string(w)}, {"p", page}});
}

std::string CursorLine(const std::string& cursor, bool bootstrap, bool more = false) {
  return json{{"type", "cursor"}, {"cursor", cursor}, {"bootstrap", bootstrap}, {"more", more}}
      .dump();
}

std::string ProjectRows(const json& rows) {
  // Keys in the order nlohmann prints them (sorted): "rows" comes before "table".
  return json{{"type", "rows"},
              {"table", "projects"},
              {"columns", {"id", "name", "active", "budget"}},
              {"rows", rows}}
      .dump();
}

struct Client {
  std::unique_ptr<Store> store;
  std::unique_ptr<SyncSession> session;

  explicit Client(const SessionOptions& options = {}, const std::string& path = ":memory:") {
    auto s = Store::Open(path);
    REQUIRE(s.ok());
    store = std::move(s).value();
    auto sess = SyncSession::Open(store.get(), options);
    INFO(sess.status().ToString());
    REQUIRE(sess.ok());
    session = std::move(sess).value();
    CHECK(session->needs_schema());
    auto report = session->HandleSchema(SchemaToJson(ClientSchema()));
    INFO(report.status().ToString());
    REQUIRE(report.ok());
    CHECK_FALSE(session->needs_schema());
  }

  // Feeds one answer; returns FinishPull's result.
  Result<bool> Pull(const std::vector<std::string>& lines) {
    for (const auto& l : lines) {
      Status s = session->HandlePullLine(l);
      if (!s.ok()) {
        session->AbortPull();
        return s;
      }
    }
    return session->FinishPull();
  }
  void MustPull(const std::vector<std::string>& lines) {
    auto r = Pull(lines);
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }

  json Query(const std::string& sql, const json& params = json::array()) {
    auto r = store->Execute(sql, params);
    INFO(sql << ": " << r.status().ToString());
    REQUIRE(r.ok());
    return r->rows;
  }
  void Sql(const std::string& sql, const json& params = json::array()) { Query(sql, params); }

  void Bootstrap(const json& project_rows, int64_t w = 100) {
    MustPull({R"({"type":"reset"})", ProjectRows(project_rows), CursorLine(Cursor(w), false)});
    REQUIRE(session->bootstrapped());
  }

  json PushBody() {
    auto req = session->PushRequest();
    REQUIRE(req.ok());
    REQUIRE(req->has_value());
    CHECK((*req)->method == "POST");
    CHECK((*req)->target == "/v1/push");
    return json::parse((*req)->body);
  }
};

TEST_CASE("a bootstrap in pages resets the mirror, loads rows and keeps offline writes",
          "[client]") {
  Client c;
  CHECK(c.session->PullRequest().target.find("cursor=") == std::string::npos);
  // An offline write before the first sync.
  c.Sql("INSERT INTO projects (id, name) VALUES (?, 'offline')", json{kP3});
  // Stale rows that the reset must remove (written as the engine, not captured).
  REQUIRE(c.store
              ->RunAsEngine([&] {
                return c.store
                    ->Execute("INSERT INTO projects (id, name) VALUES (?, 'stale')", json{kP2})
                    .status();
              })
              .ok());

  auto more = c.Pull({R"({"type":"reset"})", ProjectRows({{kP1, "Alpha", true, "12.50"}}),
                      CursorLine(Cursor(100, 1), true, /*more=*/true)});
  REQUIRE(more.ok());
  CHECK(*more);
  CHECK_FALSE(c.session->bootstrapped());
  CHECK(c.session->bootstrap_rows() == 1);
  CHECK(c.Query("SELECT id FROM projects ORDER BY id") == json{{kP1}});
  // The next request continues from the stored cursor.
  CHECK(c.session->PullRequest(30, 1000).target ==
        "/v1/pull?schema=" + SchemaVersion(ClientSchema()) + "&cursor=" + Cursor(100, 1) +
            "&limit=1000");

  json task_rows =
      json{{"type", "rows"},
           {"table", "tasks"},
           {"columns", {"id", "project_id", "title", "minutes", "score", "blob"}},
           {"rows",
            {{kT1, kP1, "q\"\\\n\u00e9 \xF0\x9F\x9A\x80", 30, 0.25, {{"$blob", "AP8="}}},
             {kT2, kP1, "inf", 0, "Infinity", nullptr}}}};
  more = c.Pull({task_rows.dump(), CursorLine(Cursor(100, 2), false)});
  REQUIRE(more.ok());
  CHECK_FALSE(*more);
  CHECK(c.session->bootstrapped());
  CHECK(c.session->bootstrap_rows() == 3);
  CHECK(c.Query("SELECT name, active, budget FROM projects WHERE id = ?", json{kP1}) ==
        json{{"Alpha", true, "12.50"}});
  CHECK(c.Query("SELECT title, minutes, score, blob FROM tasks WHERE id = ?", json{kT1}) ==
        json{{"q\"\\\n\u00e9 \xF0\x9F\x9A\x80", 30, 0.25, {{"$blob", "AP8="}}}});
  CHECK(c.Query("SELECT score FROM tasks WHERE id = ?", json{kT2}) == json{{"Infinity"}});
  // The offline insert survived the reset; the stale row did not; nothing was captured.
  CHECK(c.Query("SELECT id FROM projects ORDER BY id") == json{{kP1}, {kP3}});
  CHECK(c.session->status().pending_mutations == 1);
  CHECK(c.session->status().cursor == Cursor(100, 2));
  CHECK(c.session->PullRequest(30).target.find("&wait=30") != std::string::npos);
}

TEST_CASE("a bootstrap sets a big table's indexes aside and rebuilds them with its last page",
          "[client]") {
  SessionOptions options;
  options.set_aside_index_rows = 1;  // from the second rows line of a table on
  Client c(options);
  const std::string kL1 = "0190a5d2-1c4e-7000-8000-0000000000a1";
  const std::string kL2 = "0190a5d2-1c4e-7000-8000-0000000000a2";
  const std::string kL3 = "0190a5d2-1c4e-7000-8000-0000000000a3";
  auto line_rows = [](const json& rows) {
    return json{{"type", "rows"},
                {"table", "order_lines"},
                {"columns", {"id", "order_id", "qty"}},
                {"rows", rows}}
        .dump();
  };
  const std::string query =
      "SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'order_lines' "
      "ORDER BY name";
  const json original = c.Query(query);
  // The key index and the plain index; nothing else indexes order_lines.
  REQUIRE(original.size() == 2);
  CHECK(original[0][0] == "_outpost_key_order_lines");
  CHECK(original[1][0] == "order_lines_order_idx");
  auto set_aside = [&] {
    auto r = c.store->GetMeta("bootstrap_set_aside_indexes");
    REQUIRE(r.ok());
    return *r;
  };

  c.MustPull({R"({"type":"reset"})", line_rows({{kL1, 1, 1}}),
              ProjectRows({{kP1, "Alpha", true, nullptr}}),
              CursorLine(Cursor(100, 1), true, /*more=*/true)});
  CHECK(c.Query(query) == original);  // one row so far: nothing set aside

  // A second line of order_lines: its indexes go first. kL1 comes again (the server restarted the
  // table after a rewrite); without a key both copies are kept for now.
  c.MustPull({line_rows({{kL2, 1, 2}, {kL1, 1, 5}}), CursorLine(Cursor(100, 2), true, true)});
  CHECK(c.Query(query).empty());
  REQUIRE(set_aside().has_value());
  CHECK(json::parse(*set_aside()).size() == 2);
  CHECK(c.Query("SELECT count(*) FROM order_lines") == json{{3}});
  // Other tables keep theirs: projects has had a single rows line.
  CHECK(c.Query("SELECT count(*) FROM sqlite_schema WHERE name = '_outpost_key_projects'") ==
        json{{1}});

  // A restarted session continues without a key and rebuilds everything at the end, keeping the
  // later copy of a row sent twice.
  auto session = SyncSession::Open(c.store.get(), options);
  REQUIRE(session.ok());
  c.session = std::move(session).value();
  c.MustPull({line_rows({{kL3, 1, 3}}), CursorLine(Cursor(100, 3), false)});
  CHECK(c.session->bootstrapped());
  CHECK(c.Query(query) == original);
  CHECK_FALSE(set_aside().has_value());
  CHECK(c.Query("SELECT id, qty FROM order_lines ORDER BY id") ==
        json::array({json::array({kL1, 5}), json::array({kL2, 2}), json::array({kL3, 3})}));

  // Incremental pages upsert on the key again and leave the indexes alone.
  c.MustPull({line_rows({{kL2, 1, 9}}), CursorLine(Cursor(101), false)});
  CHECK(c.Query("SELECT id, qty FROM order_lines ORDER BY id") ==
        json::array({json::array({kL1, 5}), json::array({kL2, 9}), json::array({kL3, 3})}));
  CHECK(c.Query(query) == original);
}

TEST_CASE("a bootstrap sets plain unique indexes aside; at the rebuild server rows win collisions",
          "[client]") {
  SessionOptions options;
  options.set_aside_index_rows = 1;
  Client c(options);
  auto member_rows = [](const json& rows) {
    return json{{"type", "rows"},
                {"table", "members"},
                {"columns", {"id", "email", "nick", "team"}},
                {"rows", rows}}
        .dump();
  };
  const std::string m1 = "0190a5d2-1c4e-7000-8000-0000000000b1";
  const std::string m2 = "0190a5d2-1c4e-7000-8000-0000000000b2";
  const std::string m3 = "0190a5d2-1c4e-7000-8000-0000000000b3";
  const std::string m4 = "0190a5d2-1c4e-7000-8000-0000000000b4";
  const std::string m5 = "0190a5d2-1c4e-7000-8000-0000000000b5";
  const std::string m6 = "0190a5d2-1c4e-7000-8000-0000000000b6";
  const std::string indexes =
      "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'members' ORDER BY name";
  const json original = c.Query(indexes);
  REQUIRE(original ==
          json::array({json::array({"_outpost_key_members"}), json::array({"members_email_key"}),
                       json::array({"members_nick_in_team_key"})}));

  c.MustPull({R"({"type":"reset"})", member_rows({{m1, "a@x", "ann", 1}}),
              CursorLine(Cursor(100, 1), true, /*more=*/true)});
  // The second rows line sets the key and the plain unique index aside; the partial one stays.
  c.MustPull({member_rows({{m2, "b@x", "bob", 1}, {m6, "d@x", nullptr, nullptr}}),
              CursorLine(Cursor(100, 2), true, true)});
  CHECK(c.Query(indexes) == json::array({json::array({"members_nick_in_team_key"})}));
  // Meanwhile the app inserts a row whose email a server row already has: nothing refuses it.
  c.Sql("INSERT INTO members (id, email) VALUES (?, 'd@x')", json{m4});
  CHECK(c.session->status().pending_mutations == 1);
  // The last page: m5 takes m1's email (m1 changed after its page was read).
  c.MustPull({member_rows({{m3, "c@x", "cy", 2}, {m5, "a@x", "al", 2}}),
              CursorLine(Cursor(100, 3), false)});
  CHECK(c.session->bootstrapped());
  CHECK(c.Query(indexes) == original);
  // m1 lost to the later server row m5; the app's m4 lost to the server's m6 although it came
  // later, and stays in the outbox for the server to judge.
  CHECK(c.Query("SELECT id, email FROM members ORDER BY id") ==
        json::array({json::array({m2, "b@x"}), json::array({m3, "c@x"}), json::array({m5, "a@x"}),
                     json::array({m6, "d@x"})}));
  CHECK(c.session->status().pending_mutations == 1);
  CHECK_FALSE(c.store->GetMeta("bootstrap_set_aside_indexes")->has_value());
  // The rebuilt index refuses again.
  auto dup = c.store->Execute("INSERT INTO members (id, email) VALUES (?, 'b@x')",
                              json{"0190a5d2-1c4e-7000-8000-0000000000b7"});
  CHECK(dup.status().code() == Code::kConstraint);
}

TEST_CASE("a bootstrap writes through a rollback journal and leaves the store in WAL", "[client]") {
  char dir[] = "/tmp/outpost-client-XXXXXX";
  REQUIRE(mkdtemp(dir) != nullptr);
  Client c({}, std::string(dir) + "/local.db");
  auto mode = [&] { return c.Query("PRAGMA journal_mode")[0][0].get<std::string>(); };
  REQUIRE(mode() == "wal");
  c.MustPull({R"({"type":"reset"})", ProjectRows({{kP1, "Alpha", true, nullptr}}),
              CursorLine(Cursor(100, 1), true, /*more=*/true)});
  // Between the pulls of one bootstrap the store stays in bulk-load mode.
  CHECK(c.store->bulk_loading());
  CHECK(mode() == "truncate");
  // A cut stream ends the pull: back to WAL until the bootstrap continues.
  auto cut = c.Pull({ProjectRows({{kP2, "Beta", true, nullptr}})});
  CHECK(cut.status().code() == Code::kUnavailable);
  CHECK_FALSE(c.store->bulk_loading());
  CHECK(mode() == "wal");
  c.MustPull({ProjectRows({{kP2, "Beta", true, nullptr}}), CursorLine(Cursor(100, 2), true, true)});
  CHECK(mode() == "truncate");
  // A round that ends in an error (here a malformed line) ends the bulk load too.
  auto broken = c.Pull({R"({"type":"rows","table":"projects","columns":["id"],"rows":[[1,)"});
  CHECK_FALSE(broken.ok());
  CHECK(mode() == "truncate");
  REQUIRE(c.session->RecordSyncResult(broken.status()).ok());
  CHECK_FALSE(c.store->bulk_loading());
  CHECK(mode() == "wal");
  c.MustPull({ProjectRows({{kP3, "Gamma", true, nullptr}}), CursorLine(Cursor(100, 3), false)});
  CHECK(c.session->bootstrapped());
  CHECK_FALSE(c.store->bulk_loading());
  CHECK(mode() == "wal");
  CHECK(c.Query("SELECT count(*) FROM projects") == json{{3}});
  // Incremental pages stay in WAL.
  c.MustPull({ProjectRows({{kP1, "Alpha 2", true, nullptr}}), CursorLine(Cursor(101), false)});
  CHECK(mode() == "wal");
  CHECK(c.Query("PRAGMA integrity_check") == json{{"ok"}});
}

TEST_CASE("incremental pages upsert and delete rows; a deletion does not cascade", "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}, {kP2, "Beta", false, nullptr}});
  REQUIRE(c.store
              ->RunAsEngine([&] {
                return c.store
                    ->Execute("INSERT INTO tasks (id, project_id, title) VALUES (?, ?, 't')",
                              json{kT1, kP2})
                    .status();
              })
              .ok());
  c.MustPull({ProjectRows({{kP1, "Alpha 2", false, "2.00"}, {kP3, "Gamma", true, nullptr}}),
              json{{"type", "deletes"}, {"table", "projects"}, {"keys", {{kP2}}}}.dump(),
              CursorLine(Cursor(110), false)});
  CHECK(c.Query("SELECT id, name, active, budget FROM projects ORDER BY id") ==
        json{{kP1, "Alpha 2", false, "2.00"}, {kP3, "Gamma", true, nullptr}});
  // The deletion says only that the project left this client's view (deleted, or out of its
  // scope): the task, which the server did not delete, stays (parked while catching up, then put
  // back with its reference dangling).
  CHECK(c.Query("SELECT count(*) FROM tasks") == json{{1}});
  CHECK(*c.store->ParkedCount() == 0);
  CHECK(c.session->rows_received() == 4);
  CHECK(c.session->deletes_received() == 1);
  CHECK(c.session->status().pending_mutations == 0);
  // A deleted parent's children come as deletions of their own (the server logs them).
  c.MustPull({json{{"type", "deletes"}, {"table", "tasks"}, {"keys", {{kT1}}}}.dump(),
              CursorLine(Cursor(120), false)});
  CHECK(c.Query("SELECT count(*) FROM tasks") == json{{0}});
}

TEST_CASE("server rows are rebased under pending local edits", "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}, {kP2, "Beta", true, nullptr}});
  c.Sql("UPDATE projects SET name = 'mine' WHERE id = ?", json{kP1});
  c.Sql("INSERT INTO projects (id, name) VALUES (?, 'new')", json{kP3});
  c.Sql("DELETE FROM projects WHERE id = ?", json{kP2});
  // The server changed other columns of P1, and sends P2 (which we deleted) again.
  c.MustPull({ProjectRows({{kP1, "theirs", false, "9.99"}, {kP2, "Beta 2", true, nullptr}}),
              CursorLine(Cursor(120), false)});
  CHECK(c.Query("SELECT name, active, budget FROM projects WHERE id = ?", json{kP1}) ==
        json{{"mine", false, "9.99"}});
  CHECK(c.Query("SELECT count(*) FROM projects WHERE id = ?", json{kP2}) == json{{0}});
  CHECK(c.Query("SELECT name FROM projects WHERE id = ?", json{kP3}) == json{{"new"}});
  // A server delete of a row with a pending update: delete wins locally too.
  c.MustPull({json{{"type", "deletes"}, {"table", "projects"}, {"keys", {{kP1}}}}.dump(),
              CursorLine(Cursor(121), false)});
  CHECK(c.Query("SELECT count(*) FROM projects WHERE id = ?", json{kP1}) == json{{0}});
  // Rebasing is not capturing: the outbox holds the three app writes only.
  CHECK(c.session->status().pending_mutations == 3);
}

TEST_CASE("the push body follows the protocol", "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}});
  c.Sql("UPDATE projects SET active = 0, name = 'x' WHERE id = ?", json{kP1});
  c.Sql("BEGIN");
  c.Sql("INSERT INTO tasks (id, project_id, title, blob) VALUES (?, ?, 't', x'00ff')",
        json{kT1, kP1});
  c.Sql("DELETE FROM tasks WHERE id = ?", json{kT1});
  c.Sql("COMMIT");
  json body = c.PushBody();
  CHECK(body["schema"] == SchemaVersion(ClientSchema()));
  CHECK(body["client_id"] == c.session->client_id());
  CHECK(c.session->client_id().size() == 36);
  REQUIRE(body["transactions"].size() == 2);
  const json& t0 = body["transactions"][0];
  const json& t1 = body["transactions"][1];
  CHECK(t0["tx_id"].get<int64_t>() < t1["tx_id"].get<int64_t>());
  REQUIRE(t0["mutations"].size() == 1);
  const json& upd = t0["mutations"][0];
  CHECK(upd["op"] == "update");
  CHECK(upd["table"] == "projects");
  CHECK(upd["pk"] == json{kP1});
  CHECK(upd["hlc"].is_string());
  CHECK(std::stoull(upd["hlc"].get<std::string>()) > 0);
  CHECK(upd["new"] == json{{"active", false}, {"name", "x"}});  // booleans as true/false
  CHECK(upd["old"] == json{{"active", true}, {"name", "Alpha"}});
  REQUIRE(t1["mutations"].size() == 2);
  CHECK(t1["mutations"][0]["op"] == "insert");
  CHECK(t1["mutations"][0]["new"]["blob"] == json{{"$blob", "AP8="}});
  CHECK_FALSE(t1["mutations"][0].contains("old"));
  CHECK(t1["mutations"][1]["op"] == "delete");
  CHECK(t1["mutations"][1]["old"]["title"] == "t");
  CHECK_FALSE(t1["mutations"][1].contains("new"));
  // Limited batches.
  auto one = c.session->PushRequest(1);
  REQUIRE(one.ok());
  CHECK(json::parse((*one)->body)["transactions"].size() == 1);
}

TEST_CASE("confirmed writes stay in the rebase set until the cursor passes their checkpoint",
          "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}}, 100);
  c.Sql("UPDATE projects SET name = 'mine' WHERE id = ?", json{kP1});
  json body = c.PushBody();
  int64_t tx = body["transactions"][0]["tx_id"];
  REQUIRE(c.session
              ->HandlePushResponse(
                  json{{"results", {{{"tx_id", tx}, {"status", "applied"}, {"checkpoint", "150"}}}}}
                      .dump())
              .ok());
  SyncStatus st = c.session->status();
  CHECK(st.pending_mutations == 0);
  CHECK(st.awaiting_checkpoint == 1);
  auto again = c.session->PushRequest();
  REQUIRE(again.ok());
  CHECK_FALSE(again->has_value());
  // A page from before our write was visible (w = 140): its P1 is older; our write stays on top.
  c.MustPull({ProjectRows({{kP1, "Alpha", true, "2.00"}}), CursorLine(Cursor(140), false)});
  CHECK(c.Query("SELECT name, budget FROM projects") ==
        json::array({json::array({"mine", "2.00"})}));
  CHECK(c.session->status().awaiting_checkpoint == 1);
  // Once the cursor is above 150 the server rows include our write: the entry goes, and a
  // later server value wins.
  c.MustPull({ProjectRows({{kP1, "someone else", true, "2.00"}}), CursorLine(Cursor(151), false)});
  CHECK(c.Query("SELECT name FROM projects") == json{{"someone else"}});
  CHECK(c.session->status().awaiting_checkpoint == 0);
  // A repeated answer for the same transaction changes nothing.
  REQUIRE(c.session
              ->HandlePushResponse(
                  json{{"results", {{{"tx_id", tx}, {"status", "applied"}, {"checkpoint", "150"}}}}}
                      .dump())
              .ok());
  CHECK(c.session->pushed_transactions() == 1);
}

TEST_CASE("a rejected transaction restores the server rows and is kept for the app", "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}, {kP2, "Beta", true, nullptr}});
  c.Sql("BEGIN");
  c.Sql("UPDATE projects SET name = 'dup' WHERE id = ?", json{kP1});
  c.Sql("DELETE FROM projects WHERE id = ?", json{kP2});
  c.Sql("COMMIT");
  c.Sql("UPDATE projects SET budget = '5.00' WHERE id = ?", json{kP1});  // a later transaction
  json body = c.PushBody();
  int64_t tx = body["transactions"][0]["tx_id"];
  int64_t tx2 = body["transactions"][1]["tx_id"];
  json answer = {
      {"results",
       {{{"tx_id", tx},
         {"status", "rejected"},
         {"checkpoint", "160"},
         {"error",
          {{"code", "constraint_violation"},
           {"message", "duplicate key value violates unique constraint"},
           {"rule", "projects_name_key"},
           {"table", "projects"},
           {"pk", {kP1}},
           {"rows",
            {{{"table", "projects"},
              {"pk", {kP1}},
              {"row",
               {{"id", kP1}, {"name", "Alpha (server)"}, {"active", true}, {"budget", "1.00"}}}},
             {{"table", "projects"},
              {"pk", {kP2}},
              {"row", {{"id", kP2}, {"name", "Beta"}, {"active", true}, {"budget", nullptr}}}}}}}}},
        {{"tx_id", tx2}, {"status", "applied"}, {"checkpoint", "161"}}}}};
  Status s = c.session->HandlePushResponse(answer.dump());
  INFO(s.ToString());
  REQUIRE(s.ok());
  // Server state, with the still-pending (confirmed, awaiting checkpoint) budget edit on top.
  CHECK(c.Query("SELECT id, name, budget FROM projects ORDER BY id") ==
        json{{kP1, "Alpha (server)", "5.00"}, {kP2, "Beta", nullptr}});
  CHECK(c.session->rejected_transactions() == 1);
  auto list = c.session->Rejections();
  REQUIRE(list.ok());
  REQUIRE(list->size() == 1);
  const Rejection& r = (*list)[0];
  CHECK(r.tx_id == tx);
  CHECK(r.code == "constraint_violation");
  CHECK(r.rule == "projects_name_key");
  CHECK(r.table == "projects");
  CHECK(r.pk == json{kP1});
  CHECK(r.mutations.size() == 2);
  CHECK(r.at.size() == 24);
  CHECK(c.Query("SELECT count(*) FROM _outpost_rejections") == json{{1}});
  CHECK(c.session->status().rejections == 1);
  CHECK(c.session->status().pending_mutations == 0);
  REQUIRE(c.session->DismissRejection(r.id).ok());
  CHECK(c.session->DismissRejection(r.id).code() == Code::kNotFound);
  CHECK(c.session->status().rejections == 0);
}

TEST_CASE("rows a rejection does not list are restored from the refused mutations' bases",
          "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}, {kP2, "Beta", true, nullptr}});
  c.Sql("BEGIN");
  c.Sql("INSERT INTO projects (id, name) VALUES (?, 'dup')", json{kP3});
  c.Sql("UPDATE projects SET name = 'x', budget = '7.00' WHERE id = ?", json{kP1});
  c.Sql("DELETE FROM projects WHERE id = ?", json{kP2});
  c.Sql("COMMIT");
  int64_t tx = c.PushBody()["transactions"][0]["tx_id"];
  json answer = {{"results",
                  {{{"tx_id", tx},
                    {"status", "rejected"},
                    {"checkpoint", "180"},
                    {"error",
                     {{"code", "row_exists"},
                      {"message", "key exists"},
                      {"table", "projects"},
                      {"pk", {kP3}},
                      {"rows", {{{"table", "projects"}, {"pk", {kP3}}, {"row", nullptr}}}}}}}}}};
  REQUIRE(c.session->HandlePushResponse(answer.dump()).ok());
  CHECK(c.Query("SELECT id, name, budget FROM projects ORDER BY id") ==
        json{{kP1, "Alpha", "1.00"}, {kP2, "Beta", nullptr}});
  CHECK(c.session->status().pending_mutations == 0);
}

TEST_CASE("a server key replaces a temporary key in the row, its children and the outbox",
          "[client]") {
  Client c;
  c.Bootstrap(json::array());
  c.Sql("INSERT INTO orders (total) VALUES ('10.00')");
  int64_t temp = c.Query("SELECT id FROM orders")[0][0];
  CHECK(temp < 0);
  c.Sql("INSERT INTO order_lines (id, order_id, qty) VALUES (?, ?, 2)", json{kT1, temp});
  c.Sql("UPDATE orders SET total = '12.00' WHERE id = ?", json{temp});
  auto req = c.session->PushRequest(1);
  REQUIRE(req.ok());
  json body = json::parse((*req)->body);
  REQUIRE(body["transactions"].size() == 1);
  CHECK(body["transactions"][0]["mutations"][0]["pk"] == json{temp});
  int64_t tx = body["transactions"][0]["tx_id"];
  json answer = {{"results",
                  {{{"tx_id", tx},
                    {"status", "applied"},
                    {"checkpoint", "170"},
                    {"remaps", {{{"table", "orders"}, {"from", {temp}}, {"to", {57}}}}}}}}};
  Status s = c.session->HandlePushResponse(answer.dump());
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK(c.Query("SELECT id, total FROM orders") == json{{57, "12.00"}});
  CHECK(c.Query("SELECT order_id FROM order_lines") == json{{57}});
  // Pending entries now name the server key.
  auto pending = c.store->PendingTransactions();
  REQUIRE(pending.ok());
  REQUIRE(pending->size() == 2);
  CHECK((*pending)[0].mutations[0].new_values["order_id"] == 57);
  CHECK((*pending)[1].mutations[0].pk == json{57});
  // The confirmed insert too (it is rebased under pulled rows of order 57).
  auto orders = c.store->OutboxMutations("orders");
  REQUIRE(orders.ok());
  CHECK(std::count_if(orders->begin(), orders->end(),
                      [](const Mutation& m) { return m.pk == json{57}; }) == 2);
  auto remaps = c.session->TakeRemaps();
  REQUIRE(remaps.size() == 1);
  CHECK(remaps[0].table == "orders");
  CHECK(remaps[0].from == json{temp});
  CHECK(remaps[0].to == json{57});
  CHECK(c.session->TakeRemaps().empty());
  // The server row arrives: our pending update stays on top.
  c.MustPull({json{{"type", "rows"},
                   {"table", "orders"},
                   {"columns", {"id", "total"}},
                   {"rows", {{57, "10.00"}}}}
                  .dump(),
              CursorLine(Cursor(171), false)});
  CHECK(c.Query("SELECT id, total FROM orders") == json{{57, "12.00"}});
}

TEST_CASE("a remap that renames more than temporary key values is refused, changing nothing",
          "[client]") {
  Client c;
  c.Bootstrap(json::array());
  c.Sql("INSERT INTO orders (total) VALUES ('10.00')");
  int64_t temp = c.Query("SELECT id FROM orders")[0][0];
  int64_t tx = c.PushBody()["transactions"][0]["tx_id"];
  for (const json& remap : {json{{"table", "orders"}, {"from", {temp}}, {"to", {"57"}}},
                            json{{"table", "orders"}, {"from", {temp, 1}}, {"to", {57, 1}}},
                            json{{"table", "orders"}, {"from", {5}}, {"to", {57}}},
                            json{{"table", "orders"}, {"from", {temp}}, {"to", {temp}}},
                            json{{"table", "nope"}, {"from", {temp}}, {"to", {57}}}}) {
    INFO(remap.dump());
    json answer = {{"results",
                    {{{"tx_id", tx},
                      {"status", "applied"},
                      {"checkpoint", "170"},
                      {"remaps", json::array({remap})}}}}};
    Status s = c.session->HandlePushResponse(answer.dump());
    CHECK(s.code() == Code::kMalformedAnswer);
    CHECK(c.Query("SELECT id FROM orders") == json{{temp}});
    CHECK(c.session->status().pending_mutations == 1);
  }
}

TEST_CASE("an expired cursor re-bootstraps and keeps the outbox", "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}});
  c.Sql("INSERT INTO projects (id, name) VALUES (?, 'offline')", json{kP3});
  Status s = c.session->HandleErrorResponse(
      410, R"({"error":{"code":"cursor_expired","message":"cursor older than the history"}})");
  REQUIRE(s.ok());
  CHECK_FALSE(c.session->bootstrapped());
  CHECK(c.session->status().cursor.empty());
  CHECK(c.session->PullRequest(30).target.find("cursor=") == std::string::npos);
  CHECK(c.session->PullRequest(30).target.find("wait=") == std::string::npos);
  c.MustPull({R"({"type":"reset"})", ProjectRows({{kP2, "Beta", true, nullptr}}),
              CursorLine(Cursor(300), false)});
  CHECK(c.session->bootstrapped());
  CHECK(c.Query("SELECT id FROM projects ORDER BY id") == json{{kP2}, {kP3}});
  CHECK(c.session->status().pending_mutations == 1);

  // Other errors carry the server's code.
  Status auth = c.session->HandleErrorResponse(
      401, R"({"error":{"code":"unauthorized","message":"token expired"}})");
  CHECK(auth.code() == Code::kUnauthorized);
  CHECK(c.session->HandleErrorResponse(503, "").code() == Code::kUnavailable);
  REQUIRE(c.session->HandleErrorResponse(409, R"({"error":{"code":"schema_mismatch"}})").ok());
  CHECK(c.session->needs_schema());
}

TEST_CASE("a stream cut before its cursor line applies nothing", "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}}, 100);
  std::string before = c.session->status().cursor;
  auto r = c.Pull({ProjectRows({{kP1, "changed", true, "1.00"}, {kP2, "Beta", true, nullptr}}),
                   json{{"type", "deletes"}, {"table", "projects"}, {"keys", {{kP1}}}}.dump()});
  CHECK(r.status().code() == Code::kUnavailable);
  CHECK(c.Query("SELECT id, name FROM projects") == json::array({json::array({kP1, "Alpha"})}));
  CHECK(c.session->status().cursor == before);
  // An answer with no line at all is incomplete too; a malformed line is an error.
  CHECK(c.Pull({}).status().code() == Code::kUnavailable);
  CHECK_FALSE(c.Pull({R"({"type":"rows","table":"projects","columns":["id"],"rows":[[)"}).ok());
  // In the server's member order the array is scanned once, when applied: whatever follows it
  // besides the closing brace fails the page, and nothing of it stays.
  const std::string server_order =
      std::string(R"({"type":"rows","table":"projects","columns":["id","name"],"rows":[[")") + kP2 +
      R"(","Beta"]])";
  for (const std::string& bad :
       {server_order + R"(,"extra":1})", server_order + "]}", server_order + "} x",
        std::string(R"({"type":"deletes","table":"projects","keys":[[")") + kP1 +
            R"("]],"x":1})"}) {
    INFO(bad);
    auto refused = c.Pull({bad, CursorLine(Cursor(101), false)});
    CHECK(refused.status().code() == Code::kMalformedAnswer);
    CHECK(c.Query("SELECT id, name FROM projects") == json::array({json::array({kP1, "Alpha"})}));
    CHECK(c.session->status().cursor == before);
  }
  c.MustPull({server_order + "}", CursorLine(Cursor(101), false)});
  CHECK(c.Query("SELECT count(*) FROM projects") == json{{2}});
  before = c.session->status().cursor;
  // Unknown tables mean the schema changed.
  auto unknown = c.Pull({R"({"type":"rows","table":"nope","columns":["id"],"rows":[[1]]})",
                         CursorLine(Cursor(102), false)});
  CHECK(unknown.status().code() == Code::kSchemaMismatch);
  CHECK(c.session->needs_schema());
  CHECK(c.session->status().cursor == before);
}

TEST_CASE("rows whose parent has not arrived wait for it; outside the view they dangle",
          "[client]") {
  Client c;
  c.Bootstrap({{kP1, "Alpha", true, "1.00"}});
  json task = {{"type", "rows"},
               {"table", "tasks"},
               {"columns", {"id", "project_id", "title", "minutes", "score", "blob"}},
               {"rows", {{kT1, kP2, "orphan for now", 0, nullptr, nullptr}}}};
  // Within an answer ("more"), the child waits in _outpost_parked...
  REQUIRE(c.session->HandlePullLine(task.dump()).ok());
  REQUIRE(c.session->HandlePullLine(CursorLine(Cursor(200), false, /*more=*/true)).ok());
  CHECK(c.Query("SELECT count(*) FROM tasks") == json{{0}});
  CHECK(*c.store->ParkedCount() == 1);
  // ...and comes back when its parent arrives.
  REQUIRE(c.session->HandlePullLine(ProjectRows({{kP2, "Beta", true, nullptr}})).ok());
  REQUIRE(c.session->HandlePullLine(CursorLine(Cursor(201), false, /*more=*/true)).ok());
  CHECK(c.Query("SELECT title FROM tasks") == json{{"orphan for now"}});
  CHECK(*c.store->ParkedCount() == 0);
  // A parked row the server then deletes does not come back.
  task["rows"][0][1] = kP3;
  task["rows"][0][0] = kT2;
  REQUIRE(c.session->HandlePullLine(task.dump()).ok());
  REQUIRE(c.session->HandlePullLine(CursorLine(Cursor(202), false, /*more=*/true)).ok());
  CHECK(*c.store->ParkedCount() == 1);
  c.MustPull({json{{"type", "deletes"}, {"table", "tasks"}, {"keys", {{kT2}}}}.dump(),
              CursorLine(Cursor(203), false)});
  CHECK(c.Query("SELECT count(*) FROM tasks WHERE id = ?", json{kT2}) == json{{0}});
  CHECK(*c.store->ParkedCount() == 0);
  // Caught up with the parent still missing: it is outside the view, the row is kept.
  c.MustPull({task.dump(), CursorLine(Cursor(204), false)});
  CHECK(c.Query("SELECT count(*) FROM tasks WHERE id = ?", json{kT2}) == json{{1}});
  CHECK(*c.store->ParkedCount() == 0);
  // Later pages and schema migrations live with the dangling reference.
  c.MustPull({ProjectRows({{kP1, "Alpha 2", true, nullptr}}), CursorLine(Cursor(205), false)});
  CHECK(c.Query("SELECT name FROM projects WHERE id = ?", json{kP1}) == json{{"Alpha 2"}});
  Schema changed = ClientSchema();
  changed.tables[0].columns.push_back(changed.tables[0].columns[1]);
  changed.tables[0].columns.back().name = "extra";
  changed.tables[0].columns.back().nullable = true;
  auto migrated = c.session->HandleSchema(SchemaToJson(changed));
  INFO(migrated.status().ToString());
  CHECK(migrated.ok());
}


// Replays fixed answers by request, as the wire carries them.
class ScriptedTransport : public Transport {
 public:
  struct Answer {
    std::string target_prefix;
    int status = 200;
    std::string body;
    bool network_error = false;
  };
  std::deque<Answer> script;
  std::vector<HttpRequest> sent;

  Result<int> Send(const HttpRequest& request,
                   const std::function<Status(std::string_view line)>& on_line,
                   std::string* error_body) override {
    sent.push_back(request);
    REQUIRE_FALSE(script.empty());
    Answer a = script.front();
    script.pop_front();
    INFO(request.target);
    CHECK(request.target.rfind(a.target_prefix, 0) == 0);
    if (a.network_error) return Status(Code::kUnavailable, "connection refused");
    if (a.status < 200 || a.status >= 300) {
      *error_body = a.body;
      return a.status;
    }
    size_t start = 0;
    while (start < a.body.size()) {
      size_t nl = a.body.find('\n', start);
      if (nl == std::string::npos) nl = a.body.size();
      OUTPOST_RETURN_IF_ERROR(on_line(std::string_view(a.body).substr(start, nl - start)));
      start = nl + 1;
    }
    return a.status;
  }
};

TEST_CASE("SyncNow fetches the schema, pushes, retries and pulls until caught up", "[client]") {
  auto store = Store::Open(":memory:");
  REQUIRE(store.ok());
  auto session = SyncSession::Open(store->get());
  REQUIRE(session.ok());
  ScriptedTransport t;
  std::string schema = SchemaToJson(ClientSchema());
  t.script.push_back({"/v1/schema", 200, schema});
  t.script.push_back({"/v1/pull?schema=", 0, "", /*network_error=*/true});
  t.script.push_back({"/v1/pull?schema=", 200,
                      std::string(R"({"type":"reset"})") + "\n" +
                          ProjectRows({{kP1, "Alpha", true, nullptr}}) + "\n" +
                          CursorLine(Cursor(10, 1), true, true) + "\n"});
  t.script.push_back({"/v1/pull?schema=", 200,
                      ProjectRows({{kP2, "Beta", true, nullptr}}) + "\n" +
                          CursorLine(Cursor(10, 2), false) + "\n"});
  SyncOptions options;
  options.wait_seconds = 5;
  int sleeps = 0;
  options.sleep = [&](int ms) {
    CHECK(ms > 0);
    ++sleeps;
  };
  std::vector<int64_t> progress;
  options.progress = [&](int64_t rows, double) { progress.push_back(rows); };
  auto r = SyncNow(**session, t, options);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->bootstrapped_now);
  CHECK(r->rows_received == 2);
  CHECK(sleeps == 1);
  CHECK(progress == std::vector<int64_t>{1, 2});
  CHECK(t.script.empty());
  // Rows arrived while catching up: they are handed over at once, without a long-poll.
  CHECK(t.sent.back().target.find("wait=") == std::string::npos);
  CHECK((*session)->status().last_sync.has_value());

  // Nothing new while catching up: the last pull is a long-poll.
  t.script.push_back({"/v1/pull?schema=", 200, CursorLine(Cursor(11), false) + "\n"});
  t.script.push_back({"/v1/pull?schema=", 200, CursorLine(Cursor(11), false) + "\n"});
  r = SyncNow(**session, t, options);
  REQUIRE(r.ok());
  CHECK(r->rows_received == 0);
  CHECK(t.script.empty());
  CHECK(t.sent[t.sent.size() - 2].target.find("wait=") == std::string::npos);
  CHECK(t.sent.back().target.find("&wait=5") != std::string::npos);

  // A local write is pushed, its answer applied, then pulls run.
  REQUIRE((*store)->Execute("UPDATE projects SET name = 'mine' WHERE id = ?", json{kP1}).ok());
  auto pending = (*store)->PendingTransactions();
  REQUIRE(pending.ok());
  int64_t tx = (*pending)[0].tx_id;
  t.script.push_back(
      {"/v1/push", 200,
       json{{"results", {{{"tx_id", tx}, {"status", "applied"}, {"checkpoint", "12"}}}}}.dump()});
  t.script.push_back(
      {"/v1/pull?schema=", 200,
       ProjectRows({{kP1, "mine", true, nullptr}}) + "\n" + CursorLine(Cursor(13), false) + "\n"});
  options.wait_seconds = 0;
  r = SyncNow(**session, t, options);
  REQUIRE(r.ok());
  CHECK(r->pushed_transactions == 1);
  CHECK(r->rows_received == 1);
  CHECK((*session)->status().awaiting_checkpoint == 0);
  CHECK(json::parse(t.sent[t.sent.size() - 2].body)["transactions"][0]["tx_id"] == tx);

  // Errors that retrying cannot fix end the round and are recorded.
  t.script.push_back(
      {"/v1/pull?schema=", 401, R"({"error":{"code":"unauthorized","message":"expired"}})"});
  r = SyncNow(**session, t, options);
  CHECK(r.status().code() == Code::kUnauthorized);
  REQUIRE((*session)->status().last_error.has_value());
  CHECK((*session)->status().last_error->find("unauthorized") != std::string::npos);
}

TEST_CASE("session state survives reopening the store", "[client]") {
  char tmpl[] = "/tmp/outpost-client-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string path = std::string(tmpl) + "/client.db";
  std::string client_id;
  {
    auto store = Store::Open(path);
    REQUIRE(store.ok());
    auto session = SyncSession::Open(store->get());
    REQUIRE(session.ok());
    REQUIRE((*session)->HandleSchema(SchemaToJson(ClientSchema())).ok());
    client_id = (*session)->client_id();
    for (const auto& l :
         {std::string(R"({"type":"reset"})"), ProjectRows({{kP1, "Alpha", true, nullptr}}),
          CursorLine(Cursor(42), false)}) {
      REQUIRE((*session)->HandlePullLine(l).ok());
    }
    REQUIRE((*session)->FinishPull().ok());
  }
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  auto session = SyncSession::Open(store->get());
  REQUIRE(session.ok());
  CHECK((*session)->client_id() == client_id);
  CHECK((*session)->bootstrapped());
  CHECK_FALSE((*session)->needs_schema());
  CHECK((*session)->status().cursor == Cursor(42));
}

}  // namespace
}  // namespace outpost
