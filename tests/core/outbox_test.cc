// The outbox as the sync session uses it: confirmation, checkpoints, rebase lookups, removal,
// parking of rows with a missing parent, and high-water marks that survive every removal.
#include <catch2/catch.hpp>

#include "outpost/store.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;

constexpr const char* kP1 = "0190a5d2-1c4e-7000-8000-000000000001";
constexpr const char* kP2 = "0190a5d2-1c4e-7000-8000-000000000002";

// The outbox entries of one row (by the outbox form of its key), confirmed or not, in order.
std::vector<Mutation> RowEntries(Store* store, const std::string& table, const std::string& pk) {
  auto all = store->OutboxMutations(table);
  REQUIRE(all.ok());
  std::vector<Mutation> out;
  for (auto& m : *all) {
    if (m.pk.dump() == pk) out.push_back(std::move(m));
  }
  return out;
}

std::unique_ptr<Store> Mirrored(const std::string& path = ":memory:") {
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  REQUIRE((*store)->ApplySchema(testing::CoreTestSchema()).ok());
  return std::move(store).value();
}

TEST_CASE("confirmed entries leave the pending list and stay for rebase until dropped",
          "[core][outbox]") {
  auto store = Mirrored();
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'a')", json{kP1}).ok());
  REQUIRE(store->Execute("UPDATE projects SET name = 'b' WHERE id = ?", json{kP1}).ok());
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'c')", json{kP2}).ok());
  auto txs = store->PendingTransactions();
  REQUIRE(txs.ok());
  REQUIRE(txs->size() == 3);
  int64_t t1 = (*txs)[0].tx_id, t2 = (*txs)[1].tx_id, t3 = (*txs)[2].tx_id;

  REQUIRE(store->MarkConfirmed(t1, 500).ok());
  REQUIRE(store->MarkConfirmed(t2, 510).ok());
  CHECK(store->MarkConfirmed(999, 1).code() == Code::kNotFound);
  txs = store->PendingTransactions();
  REQUIRE(txs->size() == 1);
  CHECK((*txs)[0].tx_id == t3);
  CHECK(store->CountOutbox()->unconfirmed_mutations == 1);
  auto counts = store->CountOutbox();
  REQUIRE(counts.ok());
  CHECK(counts->unconfirmed_mutations == 1);
  CHECK(counts->unconfirmed_transactions == 1);
  CHECK(counts->confirmed_mutations == 2);
  CHECK(counts->confirmed_transactions == 2);

  // Every entry of a row, confirmed or not, in order, by the outbox form of its key.
  std::string pk = PkJson({Value(std::string(kP1))});
  CHECK(pk == std::string("[\"") + kP1 + "\"]");
  auto row = RowEntries(store.get(), "projects", pk);
  REQUIRE(row.size() == 2);
  CHECK(row[0].op == Mutation::Op::kInsert);
  CHECK(row[0].checkpoint == 500);
  CHECK(row[1].op == Mutation::Op::kUpdate);

  auto dropped = store->DropConfirmedBefore(510);
  REQUIRE(dropped.ok());
  CHECK(*dropped == 1);
  CHECK(RowEntries(store.get(), "projects", pk).size() == 1);
  REQUIRE(store->RemoveTransaction(t3).ok());
  CHECK(store->OutboxMutations()->size() == 1);
  CHECK(store->OutboxMutations("tasks")->empty());
  REQUIRE(store->DropConfirmedBefore(511).ok());
  CHECK(store->OutboxMutations()->empty());

  // Ids and clocks continue after the outbox was emptied.
  REQUIRE(store->Execute("UPDATE projects SET name = 'd' WHERE id = ?", json{kP1}).ok());
  txs = store->PendingTransactions();
  REQUIRE(txs->size() == 1);
  CHECK((*txs)[0].tx_id == t3 + 1);
}

TEST_CASE("outbox changes refuse to join an application transaction", "[core][outbox]") {
  auto store = Mirrored();
  REQUIRE(store->Execute("BEGIN").ok());
  CHECK(store->RemoveTransaction(1).code() == Code::kInvalidArgument);
  REQUIRE(store->Execute("ROLLBACK").ok());
  // Inside an engine transaction they join it, and roll back with it.
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'a')", json{kP1}).ok());
  int64_t tx = (*store->PendingTransactions())[0].tx_id;
  Status s = store->RunAsEngine([&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(store->MarkConfirmed(tx, 7));
    return Status(Code::kConflict, "stop");
  });
  CHECK(s.code() == Code::kConflict);
  CHECK(store->CountOutbox()->unconfirmed_mutations == 1);
}

TEST_CASE("engine transactions: foreign keys off, deferred, and parking of violators",
          "[core][outbox]") {
  auto store = Mirrored();
  const char* orphan =
      "INSERT INTO tasks (id, project_id, title) VALUES "
      "('0190a5d2-1c4e-7000-8000-0000000000a1', ?, 'orphan')";
  // Enforced by default.
  CHECK(store->RunAsEngine([&] { return store->Execute(orphan, json{kP2}).status(); }).code() ==
        Code::kConstraint);
  // Deferred: a child before its parent is fine within one transaction.
  EngineOptions deferred;
  deferred.defer_foreign_keys = true;
  REQUIRE(store
              ->RunAsEngine(deferred,
                            [&]() -> Status {
                              OUTPOST_RETURN_IF_ERROR(store->Execute(orphan, json{kP2}).status());
                              return store
                                  ->Execute("INSERT INTO projects (id, name) VALUES (?, 'p')",
                                            json{kP2})
                                  .status();
                            })
              .ok());
  REQUIRE(store->Execute("DELETE FROM tasks").ok());
  // Off: no check at all; with parking, the violator is set aside at commit.
  EngineOptions off;
  off.foreign_keys = false;
  off.park_fk_violations = true;
  REQUIRE(store->RunAsEngine(off, [&] { return store->Execute(orphan, json{kP1}).status(); }).ok());
  CHECK(store->Execute("SELECT count(*) FROM tasks")->rows[0][0] == 0);
  CHECK(*store->ParkedCount() == 1);
  // Foreign keys are back on afterwards.
  CHECK_FALSE(store->Execute(orphan, json{kP1}).ok());
  // Deferred + parking: the parked row returns once its parent exists.
  EngineOptions park;
  park.defer_foreign_keys = true;
  park.park_fk_violations = true;
  REQUIRE(store
              ->RunAsEngine(park,
                            [&] {
                              return store
                                  ->Execute("INSERT INTO projects (id, name) VALUES (?, 'p1')",
                                            json{kP1})
                                  .status();
                            })
              .ok());
  CHECK(store->Execute("SELECT title FROM tasks")->rows == json{{"orphan"}});
  // CHECKs can be skipped for server rows, and are enforced again afterwards.
  EngineOptions unchecked;
  unchecked.check_constraints = false;
  unchecked.durable = false;
  REQUIRE(
      store
          ->RunAsEngine(unchecked,
                        [&] { return store->Execute("UPDATE tasks SET minutes = 5000").status(); })
          .ok());
  CHECK(store->Execute("UPDATE tasks SET minutes = 5001").status().code() == Code::kConstraint);
  CHECK(*store->ParkedCount() == 0);
  // Engine writes are never captured: the outbox holds the app's DELETE FROM tasks only.
  CHECK(store->CountOutbox()->unconfirmed_mutations == 1);
}

TEST_CASE("an outbox from before checkpoints is upgraded on open", "[core][outbox]") {
  char tmpl[] = "/tmp/outpost-outbox-XXXXXX";
  REQUIRE(mkdtemp(tmpl) != nullptr);
  std::string path = std::string(tmpl) + "/old.db";
  {
    auto store = Mirrored(path);
    REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'a')", json{kP1}).ok());
    // Recreate the outbox as older versions made it.
    auto r = store->Execute("ALTER TABLE _outpost_outbox DROP COLUMN checkpoint");
    INFO(r.status().ToString());
    REQUIRE(r.ok());
  }
  auto store = Store::Open(path);
  REQUIRE(store.ok());
  auto txs = (*store)->PendingTransactions();
  INFO(txs.status().ToString());
  REQUIRE(txs.ok());
  CHECK(txs->size() == 1);
  REQUIRE((*store)->MarkConfirmed((*txs)[0].tx_id, 3).ok());
}

}  // namespace
}  // namespace outpost
