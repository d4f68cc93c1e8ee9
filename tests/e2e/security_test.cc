// Attacks and bad input against a real server: a tenant-A token trying to reach tenant B's rows,
// secret columns, forged cursors and parameters, malformed and oversized requests, bad tokens.
// Every case checks the stable error code AND that nothing changed in PostgreSQL.
#include <catch2/catch.hpp>
#include <cctype>
#include <chrono>
#include <thread>
#include <tuple>

#include "e2e_harness.h"
#include "outpost/encoding.h"
#include "pg_cluster.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;

std::string Base64Url(const std::string& in) {
  static const char* k = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += {k[(n >> 18) & 63], k[(n >> 12) & 63], k[(n >> 6) & 63], k[n & 63]};
  }
  if (i + 1 == in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += {k[(n >> 18) & 63], k[(n >> 12) & 63]};
  } else if (i + 2 == in.size()) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += {k[(n >> 18) & 63], k[(n >> 12) & 63], k[(n >> 6) & 63]};
  }
  return out;
}

struct TwoTenants {
  std::string db, a, b, a_user, b_user, a_action, b_entry, b_entry_row, version, token;
  std::unique_ptr<ServerProcess> server;

  TwoTenants() {
    db = PgCluster::Shared().LoadApp("security", "gogotime", 300);
    server = std::make_unique<ServerProcess>(db, "gogotime");
    a = PgScalar(db, "SELECT id FROM companies ORDER BY id LIMIT 1");
    b = PgScalar(db, "SELECT id FROM companies ORDER BY id OFFSET 1 LIMIT 1");
    a_user = PgScalar(db, "SELECT id FROM users WHERE \"companyId\" = '" + a + "' LIMIT 1");
    b_user = PgScalar(db, "SELECT id FROM users WHERE \"companyId\" = '" + b + "' LIMIT 1");
    a_action =
        PgScalar(db, "SELECT id FROM action_codes WHERE \"companyId\" = '" + a + "' LIMIT 1");
    b_entry = PgScalar(db, "SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + b +
                               "' ORDER BY id LIMIT 1");
    b_entry_row = BRow();
    token = MintToken(a, a_user, "admin");
    version = SchemaVersionOf(server->url(), token);
  }
  std::string BRow() {
    return PgScalar(
        db, "SELECT row_to_json(t)::text FROM timesheet_entries t WHERE id = '" + b_entry + "'");
  }
  std::string BFingerprint() {
    return PgScalar(db,
                    "SELECT md5(string_agg(t::text, '|' ORDER BY id)) FROM timesheet_entries "
                    "t WHERE \"companyId\" = '" +
                        b + "'");
  }
  json Push(const json& mutations, int64_t tx_id = 1) {
    json body = {{"schema", version},
                 {"client_id", "0193a0c0-0000-7000-8000-0000000000aa"},
                 {"transactions", json::array({{{"tx_id", tx_id}, {"mutations", mutations}}})}};
    RawResponse r = RawPost(server->url(), "/v1/push", token, body.dump());
    INFO(r.body);
    REQUIRE(r.status == 200);
    return r.json()["results"][0];
  }
  json Entry(const std::string& company, const std::string& id) {
    return {
        {"id", id},        {"companyId", company}, {"userId", a_user},   {"actionCodeId", a_action},
        {"country", "TH"}, {"durationMin", 10},    {"day", "2026-11-23"}};
  }
};

TEST_CASE("a tenant-A token cannot read or change tenant B", "[sync][security]") {
  TwoTenants t;
  std::string before = t.BFingerprint();
  const std::string hlc = "1";

  SECTION("insert a row carrying tenant B's id") {
    json r = t.Push({{{"op", "insert"},
                      {"table", "timesheet_entries"},
                      {"pk", {"0193a0c0-0000-7000-8000-0000000000b1"}},
                      {"hlc", hlc},
                      {"new", t.Entry(t.b, "0193a0c0-0000-7000-8000-0000000000b1")}}});
    CHECK(r["status"] == "rejected");
    CHECK(r["error"]["code"] == "permission_denied");
    CHECK(PgScalar(t.db,
                   "SELECT count(*) FROM timesheet_entries WHERE id = "
                   "'0193a0c0-0000-7000-8000-0000000000b1'") == "0");
  }
  SECTION("update B's row by its id") {
    json r = t.Push({{{"op", "update"},
                      {"table", "timesheet_entries"},
                      {"pk", {t.b_entry}},
                      {"hlc", hlc},
                      {"new", {{"note", "pwned"}}},
                      {"old", {{"note", nullptr}}}}});
    CHECK(r.dump().find(t.b) == std::string::npos);  // nothing of B in the answer
    CHECK(t.BRow() == t.b_entry_row);
  }
  SECTION("move own row into tenant B") {
    std::string own = PgScalar(
        t.db, "SELECT id FROM timesheet_entries WHERE \"companyId\" = '" + t.a + "' LIMIT 1");
    json r = t.Push({{{"op", "update"},
                      {"table", "timesheet_entries"},
                      {"pk", {own}},
                      {"hlc", hlc},
                      {"new", {{"companyId", t.b}}},
                      {"old", {{"companyId", t.a}}}}});
    CHECK(r["status"] == "rejected");
    CHECK(r["error"]["code"] == "permission_denied");
    CHECK(PgScalar(t.db, "SELECT \"companyId\" FROM timesheet_entries WHERE id = '" + own + "'") ==
          t.a);
  }
  SECTION("delete B's row by its id") {
    json r = t.Push({{{"op", "delete"},
                      {"table", "timesheet_entries"},
                      {"pk", {t.b_entry}},
                      {"hlc", hlc},
                      {"old", {{"id", t.b_entry}}}}});
    CHECK(r.dump().find(t.b) == std::string::npos);
    CHECK(t.BRow() == t.b_entry_row);
  }
  SECTION("insert a child pointing at B's parent") {
    std::string b_action =
        PgScalar(t.db, "SELECT id FROM action_codes WHERE \"companyId\" = '" + t.b + "' LIMIT 1");
    json e = t.Entry(t.a, "0193a0c0-0000-7000-8000-0000000000b2");
    e["actionCodeId"] = b_action;
    e["userId"] = t.b_user;
    json r = t.Push({{{"op", "insert"},
                      {"table", "timesheet_entries"},
                      {"pk", {"0193a0c0-0000-7000-8000-0000000000b2"}},
                      {"hlc", hlc},
                      {"new", e}}});
    // The row is A's by its tenant column, but points at B's user and action code: the server
    // must not let A attach rows to B's parents (which would also reveal that they exist).
    CHECK(r["status"] == "rejected");
    CHECK(PgScalar(t.db,
                   "SELECT count(*) FROM timesheet_entries WHERE id = "
                   "'0193a0c0-0000-7000-8000-0000000000b2'") == "0");
  }
  SECTION("forged cursors and parameters return nothing of B") {
    RawResponse boot =
        RawGet(t.server->url(), "/v1/pull?schema=" + t.version + "&limit=5", t.token);
    REQUIRE(boot.status == 200);
    for (std::string cursor :
         {Base64Url(R"({"v":1,"w":"1"})"), Base64Url(R"({"v":1,"w":"3","t":0,"k":null})"),
          Base64Url(R"({"v":1,"w":"3","t":99,"k":null})"), Base64Url(R"({"w":"abc"})"),
          std::string("not-a-cursor"), Base64Url("[]"),
          Base64Url(R"({"v":1,"w":"3","t":1,"k":["' OR 1=1 --"]})")}) {
      RawResponse r =
          RawGet(t.server->url(), "/v1/pull?schema=" + t.version + "&cursor=" + cursor, t.token);
      INFO(cursor << " -> " << r.status << " " << r.body.substr(0, 300));
      CHECK((r.status == 200 || r.status == 400 || r.status == 410));
      if (r.status == 400) CHECK(r.json()["error"]["code"] == "invalid_cursor");
      CHECK(r.body.find(t.b) == std::string::npos);
      CHECK(r.body.find(t.b_entry) == std::string::npos);
    }
    RawResponse p =
        RawGet(t.server->url(),
               "/v1/pull?schema=" + t.version + "&tenant=" + t.b + "&companyId=" + t.b, t.token);
    CHECK(p.status == 200);
    CHECK(p.body.find(t.b_entry) == std::string::npos);
    for (std::string q : {"&limit=-1", "&limit=abc", "&wait=-3", "&wait=x"}) {
      RawResponse bad = RawGet(t.server->url(), "/v1/pull?schema=" + t.version + q, t.token);
      INFO(q);
      CHECK(bad.status == 400);
      CHECK(bad.json()["error"]["code"] == "malformed_request");
    }
  }
  CHECK(t.BFingerprint() == before);
}

TEST_CASE("secret columns never leave the server and cannot be written", "[sync][security]") {
  struct Secret {
    std::string app, tenant_sql, user_sql, role, table, column;
  };
  std::vector<Secret> secrets = {
      {"gogotime", "SELECT id FROM companies ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE \"companyId\" = '$T' LIMIT 1", "admin", "users", "passwordHash"},
      {"selly", "SELECT id FROM organizations ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE organization_id = '$T' LIMIT 1", "customer_admin", "users",
       "password_hash"},
      {"erp", "SELECT id FROM tenants ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE \"tenantId\" = '$T' LIMIT 1", "ADMIN", "integrations",
       "credentials"},
      {"erp", "SELECT id FROM tenants ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE \"tenantId\" = '$T' LIMIT 1", "ADMIN", "tenants",
       "encryptionKey"},
      {"ncy8", "SELECT id FROM \"Organization\" ORDER BY id LIMIT 1",
       "SELECT user_id FROM \"OrganizationMember\" WHERE organization_id = '$T' LIMIT 1", "OWNER",
       "User", "password_hash"},
      {"gemini_crm", "", "SELECT id FROM \"Users\" ORDER BY id LIMIT 1", "admin", "Users",
       "password"},
  };
  for (const auto& s : secrets) {
    DYNAMIC_SECTION(s.app << "." << s.table << "." << s.column) {
      std::string db = PgCluster::Shared().LoadApp("secret_" + s.app, s.app, 100);
      ServerProcess server(db, s.app);
      std::string tenant = s.tenant_sql.empty() ? "" : PgScalar(db, s.tenant_sql);
      std::string user_sql = s.user_sql;
      user_sql.replace(user_sql.find("$T") == std::string::npos ? 0 : user_sql.find("$T"),
                       user_sql.find("$T") == std::string::npos ? 0 : 2, tenant);
      std::string user = PgScalar(db, user_sql);
      std::string token = MintToken(tenant, user, s.role);
      std::string version = SchemaVersionOf(server.url(), token);
      std::string secret_value = PgScalar(
          db, "SELECT \"" + s.column + "\"::text FROM \"" + s.table + "\" WHERE \"" + s.column +
                  "\" IS NOT NULL AND length(\"" + s.column + "\"::text) > 6 LIMIT 1");
      RawResponse schema = RawGet(server.url(), "/v1/schema", token);
      CHECK(schema.body.find("\"" + s.column + "\"") == std::string::npos);
      // A whole bootstrap, every page.
      std::string all;
      std::string cursor;
      for (int i = 0; i < 1000; ++i) {
        std::string target =
            "/v1/pull?schema=" + version + (cursor.empty() ? "" : "&cursor=" + cursor);
        RawResponse page = RawGet(server.url(), target, token);
        REQUIRE(page.status == 200);
        all += page.body;
        bool more = false;
        size_t pos = 0;
        while (pos < page.body.size()) {
          size_t nl = page.body.find('\n', pos);
          if (nl == std::string::npos) nl = page.body.size();
          json line = json::parse(page.body.substr(pos, nl - pos), nullptr, false);
          if (line.is_object() && line.value("type", "") == "cursor") {
            cursor = line["cursor"].get<std::string>();
            more = line.value("more", false) || line.value("bootstrap", false);
          }
          pos = nl + 1;
        }
        if (!more) break;
      }
      CHECK(all.find("\"type\":\"rows\"") != std::string::npos);
      CHECK(all.find("\"" + s.column + "\"") == std::string::npos);
      if (!secret_value.empty()) CHECK(all.find(secret_value) == std::string::npos);
      // Writing it is refused before anything is applied.
      std::string row_id = PgScalar(db, "SELECT id::text FROM \"" + s.table + "\" LIMIT 1");
      json pk = s.app == "gemini_crm" ? json::array({std::stoll(row_id)}) : json::array({row_id});
      json body = {{"schema", version},
                   {"client_id", "0193a0c0-0000-7000-8000-0000000000cc"},
                   {"transactions",
                    {{{"tx_id", 1},
                      {"mutations",
                       {{{"op", "update"},
                         {"table", s.table},
                         {"pk", pk},
                         {"hlc", "1"},
                         {"new", {{s.column, "attacker"}}},
                         {"old", {{s.column, nullptr}}}}}}}}}};
      RawResponse w = RawPost(server.url(), "/v1/push", token, body.dump());
      CHECK(w.status == 400);
      CHECK(w.json()["error"]["code"] == "unknown_column");
      CHECK(PgScalar(db, "SELECT count(*) FROM \"" + s.table + "\" WHERE \"" + s.column +
                             "\"::text = 'attacker'") == "0");
    }
  }
}

TEST_CASE("bad requests and bad tokens get stable errors and apply nothing", "[sync][security]") {
  TwoTenants t;
  auto count = [&] { return PgScalar(t.db, "SELECT count(*) FROM timesheet_entries"); };
  std::string before = count();
  auto push = [&](const std::string& body, const std::string& token) {
    return RawPost(t.server->url(), "/v1/push", token, body);
  };
  auto body_with = [&](const json& mutations) {
    json good = {{"op", "insert"},
                 {"table", "timesheet_entries"},
                 {"pk", {"0193a0c0-0000-7000-8000-0000000000d1"}},
                 {"hlc", "1"},
                 {"new", t.Entry(t.a, "0193a0c0-0000-7000-8000-0000000000d1")}};
    // A valid first transaction, then the bad one: the whole request must apply nothing.
    return json{{"schema", t.version},
                {"client_id", "0193a0c0-0000-7000-8000-0000000000dd"},
                {"transactions",
                 {{{"tx_id", 1}, {"mutations", {good}}}, {{"tx_id", 2}, {"mutations", mutations}}}}}
        .dump();
  };
  struct Bad {
    std::string name, body;
    int status;
    std::string code;
  };
  json entry = t.Entry(t.a, "0193a0c0-0000-7000-8000-0000000000d2");
  json wrong_type = entry;
  wrong_type["durationMin"] = "forty";
  json unknown_col = entry;
  unknown_col["nope"] = 1;
  std::vector<Bad> cases = {
      {"not JSON", "{\"schema\": ", 400, "malformed_request"},
      {"wrong shape", "[1,2,3]", 400, "malformed_request"},
      {"unknown table",
       body_with({{{"op", "insert"},
                   {"table", "no_such_table"},
                   {"pk", {"x"}},
                   {"hlc", "1"},
                   {"new", {{"id", "x"}}}}}),
       400, "unknown_table"},
      {"unknown column",
       body_with({{{"op", "insert"},
                   {"table", "timesheet_entries"},
                   {"pk", {entry["id"]}},
                   {"hlc", "1"},
                   {"new", unknown_col}}}),
       400, "unknown_column"},
      {"wrong type",
       body_with({{{"op", "insert"},
                   {"table", "timesheet_entries"},
                   {"pk", {entry["id"]}},
                   {"hlc", "1"},
                   {"new", wrong_type}}}),
       400, "invalid_value"},
      {"bad op",
       body_with({{{"op", "upsert"},
                   {"table", "timesheet_entries"},
                   {"pk", {entry["id"]}},
                   {"hlc", "1"},
                   {"new", entry}}}),
       400, "malformed_request"},
      {"oversized", std::string(9 * 1024 * 1024, ' '), 413, "payload_too_large"},
  };
  for (const auto& c : cases) {
    INFO(c.name);
    RawResponse r = push(c.body, t.token);
    CHECK(r.status == c.status);
    CHECK(r.json()["error"]["code"] == c.code);
  }
  json stale = json::parse(body_with(json::array()));
  stale["schema"] = "sha256:0000";
  RawResponse mismatch = push(stale.dump(), t.token);
  CHECK(mismatch.status == 409);
  CHECK(mismatch.json()["error"]["code"] == "schema_mismatch");

  std::string valid = body_with(json::array());
  std::string expired = MintToken(t.a, t.a_user, "admin", -300);
  std::string forged = MintToken(t.a, t.a_user, "admin", 3600, "another-secret-of-enough-length");
  std::string header_none = Base64Url(R"({"alg":"none","typ":"JWT"})");
  std::string claims =
      Base64Url(R"({"tenant":")" + t.a + R"(","sub":"x","role":"admin","exp":4102444800})");
  std::string alg_none = header_none + "." + claims + ".";
  for (const auto& [name, token] :
       std::vector<std::pair<std::string, std::string>>{{"missing", ""},
                                                        {"expired", expired},
                                                        {"forged", forged},
                                                        {"alg none", alg_none},
                                                        {"garbage", "abc.def.ghi"}}) {
    INFO(name);
    RawResponse r = push(valid, token);
    CHECK(r.status == 401);
    CHECK(r.json()["error"]["code"] == "unauthorized");
    RawResponse g = RawGet(t.server->url(), "/v1/pull?schema=" + t.version, token);
    CHECK(g.status == 401);
  }
  RawResponse role = push(valid, MintToken(t.a, t.a_user, "superuser"));
  CHECK(role.status == 403);
  CHECK(role.json()["error"]["code"] == "forbidden");
  RawResponse nf = RawGet(t.server->url(), "/v1/nothing", t.token);
  CHECK(nf.status == 404);
  CHECK(nf.json()["error"]["code"] == "not_found");
  CHECK(count() == before);
}

// Issue 13, class 1: JSON nested ~100k levels deep anywhere a client's JSON is parsed.
std::string Deep(size_t levels, const std::string& inner = "1") {
  return std::string(levels, '[') + inner + std::string(levels, ']');
}

// Every line of a pull answer that is a cursor line: the last cursor, and the whole body.
std::string LastCursor(const std::string& body) {
  std::string cursor;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    if (nl == std::string::npos) nl = body.size();
    json line = json::parse(body.substr(pos, nl - pos), nullptr, false);
    if (line.is_object() && line.value("type", "") == "cursor") cursor = line["cursor"];
    pos = nl + 1;
  }
  return cursor;
}

// A whole bootstrap (every page), then the answers' text and the final cursor.
std::pair<std::string, std::string> Bootstrap(const std::string& url, const std::string& version,
                                              const std::string& token) {
  std::string all, cursor;
  for (int i = 0; i < 1000; ++i) {
    RawResponse page = RawGet(
        url, "/v1/pull?schema=" + version + (cursor.empty() ? "" : "&cursor=" + cursor), token);
    REQUIRE(page.status == 200);
    all += page.body;
    std::string next = LastCursor(page.body);
    REQUIRE(!next.empty());
    cursor = next;
    if (page.body.find("\"bootstrap\":true") == std::string::npos &&
        page.body.find("\"more\":true") == std::string::npos) {
      break;
    }
  }
  return {all, cursor};
}

TEST_CASE("deeply nested JSON is refused with 400 and the server survives", "[sync][security]") {
  TwoTenants t;
  auto count = [&] { return PgScalar(t.db, "SELECT count(*) FROM timesheet_entries"); };
  const std::string before = count();
  const size_t kLevels = 100000;
  const std::string head = "{\"schema\":\"" + t.version + "\",";
  const std::string id = "\"0193a0c0-0000-7000-8000-0000000013e1\"";
  auto tx = [&](const std::string& pk, const std::string& values) {
    return "\"client_id\":\"0193a0c0-0000-7000-8000-0000000000aa\",\"transactions\":[{\"tx_id\":1,"
           "\"mutations\":[{\"op\":\"insert\",\"table\":\"timesheet_entries\",\"pk\":" +
           pk + ",\"hlc\":\"1\",\"new\":" + values + "}]}]}";
  };
  std::vector<std::pair<std::string, std::string>> bodies = {
      {"client_id", head + "\"client_id\":" + Deep(kLevels) + ",\"transactions\":[]}"},
      {"key", head + tx("[" + Deep(kLevels) + "]", "{\"id\":" + id + "}")},
      {"value", head + tx("[" + id + "]", "{\"id\":" + id + ",\"note\":" + Deep(kLevels) + "}")},
      {"json column", head + tx("[" + id + "]", "{\"id\":" + id + ",\"workWeek\":" +
                                                    Deep(kLevels, "{\"a\":1}") + "}")},
      {"object keys", head + tx(
                                 "[" + id + "]", "{\"id\":" + id + ",\"note\":" +
                                                     [] {
                                                       std::string s;
                                                       for (int i = 0; i < 100000; ++i)
                                                         s += "{\"k\":";
                                                       return s + "1" + std::string(100000, '}');
                                                     }() +
                                                     "}")},
  };
  for (const auto& [name, body] : bodies) {
    INFO(name);
    RawResponse r = RawPost(t.server->url(), "/v1/push", t.token, body);
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == "malformed_request");
    CHECK(r.body.size() < 2000);  // no echo of the client's text
    RawResponse health = RawGet(t.server->url(), "/healthz", "");
    REQUIRE(health.status == 200);
  }
  // A cursor and a token header nested deep (within their size limits).
  RawResponse c = RawGet(t.server->url(),
                         "/v1/pull?schema=" + t.version +
                             "&cursor=" + Base64Url(R"({"v":1,"w":"1","x":)" + Deep(2500) + "}"),
                         t.token);
  CHECK(c.status == 400);
  CHECK(c.json()["error"]["code"] == "invalid_cursor");
  // (Within the HTTP layer's 8 KiB header line; jwt_test covers deeper claims.)
  std::string deep_header = Base64Url("{\"alg\":\"HS256\",\"x\":" + Deep(2500) + "}");
  std::string token = deep_header + "." + Base64Url("{}") + ".AAAA";
  RawResponse a = RawGet(t.server->url(), "/v1/pull?schema=" + t.version, token);
  CHECK(a.status == 401);
  CHECK(RawGet(t.server->url(), "/healthz", "").status == 200);
  CHECK(count() == before);
}

// Issue 13, class 2: a reference may only point at a row the token could see before the write.
TEST_CASE("a reference cannot make another tenant's referenced_by row visible",
          "[sync][security]") {
  std::string db = PgCluster::Shared().LoadApp("security_refby", "ncy8", 60);
  ServerProcess server(db, "ncy8");
  std::string a = PgScalar(db, "SELECT id FROM \"Organization\" ORDER BY id LIMIT 1");
  std::string me =
      PgScalar(db, "SELECT user_id FROM \"OrganizationMember\" WHERE organization_id = '" + a +
                       "' ORDER BY user_id LIMIT 1");
  // A user of another organization only.
  std::string victim = PgScalar(
      db,
      "SELECT u.id FROM \"User\" u WHERE EXISTS (SELECT 1 FROM \"OrganizationMember\" m WHERE "
      "m.user_id = u.id) AND NOT EXISTS (SELECT 1 FROM \"OrganizationMember\" m WHERE m.user_id = "
      "u.id AND m.organization_id = '" +
          a + "') ORDER BY u.id LIMIT 1");
  REQUIRE(!victim.empty());
  std::string email = PgScalar(db, "SELECT email FROM \"User\" WHERE id = '" + victim + "'");
  std::string token = MintToken(a, me, "OWNER");
  std::string version = SchemaVersionOf(server.url(), token);
  CHECK(Bootstrap(server.url(), version, token).first.find(email) == std::string::npos);
  const std::string member = "0193a0c0-0000-7000-8000-0000000013f1";
  json body = {{"schema", version},
               {"client_id", "0193a0c0-0000-7000-8000-0000000013f0"},
               {"transactions",
                {{{"tx_id", 1},
                  {"mutations",
                   {{{"op", "insert"},
                     {"table", "OrganizationMember"},
                     {"pk", {member}},
                     {"hlc", "1"},
                     {"new", {{"id", member}, {"organization_id", a}, {"user_id", victim}}}}}}}}}};
  RawResponse r = RawPost(server.url(), "/v1/push", token, body.dump());
  REQUIRE(r.status == 200);
  json result = r.json()["results"][0];
  CHECK(result["status"] == "rejected");
  CHECK(result.dump().find(email) == std::string::npos);
  CHECK(PgScalar(db, "SELECT count(*) FROM \"OrganizationMember\" WHERE id = '" + member + "'") ==
        "0");
  CHECK(Bootstrap(server.url(), version, token).first.find(email) == std::string::npos);
}

// Issue 13, class 5: claims are canonicalised by the tenant column's type.
TEST_CASE("an upper-case UUID tenant claim syncs; a non-UUID one is refused", "[sync][security]") {
  TwoTenants t;
  std::string upper = t.a;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  REQUIRE(upper != t.a);
  std::string token = MintToken(upper, t.a_user, "admin");
  auto [boot, cursor] = Bootstrap(t.server->url(), t.version, token);
  CHECK(boot.find("\"type\":\"rows\"") != std::string::npos);
  // A change committed after the bootstrap reaches the incremental pull (and a long-poll).
  std::string own = PgScalar(t.db, "SELECT id FROM timesheet_entries WHERE \"companyId\" = '" +
                                       t.a + "' ORDER BY id LIMIT 1");
  PgScalar(t.db, "UPDATE timesheet_entries SET note = 'issue13-later' WHERE id = '" + own +
                     "' RETURNING 1");
  RawResponse inc = RawGet(t.server->url(),
                           "/v1/pull?schema=" + t.version + "&cursor=" + cursor + "&wait=2", token);
  REQUIRE(inc.status == 200);
  CHECK(inc.body.find("issue13-later") != std::string::npos);
  std::string next = LastCursor(inc.body);
  REQUIRE(!next.empty());
  std::thread writer([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    PgScalar(t.db, "UPDATE timesheet_entries SET note = 'issue13-polled' WHERE id = '" + own +
                       "' RETURNING 1");
  });
  RawResponse poll = RawGet(t.server->url(),
                            "/v1/pull?schema=" + t.version + "&cursor=" + next + "&wait=10", token);
  writer.join();
  REQUIRE(poll.status == 200);
  CHECK(poll.body.find("issue13-polled") != std::string::npos);

  for (const auto& [tenant, sub, role] :
       std::vector<std::tuple<std::string, std::string, std::string>>{
           {"not-a-uuid", t.a_user, "admin"}, {t.a, "not-a-uuid", "employee"}}) {
    INFO(tenant << " " << sub << " " << role);
    std::string bad = MintToken(tenant, sub, role);
    RawResponse p = RawGet(t.server->url(), "/v1/pull?schema=" + t.version, bad);
    CHECK(p.status == 401);
    CHECK(p.json()["error"]["code"] == "unauthorized");
    CHECK(p.body.find("\"type\"") == std::string::npos);
    json body = {{"schema", t.version},
                 {"client_id", "0193a0c0-0000-7000-8000-0000000000aa"},
                 {"transactions", json::array()}};
    RawResponse w = RawPost(t.server->url(), "/v1/push", bad, body.dump());
    CHECK(w.status == 401);
    CHECK(w.json()["error"]["code"] == "unauthorized");
  }
}

// Issue 13, class 6: numbers out of their column's range in a forged cursor.
TEST_CASE("forged cursors with out-of-range numbers are invalid_cursor before streaming",
          "[sync][security]") {
  TwoTenants t;
  auto [boot, cursor] = Bootstrap(t.server->url(), t.version, t.token);
  auto raw = Base64UrlDecode(cursor);
  REQUIRE(raw.ok());
  json fields = json::parse(*raw);
  REQUIRE(fields.contains("w"));
  uint64_t w = std::stoull(fields["w"].get<std::string>());
  REQUIRE(w > 2);
  const std::string lo = std::to_string(w - 1), hi = std::to_string(w);
  for (std::string forged : {
           R"({"v":1,"w":")" + lo + R"(","e":")" + hi + R"(","x":")" + lo +
               R"(","i":"18446744073709551615"})",
           R"({"v":1,"w":")" + lo + R"(","e":")" + hi + R"(","x":")" + lo +
               R"(","i":"9223372036854775808"})",
           R"({"v":1,"w":")" + hi + R"(","t":0,"b":"0","f":"18446744073709551615"})",
           R"({"v":1,"w":")" + hi + R"(","t":18446744073709551615,"k":null})",
           R"({"v":1,"w":")" + hi + R"(","t":1e30,"k":null})",
           std::string(R"({"v":1,"w":"-1"})"),
           std::string(R"({"v":1,"w":"18446744073709551615"})"),
       }) {
    INFO(forged);
    RawResponse r = RawGet(
        t.server->url(), "/v1/pull?schema=" + t.version + "&cursor=" + Base64Url(forged), t.token);
    CHECK(r.status == 400);
    CHECK(r.json()["error"]["code"] == "invalid_cursor");
  }
}

}  // namespace
}  // namespace outpost::testing
