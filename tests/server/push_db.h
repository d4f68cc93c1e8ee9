// What the push tests share: an application's database loaded into the shared throwaway
// PostgreSQL cluster, with the server's `_outpost` state and capture installed (install.h), the
// connection pushes run on, another backend for setup and inspection, and the model.
#pragma once

#include <catch2/catch.hpp>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "catalog.h"
#include "install.h"
#include "model.h"
#include "pg.h"
#include "pg_cluster.h"

namespace outpost::testing {

struct PushDb {
  std::string url;
  std::unique_ptr<server::PgConnection> conn;   // the push connection
  std::unique_ptr<server::PgConnection> other;  // "another backend"
  std::unique_ptr<server::ServerModel> model;

  // Loads schema/apps/<app> with `rows` rows of sample data into database `db`.
  PushDb(const std::string& db, const std::string& app, int rows) {
    url = PgCluster::Shared().LoadApp(db, app, rows);
    for (auto* c : {&conn, &other}) {
      auto r = server::PgConnection::Connect(url);
      REQUIRE(r.ok());
      *c = std::move(r).value();
    }
    auto described = server::DescribeDatabase(conn.get(), "public", nullptr);
    REQUIRE(described.ok());
    std::ifstream in(SourceDir() + "/schema/apps/" + app + "/rules.json");
    std::stringstream ss;
    ss << in.rdbuf();
    auto rules = ParseSyncRules(ss.str());
    REQUIRE(rules.ok());
    auto m = server::ServerModel::Build(*described, *rules, "public");
    INFO(m.status().ToString());
    REQUIRE(m.ok());
    model = std::move(m).value();
    Status installed = server::Install(*conn, *model);
    INFO(installed.ToString());
    REQUIRE(installed.ok());
  }

  // Runs `sql` on the other backend; REQUIREs success.
  void Exec(const std::string& sql) {
    auto r = other->Exec(sql);
    INFO(sql << ": " << r.status().ToString());
    REQUIRE(r.ok());
  }
  // The single value of a query ("<null>" for NULL, "<none>" without rows).
  std::string Q(const std::string& sql) {
    auto r = other->Exec(sql);
    INFO(sql << ": " << r.status().ToString());
    REQUIRE(r.ok());
    if (r->rows() == 0) return "<none>";
    if (r->is_null(0, 0)) return "<null>";
    return std::string(r->get(0, 0));
  }
  std::string version() const { return model->version(); }
};

}  // namespace outpost::testing
