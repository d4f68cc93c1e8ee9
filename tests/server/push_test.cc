// HandlePush (sync/server/src/push.h) against a real PostgreSQL: exactly-once recording, the
// conflict rules of docs/protocol.md, tenant safety, constraint mapping and temporary keys.
//
// Each database gets the server's own `_outpost` state and capture triggers (install.h).
#include "push.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <fstream>
#include <sstream>
#include <thread>

#include "catalog.h"
#include "install.h"
#include "model.h"
#include "outpost/value.h"
#include "pg.h"
#include "pg_cluster.h"
#include "push_db.h"

namespace outpost::testing {
namespace {

using nlohmann::json;
using server::PgConnection;
using server::Principal;
using server::ServerModel;

// The answer's JSON, as the server sends it.
Result<json> AsJson(Result<std::vector<protocol::TxResult>> results) {
  if (!results.ok()) return results.status();
  return json::parse(protocol::EncodePushAnswer(*results));
}

struct App : PushDb {
  App(const std::string& db, const std::string& app, int rows) : PushDb(db, app, rows) {}

  Result<json> Push(const Principal& who, const json& body) {
    return AsJson(server::HandlePush(*conn, *model, who, body.dump()));
  }
  json PushOk(const Principal& who, const json& body) {
    auto r = Push(who, body);
    INFO(body.dump());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    INFO(r->dump());
    REQUIRE((*r)["results"].size() == body["transactions"].size());
    return std::move(r).value()["results"];
  }
  json Body(const std::string& client, const json& txs) const {
    return json{{"schema", version()}, {"client_id", client}, {"transactions", txs}};
  }
};

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// A clock `ms_ago` milliseconds in the past (negative: in the future).
std::string Hlc(int64_t ms_ago) {
  return std::to_string(static_cast<uint64_t>(NowMs() - ms_ago) << 16);
}

json Ins(const std::string& table, const json& pk, const json& values, int64_t ms_ago = 1000) {
  return json{
      {"op", "insert"}, {"table", table}, {"pk", pk}, {"hlc", Hlc(ms_ago)}, {"new", values}};
}
json Upd(const std::string& table, const json& pk, const json& nv, const json& ov,
         int64_t ms_ago = 1000) {
  return json{{"op", "update"},     {"table", table}, {"pk", pk},
              {"hlc", Hlc(ms_ago)}, {"new", nv},      {"old", ov}};
}
json Del(const std::string& table, const json& pk, int64_t ms_ago = 1000) {
  return json{{"op", "delete"}, {"table", table}, {"pk", pk}, {"hlc", Hlc(ms_ago)}};
}
json Tx(int64_t id, const json& mutations) {
  return json{{"tx_id", id}, {"mutations", mutations}};
}

bool HasNotice(const json& result, const std::string& code) {
  for (const auto& n : result["notices"]) {
    if (n["code"] == code) return true;
  }
  return false;
}

const char* kClient1 = "0193a0c0-0000-7000-8000-0000000000c1";
const char* kClient2 = "0193a0c0-0000-7000-8000-0000000000c2";

// GoGoTime: company A (the token's) and company B, an admin of A, A's entries and codes.
struct Gogotime {
  App app;
  std::string a, b, admin, employee, code, entry, b_entry;
  Principal admin_p, employee_p;

  explicit Gogotime(const std::string& db) : app(db, "gogotime", 30) {
    a = app.Q("SELECT md5('gogotime:company:1')::uuid");
    b = app.Q("SELECT md5('gogotime:company:2')::uuid");
    admin = app.Q("SELECT md5('gogotime:user:1:1')::uuid");
    employee = app.Q("SELECT md5('gogotime:user:1:7')::uuid");
    code =
        app.Q("SELECT id FROM action_codes WHERE \"companyId\" = '" + a + "' ORDER BY id LIMIT 1");
    entry = app.Q("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + a +
                  "' ORDER BY id LIMIT 1");
    b_entry = app.Q("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + b +
                    "' ORDER BY id LIMIT 1");
    admin_p = Principal{a, admin, "admin", json{{"tenant", a}, {"sub", admin}, {"role", "admin"}}};
    employee_p = Principal{a, employee, "employee",
                           json{{"tenant", a}, {"sub", employee}, {"role", "employee"}}};
  }
  std::string Entry(const std::string& id, const std::string& column) {
    return app.Q("SELECT \"" + column + "\"::text FROM timesheet_entries WHERE id = '" + id + "'");
  }
  json NewEntry(const std::string& id, int minutes = 30) const {
    return json{{"id", id},        {"userId", admin},        {"actionCodeId", code},
                {"country", "FR"}, {"durationMin", minutes}, {"day", "2024-05-02"}};
  }
};

}  // namespace

TEST_CASE("push: client JSON <-> values for column types", "[push][value]") {
  ColumnType b;
  b.kind = TypeKind::kBoolean;
  b.pg_type = "boolean";
  CHECK(*JsonToPgText(b, json(true)) == std::optional<std::string>("t"));
  CHECK(*JsonToPgText(b, json(0)) == std::optional<std::string>("f"));
  CHECK_FALSE(JsonToPgText(b, json("t")).ok());
  ColumnType i;
  i.kind = TypeKind::kInteger;
  i.pg_type = "integer";
  CHECK_FALSE(JsonToPgText(i, json("12")).ok());
  CHECK_FALSE(JsonToPgText(i, json(1.5)).ok());
  CHECK(!JsonToPgText(i, json(nullptr))->has_value());
  ColumnType r;
  r.kind = TypeKind::kReal;
  r.pg_type = "double precision";
  CHECK(**JsonToPgText(r, json("-Infinity")) == "-Infinity");
  CHECK_FALSE(JsonToPgText(r, json("NaN")).ok());
  ColumnType u;
  u.kind = TypeKind::kUuid;
  u.pg_type = "uuid";
  CHECK(**JsonToPgText(u, json("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11")) ==
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  ColumnType j;
  j.kind = TypeKind::kJson;
  j.pg_type = "jsonb";
  CHECK(**JsonToPgText(j, json{{"a", 1}}) == "{\"a\":1}");
  CHECK_FALSE(JsonToPgText(j, json("{not json")).ok());
  ColumnType by;
  by.kind = TypeKind::kBytea;
  by.pg_type = "bytea";
  CHECK(**JsonToPgText(by, json{{"$blob", "AP8="}}) == "\\x00ff");
  CHECK(*PgTextToJson(by, "\\x00ff") == json{{"$blob", "AP8="}});
  CHECK(*PgTextToJson(b, "t") == json(true));
  ColumnType t;
  t.kind = TypeKind::kText;
  t.pg_type = "text";
  CHECK_FALSE(JsonToPgText(t, json(5)).ok());
  CHECK_FALSE(JsonToPgText(t, json{{"x", 1}}).ok());
  CHECK(*ValueFromJson(json{{"x", 1}}) == Value(std::string("{\"x\":1}")));
}

TEST_CASE("push: insert, update and delete apply; a retry returns the recorded result", "[push]") {
  Gogotime g("push_basic");
  App& app = g.app;
  std::string id = "0193a0c0-0000-7000-8000-000000000001";
  json body = app.Body(
      kClient1,
      json::array(
          {Tx(1, json::array({Ins("timesheet_entries", json::array({id}), g.NewEntry(id))})),
           Tx(2, json::array({Upd("timesheet_entries", json::array({id}), json{{"note", "b"}},
                                  json{{"note", nullptr}})})),
           Tx(3, json::array({Ins("action_codes", json::array({id}),
                                  json{{"code", "PUSH-1"}, {"name", "n"}})}))}));
  json results = app.PushOk(g.admin_p, body);
  for (const auto& r : results) {
    INFO(r.dump());
    CHECK(r["status"] == "applied");
    CHECK(r["checkpoint"].is_string());
    CHECK(r["remaps"] == json::array());
  }
  CHECK(std::stoull(results[1]["checkpoint"].get<std::string>()) >
        std::stoull(results[0]["checkpoint"].get<std::string>()));
  // The capture log holds the insert under the checkpoint's xid, for company A.
  CHECK(app.Q("SELECT string_agg(tenant, ',') FROM _outpost.changes WHERE tbl = "
              "'timesheet_entries' AND xid = '" +
              results[0]["checkpoint"].get<std::string>() + "'::xid8") == g.a);
  // The tenant column was taken from the token.
  CHECK(g.Entry(id, "companyId") == g.a);
  CHECK(g.Entry(id, "note") == "b");
  CHECK(app.Q("SELECT \"companyId\" FROM action_codes WHERE id = '" + id + "'") == g.a);
  // The clocks trigger saw the push's clocks.
  CHECK(app.Q("SELECT clocks ? 'note' FROM _outpost.clocks WHERE tbl = 'timesheet_entries' AND "
              "pk = jsonb_build_array('" +
              id + "')") == "t");

  // The same request again: identical answer, nothing applied twice.
  app.Exec("UPDATE timesheet_entries SET note = 'changed since' WHERE id = '" + id + "'");
  std::string pushes = app.Q("SELECT count(*) FROM _outpost.pushes");
  json again = app.PushOk(g.admin_p, body);
  CHECK(again.dump() == results.dump());
  CHECK(g.Entry(id, "note") == "changed since");
  CHECK(app.Q("SELECT count(*) FROM _outpost.pushes") == pushes);

  // Another user's record of the same client and tx ids is separate.
  json del = app.Body(
      kClient1, json::array({Tx(1, json::array({Del("timesheet_entries", json::array({id}))}))}));
  Principal manager = g.admin_p;
  manager.user = app.Q("SELECT md5('gogotime:user:1:2')::uuid");
  manager.role = "manager";
  json d = app.PushOk(manager, del);
  CHECK(d[0]["status"] == "applied");
  CHECK(d[0]["notices"] == json::array());
  CHECK(g.Entry(id, "note") == "<none>");
  // Deleting it again: delete wins, the client is told.
  json d2 = app.PushOk(manager, app.Body(kClient2, del["transactions"]));
  CHECK(HasNotice(d2[0], "row_deleted"));
}

TEST_CASE("push: concurrent pushes of the same transactions apply them once", "[push]") {
  Gogotime g("push_concurrent");
  App& app = g.app;
  std::string note = g.Entry(g.entry, "note");
  json first_base = note == "<null>" ? json(nullptr) : json(note);
  json txs = json::array();
  for (int i = 0; i < 20; ++i) {
    char id[40];
    snprintf(id, sizeof id, "0193a0c0-0000-7000-8000-0000000010%02d", i);
    txs.push_back(
        Tx(i + 1,
           json::array({Ins("timesheet_entries", json::array({id}), g.NewEntry(id, i)),
                        Upd("timesheet_entries", json::array({g.entry}),
                            json{{"note", "n" + std::to_string(i)}},
                            json{{"note", i ? json("n" + std::to_string(i - 1)) : first_base}})})));
  }
  std::string body = app.Body(kClient1, txs).dump();
  Result<json> answers[2] = {Status(Code::kInternal, "not run"),
                             Status(Code::kInternal, "not run")};
  std::thread threads[2];
  for (int t = 0; t < 2; ++t) {
    threads[t] = std::thread([&, t] {
      auto conn = PgConnection::Connect(app.url);
      if (!conn.ok()) {
        answers[t] = conn.status();
        return;
      }
      answers[t] = AsJson(server::HandlePush(**conn, *app.model, g.admin_p, body));
    });
  }
  for (auto& t : threads) t.join();
  for (const auto& a : answers) {
    INFO(a.status().ToString());
    REQUIRE(a.ok());
  }
  CHECK(answers[0]->dump() == answers[1]->dump());
  for (const auto& r : (*answers[0])["results"]) CHECK(r["status"] == "applied");
  CHECK(app.Q("SELECT count(*) FROM timesheet_entries WHERE id::text LIKE "
              "'0193a0c0-0000-7000-8000-0000000010%'") == "20");
  CHECK(app.Q("SELECT count(*) FROM _outpost.pushes") == "20");
  CHECK(g.Entry(g.entry, "note") == "n19");
}

// A push that waits for a row another push is changing must decide by that push's clocks: the
// row lock is taken before the values and clocks are read, since a statement that waits for a
// lock still reads everything else from the snapshot it took before waiting.
TEST_CASE("push: the last writer wins while another push holds the row", "[push][conflict]") {
  Gogotime g("push_row_wait");
  App& app = g.app;
  const std::string& e = g.entry;
  const int minutes = std::stoi(g.Entry(e, "durationMin"));
  // "B": a push under way on another backend, with the later clock, not committed yet.
  app.Exec("BEGIN");
  app.Exec("SELECT set_config('outpost.hlc', '" + Hlc(100) + "', true)");
  app.Exec("UPDATE timesheet_entries SET \"durationMin\" = 222 WHERE id = '" + e + "'");
  // "A": an earlier write of the same column, from its own base; it waits for B's row lock.
  Result<json> answer = Status(Code::kInternal, "not run");
  std::thread a([&] {
    auto conn = PgConnection::Connect(app.url);
    if (!conn.ok()) {
      answer = conn.status();
      return;
    }
    json body = app.Body(
        kClient1, json::array({Tx(1, json::array({Upd("timesheet_entries", json::array({e}),
                                                      json{{"durationMin", 111}},
                                                      json{{"durationMin", minutes}}, 5000)}))}));
    answer = AsJson(server::HandlePush(**conn, *app.model, g.admin_p, body.dump()));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  app.Exec("COMMIT");
  a.join();
  INFO(answer.status().ToString());
  REQUIRE(answer.ok());
  CHECK((*answer)["results"][0]["status"] == "applied");
  CHECK(g.Entry(e, "durationMin") == "222");
}

TEST_CASE("push: conflict rules", "[push][conflict]") {
  Gogotime g("push_conflicts");
  App& app = g.app;
  const std::string& e = g.entry;
  json pk = json::array({e});
  std::string country = g.Entry(e, "country");
  std::string minutes_s = g.Entry(e, "durationMin");
  int minutes = std::stoi(minutes_s);

  SECTION("different columns of one row merge") {
    auto r1 = app.PushOk(
        g.admin_p,
        app.Body(kClient1, json::array({Tx(
                               1, json::array({Upd("timesheet_entries", pk, json{{"country", "XX"}},
                                                   json{{"country", country}})}))})));
    auto r2 = app.PushOk(
        g.admin_p,
        app.Body(kClient2,
                 json::array({Tx(1, json::array({Upd("timesheet_entries", pk,
                                                     json{{"durationMin", minutes + 1}},
                                                     json{{"durationMin", minutes}})}))})));
    CHECK(r1[0]["status"] == "applied");
    CHECK(r2[0]["status"] == "applied");
    CHECK(g.Entry(e, "country") == "XX");
    CHECK(g.Entry(e, "durationMin") == std::to_string(minutes + 1));
  }

  SECTION("same column: the later clock wins, in both push orders") {
    json early =
        Upd("timesheet_entries", pk, json{{"country", "E1"}}, json{{"country", country}}, 5000);
    json late =
        Upd("timesheet_entries", pk, json{{"country", "L2"}}, json{{"country", country}}, 2000);
    SECTION("later pushed last") {
      app.PushOk(g.admin_p, app.Body(kClient1, json::array({Tx(1, json::array({early}))})));
      CHECK(g.Entry(e, "country") == "E1");
      app.PushOk(g.admin_p, app.Body(kClient2, json::array({Tx(1, json::array({late}))})));
    }
    SECTION("later pushed first") {
      app.PushOk(g.admin_p, app.Body(kClient2, json::array({Tx(1, json::array({late}))})));
      auto r =
          app.PushOk(g.admin_p, app.Body(kClient1, json::array({Tx(1, json::array({early}))})));
      CHECK(r[0]["status"] == "applied");
    }
    CHECK(g.Entry(e, "country") == "L2");
  }

  SECTION("a write by another backend after the client's edit wins over it") {
    json edit =
        Upd("timesheet_entries", pk, json{{"country", "CL"}}, json{{"country", country}}, 3000);
    app.Exec("UPDATE timesheet_entries SET country = 'BK' WHERE id = '" + e + "'");
    app.PushOk(g.admin_p, app.Body(kClient1, json::array({Tx(1, json::array({edit}))})));
    CHECK(g.Entry(e, "country") == "BK");
    // A client edit made after the backend's write wins.
    json later =
        Upd("timesheet_entries", pk, json{{"country", "C2"}}, json{{"country", country}}, -1);
    app.PushOk(g.admin_p, app.Body(kClient1, json::array({Tx(2, json::array({later}))})));
    CHECK(g.Entry(e, "country") == "C2");
  }

  SECTION("server_wins keeps the server value when the base is stale") {
    std::string note = g.Entry(e, "note");
    json base = note == "<null>" ? json(nullptr) : json(note);
    app.PushOk(
        g.admin_p,
        app.Body(
            kClient1,
            json::array({Tx(1, json::array({Upd("timesheet_entries", pk, json{{"note", "from A"}},
                                                json{{"note", base}}, 3000)}))})));
    CHECK(g.Entry(e, "note") == "from A");
    // Later by clock, but note is server_wins: the server keeps "from A".
    auto r = app.PushOk(
        g.admin_p,
        app.Body(
            kClient2,
            json::array({Tx(1, json::array({Upd("timesheet_entries", pk, json{{"note", "from B"}},
                                                json{{"note", base}}, 1000)}))})));
    CHECK(r[0]["status"] == "applied");
    CHECK(g.Entry(e, "note") == "from A");
  }

  SECTION("additive applies both deltas") {
    std::string ts =
        app.Q("SELECT id FROM timesheets WHERE \"companyId\" = '" + g.a + "' ORDER BY id LIMIT 1");
    int total = std::stoi(app.Q("SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + ts + "'"));
    json tpk = json::array({ts});
    app.PushOk(
        g.admin_p,
        app.Body(kClient1,
                 json::array(
                     {Tx(1, json::array({Upd("timesheets", tpk, json{{"totalMinutes", total + 10}},
                                             json{{"totalMinutes", total}})}))})));
    app.PushOk(
        g.admin_p,
        app.Body(kClient2,
                 json::array(
                     {Tx(1, json::array({Upd("timesheets", tpk, json{{"totalMinutes", total + 20}},
                                             json{{"totalMinutes", total}}, 5000)}))})));
    CHECK(app.Q("SELECT \"totalMinutes\" FROM timesheets WHERE id = '" + ts + "'") ==
          std::to_string(total + 30));
  }

  SECTION("update of a deleted row: delete wins, with a notice") {
    app.Exec("DELETE FROM timesheet_entries WHERE id = '" + e + "'");
    auto r = app.PushOk(
        g.admin_p,
        app.Body(kClient1,
                 json::array({Tx(1, json::array({Upd("timesheet_entries", pk, json{{"note", "x"}},
                                                     json{{"note", nullptr}})}))})));
    CHECK(r[0]["status"] == "applied");
    REQUIRE(r[0]["notices"].size() == 1);
    CHECK(r[0]["notices"][0] ==
          json{{"code", "row_deleted"}, {"table", "timesheet_entries"}, {"pk", pk}});
    CHECK(g.Entry(e, "id") == "<none>");
  }

  SECTION("a clock ahead of the server's is clamped") {
    auto r = app.PushOk(
        g.admin_p,
        app.Body(kClient1, json::array({Tx(
                               1, json::array({Upd("timesheet_entries", pk, json{{"country", "FU"}},
                                                   json{{"country", country}}, -3600 * 1000)}))})));
    CHECK(HasNotice(r[0], "clock_clamped"));
    uint64_t stored = std::stoull(app.Q(
        "SELECT clocks->>'country' FROM _outpost.clocks WHERE tbl = 'timesheet_entries' AND pk = "
        "jsonb_build_array('" +
        e + "')"));
    CHECK(stored <= static_cast<uint64_t>(NowMs()) << 16);
  }
}

TEST_CASE("push: inserts of existing keys, merge and reject policies", "[push][conflict]") {
  App app("push_ncy8", "ncy8", 30);
  std::string org1 = app.Q("SELECT md5('ncy8:organization:1')::uuid");
  std::string org2 = app.Q("SELECT md5('ncy8:organization:2')::uuid");
  std::string owner = app.Q("SELECT md5('ncy8:user:1')::uuid");
  Principal who{org1, owner, "OWNER", json{{"tenant", org1}, {"sub", owner}, {"role", "OWNER"}}};
  std::string team1 = app.Q("SELECT md5('ncy8:team:1:1')::uuid");
  std::string team2 = app.Q("SELECT md5('ncy8:team:2:1')::uuid");
  std::string member = app.Q("SELECT user_id FROM \"TeamMember\" WHERE team_id = '" + team1 +
                             "' ORDER BY user_id LIMIT 1");
  REQUIRE(member != "<none>");
  std::string project2 = app.Q("SELECT md5('ncy8:project:2:1')::uuid");
  std::string project1 = app.Q("SELECT md5('ncy8:project:1:1')::uuid");

  SECTION("row_exists carries the server row; another tenant's row is not shown") {
    std::string task =
        app.Q("SELECT id FROM \"Task\" WHERE project_id = '" + project1 + "' ORDER BY id LIMIT 1");
    std::string task2 =
        app.Q("SELECT id FROM \"Task\" WHERE project_id = '" + project2 + "' ORDER BY id LIMIT 1");
    auto r = app.PushOk(
        who,
        app.Body(
            kClient1,
            json::array(
                {Tx(1, json::array({Ins("Task", json::array({task}),
                                        json{{"project_id", project1}, {"title", "dup"}})})),
                 Tx(2, json::array({Ins("Task", json::array({task2}),
                                        json{{"project_id", project1}, {"title", "dup"}})}))})));
    CHECK(r[0]["status"] == "rejected");
    CHECK(r[0]["error"]["code"] == "row_exists");
    REQUIRE(r[0]["error"]["rows"].size() == 1);
    CHECK(r[0]["error"]["rows"][0]["row"]["id"] == task);
    CHECK(r[0]["error"]["rows"][0]["row"]["title"] != "dup");
    // Another tenant's key: answered as a row outside the scope, never as row_exists.
    CHECK(r[1]["error"]["code"] == "permission_denied");
    CHECK(r[1]["error"]["rule"] == "scope");
    CHECK(r[1]["error"]["rows"][0]["row"].is_null());
    CHECK(app.Q("SELECT title FROM \"Task\" WHERE id = '" + task2 + "'") != "dup");
  }

  SECTION("merge: an insert of an existing key updates it") {
    auto r = app.PushOk(
        who,
        app.Body(kClient1,
                 json::array({Tx(1, json::array({Ins("TeamMember", json::array({team1, member}),
                                                     json{{"team_id", team1},
                                                          {"user_id", member},
                                                          {"deleted_at", "2024-01-01T00:00:00"}},
                                                     -1)}))})));
    CHECK(r[0]["status"] == "applied");
    CHECK(HasNotice(r[0], "merged"));
    CHECK(app.Q("SELECT deleted_at::text FROM \"TeamMember\" WHERE team_id = '" + team1 +
                "' AND user_id = '" + member + "'") == "2024-01-01 00:00:00");
  }

  SECTION("a child pointing to another tenant's parent is refused") {
    std::string id = "0193a0c0-0000-7000-8000-0000000000f1";
    std::string fine = "0193a0c0-0000-7000-8000-0000000000f2";
    auto r = app.PushOk(
        who,
        app.Body(
            kClient1,
            json::array(
                {Tx(1, json::array({Ins("Task", json::array({id}),
                                        json{{"project_id", project2}, {"title", "sneaky"}})})),
                 Tx(2, json::array({Ins("TeamMember", json::array({team2, owner}),
                                        json{{"team_id", team2}, {"user_id", owner}})})),
                 // A fresh key: a second try with the key of the rejected insert would depend
                 // on it (rejected as "dependent").
                 Tx(3, json::array({Ins("Task", json::array({fine}),
                                        json{{"project_id", project1}, {"title", "fine"}})}))})));
    // As a parent that does not exist would be (no existence oracle).
    CHECK(r[0]["status"] == "rejected");
    CHECK(r[0]["error"]["code"] == "constraint_violation");
    CHECK(r[0]["error"]["rule"] == "Task_project_id_fkey");
    CHECK(r[1]["error"]["code"] == "constraint_violation");
    CHECK(r[2]["status"] == "applied");
    // Moving the task to another tenant's project is refused too.
    auto m = app.PushOk(
        who, app.Body(kClient1,
                      json::array({Tx(4, json::array({Upd("Task", json::array({fine}),
                                                          json{{"project_id", project2}},
                                                          json{{"project_id", project1}})}))})));
    CHECK(m[0]["error"]["code"] == "constraint_violation");
    CHECK(m[0]["error"]["rows"][0]["row"]["project_id"] == project1);
    CHECK(app.Q("SELECT project_id FROM \"Task\" WHERE id = '" + fine + "'") == project1);
    CHECK(app.Q("SELECT count(*) FROM \"Task\" WHERE title = 'sneaky'") == "0");
  }

  SECTION("reject policy: a stale base rejects the transaction") {
    std::string slug = app.Q("SELECT slug FROM \"Organization\" WHERE id = '" + org1 + "'");
    app.Exec("UPDATE \"Organization\" SET slug = 'moved-on' WHERE id = '" + org1 + "'");
    auto r = app.PushOk(
        who, app.Body(kClient1,
                      json::array(
                          {Tx(1, json::array({Upd("Organization", json::array({org1}),
                                                  json{{"slug", "mine"}, {"name", "N"}},
                                                  json{{"slug", slug}, {"name", "old"}}, -1)}))})));
    CHECK(r[0]["status"] == "rejected");
    CHECK(r[0]["error"]["code"] == "conflict");
    CHECK(r[0]["error"]["rule"] == "slug");
    CHECK(r[0]["error"]["rows"][0]["row"]["slug"] == "moved-on");
    CHECK(app.Q("SELECT slug FROM \"Organization\" WHERE id = '" + org1 + "'") == "moved-on");
  }
}

TEST_CASE("push: tenant safety", "[push][security]") {
  Gogotime g("push_tenants");
  App& app = g.app;
  std::string b_note = g.Entry(g.b_entry, "note");
  std::string b_minutes = g.Entry(g.b_entry, "durationMin");
  std::string id = "0193a0c0-0000-7000-8000-0000000000a1";
  json evil = g.NewEntry(id);
  evil["companyId"] = g.b;
  json bpk = json::array({g.b_entry});
  std::string second = app.Q("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + g.a +
                             "' ORDER BY id OFFSET 1 LIMIT 1");
  auto r = app.PushOk(
      g.admin_p,
      app.Body(kClient1,
               json::array(
                   {Tx(1, json::array({Ins("timesheet_entries", json::array({id}), evil)})),
                    Tx(2, json::array({Upd("timesheet_entries", bpk, json{{"durationMin", 1}},
                                           json{{"durationMin", std::stoi(b_minutes)}}, -1)})),
                    Tx(3, json::array({Del("timesheet_entries", bpk)})),
                    // Moving A's row to B.
                    Tx(4, json::array({Upd("timesheet_entries", json::array({g.entry}),
                                           json{{"companyId", g.b}}, json{{"companyId", g.a}})})),
                    // A role that may not write the table.
                    Tx(5, json::array({Ins("companies", json::array({g.a}), json{{"name", "x"}})})),
                    // A key the server assigns is not the client's to pick (here: not serial).
                    // (Another row than transaction 4's: a write on it would be "dependent".)
                    Tx(6, json::array({Upd("timesheet_entries", json::array({second}),
                                           json{{"id", g.b_entry}}, json{{"id", second}})}))})));
  CHECK(r[0]["status"] == "rejected");
  CHECK(r[0]["error"]["code"] == "permission_denied");
  CHECK(r[0]["error"]["rule"] == "tenant");
  CHECK(r[0]["error"]["rows"][0]["row"].is_null());
  CHECK(r[1]["status"] == "applied");
  CHECK(HasNotice(r[1], "row_deleted"));
  CHECK(r[2]["status"] == "applied");
  CHECK(HasNotice(r[2], "row_deleted"));
  CHECK(r[3]["error"]["rule"] == "tenant");
  CHECK(r[4]["error"]["code"] == "permission_denied");
  CHECK(r[4]["error"]["rule"] == "write");
  CHECK(r[5]["error"]["rule"] == "primary_key");
  CHECK(g.Entry(g.b_entry, "note") == b_note);
  CHECK(g.Entry(g.b_entry, "durationMin") == b_minutes);
  CHECK(g.Entry(g.entry, "companyId") == g.a);
  CHECK(g.Entry(id, "id") == "<none>");

  SECTION("references to another tenant's existing rows are refused, naming the reference") {
    // The row itself is in A's scope; one of its references (not the first one checked) points
    // at B's row, which exists: the scope and reference checks run as one query, and the
    // failing one is reported.
    const std::string b_user = app.Q("SELECT md5('gogotime:user:2:1')::uuid");
    const std::string b_code = app.Q("SELECT id FROM action_codes WHERE \"companyId\" = '" + g.b +
                                     "' ORDER BY id LIMIT 1");
    REQUIRE(app.Q("SELECT count(*) FROM users WHERE id = '" + b_user + "' AND \"companyId\" = '" +
                  g.b + "'") == "1");
    REQUIRE(!b_code.empty());
    json to_b_code = g.NewEntry("0193a0c0-0000-7000-8000-0000000000a4");
    to_b_code["actionCodeId"] = b_code;
    json to_b_user = g.NewEntry("0193a0c0-0000-7000-8000-0000000000a5");
    to_b_user["userId"] = b_user;
    json fine = g.NewEntry("0193a0c0-0000-7000-8000-0000000000a6");
    auto f = app.PushOk(
        g.admin_p,
        app.Body(
            kClient2,
            json::array(
                {Tx(1, json::array(
                           {Ins("timesheet_entries", json::array({to_b_code["id"]}), to_b_code)})),
                 Tx(2, json::array(
                           {Ins("timesheet_entries", json::array({to_b_user["id"]}), to_b_user)})),
                 Tx(3, json::array({Upd("timesheet_entries", json::array({g.entry}),
                                        json{{"userId", b_user}}, json{{"userId", g.admin}})})),
                 Tx(4,
                    json::array({Ins("timesheet_entries", json::array({fine["id"]}), fine)}))})));
    // Answered as a reference to no row would be (no existence oracle).
    CHECK(f[0]["error"]["code"] == "constraint_violation");
    CHECK(f[0]["error"]["rule"] == "FK_timesheet_entries_actionCodeId");
    CHECK(f[1]["error"]["code"] == "constraint_violation");
    CHECK(f[1]["error"]["rule"] == "FK_timesheet_entries_userId");
    CHECK(f[2]["error"]["rule"] == "FK_timesheet_entries_userId");
    CHECK(f[3]["status"] == "applied");
    CHECK(g.Entry(to_b_code["id"].get<std::string>(), "id") == "<none>");
    CHECK(g.Entry(to_b_user["id"].get<std::string>(), "id") == "<none>");
    CHECK(g.Entry(g.entry, "userId") != b_user);
  }

  SECTION("row filter: an employee writes only their own rows") {
    json own = g.NewEntry("0193a0c0-0000-7000-8000-0000000000a2");
    own.erase("userId");
    json other = g.NewEntry("0193a0c0-0000-7000-8000-0000000000a3");  // the admin's user id
    auto f = app.PushOk(
        g.employee_p,
        app.Body(
            kClient2,
            json::array(
                {Tx(1, json::array({Ins("timesheet_entries", json::array({own["id"]}), own)})),
                 Tx(2, json::array({Ins("timesheet_entries", json::array({other["id"]}), other)})),
                 Tx(3, json::array({Upd("timesheet_entries", json::array({g.entry}),
                                        json{{"note", "x"}}, json{{"note", nullptr}})}))})));
    CHECK(f[0]["status"] == "applied");
    CHECK(g.Entry(own["id"].get<std::string>(), "userId") == g.employee);
    CHECK(f[1]["error"]["rule"] == "filter");
    // The admin's entry is outside the employee's scope: as if absent.
    bool admin_row = app.Q("SELECT \"userId\" FROM timesheet_entries WHERE id = '" + g.entry +
                           "'") != g.employee;
    if (admin_row) CHECK(HasNotice(f[2], "row_deleted"));
  }
}

TEST_CASE("push: validation rejects the whole request before applying anything",
          "[push][validation]") {
  Gogotime g("push_validation");
  App& app = g.app;
  std::string id = "0193a0c0-0000-7000-8000-0000000000b1";
  json good = Tx(1, json::array({Ins("timesheet_entries", json::array({id}), g.NewEntry(id))}));
  auto expect = [&](const json& bad_tx, Code code) {
    auto r = app.Push(g.admin_p, app.Body(kClient1, json::array({good, bad_tx})));
    INFO(bad_tx.dump());
    REQUIRE_FALSE(r.ok());
    INFO(r.status().ToString());
    CHECK(r.status().code() == code);
    CHECK(g.Entry(id, "id") == "<none>");
  };
  std::string user = g.admin;
  // An excluded (secret) column is unknown.
  expect(Tx(2, json::array({Upd("users", json::array({user}), json{{"passwordHash", "x"}},
                                json{{"passwordHash", "y"}})})),
         Code::kUnknownColumn);
  expect(Tx(2, json::array({Upd("timesheet_entries", json::array({g.entry}), json{{"nope", 1}},
                                json{{"nope", 2}})})),
         Code::kUnknownColumn);
  expect(Tx(2, json::array({Del("no_such_table", json::array({id}))})), Code::kUnknownTable);
  expect(Tx(2, json::array({Del("active_sessions", json::array({id}))})), Code::kUnknownTable);
  // Wrong types.
  expect(Tx(2, json::array({Upd("timesheet_entries", json::array({g.entry}),
                                json{{"durationMin", "30"}}, json{{"durationMin", 1}})})),
         Code::kInvalidValue);
  expect(Tx(2, json::array({Upd("timesheet_entries", json::array({g.entry}), json{{"companyId", 5}},
                                json{{"companyId", g.a}})})),
         Code::kInvalidValue);
  expect(Tx(2, json::array({Del("timesheet_entries", json::array({"not-a-uuid"}))})),
         Code::kInvalidValue);
  // Shape.
  expect(Tx(2, json::array({Del("timesheet_entries", json::array({id, id}))})),
         Code::kMalformedRequest);
  json no_hlc = Del("timesheet_entries", json::array({id}));
  no_hlc["hlc"] = 12;
  expect(Tx(2, json::array({no_hlc})), Code::kMalformedRequest);
  json bad_op = Del("timesheet_entries", json::array({id}));
  bad_op["op"] = "upsert";
  expect(Tx(2, json::array({bad_op})), Code::kMalformedRequest);
  expect(Tx(1, json::array()), Code::kMalformedRequest);  // tx_id twice
  expect(Tx(2, json::array({Upd("timesheet_entries", json::array({g.entry}), json{{"note", "x"}},
                                json::object())})),
         Code::kMalformedRequest);  // no base

  json body = app.Body(kClient1, json::array({good}));
  body["schema"] = "sha256:0000";
  auto r = app.Push(g.admin_p, body);
  CHECK(r.status().code() == Code::kSchemaMismatch);
  body = app.Body("not-a-uuid", json::array({good}));
  CHECK(app.Push(g.admin_p, body).status().code() == Code::kMalformedRequest);
  CHECK(server::HandlePush(*app.conn, *app.model, g.admin_p, "{").status().code() ==
        Code::kMalformedRequest);
  CHECK(g.Entry(id, "id") == "<none>");
}

TEST_CASE("push: constraint violations reject one transaction, with the server rows",
          "[push][constraints]") {
  Gogotime g("push_constraints");
  App& app = g.app;
  std::string e = g.entry;
  // Another row for a check after the rejection of a transaction that wrote `e`.
  std::string e2 = app.Q("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + g.a +
                         "' ORDER BY id OFFSET 1 LIMIT 1");
  std::string minutes = g.Entry(e, "durationMin");
  std::string id1 = "0193a0c0-0000-7000-8000-0000000000d1";
  std::string id2 = "0193a0c0-0000-7000-8000-0000000000d2";
  std::string existing_code = app.Q("SELECT code FROM action_codes WHERE id = '" + g.code + "'");
  json bad_fk = g.NewEntry(id2);
  bad_fk["actionCodeId"] = "0193a0c0-0000-7000-8000-0000000000ff";
  auto r = app.PushOk(
      g.admin_p,
      app.Body(
          kClient1,
          json::array(
              {Tx(1, json::array({Ins("timesheet_entries", json::array({id1}), g.NewEntry(id1))})),
               // CHECK, after a valid change in the same transaction.
               Tx(2, json::array(
                         {Upd("timesheet_entries", json::array({id1}), json{{"note", "kept?"}},
                              json{{"note", nullptr}}),
                          Upd("timesheet_entries", json::array({e}), json{{"durationMin", 5000}},
                              json{{"durationMin", std::stoi(minutes)}})})),
               Tx(3, json::array({Ins("timesheet_entries", json::array({id2}), bad_fk)})),
               Tx(4, json::array({Ins("action_codes", json::array({id2}),
                                      json{{"code", existing_code}, {"name", "dup"}})})),
               Tx(5, json::array({Upd("timesheet_entries", json::array({e2}),
                                      json{{"day", "2024-02-30"}}, json{{"day", nullptr}})})),
               Tx(6, json::array({Upd("timesheet_entries", json::array({id1}),
                                      json{{"note", "later"}}, json{{"note", nullptr}})})),
               // The failing mutation first: the rows of the mutations after it are listed too.
               Tx(7, json::array(
                         {Upd("timesheet_entries", json::array({e}), json{{"durationMin", 5000}},
                              json{{"durationMin", std::stoi(minutes)}}),
                          Upd("timesheet_entries", json::array({id1}), json{{"note", "never"}},
                              json{{"note", "later"}})}))})));
  CHECK(r[0]["status"] == "applied");
  CHECK(r[1]["status"] == "rejected");
  CHECK(r[1]["error"]["code"] == "constraint_violation");
  CHECK(r[1]["error"]["rule"] == "CHK_timesheet_entries_durationMin");
  CHECK(r[1]["error"]["table"] == "timesheet_entries");
  CHECK(r[1]["error"]["pk"] == json::array({e}));
  REQUIRE(r[1]["error"]["rows"].size() == 2);
  CHECK(r[1]["error"]["rows"][0]["row"]["note"].is_null());
  CHECK(r[1]["error"]["rows"][1]["row"]["durationMin"] == std::stoi(minutes));
  CHECK(r[2]["error"]["rule"] == "FK_timesheet_entries_actionCodeId");
  CHECK(r[2]["error"]["rows"][0]["row"].is_null());
  CHECK(r[3]["error"]["rule"] == "UQ_action_codes_companyId_code");
  CHECK(r[4]["error"]["code"] == "invalid_value");
  // Transactions 6 and 7 write rows that the rejected transaction 2 wrote: they depend on it.
  CHECK(r[5]["status"] == "rejected");
  CHECK(r[5]["error"]["code"] == "dependent");
  CHECK(r[5]["error"]["depends_on"] == 2);
  CHECK(r[6]["status"] == "rejected");
  CHECK(r[6]["error"]["code"] == "dependent");
  REQUIRE(r[6]["error"]["rows"].size() == 2);
  CHECK(r[6]["error"]["rows"][1]["pk"] == json::array({id1}));
  CHECK(r[6]["error"]["rows"][1]["row"]["note"].is_null());
  CHECK(g.Entry(id1, "note") == "<null>");
  CHECK(g.Entry(e, "durationMin") == minutes);
  // Rejections are recorded too: a retry returns them unchanged.
  json again = app.PushOk(g.admin_p, app.Body(kClient1, json::array({Tx(2, json::array())})));
  CHECK(again[0] == r[1]);
}

TEST_CASE("push: a transaction writing on a rejected one's rows is rejected, naming it",
          "[push][dependent]") {
  Gogotime g("push_dependent");
  App& app = g.app;
  std::string existing_code = app.Q("SELECT code FROM action_codes WHERE id = '" + g.code + "'");
  std::string dup_code = "0193a0c0-0000-7000-8000-0000000000e1";
  std::string entry = "0193a0c0-0000-7000-8000-0000000000e2";
  std::string other = "0193a0c0-0000-7000-8000-0000000000e3";
  json child = g.NewEntry(entry);
  child["actionCodeId"] = dup_code;
  json txs = json::array(
      {// Loses a unique race: another action code already has this code.
       Tx(1, json::array({Ins("action_codes", json::array({dup_code}),
                              json{{"code", existing_code}, {"name", "dup"}})})),
       // Edits the row that never reached PostgreSQL: would be "applied" with row_deleted.
       Tx(2, json::array({Upd("action_codes", json::array({dup_code}), json{{"name", "renamed"}},
                              json{{"name", "dup"}})})),
       // References it: would be a foreign key violation.
       Tx(3, json::array({Ins("timesheet_entries", json::array({entry}), child)})),
       // Independent of them: applied.
       Tx(4, json::array({Ins("timesheet_entries", json::array({other}), g.NewEntry(other))})),
       // Writes on the dependent transaction 3's row: depends on 3 (rejected in turn).
       Tx(5, json::array({Upd("timesheet_entries", json::array({entry}), json{{"note", "x"}},
                              json{{"note", nullptr}})}))});
  json r = app.PushOk(g.admin_p, app.Body(kClient1, txs));
  CHECK(r[0]["error"]["code"] == "constraint_violation");
  CHECK(r[1]["status"] == "rejected");
  CHECK(r[1]["error"]["code"] == "dependent");
  CHECK(r[1]["error"]["depends_on"] == 1);
  CHECK(r[1]["error"]["table"] == "action_codes");
  CHECK(r[1]["error"]["pk"] == json::array({dup_code}));
  CHECK(r[1]["error"]["message"].get<std::string>().find("transaction 1") != std::string::npos);
  REQUIRE(r[1]["error"]["rows"].size() == 1);
  CHECK(r[1]["error"]["rows"][0]["row"].is_null());
  CHECK(r[2]["error"]["code"] == "dependent");
  CHECK(r[2]["error"]["depends_on"] == 1);
  CHECK(r[3]["status"] == "applied");
  CHECK(r[4]["error"]["code"] == "dependent");
  CHECK(r[4]["error"]["depends_on"] == 3);
  CHECK(app.Q("SELECT count(*) FROM action_codes WHERE id = '" + dup_code + "'") == "0");
  CHECK(app.Q("SELECT count(*) FROM timesheet_entries WHERE id = '" + entry + "'") == "0");
  CHECK(g.Entry(other, "durationMin") == "30");

  // A replay of the request gets the recorded answers; a transaction after them that the first
  // request did not carry is judged against the replayed rejections.
  txs.push_back(Tx(6, json::array({Upd("action_codes", json::array({dup_code}),
                                       json{{"name", "again"}}, json{{"name", "renamed"}})})));
  json again = app.PushOk(g.admin_p, app.Body(kClient1, txs));
  for (size_t i = 0; i < r.size(); ++i) CHECK(again[i] == r[i]);
  CHECK(again[5]["error"]["code"] == "dependent");
  CHECK(again[5]["error"]["depends_on"] == 1);  // the first rejected writer of the row

  // Another client's transactions do not depend on this one's rejections.
  json elsewhere = app.PushOk(
      g.admin_p, app.Body(kClient2, json::array({Tx(1, json::array({Upd(
                                                            "timesheet_entries",
                                                            json::array({other}),
                                                            json{{"note", "theirs"}},
                                                            json{{"note", nullptr}})}))})));
  CHECK(elsewhere[0]["status"] == "applied");
}

TEST_CASE("push: a client value that loses to the server's is reported as superseded",
          "[push][conflict]") {
  Gogotime g("push_superseded");
  App& app = g.app;
  std::string e = g.entry;
  std::string minutes = g.Entry(e, "durationMin");
  // Another backend changes the column now (the server's clock: now).
  app.Exec("UPDATE timesheet_entries SET \"durationMin\" = 77 WHERE id = '" + e + "'");
  // An older client write of the same column loses (last writer by clock); another column of
  // the same mutation is written.
  json r = app.PushOk(
      g.admin_p,
      app.Body(kClient1,
               json::array({Tx(1, json::array({Upd(
                                      "timesheet_entries", json::array({e}),
                                      json{{"durationMin", 45}, {"country", "DE"}},
                                      json{{"durationMin", std::stoi(minutes)},
                                           {"country", g.Entry(e, "country")}},
                                      60000)}))})));
  REQUIRE(r[0]["status"] == "applied");
  REQUIRE(r[0]["notices"].size() == 1);
  CHECK(r[0]["notices"][0]["code"] == "superseded");
  CHECK(r[0]["notices"][0]["table"] == "timesheet_entries");
  CHECK(r[0]["notices"][0]["pk"] == json::array({e}));
  CHECK(r[0]["notices"][0]["columns"] == json::array({"durationMin"}));
  CHECK(g.Entry(e, "durationMin") == "77");
  CHECK(g.Entry(e, "country") == "DE");
}

TEST_CASE("push: temporary keys are remapped, in the same and later transactions", "[push][keys]") {
  App app("push_keys", "gemini_crm", 30);
  std::string admin = app.Q("SELECT min(id) FROM \"Users\"");
  Principal who{"", admin, "admin", json{{"sub", admin}, {"role", "admin"}}};
  std::string product = app.Q("SELECT min(id) FROM \"Products\"");
  std::string ts = "2024-05-02T10:00:00Z";
  json customer{{"id", -1},
                {"firstName", "Ada"},
                {"totalPurchases", "0.00"},
                {"createdAt", ts},
                {"updatedAt", ts}};
  json order{
      {"id", -2}, {"customerId", -1}, {"total", "12.50"}, {"createdAt", ts}, {"updatedAt", ts}};
  json item{{"id", -3},       {"orderId", -2},   {"productId", std::stoi(product)},
            {"quantity", 2},  {"price", "6.25"}, {"createdAt", ts},
            {"updatedAt", ts}};
  json tx1 = Tx(1, json::array({Ins("Customers", json::array({-1}), customer),
                                Ins("Orders", json::array({-2}), order)}));
  json tx2 = Tx(2, json::array({Ins("OrderItems", json::array({-3}), item),
                                Upd("Customers", json::array({-1}), json{{"lastName", "Lovelace"}},
                                    json{{"lastName", nullptr}})}));
  auto r = app.PushOk(who, app.Body(kClient1, json::array({tx1, tx2})));
  REQUIRE(r[0]["status"] == "applied");
  REQUIRE(r[1]["status"] == "applied");
  REQUIRE(r[0]["remaps"].size() == 2);
  json c = r[0]["remaps"][0];
  CHECK(c["table"] == "Customers");
  CHECK(c["from"] == json::array({-1}));
  int64_t cust = c["to"][0].get<int64_t>();
  CHECK(cust > 0);
  int64_t ord = r[0]["remaps"][1]["to"][0].get<int64_t>();
  int64_t itm = r[1]["remaps"][0]["to"][0].get<int64_t>();
  CHECK(app.Q("SELECT \"customerId\" FROM \"Orders\" WHERE id = " + std::to_string(ord)) ==
        std::to_string(cust));
  CHECK(app.Q("SELECT \"orderId\" FROM \"OrderItems\" WHERE id = " + std::to_string(itm)) ==
        std::to_string(ord));
  CHECK(app.Q("SELECT \"lastName\" FROM \"Customers\" WHERE id = " + std::to_string(cust)) ==
        "Lovelace");

  // A later push that replays tx 1 from its record still translates -2 for a new transaction.
  json tx3 = Tx(3, json::array({Upd("Orders", json::array({-2}), json{{"notes", "via record"}},
                                    json{{"notes", nullptr}})}));
  auto r2 = app.PushOk(who, app.Body(kClient1, json::array({tx1, tx3})));
  CHECK(r2[0] == r[0]);
  CHECK(r2[1]["status"] == "applied");
  CHECK(r2[1]["notices"] == json::array());
  CHECK(app.Q("SELECT notes FROM \"Orders\" WHERE id = " + std::to_string(ord)) == "via record");
  CHECK(app.Q("SELECT count(*) FROM \"Customers\" WHERE \"firstName\" = 'Ada'") == "1");

  // A server key is not the client's to choose.
  json own_key = customer;
  own_key["id"] = 999999;
  auto r3 = app.PushOk(
      who, app.Body(kClient2,
                    json::array(
                        {Tx(1, json::array({Ins("Customers", json::array({999999}), own_key)}))})));
  CHECK(r3[0]["error"]["rule"] == "server_key");

  // Additive numeric column.
  app.Exec("UPDATE \"Customers\" SET \"totalPurchases\" = 100 WHERE id = " + std::to_string(cust));
  app.PushOk(who,
             app.Body(kClient2,
                      json::array({Tx(2, json::array({Upd("Customers", json::array({cust}),
                                                          json{{"totalPurchases", "7.50"}},
                                                          json{{"totalPurchases", "0.00"}})}))})));
  CHECK(app.Q("SELECT \"totalPurchases\" FROM \"Customers\" WHERE id = " + std::to_string(cust)) ==
        "107.50");

  // A rejected transaction's temporary key is not remapped: a child referring to it fails.
  json bad_order = order;
  bad_order["id"] = -10;
  bad_order["total"] = nullptr;  // NOT NULL
  json child = item;
  child["id"] = -11;
  child["orderId"] = -10;
  auto r4 = app.PushOk(
      who,
      app.Body(kClient2,
               json::array({Tx(3, json::array({Ins("Orders", json::array({-10}), bad_order)})),
                            Tx(4, json::array({Ins("OrderItems", json::array({-11}), child)}))})));
  CHECK(r4[0]["error"]["code"] == "constraint_violation");
  CHECK(r4[0]["error"]["rule"] == "total");
  CHECK(r4[0]["error"]["rows"][0] == json{{"table", "Orders"}, {"pk", {-10}}, {"row", nullptr}});
  // The child depends on the rejected order: rejected naming it, not as a dangling reference.
  CHECK(r4[1]["error"]["code"] == "dependent");
  CHECK(r4[1]["error"]["depends_on"] == 3);
}

}  // namespace outpost::testing
