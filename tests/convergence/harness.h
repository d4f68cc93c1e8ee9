// The convergence harness (docs/convergence.md): randomized, seeded scenarios of offline clients,
// faults and direct PostgreSQL writes against a real outpost-server, then checks that everybody
// converged and that every local write is accounted for.
//
// Everything here is generic: tables, columns, keys, references, tenants, users and conflict
// policies come from the server's model of the database (DescribeDatabase + the rules file),
// never from per-app code.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "model.h"
#include "pg.h"
#include "server_process.h"

namespace outpost::convergence {

// One database + rules file under test.
struct Target {
  std::string name;       // label (a seed app's name, or "external")
  std::string app;        // seed app to load (empty: an existing database)
  std::string db_url;     // filled for external databases; LoadApp's URL otherwise
  std::string rules;      // rules file path
  int rows = 40;          // sample data size for seed apps
};

struct Options {
  uint64_t first_seed = 1;
  int scenarios = 0;               // 0: the default set
  bool single = false;             // --seed S: exactly one scenario (on a fresh database)
  uint64_t seed = 0;
  int epoch = 10;                  // reset the database every `epoch` scenarios of an app
  std::vector<Target> targets;
  bool verbose = false;
  bool cli_clients = true;         // some scenarios have an `outpost` CLI client
  double cli_share = 0.08;         // ... this share of them
  bool reuse_stores = true;        // clients start from a copy of a bootstrapped store
  double budget_seconds = 0;       // stop starting scenarios after this long (0: no limit)
  // Known product bugs (FINDINGS.md) fail scenarios too. Both known ones are fixed: on by default;
  // --lenient-findings counts such differences instead, to look past a new one while it is open.
  bool strict_findings = true;
};

// Per-target state kept across scenarios: the database, its server, the model.
class AppEnv;

struct ScenarioResult {
  uint64_t seed = 0;
  std::string app;
  bool ok = true;
  std::vector<std::string> failures;
  double seconds = 0;
  // counters for the summary
  int64_t local_tx = 0, applied = 0, rejected = 0, refused_locally = 0, direct_writes = 0,
          faults = 0, restarts = 0, known_findings = 0, cli_clients = 0;
};

class Harness {
 public:
  explicit Harness(Options options);
  ~Harness();
  // Runs scenario `seed` (its app is chosen by the seed), resetting the app's database first when
  // `fresh` or at an epoch boundary.
  ScenarioResult Run(uint64_t seed, bool fresh);
  const Options& options() const { return options_; }
  size_t target_count() const { return options_.targets.size(); }
  // The first seed of the chain that reproduces `seed` exactly (its epoch's start).
  uint64_t EpochStart(uint64_t seed) const;

 private:
  AppEnv& Env(size_t target);
  Options options_;
  std::vector<std::unique_ptr<AppEnv>> envs_;
};

}  // namespace outpost::convergence
