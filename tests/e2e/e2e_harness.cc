#include "e2e_harness.h"

#include <fcntl.h>
#include <httplib.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "catalog.h"
#include "model.h"
#include "outpost/encoding.h"
#include "outpost/mirror.h"
#include "outpost/value.h"
#include "pg.h"
#include "pg_cluster.h"

namespace outpost::testing {

namespace {

using json = nlohmann::json;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TempDir(const std::string& prefix) {
  std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "XXXXXX")).string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) throw std::runtime_error("mkdtemp failed");
  return std::string(buf.data());
}

json ValueJson(const Column& column, const Value& v) {
  switch (v.index()) {
    case 0: return nullptr;
    case 1: {
      int64_t n = std::get<int64_t>(v);
      if (column.type.kind == TypeKind::kBoolean) return n == 1;
      return n;
    }
    case 2: return std::get<double>(v);
    case 3: return std::get<std::string>(v);
    default: {
      const auto& b = std::get<Blob>(v).bytes;
      return json{{"$blob", Base64Encode(b.data(), b.size())}};
    }
  }
}

json Sorted(json rows) {
  std::vector<std::pair<std::string, json>> keyed;
  for (auto& r : rows) keyed.emplace_back(r.dump(), std::move(r));
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  json out = json::array();
  for (auto& [k, r] : keyed) out.push_back(std::move(r));
  return out;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// TestClient

TestClient::TestClient(const std::string& server_url, const std::string& token,
                       const SessionOptions& options) {
  dir_ = TempDir("outpost-client-");
  path_ = dir_ + "/client.db";
  auto store = Store::Open(path_);
  INFO(store.status().ToString());
  REQUIRE(store.ok());
  store_ = std::move(store).value();
  transport_ = std::make_unique<HttpTransport>(server_url, token, HttpTimeouts{});
  auto session = SyncSession::Open(store_.get(), options);
  INFO(session.status().ToString());
  REQUIRE(session.ok());
  session_ = std::move(session).value();
}

TestClient::~TestClient() {
  session_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

QueryResult TestClient::Sql(const std::string& sql, const json& params) {
  auto r = store_->Execute(sql, params);
  INFO(sql << " -> " << r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

Status TestClient::TrySql(const std::string& sql, const json& params) {
  return store_->Execute(sql, params).status();
}

Result<SyncReport> TestClient::TrySync(int wait_seconds) {
  SyncOptions options;
  options.wait_seconds = wait_seconds;
  return SyncNow(*session_, *transport_, options);
}

SyncReport TestClient::Sync() {
  auto r = TrySync();
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return std::move(r).value();
}

json TestClient::Rows(const std::string& table) {
  const Schema* schema = store_->schema();
  REQUIRE(schema);
  const Table* t = schema->FindTable(table);
  REQUIRE(t);
  std::string cols;
  for (size_t i = 0; i < t->columns.size(); ++i) {
    cols += (i ? ", " : "") + QuoteIdent(t->columns[i].name);
  }
  return Sorted(Sql("SELECT " + cols + " FROM " + QuoteIdent(table)).rows);
}

int64_t TestClient::Scalar(const std::string& sql, const json& params) {
  QueryResult r = Sql(sql, params);
  REQUIRE(r.rows.size() == 1);
  const json& v = r.rows[0][0];
  if (v.is_null()) return -1;
  if (v.is_boolean()) return v.get<bool>() ? 1 : 0;
  return v.get<int64_t>();
}

// ---------------------------------------------------------------------------------------------
// Expected rows straight from PostgreSQL

json ExpectedRows(const std::string& database_url, const std::string& app, const std::string& table,
                  const std::string& tenant, const std::string& sub, const std::string& role) {
  auto pg = server::PgConnection::Connect(database_url);
  REQUIRE(pg.ok());
  auto described = server::DescribeDatabase(pg->get(), "public", nullptr);
  REQUIRE(described.ok());
  auto rules = ParseSyncRules(ReadAll(RulesPath(app)));
  REQUIRE(rules.ok());
  auto model = server::ServerModel::Build(*described, *rules, "public");
  INFO(model.status().ToString());
  REQUIRE(model.ok());
  const server::SyncedTable* st = (*model)->Find(table);
  REQUIRE(st);
  server::Principal who{tenant, sub, role, json{{"tenant", tenant}, {"sub", sub}, {"role", role}}};
  server::PgParams params;
  auto pred = (*model)->ScopePredicate(*st, "r", who, &params);
  REQUIRE(pred.ok());
  std::string cols;
  for (size_t i = 0; i < st->view->columns.size(); ++i) {
    cols += (i ? ", r." : "r.") + QuoteIdent(st->view->columns[i].name);
  }
  auto res = (*pg)->Exec("SELECT " + cols + " FROM " + st->qname + " r WHERE " + *pred, params);
  INFO(res.status().ToString());
  REQUIRE(res.ok());
  json rows = json::array();
  for (int r = 0; r < res->rows(); ++r) {
    json row = json::array();
    for (size_t c = 0; c < st->view->columns.size(); ++c) {
      const Column& col = st->view->columns[c];
      int ci = static_cast<int>(c);
      if (res->is_null(r, ci)) {
        row.push_back(nullptr);
        continue;
      }
      auto v = PgTextToValue(col.type, res->get(r, ci));
      REQUIRE(v.ok());
      row.push_back(ValueJson(col, *v));
    }
    rows.push_back(std::move(row));
  }
  return Sorted(std::move(rows));
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP

json RawResponse::json() const {
  return json::parse(body, nullptr, false);
}

namespace {

httplib::Client MakeClient(const std::string& server_url) {
  httplib::Client c(server_url);
  c.set_connection_timeout(5, 0);
  c.set_read_timeout(70, 0);
  return c;
}

httplib::Headers AuthHeaders(const std::string& token) {
  httplib::Headers h;
  if (!token.empty()) h.emplace("Authorization", "Bearer " + token);
  return h;
}

}  // namespace

RawResponse RawGet(const std::string& server_url, const std::string& target,
                   const std::string& token) {
  auto c = MakeClient(server_url);
  auto res = c.Get(target.c_str(), AuthHeaders(token));
  INFO("GET " << target << ": " << httplib::to_string(res.error()));
  REQUIRE(res);
  return RawResponse{res->status, res->body};
}

RawResponse RawPost(const std::string& server_url, const std::string& target,
                    const std::string& token, const std::string& body) {
  auto c = MakeClient(server_url);
  auto res = c.Post(target.c_str(), AuthHeaders(token), body, "application/json");
  INFO("POST " << target << ": " << httplib::to_string(res.error()));
  REQUIRE(res);
  return RawResponse{res->status, res->body};
}

std::string SchemaVersionOf(const std::string& server_url, const std::string& token) {
  RawResponse r = RawGet(server_url, "/v1/schema", token);
  REQUIRE(r.status == 200);
  auto j = r.json();
  REQUIRE(j.contains("version"));
  return j["version"].get<std::string>();
}

std::string PgScalar(const std::string& database_url, const std::string& sql) {
  auto pg = server::PgConnection::Connect(database_url);
  REQUIRE(pg.ok());
  auto res = (*pg)->Exec(sql);
  INFO(sql << " -> " << res.status().ToString());
  REQUIRE(res.ok());
  if (res->rows() == 0 || res->is_null(0, 0)) return "";
  return std::string(res->get(0, 0));
}

}  // namespace outpost::testing
