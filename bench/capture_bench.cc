// capture_bench: the cost of change capture on the local write path.
//
// The same inserts and updates go, in one run and one database, into a mirrored table (with the
// capture triggers) and into an identical table created from the same DDL without them. Prints
// rows/s for both and the ratio (captured time / raw time; 1.0 = free). Target: <= 1.5.
//
//   capture_bench [--rows N] [--batch B] [--repeat R] [--cache-mib M]
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>

#include "outpost/mirror.h"
#include "outpost/store.h"
#include "test_schema.h"

using namespace outpost;

namespace {

Schema BenchSchema() {
  auto col = [](auto&&... args) { return testing::MakeColumn(args...); };
  Table t;  // shaped like GoGoTime's timesheet_entries
  t.name = "entries";
  t.columns = {col("id", TypeKind::kUuid, "uuid", false),
               col("companyId", TypeKind::kUuid, "uuid", false),
               col("userId", TypeKind::kUuid, "uuid", false),
               col("workMode", TypeKind::kText, "character varying(8)", false, "'office'"),
               col("country", TypeKind::kText, "character varying(2)", false),
               col("startedAt", TypeKind::kTimestamptz, "timestamp with time zone", true),
               col("durationMin", TypeKind::kInteger, "integer", false),
               col("day", TypeKind::kDate, "date", false),
               col("note", TypeKind::kText, "text", true),
               col("version", TypeKind::kInteger, "integer", false, "1")};
  t.primary_key = {"id"};
  t.checks = {
      {"duration", R"((("durationMin" >= 0) AND ("durationMin" <= 1440)))"},
      {"mode",
       R"((("workMode")::text = ANY ((ARRAY['office'::character varying, 'remote'::character varying])::text[])))"}};
  t.indexes = {{"entries_company_user_day",
                false,
                "btree",
                {"companyId", "userId", "day"},
                {false, false, false},
                {false, false, false},
                std::nullopt}};
  t.sync.scope.kind = ScopeKind::kAll;
  Schema s;
  s.app = "bench";
  s.tables = {t};
  return s;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

void Check(const Status& s, const char* what) {
  if (!s.ok()) {
    fprintf(stderr, "capture_bench: %s: %s\n", what, s.ToString().c_str());
    exit(1);
  }
}

// Time-ordered keys like the UUIDv7 the store generates for offline inserts (the 48-bit time
// prefix grows with i), so inserts append to the primary key index as they do in real use.
std::string Uuid(uint64_t i, uint64_t salt) {
  char buf[64];
  snprintf(buf, sizeof buf, "%08llx-%04llx-7%03llx-8%03llx-%012llx",
           static_cast<unsigned long long>(((salt << 24) | (i >> 16)) & 0xffffffff),
           static_cast<unsigned long long>(i & 0xffff),
           static_cast<unsigned long long>(salt & 0xfff),
           static_cast<unsigned long long>(i & 0xfff),
           static_cast<unsigned long long>(i * 11400714819323198485ull & 0xffffffffffff));
  return buf;
}

// Inserts `rows` rows into `table` in transactions of `batch` rows; returns seconds.
double Insert(Store* store, const std::string& table, int rows, int batch, uint64_t salt) {
  auto stmt = store->Prepare("INSERT INTO " + QuoteIdent(table) +
                             " (id, \"companyId\", \"userId\", \"workMode\", country, "
                             "\"startedAt\", \"durationMin\", day, note) "
                             "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
  Check(stmt.status(), "prepare insert");
  const std::string company = Uuid(1, 99);
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rows; ++i) {
    if (i % batch == 0) Check(store->Execute("BEGIN").status(), "begin");
    Check(stmt->BindText(1, Uuid(static_cast<uint64_t>(i), salt)), "bind");
    Check(stmt->BindText(2, company), "bind");
    Check(stmt->BindText(3, Uuid(static_cast<uint64_t>(i % 50), 7)), "bind");
    Check(stmt->BindText(4, i % 3 ? "office" : "remote"), "bind");
    Check(stmt->BindText(5, "FR"), "bind");
    Check(stmt->BindText(6, "2026-11-23T08:00:00.000000Z"), "bind");
    Check(stmt->BindInt(7, i % 600), "bind");
    Check(stmt->BindText(8, "2026-11-23"), "bind");
    Check(stmt->BindText(9, "worked on the pump station, unit " + std::to_string(i)), "bind");
    Check(stmt->Run(), "insert");
    Check(stmt->Reset(), "reset");
    if (i % batch == batch - 1 || i == rows - 1) Check(store->Execute("COMMIT").status(), "commit");
  }
  return Seconds(start);
}

double Update(Store* store, const std::string& table, int rows, int batch, uint64_t salt) {
  auto stmt = store->Prepare("UPDATE " + QuoteIdent(table) +
                             " SET \"durationMin\" = ?, note = ? WHERE id = ?");
  Check(stmt.status(), "prepare update");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < rows; ++i) {
    if (i % batch == 0) Check(store->Execute("BEGIN").status(), "begin");
    Check(stmt->BindInt(1, (i + 7) % 600), "bind");
    Check(stmt->BindText(2, "revised " + std::to_string(i)), "bind");
    Check(stmt->BindText(3, Uuid(static_cast<uint64_t>(i), salt)), "bind");
    Check(stmt->Run(), "update");
    Check(stmt->Reset(), "reset");
    if (i % batch == batch - 1 || i == rows - 1) Check(store->Execute("COMMIT").status(), "commit");
  }
  return Seconds(start);
}

}  // namespace

int main(int argc, char** argv) {
  int rows = 200000, batch = 1000, repeat = 3, cache_mib = 32;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--rows")) rows = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--batch")) batch = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--repeat")) repeat = atoi(argv[i + 1]);
    if (!strcmp(argv[i], "--cache-mib")) cache_mib = atoi(argv[i + 1]);
  }
  auto dir = std::filesystem::temp_directory_path() / "outpost-capture-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions options;
  options.durable = false;  // measure the CPU cost of capture, not fsync
  options.cache_mib = cache_mib;
  // Two databases with the same settings, so neither table's pages evict the other's.
  auto store = Store::Open((dir / "captured.db").string(), options);
  Check(store.status(), "open");
  Schema schema = BenchSchema();
  Check((*store)->ApplySchema(schema).status(), "mirror");
  auto raw_store = Store::Open((dir / "raw.db").string(), options);
  Check(raw_store.status(), "open raw");
  // The baseline: the same DDL and indexes (the key's unique index among them), under other
  // names, with no capture triggers.
  MirrorDdl ddl = GenerateMirrorDdl(schema);
  auto renamed = [](std::string sql) {
    for (const std::string from :
         {"\"entries\"", "\"_outpost_key_entries\"", "\"entries_company_user_day\""}) {
      size_t at = sql.find(from);
      if (at != std::string::npos)
        sql.replace(at, from.size(), from.substr(0, from.size() - 1) + "_raw\"");
    }
    return sql;
  };
  Check((*raw_store)->Execute(renamed(ddl.tables[0].create_table)).status(), "raw table");
  for (const auto& index : ddl.tables[0].create_indexes) {
    Check((*raw_store)->Execute(renamed(index)).status(), "raw index");
  }

  // A second baseline without the mirrored CHECKs (plain SQLite types and keys only), to show
  // what enforcing the server's rules locally costs by itself.
  Check((*raw_store)
            ->Execute("CREATE TABLE entries_plain (id TEXT PRIMARY KEY, \"companyId\" TEXT NOT "
                      "NULL, \"userId\" TEXT NOT NULL, \"workMode\" TEXT NOT NULL, country TEXT "
                      "NOT NULL, \"startedAt\" TEXT, \"durationMin\" INTEGER NOT NULL, day TEXT "
                      "NOT NULL, note TEXT, version INTEGER NOT NULL DEFAULT 1) STRICT;"
                      "CREATE INDEX plain_company_user_day ON entries_plain (\"companyId\", "
                      "\"userId\", day)")
            .status(),
        "plain table");
  double best_plain_ins = 1e9;
  double best_raw_ins = 1e9, best_cap_ins = 1e9, best_raw_upd = 1e9, best_cap_upd = 1e9;
  for (int r = 0; r < repeat; ++r) {
    uint64_t salt = static_cast<uint64_t>(r) + 1;
    Check((*raw_store)->Execute("DELETE FROM entries_raw").status(), "clear");
    Check((*store)->RunAsEngine([&] { return (*store)->Execute("DELETE FROM entries").status(); }),
          "clear");
    Check((*store)->Execute("DELETE FROM _outpost_outbox").status(), "clear outbox");
    Check((*raw_store)->Execute("DELETE FROM entries_plain").status(), "clear");
    best_plain_ins =
        std::min(best_plain_ins, Insert(raw_store->get(), "entries_plain", rows, batch, salt));
    best_raw_ins =
        std::min(best_raw_ins, Insert(raw_store->get(), "entries_raw", rows, batch, salt));
    best_cap_ins = std::min(best_cap_ins, Insert(store->get(), "entries", rows, batch, salt));
    best_raw_upd =
        std::min(best_raw_upd, Update(raw_store->get(), "entries_raw", rows, batch, salt));
    best_cap_upd = std::min(best_cap_upd, Update(store->get(), "entries", rows, batch, salt));
  }
  auto counts = (*store)->CountOutbox();
  Check(counts.status(), "count");
  const int64_t pending = counts->unconfirmed_mutations;
  if (pending != 2LL * rows) {
    fprintf(stderr, "capture_bench: expected %d outbox entries, found %lld\n", 2 * rows,
            static_cast<long long>(pending));
    return 1;
  }
  auto line = [&](const char* op, double raw, double cap) {
    printf(
        "{\"bench\":\"capture_%s\",\"rows\":%d,\"batch\":%d,\"raw_rows_per_s\":%.0f,"
        "\"captured_rows_per_s\":%.0f,\"ratio\":%.3f}\n",
        op, rows, batch, rows / raw, rows / cap, cap / raw);
  };
  line("insert", best_raw_ins, best_cap_ins);
  printf(
      "{\"bench\":\"mirror_checks_insert\",\"rows\":%d,\"plain_rows_per_s\":%.0f,"
      "\"mirrored_rows_per_s\":%.0f,\"ratio\":%.3f}\n",
      rows, rows / best_plain_ins, rows / best_raw_ins, best_raw_ins / best_plain_ins);
  line("update", best_raw_upd, best_cap_upd);
  std::filesystem::remove_all(dir);
  return 0;
}
