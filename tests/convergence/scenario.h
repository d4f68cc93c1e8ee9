// Internals of the convergence harness (harness.h, docs/convergence.md), shared by its files:
//   support.cc    small helpers: values, the `outpost` CLI, time
//   app_env.cc    AppEnv: per target, the database, its server and its model
//   clients.cc    NativeClient, what a Scenario records, FaultTransport
//   generator.cc  Generator: the random writes of a scenario
//   checks.cc     reading rows, and the checks at the end of a scenario
//   harness.cc    Harness: driving a scenario
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog.h"
#include "harness.h"
#include "http_transport.h"
#include "model.h"
#include "outpost/store.h"
#include "outpost/sync_round.h"
#include "pg.h"
#include "server_process.h"

namespace outpost::convergence {

using json = nlohmann::json;
using testing::ServerProcess;

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
  int Range(int lo, int hi) {
    return lo + static_cast<int>(Below(static_cast<uint64_t>(hi - lo + 1)));
  }
  bool Chance(double p) { return static_cast<double>(Next() >> 11) * 0x1.0p-53 < p; }
  template <class T>
  const T& Pick(const std::vector<T>& v) {
    return v[Below(v.size())];
  }

 private:
  uint64_t s_;
};

// ---------------------------------------------------------------------------------------------
// Helpers (support.cc).

// A random version 4 UUID, drawn from `r`.
std::string Uuid(Rng& r);
// `v` with at least two digits ("07").
std::string Pad2(int v);
// Integer parameters in a PostgreSQL type text: "numeric(10,2)" -> {10, 2}.
std::vector<int> TypeArgs(const std::string& pg_type);
// Column `c` of `t` has the additive conflict policy.
bool IsAdditive(const Table& t, const std::string& c);
// Column `c` is part of t's primary key.
bool IsKey(const Table& t, const std::string& c);
// The tenant column of a table's own scope ("" if none).
std::string TenantColumn(const Table& t);
// Integer, numeric or real.
bool IsNumericKind(TypeKind k);
// A number, a boolean (1 or 0) or a string holding a number, as a double; nullopt otherwise.
std::optional<double> NumberOf(const json& v);
// A value in one comparable form for its column: the local value re-encoded, JSON columns parsed,
// numbers as doubles.
json Norm(const Column& c, const json& v);
// Equal values, numbers up to a relative 1e-6.
bool SameValue(const json& a, const json& b);
// Seconds elapsed since `since`.
double Seconds(std::chrono::steady_clock::time_point since);
// The `outpost` CLI with arguments, as a shell command.
std::string CliCommand(const std::vector<std::string>& args);
// Runs a shell command; returns its exit status, its output (stdout and stderr) in *out.
int RunCommand(const std::string& command, std::string* out);

// ---------------------------------------------------------------------------------------------
// Per target: the database, the server, the model and what was discovered from them
// (app_env.cc).

class AppEnv {
 public:
  explicit AppEnv(Target target) : target_(std::move(target)) {}

  // Loads the template database, copies it, starts the server, builds the model and discovers
  // tenants, users and user triggers.
  void Setup();

  // Fresh copy of the template under a stopped server.
  void Reset();

  void RestartServer();

  void RestartPostgres();

  // The connection to the database, reconnected when broken or cut by a PostgreSQL restart.
  server::PgConnection& pg();

  // Waits until every transaction committed before the call is below the pull watermark (the
  // cluster's snapshot xmin, pull.cc): while any older transaction of the cluster is open (the
  // servers of the other targets share it and write now and then), the server holds newer
  // changes back from pulls, and under load such a window can outlast the final sync passes,
  // which would then compare clients that are merely behind. False after `max_seconds`.
  bool WaitForWatermark(double max_seconds);

  const Target& target() const { return target_; }
  const std::string& url() const { return server_->url(); }
  const std::string& db_url() const { return db_url_; }
  const server::ServerModel& model() const { return *model_; }
  const Schema& view() const { return model_->view(); }
  const std::vector<std::string>& tenants() const { return tenants_; }
  // The users of a tenant (a placeholder user when none was found).
  const std::vector<std::string>& users(const std::string& tenant) const;
  // Tables a user trigger may rewrite (whole rows: existence only) and columns a trigger rewrites
  // on its own table.
  bool TriggerTable(const std::string& t) const { return trigger_tables_.count(t) > 0; }
  bool TriggerColumn(const std::string& t, const std::string& c) const {
    return trigger_columns_.count(t + "." + c) > 0;
  }
  const std::string& trigger_note() const { return trigger_note_; }
  // Bootstrapped store files per principal, copied by later scenarios of the same epoch (a fresh
  // database invalidates them).
  std::string Golden(const std::string& key) const;
  void SaveGolden(const std::string& key, Store& store);
  void DropGoldens();
  ~AppEnv();

  // Tokens are minted by a child process (`outpost-server token`): once per principal.
  const std::string& Token(const std::string& tenant, const std::string& sub,
                           const std::string& role);
  // The full (described) table behind a synced table; nullptr when `table` is not synced.
  const Table* Full(const std::string& table) const;

 private:
  static std::string Quote(const std::string& s);

  void CopyTemplate();

  void Connect();

  void BuildModel();

  std::vector<std::string> Column0(const std::string& sql, const server::PgParams& params = {});

  void Discover();

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

// ---------------------------------------------------------------------------------------------
// The timeline: every write the server applied, in the order the harness made it reach the
// server (the harness is single-threaded, so that is the server's order).

// A field client: a Store in its own temporary directory (not fsynced: the harness does not
// simulate OS crashes, and fsyncs would dominate the scenario's time), the real HttpTransport and
// a SyncSession (clients.cc).
class NativeClient {
 public:
  // `cli`: the store is the `outpost` CLI's (initialised and bootstrapped by `outpost init
  // --sync`); this process only reads it (and records the role), the CLI writes and syncs.
  // `from`: a copy of this store file (bootstrapped earlier for the same principal) is opened
  // under a new client id, and catches up by incremental pulls instead of a bootstrap.
  NativeClient(const std::string& url, const std::string& token, bool cli = false,
               const std::string& from = "");
  ~NativeClient();
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
  bool delta = false;       // direct write: new_values hold additive deltas
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
  std::set<int64_t> committed;                 // tx ids of transactions the harness committed
  int64_t last_tx = 0;                         // highest tx id seen in the outbox
  std::set<int64_t> delivered;                 // tx ids that reached the server
  std::map<int64_t, std::string> seen_status;  // server results seen: applied / rejected
  std::map<int64_t, std::vector<json>> notices;
  std::map<std::string, json> remaps;  // table + "\x1f" + from.dump() -> to
  std::vector<std::string> last_push_answer;
  std::map<int64_t, int64_t> committed_at;  // tx id -> harness order when committed
  std::map<int64_t, int64_t> rejected_at;   // tx id -> harness order when first listed rejected
  std::string golden_key;     // principal (and whether the role is recorded in the store)
  bool needs_golden = false;  // bootstrapped from scratch: keep a copy for later scenarios
};

struct Stashed {
  int client;
  HttpRequest request;
};

// One scenario's state and records (its methods are in clients.cc).
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

  // Adds a line to the scenario's log (the first 400).
  void Note(const std::string& s);
  // Fails the scenario (the first 40 failures are kept).
  void Fail(const std::string& s);

  // When each rejection was first seen in the client's store (after a sync).
  void NoteRejections(Client& c);

  // A CLI client syncs with `outpost sync`: what it pushes is what is pending now.
  Result<int64_t> CliSync(Client& c);

  // Records a push request that reached the server and the answer it gave.
  void RecordPush(Client& c, const HttpRequest& req, int status,
                  const std::vector<std::string>& lines);
};

// ---------------------------------------------------------------------------------------------
// The fault-injecting transport around a client's real HttpTransport (clients.cc).

class FaultTransport : public Transport {
 public:
  FaultTransport(Scenario* sc, Client* c) : sc_(sc), c_(c) {}

  // Sends to the real server, buffering the answer; records pushes.
  Result<int> Deliver(const HttpRequest& req, std::vector<std::string>* lines, std::string* body);

  Result<int> Send(const HttpRequest& req,
                   const std::function<Status(std::string_view line)>& on_line,
                   std::string* error_body) override;

 private:
  static bool IsPush(const HttpRequest& req);
  void Fault(const std::string& what);
  Scenario* sc_;
  Client* c_;
};

// ---------------------------------------------------------------------------------------------
// The random operations of a scenario (generator.cc): writes through the clients' stores (plain
// SQL, or the `outpost` CLI for a CLI client) and through PostgreSQL, drawn from `r` and noted in
// `sc`.

class Generator {
 public:
  Generator(Scenario& sc, AppEnv& env, Rng& r);
  ~Generator();
  // One local transaction of 1-3 random writes.
  void LocalTransaction(Client& c);
  // Two clients insert rows agreeing on a unique constraint (or on the key of a merging table).
  void Collide(Client& a, Client& b);
  // A deletes a parent row while B, offline, adds a child referencing it.
  void FkRace(Client& a, Client& b);
  // A write through another PostgreSQL backend to a row in client 0's scope.
  void DirectWrite();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// ---------------------------------------------------------------------------------------------
// Reading rows, and the checks at the end of a scenario (checks.cc).

// The client's rows of `t` (arrays of normalised values in column order), sorted; on an error,
// an empty array and *error set.
json ClientRows(Client& c, const Table& t, std::string* error);
// PostgreSQL's rows of `st` in the client's scope, in the same form.
json ScopeRows(AppEnv& env, Client& c, const server::SyncedTable& st, std::string* error);

// Additive columns' values at the start: table -> pk dump -> column -> value.
using AdditiveSnapshot =
    std::map<std::string, std::map<std::string, std::map<std::string, double>>>;

// The additive columns' values now (outside the tables and columns user triggers write).
AdditiveSnapshot SnapshotAdditive(AppEnv& env);

// The checks once the clients are quiet (docs/convergence.md): every client equals PostgreSQL
// for its scope; every committed transaction is applied or rejected, consistently with what the
// server answered; dependent rejections; every applied value is in PostgreSQL or a later write or
// a notice explains it; additive columns are their `snapshot` plus the applied deltas. Failures
// go to sc.Fail, counts to *sc.result.
void CheckScenario(Scenario& sc, AppEnv& env, const AdditiveSnapshot& snapshot,
                   const Options& options);

}  // namespace outpost::convergence
