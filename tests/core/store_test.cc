// Store: opening, SQL with JSON values, errors, migrations, keys.
#include "outpost/store.h"

#include <sys/stat.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <filesystem>

#include "kill_child.h"
#include "test_schema.h"

namespace outpost {

using nlohmann::json;
using testing::CoreTestSchema;

namespace {
std::string TempDb() {
  char tmpl[] = "/tmp/outpost-core-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return std::string(tmpl) + "/local.db";
}
std::unique_ptr<Store> OpenMirrored(const std::string& path) {
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  auto report = (*store)->ApplySchema(CoreTestSchema());
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  return std::move(store).value();
}
}  // namespace

TEST_CASE("SQL runs with JSON parameters and returns typed rows", "[core]") {
  auto store = OpenMirrored(":memory:");
  auto ins = store->Execute(
      "INSERT INTO projects (id, name, active, budget) VALUES (?, ?, ?, ?)",
      json::array({"0190a5d2-1c4e-7000-8000-000000000001", "Zoë 🚀", false, "-12.50"}));
  INFO(ins.status().ToString());
  REQUIRE(ins.ok());
  CHECK(ins->changes == 1);
  auto named =
      store->Execute("INSERT INTO tasks (project_id, title, score, blob) VALUES (:p, :t, :s, :b)",
                     json{{"p", "0190a5d2-1c4e-7000-8000-000000000001"},
                          {":t", "x"},
                          {"s", 0.25},
                          {"b", {{"$blob", "AP8Q"}}}});
  INFO(named.status().ToString());
  REQUIRE(named.ok());
  auto rows = store->Execute("SELECT name, active, budget, (SELECT blob FROM tasks) FROM projects");
  REQUIRE(rows.ok());
  CHECK(rows->columns ==
        std::vector<std::string>{"name", "active", "budget", "(SELECT blob FROM tasks)"});
  CHECK(rows->rows[0] == json::array({"Zoë 🚀", false, "-12.50", {{"$blob", "AP8Q"}}}));
  // Defaults: UUIDv7 keys and integer defaults.
  auto task = store->Execute("SELECT id, minutes FROM tasks");
  REQUIRE(task.ok());
  std::string id = task->rows[0][0].get<std::string>();
  CHECK(id.size() == 36);
  CHECK(id[14] == '7');
  CHECK(task->rows[0][1] == 0);
}

TEST_CASE("errors carry stable codes", "[core]") {
  auto store = OpenMirrored(":memory:");
  auto syntax = store->Execute("SELEKT 1");
  CHECK(syntax.status().code() == Code::kSqlError);
  auto missing = store->Execute("SELECT * FROM nope");
  CHECK(missing.status().code() == Code::kSqlError);
  CHECK_THAT(missing.status().message(), Catch::Contains("nope"));
  auto params = store->Execute("SELECT ?", json::array());
  CHECK(params.status().code() == Code::kInvalidArgument);
  auto wrong_type = store->Execute("INSERT INTO orders (total) VALUES ('1')");
  REQUIRE(wrong_type.ok());  // numeric is TEXT locally
  auto not_int = store->Execute(
      "INSERT INTO projects (id, name) VALUES ('0190a5d2-1c4e-7000-8000-00000000000a', 'p');"
      "INSERT INTO tasks (project_id, title, minutes) VALUES "
      "('0190a5d2-1c4e-7000-8000-00000000000a', 't', 'lots')");
  CHECK(not_int.status().code() == Code::kConstraint);  // STRICT: text in an INTEGER column
  auto range = store->Execute(
      "INSERT INTO tasks (project_id, title, minutes) VALUES "
      "('0190a5d2-1c4e-7000-8000-00000000000a', 't', 1441)");
  CHECK(range.status().code() == Code::kConstraint);
  CHECK_THAT(range.status().message(), Catch::Contains("minutes_range"));
  auto bad_uuid = store->Execute("INSERT INTO projects (id, name) VALUES ('NOT-A-UUID', 'p')");
  CHECK(bad_uuid.status().code() == Code::kConstraint);
  auto bad_bool = store->Execute("INSERT INTO projects (name, active) VALUES ('p', 7)");
  CHECK(bad_bool.status().code() == Code::kConstraint);
  auto dangling = store->Execute(
      "INSERT INTO tasks (project_id, title) VALUES ('0190a5d2-1c4e-7000-8000-0000000000ff', 't')");
  CHECK(dangling.status().code() == Code::kConstraint);
  // The key (a unique index, KeyIndexName) refuses a second row and is an upsert target.
  auto twice = store->Execute(
      "INSERT INTO projects (id, name) VALUES ('0190a5d2-1c4e-7000-8000-00000000000a', 'again')");
  CHECK(twice.status().code() == Code::kConstraint);
  auto upsert = store->Execute(
      "INSERT INTO projects (id, name) VALUES ('0190a5d2-1c4e-7000-8000-00000000000a', 'up') "
      "ON CONFLICT (id) DO UPDATE SET name = excluded.name");
  CHECK(upsert.ok());
  auto bad_blob = store->Execute("SELECT ?", json::array({{{"$blob", 5}}}));
  CHECK(bad_blob.status().code() == Code::kInvalidArgument);
}

TEST_CASE("global tables are read-only and server keys are reserved", "[core]") {
  auto store = OpenMirrored(":memory:");
  auto ro = store->Execute("INSERT INTO statuses (code) VALUES ('ACTIVE')");
  REQUIRE_FALSE(ro.ok());
  CHECK_THAT(ro.status().message(), Catch::Contains("read-only"));
  // The sync engine may write it.
  REQUIRE(store
              ->RunAsEngine([&] {
                return store->Execute("INSERT INTO statuses (code) VALUES ('ACTIVE')").status();
              })
              .ok());

  // Offline rows of serial-keyed tables get negative temporary keys; positive keys are the
  // server's.
  REQUIRE(store->Execute("INSERT INTO orders (total) VALUES ('1.00')").ok());
  REQUIRE(store->Execute("INSERT INTO orders (total) VALUES ('2.00')").ok());
  auto keys = store->Execute("SELECT id FROM orders ORDER BY id DESC");
  REQUIRE(keys.ok());
  CHECK(keys->rows[0][0] == -1);
  CHECK(keys->rows[1][0] == -2);
  auto positive = store->Execute("INSERT INTO orders (id, total) VALUES (5, '1')");
  REQUIRE_FALSE(positive.ok());
  CHECK_THAT(positive.status().message(), Catch::Contains("assigned by the server"));
}

TEST_CASE("temporary keys never collide across reopen", "[core]") {
  std::string path = TempDb();
  {
    auto store = OpenMirrored(path);
    REQUIRE(store->Execute("INSERT INTO orders (total) VALUES ('1')").ok());
    REQUIRE(
        store
            ->RunAsEngine([&] {
              return store->Execute("INSERT INTO orders (id, total) VALUES (-40, '1')").status();
            })
            .ok());
  }
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  REQUIRE((*store)->Execute("INSERT INTO orders (total) VALUES ('1')").ok());
  auto min = (*store)->Execute("SELECT min(id) FROM orders");
  CHECK(min->rows[0][0] == -41);
}

TEST_CASE("a changed schema migrates the mirror and keeps rows", "[core]") {
  std::string path = TempDb();
  auto store = OpenMirrored(path);
  REQUIRE(store->Execute("INSERT INTO projects (name) VALUES ('kept')").ok());
  Schema v2 = CoreTestSchema();
  Column notes;
  notes.name = "notes";
  notes.type = {TypeKind::kText, "text", TypeKind::kText, {}};
  v2.tables[0].columns.push_back(notes);
  v2.tables.pop_back();  // statuses goes away
  auto report = store->ApplySchema(v2);
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  CHECK(report->migrated == std::vector<std::string>{"projects"});
  CHECK(report->dropped == std::vector<std::string>{"statuses"});
  auto rows = store->Execute("SELECT name, notes FROM projects");
  REQUIRE(rows.ok());
  CHECK(rows->rows == json::array({json::array({"kept", nullptr})}));
  // Capture follows the new columns.
  REQUIRE(store->Execute("UPDATE projects SET notes = 'n'").ok());
  auto txs = store->PendingTransactions();
  REQUIRE(txs.ok());
  CHECK(txs->back().mutations.back().new_values == json{{"notes", "n"}});
  // Same version again: nothing to do. Reopen: the schema is remembered.
  auto again = store->ApplySchema(v2);
  REQUIRE(again.ok());
  CHECK(again->migrated.empty());
  store.reset();
  auto reopened = Store::Open(path);
  REQUIRE(reopened.ok());
  REQUIRE((*reopened)->schema() != nullptr);
  CHECK(*(*reopened)->schema() == v2);

  // A migration that existing rows violate changes nothing.
  Schema v3 = v2;
  v3.tables[0].checks.push_back({"name_short", "(length(name) < 3)"});
  auto refused = (*reopened)->ApplySchema(v3);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == Code::kConstraint);
  CHECK(*(*reopened)->schema() == v2);
  CHECK((*reopened)->Execute("SELECT count(*) FROM projects")->rows[0][0] == 1);
}

TEST_CASE("Execute reuses prepared statements and stays correct", "[core]") {
  auto store = OpenMirrored(":memory:");
  const std::string insert = "INSERT INTO projects (id, name) VALUES (?, ?)";
  const std::string select = "SELECT name FROM projects WHERE id = ?";
  for (int i = 0; i < 40; ++i) {  // more distinct texts than the cache holds, and repeats
    const std::string id = "0190a5d2-1c4e-7000-8000-0000000000" + std::to_string(10 + i);
    REQUIRE(store->Execute(insert, json::array({id, "p" + std::to_string(i)})).ok());
    auto r = store->Execute(select, json::array({id}));
    REQUIRE(r.ok());
    CHECK(r->rows == json::array({json::array({"p" + std::to_string(i)})}));
    REQUIRE(store->Execute("SELECT " + std::to_string(i)).ok());
  }
  // A failed run leaves the statement ready: the same SQL runs again, bindings fresh.
  auto dup = store->Execute(insert, json::array({"0190a5d2-1c4e-7000-8000-000000000010", "dup"}));
  REQUIRE_FALSE(dup.ok());
  CHECK(dup.status().code() == Code::kConstraint);
  REQUIRE(store->Execute(insert, json::array({"0190a5d2-1c4e-7000-8000-000000000099", "ok"})).ok());
  auto missing = store->Execute(select, json::array({"0190a5d2-1c4e-7000-8000-000000000077"}));
  REQUIRE(missing.ok());
  CHECK(missing->rows.empty());
  // Fewer parameters than the last run had is an error, not a stale binding.
  CHECK_FALSE(store->Execute(select, json::array()).ok());
  // A cached statement of a table that a migration changes follows the new table.
  REQUIRE(store->Execute("SELECT * FROM projects LIMIT 1").ok());
  Schema v2 = CoreTestSchema();
  Column notes;
  notes.name = "notes";
  notes.type = {TypeKind::kText, "text", TypeKind::kText, {}};
  v2.tables[0].columns.push_back(notes);
  REQUIRE(store->ApplySchema(v2).ok());
  auto star = store->Execute("SELECT * FROM projects LIMIT 1");
  REQUIRE(star.ok());
  CHECK(std::find(star->columns.begin(), star->columns.end(), "notes") != star->columns.end());
  // Statements of an app transaction, cached or not, end it cleanly.
  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(store->Execute("UPDATE projects SET notes = 'x'").ok());
  REQUIRE(store->Execute("COMMIT").ok());
  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(store->Execute("COMMIT").ok());
  CHECK_FALSE(store->in_transaction());
  CHECK(store->Execute("SELECT count(*) FROM projects WHERE notes = 'x'")->rows[0][0] == 41);
}

TEST_CASE("Execute without a statement cache", "[core]") {
  StoreOptions options;
  options.statement_cache = 0;
  auto store = Store::Open(":memory:", options);
  REQUIRE(store.ok());
  REQUIRE((*store)->ApplySchema(CoreTestSchema()).ok());
  for (int i = 0; i < 3; ++i) {
    REQUIRE((*store)->Execute("INSERT INTO projects (name) VALUES (?)", json::array({i})).ok());
  }
  CHECK((*store)->Execute("SELECT count(*) FROM projects")->rows[0][0] == 3);
}

TEST_CASE("a prepared statement binds blobs by index or name and reads columns as views",
          "[core]") {
  auto store = OpenMirrored(":memory:");
  auto ins = store->Prepare("INSERT INTO projects (id, name, active) VALUES (:id, :name, :active)");
  REQUIRE(ins.ok());
  CHECK(ins->parameter_index(":name") == 2);
  CHECK(ins->parameter_index("name") == 0);  // the prefix is part of the name
  CHECK(ins->BindText(ins->parameter_index(":id"), "0190a5d2-1c4e-7000-8000-000000000001").ok());
  CHECK(ins->BindText(2, "p").ok());
  CHECK(ins->BindInt(3, 1).ok());
  REQUIRE(ins->Run().ok());
  auto task = store->Prepare("INSERT INTO tasks (project_id, title, blob) VALUES (?, ?, ?)");
  REQUIRE(task.ok());
  CHECK(task->BindText(1, "0190a5d2-1c4e-7000-8000-000000000001").ok());
  CHECK(task->BindText(2, "t").ok());
  CHECK(task->BindBlob(3, std::string_view("\0\xff", 2)).ok());
  REQUIRE(task->Run().ok());
  CHECK(task->Reset().ok());
  CHECK(task->BindText(1, "0190a5d2-1c4e-7000-8000-000000000001").ok());
  CHECK(task->BindText(2, "empty").ok());
  CHECK(task->BindBlob(3, "").ok());  // a zero-length BLOB, not NULL
  REQUIRE(task->Run().ok());

  auto q = store->Prepare(
      "SELECT p.name, p.active, t.blob, p.active + 0 FROM projects p JOIN tasks t ON "
      "t.project_id = p.id ORDER BY t.title DESC");
  REQUIRE(q.ok());
  CHECK(q->column_boolean(1));
  CHECK_FALSE(q->column_boolean(0));
  CHECK_FALSE(q->column_boolean(3));  // an expression, not the column
  auto row = q->Step();
  REQUIRE(row.ok());
  REQUIRE(*row);
  CHECK(q->column_view(0).kind == ValueView::Kind::kText);
  CHECK(q->column_view(0).bytes == "p");
  CHECK(q->column_view(0).bytes.data()[1] == '\0');  // NUL-terminated
  CHECK(q->column_view(1).integer == 1);
  CHECK(q->column_view(2).kind == ValueView::Kind::kBlob);
  CHECK(q->column_view(2).bytes == std::string_view("\0\xff", 2));
  row = q->Step();
  REQUIRE(row.ok());
  REQUIRE(*row);
  CHECK(q->column_view(2).kind == ValueView::Kind::kBlob);
  CHECK(q->column_view(2).bytes.empty());
}

TEST_CASE("dropping a table with unsynced changes is refused", "[core]") {
  auto store = OpenMirrored(":memory:");
  REQUIRE(store->Execute("INSERT INTO orders (total) VALUES ('3')").ok());
  Schema v2 = CoreTestSchema();
  v2.tables.erase(v2.tables.begin() + 2);
  auto r = store->ApplySchema(v2);
  REQUIRE_FALSE(r.ok());
  CHECK(r.status().code() == Code::kConflict);
  CHECK(store->Execute("SELECT count(*) FROM orders")->rows[0][0] == 1);
}

TEST_CASE("a stored database that is not SQLite is a clear error", "[core]") {
  std::string path = TempDb();
  {
    FILE* f = fopen(path.c_str(), "w");
    fputs("this is not a database, just text that is long enough to look like a header......", f);
    fclose(f);
  }
  auto store = Store::Open(path);
  REQUIRE_FALSE(store.ok());
  CHECK(store.status().code() == Code::kCorruption);
}

TEST_CASE("UUIDv7 and the hybrid logical clock", "[core]") {
  struct FixedEnv : Env {
    int64_t now = 1700000000000000;
    int64_t NowMicros() override { return now; }
    void RandomBytes(uint8_t* out, size_t n) override {
      for (size_t i = 0; i < n; ++i) out[i] = static_cast<uint8_t>(i * 37 + 11);
    }
  } env;
  UuidV7Generator gen(&env);
  std::string a = gen.Next(), b = gen.Next();
  CHECK(a < b);  // same millisecond: the counter keeps order
  CHECK(a.substr(0, 13) == "018bcfe5-6800");
  CHECK(a[14] == '7');
  CHECK(std::string("89ab").find(a[19]) != std::string::npos);
  HybridLogicalClock hlc(&env);
  uint64_t t1 = hlc.Now(), t2 = hlc.Now();
  CHECK(t2 == t1 + 1);
  env.now -= 5000000;  // the wall clock steps back: the clock does not
  CHECK(hlc.Now() > t2);
  hlc.Observe(t2 + 1000);
  CHECK(hlc.Now() == t2 + 1001);
  CHECK(HybridLogicalClock::Millis(t1) == 1700000000000);
}

namespace {
std::string JournalMode(Store& store) {
  auto r = store.Execute("PRAGMA journal_mode");
  REQUIRE(r.ok());
  return r->rows[0][0].get<std::string>();
}
int64_t Count(Store& store, const std::string& sql) {
  auto r = store.Execute(sql);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return r->rows[0][0].get<int64_t>();
}
const char* kBulkProject = "0190a5d2-1c4e-7000-8000-00000000b001";
}  // namespace

TEST_CASE("a bulk load writes through a rollback journal and switches back to WAL", "[core]") {
  std::string path = TempDb();
  auto store = OpenMirrored(path);
  REQUIRE(JournalMode(*store) == "wal");
  auto begun = store->BeginBulkLoad();
  REQUIRE(begun.ok());
  CHECK(*begun);
  CHECK(store->bulk_loading());
  CHECK(JournalMode(*store) == "truncate");

  // Engine writes asking for a relaxed sync are still fully synced (only safe with WAL), and
  // the app's own writes are captured as usual.
  EngineOptions relaxed;
  relaxed.durable = false;
  int64_t synchronous = -1;
  REQUIRE(store
              ->RunAsEngine(relaxed,
                            [&]() -> Status {
                              OUTPOST_ASSIGN_OR_RETURN(auto r,
                                                       store->Execute("PRAGMA synchronous"));
                              synchronous = r.rows[0][0].get<int64_t>();
                              return store
                                  ->Execute("INSERT INTO projects (id, name) VALUES (?, 'bulk')",
                                            json::array({kBulkProject}))
                                  .status();
                            })
              .ok());
  CHECK(synchronous == 2);  // FULL
  REQUIRE(
      store->Execute("UPDATE projects SET name = 'app' WHERE id = ?", json::array({kBulkProject}))
          .ok());
  CHECK(Count(*store, "SELECT count(*) FROM _outpost_outbox") == 1);

  REQUIRE(store->EndBulkLoad().ok());
  CHECK_FALSE(store->bulk_loading());
  CHECK(JournalMode(*store) == "wal");
  CHECK(Count(*store, "SELECT count(*) FROM projects WHERE name = 'app'") == 1);

  SECTION("not inside a transaction") {
    REQUIRE(store->Execute("BEGIN").ok());
    auto inside = store->BeginBulkLoad();
    CHECK(inside.status().code() == Code::kInvalidArgument);
    REQUIRE(store->Execute("ROLLBACK").ok());
  }
  SECTION("refused while another connection has the file open; the load stays in WAL") {
    auto other = Store::Open(path);
    REQUIRE(other.ok());
    CHECK(Count(**other, "SELECT count(*) FROM projects") == 1);
    auto refused = store->BeginBulkLoad();
    REQUIRE(refused.ok());
    CHECK_FALSE(*refused);
    CHECK_FALSE(store->bulk_loading());
    CHECK(JournalMode(*store) == "wal");
  }
  SECTION("a store opened meanwhile switches the file back to WAL and both keep working") {
    REQUIRE(*store->BeginBulkLoad());
    auto other = Store::Open(path);
    REQUIRE(other.ok());
    CHECK(JournalMode(**other) == "wal");
    REQUIRE((*other)->Execute("UPDATE projects SET name = 'other'").ok());
    REQUIRE(store
                ->RunAsEngine(
                    relaxed,
                    [&] { return store->Execute("UPDATE projects SET name = 'engine'").status(); })
                .ok());
    CHECK(Count(**other, "SELECT count(*) FROM projects WHERE name = 'engine'") == 1);
    REQUIRE(store->EndBulkLoad().ok());
    CHECK(JournalMode(*store) == "wal");
  }
  SECTION("in-memory stores have no WAL to leave") {
    auto memory = Store::Open(":memory:");
    REQUIRE(memory.ok());
    auto r = (*memory)->BeginBulkLoad();
    REQUIRE(r.ok());
    CHECK_FALSE(*r);
  }
}

TEST_CASE("store files are readable by their owner only", "[core]") {
  std::string path = TempDb();
  auto store = OpenMirrored(path);
  REQUIRE(store
              ->Execute("INSERT INTO projects (id, name) VALUES (?, 'private')",
                        json::array({kBulkProject}))
              .ok());
  for (const std::string& file : {path, path + "-wal", path + "-shm"}) {
    INFO(file);
    struct stat st {};
    REQUIRE(stat(file.c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
  }
}

TEST_CASE("a process killed during a bulk load loses nothing committed and reopens in WAL",
          "[core]") {
  std::string path = TempDb();
  {
    auto store = OpenMirrored(path);
    REQUIRE(store
                ->Execute("INSERT INTO projects (id, name) VALUES (?, 'offline edit')",
                          json::array({kBulkProject}))
                .ok());
  }
  testing::KillChildAfter([&]() -> int {
    auto store = Store::Open(path);
    if (!store.ok()) return 2;
    auto& s = *store;
    auto begun = s->BeginBulkLoad();
    if (!begun.ok() || !*begun) return 3;
    // One committed engine page, then one left open when the process dies.
    EngineOptions page;
    page.durable = false;
    Status committed = s->RunAsEngine(page, [&] {
      return s
          ->Execute("INSERT INTO tasks (project_id, title) VALUES (?, 'committed')",
                    json::array({kBulkProject}))
          .status();
    });
    if (!committed.ok()) return 4;
    if (!s->Execute("BEGIN").ok()) return 5;
    for (int i = 0; i < 2000; ++i) {
      if (!s->Execute("INSERT INTO tasks (project_id, title) VALUES (?, ?)",
                      json::array({kBulkProject, "open " + std::to_string(i)}))
               .ok()) {
        return 6;
      }
    }
    if (!s->Execute("UPDATE projects SET name = 'uncommitted'").ok()) return 7;
    return 0;  // killed with the transaction open and the journal hot
  });

  auto store = Store::Open(path);
  REQUIRE(store.ok());
  CHECK(JournalMode(**store) == "wal");
  CHECK(Count(**store, "SELECT count(*) FROM tasks") == 1);
  CHECK(Count(**store, "SELECT count(*) FROM projects WHERE name = 'offline edit'") == 1);
  CHECK(Count(**store, "SELECT count(*) FROM _outpost_outbox") == 1);
  CHECK((*store)->Execute("PRAGMA integrity_check")->rows[0][0] == "ok");
}

}  // namespace outpost
