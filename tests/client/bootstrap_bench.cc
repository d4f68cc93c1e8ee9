// Bootstrap throughput of the session alone (no network): 1M rows of 12 columns in pages of 5000,
// applied to a durable file database. Hidden: run with `client_tests "[.bench]"`.
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>

#include "outpost/store.h"
#include "outpost/sync.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;

Schema BenchSchema() {
  Table t;
  t.name = "entries";
  t.columns = {testing::MakeColumn("id", TypeKind::kUuid, "uuid", false),
               testing::MakeColumn("company", TypeKind::kUuid, "uuid", false),
               testing::MakeColumn("user", TypeKind::kUuid, "uuid", false),
               testing::MakeColumn("day", TypeKind::kDate, "date", false),
               testing::MakeColumn("minutes", TypeKind::kInteger, "integer", false),
               testing::MakeColumn("note", TypeKind::kText, "text", true),
               testing::MakeColumn("billable", TypeKind::kBoolean, "boolean", false),
               testing::MakeColumn("rate", TypeKind::kNumeric, "numeric(10,2)", true),
               testing::MakeColumn("created", TypeKind::kTimestamptz, "timestamptz", false),
               testing::MakeColumn("updated", TypeKind::kTimestamptz, "timestamptz", false),
               testing::MakeColumn("score", TypeKind::kReal, "double precision", true),
               testing::MakeColumn("tag", TypeKind::kText, "text", true)};
  t.primary_key = {"id"};
  t.sync.scope.kind = ScopeKind::kAll;
  Schema s;
  s.app = "bench";
  s.roles = {"user"};
  s.tables = {t};
  return s;
}

std::string Uuid(int64_t n) {
  char buf[40];
  snprintf(buf, sizeof buf, "0190a5d2-1c4e-7000-8000-%012llx", static_cast<unsigned long long>(n));
  return buf;
}

TEST_CASE("bootstrap of 1M rows through the session", "[.bench]") {
  const int64_t total = 1000000, page = 5000;
  auto dir = std::filesystem::temp_directory_path() / "outpost-bootstrap-bench";
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  StoreOptions store_options;
  store_options.durable = std::getenv("BENCH_DURABLE") == nullptr ? true : false;
  auto store = Store::Open((dir / "client.db").string(), store_options);
  REQUIRE(store.ok());
  auto session = SyncSession::Open(store->get());
  REQUIRE(session.ok());
  REQUIRE((*session)->HandleSchema(SchemaToJson(BenchSchema())).ok());
  // Lines are made first so only the client's work is timed.
  std::vector<std::string> lines;
  lines.push_back(R"({"type":"reset"})");
  for (int64_t start = 0; start < total; start += page) {
    std::string l =
        R"({"columns":["id","company","user","day","minutes","note","billable","rate","created","updated","score","tag"],"rows":[)";
    for (int64_t i = start; i < start + page; ++i) {
      if (i > start) l += ",";
      l += "[\"" + Uuid(i) + "\",\"" + Uuid(7) + "\",\"" + Uuid(i % 50) + "\",\"2024-03-14\"," +
           std::to_string(i % 480) + ",\"Worked on the \\\"thing\\\" for client " +
           std::to_string(i % 97) + "\"," + (i % 2 ? "true" : "false") + ",\"" +
           std::to_string(i % 200) +
           ".50\",\"2024-03-14T09:15:00.123456Z\",\"2024-03-14T10:15:00Z\"," +
           std::to_string(i % 1000) + ".25," + (i % 3 ? "\"tag\"" : "null") + "]";
    }
    l += R"(],"table":"entries","type":"rows"})";
    lines.push_back(std::move(l));
    bool last = start + page >= total;
    std::string cursor = "eyJ3IjoiMTAwIn0";  // {"w":"100"}
    lines.push_back(
        json{{"type", "cursor"}, {"cursor", cursor}, {"bootstrap", !last}, {"more", false}}.dump());
  }
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& l : lines) REQUIRE((*session)->HandlePullLine(l).ok());
  REQUIRE((*session)->FinishPull().ok());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  CHECK((*session)->bootstrapped());
  CHECK((*store)->Execute("SELECT count(*) FROM entries")->rows[0][0] == total);
  std::printf("bootstrap: %lld rows in %.2f s = %.0f rows/s\n", static_cast<long long>(total), secs,
              static_cast<double>(total) / secs);
}

}  // namespace
}  // namespace outpost
