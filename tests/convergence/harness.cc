// The convergence harness: see harness.h and docs/convergence.md.
#include "harness.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <regex>
#include <sstream>
#include <stdexcept>

#include <sys/wait.h>
#include <unistd.h>

#include "catalog.h"
#include "e2e_harness.h"
#include "outpost/sql_quote.h"
#include "outpost/value.h"
#include "pg_cluster.h"

namespace outpost::convergence {

using json = nlohmann::json;
using testing::MintToken;
using testing::PgCluster;
using testing::ServerProcess;

namespace {

// ---------------------------------------------------------------------------------------------
// Deterministic randomness: everything a scenario does is drawn from one 64-bit seed.

class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed ^ 0x9e3779b97f4a7c15ull) {}
  uint64_t Next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  // [0, n)
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }
  int Range(int lo, int hi) { return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1))); }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }

 private:
  uint64_t s_;
};

std::string Uuid(Rng& r) {
  static const char* hex = "0123456789abcdef";
  uint64_t a = r.Next(), b = r.Next();
  std::string s;
  for (int i = 0; i < 32; ++i) {
    uint64_t w = i < 16 ? a : b;
    int nib = static_cast<int>((w >> (4 * (i % 16))) & 0xf);
    if (i == 12) nib = 4;
    if (i == 16) nib = 8 | (nib & 3);
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    s.push_back(hex[nib]);
  }
  return s;
}

std::string Pad2(int v) {
  char b[16];
  snprintf(b, sizeof b, "%02d", v);
  return b;
}

// Integer parameters in a PostgreSQL type text: "numeric(10,2)" -> {10, 2}.
std::vector<int> TypeArgs(const std::string& pg_type) {
  std::vector<int> out;
  auto open = pg_type.find('(');
  if (open == std::string::npos) return out;
  std::string inner = pg_type.substr(open + 1);
  std::stringstream ss(inner);
  std::string part;
  while (std::getline(ss, part, ',')) {
    try {
      out.push_back(std::stoi(part));
    } catch (...) {
    }
  }
  return out;
}

bool IsAdditive(const Table& t, const std::string& c) {
  auto it = t.sync.conflict.columns.find(c);
  return it != t.sync.conflict.columns.end() && it->second == ConflictPolicy::kAdditive;
}

bool IsKey(const Table& t, const std::string& c) {
  return std::find(t.primary_key.begin(), t.primary_key.end(), c) != t.primary_key.end();
}

// The tenant column of a table's own scope ("" if none).
std::string TenantColumn(const Table& t) {
  if (t.sync.scope.kind == ScopeKind::kTenantColumn || t.sync.scope.kind == ScopeKind::kTenantKey)
    return t.sync.scope.column;
  return "";
}

bool IsNumericKind(TypeKind k) {
  return k == TypeKind::kInteger || k == TypeKind::kNumeric || k == TypeKind::kReal;
}

std::optional<double> NumberOf(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_string()) {
    try {
      size_t used = 0;
      double d = std::stod(v.get<std::string>(), &used);
      return d;
    } catch (...) {
    }
  }
  return std::nullopt;
}

// A value in one comparable form for its column: the local value re-encoded, JSON columns parsed,
// numbers as doubles.
json Norm(const Column& c, const json& v) {
  if (v.is_null()) return nullptr;
  auto val = ValueFromJson(c.type, v);
  json out = val.ok() ? ValueToJson(c.type, *val) : v;
  if ((c.type.kind == TypeKind::kJson || c.type.kind == TypeKind::kArray) && out.is_string()) {
    json p = json::parse(out.get<std::string>(), nullptr, false);
    if (!p.is_discarded()) return p;
  }
  if (IsNumericKind(c.type.kind)) {
    auto n = NumberOf(out);
    if (n) return *n;
  }
  if (c.type.kind == TypeKind::kBoolean && out.is_number()) return out.get<int64_t>() != 0;
  if ((c.type.kind == TypeKind::kTimestamp || c.type.kind == TypeKind::kTimestamptz) &&
      out.is_string()) {
    // One form for equal instants: "…:04.100Z" (a local now() default) is "…:04.1Z".
    std::string s = out.get<std::string>();
    const bool z = !s.empty() && s.back() == 'Z';
    if (z) s.pop_back();
    auto dot = s.find('.', 19);
    if (dot != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return z ? s + "Z" : s;
  }
  return out;
}

bool SameValue(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return std::fabs(x - y) <= 1e-6 * std::max(1.0, std::fabs(x));
  }
  return a == b;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Per target: the database, the server, the model and what was discovered from them.

class AppEnv {
 public:
  explicit AppEnv(Target target) : target_(std::move(target)) {}

  void Setup() {
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

  // Fresh copy of the template under a stopped server.
  void Reset() {
    DropGoldens();
    server_->Stop();
    pg_.reset();
    CopyTemplate();
    server_->Start();
    Connect();
  }

  void RestartServer() {
    server_->Stop();
    server_->Start();
  }

  void RestartPostgres() {
    pg_.reset();
    PgCluster::Shared().Restart();
    ++pg_generation_;  // every target's connection was cut
    Connect();
  }

  server::PgConnection& pg() {
    if (!pg_ || !pg_->healthy() || generation_ != pg_generation_) Connect();
    return *pg_;
  }

  const Target& target() const { return target_; }
  const std::string& url() const { return server_->url(); }
  const std::string& db_url() const { return db_url_; }
  const server::ServerModel& model() const { return *model_; }
  const Schema& view() const { return model_->view(); }
  const std::vector<std::string>& tenants() const { return tenants_; }
  const std::vector<std::string>& users(const std::string& tenant) const {
    static const std::vector<std::string> none{"00000000-0000-4000-8000-0000000000aa"};
    auto it = users_.find(tenant);
    return it == users_.end() || it->second.empty() ? none : it->second;
  }
  // Tables a user trigger may rewrite (whole rows: existence only) and columns a trigger rewrites
  // on its own table.
  bool TriggerTable(const std::string& t) const { return trigger_tables_.count(t) > 0; }
  bool TriggerColumn(const std::string& t, const std::string& c) const {
    return trigger_columns_.count(t + "." + c) > 0;
  }
  const std::string& trigger_note() const { return trigger_note_; }
  // Bootstrapped store files per principal, copied by later scenarios of the same epoch (a fresh
  // database invalidates them).
  std::string Golden(const std::string& key) const {
    auto it = golden_.find(key);
    return it == golden_.end() ? "" : it->second;
  }
  void SaveGolden(const std::string& key, Store& store) {
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
  void DropGoldens() {
    for (const auto& [k, path] : golden_) std::filesystem::remove(path);
    golden_.clear();
  }
  ~AppEnv() {
    DropGoldens();
    std::error_code ec;
    if (!golden_dir_.empty()) std::filesystem::remove_all(golden_dir_, ec);
  }

  // Tokens are minted by a child process (`outpost-server token`): once per principal.
  const std::string& Token(const std::string& tenant, const std::string& sub, const std::string& role) {
    auto& t = tokens_[tenant + "\x1f" + sub + "\x1f" + role];
    if (t.empty()) t = MintToken(tenant, sub, role, 24 * 3600);
    return t;
  }
  const Table* Full(const std::string& table) const {
    const auto* st = model_->Find(table);
    return st ? st->full : nullptr;
  }

 private:
  static std::string Quote(const std::string& s) {
    std::string out = "'";
    for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
  }

  void CopyTemplate() {
    auto& cluster = PgCluster::Shared();
    cluster.Psql(cluster.url("postgres"),
                 "DROP DATABASE IF EXISTS \"" + db_name_ + "\" WITH (FORCE)");
    cluster.Psql(cluster.url("postgres"),
                 "CREATE DATABASE \"" + db_name_ + "\" TEMPLATE \"" + template_db_ + "\"");
  }

  void Connect() {
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

  void BuildModel() {
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

  std::vector<std::string> Column0(const std::string& sql, const server::PgParams& params = {}) {
    std::vector<std::string> out;
    auto r = pg_->Exec(sql, params);
    if (!r.ok()) return out;
    for (int i = 0; i < r->rows(); ++i)
      if (!r->is_null(i, 0)) out.emplace_back(r->get(i, 0));
    return out;
  }

  void Discover() {
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
            list = Column0("SELECT " + rc + "::text FROM " + rq + " WHERE " +
                               QuoteIdent(ref->rule().scope.column) + "::text = $1 ORDER BY 1 LIMIT 3",
                           {tenant});
          }
          if (list.empty() && !tenant.empty() && ref &&
              ref->rule().scope.kind == ScopeKind::kReferencedBy) {
            // Users visible through a referencing table (a membership), when that is tenant-scoped.
            const auto* via = model_->Find(ref->rule().scope.ref_table);
            if (via && via->rule().scope.kind == ScopeKind::kTenantColumn)
              list = Column0("SELECT DISTINCT " + QuoteIdent(ref->rule().scope.ref_column) +
                                 "::text FROM " + via->qname + " WHERE " +
                                 QuoteIdent(via->rule().scope.column) +
                                 "::text = $1 ORDER BY 1 LIMIT 3",
                             {tenant});
          }
          if (list.empty() && !tenant.empty()) {
            // A tenant-scoped table with a foreign key to the users table (a membership).
            for (const auto& other : model_->tables()) {
              if (other.rule().scope.kind != ScopeKind::kTenantColumn) continue;
              for (const auto& ofk : other.full->foreign_keys) {
                if (ofk.ref_table != fk.ref_table || ofk.columns.size() != 1) continue;
                list = Column0("SELECT DISTINCT " + QuoteIdent(ofk.columns[0]) + "::text FROM " +
                                   other.qname + " WHERE " +
                                   QuoteIdent(other.rule().scope.column) +
                                   "::text = $1 ORDER BY 1 LIMIT 3",
                               {tenant});
                if (!list.empty()) break;
              }
              if (!list.empty()) break;
            }
          }
          if (list.empty()) list = Column0("SELECT " + rc + "::text FROM " + rq + " ORDER BY 1 LIMIT 3");
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

  Target target_;
  std::string db_name_, db_url_, template_db_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<server::PgConnection> pg_;
  std::unique_ptr<server::ServerModel> model_;
  std::vector<std::string> tenants_;
  std::map<std::string, std::vector<std::string>> users_;
  std::set<std::string> trigger_tables_;
  std::set<std::string> trigger_columns_;
  std::string trigger_note_;
  std::map<std::string, std::string> tokens_;
  std::map<std::string, std::string> golden_;
  std::string golden_dir_;
  int golden_files_ = 0;
  int generation_ = 0;
  static inline int pg_generation_ = 0;
};

namespace {

// ---------------------------------------------------------------------------------------------
// The timeline: every write the server applied, in the order the harness made it reach the
// server (the harness is single-threaded, so that is the server's order).

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The `outpost` CLI with arguments, as a shell command.
std::string CliCommand(const std::vector<std::string>& args) {
  std::string cmd = OUTPOST_CLI_BIN;
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  return cmd;
}

// Runs a shell command; returns its exit status, its output (stdout and stderr) in *out.
int RunCommand(const std::string& command, std::string* out) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The reconciliation API being added (notices kept in the store, dependent rejections): used
// when this tree has it, detected at compile time so that the harness builds either way.
template <class S = Store>
constexpr bool kStoreHasNotices = requires(S& s) { s.Notices(); };
template <class R = Rejection>
constexpr bool kRejectionHasDependsOn = requires(R& r) { r.depends_on; };

// The notices a store kept, as JSON objects like the push answer's ({tx_id, code, table, pk,
// columns}); nullopt without the API.
template <class S = Store>
std::optional<json> StoredNotices(S& store) {
  if constexpr (kStoreHasNotices<S>) {
    auto notices = store.Notices();
    if (!notices.ok()) return std::nullopt;
    json out = json::array();
    for (const auto& n : *notices)
      out.push_back(json{{"tx_id", n.tx_id}, {"code", n.code}, {"table", n.table}, {"pk", n.pk},
                         {"columns", n.columns}});
    return out;
  } else {
    (void)store;
    return std::nullopt;
  }
}

template <class R = Rejection>
int64_t DependsOn(const R& r) {
  if constexpr (kRejectionHasDependsOn<R>) {
    return r.depends_on;
  } else {
    (void)r;
    return 0;
  }
}

// A field client: a Store in its own temporary directory (not fsynced: the harness does not
// simulate OS crashes, and fsyncs would dominate the scenario's time), the real HttpTransport and
// a SyncSession.
class NativeClient {
 public:
  // `cli`: the store is the `outpost` CLI's (initialised and bootstrapped by `outpost init
  // --sync`); this process only reads it (and records the role), the CLI writes and syncs.
  // `from`: a copy of this store file (bootstrapped earlier for the same principal) is opened
  // under a new client id, and catches up by incremental pulls instead of a bootstrap.
  NativeClient(const std::string& url, const std::string& token, bool cli = false,
               const std::string& from = "") {
    char tmpl[] = "/tmp/outpost-conv-XXXXXX";
    if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
    dir_ = tmpl;
    if (!from.empty()) std::filesystem::copy_file(from, dir_ + "/client.db");
    if (cli) {
      std::string out;
      int rc = RunCommand(CliCommand({"init", "--server", url, "--token", token, "--db",
                                      dir_ + "/client.db", "--sync"}),
                          &out);
      if (rc != 0) throw std::runtime_error("outpost init: " + out);
    }
    StoreOptions options;
    options.durable = false;
    options.cache_mib = 4;
    auto store = Store::Open(dir_ + "/client.db", options);
    if (!store.ok()) throw std::runtime_error("store: " + store.status().ToString());
    store_ = std::move(store).value();
    if (!from.empty()) {
      // A device of its own: a fresh client id (the server deduplicates by client id and tx id).
      static uint64_t counter = 0;
      char id[64];
      snprintf(id, sizeof id, "00000000-0000-7000-8000-%04x%08llx",
               static_cast<unsigned>(getpid() & 0xffff), static_cast<unsigned long long>(++counter));
      Status st = store_->SetMeta("client_id", id);
      if (!st.ok()) throw std::runtime_error("client id: " + st.ToString());
    }
    transport_ = std::make_unique<HttpTransport>(url, token, HttpTimeouts{5, 30, 30});
    auto session = SyncSession::Open(store_.get());
    if (!session.ok()) throw std::runtime_error("session: " + session.status().ToString());
    session_ = std::move(session).value();
  }
  ~NativeClient() {
    session_.reset();
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  Store& store() { return *store_; }
  SyncSession& session() { return *session_; }
  HttpTransport& transport() { return *transport_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<SyncSession> session_;
};

struct Event {
  int64_t order = 0;
  int client = -1;  // -1: a direct PostgreSQL write
  int64_t tx_id = 0;
  char op = 'U';  // I, U, D
  std::string table;
  json pk;
  json new_values = json::object();
  json old_values = json::object();
  bool delta = false;  // direct write: new_values hold additive deltas
  bool unverified = false;  // a CLI client's write: its notices and remaps are not seen
};

struct Scenario;

struct Client {
  int index = 0;
  std::string tenant, sub, role;
  std::unique_ptr<NativeClient> tc;
  bool cli = false;  // writes and syncs through the `outpost` CLI binary
  std::unique_ptr<Transport> transport;
  int offline_until = -1;
  std::set<int64_t> committed;          // tx ids of transactions the harness committed
  int64_t last_tx = 0;                  // highest tx id seen in the outbox
  std::set<int64_t> delivered;          // tx ids that reached the server
  std::map<int64_t, std::string> seen_status;  // server results seen: applied / rejected
  std::map<int64_t, std::vector<json>> notices;
  std::map<std::string, json> remaps;   // table + "\x1f" + from.dump() -> to
  std::vector<std::string> last_push_answer;
  std::map<int64_t, int64_t> committed_at;  // tx id -> harness order when committed
  std::map<int64_t, int64_t> rejected_at;   // tx id -> harness order when first listed rejected
  std::string golden_key;    // principal (and whether the role is recorded in the store)
  bool needs_golden = false;  // bootstrapped from scratch: keep a copy for later scenarios
};

struct Stashed {
  int client;
  HttpRequest request;
};

struct Scenario {
  AppEnv* env = nullptr;
  Rng* rng = nullptr;
  std::vector<std::unique_ptr<Client>> clients;
  std::vector<Event> events;
  int64_t order = 0;
  bool faults = false;
  double p_drop_request = 0, p_drop_answer = 0, p_dup = 0, p_delay = 0, p_stale = 0;
  std::vector<Stashed> stash;
  ScenarioResult* result = nullptr;
  int step = 0;
  bool verbose = false;
  std::vector<std::string> log;

  void Note(const std::string& s) {
    if (log.size() < 400) log.push_back("[" + std::to_string(step) + "] " + s);
  }
  void Fail(const std::string& s) {
    result->ok = false;
    if (result->failures.size() < 40) result->failures.push_back(s);
  }

  // When each rejection was first seen in the client's store (after a sync).
  void NoteRejections(Client& c) {
    auto list = c.tc->store().Rejections();
    if (!list.ok()) return;
    for (const auto& r : *list)
      if (!c.rejected_at.count(r.tx_id)) {
        c.rejected_at[r.tx_id] = ++order;
        Note("client " + std::to_string(c.index) + " tx " + std::to_string(r.tx_id) + " rejected: " +
             r.code + ": " + r.message.substr(0, 160));
      }
  }

  // A CLI client syncs with `outpost sync`: what it pushes is what is pending now.
  Result<int64_t> CliSync(Client& c) {
    if (step <= c.offline_until) return Status(Code::kUnavailable, "partitioned");
    auto pending = c.tc->store().PendingTransactions();
    if (!pending.ok()) return pending.status();
    for (const auto& tx : *pending) {
      if (!c.delivered.insert(tx.tx_id).second) continue;
      for (const auto& m : tx.mutations) {
        Event e;
        e.order = ++order;
        e.client = c.index;
        e.tx_id = tx.tx_id;
        e.op = static_cast<char>(m.op);
        e.table = m.table;
        e.pk = m.pk;
        e.new_values = m.new_values;
        e.old_values = m.old_values;
        e.unverified = true;
        events.push_back(std::move(e));
      }
    }
    std::string out;
    int rc = RunCommand(CliCommand({"sync", "--db", c.tc->dir() + "/client.db"}), &out);
    if (rc != 0) return Status(Code::kUnavailable, "outpost sync: " + out.substr(0, 300));
    return static_cast<int64_t>(pending->size());
  }

  // Records a push request that reached the server and the answer it gave.
  void RecordPush(Client& c, const HttpRequest& req, int status, const std::vector<std::string>& lines) {
    if (!(status / 100 == 2 || status == 503)) return;
    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded()) return;
    for (const auto& tx : body.value("transactions", json::array())) {
      int64_t id = tx.value("tx_id", int64_t{0});
      if (!c.delivered.insert(id).second) continue;
      for (const auto& m : tx.value("mutations", json::array())) {
        Event e;
        e.order = ++order;
        e.client = c.index;
        e.tx_id = id;
        std::string op = m.value("op", "");
        e.op = op == "insert" ? 'I' : op == "delete" ? 'D' : 'U';
        e.table = m.value("table", "");
        e.pk = m.value("pk", json::array());
        e.new_values = m.value("new", json::object());
        e.old_values = m.value("old", json::object());
        events.push_back(std::move(e));
      }
    }
    if (status / 100 != 2) return;
    std::string text;
    for (const auto& l : lines) text += l + "\n";
    json answer = json::parse(text, nullptr, false);
    if (answer.is_discarded()) return;
    for (const auto& r : answer.value("results", json::array())) {
      int64_t id = r.value("tx_id", int64_t{0});
      std::string st = r.value("status", "");
      auto [it, fresh] = c.seen_status.emplace(id, st);
      if (!fresh && it->second != st)
        Fail("client " + std::to_string(c.index) + " tx " + std::to_string(id) +
             ": the server answered " + it->second + " and later " + st);
      if (fresh) {
        for (const auto& n : r.value("notices", json::array())) c.notices[id].push_back(n);
        for (const auto& m : r.value("remaps", json::array()))
          c.remaps[m.value("table", "") + "\x1f" + m.value("from", json::array()).dump()] =
              m.value("to", json::array());
      }
    }
  }
};

// ---------------------------------------------------------------------------------------------
// The fault-injecting transport around a client's real HttpTransport.

class FaultTransport : public Transport {
 public:
  FaultTransport(Scenario* sc, Client* c) : sc_(sc), c_(c) {}

  // Sends to the real server, buffering the answer; records pushes.
  Result<int> Deliver(const HttpRequest& req, std::vector<std::string>* lines, std::string* body) {
    auto r = c_->tc->transport().Send(
        req,
        [&](std::string_view line) -> Status {
          lines->emplace_back(line);
          return Status::Ok();
        },
        body);
    if (r.ok() && IsPush(req)) sc_->RecordPush(*c_, req, *r, *lines);
    if (getenv("OUTPOST_CONV_TRACE_HTTP")) {
      std::string answer;
      for (const auto& l : *lines) answer += l + "\n";
      fprintf(stderr, "http step %d client %d: %s %s%s -> %s %s\n", sc_->step, c_->index,
              req.method.c_str(), req.target.substr(0, 60).c_str(),
              IsPush(req) ? (" " + req.body.substr(0, 6000)).c_str() : "",
              r.ok() ? std::to_string(*r).c_str() : r.status().ToString().c_str(),
              (answer + *body).substr(0, 6000).c_str());
    }
    return r;
  }

  Result<int> Send(const HttpRequest& req,
                   const std::function<Status(std::string_view line)>& on_line,
                   std::string* error_body) override {
    if (sc_->step <= c_->offline_until) return Status(Code::kUnavailable, "partitioned");
    const bool push = IsPush(req);
    Rng& r = *sc_->rng;
    if (sc_->faults) {
      if (r.Chance(sc_->p_drop_request)) {
        Fault("request dropped");
        return Status(Code::kUnavailable, "fault: request dropped");
      }
      if (push && sc_->stash.size() < 3 && r.Chance(sc_->p_delay)) {
        Fault("push delayed");
        sc_->stash.push_back({c_->index, req});
        return Status(Code::kUnavailable, "fault: request delayed");
      }
    }
    std::vector<std::string> lines;
    std::string body;
    auto res = Deliver(req, &lines, &body);
    if (!res.ok()) return res;
    if (sc_->faults && r.Chance(sc_->p_dup)) {
      Fault("request duplicated");
      std::vector<std::string> again;
      std::string body2;
      auto second = Deliver(req, &again, &body2);
      if (second.ok() && *second / 100 == 2 && *res / 100 == 2) lines = std::move(again);
    }
    if (sc_->faults && push && *res / 100 == 2 && !c_->last_push_answer.empty() &&
        r.Chance(sc_->p_stale)) {
      Fault("stale push answer fed");
      std::vector<std::string> stale = c_->last_push_answer;
      c_->last_push_answer = lines;
      for (const auto& l : stale) OUTPOST_RETURN_IF_ERROR(on_line(l));
      return *res;
    }
    if (sc_->faults && r.Chance(sc_->p_drop_answer)) {
      Fault(push ? "push answer dropped" : "answer dropped");
      if (push && *res / 100 == 2) c_->last_push_answer = lines;
      return Status(Code::kUnavailable, "fault: answer dropped");
    }
    if (*res / 100 != 2) {
      if (error_body) *error_body = body;
      return *res;
    }
    if (push) c_->last_push_answer = lines;
    for (const auto& l : lines) OUTPOST_RETURN_IF_ERROR(on_line(l));
    return *res;
  }

 private:
  static bool IsPush(const HttpRequest& req) {
    return req.method == "POST" && req.target.rfind("/v1/push", 0) == 0;
  }
  void Fault(const std::string& what) {
    ++sc_->result->faults;
    sc_->Note("client " + std::to_string(c_->index) + ": " + what);
  }
  Scenario* sc_;
  Client* c_;
};

// ---------------------------------------------------------------------------------------------
// Operations through plain SQL on a client's store.

struct Generator {
  Scenario& sc;
  AppEnv& env;
  Rng& r;

  Store& store(Client& c) { return c.tc->store(); }

  std::string PkOrder(const Table& t) {
    std::string s;
    for (const auto& k : t.primary_key) s += (s.empty() ? "" : ", ") + QuoteIdent(k);
    return s;
  }

  // A random local row of `t` as an object, or nullopt when it has none.
  std::optional<json> PickRow(Client& c, const Table& t) {
    auto n = store(c).Execute("SELECT count(*) FROM " + QuoteIdent(t.name));
    if (!n.ok() || n->rows.empty()) return std::nullopt;
    int64_t count = n->rows[0][0].get<int64_t>();
    if (count == 0) return std::nullopt;
    std::string cols;
    for (const auto& col : t.columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(col.name);
    auto row = store(c).Execute("SELECT " + cols + " FROM " + QuoteIdent(t.name) + " ORDER BY " +
                                PkOrder(t) + " LIMIT 1 OFFSET " +
                                std::to_string(r.Below(static_cast<uint64_t>(count))));
    if (!row.ok() || row->rows.empty()) return std::nullopt;
    json obj = json::object();
    for (size_t i = 0; i < t.columns.size(); ++i) obj[t.columns[i].name] = row->rows[0][i];
    return obj;
  }

  // Literal values the table's CHECK constraints name for column `c` (e.g. status IN (...)).
  std::vector<std::string> CheckLiterals(const Table& t, const std::string& c) {
    std::vector<std::string> out;
    static const std::regex lit("'([^']*)'");
    for (const auto& ch : t.checks) {
      const std::string& e = ch.expression;
      std::regex word("(^|[^\\w])\"?" + c + "\"?([^\\w]|$)");
      if (!std::regex_search(e, word)) continue;
      int mentioned = 0;
      for (const auto& other : t.columns) {
        std::regex w2("(^|[^\\w])\"?" + other.name + "\"?([^\\w]|$)");
        if (std::regex_search(e, w2)) ++mentioned;
      }
      if (mentioned != 1) continue;
      for (std::sregex_iterator it(e.begin(), e.end(), lit), end; it != end; ++it)
        out.push_back((*it)[1].str());
    }
    return out;
  }

  // A fresh value of the column's kind, in its local form.
  json Fresh(const Table& t, const Column& col) {
    auto lits = CheckLiterals(t, col.name);
    if (!lits.empty() && r.Chance(0.9)) {
      const std::string& l = r.Pick(lits);
      if (IsNumericKind(col.type.kind) || col.type.kind == TypeKind::kBoolean) {
        auto n = NumberOf(json(l));
        if (n && col.type.kind != TypeKind::kNumeric) return static_cast<int64_t>(*n);
      }
      return l;
    }
    auto args = TypeArgs(col.type.pg_type);
    switch (col.type.kind) {
      case TypeKind::kUuid: return Uuid(r);
      case TypeKind::kInteger: return static_cast<int64_t>(r.Range(0, 90));
      case TypeKind::kNumeric: {
        int scale = args.size() >= 2 ? args[1] : 0;
        int digits = args.size() >= 1 ? std::min(4, args[0] - scale) : 3;
        int64_t max = 1;
        for (int i = 0; i < std::max(1, digits); ++i) max *= 10;
        std::string s = std::to_string(r.Below(static_cast<uint64_t>(max)));
        if (scale > 0) {
          s += ".";
          for (int i = 0; i < scale; ++i) s += static_cast<char>('0' + r.Below(10));
        }
        return s;
      }
      case TypeKind::kReal: return static_cast<double>(r.Range(0, 400)) / 4.0;
      case TypeKind::kBoolean: return static_cast<int64_t>(r.Below(2));
      case TypeKind::kDate: return "2026-" + Pad2(r.Range(1, 12)) + "-" + Pad2(r.Range(1, 28));
      case TypeKind::kTimestamp:
      case TypeKind::kTimestamptz: {
        std::string s = "2026-" + Pad2(r.Range(1, 12)) + "-" + Pad2(r.Range(1, 28)) + "T" +
                        Pad2(r.Range(0, 23)) + ":" + Pad2(r.Range(0, 59)) + ":" +
                        Pad2(r.Range(0, 59));
        return col.type.kind == TypeKind::kTimestamptz ? s + "Z" : s;
      }
      case TypeKind::kJson: return "{\"k\": " + std::to_string(r.Below(100)) + "}";
      case TypeKind::kArray: return "[]";
      case TypeKind::kEnum:
        return col.type.enum_values.empty() ? json("x") : json(r.Pick(col.type.enum_values));
      case TypeKind::kInet: return "10.0." + std::to_string(r.Below(250)) + "." + std::to_string(1 + r.Below(250));
      case TypeKind::kBytea: return json{{"$blob", "AQI="}};
      case TypeKind::kOtherText: return nullptr;
      case TypeKind::kText:
      case TypeKind::kCitext:
      default: {
        std::string s = "v" + std::to_string(r.Below(100000));
        const bool fixed = col.type.pg_type.rfind("character(", 0) == 0;
        if (!args.empty()) {
          size_t n = static_cast<size_t>(std::max(1, args[0]));
          if (s.size() > n) s = s.substr(0, n);
          if (fixed) while (s.size() < n) s.push_back(' ');
        }
        return s;
      }
    }
  }

  const ForeignKey* FkOf(const Table& full, const std::string& c) {
    for (const auto& fk : full.foreign_keys)
      if (std::find(fk.columns.begin(), fk.columns.end(), c) != fk.columns.end()) return &fk;
    return nullptr;
  }

  // Values for the columns of `fk` from a parent row the client has (or PostgreSQL has, for an
  // unsynced parent table).
  std::optional<json> Parent(Client& c, const ForeignKey& fk) {
    const Table* parent = env.view().FindTable(fk.ref_table);
    json out = json::object();
    if (parent) {
      auto row = PickRow(c, *parent);
      if (!row) return std::nullopt;
      for (size_t i = 0; i < fk.columns.size(); ++i) out[fk.columns[i]] = (*row)[fk.ref_columns[i]];
      return out;
    }
    std::string cols;
    for (const auto& rc : fk.ref_columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(rc) + "::text";
    auto res = env.pg().Exec("SELECT " + cols + " FROM \"public\"." + QuoteIdent(fk.ref_table) +
                             " ORDER BY 1 LIMIT 1 OFFSET " + std::to_string(r.Below(5)));
    if (!res.ok() || res->rows() == 0) return std::nullopt;
    const Table* full = env.model().described().FindTable(fk.ref_table);
    for (size_t i = 0; i < fk.columns.size(); ++i) {
      if (res->is_null(0, static_cast<int>(i))) { out[fk.columns[i]] = nullptr; continue; }
      const Column* rc = full ? full->FindColumn(fk.ref_columns[i]) : nullptr;
      if (!rc) return std::nullopt;
      auto v = PgTextToJson(rc->type, res->get(0, static_cast<int>(i)));
      if (!v.ok()) return std::nullopt;
      out[fk.columns[i]] = *v;
    }
    return out;
  }

  bool Writable(const Client& c, const Table& t) {
    return !t.sync.read_only() && t.sync.may_write(c.role);
  }

  std::vector<const Table*> WritableTables(const Client& c) {
    std::vector<const Table*> out;
    for (const auto& t : env.view().tables)
      if (Writable(c, t)) out.push_back(&t);
    return out;
  }

  bool FilterApplies(const Client& c, const Table& t) {
    const auto& f = t.sync.filter;
    return f && std::find(f->roles.begin(), f->roles.end(), c.role) != f->roles.end();
  }

  // The row an insert into `t` sets; `forced` overrides columns (a race or a collision).
  json InsertRow(Client& c, const Table& t, const json& forced = json::object()) {
    const Table* full = env.Full(t.name);
    json row = json::object();
    for (const auto& col : t.columns) {
      if (col.generated) continue;
      if (t.IsServerKeyColumn(col.name)) continue;  // a temporary key from the default
      const bool key = IsKey(t, col.name);
      if (!key && !t.sync.may_set(c.role, col.name, WriteKind::kInsert) && !r.Chance(0.05)) continue;
      if (!key && col.default_expr && r.Chance(0.3)) continue;
      if (!key && col.nullable && r.Chance(0.15)) {
        row[col.name] = nullptr;
        continue;
      }
      if (!key && !col.nullable && r.Chance(0.02)) {
        row[col.name] = nullptr;  // invalid: refused locally (NOT NULL)
        continue;
      }
      json v = Fresh(t, col);
      if (v.is_null() && !col.nullable) {
        if (col.default_expr) continue;
      }
      row[col.name] = v;
    }
    // References: a parent the client has.
    if (full) {
      for (const auto& fk : full->foreign_keys) {
        bool all_in = true;
        for (const auto& fc : fk.columns)
          if (!t.FindColumn(fc)) all_in = false;
        if (!all_in) continue;
        bool nullable = true;
        for (const auto& fc : fk.columns) nullable = nullable && t.FindColumn(fc)->nullable;
        if (nullable && r.Chance(0.2)) {
          for (const auto& fc : fk.columns) row[fc] = nullptr;
          continue;
        }
        if (r.Chance(0.03)) continue;  // invalid on purpose: a reference to no row
        auto p = Parent(c, fk);
        if (p) {
          for (auto& [k, v] : p->items()) row[k] = v;
        } else if (nullable) {
          for (const auto& fc : fk.columns) row[fc] = nullptr;
        } else if (!r.Chance(0.1)) {
          return json();  // no parent to reference: no insert
        }
      }
    }
    // Tenant and row filter columns: the token's (sometimes another tenant's or user's).
    std::string tc = TenantColumn(t);
    if (!tc.empty() && !c.tenant.empty()) {
      const auto& ts = env.tenants();
      row[tc] = r.Chance(0.03) && ts.size() > 1 ? ts[1 - (ts[0] == c.tenant ? 0 : 1)] : c.tenant;
    }
    if (FilterApplies(c, t)) {
      const auto& us = env.users(c.tenant);
      row[t.sync.filter->column] = r.Chance(0.04) ? json(r.Pick(us)) : json(c.sub);
    }
    for (auto& [k, v] : forced.items()) row[k] = v;
    return row;
  }

  // Runs one statement; returns false when the store refused it.
  int64_t statements_ = 0;  // statements run (or refused) so far

  bool Exec(Client& c, const std::string& sql, const json& params) {
    ++statements_;
    if (c.cli) {
      std::string out;
      int rc = RunCommand(CliCommand({"sql", "--db", c.tc->dir() + "/client.db", sql, params.dump()}), &out);
      if (rc != 0) {
        ++sc.result->refused_locally;
        sc.Note("cli client " + std::to_string(c.index) + " refused locally: " + sql.substr(0, 80) +
                " -> " + out.substr(0, 160));
        return false;
      }
      sc.Note("cli client " + std::to_string(c.index) + ": " + sql.substr(0, 100) + " " +
              params.dump().substr(0, 200));
      return true;
    }
    auto res = store(c).Execute(sql, params);
    if (!res.ok()) {
      ++sc.result->refused_locally;
      if (getenv("OUTPOST_CONV_DEBUG_REFUSALS"))
        fprintf(stderr, "refused: %s %s: %s\n", sql.substr(0, 60).c_str(), params.dump().c_str(), res.status().ToString().c_str());
      sc.Note("client " + std::to_string(c.index) + " refused locally: " + sql.substr(0, 80) +
              " -> " + res.status().ToString().substr(0, 120));
      return false;
    }
    sc.Note("client " + std::to_string(c.index) + ": " + sql.substr(0, 100) + " " +
            params.dump().substr(0, 200));
    return true;
  }

  bool Insert(Client& c, const Table& t, const json& forced = json::object()) {
    json row = InsertRow(c, t, forced);
    if (row.is_null()) return false;
    if (row.empty()) return Exec(c, "INSERT INTO " + QuoteIdent(t.name) + " DEFAULT VALUES", json::array());
    std::string cols, qs;
    json params = json::array();
    for (auto& [k, v] : row.items()) {
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(k);
      qs += qs.empty() ? "?" : ", ?";
      params.push_back(v);
    }
    return Exec(c, "INSERT INTO " + QuoteIdent(t.name) + " (" + cols + ") VALUES (" + qs + ")", params);
  }

  std::string PkWhere(const Table& t, const json& row, json* params) {
    std::string w;
    for (const auto& k : t.primary_key) {
      w += (w.empty() ? "" : " AND ") + QuoteIdent(k) + " = ?";
      params->push_back(row[k]);
    }
    return w;
  }

  static bool SoftDeleteName(const std::string& n) {
    std::string l = n;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    return l.find("delet") != std::string::npos || l.find("active") != std::string::npos ||
           l.find("archiv") != std::string::npos;
  }

  bool Update(Client& c, const Table& t) {
    auto row = PickRow(c, t);
    if (!row) return false;
    const Table* full = env.Full(t.name);
    std::vector<const Column*> cands, soft;
    for (const auto& col : t.columns) {
      if (IsKey(t, col.name) || col.generated) continue;
      if (col.name == TenantColumn(t) && !r.Chance(0.05)) continue;
      if (!t.sync.may_set(c.role, col.name, WriteKind::kUpdate) && !r.Chance(0.05)) continue;
      if (col.type.kind == TypeKind::kOtherText) continue;
      cands.push_back(&col);
      if (SoftDeleteName(col.name) || IsAdditive(t, col.name)) soft.push_back(&col);
    }
    if (cands.empty()) return false;
    std::string set;
    json params = json::array();
    std::set<std::string> used;
    int n = r.Range(1, 3);
    for (int i = 0; i < n; ++i) {
      const Column* col = !soft.empty() && r.Chance(0.4) ? r.Pick(soft) : r.Pick(cands);
      if (!used.insert(col->name).second) continue;
      const std::string q = QuoteIdent(col->name);
      if (IsAdditive(t, col->name)) {
        if ((*row)[col->name].is_null()) continue;
        set += (set.empty() ? "" : ", ") + q + " = " + q + " + ?";
        params.push_back(static_cast<int64_t>(r.Range(-5, 20)));
        continue;
      }
      json v;
      const ForeignKey* fk = full ? FkOf(*full, col->name) : nullptr;
      if (fk && fk->columns.size() == 1) {
        auto p = Parent(c, *fk);
        v = p ? (*p)[col->name] : json(nullptr);
        if (v.is_null() && !col->nullable) continue;
      } else if (col->nullable && r.Chance(0.15)) {
        v = nullptr;
      } else {
        v = Fresh(t, *col);
      }
      if (FilterApplies(c, t) && col->name == t.sync.filter->column && !r.Chance(0.1)) continue;
      set += (set.empty() ? "" : ", ") + q + " = ?";
      params.push_back(v);
    }
    if (set.empty()) return false;
    std::string where = PkWhere(t, *row, &params);
    return Exec(c, "UPDATE " + QuoteIdent(t.name) + " SET " + set + " WHERE " + where, params);
  }

  bool Delete(Client& c, const Table& t) {
    // Never the tenant's own row: allowed for some roles, it cascades through everything and
    // leaves the rest of the epoch with an empty tenant.
    if (t.sync.scope.kind == ScopeKind::kTenantKey) return false;
    auto row = PickRow(c, t);
    if (!row) return false;
    json params = json::array();
    std::string where = PkWhere(t, *row, &params);
    return Exec(c, "DELETE FROM " + QuoteIdent(t.name) + " WHERE " + where, params);
  }

  // Tables some table references with ON DELETE CASCADE (deleting their rows cascades).
  bool CascadeParent(const Table& t) {
    for (const auto& other : env.view().tables)
      for (const auto& fk : other.foreign_keys)
        if (fk.ref_table == t.name && fk.on_delete == FkAction::kCascade) return true;
    return false;
  }

  // One local transaction of 1-3 random writes.
  void LocalTransaction(Client& c) {
    auto tables = WritableTables(c);
    if (tables.empty()) return;
    const bool explicit_tx = !c.cli && r.Chance(0.35);  // one CLI call is one statement
    const int n = explicit_tx ? r.Range(2, 3) : 1;
    if (explicit_tx && !Exec(c, "BEGIN", json::array())) return;
    for (int i = 0; i < n; ++i) {
      // An operation may find nothing to do (no row to update, no parent to reference): try
      // another until a statement was run, a few times.
      const int64_t before = statements_;
      for (int attempt = 0; attempt < 4 && statements_ == before; ++attempt) {
        const Table& t = *r.Pick(tables);
        double roll = static_cast<double>(r.Below(100));
        if (roll < 40) {
          Insert(c, t);
        } else if (roll < 82) {
          Update(c, t);
        } else {
          // Deletes favour parents whose children cascade.
          const Table* victim = &t;
          for (int tries = 0; tries < 3 && !CascadeParent(*victim); ++tries) victim = r.Pick(tables);
          Delete(c, *victim);
        }
      }
    }
    if (explicit_tx) {
      auto s = store(c).Execute("COMMIT");
      if (!s.ok()) (void)store(c).Execute("ROLLBACK");
    }
    NoteCommitted(c);
  }

  // Tx ids that appeared in the outbox since the last look: transactions the harness committed.
  void NoteCommitted(Client& c) {
    auto res = store(c).Execute("SELECT DISTINCT tx_id FROM _outpost_outbox WHERE tx_id > ? ORDER BY 1",
                                json::array({c.last_tx}));
    if (!res.ok()) {
      sc.Fail("reading the outbox: " + res.status().ToString());
      return;
    }
    for (const auto& row : res->rows) {
      int64_t id = row[0].get<int64_t>();
      if (c.committed.insert(id).second) {
        ++sc.result->local_tx;
        c.committed_at[id] = ++sc.order;
        sc.Note("client " + std::to_string(c.index) + " committed tx " + std::to_string(id));
      }
      c.last_tx = std::max(c.last_tx, id);
    }
  }

  // Two clients insert rows agreeing on a unique constraint (or on the key of a merging table).
  void Collide(Client& a, Client& b) {
    std::vector<std::pair<const Table*, std::vector<std::string>>> cands;
    for (const Table* t : WritableTables(a)) {
      if (!Writable(b, *t)) continue;
      for (const auto& u : t->uniques) cands.push_back({t, u.columns});
      for (const auto& ix : t->indexes)
        if (ix.unique && !ix.where && std::find(ix.key_is_expression.begin(), ix.key_is_expression.end(), true) == ix.key_is_expression.end())
          cands.push_back({t, ix.keys});
      if (!t->has_serial_key()) cands.push_back({t, t->primary_key});
    }
    if (cands.empty()) return;
    auto [t, cols] = r.Pick(cands);
    json row = InsertRow(a, *t);
    if (row.is_null()) return;
    json forced = json::object();
    for (const auto& c : cols)
      if (row.contains(c)) forced[c] = row[c];
    sc.Note("collision on " + t->name + " " + forced.dump());
    Insert(a, *t, row);
    NoteCommitted(a);
    Insert(b, *t, forced);
    NoteCommitted(b);
  }

  // A deletes a parent row while B, offline, adds a child referencing it.
  void FkRace(Client& a, Client& b) {
    std::vector<std::pair<const Table*, const ForeignKey*>> cands;
    for (const Table* child : WritableTables(b)) {
      const Table* full = env.Full(child->name);
      if (!full) continue;
      for (const auto& fk : full->foreign_keys) {
        const Table* parent = env.view().FindTable(fk.ref_table);
        if (parent && Writable(a, *parent) && parent->sync.scope.kind != ScopeKind::kTenantKey)
          cands.push_back({child, &fk});
      }
    }
    if (cands.empty()) return;
    auto [child, fk] = r.Pick(cands);
    const Table* parent = env.view().FindTable(fk->ref_table);
    auto prow = PickRow(a, *parent);
    if (!prow) return;
    json forced = json::object();
    for (size_t i = 0; i < fk->columns.size(); ++i) forced[fk->columns[i]] = (*prow)[fk->ref_columns[i]];
    sc.Note("fk race: " + parent->name + " vs child " + child->name);
    json params = json::array();
    std::string where = PkWhere(*parent, *prow, &params);
    Exec(a, "DELETE FROM " + QuoteIdent(parent->name) + " WHERE " + where, params);
    NoteCommitted(a);
    Insert(b, *child, forced);
    NoteCommitted(b);
  }

  // A write through another PostgreSQL backend to a row in client 0's scope.
  void DirectWrite() {
    Client& c = *sc.clients[0];
    std::vector<const server::SyncedTable*> tables;
    for (const auto& st : env.model().tables())
      if (st.rule().scope.kind != ScopeKind::kGlobal) tables.push_back(&st);
    if (tables.empty()) return;
    const server::SyncedTable& st = *r.Pick(tables);
    const Table& t = *st.view;
    server::Principal who{c.tenant, c.sub, c.role,
                          json{{"tenant", c.tenant}, {"sub", c.sub}, {"role", c.role}}};
    server::PgParams params;
    auto pred = env.model().ScopePredicate(st, "r", who, &params);
    if (!pred.ok()) return;
    std::string keys;
    for (const auto& k : t.primary_key) keys += (keys.empty() ? "r." : ", r.") + QuoteIdent(k) + "::text";
    auto count = env.pg().Exec("SELECT count(*) FROM " + st.qname + " r WHERE " + *pred, params);
    if (!count.ok() || count->rows() == 0) return;
    int64_t n = std::stoll(std::string(count->get(0, 0)));
    if (n == 0) return;
    auto row = env.pg().Exec("SELECT " + keys + " FROM " + st.qname + " r WHERE " + *pred +
                                 " ORDER BY " + keys + " LIMIT 1 OFFSET " +
                                 std::to_string(r.Below(static_cast<uint64_t>(n))),
                             params);
    if (!row.ok() || row->rows() == 0) return;
    json pk = json::array();
    for (size_t i = 0; i < t.primary_key.size(); ++i) {
      auto v = PgTextToJson(t.FindColumn(t.primary_key[i])->type, row->get(0, static_cast<int>(i)));
      if (!v.ok()) return;
      pk.push_back(*v);
    }
    server::PgParams kp;
    auto pkp = env.model().PkParam(st, pk, &kp);
    if (!pkp.ok()) return;
    const std::string match = env.model().PkMatchExpression(st, "r", *pkp);
    Event e;
    e.client = -1;
    e.table = t.name;
    e.pk = pk;
    // Direct deletes only of rows nothing references (a deleted tenant would empty the rest of
    // the epoch); deletes of parents come from the clients.
    bool referenced = t.sync.scope.kind == ScopeKind::kTenantKey;
    for (const auto& other : env.model().described().tables)
      for (const auto& fk : other.foreign_keys)
        if (fk.ref_table == t.name) referenced = true;
    if (!referenced && r.Chance(0.15)) {
      auto res = env.pg().Exec("DELETE FROM " + st.qname + " r WHERE " + match + " RETURNING 1", kp);
      if (!res.ok() || res->rows() == 0) return;
      e.op = 'D';
    } else {
      std::vector<const Column*> cands;
      for (const auto& col : t.columns) {
        if (IsKey(t, col.name) || col.generated || col.name == TenantColumn(t)) continue;
        if (t.sync.filter && col.name == t.sync.filter->column) continue;
        if (col.type.kind == TypeKind::kOtherText) continue;
        const Table* full = env.Full(t.name);
        if (full && FkOf(*full, col.name)) continue;
        cands.push_back(&col);
      }
      if (cands.empty()) return;
      std::vector<const Column*> counters;
      for (const Column* c2 : cands)
        if (IsAdditive(t, c2->name)) counters.push_back(c2);
      const Column& col = !counters.empty() && r.Chance(0.5) ? *r.Pick(counters) : *r.Pick(cands);
      const std::string q = QuoteIdent(col.name);
      kp.push_back(std::nullopt);
      const std::string p = "$" + std::to_string(kp.size());
      std::string sql;
      if (IsAdditive(t, col.name)) {
        int64_t d = r.Range(-5, 20);
        kp.back() = std::to_string(d);
        sql = "UPDATE " + st.qname + " r SET " + q + " = r." + q + " + " + p + "::" +
              col.type.pg_type + " WHERE " + match + " AND r." + q + " IS NOT NULL RETURNING 1";
        e.delta = true;
        e.new_values[col.name] = d;
      } else {
        json v = Fresh(t, col);
        auto text = JsonToPgText(col.type, v);
        if (!text.ok()) return;
        kp.back() = *text;
        sql = "UPDATE " + st.qname + " r SET " + q + " = " + p + "::" + col.type.pg_type +
              " WHERE " + match + " RETURNING 1";
        e.new_values[col.name] = v;
      }
      auto res = env.pg().Exec(sql, kp);
      if (!res.ok() || res->rows() == 0) return;
      e.op = 'U';
    }
    e.order = ++sc.order;
    sc.Note("direct write " + std::string(1, e.op) + " " + t.name + " " + pk.dump() + " " +
            e.new_values.dump());
    ++sc.result->direct_writes;
    // OUTPOST_CONV_SABOTAGE: forget direct writes (to see the checks catch unexplained values).
    if (!getenv("OUTPOST_CONV_SABOTAGE")) sc.events.push_back(std::move(e));
  }
};

// ---------------------------------------------------------------------------------------------
// Reading rows for the checks.

json ClientRows(Client& c, const Table& t, std::string* error) {
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(col.name);
  auto res = c.tc->store().Execute("SELECT " + cols + " FROM " + QuoteIdent(t.name));
  if (!res.ok()) {
    *error = res.status().ToString();
    return json::array();
  }
  json rows = json::array();
  for (auto& row : res->rows) {
    json out = json::array();
    for (size_t i = 0; i < t.columns.size(); ++i) out.push_back(Norm(t.columns[i], row[i]));
    rows.push_back(std::move(out));
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return rows;
}

json ScopeRows(AppEnv& env, Client& c, const server::SyncedTable& st, std::string* error) {
  server::Principal who{c.tenant, c.sub, c.role,
                        json{{"tenant", c.tenant}, {"sub", c.sub}, {"role", c.role}}};
  server::PgParams params;
  auto pred = env.model().ScopePredicate(st, "r", who, &params);
  if (!pred.ok()) {
    *error = pred.status().ToString();
    return json::array();
  }
  const Table& t = *st.view;
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "r." : ", r.") + QuoteIdent(col.name);
  auto res = env.pg().Exec("SELECT " + cols + " FROM " + st.qname + " r WHERE " + *pred, params);
  if (!res.ok()) {
    *error = res.status().ToString();
    return json::array();
  }
  json rows = json::array();
  for (int i = 0; i < res->rows(); ++i) {
    json out = json::array();
    for (size_t j = 0; j < t.columns.size(); ++j) {
      int ci = static_cast<int>(j);
      if (res->is_null(i, ci)) {
        out.push_back(nullptr);
        continue;
      }
      auto v = PgTextToJson(t.columns[j].type, res->get(i, ci));
      out.push_back(v.ok() ? Norm(t.columns[j], *v) : json("<" + v.status().ToString() + ">"));
    }
    rows.push_back(std::move(out));
  }
  std::sort(rows.begin(), rows.end(), [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return rows;
}

// The PostgreSQL row of `table` with key `pk` (client JSON), as an object of normalised values;
// nullopt when absent.
std::optional<json> PgRow(AppEnv& env, const std::string& table, const json& pk) {
  const auto* st = env.model().Find(table);
  if (!st) return std::nullopt;
  server::PgParams params;
  auto pkp = env.model().PkParam(*st, pk, &params);
  if (!pkp.ok()) return std::nullopt;
  const Table& t = *st->view;
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "r." : ", r.") + QuoteIdent(col.name);
  auto res = env.pg().Exec("SELECT " + cols + " FROM " + st->qname + " r WHERE " +
                               env.model().PkMatchExpression(*st, "r", *pkp),
                           params);
  if (!res.ok() || res->rows() == 0) return std::nullopt;
  json out = json::object();
  for (size_t j = 0; j < t.columns.size(); ++j) {
    int ci = static_cast<int>(j);
    if (res->is_null(0, ci)) {
      out[t.columns[j].name] = nullptr;
      continue;
    }
    auto v = PgTextToJson(t.columns[j].type, res->get(0, ci));
    out[t.columns[j].name] = v.ok() ? Norm(t.columns[j], *v) : json(nullptr);
  }
  return out;
}

// Additive columns' values at the start: table -> pk dump -> column -> value.
using AdditiveSnapshot = std::map<std::string, std::map<std::string, std::map<std::string, double>>>;

AdditiveSnapshot SnapshotAdditive(AppEnv& env) {
  AdditiveSnapshot snap;
  for (const auto& st : env.model().tables()) {
    const Table& t = *st.view;
    if (env.TriggerTable(t.name)) continue;
    std::vector<std::string> add;
    for (const auto& col : t.columns)
      if (IsAdditive(t, col.name) && !env.TriggerColumn(t.name, col.name)) add.push_back(col.name);
    if (add.empty()) continue;
    std::string cols;
    for (const auto& k : t.primary_key) cols += (cols.empty() ? "" : ", ") + QuoteIdent(k) + "::text";
    for (const auto& a : add) cols += ", " + QuoteIdent(a) + "::text";
    auto res = env.pg().Exec("SELECT " + cols + " FROM " + st.qname);
    if (!res.ok()) continue;
    const int nk = static_cast<int>(t.primary_key.size());
    for (int i = 0; i < res->rows(); ++i) {
      json pk = json::array();
      for (int k = 0; k < nk; ++k) {
        auto v = PgTextToJson(t.FindColumn(t.primary_key[static_cast<size_t>(k)])->type, res->get(i, k));
        pk.push_back(v.ok() ? *v : json(nullptr));
      }
      for (size_t a = 0; a < add.size(); ++a) {
        int ci = nk + static_cast<int>(a);
        if (res->is_null(i, ci)) continue;
        snap[t.name][pk.dump()][add[a]] = std::stod(std::string(res->get(i, ci)));
      }
    }
  }
  return snap;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// The harness

Harness::Harness(Options options) : options_(std::move(options)) {
  envs_.resize(options_.targets.size());
}

Harness::~Harness() = default;

AppEnv& Harness::Env(size_t target) {
  if (!envs_[target]) {
    auto env = std::make_unique<AppEnv>(options_.targets[target]);
    env->Setup();
    if (!env->trigger_note().empty() && options_.verbose)
      fprintf(stderr, "%s: existence-only/trigger columns: %s\n", env->target().name.c_str(),
              env->trigger_note().c_str());
    envs_[target] = std::move(env);
  }
  return *envs_[target];
}

uint64_t Harness::EpochStart(uint64_t seed) const {
  const uint64_t n = options_.targets.size();
  const uint64_t e = static_cast<uint64_t>(std::max(1, options_.epoch));
  // Rounds count from the run's first seed, so that a chain never includes seeds the run skipped.
  const uint64_t first = options_.first_seed;
  if (seed < first) return seed;
  const uint64_t round = (seed - first) / n;
  return first + (round - round % e) * n + (seed - first) % n;
}

ScenarioResult Harness::Run(uint64_t seed, bool fresh) {
  ScenarioResult result;
  result.seed = seed;
  const auto start = std::chrono::steady_clock::now();
  const size_t ti = static_cast<size_t>(seed % options_.targets.size());
  bool created = !envs_[ti];
  AppEnv& env = Env(ti);
  result.app = env.target().name;
  if (!created && (fresh || EpochStart(seed) == seed)) env.Reset();
  const double t_reset = Seconds(start);

  Rng rng(seed);
  Scenario sc;
  sc.env = &env;
  sc.rng = &rng;
  sc.result = &result;
  sc.verbose = options_.verbose;
  Generator gen{sc, env, rng};

  auto fail_out = [&](const std::string& why) {
    sc.Fail(why);
    result.seconds = Seconds(start);
    return result;
  };

  // Clients: 2-4, tenants and roles mixed where the rules allow.
  const int k = rng.Chance(0.25) ? 4 : rng.Range(2, 3);
  const auto& roles = env.view().roles;
  std::vector<std::string> writer_roles;
  for (const auto& role : roles)
    for (const auto& t : env.view().tables)
      if (!t.sync.read_only() && t.sync.may_write(role)) {
        writer_roles.push_back(role);
        break;
      }
  for (int i = 0; i < k; ++i) {
    auto c = std::make_unique<Client>();
    c->index = i;
    const auto& ts = env.tenants();
    c->tenant = i == 0 || rng.Chance(0.7) ? ts[0] : ts[rng.Below(ts.size())];
    if (!writer_roles.empty() && rng.Chance(0.85)) {
      c->role = rng.Pick(writer_roles);
    } else if (!roles.empty()) {
      c->role = rng.Pick(roles);
    }
    c->sub = rng.Pick(env.users(c->tenant));
    c->cli = options_.cli_clients && i == k - 1 && rng.Chance(options_.cli_share);
    result.cli_clients += c->cli ? 1 : 0;
    const bool set_role = rng.Chance(0.8) && !c->role.empty();
    c->golden_key = c->tenant + "\x1f" + c->sub + "\x1f" + c->role + (set_role ? "\x1f" "1" : "\x1f" "0");
    const std::string from = c->cli || !options_.reuse_stores ? "" : env.Golden(c->golden_key);
    try {
      c->tc = std::make_unique<NativeClient>(env.url(), env.Token(c->tenant, c->sub, c->role), c->cli,
                                             from);
    } catch (const std::exception& e) {
      return fail_out(std::string("client ") + std::to_string(i) + ": " + e.what());
    }
    c->transport = std::make_unique<FaultTransport>(&sc, c.get());
    c->needs_golden = !c->cli && options_.reuse_stores && from.empty();
    if (set_role && from.empty()) (void)c->tc->store().SetRole(c->role);
    sc.Note(std::string(c->cli ? "cli " : "") + "client " + std::to_string(i) + ": tenant " + c->tenant + " sub " + c->sub + " role " + c->role);
    sc.clients.push_back(std::move(c));
  }

  SyncOptions sync_options;
  sync_options.sleep = [](int) {};
  sync_options.max_attempts = 4;
  auto sync = [&](Client& c) -> Status {
    if (c.cli) {
      auto pushed = sc.CliSync(c);
      sc.NoteRejections(c);  // when the client learned them: later writes are independent
      sc.Note("cli client " + std::to_string(c.index) + " sync: " +
              (pushed.ok() ? "ok, " + std::to_string(*pushed) + " pending before"
                           : pushed.status().ToString()));
      return pushed.status();
    }
    auto r = SyncNow(c.tc->session(), *c.transport, sync_options);
    for (auto& remap : c.tc->session().TakeRemaps()) (void)remap;  // recorded from the answers
    sc.Note("client " + std::to_string(c.index) + " sync: " +
            (r.ok() ? "ok pushed " + std::to_string(r->pushed_transactions) + " rejected " +
                          std::to_string(r->rejected_transactions) + " rows " +
                          std::to_string(r->rows_received)
                    : r.status().ToString()));
    sc.NoteRejections(c);
    if (const char* trace = getenv("OUTPOST_CONV_TRACE_SQL")) {
      auto q = c.tc->store().Execute(trace);
      fprintf(stderr, "trace step %d client %d after sync: %s\n", sc.step, c.index,
              q.ok() ? q->rows.dump().c_str() : q.status().ToString().c_str());
    }
    return r.status();
  };

  const double t_clients = Seconds(start);
  for (auto& c : sc.clients) {
    Status s = sync(*c);
    if (!s.ok()) return fail_out("initial sync of client " + std::to_string(c->index) + ": " + s.ToString());
    if (c->needs_golden) env.SaveGolden(c->golden_key, c->tc->store());
  }
  AdditiveSnapshot snapshot = SnapshotAdditive(env);
  const double t_bootstrap = Seconds(start);

  // Faults for this scenario.
  sc.faults = rng.Chance(0.6);
  if (sc.faults) {
    sc.p_drop_request = 0.08 * static_cast<double>(rng.Below(3));
    sc.p_drop_answer = 0.08 * static_cast<double>(rng.Below(3));
    sc.p_dup = 0.1 * static_cast<double>(rng.Below(3));
    sc.p_delay = 0.12 * static_cast<double>(rng.Below(3));
    sc.p_stale = 0.12 * static_cast<double>(rng.Below(3));
  }
  const int steps = rng.Range(15, 40);
  const int restart_at = rng.Chance(0.04) ? rng.Range(0, steps - 1) : -1;
  const int pg_restart_at = rng.Chance(0.004) ? rng.Range(0, steps - 1) : -1;

  auto any_client = [&]() -> Client& { return *sc.clients[rng.Below(sc.clients.size())]; };
  auto other_client = [&](const Client& a) -> Client& {
    size_t j = static_cast<size_t>(a.index) + 1 + rng.Below(sc.clients.size() - 1);
    return *sc.clients[j % sc.clients.size()];
  };

  for (sc.step = 0; sc.step < steps; ++sc.step) {
    if (const char* watch = getenv("OUTPOST_CONV_WATCH")) {
      const auto* st = env.model().Find(watch);
      std::string line, e;
      for (auto& c : sc.clients)
        if (st) line += " " + std::to_string(ClientRows(*c, *st->view, &e).size()) + "/" +
                        std::to_string(ScopeRows(env, *c, *st, &e).size());
      fprintf(stderr, "watch step %d:%s\n", sc.step, line.c_str());
    }
    if (sc.step == restart_at) {
      sc.Note("server restart");
      if (options_.verbose) fprintf(stderr, "  server restart at step %d\n", sc.step);
      ++result.restarts;
      env.RestartServer();
    }
    if (sc.step == pg_restart_at) {
      sc.Note("PostgreSQL restart");
      if (options_.verbose) fprintf(stderr, "  PostgreSQL restart at step %d\n", sc.step);
      ++result.restarts;
      env.RestartPostgres();
    }
    const int roll = static_cast<int>(rng.Below(100));
    if (roll < 42) {
      gen.LocalTransaction(any_client());
    } else if (roll < 68) {
      (void)sync(any_client());
    } else if (roll < 74) {
      Client& c = any_client();
      c.offline_until = sc.step + rng.Range(2, 8);
      sc.Note("client " + std::to_string(c.index) + " offline until step " + std::to_string(c.offline_until));
    } else if (roll < 82) {
      gen.DirectWrite();
    } else if (roll < 88) {
      Client& a = any_client();
      gen.Collide(a, other_client(a));
    } else if (roll < 94) {
      Client& a = any_client();
      gen.FkRace(a, other_client(a));
    } else if (!sc.stash.empty()) {
      // A delayed push arrives late (after whatever the client did since).
      Stashed s = sc.stash.front();
      sc.stash.erase(sc.stash.begin());
      Client& c = *sc.clients[static_cast<size_t>(s.client)];
      sc.Note("client " + std::to_string(c.index) + ": delayed push replayed");
      FaultTransport direct(&sc, &c);
      std::vector<std::string> lines;
      std::string body;
      (void)direct.Deliver(s.request, &lines, &body);
    }
  }

  const double t_steps = Seconds(start);
  if (const char* watch = getenv("OUTPOST_CONV_WATCH")) {
    // Debugging aid: the watched table's rows per client against PostgreSQL.
    const auto* st = env.model().Find(watch);
    for (auto& c : sc.clients) {
      std::string e;
      if (st)
        fprintf(stderr, "watch client %d: %zu local, %zu expected\n", c->index,
                ClientRows(*c, *st->view, &e).size(), ScopeRows(env, *c, *st, &e).size());
    }
  }
  // End: delayed pushes arrive, faults off, everybody online, sync until quiet.
  for (auto& s : sc.stash) {
    Client& c = *sc.clients[static_cast<size_t>(s.client)];
    FaultTransport direct(&sc, &c);
    std::vector<std::string> lines;
    std::string body;
    (void)direct.Deliver(s.request, &lines, &body);
  }
  sc.stash.clear();
  sc.faults = false;
  sc.step = 1 << 30;
  for (auto& c : sc.clients) c->offline_until = -1;
  int quiet_passes = 0;
  for (int pass = 0; pass < 8 && quiet_passes < 2; ++pass) {
    int64_t pushed_total = 0;
    bool failed = false;
    for (auto& c : sc.clients) {
      if (c->cli) {
        auto pending = c->tc->session().status().pending_transactions;
        auto pushed = sc.CliSync(*c);
        sc.NoteRejections(*c);
        if (!pushed.ok()) {
          failed = true;
          sc.Note("final sync of cli client " + std::to_string(c->index) + ": " + pushed.status().ToString());
        }
        pushed_total += pending;
        continue;
      }
      auto r = SyncNow(c->tc->session(), *c->transport, sync_options);
      sc.NoteRejections(*c);
      if (const char* trace = getenv("OUTPOST_CONV_TRACE_SQL")) {
        auto q = c->tc->store().Execute(trace);
        fprintf(stderr, "trace final pass %d client %d: %s %s\n", pass, c->index,
                q.ok() ? q->rows.dump().c_str() : q.status().ToString().c_str(),
                r.ok() ? ("pushed " + std::to_string(r->pushed_transactions) + " rows " +
                          std::to_string(r->rows_received) + " deletes " +
                          std::to_string(r->deletes_received)).c_str()
                       : r.status().ToString().c_str());
      }
      if (!r.ok()) {
        sc.Note("final sync of client " + std::to_string(c->index) + ": " + r.status().ToString());
        failed = true;
        continue;
      }
      pushed_total += r->pushed_transactions + r->rejected_transactions;
    }
    quiet_passes = pushed_total == 0 && !failed ? quiet_passes + 1 : 0;
  }
  if (quiet_passes < 2) sc.Fail("the clients did not become quiet in 8 sync passes");

  const double t_quiet = Seconds(start);
  // (1) Every client equals PostgreSQL for its scope.
  for (auto& c : sc.clients) {
    auto st = c->tc->session().status();
    if (st.pending_mutations != 0)
      sc.Fail("client " + std::to_string(c->index) + ": " + std::to_string(st.pending_mutations) +
              " mutations still pending after the final syncs");
    // PostgreSQL's rows in the client's scope, per table (also to classify differences).
    std::map<std::string, json> expected_of;
    bool read_error = false;
    for (const auto& table : env.model().tables()) {
      std::string e;
      expected_of[table.name()] = ScopeRows(env, *c, table, &e);
      if (!e.empty()) {
        sc.Fail("client " + std::to_string(c->index) + " " + table.name() + ": " + e);
        read_error = true;
      }
    }
    if (read_error) continue;
    // Known product bugs (FINDINGS.md F1, F2): a row that differs while one of its ON DELETE
    // CASCADE parents is outside the client's scope.
    auto known_finding = [&](const Table& t, const json& row) -> bool {
      for (const auto& fk : t.foreign_keys) {
        if (fk.on_delete != FkAction::kCascade) continue;
        const Table* parent = env.view().FindTable(fk.ref_table);
        if (!parent) continue;
        json want = json::array();
        for (const auto& col : fk.columns)
          for (size_t ci = 0; ci < t.columns.size(); ++ci)
            if (t.columns[ci].name == col) want.push_back(row[ci]);
        bool has_null = false;
        for (const auto& v : want) has_null = has_null || v.is_null();
        if (has_null) continue;
        bool visible = false;
        for (const auto& prow : expected_of[parent->name]) {
          json got = json::array();
          for (const auto& col : fk.ref_columns)
            for (size_t ci = 0; ci < parent->columns.size(); ++ci)
              if (parent->columns[ci].name == col) got.push_back(prow[ci]);
          if (got == want) visible = true;
        }
        if (!visible) return true;
      }
      return false;
    };
    // Known bug F4: a row that arrived with a reference outside the scope was parked, and
    // parking cascaded to its children; it is back (dangling), they are not. Its trace: the
    // store has dangling references (PRAGMA foreign_key_check).
    bool dangling = false;
    {
      auto fk = c->tc->store().Execute("PRAGMA foreign_key_check");
      dangling = fk.ok() && !fk->rows.empty();
    }
    for (const auto& table : env.model().tables()) {
      std::string e1;
      json local = ClientRows(*c, *table.view, &e1);
      const json& expected = expected_of[table.name()];
      if (!e1.empty()) {
        sc.Fail("client " + std::to_string(c->index) + " " + table.name() + ": " + e1);
        continue;
      }
      if (local != expected) {
        std::string diff;
        int shown = 0;
        std::set<std::string> l, x;
        for (const auto& row : local) l.insert(row.dump());
        for (const auto& row : expected) x.insert(row.dump());
        // The key of a row as an array (for showing PostgreSQL's row whatever its scope).
        auto pk_of = [&](const std::string& dumped) {
          json row = json::parse(dumped), pk = json::array();
          for (const auto& k : table.view->primary_key)
            for (size_t ci = 0; ci < table.view->columns.size(); ++ci)
              if (table.view->columns[ci].name == k) pk.push_back(row[ci]);
          return pk;
        };
        int unexplained = 0, known = 0;
        // F4 with ON DELETE SET NULL (suspected, FINDINGS.md): the local row equals
        // PostgreSQL's but for SET NULL foreign key columns that are NULL locally.
        auto set_null_only = [&](const json& local_row) {
          const json pk = pk_of(local_row.dump());
          for (const auto& xs : x) {
            json pg_row = json::parse(xs);
            if (pk_of(xs) != pk) continue;
            bool only = true, any = false;
            for (size_t ci = 0; ci < table.view->columns.size() && only; ++ci) {
              if (local_row[ci] == pg_row[ci]) continue;
              bool set_null = false;
              for (const auto& fk : table.view->foreign_keys)
                if (fk.on_delete == FkAction::kSetNull &&
                    std::find(fk.columns.begin(), fk.columns.end(),
                              table.view->columns[ci].name) != fk.columns.end())
                  set_null = true;
              if (set_null && local_row[ci].is_null()) {
                any = true;
              } else {
                only = false;
              }
            }
            return only && any;
          }
          return false;
        };
        std::set<std::string> f4b_keys;
        for (const auto& s : l) {
          if (x.count(s)) continue;
          if (set_null_only(json::parse(s))) {
            f4b_keys.insert(pk_of(s).dump());
            ++known;
            if (shown++ < 3) diff += "\n    only local (known: F4, SET NULL): " + s;
            continue;
          }
          const bool k = known_finding(*table.view, json::parse(s));
          (k ? known : unexplained)++;
          if (shown++ < 3) {
            auto pg_row = PgRow(env, table.name(), pk_of(s));
            diff += std::string("\n    only local") + (k ? " (known: F2)" : "") + ": " + s +
                    "\n      PostgreSQL row (any scope): " +
                    (pg_row ? pg_row->dump() : std::string("none"));
          }
        }
        for (const auto& s : x) {
          if (l.count(s)) continue;
          if (f4b_keys.count(pk_of(s).dump())) continue;  // the other side of an F4 SET NULL row
          const bool f1 = known_finding(*table.view, json::parse(s));
          // F4: missing rows whose key no local row has (not a stale version of a local row).
          bool f4 = false;
          if (!f1 && dangling) {
            const json pk = pk_of(s);
            f4 = true;
            for (const auto& ls : l)
              if (pk_of(ls) == pk) f4 = false;
          }
          const bool k = f1 || f4;
          (k ? known : unexplained)++;
          if (shown++ < 6)
            diff += std::string("\n    only in PostgreSQL") +
                    (f1 ? " (known: F1)" : f4 ? " (known: F4)" : "") + ": " + s;
        }
        const std::string text = "client " + std::to_string(c->index) + " (" + c->role +
                                 ") differs from PostgreSQL in " + table.name() + ": " +
                                 std::to_string(local.size()) + " local rows, " +
                                 std::to_string(expected.size()) + " expected" + diff;
        if (unexplained > 0 || options_.strict_findings) {
          sc.Fail(text);
        } else {
          ++result.known_findings;
          sc.Note("known finding: " + text);
        }
      }
    }
  }

  // (2) Accountability.
  std::map<int, std::set<int64_t>> applied;
  for (auto& c : sc.clients) {
    auto rejections = c->tc->session().Rejections();
    if (!rejections.ok()) {
      sc.Fail("rejections: " + rejections.status().ToString());
      continue;
    }
    std::map<int64_t, const Rejection*> rejected;
    for (const auto& rj : *rejections) {
      if (rejected.count(rj.tx_id))
        sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(rj.tx_id) +
                ": rejection recorded twice");
      rejected[rj.tx_id] = &rj;
      if (rj.code.empty() || rj.message.empty())
        sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(rj.tx_id) +
                ": rejection without code or reason");
    }
    auto pending = c->tc->store().Execute("SELECT DISTINCT tx_id FROM _outpost_outbox WHERE checkpoint IS NULL");
    std::set<int64_t> still;
    if (pending.ok())
      for (const auto& row : pending->rows) still.insert(row[0].get<int64_t>());
    for (int64_t tx : c->committed) {
      const std::string who = "client " + std::to_string(c->index) + " tx " + std::to_string(tx);
      auto seen = c->seen_status.find(tx);
      if (still.count(tx)) {
        sc.Fail(who + ": still pending at the end");
      } else if (rejected.count(tx)) {
        ++result.rejected;
        if (seen != c->seen_status.end() && seen->second == "applied")
          sc.Fail(who + ": the server applied it but the client lists it as rejected (" +
                  rejected[tx]->code + ")");
      } else {
        ++result.applied;
        if (!c->delivered.count(tx))
          sc.Fail(who + ": left the outbox without a rejection but never reached the server");
        else if (seen != c->seen_status.end() && seen->second == "rejected")
          sc.Fail(who + ": the server rejected it but the client has no rejection for it");
        applied[c->index].insert(tx);
      }
    }
  }

  // Dependent transactions (the API being added): a rejection `dependent` names an earlier
  // rejected transaction of the same client; and an applied transaction that was still pending
  // when an earlier transaction of the same client touching the same row was rejected should
  // have been rejected as dependent.
  if constexpr (kRejectionHasDependsOn<Rejection>) {
    for (auto& c : sc.clients) {
      auto rejections = c->tc->session().Rejections();
      if (!rejections.ok()) continue;
      std::map<int64_t, const Rejection*> by_tx;
      for (const auto& rj : *rejections) by_tx[rj.tx_id] = &rj;
      for (const auto& rj : *rejections) {
        const std::string who = "client " + std::to_string(c->index) + " tx " + std::to_string(rj.tx_id);
        const int64_t dep = DependsOn(rj);
        if (rj.code == "dependent") {
          if (dep == 0 || dep >= rj.tx_id || !by_tx.count(dep))
            sc.Fail(who + ": dependent rejection names " + std::to_string(dep) +
                    ", not an earlier rejected transaction of the client");
        } else if (dep != 0) {
          sc.Fail(who + ": rejection " + rj.code + " with depends_on " + std::to_string(dep));
        }
      }
      // Rows (table + key) each rejected transaction touched, from what it pushed.
      for (const auto& rj : *rejections) {
        if (!rj.mutations.is_array()) continue;
        std::set<std::string> rows;
        for (const auto& m : rj.mutations)
          rows.insert(m.value("table", "") + "\x1f" + m.value("pk", json::array()).dump());
        for (const auto& e : sc.events) {
          if (e.client != c->index || e.tx_id <= rj.tx_id || !applied[c->index].count(e.tx_id)) continue;
          if (!rows.count(e.table + "\x1f" + e.pk.dump())) continue;
          auto committed = c->committed_at.find(e.tx_id);
          auto seen = c->rejected_at.find(rj.tx_id);
          if (committed == c->committed_at.end() || seen == c->rejected_at.end()) continue;
          if (committed->second < seen->second)
            sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(e.tx_id) +
                    " touched " + e.table + " " + e.pk.dump() + " like rejected tx " +
                    std::to_string(rj.tx_id) + " (" + rj.code +
                    ") and was pending then, yet applied instead of rejected as dependent");
        }
      }
    }
  }

  // The applied timeline, with temporary keys replaced by the server's.
  std::vector<Event> timeline;
  for (auto e : sc.events) {
    if (e.client >= 0) {
      if (!applied[e.client].count(e.tx_id)) continue;
      Client& c = *sc.clients[static_cast<size_t>(e.client)];
      auto remap = c.remaps.find(e.table + "\x1f" + e.pk.dump());
      if (remap != c.remaps.end()) e.pk = remap->second;
      const Table* full = env.Full(e.table);
      if (full) {
        for (const auto& fk : full->foreign_keys) {
          if (fk.columns.size() != 1 || !e.new_values.contains(fk.columns[0])) continue;
          const json& v = e.new_values[fk.columns[0]];
          auto m = c.remaps.find(fk.ref_table + "\x1f" + json::array({v}).dump());
          if (m != c.remaps.end() && !m->second.empty()) e.new_values[fk.columns[0]] = m->second[0];
        }
      }
    }
    timeline.push_back(std::move(e));
  }
  std::sort(timeline.begin(), timeline.end(), [](const Event& a, const Event& b) { return a.order < b.order; });

  // Notices kept by the stores (the API being added), per client and tx.
  std::map<int, std::map<int64_t, std::vector<json>>> stored_notices;
  for (auto& c : sc.clients) {
    auto stored = StoredNotices(c->tc->store());
    if (!stored) continue;
    for (const auto& n : *stored) stored_notices[c->index][n.value("tx_id", int64_t{0})].push_back(n);
    // Every notice the server sent a native client is kept by it (until dismissed; the harness
    // never dismisses).
    if (!c->cli)
      for (const auto& [tx, list] : c->notices)
        for (const auto& n : list) {
          bool kept = false;
          for (const auto& k : stored_notices[c->index][tx])
            kept = kept || (k.value("code", "") == n.value("code", "") &&
                            k.value("table", "") == n.value("table", "") &&
                            k.value("pk", json()) == n.value("pk", json()));
          if (!kept)
            sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(tx) +
                    ": the server's notice " + n.dump() + " is not in the store's notices");
        }
  }
  auto has_notice = [&](const Event& e, const std::string& code, const std::string& col) {
    if (e.client < 0) return false;
    Client& c = *sc.clients[static_cast<size_t>(e.client)];
    std::vector<json> all;
    auto it = c.notices.find(e.tx_id);
    if (it != c.notices.end()) all = it->second;
    for (const auto& n : stored_notices[c.index][e.tx_id]) all.push_back(n);
    for (const auto& n : all) {
      if (n.value("code", "") != code || n.value("table", "") != e.table) continue;
      // A notice is about one row: another row of the same table in the same transaction (a
      // delete that lost to another client's delete beside an additive update) is not explained
      // by it (soak seed 21299).
      if (n.contains("pk") && n["pk"].is_array() && n["pk"] != e.pk) continue;
      if (col.empty()) return true;
      if (!n.contains("columns")) return true;
      for (const auto& x : n["columns"])
        if (x == col) return true;
    }
    return false;
  };
  // With the reconciliation API the server reports `superseded`: a value that did not land
  // needs a later write or a notice. Without it, an earlier write to the same column may have
  // won silently (lww clock, server_wins), so that also explains a missing value.
  constexpr bool strict = kStoreHasNotices<Store>;

  std::map<std::string, std::optional<json>> final_rows;
  auto final_row = [&](const std::string& table, const json& pk) -> const std::optional<json>& {
    std::string key = table + "\x1f" + pk.dump();
    auto it = final_rows.find(key);
    if (it == final_rows.end()) it = final_rows.emplace(key, PgRow(env, table, pk)).first;
    return it->second;
  };

  for (size_t i = 0; i < timeline.size(); ++i) {
    const Event& e = timeline[i];
    if (e.client < 0 || e.op == 'D') continue;
    const Table* t = env.view().FindTable(e.table);
    if (!t) continue;
    // A CLI client's writes: its notices are only known from its store, its remaps not at all.
    if (e.unverified && (!kStoreHasNotices<Store> || t->has_serial_key())) continue;
    const std::string who = "client " + std::to_string(e.client) + " tx " + std::to_string(e.tx_id) +
                            " " + (e.op == 'I' ? "insert" : "update") + " " + e.table + " " + e.pk.dump();
    bool later_delete = false;
    for (size_t j = i + 1; j < timeline.size(); ++j)
      if (timeline[j].op == 'D') later_delete = true;
    auto row = final_row(e.table, e.pk);
    if (!row) {
      if (!later_delete && !has_notice(e, "row_deleted", "") && e.op != 'I')
        sc.Fail(who + ": row absent from PostgreSQL, no later delete and no row_deleted notice");
      if (!later_delete && e.op == 'I' && !has_notice(e, "row_deleted", ""))
        sc.Fail(who + ": inserted row absent from PostgreSQL and no later delete");
      continue;
    }
    if (env.TriggerTable(e.table)) continue;  // existence only
    const std::string& role = sc.clients[static_cast<size_t>(e.client)]->role;
    for (auto& [col, value] : e.new_values.items()) {
      const Column* column = t->FindColumn(col);
      if (!column || column->generated || t->IsServerKeyColumn(col) || IsAdditive(*t, col)) continue;
      if (env.TriggerColumn(e.table, col)) continue;
      if (e.op == 'I' && !t->sync.may_set(role, col, WriteKind::kInsert)) continue;
      if (e.op == 'I' && value.is_number_integer() && value.get<int64_t>() < 0 && column->serial) continue;
      const json want = Norm(*column, value);
      const json have = (*row).value(col, json());
      if (SameValue(want, have)) continue;
      bool covered = has_notice(e, "superseded", col) || has_notice(e, "merged", "") ||
                     has_notice(e, "row_deleted", "");
      for (size_t j = 0; j < timeline.size() && !covered; ++j) {
        const Event& o = timeline[j];
        if (j == i) continue;
        const bool same_row = o.table == e.table && o.pk == e.pk;
        if (j > i) {
          if (same_row && (o.op == 'D' || o.new_values.contains(col))) covered = true;
          // ON DELETE SET NULL / SET DEFAULT of a referenced row deleted later.
          if (o.op == 'D') {
            const Table* full = env.Full(e.table);
            if (full)
              for (const auto& fk : full->foreign_keys)
                if (fk.ref_table == o.table &&
                    std::find(fk.columns.begin(), fk.columns.end(), col) != fk.columns.end())
                  covered = true;
          }
        } else if (!strict && same_row && o.new_values.contains(col)) {
          covered = true;  // an earlier write with a newer clock, or server_wins
        }
      }
      if (!covered)
        sc.Fail(who + ": column " + col + " = " + want.dump() + " is not in PostgreSQL (" +
                have.dump() + ") and no later write or notice explains it");
    }
  }

  // (3) Nothing applied twice: additive columns = start + applied deltas.
  for (const auto& [table, rows] : snapshot) {
    const Table* t = env.view().FindTable(table);
    for (const auto& [pkdump, cols] : rows) {
      json pk = json::parse(pkdump);
      for (const auto& [col, start_value] : cols) {
        double sum = start_value;
        bool exact = true;
        for (const auto& e : timeline) {
          if (e.table != table || e.pk != pk) continue;
          if (e.op != 'U') {
            exact = false;
            continue;
          }
          if (!e.new_values.contains(col)) continue;
          if (e.delta) {
            sum += e.new_values[col].get<double>();
            continue;
          }
          auto n = NumberOf(e.new_values[col]);
          auto o = NumberOf(e.old_values.value(col, json()));
          if (!n || !o) {
            exact = false;
            continue;
          }
          if (has_notice(e, "row_deleted", "")) continue;
          sum += *n - *o;
        }
        if (!exact) continue;
        auto row = final_row(table, pk);
        if (!row) continue;
        auto have = NumberOf((*row).value(col, json()));
        if (!have || std::fabs(*have - sum) > 1e-6 * std::max(1.0, std::fabs(sum)))
          sc.Fail("additive " + table + "." + col + " " + pkdump + ": PostgreSQL has " +
                  (have ? std::to_string(*have) : std::string("NULL")) + ", start " +
                  std::to_string(start_value) + " plus applied deltas gives " + std::to_string(sum));
        (void)t;
      }
    }
  }

  if (options_.verbose)
    fprintf(stderr, "  timing: reset %.3f setup %.3f bootstrap %.3f steps %.3f quiet %.3f checks %.3f\n", t_reset, t_clients - t_reset,
            t_bootstrap - t_clients, t_steps - t_bootstrap, t_quiet - t_steps, Seconds(start) - t_quiet);
  if (getenv("OUTPOST_CONV_LOG"))
    for (const auto& l : sc.log) fprintf(stderr, "log %s\n", l.c_str());
  if (!result.ok) {
    for (const auto& l : sc.log) result.failures.push_back("  log " + l);
  }
  result.seconds = Seconds(start);
  return result;
}

}  // namespace outpost::convergence
