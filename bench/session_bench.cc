// session_bench: bootstrap throughput of the client session alone (no network, no server): 1M
// rows of 12 columns in pages of 5000, fed as pull answer lines and applied to a file database,
// and, in the same run, the same rows inserted with one prepared statement in one transaction
// (raw SQLite) as the baseline. Prints one JSON line.
//
//   session_bench [--rows N] [--page N] [--relaxed]     (--relaxed: StoreOptions::durable = false)
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "outpost/store.h"
#include "outpost/sync_round.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;

using testing::MakeColumn;

void Check(const Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "session_bench: %s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

Schema BenchSchema() {
  Table t;
  t.name = "entries";
  t.columns = {MakeColumn("id", TypeKind::kUuid, "uuid", false),
               MakeColumn("company", TypeKind::kUuid, "uuid", false),
               MakeColumn("user", TypeKind::kUuid, "uuid", false),
               MakeColumn("day", TypeKind::kDate, "date", false),
               MakeColumn("minutes", TypeKind::kInteger, "integer", false),
               MakeColumn("note", TypeKind::kText, "text", true),
               MakeColumn("billable", TypeKind::kBoolean, "boolean", false),
               MakeColumn("rate", TypeKind::kNumeric, "numeric(10,2)", true),
               MakeColumn("created", TypeKind::kTimestamptz, "timestamptz", false),
               MakeColumn("updated", TypeKind::kTimestamptz, "timestamptz", false),
               MakeColumn("score", TypeKind::kReal, "double precision", true),
               MakeColumn("tag", TypeKind::kText, "text", true)};
  t.primary_key = {"id"};
  t.sync.scope.kind = ScopeKind::kAll;
  Schema s;
  s.app = "bench";
  s.roles = {"user"};
  s.tables = {t};
  return s;
}

std::string Uuid(int64_t n) {
  char buf[64];
  snprintf(buf, sizeof buf, "0190a5d2-1c4e-7000-8000-%012llx",
           static_cast<unsigned long long>(n) & 0xffffffffffffull);
  return buf;
}

struct Options {
  int64_t rows = 1000000;
  int64_t page = 5000;
  bool durable = true;
};

// The pull answer lines of a bootstrap of `o.rows` rows, made before anything is timed.
std::vector<std::string> BootstrapLines(const Options& o) {
  std::vector<std::string> lines;
  lines.push_back(R"({"type":"reset"})");
  for (int64_t start = 0; start < o.rows; start += o.page) {
    std::string l =
        R"({"type":"rows","table":"entries","columns":["id","company","user","day","minutes","note","billable","rate","created","updated","score","tag"],"rows":[)";
    for (int64_t i = start; i < std::min(o.rows, start + o.page); ++i) {
      if (i > start) l += ",";
      l += "[\"" + Uuid(i) + "\",\"" + Uuid(7) + "\",\"" + Uuid(i % 50) + "\",\"2024-03-14\"," +
           std::to_string(i % 480) + ",\"Worked on the \\\"thing\\\" for client " +
           std::to_string(i % 97) + "\"," + (i % 2 ? "true" : "false") + ",\"" +
           std::to_string(i % 200) +
           ".50\",\"2024-03-14T09:15:00.123456Z\",\"2024-03-14T10:15:00Z\"," +
           std::to_string(i % 1000) + ".25," + (i % 3 ? "\"tag\"" : "null") + "]";
    }
    l += "]}";
    lines.push_back(std::move(l));
    bool last = start + o.page >= o.rows;
    lines.push_back(json{
        {"type", "cursor"},
        {"cursor", "eyJ3IjoiMTAwIn0"},  // {"w":"100"}
        {"bootstrap", !last},
        {"more", false}}.dump());
  }
  return lines;
}

double SessionSeconds(const Options& o, const std::filesystem::path& dir) {
  StoreOptions store_options;
  store_options.durable = o.durable;
  auto store = Store::Open((dir / "client.db").string(), store_options);
  Check(store.status(), "open");
  auto session = SyncSession::Open(store->get());
  Check(session.status(), "session");
  Check((*session)->HandleSchema(SchemaToJson(BenchSchema())).status(), "schema");
  std::vector<std::string> lines = BootstrapLines(o);
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& l : lines) Check((*session)->HandlePullLine(l), "line");
  Check((*session)->FinishPull().status(), "finish");
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  auto n = (*store)->Execute("SELECT count(*) FROM entries");
  Check(n.status(), "count");
  if (!(*session)->bootstrapped() || n->rows[0][0] != o.rows) {
    std::fprintf(stderr, "session_bench: the bootstrap did not complete\n");
    std::exit(1);
  }
  return secs;
}

// The same rows through one prepared INSERT in one transaction, into the mirrored table, under
// the settings of a bootstrap page (no CHECKs: PostgreSQL checked the rows; no foreign keys) with
// the key index dropped and re-created afterwards: SQLite's own bulk load of the same data.
double RawSeconds(const Options& o, const std::filesystem::path& dir) {
  StoreOptions store_options;
  store_options.durable = o.durable;
  auto store = Store::Open((dir / "raw.db").string(), store_options);
  Check(store.status(), "open raw");
  Check((*store)->ApplySchema(BenchSchema()).status(), "raw schema");
  EngineOptions bootstrap_page;
  bootstrap_page.check_constraints = false;
  bootstrap_page.foreign_keys = false;
  bootstrap_page.durable = o.durable;
  auto t0 = std::chrono::steady_clock::now();
  Check((*store)->RunAsEngine(
            bootstrap_page,
            [&]() -> Status {
              OUTPOST_RETURN_IF_ERROR(
                  (*store)->Execute("DROP INDEX \"_outpost_key_entries\"").status());
              OUTPOST_ASSIGN_OR_RETURN(
                  Statement ins,
                  (*store)->Prepare("INSERT INTO entries VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"));
              for (int64_t i = 0; i < o.rows; ++i) {
                OUTPOST_RETURN_IF_ERROR(ins.BindText(1, Uuid(i)));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(2, Uuid(7)));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(3, Uuid(i % 50)));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(4, "2024-03-14"));
                OUTPOST_RETURN_IF_ERROR(ins.BindInt(5, i % 480));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(
                    6, "Worked on the \"thing\" for client " + std::to_string(i % 97)));
                OUTPOST_RETURN_IF_ERROR(ins.BindInt(7, i % 2));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(8, std::to_string(i % 200) + ".50"));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(9, "2024-03-14T09:15:00.123456Z"));
                OUTPOST_RETURN_IF_ERROR(ins.BindText(10, "2024-03-14T10:15:00Z"));
                OUTPOST_RETURN_IF_ERROR(ins.BindDouble(11, static_cast<double>(i % 1000) + 0.25));
                OUTPOST_RETURN_IF_ERROR(i % 3 ? ins.BindText(12, "tag") : ins.BindNull(12));
                OUTPOST_RETURN_IF_ERROR(ins.Run());
                OUTPOST_RETURN_IF_ERROR(ins.Reset());
              }
              return (*store)
                  ->Execute("CREATE UNIQUE INDEX \"_outpost_key_entries\" ON entries (id)")
                  .status();
            }),
        "raw insert");
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace
}  // namespace outpost

int main(int argc, char** argv) {
  using namespace outpost;
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--rows" && i + 1 < argc) {
      o.rows = std::atoll(argv[++i]);
    } else if (a == "--page" && i + 1 < argc) {
      o.page = std::atoll(argv[++i]);
    } else if (a == "--relaxed") {
      o.durable = false;
    } else {
      std::fprintf(stderr, "usage: session_bench [--rows N] [--page N] [--relaxed]\n");
      return 2;
    }
  }
  if (o.rows < 1 || o.page < 1) return 2;
  auto dir = std::filesystem::temp_directory_path() / "outpost-session-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  double raw = RawSeconds(o, dir);
  double session = SessionSeconds(o, dir);
  std::filesystem::remove_all(dir);
  std::printf("%s\n", nlohmann::json{{"bench", "session_bootstrap"},
                                     {"rows", o.rows},
                                     {"page", o.page},
                                     {"durable", o.durable},
                                     {"session_rows_per_s", static_cast<int64_t>(o.rows / session)},
                                     {"raw_bulk_rows_per_s", static_cast<int64_t>(o.rows / raw)},
                                     {"session_over_raw_time", session / raw}}
                          .dump()
                          .c_str());
  return 0;
}
