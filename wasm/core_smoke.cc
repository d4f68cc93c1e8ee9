// Runs the portable core compiled to WebAssembly: mirror a schema, write with plain SQL, read the
// outbox, and check the results. Exit code 0 and "wasm core smoke: ok" on success.
#include <cstdio>

#include "outpost/store.h"

using namespace outpost;
using nlohmann::json;

namespace {

int failures = 0;

void Expect(bool ok, const char* what) {
  if (!ok) {
    fprintf(stderr, "FAILED: %s\n", what);
    ++failures;
  }
}

const char* kDescriptor = R"json({"format":1,"app":"smoke","roles":["user"],"tables":[
 {"name":"projects","columns":[
   {"name":"id","type":"uuid","pg_type":"uuid","nullable":false,"default":"gen_random_uuid()"},
   {"name":"name","type":"citext","pg_type":"citext","nullable":false},
   {"name":"budget","type":"numeric","pg_type":"numeric(10,2)","nullable":true},
   {"name":"tags","type":"array","element":"text","pg_type":"text[]","nullable":true}],
  "primary_key":["id"],"checks":[{"name":"budget_positive","expression":"(budget >= (0)::numeric)"}],
  "uniques":[{"name":"projects_name_key","columns":["name"]}],"foreign_keys":[],"indexes":[],
  "sync":{"scope":"all"}}]})json";

}  // namespace

int main() {
  auto schema = SchemaFromJson(kDescriptor);
  Expect(schema.ok(), "descriptor parses");
  if (!schema.ok()) {
    fprintf(stderr, "%s\n", schema.status().ToString().c_str());
    return 1;
  }
  StoreOptions options;
  options.wal = false;
  auto store = Store::Open(":memory:", options);
  Expect(store.ok(), "store opens");
  if (!store.ok()) return 1;
  Store& s = **store;
  Expect(s.ApplySchema(*schema).ok(), "mirror created");
  auto ins = s.Execute("INSERT INTO projects (name, budget, tags) VALUES (?, ?, ?)",
                       json::array({"Pump station", "12.50", json::array({"a,b", "c"})}));
  Expect(ins.ok(), "insert");
  auto dup = s.Execute("INSERT INTO projects (name) VALUES ('PUMP STATION')");
  Expect(!dup.ok() && dup.status().code() == Code::kConstraint,
         "citext unique is case-insensitive");
  auto neg = s.Execute("INSERT INTO projects (name, budget) VALUES ('x', '-1')");
  Expect(!neg.ok() && neg.status().code() == Code::kConstraint, "numeric CHECK enforced");
  Expect(s.Execute("UPDATE projects SET budget = '20.00'").ok(), "update");
  auto txs = s.PendingTransactions();
  Expect(txs.ok() && txs->size() == 2, "two client transactions");
  if (txs.ok() && txs->size() == 2) {
    const Mutation& m = (*txs)[1].mutations.at(0);
    Expect(m.new_values == json{{"budget", "20.00"}}, "update captures the new value");
    Expect(m.old_values == json{{"budget", "12.50"}}, "update captures the previous value");
    std::string id = (*txs)[0].mutations.at(0).pk[0].get<std::string>();
    Expect(id.size() == 36 && id[14] == '7', "UUIDv7 key from libsodium randomness");
  }
  if (failures) return 1;
  printf("wasm core smoke: ok\n");
  return 0;
}
