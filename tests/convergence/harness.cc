// The convergence harness: see harness.h and docs/convergence.md. Driving a scenario; its pieces
// are in scenario.h.
#include "harness.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

#include "scenario.h"

namespace outpost::convergence {

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
    c->golden_key = c->tenant + "\x1f" + c->sub + "\x1f" + c->role +
                    (set_role ? "\x1f"
                                "1"
                              : "\x1f"
                                "0");
    const std::string from = c->cli || !options_.reuse_stores ? "" : env.Golden(c->golden_key);
    try {
      c->tc = std::make_unique<NativeClient>(env.url(), env.Token(c->tenant, c->sub, c->role),
                                             c->cli, from);
    } catch (const std::exception& e) {
      return fail_out(std::string("client ") + std::to_string(i) + ": " + e.what());
    }
    c->transport = std::make_unique<FaultTransport>(&sc, c.get());
    c->needs_golden = !c->cli && options_.reuse_stores && from.empty();
    if (set_role && from.empty()) (void)c->tc->store().SetRole(c->role);
    sc.Note(std::string(c->cli ? "cli " : "") + "client " + std::to_string(i) + ": tenant " +
            c->tenant + " sub " + c->sub + " role " + c->role);
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
    if (!s.ok())
      return fail_out("initial sync of client " + std::to_string(c->index) + ": " + s.ToString());
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
        if (st)
          line += " " + std::to_string(ClientRows(*c, *st->view, &e).size()) + "/" +
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
      sc.Note("client " + std::to_string(c.index) + " offline until step " +
              std::to_string(c.offline_until));
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
    // Every push so far visible to pulls first (soak seed 31920: a transaction of another
    // target's server held the watermark while the passes ran, under heavy load).
    if (!env.WaitForWatermark(30))
      sc.Note("final pass " + std::to_string(pass) + ": the pull watermark stayed behind for 30 s");
    for (auto& c : sc.clients) {
      if (c->cli) {
        auto pending = c->tc->session().status().pending_transactions;
        auto pushed = sc.CliSync(*c);
        sc.NoteRejections(*c);
        if (!pushed.ok()) {
          failed = true;
          sc.Note("final sync of cli client " + std::to_string(c->index) + ": " +
                  pushed.status().ToString());
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
                          std::to_string(r->deletes_received))
                             .c_str()
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
  // The checks (checks.cc).
  CheckScenario(sc, env, snapshot, options_);

  if (options_.verbose)
    fprintf(stderr,
            "  timing: reset %.3f setup %.3f bootstrap %.3f steps %.3f quiet %.3f checks %.3f\n",
            t_reset, t_clients - t_reset, t_bootstrap - t_clients, t_steps - t_bootstrap,
            t_quiet - t_steps, Seconds(start) - t_quiet);
  if (getenv("OUTPOST_CONV_LOG"))
    for (const auto& l : sc.log) fprintf(stderr, "log %s\n", l.c_str());
  if (!result.ok) {
    for (const auto& l : sc.log) result.failures.push_back("  log " + l);
  }
  result.seconds = Seconds(start);
  return result;
}

}  // namespace outpost::convergence
