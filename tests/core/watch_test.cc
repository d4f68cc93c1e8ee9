// Change notification and watched queries (Store::TablesRead, SetChangeListener, Watch): one
// announcement per committed transaction, for the app's writes and the sync engine's alike.
#include <catch2/catch.hpp>

#include "outpost/mirror_writer.h"
#include "outpost/store.h"
#include "test_schema.h"

namespace outpost {
namespace {

using nlohmann::json;
using Tables = std::vector<std::string>;

const char* kP1 = "0190a5d2-1c4e-7000-8000-000000000001";
const char* kP2 = "0190a5d2-1c4e-7000-8000-000000000002";

std::unique_ptr<Store> Mirrored() {
  auto store = Store::Open(":memory:");
  REQUIRE(store.ok());
  REQUIRE((*store)->ApplySchema(testing::CoreTestSchema()).ok());
  return std::move(store).value();
}

TEST_CASE("the tables a query reads", "[core][watch]") {
  auto store = Mirrored();
  CHECK(*store->TablesRead("SELECT t.title FROM tasks t JOIN projects p ON p.id = t.project_id") ==
        Tables{"projects", "tasks"});
  CHECK(*store->TablesRead("SELECT count(*) FROM orders WHERE id > ?") == Tables{"orders"});
  CHECK(store->TablesRead("SELECT 1")->empty());
  CHECK(store->TablesRead("SELECT * FROM _outpost_outbox")->empty());  // internal tables
  CHECK(store->TablesRead("SELEKT").status().code() == Code::kSqlError);
  CHECK(store->TablesRead("SELECT * FROM nope").status().code() == Code::kSqlError);
}

TEST_CASE("every committed transaction is announced once with the tables it changed",
          "[core][watch]") {
  auto store = Mirrored();
  std::vector<Tables> heard;
  store->SetChangeListener([&](const Tables& t) { heard.push_back(t); });
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'a')", json{kP1}).ok());
  REQUIRE(heard == std::vector<Tables>{{"projects"}});
  // One transaction over two tables and many rows: one announcement, after COMMIT.
  heard.clear();
  REQUIRE(store->Execute("BEGIN").ok());
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'b')", json{kP2}).ok());
  REQUIRE(store
              ->Execute("INSERT INTO tasks (project_id, title) VALUES (?, 'x'), (?, 'y')",
                        json{kP1, kP2})
              .ok());
  CHECK(heard.empty());
  REQUIRE(store->Execute("COMMIT").ok());
  CHECK(heard == std::vector<Tables>{{"projects", "tasks"}});
  // Rolled back: nothing happened.
  heard.clear();
  REQUIRE(store->Execute("BEGIN; UPDATE projects SET name = 'z'; ROLLBACK").ok());
  CHECK(heard.empty());
  // A cascade changes the child table too.
  REQUIRE(store->Execute("DELETE FROM projects WHERE id = ?", json{kP1}).ok());
  CHECK(heard == std::vector<Tables>{{"projects", "tasks"}});
  // The sync engine's writes are announced the same way.
  heard.clear();
  REQUIRE(store
              ->RunAsEngine(
                  [&] { return store->Execute("UPDATE projects SET name = 'server'").status(); })
              .ok());
  CHECK(heard == std::vector<Tables>{{"projects"}});
  // So are statements the app prepares and steps itself.
  heard.clear();
  auto stmt = store->Prepare("INSERT INTO orders (total) VALUES ('1.00')");
  REQUIRE(stmt.ok());
  REQUIRE(stmt->Run().ok());
  CHECK(heard == std::vector<Tables>{{"orders"}});
  // Reads announce nothing.
  heard.clear();
  REQUIRE(store->Execute("SELECT * FROM projects").ok());
  CHECK(heard.empty());
  store->SetChangeListener(nullptr);
  REQUIRE(store->Execute("UPDATE projects SET name = 'quiet'").ok());
  CHECK(heard.empty());
}

TEST_CASE("a watched query re-runs when a table it reads changes", "[core][watch]") {
  auto store = Mirrored();
  std::vector<json> results;
  auto id = store->Watch("SELECT name FROM projects ORDER BY name", json::array(),
                         [&](const Result<QueryResult>& r) {
                           REQUIRE(r.ok());
                           results.push_back(r->rows);
                         });
  REQUIRE(id.ok());
  REQUIRE(results.size() == 1);  // the first result, at once
  CHECK(results[0].empty());
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'a')", json{kP1}).ok());
  REQUIRE(results.size() == 2);
  CHECK(results[1] == json::array({json::array({"a"})}));
  // A table it does not read: no call.
  REQUIRE(store->Execute("INSERT INTO orders (total) VALUES ('2.00')").ok());
  CHECK(results.size() == 2);
  // Server rows written by a pull page: one call for the whole page.
  MirrorWriter& w = store->mirror_writer();
  REQUIRE(store
              ->RunAsEngine([&]() -> Status {
                OUTPOST_RETURN_IF_ERROR(w.BeginPage());
                OUTPOST_ASSIGN_OR_RETURN(TupleWriter * rows, w.Rows("projects", {"id", "name"}));
                OUTPOST_RETURN_IF_ERROR(rows->Write(
                    {ValueView::MakeText(kP2), ValueView::MakeText("from the server")}));
                return rows->Write({ValueView::MakeText(kP1), ValueView::MakeText("renamed")});
              })
              .ok());
  REQUIRE(results.size() == 3);
  // (p1's server name is rebased under the app's pending insert of "a".)
  CHECK(results[2] == json::array({json::array({"a"}), json::array({"from the server"})}));
  REQUIRE(store->Unwatch(*id).ok());
  REQUIRE(store->Execute("DELETE FROM projects").ok());
  CHECK(results.size() == 3);
  CHECK(store->Unwatch(*id).code() == Code::kNotFound);
  CHECK(store->Watch("SELEKT", json::array(), [](const Result<QueryResult>&) {}).status().code() ==
        Code::kSqlError);
}

TEST_CASE("a watch callback may write, and its own change is announced after it", "[core][watch]") {
  auto store = Mirrored();
  int order_calls = 0;
  auto counter = store->Watch("SELECT count(*) FROM orders", json::array(),
                              [&](const Result<QueryResult>&) { ++order_calls; });
  REQUIRE(counter.ok());
  // Each new project adds an order from inside its watch callback.
  int project_calls = 0;
  auto id = store->Watch(
      "SELECT count(*) FROM projects", json::array(), [&](const Result<QueryResult>& r) {
        ++project_calls;
        if (r.ok() && r->rows[0][0] != 0) {
          REQUIRE(store->Execute("INSERT INTO orders (total) VALUES ('1.00')").ok());
        }
      });
  REQUIRE(id.ok());
  CHECK(order_calls == 1);
  REQUIRE(store->Execute("INSERT INTO projects (id, name) VALUES (?, 'a')", json{kP1}).ok());
  CHECK(project_calls == 2);
  CHECK(order_calls == 2);  // the callback's insert, announced once, after the callback
  CHECK(store->Execute("SELECT count(*) FROM orders")->rows[0][0] == 1);
}

}  // namespace
}  // namespace outpost
