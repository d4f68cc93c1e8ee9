// convergence_tests: randomized, seeded reconciliation scenarios (docs/convergence.md).
//
//   convergence_tests                      the CI set: 200 scenarios over the five seed apps
//   convergence_tests --scenarios N        N scenarios (scripts/soak.sh)
//   convergence_tests --seed S             exactly scenario S, on a fresh copy of its database
//   convergence_tests --replay S           the chain of scenarios since S's last database reset,
//                                          then S: what the soak ran, state for state
//   --first-seed B   seeds B, B+1, ... (default 1)      --epoch E   reset each database every E
//   --apps a,b       seed apps to use                   --rows N    sample data size (default 40)
//   --db URL --rules FILE   an existing database and its rules instead of the seed apps
//   --budget SECONDS        start no scenario after this long     --verbose   per scenario line
//   --strict-findings       differences explained by known bugs (FINDINGS.md) fail too (default)
//   --lenient-findings      such differences are counted, not failed
//   --no-cli                no scenario uses the `outpost` CLI as a client
//   --cli-share P           share of scenarios with a CLI client (default 0.08)
//   --fresh-stores          every client bootstraps (default: a copy of a store bootstrapped
//                           for the same principal earlier in the epoch, under a new client id)
// The same settings as environment variables: OUTPOST_CONV_SEED, OUTPOST_CONV_SCENARIOS,
// OUTPOST_CONV_FIRST_SEED, OUTPOST_CONV_EPOCH. Other arguments go to Catch2.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "harness.h"
#include "pg_cluster.h"

namespace {

outpost::convergence::Options g_options;
bool g_replay = false;
// SIGINT/SIGTERM: finish the running scenario, then stop (so that servers and the PostgreSQL
// cluster are shut down; a killed process would leave them running).
volatile std::sig_atomic_t g_stop = 0;
extern "C" void OnStopSignal(int) { g_stop = 1; }
uint64_t g_replay_seed = 0;

std::vector<std::string> Split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string part;
  while (std::getline(ss, part, ','))
    if (!part.empty()) out.push_back(part);
  return out;
}

}  // namespace

TEST_CASE("clients converge and account for every write under faults", "[convergence]") {
  using namespace outpost::convergence;
  Harness harness(g_options);
  const auto& o = harness.options();
  std::vector<uint64_t> seeds;
  double budget = o.budget_seconds;
  if (o.single) {
    seeds.push_back(o.seed);
  } else if (g_replay) {
    for (uint64_t s = harness.EpochStart(g_replay_seed); s <= g_replay_seed; s += o.targets.size())
      seeds.push_back(s);
  } else {
    const int n = o.scenarios > 0 ? o.scenarios : 200;
    // The default (CI) set stays within about four minutes even on busy machines: it stops
    // starting scenarios after 210 s (the summary line says how many ran).
    if (o.scenarios <= 0 && o.budget_seconds <= 0) budget = 210;
    for (int i = 0; i < n; ++i) seeds.push_back(o.first_seed + static_cast<uint64_t>(i));
  }
  const auto start = std::chrono::steady_clock::now();
  int run = 0, failed = 0;
  int64_t applied = 0, rejected = 0, local = 0, refused = 0, direct = 0, faults = 0, restarts = 0,
          known = 0, cli = 0;
  std::vector<uint64_t> failing;
  double slowest = 0;
  for (size_t i = 0; i < seeds.size(); ++i) {
    const double elapsed =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (budget > 0 && elapsed > budget) break;
    if (g_stop) {
      fprintf(stderr, "stopped by a signal\n");
      break;
    }
    ScenarioResult r;
    try {
      r = harness.Run(seeds[i], /*fresh=*/o.single || (g_replay && i == 0));
    } catch (const std::exception& e) {
      r.seed = seeds[i];
      r.ok = false;
      r.failures.push_back(std::string("exception: ") + e.what());
    }
    ++run;
    applied += r.applied;
    rejected += r.rejected;
    local += r.local_tx;
    refused += r.refused_locally;
    direct += r.direct_writes;
    faults += r.faults;
    restarts += r.restarts;
    known += r.known_findings;
    cli += r.cli_clients;
    slowest = std::max(slowest, r.seconds);
    if (o.verbose)
      fprintf(stderr, "seed %llu %-10s %s %.2fs tx %lld applied %lld rejected %lld faults %lld%s%s\n",
              static_cast<unsigned long long>(r.seed), r.app.c_str(), r.ok ? "ok  " : "FAIL",
              r.seconds, static_cast<long long>(r.local_tx), static_cast<long long>(r.applied),
              static_cast<long long>(r.rejected), static_cast<long long>(r.faults),
              r.cli_clients ? " (cli client)" : "", r.restarts ? " (restart)" : "");
    if (!o.verbose && run % 250 == 0)
      fprintf(stderr, "progress: %d scenarios, %d failed, %.0f s\n", run, failed + (r.ok ? 0 : 1),
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    if (!r.ok) {
      ++failed;
      failing.push_back(r.seed);
      std::string text = "scenario seed " + std::to_string(r.seed) + " (" + r.app + ") FAILED\n";
      text += "  replay: convergence_tests --seed " + std::to_string(r.seed) +
              "   (exact chain: --replay " + std::to_string(r.seed) + " --first-seed " +
              std::to_string(o.first_seed) + " --epoch " + std::to_string(o.epoch) + ")\n";
      std::string log;
      for (const auto& f : r.failures) (f.rfind("  log ", 0) == 0 ? log : text) += "  " + f + "\n";
      fprintf(stderr, "%s%s", text.c_str(), log.c_str());
      UNSCOPED_INFO(text);
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string failing_list;
  for (size_t i = 0; i < failing.size() && i < 50; ++i) failing_list += " " + std::to_string(failing[i]);
  fprintf(stderr,
          "convergence: %d scenarios, %d failed, %.1f s (%.3f s/scenario, %.2f scenarios/s, slowest "
          "%.2f s), seeds %llu..%llu; local tx %lld (applied %lld, rejected %lld), refused locally "
          "%lld, direct writes %lld, faults %lld, restarts %lld, cli clients %lld, differences from known bugs (FINDINGS.md) "
          "%lld%s%s\n",
          run, failed, seconds, run ? seconds / run : 0.0, run ? run / seconds : 0.0, slowest,
          static_cast<unsigned long long>(seeds.empty() ? 0 : seeds.front()),
          static_cast<unsigned long long>(run ? seeds[static_cast<size_t>(run - 1)] : 0),
          static_cast<long long>(local), static_cast<long long>(applied),
          static_cast<long long>(rejected), static_cast<long long>(refused),
          static_cast<long long>(direct), static_cast<long long>(faults),
          static_cast<long long>(restarts), static_cast<long long>(cli), static_cast<long long>(known), failing.empty() ? "" : "; failing seeds:",
          failing_list.c_str());
  CHECK(failed == 0);
}

int main(int argc, char** argv) {
  using outpost::convergence::Target;
  auto& o = g_options;
  std::vector<std::string> apps = {"selly", "erp", "ncy8", "gemini_crm", "gogotime"};
  std::string db, rules;
  int rows = 40;
  auto env = [](const char* name) -> const char* { return std::getenv(name); };
  if (env("OUTPOST_CONV_SEED")) {
    o.single = true;
    o.seed = std::strtoull(env("OUTPOST_CONV_SEED"), nullptr, 10);
  }
  if (env("OUTPOST_CONV_SCENARIOS")) o.scenarios = std::atoi(env("OUTPOST_CONV_SCENARIOS"));
  if (env("OUTPOST_CONV_FIRST_SEED")) o.first_seed = std::strtoull(env("OUTPOST_CONV_FIRST_SEED"), nullptr, 10);
  if (env("OUTPOST_CONV_EPOCH")) o.epoch = std::atoi(env("OUTPOST_CONV_EPOCH"));
  std::vector<char*> rest = {argv[0]};
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        fprintf(stderr, "%s needs a value\n", a.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--seed") {
      o.single = true;
      o.seed = std::stoull(value());
    } else if (a == "--replay") {
      g_replay = true;
      g_replay_seed = std::stoull(value());
    } else if (a == "--scenarios") {
      o.scenarios = std::stoi(value());
    } else if (a == "--first-seed") {
      o.first_seed = std::stoull(value());
    } else if (a == "--epoch") {
      o.epoch = std::stoi(value());
    } else if (a == "--apps") {
      apps = Split(value());
    } else if (a == "--rows") {
      rows = std::stoi(value());
    } else if (a == "--db") {
      db = value();
    } else if (a == "--rules") {
      rules = value();
    } else if (a == "--budget") {
      o.budget_seconds = std::stod(value());
    } else if (a == "--no-cli") {
      o.cli_clients = false;
    } else if (a == "--cli-share") {
      o.cli_share = std::stod(value());
    } else if (a == "--fresh-stores") {
      o.reuse_stores = false;
    } else if (a == "--strict-findings") {
      o.strict_findings = true;
    } else if (a == "--lenient-findings") {
      o.strict_findings = false;
    } else if (a == "--verbose") {
      o.verbose = true;
    } else {
      rest.push_back(argv[i]);
    }
  }
  if (!db.empty() || !rules.empty()) {
    if (db.empty() || rules.empty()) {
      fprintf(stderr, "--db and --rules go together\n");
      return 2;
    }
    o.targets.push_back(Target{"external", "", db, rules, rows});
  } else {
    for (const auto& app : apps) o.targets.push_back(Target{app, app, "", app, rows});
  }
  // SA_RESTART: blocking reads elsewhere (the servers' log readers, HTTP) carry on.
  struct sigaction sa {};
  sa.sa_handler = OnStopSignal;
  sa.sa_flags = SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  return Catch::Session().run(static_cast<int>(rest.size()), rest.data());
}
