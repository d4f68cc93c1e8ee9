// Change capture: plain SQL produces exactly the expected outbox entries, atomically.
#include <catch2/catch.hpp>
#include <set>

#include "kill_child.h"
#include "outpost/store.h"
#include "test_schema.h"

namespace outpost {

using nlohmann::json;
using testing::CoreTestSchema;

namespace {

const char* kP1 = "0190a5d2-1c4e-7000-8000-000000000001";
const char* kT1 = "0190a5d2-1c4e-7000-8000-0000000000a1";

std::string TempDb() {
  char tmpl[] = "/tmp/outpost-capture-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  return std::string(tmpl) + "/local.db";
}

std::unique_ptr<Store> OpenMirrored(const std::string& path) {
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  REQUIRE((*store)->ApplySchema(CoreTestSchema()).ok());
  return std::move(store).value();
}

std::vector<ClientTransaction> Pending(Store* store) {
  auto txs = store->PendingTransactions();
  INFO(txs.status().ToString());
  REQUIRE(txs.ok());
  return std::move(txs).value();
}

}  // namespace

TEST_CASE("inserts, updates and deletes are captured with keys, changed columns and bases",
          "[core][capture]") {
  auto store = OpenMirrored(":memory:");
  REQUIRE(store
              ->Execute("INSERT INTO projects (id, name, budget) VALUES (?, 'Alpha', '10.00')",
                        json::array({kP1}))
              .ok());
  auto txs = Pending(store.get());
  REQUIRE(txs.size() == 1);
  REQUIRE(txs[0].mutations.size() == 1);
  const Mutation& ins = txs[0].mutations[0];
  CHECK(ins.op == Mutation::Op::kInsert);
  CHECK(ins.table == "projects");
  CHECK(ins.pk == json::array({kP1}));
  CHECK(ins.new_values == json{{"id", kP1}, {"name", "Alpha"}, {"active", 1}, {"budget", "10.00"}});
  CHECK(ins.old_values.empty());

  // Only the changed column, with its previous value.
  REQUIRE(store
              ->Execute("UPDATE projects SET name = 'Beta', budget = budget WHERE id = ?",
                        json::array({kP1}))
              .ok());
  // An update that changes nothing records nothing.
  REQUIRE(store->Execute("UPDATE projects SET name = 'Beta'").ok());
  txs = Pending(store.get());
  REQUIRE(txs.size() == 2);
  const Mutation& upd = txs[1].mutations.at(0);
  CHECK(upd.op == Mutation::Op::kUpdate);
  CHECK(upd.new_values == json{{"name", "Beta"}});
  CHECK(upd.old_values == json{{"name", "Alpha"}});
  CHECK(upd.hlc > ins.hlc);
  CHECK(txs[1].tx_id > txs[0].tx_id);

  // NULLs, reals and blobs are captured exactly.
  REQUIRE(store
              ->Execute("INSERT INTO tasks (id, project_id, title, score, blob) VALUES "
                        "(?, ?, 'T', 0.1, x'00ff')",
                        json::array({kT1, kP1}))
              .ok());
  REQUIRE(store->Execute("UPDATE tasks SET score = NULL WHERE id = ?", json::array({kT1})).ok());
  txs = Pending(store.get());
  CHECK(txs[2].mutations[0].new_values["blob"] == json{{"$blob", "AP8="}});
  CHECK(txs[2].mutations[0].new_values["score"] == 0.1);
  CHECK(txs[3].mutations[0].new_values == json{{"score", nullptr}});
  CHECK(txs[3].mutations[0].old_values == json{{"score", 0.1}});

  // Strings are captured byte for byte, whatever needs escaping in JSON.
  const std::string tricky = "q\"b\\n\nt\tc\x01 Zoë 東京 🚀";
  REQUIRE(
      store->Execute("UPDATE tasks SET title = ? WHERE id = ?", json::array({tricky, kT1})).ok());
  txs = Pending(store.get());
  CHECK(txs.back().mutations[0].new_values == json{{"title", tricky}});

  // A delete carries the whole previous row; the cascade to tasks is captured too.
  REQUIRE(store->Execute("DELETE FROM projects WHERE id = ?", json::array({kP1})).ok());
  txs = Pending(store.get());
  REQUIRE(txs.size() == 6);
  REQUIRE(txs[5].mutations.size() == 2);
  std::set<std::string> tables;
  for (const auto& m : txs[5].mutations) {
    CHECK(m.op == Mutation::Op::kDelete);
    tables.insert(m.table);
  }
  CHECK(tables == std::set<std::string>{"projects", "tasks"});
  for (const auto& m : txs[5].mutations) {
    if (m.table == "projects") {
      CHECK(m.old_values ==
            json{{"id", kP1}, {"name", "Beta"}, {"active", 1}, {"budget", "10.00"}});
    }
  }
}

TEST_CASE("one SQLite transaction is one client transaction; rollbacks leave nothing",
          "[core][capture]") {
  auto store = OpenMirrored(":memory:");
  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(
      store->Execute("INSERT INTO projects (id, name) VALUES (?, 'A')", json::array({kP1})).ok());
  REQUIRE(
      store->Execute("INSERT INTO tasks (project_id, title) VALUES (?, 'x')", json::array({kP1}))
          .ok());
  REQUIRE(store->Execute("UPDATE projects SET name = 'B'").ok());
  REQUIRE(store->Execute("COMMIT").ok());
  auto txs = Pending(store.get());
  REQUIRE(txs.size() == 1);
  CHECK(txs[0].mutations.size() == 3);
  CHECK(txs[0].mutations[0].seq < txs[0].mutations[1].seq);

  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(store->Execute("UPDATE projects SET name = 'C'").ok());
  REQUIRE(store->Execute("ROLLBACK").ok());
  // A failed statement inside a transaction is undone with its captures, the rest stays.
  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(store->Execute("UPDATE projects SET name = 'D'").ok());
  CHECK_FALSE(store->Execute("UPDATE tasks SET minutes = 5000").ok());
  REQUIRE(store->Execute("COMMIT").ok());
  txs = Pending(store.get());
  REQUIRE(txs.size() == 2);
  REQUIRE(txs[1].mutations.size() == 1);
  CHECK(txs[1].mutations[0].new_values == json{{"name", "D"}});
  CHECK(txs[1].mutations[0].old_values == json{{"name", "B"}});
  // Savepoints roll back their captures.
  REQUIRE(store
              ->Execute("BEGIN; SAVEPOINT s; UPDATE projects SET name = 'E'; ROLLBACK TO s; "
                        "UPDATE projects SET active = 0; COMMIT")
              .ok());
  txs = Pending(store.get());
  REQUIRE(txs.size() == 3);
  REQUIRE(txs[2].mutations.size() == 1);
  CHECK(txs[2].mutations[0].new_values == json{{"active", 0}});
}

TEST_CASE("engine writes are not captured", "[core][capture]") {
  auto store = OpenMirrored(":memory:");
  Status s = store->RunAsEngine([&] {
    return store
        ->Execute("INSERT INTO projects (id, name) VALUES (?, 'server')", json::array({kP1}))
        .status();
  });
  REQUIRE(s.ok());
  CHECK(store->CountOutbox()->unconfirmed_mutations == 0);
  // A failing engine write rolls back entirely.
  Status bad = store->RunAsEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(store->Execute("UPDATE projects SET name = 'x'").status());
    return Status(Code::kConflict, "stop");
  });
  CHECK(bad.code() == Code::kConflict);
  CHECK(store->Execute("SELECT name FROM projects")->rows[0][0] == "server");
  // Capture is back on afterwards.
  REQUIRE(store->Execute("UPDATE projects SET name = 'app'").ok());
  CHECK(store->CountOutbox()->unconfirmed_mutations == 1);
}

TEST_CASE("the outbox and tx ids survive reopening and confirmed entries go", "[core][capture]") {
  std::string path = TempDb();
  int64_t first_tx = 0;
  {
    auto store = OpenMirrored(path);
    REQUIRE(
        store->Execute("INSERT INTO projects (id, name) VALUES (?, 'A')", json::array({kP1})).ok());
    REQUIRE(store->Execute("UPDATE projects SET name = 'B'").ok());
    first_tx = Pending(store.get())[0].tx_id;
    // The server applied both transactions and the pull cursor passed them.
    for (const auto& tx : Pending(store.get())) REQUIRE(store->MarkConfirmed(tx.tx_id, 1).ok());
    REQUIRE(store->DropConfirmedBefore(2).ok());
    CHECK(store->CountOutbox()->unconfirmed_mutations == 0);
  }
  auto reopened = Store::Open(path);
  REQUIRE(reopened.ok());
  REQUIRE((*reopened)->Execute("UPDATE projects SET name = 'C'").ok());
  auto txs = Pending(reopened->get());
  REQUIRE(txs.size() == 1);
  CHECK(txs[0].tx_id == first_tx + 2);  // never reuses an id the server may have seen

  // A second connection to the same file allocates ids under the write lock.
  auto other = Store::Open(path);
  REQUIRE(other.ok());
  REQUIRE((*other)->Execute("UPDATE projects SET name = 'D'").ok());
  REQUIRE((*reopened)->Execute("UPDATE projects SET name = 'E'").ok());
  txs = Pending(reopened->get());
  REQUIRE(txs.size() == 3);
  CHECK(txs[1].tx_id == first_tx + 3);
  CHECK(txs[2].tx_id == first_tx + 4);
}

TEST_CASE("a process killed in the middle of a transaction leaves no partial outbox",
          "[core][capture]") {
  std::string path = TempDb();
  {
    auto store = OpenMirrored(path);
    REQUIRE(
        store
            ->Execute("INSERT INTO projects (id, name) VALUES (?, 'committed')", json::array({kP1}))
            .ok());
  }
  testing::KillChildAfter([&]() -> int {
    auto store = Store::Open(path);
    if (!store.ok()) return 2;
    auto& s = *store;
    if (!s->Execute("BEGIN").ok()) return 3;
    for (int i = 0; i < 500; ++i) {
      if (!s->Execute("INSERT INTO tasks (project_id, title) VALUES (?, ?)",
                      json::array({kP1, "t" + std::to_string(i)}))
               .ok()) {
        return 4;
      }
    }
    if (!s->Execute("UPDATE projects SET name = 'uncommitted'").ok()) return 5;
    return 0;  // killed with the transaction open
  });

  auto store = Store::Open(path);
  REQUIRE(store.ok());
  CHECK((*store)->Execute("SELECT count(*) FROM tasks")->rows[0][0] == 0);
  CHECK((*store)->Execute("SELECT name FROM projects")->rows[0][0] == "committed");
  auto txs = Pending(store->get());
  REQUIRE(txs.size() == 1);
  REQUIRE(txs[0].mutations.size() == 1);
  CHECK(txs[0].mutations[0].op == Mutation::Op::kInsert);
}

}  // namespace outpost
