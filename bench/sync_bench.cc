// sync_bench: the sync path end to end, against a real PostgreSQL and a real outpost-server.
//
//  1. Bootstrap: one GoGoTime company with N timesheet_entries (default 1,000,000) is pulled
//     through server, protocol and client into SQLite. Prints rows/s, the client's peak memory
//     (ru_maxrss of this process, which is only the client) and, measured in the same run, raw
//     SQLite insert speed into an identical table (same DDL, no capture, one transaction), with
//     its indexes in place and as a bulk load (indexes dropped, re-created after the inserts).
//     Targets: >= 150k rows/s end to end; client memory < 100 MB whatever N.
//  2. Latency: client A writes one row and pushes; client B, long-polling, has it. p50 and p99
//     over M changes (default 1000). Target: p50 <= 10 ms on loopback.
//
//   sync_bench [--tenant-rows N] [--changes M] [--skip-bootstrap] [--skip-latency] [--skip-raw]
//
// Prints one JSON object per line.
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_transport.h"
#include "outpost/mirror.h"
#include "outpost/store.h"
#include "outpost/sync_round.h"
#include "pg_cluster.h"
#include "server_process.h"

using namespace outpost;
using namespace outpost::testing;
using Clock = std::chrono::steady_clock;
using json = nlohmann::json;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds (user, system) of this process so far.
std::pair<double, double> SelfCpu() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto secs = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return {secs(u.ru_utime), secs(u.ru_stime)};
}

// CPU seconds (user + system) of the processes named `comm` (from /proc), or of one `pid`.
double ProcCpu(const std::string& comm, pid_t pid = 0) {
  const double tick = static_cast<double>(sysconf(_SC_CLK_TCK));
  double total = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string name = entry.path().filename().string();
    if (name.find_first_not_of("0123456789") != std::string::npos) continue;
    if (pid && name != std::to_string(pid)) continue;
    FILE* f = std::fopen((entry.path() / "stat").c_str(), "r");
    if (!f) continue;
    char buf[1024];
    size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    std::string stat(buf);
    size_t open = stat.find('('), close = stat.rfind(')');
    if (open == std::string::npos || close == std::string::npos) continue;
    if (!pid && stat.substr(open + 1, close - open - 1) != comm) continue;
    // Fields after the comm: state is field 3; utime and stime are fields 14 and 15.
    unsigned long utime = 0, stime = 0;
    if (std::sscanf(stat.c_str() + close + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                    &utime, &stime) == 2) {
      total += static_cast<double>(utime + stime) / tick;
    }
  }
  return total;
}

double PeakRssMb() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_maxrss) / 1024.0;  // Linux: KiB
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  std::fprintf(stderr, "sync_bench: %s: %s\n", what.c_str(), s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what, r.status());
  return std::move(r).value();
}

std::string TempPath(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("outpost-bench-" + std::to_string(getpid()));
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / name);
  return (dir / name).string();
}

struct Client {
  std::unique_ptr<Store> store;
  std::unique_ptr<HttpTransport> transport;
  std::unique_ptr<SyncSession> session;
  Client(const std::string& path, const std::string& url, const std::string& token) {
    StoreOptions options;
    store = Must(Store::Open(path, options), "open store");
    transport = std::make_unique<HttpTransport>(url, token, HttpTimeouts{});
    session = Must(SyncSession::Open(store.get()), "open session");
  }
  SyncReport Sync(int wait = 0) {
    SyncOptions o;
    o.wait_seconds = wait;
    return Must(SyncNow(*session, *transport, o), "sync");
  }
};

// Raw SQLite: the same table (mirror DDL, no capture), rows cycled from `sample` with fresh ids,
// inserted with one prepared statement in one transaction. Returns rows/s.
// With `bulk`, the table's indexes are dropped first and re-created after the inserts (in the same
// transaction), as a bootstrap does for a big table: the best SQLite offers for this table.
double RawSqliteInsertRate(const Schema& schema, const std::string& table, const json& sample,
                           int64_t rows, bool bulk) {
  auto store = Must(Store::Open(TempPath(bulk ? "raw-bulk.db" : "raw.db")), "open raw store");
  Must(store->ApplySchema(schema), "mirror raw store");
  json indexes = Must(store->Execute("SELECT name, sql FROM sqlite_schema WHERE type = 'index' AND "
                                     "tbl_name = ? AND sql IS NOT NULL",
                                     json::array({table})),
                      "list indexes")
                     .rows;
  const Table* t = schema.FindTable(table);
  std::string marks;
  for (size_t i = 0; i < t->columns.size(); ++i) marks += i ? ", ?" : "?";
  size_t id_col = 0;
  for (size_t i = 0; i < t->columns.size(); ++i) {
    if (t->columns[i].name == t->primary_key[0]) id_col = i;
  }
  auto start = Clock::now();
  // The same settings the client's bootstrap pages use: no FK enforcement (parents are elsewhere)
  // and no CHECKs (PostgreSQL checked the rows).
  EngineOptions engine;
  engine.foreign_keys = false;
  engine.check_constraints = false;
  Status s = store->RunAsEngine(engine, [&]() -> Status {
    if (bulk) {
      for (const auto& ix : indexes) {
        OUTPOST_RETURN_IF_ERROR(
            store->Execute("DROP INDEX " + QuoteIdent(ix[0].get<std::string>())).status());
      }
    }
    OUTPOST_ASSIGN_OR_RETURN(Statement ins, store->Prepare("INSERT INTO " + QuoteIdent(table) +
                                                           " VALUES (" + marks + ")"));
    for (int64_t r = 0; r < rows; ++r) {
      const json& row = sample[static_cast<size_t>(r) % sample.size()];
      for (size_t c = 0; c < row.size(); ++c) {
        int idx = static_cast<int>(c) + 1;
        const json& v = row[c];
        if (c == id_col) {
          OUTPOST_RETURN_IF_ERROR(ins.BindText(idx, store->NewUuid()));
        } else if (v.is_null()) {
          OUTPOST_RETURN_IF_ERROR(ins.BindNull(idx));
        } else if (v.is_boolean()) {
          OUTPOST_RETURN_IF_ERROR(ins.BindInt(idx, v.get<bool>() ? 1 : 0));
        } else if (v.is_number_integer()) {
          OUTPOST_RETURN_IF_ERROR(ins.BindInt(idx, v.get<int64_t>()));
        } else if (v.is_number()) {
          OUTPOST_RETURN_IF_ERROR(ins.BindDouble(idx, v.get<double>()));
        } else {
          OUTPOST_RETURN_IF_ERROR(ins.BindText(idx, v.get<std::string>()));
        }
      }
      OUTPOST_RETURN_IF_ERROR(ins.Run());
      OUTPOST_RETURN_IF_ERROR(ins.Reset());
    }
    if (bulk) {
      for (const auto& ix : indexes) {
        OUTPOST_RETURN_IF_ERROR(store->Execute(ix[1].get<std::string>()).status());
      }
    }
    return Status::Ok();
  });
  if (!s.ok()) Die("raw sqlite insert", s);
  return static_cast<double>(rows) / Seconds(start, Clock::now());
}

void BenchBootstrap(int64_t tenant_rows, bool raw_baseline) {
  auto& cluster = PgCluster::Shared();
  std::fprintf(stderr, "sync_bench: loading gogotime with %lld entries per company...\n",
               static_cast<long long>(tenant_rows));
  // The generator spreads entries over 3 companies: company 1 gets a third.
  std::string db = cluster.LoadApp("bench_boot", "gogotime", static_cast<int>(tenant_rows * 3));
  // As on a live server, where rows were written well before a client bootstraps: vacuumed (hint
  // bits set, visibility map current), so that neither the first reads setting hint bits nor an
  // autovacuum of the freshly loaded tables run inside the measurement.
  cluster.Psql(db, "VACUUM (ANALYZE)");
  // The test cluster runs with fsync=off: the gigabyte just loaded sits dirty in the OS page cache,
  // and its writeback would compete with the client's own fsyncs inside the measurement. A live
  // server's rows were written long before; flush them first.
  ::sync();
  ServerProcess server(db, "gogotime");
  const std::string company = "4e59da50-40fc-5e0d-33c1-688ba4977baa";
  std::string user =
      Run("psql -X -At '" + db + "' -c \"SELECT id FROM users WHERE \\\"companyId\\\" = '" +
          company + "' ORDER BY id LIMIT 1\"");
  user.erase(user.find_last_not_of("\r\n") + 1);
  std::string token = MintToken(company, user, "admin");

  Client client(TempPath("boot.db"), server.url(), token);
  double rss_before = PeakRssMb();
  const auto cpu0 = SelfCpu();
  const double server_cpu0 = ProcCpu("", server.pid()), pg_cpu0 = ProcCpu("postgres");
  auto start = Clock::now();
  SyncReport r = client.Sync();
  double secs = Seconds(start, Clock::now());
  const auto cpu1 = SelfCpu();
  const double server_cpu = ProcCpu("", server.pid()) - server_cpu0;
  const double pg_cpu = ProcCpu("postgres") - pg_cpu0;
  double peak = PeakRssMb();
  int64_t entries = Must(client.store->Execute("SELECT count(*) FROM timesheet_entries"), "count")
                        .rows[0][0]
                        .get<int64_t>();
  json sample =
      Must(client.store->Execute("SELECT * FROM timesheet_entries LIMIT 1000"), "sample").rows;
  const int64_t raw_rows = std::min<int64_t>(entries, 1000000);
  double raw = raw_baseline ? RawSqliteInsertRate(*client.store->schema(), "timesheet_entries",
                                                  sample, raw_rows, /*bulk=*/false)
                            : 0;
  double raw_bulk = raw_baseline ? RawSqliteInsertRate(*client.store->schema(), "timesheet_entries",
                                                       sample, raw_rows,
                                                       /*bulk=*/true)
                                 : 0;
  double rate = static_cast<double>(r.rows_received) / secs;
  std::printf("%s\n", json{{"bench", "bootstrap"},
                           {"tenant_entries", entries},
                           {"rows_received", r.rows_received},
                           {"seconds", secs},
                           {"rows_per_s", static_cast<int64_t>(rate)},
                           {"raw_sqlite_insert_rows_per_s", static_cast<int64_t>(raw)},
                           {"raw_over_sync", raw / rate},
                           {"raw_sqlite_bulk_rows_per_s", static_cast<int64_t>(raw_bulk)},
                           {"raw_bulk_over_sync", raw_bulk / rate},
                           {"client_peak_rss_mb", peak},
                           {"client_rss_before_mb", rss_before},
                           {"client_cpu_user_s", cpu1.first - cpu0.first},
                           {"client_cpu_sys_s", cpu1.second - cpu0.second},
                           {"server_cpu_s", server_cpu},
                           {"postgres_cpu_s", pg_cpu},
                           {"target", ">= 150000 rows/s, < 100 MB"}}
                          .dump()
                          .c_str());
  std::fflush(stdout);
}

void BenchLatency(int changes) {
  auto& cluster = PgCluster::Shared();
  std::string db = cluster.LoadApp("bench_latency", "gogotime", 300);
  ServerProcess server(db, "gogotime");
  const std::string company = "4586023b-b360-9b62-50c1-870e43c70adb";
  auto scalar = [&](const std::string& sql) {
    std::string out = Run("psql -X -At '" + db + "' -c \"" + sql + "\"");
    out.erase(out.find_last_not_of("\r\n") + 1);
    return out;
  };
  std::string user = scalar("SELECT id FROM users WHERE \\\"companyId\\\" = '" + company +
                            "' ORDER BY id LIMIT 1");
  std::string action = scalar("SELECT id FROM action_codes WHERE \\\"companyId\\\" = '" + company +
                              "' ORDER BY id LIMIT 1");
  std::string token = MintToken(company, user, "admin");
  Client a(TempPath("lat-a.db"), server.url(), token);
  Client b(TempPath("lat-b.db"), server.url(), token);
  a.Sync();
  b.Sync();

  std::mutex mu;
  std::condition_variable cv;
  int64_t arrived = -1;  // highest change index B has
  std::atomic<bool> stop{false};
  std::vector<Clock::time_point> arrival(static_cast<size_t>(changes));
  std::thread poller([&] {
    Statement q = Must(b.store->Prepare("SELECT max(\"durationMin\") FROM timesheet_entries "
                                        "WHERE note = 'latency'"),
                       "prepare");
    while (!stop) {
      b.Sync(5);
      auto now = Clock::now();
      (void)q.Reset();
      if (!Must(q.Step(), "step")) continue;
      Value v = q.column_value(0);
      if (IsNull(v)) continue;
      int64_t got = std::get<int64_t>(v);
      std::lock_guard<std::mutex> lock(mu);
      for (int64_t i = arrived + 1; i <= got && i < changes; ++i) {
        arrival[static_cast<size_t>(i)] = now;
      }
      if (got > arrived) arrived = got;
      cv.notify_all();
    }
  });
  std::vector<double> ms, insert_ms, sync_ms;
  for (int i = 0; i < changes; ++i) {
    auto t0 = Clock::now();
    Must(a.store->Execute(
             "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", "
             "country, \"durationMin\", day, note) VALUES (?, ?, ?, 'TH', ?, '2026-11-23', "
             "'latency')",
             json{company, user, action, i}),
         "insert");
    const auto t1 = Clock::now();
    insert_ms.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
    a.Sync();
    sync_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t1).count());
    std::unique_lock<std::mutex> lock(mu);
    if (!cv.wait_for(lock, std::chrono::seconds(30), [&] { return arrived >= i; })) {
      std::fprintf(stderr, "sync_bench: change %d never arrived\n", i);
      std::exit(1);
    }
    ms.push_back(
        std::chrono::duration<double, std::milli>(arrival[static_cast<size_t>(i)] - t0).count());
    if (ms.back() > 1000)
      std::fprintf(stderr, "sync_bench: change %d took %.0f ms\n", i, ms.back());
  }
  stop = true;
  // Wake the poller's long-poll with one more change.
  Must(a.store->Execute("UPDATE timesheet_entries SET note = 'latency done' WHERE note = 'latency' "
                        "AND \"durationMin\" = 0"),
       "final update");
  a.Sync();
  poller.join();
  std::sort(ms.begin(), ms.end());
  std::sort(insert_ms.begin(), insert_ms.end());
  std::sort(sync_ms.begin(), sync_ms.end());
  auto pct = [&](double p, const std::vector<double>& v = {}) {
    const std::vector<double>& of = v.empty() ? ms : v;
    return of[static_cast<size_t>(p * static_cast<double>(of.size() - 1))];
  };
  std::printf("%s\n", json{{"bench", "write_to_other_client_latency"},
                           {"changes", changes},
                           {"p50_ms", pct(0.50)},
                           {"p90_ms", pct(0.90)},
                           {"p99_ms", pct(0.99)},
                           {"max_ms", ms.back()},
                           {"local_insert_p50_ms", pct(0.50, insert_ms)},
                           {"writer_sync_round_p50_ms", pct(0.50, sync_ms)},
                           {"includes",
                            "local insert + push + server commit + NOTIFY + long-poll "
                            "answer + apply on B"},
                           {"target", "p50 <= 10 ms"}}
                          .dump()
                          .c_str());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int64_t tenant_rows = 1000000;
  int changes = 1000;
  bool boot = true, latency = true, raw = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--tenant-rows" && i + 1 < argc) {
      tenant_rows = std::atoll(argv[++i]);
    } else if (a == "--changes" && i + 1 < argc) {
      changes = std::atoi(argv[++i]);
    } else if (a == "--skip-bootstrap") {
      boot = false;
    } else if (a == "--skip-latency") {
      latency = false;
    } else if (a == "--skip-raw") {
      raw = false;
    } else {
      std::fprintf(stderr,
                   "usage: sync_bench [--tenant-rows N] [--changes M] [--skip-bootstrap] "
                   "[--skip-latency] [--skip-raw]\n");
      return 2;
    }
  }
  if (latency) BenchLatency(changes);
  if (boot) BenchBootstrap(tenant_rows, raw);
  return 0;
}
