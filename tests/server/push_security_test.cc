// HandlePush against a real PostgreSQL, for the attack classes of issue 13 that live in the push
// path: writes by cascade into tables the token may not write, existence oracles (a reference or
// key of another tenant answers like a missing one), and text holding U+0000. Every case checks
// the rejection the client gets AND that PostgreSQL did not change.
#include <catch2/catch.hpp>
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

// A loaded application with the server's state installed: the push connection, another backend
// for setup and inspection, and the model.
struct App : PushDb {
  App(const std::string& db, const std::string& app, int rows) : PushDb(db, app, rows) {}
  // The results of a push of `mutations` (one transaction per element).
  json Push(const Principal& who, const json& txs) {
    json body = {{"schema", model->version()},
                 {"client_id", "0193a0c0-0000-7000-8000-0000000013c1"},
                 {"transactions", txs}};
    auto r = server::HandlePush(*conn, *model, who, body.dump());
    INFO(r.status().ToString());
    REQUIRE(r.ok());
    json out = json::parse(protocol::EncodePushAnswer(*r))["results"];
    INFO(out.dump());
    REQUIRE(out.size() == txs.size());
    return out;
  }
};

json Tx(int64_t id, const json& m) {
  return json{{"tx_id", id}, {"mutations", json::array({m})}};
}
json Ins(const std::string& table, const json& pk, const json& values) {
  return json{{"op", "insert"}, {"table", table}, {"pk", pk}, {"hlc", "1"}, {"new", values}};
}
json Upd(const std::string& table, const json& pk, const json& nv, const json& ov) {
  return json{{"op", "update"}, {"table", table}, {"pk", pk},
              {"hlc", "1"},     {"new", nv},      {"old", ov}};
}
json Del(const std::string& table, const json& pk) {
  return json{{"op", "delete"}, {"table", table}, {"pk", pk}, {"hlc", "1"}};
}

// The rejection without what legitimately differs between two keys (the key itself).
json Shape(json result) {
  json e = result["error"];
  e.erase("pk");
  for (auto& r : e["rows"]) r.erase("pk");
  return json{{"status", result["status"]}, {"error", e}};
}

struct Gogotime {
  App app;
  std::string a, b, admin, employee, code;
  Principal admin_p, employee_p;
  explicit Gogotime(const std::string& db) : app(db, "gogotime", 30) {
    a = app.Q("SELECT md5('gogotime:company:1')::uuid");
    b = app.Q("SELECT md5('gogotime:company:2')::uuid");
    admin = app.Q("SELECT md5('gogotime:user:1:1')::uuid");
    employee = app.Q("SELECT md5('gogotime:user:1:7')::uuid");
    code =
        app.Q("SELECT id FROM action_codes WHERE \"companyId\" = '" + a + "' ORDER BY id LIMIT 1");
    admin_p = Principal{a, admin, "admin", json{{"tenant", a}, {"sub", admin}, {"role", "admin"}}};
    employee_p = Principal{a, employee, "employee",
                           json{{"tenant", a}, {"sub", employee}, {"role", "employee"}}};
  }
  json NewEntry(const std::string& id) const {
    return json{{"id", id},        {"userId", admin},   {"actionCodeId", code},
                {"country", "FR"}, {"durationMin", 30}, {"day", "2024-05-02"}};
  }
  int weeks = 0;  // each new timesheet has a period of its own
  // A timesheet of `user` in company A, created here, with `approvals` approval rows.
  std::string Timesheet(const std::string& id, const std::string& user, int approvals) {
    app.Exec(
        "INSERT INTO timesheets (id, \"companyId\", \"userId\", \"periodStart\", "
        "\"periodEnd\") VALUES ('" +
        id + "', '" + a + "', '" + user + "', DATE '2030-01-01' + " + std::to_string(7 * weeks) +
        ", DATE '2030-01-07' + " + std::to_string(7 * weeks) + ")");
    ++weeks;
    for (int i = 0; i < approvals; ++i) {
      app.Exec(
          "INSERT INTO timesheet_approvals (\"companyId\", \"timesheetId\", \"approverId\") "
          "VALUES ('" +
          a + "', '" + id + "', md5('gogotime:user:1:" + std::to_string(i + 1) + "')::uuid)");
    }
    return id;
  }
};

}  // namespace

TEST_CASE("push security: a delete cascading into a table the token may not write is refused",
          "[push][security][cascade]") {
  Gogotime g("push_sec_cascade");
  App& app = g.app;
  // timesheet_approvals references timesheets ON DELETE CASCADE; employees may write timesheets
  // but not timesheet_approvals.
  std::string guarded = g.Timesheet("0193a0c0-0000-7000-8000-0000000013a1", g.employee, 2);
  std::string bare = g.Timesheet("0193a0c0-0000-7000-8000-0000000013a2", g.employee, 0);
  std::string by_admin = g.Timesheet("0193a0c0-0000-7000-8000-0000000013a3", g.employee, 1);
  auto approvals = [&](const std::string& ts) {
    return app.Q("SELECT count(*) FROM timesheet_approvals WHERE \"timesheetId\" = '" + ts + "'");
  };
  auto exists = [&](const std::string& ts) {
    return app.Q("SELECT count(*) FROM timesheets WHERE id = '" + ts + "'");
  };
  json r = app.Push(g.employee_p, json::array({Tx(1, Del("timesheets", json::array({guarded}))),
                                               Tx(2, Del("timesheets", json::array({bare})))}));
  CHECK(r[0]["status"] == "rejected");
  CHECK(r[0]["error"]["code"] == "permission_denied");
  CHECK(r[0]["error"]["rule"] == "cascade");
  CHECK(r[0]["error"]["message"].get<std::string>().find("timesheet_approvals") !=
        std::string::npos);
  CHECK(exists(guarded) == "1");
  CHECK(approvals(guarded) == "2");
  // Exact: a row without such dependents is deleted.
  CHECK(r[1]["status"] == "applied");
  CHECK(exists(bare) == "0");
  // A role that may write the dependents deletes with the cascade.
  json a = app.Push(g.admin_p, json::array({Tx(3, Del("timesheets", json::array({by_admin})))}));
  CHECK(a[0]["status"] == "applied");
  CHECK(exists(by_admin) == "0");
  CHECK(approvals(by_admin) == "0");
}

TEST_CASE("push security: a reference to another tenant's row answers like a missing one",
          "[push][security][oracle]") {
  Gogotime g("push_sec_oracle");
  App& app = g.app;
  const std::string b_code =
      app.Q("SELECT id FROM action_codes WHERE \"companyId\" = '" + g.b + "' ORDER BY id LIMIT 1");
  const std::string nothing = "0193a0c0-0000-7000-8000-0000000013ff";
  REQUIRE(app.Q("SELECT count(*) FROM action_codes WHERE id = '" + nothing + "'") == "0");
  json to_b = g.NewEntry("0193a0c0-0000-7000-8000-0000000013b1");
  to_b["actionCodeId"] = b_code;
  json to_nothing = g.NewEntry("0193a0c0-0000-7000-8000-0000000013b2");
  to_nothing["actionCodeId"] = nothing;
  std::string own = app.Q("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + g.a +
                          "' ORDER BY id LIMIT 1");
  std::string own_code =
      app.Q("SELECT \"actionCodeId\" FROM timesheet_entries WHERE id = '" + own + "'");
  json r = app.Push(
      g.admin_p,
      json::array({Tx(1, Ins("timesheet_entries", json::array({to_b["id"]}), to_b)),
                   Tx(2, Ins("timesheet_entries", json::array({to_nothing["id"]}), to_nothing)),
                   Tx(3, Upd("timesheet_entries", json::array({own}),
                             json{{"actionCodeId", b_code}}, json{{"actionCodeId", own_code}}))}));
  // In a request of its own: after transaction 3's rejection in the same request, a write of the
  // same row would be rejected as "dependent" on it.
  json r4 = app.Push(g.admin_p, json::array({Tx(4, Upd("timesheet_entries", json::array({own}),
                                                       json{{"actionCodeId", nothing}},
                                                       json{{"actionCodeId", own_code}}))}));
  CHECK(r[0]["status"] == "rejected");
  CHECK(r[0]["error"]["rule"] == "FK_timesheet_entries_actionCodeId");
  CHECK(Shape(r[0]) == Shape(r[1]));
  CHECK(r[2]["status"] == "rejected");
  CHECK(Shape(r[2]) == Shape(r4[0]));
  CHECK(r[0].dump().find(b_code) == std::string::npos);
  CHECK(app.Q("SELECT count(*) FROM timesheet_entries WHERE id IN ('" +
              to_b["id"].get<std::string>() + "', '" + to_nothing["id"].get<std::string>() +
              "')") == "0");
  CHECK(app.Q("SELECT \"actionCodeId\" FROM timesheet_entries WHERE id = '" + own + "'") ==
        own_code);
}

TEST_CASE("push security: an insert with another tenant's key says nothing of that row",
          "[push][security][oracle]") {
  App app("push_sec_oracle_pk", "ncy8", 30);
  const std::string a = app.Q("SELECT id FROM \"Organization\" ORDER BY id LIMIT 1");
  const std::string b = app.Q("SELECT id FROM \"Organization\" ORDER BY id OFFSET 1 LIMIT 1");
  const std::string user =
      app.Q("SELECT user_id FROM \"OrganizationMember\" WHERE organization_id = '" + a +
            "' ORDER BY user_id LIMIT 1");
  Principal owner{a, user, "OWNER", json{{"tenant", a}, {"sub", user}, {"role", "OWNER"}}};
  // B's team membership (an existing key), a fresh membership of B's team (a key nobody holds,
  // whose row would be B's) and a membership of a team that does not exist: the same answer.
  const std::string b_team = app.Q(
      "SELECT t.id FROM \"Team\" t JOIN \"TeamMember\" m ON m.team_id = t.id WHERE "
      "t.organization_id = '" +
      b + "' ORDER BY t.id LIMIT 1");
  REQUIRE(b_team != "<none>");
  const std::string b_member = app.Q("SELECT user_id FROM \"TeamMember\" WHERE team_id = '" +
                                     b_team + "' ORDER BY user_id LIMIT 1");
  const std::string b_row = app.Q(
      "SELECT row_to_json(m)::text FROM \"TeamMember\" m WHERE "
      "team_id = '" +
      b_team + "' AND user_id = '" + b_member + "'");
  const std::string fresh_user = app.Q(
      "SELECT id FROM \"User\" u WHERE NOT EXISTS (SELECT 1 FROM \"TeamMember\" m WHERE "
      "m.team_id = '" +
      b_team +
      "' AND m.user_id = u.id) AND EXISTS (SELECT 1 FROM "
      "\"OrganizationMember\" o WHERE o.user_id = u.id AND o.organization_id = '" +
      a + "') ORDER BY id LIMIT 1");
  REQUIRE(fresh_user != "<none>");
  const std::string no_team = "0193a0c0-0000-7000-8000-0000000013cf";
  auto member = [](const std::string& team, const std::string& user) {
    return Ins("TeamMember", json::array({team, user}), json{{"team_id", team}, {"user_id", user}});
  };
  json r = app.Push(owner,
                    json::array({Tx(1, member(b_team, b_member)), Tx(2, member(b_team, fresh_user)),
                                 Tx(3, member(no_team, fresh_user))}));
  CHECK(Shape(r[0]) == Shape(r[1]));
  CHECK(Shape(r[0]) == Shape(r[2]));
  CHECK(r[0]["status"] == "rejected");
  CHECK(r[0]["error"]["rule"] == "TeamMember_team_id_fkey");
  CHECK(r[0]["error"]["rows"][0]["row"].is_null());
  CHECK(app.Q("SELECT row_to_json(m)::text FROM \"TeamMember\" m WHERE team_id = '" + b_team +
              "' AND user_id = '" + b_member + "'") == b_row);
  CHECK(app.Q("SELECT count(*) FROM \"TeamMember\" WHERE team_id = '" + b_team +
              "' AND user_id = '" + fresh_user + "'") == "0");

  SECTION("a key of another tenant's row, references all visible: nothing of that row") {
    const std::string b_entry_id = app.Q(
        "SELECT t.id FROM \"Task\" t JOIN \"Project\" p ON "
        "p.id = t.project_id WHERE p.organization_id = '" +
        b + "' ORDER BY t.id LIMIT 1");
    REQUIRE(b_entry_id != "<none>");
    const std::string project =
        app.Q("SELECT id FROM \"Project\" WHERE organization_id = '" + a + "' ORDER BY id LIMIT 1");
    const std::string task_row =
        app.Q("SELECT row_to_json(t)::text FROM \"Task\" t WHERE id = '" + b_entry_id + "'");
    json t = app.Push(
        owner, json::array({Tx(
                   4, Ins("Task", json::array({b_entry_id}),
                          json{{"id", b_entry_id}, {"project_id", project}, {"title", "mine"}}))}));
    CHECK(t[0]["status"] == "rejected");
    CHECK(t[0]["error"]["code"] == "permission_denied");
    CHECK(t[0]["error"]["rule"] == "scope");
    CHECK(t[0]["error"]["message"].get<std::string>().find("exist") == std::string::npos);
    CHECK(t[0]["error"]["rows"][0]["row"].is_null());
    CHECK(app.Q("SELECT row_to_json(t)::text FROM \"Task\" t WHERE id = '" + b_entry_id + "'") ==
          task_row);
  }
}

TEST_CASE("push security: text holding U+0000 is refused, naming the column",
          "[push][security][nul]") {
  Gogotime g("push_sec_nul");
  App& app = g.app;
  std::string own = app.Q("SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + g.a +
                          "' ORDER BY id LIMIT 1");
  std::string note = app.Q("SELECT note FROM timesheet_entries WHERE id = '" + own + "'");
  json ins = g.NewEntry("0193a0c0-0000-7000-8000-0000000013d1");
  ins["note"] = std::string("before\0after", 12);
  json r = app.Push(
      g.admin_p,
      json::array({Tx(1, Ins("timesheet_entries", json::array({ins["id"]}), ins)),
                   Tx(2, Upd("timesheet_entries", json::array({own}),
                             json{{"note", std::string("x\0y", 3)}},
                             json{{"note", note == "<null>" ? json(nullptr) : json(note)}})),
                   // A text column of another table.
                   Tx(3, Ins("action_codes", json::array({"0193a0c0-0000-7000-8000-0000000013d2"}),
                             json{{"code", std::string("c\0d", 3)}, {"name", "n"}}))}));
  for (int i = 0; i < 3; ++i) {
    INFO(i);
    CHECK(r[i]["status"] == "rejected");
    CHECK(r[i]["error"]["code"] == "invalid_value");
    CHECK(r[i]["error"]["message"].get<std::string>().find("U+0000") != std::string::npos);
  }
  CHECK(r[0]["error"]["rule"] == "note");
  CHECK(r[1]["error"]["rule"] == "note");
  CHECK(r[2]["error"]["rule"] == "code");
  CHECK(app.Q("SELECT count(*) FROM timesheet_entries WHERE id = '" + ins["id"].get<std::string>() +
              "'") == "0");
  CHECK(app.Q("SELECT coalesce(note, '<null>') FROM timesheet_entries WHERE id = '" + own + "'") ==
        note);
  CHECK(app.Q("SELECT count(*) FROM action_codes WHERE id = "
              "'0193a0c0-0000-7000-8000-0000000013d2'") == "0");

  // In a jsonb value, inline or as JSON text (ncy8's Task.metadata).
  App ncy8("push_sec_nul_json", "ncy8", 30);
  const std::string org = ncy8.Q("SELECT id FROM \"Organization\" ORDER BY id LIMIT 1");
  const std::string member = ncy8.Q(
      "SELECT user_id FROM \"OrganizationMember\" WHERE "
      "organization_id = '" +
      org + "' ORDER BY user_id LIMIT 1");
  const std::string project = ncy8.Q("SELECT id FROM \"Project\" WHERE organization_id = '" + org +
                                     "' ORDER BY id LIMIT 1");
  Principal owner{org, member, "OWNER", json{{"tenant", org}, {"sub", member}, {"role", "OWNER"}}};
  const std::string t1 = "0193a0c0-0000-7000-8000-0000000013d3";
  const std::string t2 = "0193a0c0-0000-7000-8000-0000000013d4";
  json j = ncy8.Push(
      owner, json::array({Tx(1, Ins("Task", json::array({t1}),
                                    json{{"project_id", project},
                                         {"title", "t"},
                                         {"metadata", json{{"a", std::string("x\0y", 3)}}}})),
                          Tx(2, Ins("Task", json::array({t2}),
                                    json{{"project_id", project},
                                         {"title", "t"},
                                         {"metadata", R"({"a":"x\u0000y"})"}}))}));
  for (int i = 0; i < 2; ++i) {
    INFO(i);
    CHECK(j[i]["status"] == "rejected");
    CHECK(j[i]["error"]["code"] == "invalid_value");
    CHECK(j[i]["error"]["rule"] == "metadata");
  }
  CHECK(ncy8.Q("SELECT count(*) FROM \"Task\" WHERE id IN ('" + t1 + "', '" + t2 + "')") == "0");
}

}  // namespace outpost::testing
