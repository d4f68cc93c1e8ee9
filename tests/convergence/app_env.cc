// The convergence harness's AppEnv (scenario.h): per target, the database, the server, the model
// and what was discovered from them.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "outpost/sql_quote.h"
#include "pg_cluster.h"
#include "scenario.h"

namespace outpost::convergence {

using testing::MintToken;
using testing::PgCluster;

void AppEnv::Setup() {
  auto& cluster = PgCluster::Shared();
  const std::string db = "conv_" + target_.name;
  template_db_ = "conv_tmpl_" + target_.name;
  if (!target_.app.empty()) {
    // A template with the sample data: every reset copies it (CREATE DATABASE ... TEMPLATE).
    cluster.LoadApp(template_db_, target_.app, target_.rows);
  } else {
    // An external database: copied into the test cluster once with pg_dump, then templated.
    cluster.CreateDatabase(template_db_);
    testing::Run("pg_dump --no-owner --no-privileges " + Quote(target_.db_url) + " | psql -X -q " +
                 Quote(cluster.url(template_db_)));
  }
  db_name_ = db;
  db_url_ = cluster.url(db);
  CopyTemplate();
  server_ = std::make_unique<ServerProcess>(db_url_, target_.rules);
  Connect();
  BuildModel();
  Discover();
}

void AppEnv::Reset() {
  DropGoldens();
  server_->Stop();
  pg_.reset();
  CopyTemplate();
  server_->Start();
  Connect();
}

void AppEnv::RestartServer() {
  server_->Stop();
  server_->Start();
}

void AppEnv::RestartPostgres() {
  pg_.reset();
  PgCluster::Shared().Restart();
  ++pg_generation_;  // every target's connection was cut
  Connect();
}

server::PgConnection& AppEnv::pg() {
  if (!pg_ || !pg_->healthy() || generation_ != pg_generation_) Connect();
  return *pg_;
}

bool AppEnv::WaitForWatermark(double max_seconds) {
  auto mine = pg().Exec("SELECT pg_current_xact_id()::text");
  if (!mine.ok() || mine->rows() != 1) return false;
  const uint64_t xid = std::stoull(std::string(mine->get(0, 0)));
  const auto deadline = std::chrono::steady_clock::now() +
                        std::chrono::milliseconds(static_cast<int64_t>(max_seconds * 1000));
  while (true) {
    auto xmin = pg().Exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
    if (xmin.ok() && xmin->rows() == 1 && std::stoull(std::string(xmin->get(0, 0))) > xid) {
      return true;
    }
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

const std::vector<std::string>& AppEnv::users(const std::string& tenant) const {
  static const std::vector<std::string> none{"00000000-0000-4000-8000-0000000000aa"};
  auto it = users_.find(tenant);
  return it == users_.end() || it->second.empty() ? none : it->second;
}

std::string AppEnv::Golden(const std::string& key) const {
  auto it = golden_.find(key);
  return it == golden_.end() ? "" : it->second;
}

void AppEnv::SaveGolden(const std::string& key, Store& store) {
  if (golden_dir_.empty()) {
    char tmpl[] = "/tmp/outpost-conv-golden-XXXXXX";
    if (!mkdtemp(tmpl)) return;
    golden_dir_ = tmpl;
  }
  // A new file every time: a path must never be reused while a key still names it.
  const std::string path = golden_dir_ + "/" + std::to_string(++golden_files_) + ".db";
  auto old = golden_.find(key);
  if (old != golden_.end()) std::filesystem::remove(old->second);
  std::filesystem::remove(path);
  auto r = store.Execute("VACUUM INTO ?", json::array({path}));
  if (r.ok()) golden_[key] = path;
}

void AppEnv::DropGoldens() {
  for (const auto& [k, path] : golden_) std::filesystem::remove(path);
  golden_.clear();
}

AppEnv::~AppEnv() {
  DropGoldens();
  std::error_code ec;
  if (!golden_dir_.empty()) std::filesystem::remove_all(golden_dir_, ec);
}

const std::string& AppEnv::Token(const std::string& tenant, const std::string& sub,
                                 const std::string& role) {
  auto& t = tokens_[tenant + "\x1f" + sub + "\x1f" + role];
  if (t.empty()) t = MintToken(tenant, sub, role, 24 * 3600);
  return t;
}

const Table* AppEnv::Full(const std::string& table) const {
  const auto* st = model_->Find(table);
  return st ? st->full : nullptr;
}

std::string AppEnv::Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

void AppEnv::CopyTemplate() {
  auto& cluster = PgCluster::Shared();
  cluster.Psql(cluster.url("postgres"),
               "DROP DATABASE IF EXISTS \"" + db_name_ + "\" WITH (FORCE)");
  cluster.Psql(cluster.url("postgres"),
               "CREATE DATABASE \"" + db_name_ + "\" TEMPLATE \"" + template_db_ + "\"");
}

void AppEnv::Connect() {
  pg_.reset();
  generation_ = pg_generation_;
  for (int attempt = 0; attempt < 50; ++attempt) {
    auto c = server::PgConnection::Connect(db_url_);
    if (c.ok()) {
      pg_ = std::move(c).value();
      return;
    }
    usleep(100 * 1000);
  }
  throw std::runtime_error("cannot connect to " + db_url_);
}

void AppEnv::BuildModel() {
  auto described = server::DescribeDatabase(pg_.get(), "public", nullptr);
  if (!described.ok()) throw std::runtime_error("describe: " + described.status().ToString());
  std::ifstream in(testing::RulesPath(target_.rules));
  std::stringstream ss;
  ss << in.rdbuf();
  auto rules = ParseSyncRules(ss.str());
  if (!rules.ok()) throw std::runtime_error("rules: " + rules.status().ToString());
  auto model = server::ServerModel::Build(*described, *rules, "public");
  if (!model.ok()) throw std::runtime_error("model: " + model.status().ToString());
  model_ = std::move(model).value();
}

std::vector<std::string> AppEnv::Column0(const std::string& sql, const server::PgParams& params) {
  std::vector<std::string> out;
  auto r = pg_->Exec(sql, params);
  if (!r.ok()) return out;
  for (int i = 0; i < r->rows(); ++i)
    if (!r->is_null(i, 0)) out.emplace_back(r->get(i, 0));
  return out;
}

void AppEnv::Discover() {
  // Tenants: the tenant table's keys, else the values of a tenant column.
  for (const auto& st : model_->tables()) {
    if (st.rule().scope.kind == ScopeKind::kTenantKey) {
      tenants_ = Column0("SELECT " + QuoteIdent(st.rule().scope.column) + "::text FROM " +
                         st.qname + " ORDER BY 1 LIMIT 2");
      break;
    }
  }
  if (tenants_.empty()) {
    for (const auto& st : model_->tables()) {
      if (st.rule().scope.kind == ScopeKind::kTenantColumn) {
        const std::string c = QuoteIdent(st.rule().scope.column);
        tenants_ = Column0("SELECT DISTINCT " + c + "::text FROM " + st.qname + " WHERE " + c +
                           " IS NOT NULL ORDER BY 1 LIMIT 2");
        if (!tenants_.empty()) break;
      }
    }
  }
  if (tenants_.empty()) tenants_.push_back("");  // a single-tenant app ("all" scopes)

  // Users: the table the "sub" filter columns reference; per tenant, the users that a
  // tenant-scoped table links to the tenant (or that table's own tenant column).
  for (const auto& st : model_->tables()) {
    const auto& f = st.rule().filter;
    if (!f || f->claim != "sub") continue;
    for (const auto& fk : st.full->foreign_keys) {
      if (fk.columns.size() != 1 || fk.columns[0] != f->column) continue;
      const auto* ref = model_->Find(fk.ref_table);
      const std::string rq = ref ? ref->qname : "\"public\"." + QuoteIdent(fk.ref_table);
      const std::string rc = QuoteIdent(fk.ref_columns[0]);
      for (const auto& tenant : tenants_) {
        auto& list = users_[tenant];
        if (!list.empty()) continue;
        if (ref && ref->rule().scope.kind == ScopeKind::kTenantColumn && !tenant.empty()) {
          list =
              Column0("SELECT " + rc + "::text FROM " + rq + " WHERE " +
                          QuoteIdent(ref->rule().scope.column) + "::text = $1 ORDER BY 1 LIMIT 3",
                      {tenant});
        }
        if (list.empty() && !tenant.empty() && ref &&
            ref->rule().scope.kind == ScopeKind::kReferencedBy) {
          // Users visible through a referencing table (a membership), when that is tenant-scoped.
          const auto* via = model_->Find(ref->rule().scope.ref_table);
          if (via && via->rule().scope.kind == ScopeKind::kTenantColumn)
            list =
                Column0("SELECT DISTINCT " + QuoteIdent(ref->rule().scope.ref_column) +
                            "::text FROM " + via->qname + " WHERE " +
                            QuoteIdent(via->rule().scope.column) + "::text = $1 ORDER BY 1 LIMIT 3",
                        {tenant});
        }
        if (list.empty() && !tenant.empty()) {
          // A tenant-scoped table with a foreign key to the users table (a membership).
          for (const auto& other : model_->tables()) {
            if (other.rule().scope.kind != ScopeKind::kTenantColumn) continue;
            for (const auto& ofk : other.full->foreign_keys) {
              if (ofk.ref_table != fk.ref_table || ofk.columns.size() != 1) continue;
              list = Column0("SELECT DISTINCT " + QuoteIdent(ofk.columns[0]) + "::text FROM " +
                                 other.qname + " WHERE " + QuoteIdent(other.rule().scope.column) +
                                 "::text = $1 ORDER BY 1 LIMIT 3",
                             {tenant});
              if (!list.empty()) break;
            }
            if (!list.empty()) break;
          }
        }
        if (list.empty())
          list = Column0("SELECT " + rc + "::text FROM " + rq + " ORDER BY 1 LIMIT 3");
      }
    }
  }

  // User triggers (not Outpost's own): their tables, and the tables their functions mention,
  // may hold values no synced write explains.
  auto r = pg_->Exec(
      "SELECT c.relname, p.prosrc FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
      "JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace pn ON pn.oid = p.pronamespace "
      "JOIN pg_namespace cn ON cn.oid = c.relnamespace "
      "WHERE NOT t.tgisinternal AND pn.nspname <> '_outpost' AND cn.nspname = 'public' "
      "AND p.proname NOT LIKE '\\_outpost%'");
  if (r.ok()) {
    std::regex assign(R"(NEW\.\"?(\w+)\"?\s*:?=)", std::regex::icase);
    for (int i = 0; i < r->rows(); ++i) {
      std::string own(r->get(i, 0)), src(r->get(i, 1));
      for (std::sregex_iterator it(src.begin(), src.end(), assign), end; it != end; ++it) {
        trigger_columns_.insert(own + "." + (*it)[1].str());
        trigger_note_ += own + "." + (*it)[1].str() + " (trigger) ";
      }
      for (const auto& st : model_->tables()) {
        if (st.name() == own) continue;
        std::regex word("\\b" + st.name() + "\\b");
        if (std::regex_search(src, word)) {
          trigger_tables_.insert(st.name());
          trigger_note_ += st.name() + " (written by a trigger on " + own + ") ";
        }
      }
    }
  }
}

}  // namespace outpost::convergence
