#include "server_support.h"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "outpost/mirror.h"
#include "outpost/value.h"
#include "pg_cluster.h"

namespace outpost::testing {

Schema DescribeApp(const std::string& url, const std::string& app) {
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  auto described = server::DescribeDatabase(pg->get(), "public", nullptr);
  INFO(described.status().ToString());
  REQUIRE(described.ok());
  std::ifstream in(SourceDir() + "/schema/apps/" + app + "/rules.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto rules = ParseSyncRules(ss.str());
  INFO(rules.status().ToString());
  REQUIRE(rules.ok());
  auto schema = server::ApplySyncRules(*described, *rules, nullptr);
  INFO(schema.status().ToString());
  REQUIRE(schema.ok());
  return std::move(schema).value();
}

std::vector<int64_t> CopyAllRows(server::PgConnection* pg, const Schema& schema, Store* store) {
  std::vector<int64_t> counts;
  Status s = store->RunAsEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(store->Execute("PRAGMA defer_foreign_keys = ON").status());
    for (const auto& t : schema.tables) {
      std::string cols, marks;
      for (size_t i = 0; i < t.columns.size(); ++i) {
        cols += (i ? ", " : "") + QuoteIdent(t.columns[i].name);
        marks += (i ? ", ?" : "?");
      }
      OUTPOST_ASSIGN_OR_RETURN(server::PgResult rows,
                               pg->Exec("SELECT " + cols + " FROM " + QuoteIdent(t.name)));
      OUTPOST_ASSIGN_OR_RETURN(Statement ins, store->Prepare("INSERT INTO " + QuoteIdent(t.name) +
                                                             " VALUES (" + marks + ")"));
      for (int r = 0; r < rows.rows(); ++r) {
        for (size_t c = 0; c < t.columns.size(); ++c) {
          int ci = static_cast<int>(c);
          if (rows.is_null(r, ci)) {
            OUTPOST_RETURN_IF_ERROR(ins.BindNull(ci + 1));
            continue;
          }
          auto v = PgTextToValue(t.columns[c].type, rows.get(r, ci));
          if (!v.ok()) return v.status().WithContext(t.name + "." + t.columns[c].name);
          OUTPOST_RETURN_IF_ERROR(ins.Bind(ci + 1, *v));
        }
        Status run = ins.Run();
        if (!run.ok()) return run.WithContext("copying a row of " + t.name);
        OUTPOST_RETURN_IF_ERROR(ins.Reset());
      }
      counts.push_back(rows.rows());
    }
    return Status::Ok();
  });
  INFO(s.ToString());
  REQUIRE(s.ok());
  return counts;
}

std::unique_ptr<Store> MirrorInTempFile(const Schema& schema, std::string* path) {
  char tmpl[] = "/tmp/outpost-store-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string p = std::string(tmpl) + "/local.db";
  if (path) *path = p;
  auto store = Store::Open(p);
  REQUIRE(store.ok());
  auto report = (*store)->ApplySchema(schema);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  return std::move(store).value();
}

void RunRuleCase(server::PgConnection* pg, Store* store, const RuleCase& c) {
  INFO("case: " << c.name);
  for (const auto& s : c.setup) {
    INFO("setup: " << s);
    auto pr = pg->Exec(s);
    INFO("postgres: " << pr.status().ToString());
    REQUIRE(pr.ok());
    Status ls = store->RunAsEngine([&] { return store->Execute(s).status(); });
    INFO("local: " << ls.ToString());
    REQUIRE(ls.ok());
  }
  auto pr = pg->Exec(c.statement);
  Status local = c.local_as_engine
                     ? store->RunAsEngine([&] { return store->Execute(c.statement).status(); })
                     : store->Execute(c.statement).status();
  INFO("statement: " << c.statement);
  INFO("postgres: " << pr.status().ToString());
  INFO("local: " << local.ToString());
  CHECK(pr.ok() == c.expect_ok);
  CHECK(local.ok() == c.expect_ok);
  if (!c.expect_ok && !local.ok()) CHECK(local.code() == Code::kConstraint);
  if (!c.check.empty()) {
    auto pc = pg->Exec(c.check);
    REQUIRE(pc.ok());
    auto lc = store->Execute(c.check);
    INFO(lc.status().ToString());
    REQUIRE(lc.ok());
    REQUIRE(lc->rows.size() == 1);
    CHECK(std::string(pc->get(0, 0)) == lc->rows[0][0].dump());
  }
}

}  // namespace outpost::testing
