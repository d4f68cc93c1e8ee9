// engine_bench: the engine through its C API (capi/include/outpost.h), on workloads an app and
// the sync loop produce. One source, built twice: natively (bench/engine_bench) and to
// WebAssembly run by node (build-wasm/wasm/outpost_engine_bench.js), so that
// bench/wasm_vs_native.sh compares the same work, byte for byte, compiled two ways.
//
//  - capture: inserts, then updates, of `--rows` rows shaped like GoGoTime's timesheet entries,
//    one outpost_execute per row with JSON parameters, in transactions of `--batch` rows, into a
//    mirrored table (CHECKs, an index, change capture into the outbox);
//  - bootstrap: a pull answer of `--bootstrap-rows` rows in pages of `--page` rows, fed line by
//    line to a sync round (outpost_round_line) as the browser's fetch loop does.
// The store is a file opened as the browser package opens it (no WAL, every commit synced).
// Prints one JSON line per workload (rows per second; best of `--repeat`).
//
// --encryption 1 runs every workload a second time, in the same repetitions, on an encrypted
// store (a raw key through the open options' "raw_key": no key derivation is timed) and prints
// the encrypted figures and each workload's time ratio (encrypted / plain), by wall clock and by
// processor time.
//
//   engine_bench [--dir DIR] [--rows N] [--batch N] [--bootstrap-rows N] [--page N] [--repeat N]
//                [--encryption 1] [--wal 1]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

#include "outpost.h"

namespace {

const char* kSchema = R"json({"format":1,"app":"bench","roles":["user"],"tables":[{
  "name":"entries",
  "columns":[
    {"name":"id","type":"uuid","pg_type":"uuid","nullable":false},
    {"name":"companyId","type":"uuid","pg_type":"uuid","nullable":false},
    {"name":"userId","type":"uuid","pg_type":"uuid","nullable":false},
    {"name":"workMode","type":"text","pg_type":"character varying(8)","nullable":false,
     "default":"'office'::character varying"},
    {"name":"country","type":"text","pg_type":"character varying(2)","nullable":false},
    {"name":"startedAt","type":"timestamptz","pg_type":"timestamp with time zone","nullable":true},
    {"name":"durationMin","type":"integer","pg_type":"integer","nullable":false},
    {"name":"day","type":"date","pg_type":"date","nullable":false},
    {"name":"note","type":"text","pg_type":"text","nullable":true},
    {"name":"version","type":"integer","pg_type":"integer","nullable":false,"default":"1"}],
  "primary_key":["id"],
  "checks":[
    {"name":"duration","expression":"((\"durationMin\" >= 0) AND (\"durationMin\" <= 1440))"},
    {"name":"mode","expression":"((\"workMode\")::text = ANY ((ARRAY['office'::character varying, 'remote'::character varying])::text[]))"}],
  "uniques":[],"foreign_keys":[],
  "indexes":[{"name":"entries_company_user_day","unique":false,"method":"btree",
              "keys":[{"column":"companyId"},{"column":"userId"},{"column":"day"}]}],
  "sync":{"scope":"all"}}]})json";

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Processor time of this process (user and system), in seconds: on a loaded machine, where wall
// time mostly measures waiting for a core, the steadier measure of work done.
double CpuNow() {
  return static_cast<double>(std::clock()) / CLOCKS_PER_SEC;
}

// Seconds a workload took: wall clock and processor time.
struct Took {
  double wall = 0, cpu = 0;
};

void Check(outpost_db* db, int code, const char* what) {
  if (code == OUTPOST_OK) return;
  std::fprintf(stderr, "engine_bench: %s: %s: %s\n", what, outpost_code_name(code),
               db ? outpost_errmsg(db) : "");
  std::exit(1);
}

// Time-ordered keys, like the UUIDv7 the store generates (inserts append to the key index).
std::string Uuid(unsigned long long i, unsigned long long salt) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%08llx-%04llx-7%03llx-8%03llx-%012llx",
                ((salt << 24) | (i >> 16)) & 0xffffffffULL, i & 0xffffULL, salt & 0xfffULL,
                i & 0xfffULL, (i * 11400714819323198485ULL) & 0xffffffffffffULL);
  return buf;
}

// --wal 1: the native default (WAL journal) instead of the browser's rollback journal.
bool g_wal = false;

outpost_db* Open(const std::string& path, bool encrypted) {
  std::remove(path.c_str());
  std::remove((path + "-journal").c_str());
  std::remove((path + "-wal").c_str());
  outpost_db* db = nullptr;
  std::string options =
      std::string(R"({"wal":)") + (g_wal ? "true" : "false") + R"(,"durable":true)" +
      (encrypted ? R"(,"raw_key":)"
                   R"("4f7574706f73742062656e6368206b65793b206e6f742061207365637265742e")"
                 : "") +
      "}";
  Check(db, outpost_open(path.c_str(), options.c_str(), &db), "open");
  Check(db, outpost_apply_schema(db, kSchema, nullptr), "schema");
  return db;
}

// Whether the file at `path` is an encrypted store (its header's magic), so that a C API that
// ignored the key cannot pass for encryption costing nothing.
bool IsEncrypted(const std::string& path) {
  char magic[16] = {};
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return false;
  size_t got = std::fread(magic, 1, sizeof magic, f);
  std::fclose(f);
  return got == sizeof magic && std::memcmp(magic, "Outpost crypt v1", 16) == 0;
}

void ExpectEncryption(const std::string& path, bool encrypted) {
  if (IsEncrypted(path) == encrypted) return;
  std::fprintf(stderr, "engine_bench: %s is %sencrypted: the C API %s the \"raw_key\" option\n",
               path.c_str(), encrypted ? "not " : "", encrypted ? "ignores" : "misapplies");
  std::exit(1);
}

// Seconds to insert, then update, `rows` rows in transactions of `batch`.
std::pair<Took, Took> Capture(const std::string& path, int rows, int batch, unsigned long long salt,
                              bool encrypted) {
  outpost_db* db = Open(path, encrypted);
  const std::string company = Uuid(1, 99);
  // Keys made before anything is timed (the engine is measured, not the benchmark's formatting).
  std::vector<std::string> ids, users;
  for (int i = 0; i < rows; ++i) ids.push_back(Uuid(static_cast<unsigned long long>(i), salt));
  for (int i = 0; i < 50; ++i) users.push_back(Uuid(static_cast<unsigned long long>(i), 7));
  const char* insert =
      "INSERT INTO entries (id, \"companyId\", \"userId\", \"workMode\", country, \"startedAt\", "
      "\"durationMin\", day, note) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)";
  double t0 = Now(), c0 = CpuNow();
  for (int i = 0; i < rows; ++i) {
    if (i % batch == 0) Check(db, outpost_execute(db, "BEGIN", nullptr, nullptr), "begin");
    std::string params =
        "[\"" + ids[static_cast<size_t>(i)] + "\",\"" + company + "\",\"" +
        users[static_cast<size_t>(i % 50)] + "\",\"" + (i % 3 ? "office" : "remote") +
        "\",\"FR\",\"2026-11-23T08:00:00.000000Z\"," + std::to_string(i % 600) +
        ",\"2026-11-23\",\"worked on the pump station, unit " + std::to_string(i) + "\"]";
    Check(db, outpost_execute(db, insert, params.c_str(), nullptr), "insert");
    if (i % batch == batch - 1 || i == rows - 1) {
      Check(db, outpost_execute(db, "COMMIT", nullptr, nullptr), "commit");
    }
  }
  Took inserted{Now() - t0, CpuNow() - c0};
  const char* update = "UPDATE entries SET \"durationMin\" = ?, note = ? WHERE id = ?";
  t0 = Now(), c0 = CpuNow();
  for (int i = 0; i < rows; ++i) {
    if (i % batch == 0) Check(db, outpost_execute(db, "BEGIN", nullptr, nullptr), "begin");
    std::string params = "[" + std::to_string((i + 7) % 600) + ",\"revised " + std::to_string(i) +
                         "\",\"" + ids[static_cast<size_t>(i)] + "\"]";
    Check(db, outpost_execute(db, update, params.c_str(), nullptr), "update");
    if (i % batch == batch - 1 || i == rows - 1) {
      Check(db, outpost_execute(db, "COMMIT", nullptr, nullptr), "commit");
    }
  }
  Took updated{Now() - t0, CpuNow() - c0};
  char* status = nullptr;
  Check(db, outpost_sync_status(db, &status), "status");
  const std::string expected = "\"pending_mutations\":" + std::to_string(2 * rows);
  if (!std::strstr(status, expected.c_str())) {
    std::fprintf(stderr, "engine_bench: outbox: %s (expected %s)\n", status, expected.c_str());
    std::exit(1);
  }
  outpost_free(status);
  outpost_close(db);
  ExpectEncryption(path, encrypted);
  return {inserted, updated};
}

// The pull answer of a bootstrap, made before anything is timed.
std::vector<std::string> BootstrapLines(int rows, int page) {
  std::vector<std::string> lines;
  lines.push_back(R"({"type":"reset"})");
  const std::string company = Uuid(1, 99);
  for (int start = 0; start < rows; start += page) {
    std::string l =
        R"({"type":"rows","table":"entries","columns":["id","companyId","userId","workMode","country","startedAt","durationMin","day","note","version"],"rows":[)";
    for (int i = start; i < std::min(rows, start + page); ++i) {
      if (i > start) l += ",";
      l += "[\"" + Uuid(static_cast<unsigned long long>(i), 3) + "\",\"" + company + "\",\"" +
           Uuid(static_cast<unsigned long long>(i % 50), 7) + "\",\"" +
           (i % 3 ? "office" : "remote") + "\",\"FR\",\"2026-11-23T08:00:00.000000Z\"," +
           std::to_string(i % 600) + ",\"2026-11-23\",\"worked on the \\\"pump\\\" station " +
           std::to_string(i % 97) + "\",1]";
    }
    l += "]}";
    lines.push_back(std::move(l));
    const bool last = start + page >= rows;
    lines.push_back(std::string(R"({"type":"cursor","cursor":"eyJ3IjoiMTAwIn0","bootstrap":)") +
                    (last ? "false" : "true") + R"(,"more":false})");
  }
  return lines;
}

// Seconds to apply `lines` through a sync round.
Took Bootstrap(const std::string& path, const std::vector<std::string>& lines, int rows,
               bool encrypted) {
  outpost_db* db = Open(path, encrypted);
  double t0 = Now(), c0 = CpuNow();
  outpost_round* round = nullptr;
  Check(db, outpost_round_begin(db, R"({"wait_seconds":0})", &round), "round");
  char* step = nullptr;
  Check(db, outpost_round_next(round, &step), "next");
  if (!std::strstr(step, "\"/v1/pull")) {
    std::fprintf(stderr, "engine_bench: expected a pull, got %s\n", step);
    std::exit(1);
  }
  outpost_free(step);
  for (const auto& l : lines) Check(db, outpost_round_line(round, l.data(), l.size()), "line");
  outpost_round_answer(round, 200, nullptr, 0);
  Check(db, outpost_round_next(round, &step), "next");
  Took secs{Now() - t0, CpuNow() - c0};
  if (!std::strstr(step, "\"code\":0")) {
    std::fprintf(stderr, "engine_bench: the round did not end well: %s\n", step);
    std::exit(1);
  }
  outpost_free(step);
  outpost_round_free(round);
  char* result = nullptr;
  Check(db, outpost_execute(db, "SELECT count(*) FROM entries", nullptr, &result), "count");
  if (!std::strstr(result, ("[[" + std::to_string(rows) + "]]").c_str())) {
    std::fprintf(stderr, "engine_bench: bootstrap left %s\n", result);
    std::exit(1);
  }
  outpost_free(result);
  outpost_close(db);
  ExpectEncryption(path, encrypted);
  return secs;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "/tmp";
  int rows = 20000, batch = 1000, bootstrap_rows = 100000, page = 5000, repeat = 3;
  bool encryption = false;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string a = argv[i];
    if (a == "--dir")
      dir = argv[i + 1];
    else if (a == "--rows")
      rows = std::atoi(argv[i + 1]);
    else if (a == "--batch")
      batch = std::atoi(argv[i + 1]);
    else if (a == "--bootstrap-rows")
      bootstrap_rows = std::atoi(argv[i + 1]);
    else if (a == "--page")
      page = std::atoi(argv[i + 1]);
    else if (a == "--repeat")
      repeat = std::atoi(argv[i + 1]);
    else if (a == "--encryption")
      encryption = std::atoi(argv[i + 1]) != 0;
    else if (a == "--wal")
      g_wal = std::atoi(argv[i + 1]) != 0;
    else {
      std::fprintf(stderr,
                   "usage: engine_bench [--dir DIR] [--rows N] [--batch N] "
                   "[--bootstrap-rows N] [--page N] [--repeat N] [--encryption 1] [--wal 1]\n");
      return 2;
    }
  }
  if (rows < 1 || batch < 1 || bootstrap_rows < 1 || page < 1 || repeat < 1) return 2;
  const std::string path = dir + "/outpost-engine-bench.db";
  // Best seconds per workload (insert, update, bootstrap), plain [0] and encrypted [1]; wall
  // clock and processor time.
  double best[2][3], best_cpu[2][3];
  for (auto* b : {best, best_cpu}) {
    for (int e = 0; e < 2; ++e) {
      for (int w = 0; w < 3; ++w) b[e][w] = 1e9;
    }
  }
  const std::vector<std::string> lines = BootstrapLines(bootstrap_rows, page);
  for (int r = 0; r < repeat; ++r) {
    // Plain and encrypted alternate within each repetition, so that both see the same machine.
    for (int e = 0; e <= (encryption ? 1 : 0); ++e) {
      auto [ins, upd] = Capture(path, rows, batch, static_cast<unsigned long long>(r) + 1, e == 1);
      Took boot = Bootstrap(path, lines, bootstrap_rows, e == 1);
      const Took took[3] = {ins, upd, boot};
      for (int w = 0; w < 3; ++w) {
        best[e][w] = std::min(best[e][w], took[w].wall);
        best_cpu[e][w] = std::min(best_cpu[e][w], took[w].cpu);
      }
    }
  }
  std::remove(path.c_str());
  std::remove((path + "-journal").c_str());
  std::remove((path + "-wal").c_str());
  for (int e = 0; e <= (encryption ? 1 : 0); ++e) {
    const char* enc = e ? ",\"encrypted\":true" : "";
    std::printf(
        "{\"bench\":\"engine_capture_insert\",\"rows\":%d,\"batch\":%d%s,\"rows_per_s\":%.0f}\n",
        rows, batch, enc, rows / best[e][0]);
    std::printf(
        "{\"bench\":\"engine_capture_update\",\"rows\":%d,\"batch\":%d%s,\"rows_per_s\":%.0f}\n",
        rows, batch, enc, rows / best[e][1]);
    std::printf("{\"bench\":\"engine_bootstrap\",\"rows\":%d,\"page\":%d%s,\"rows_per_s\":%.0f}\n",
                bootstrap_rows, page, enc, bootstrap_rows / best[e][2]);
  }
  if (encryption) {
    // Time ratios, encrypted / plain: by wall clock, and by processor time.
    for (auto* b : {best, best_cpu}) {
      std::printf(
          "{\"bench\":\"encryption_overhead\",\"measure\":\"%s\",\"capture_insert\":%.2f,"
          "\"capture_update\":%.2f,\"bootstrap\":%.2f}\n",
          b == best ? "wall" : "cpu", b[1][0] / b[0][0], b[1][1] / b[0][1], b[1][2] / b[0][2]);
    }
  }
  return 0;
}
