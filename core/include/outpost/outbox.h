// The outbox: what a Store keeps of the app's local writes until the server has them
// (docs/local-store.md; docs/local-store.md), and the rejections the server answered for some of
// them. The Store's outbox methods (store.h) read and change these records.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "outpost/value.h"

namespace outpost {

// One captured change. `pk` is a JSON array of the primary key values (before an update that
// changes the key). For an insert, `new_values` has every column; for an update, exactly the
// columns whose value changed, with `old_values` their previous values; for a delete,
// `old_values` has every column of the deleted row. Values are local JSON (docs/types.md):
// booleans are 0/1 here.
struct Mutation {
  int64_t seq = 0;
  int64_t tx_id = 0;
  uint64_t hlc = 0;
  enum class Op : char { kInsert = 'I', kUpdate = 'U', kDelete = 'D' } op = Op::kInsert;
  std::string table;
  nlohmann::json pk;
  nlohmann::json new_values = nlohmann::json::object();
  nlohmann::json old_values = nlohmann::json::object();
  // Set once the server has applied the transaction: the xid (write checkpoint) at which its
  // effects become visible to pulls. Confirmed entries stay in the outbox as the rebase set until
  // the pull cursor passes the checkpoint (Store::DropConfirmedBefore).
  std::optional<int64_t> checkpoint;
};

struct ClientTransaction {
  int64_t tx_id = 0;
  std::vector<Mutation> mutations;  // in the order they happened
};

// Outbox sizes. "Unconfirmed" entries wait to be pushed; "confirmed" ones were applied by the
// server and wait for the pull cursor to pass their checkpoint (the rebase set).
struct OutboxCounts {
  int64_t unconfirmed_mutations = 0;
  int64_t unconfirmed_transactions = 0;
  int64_t confirmed_mutations = 0;
  int64_t confirmed_transactions = 0;
};

// A client transaction the server refused, kept for the app until it dismisses it
// (_outpost_rejections).
struct Rejection {
  int64_t id = 0;  // assigned when recorded
  int64_t tx_id = 0;
  std::string code;          // constraint_violation, permission_denied, conflict, row_exists, ...
  std::string message;       // the server's explanation
  std::string rule;          // the constraint or rule that failed ("" if none)
  std::string table;         // the table of the failing mutation ("" if none)
  nlohmann::json pk;         // its primary key (JSON array, or null)
  nlohmann::json mutations;  // the refused mutations as they were pushed (JSON array)
  std::string at;            // ISO 8601 UTC time the rejection was received
  // code "dependent": the earlier rejected transaction of this client whose rows this one wrote
  // or referenced (docs/semantics.md, "Transactions"); 0 otherwise.
  int64_t depends_on = 0;
};

// Something the server did differently from what an applied transaction wrote, kept for the app
// until it dismisses it (_outpost_notices; docs/semantics.md). Codes: "row_deleted" (the update
// or delete of table/pk found no row: another writer deleted it, and delete wins), "superseded"
// (`columns` of table/pk kept the server's value: a later write by hybrid clock, or
// server_wins), "merged" (the insert merged into an existing row), "clock_clamped" (the device's
// clock was ahead of the server's; the server's time was used).
struct SyncNotice {
  int64_t id = 0;  // assigned when recorded
  int64_t tx_id = 0;
  std::string code;
  std::string table;
  nlohmann::json pk;                 // JSON array, or null
  std::vector<std::string> columns;  // "superseded": the columns not written
  std::string at;                    // ISO 8601 UTC time the answer was received
};

// The JSON objects the app-facing APIs (C API, CLI --json, the browser package) give for a
// rejection: {"id", "tx_id", "code", "message", "rule", "table", "pk", "mutations", "at",
// "depends_on" (null unless code "dependent")}; and for a notice: {"id", "tx_id", "code",
// "table", "pk", "columns", "at"}.
nlohmann::json RejectionToJson(const Rejection& rejection);
nlohmann::json NoticeToJson(const SyncNotice& notice);

// The outbox form of a primary key: a compact JSON array of the key's values in primary key
// order, byte for byte what the capture triggers record (Mutation::pk).
std::string PkJson(const std::vector<Value>& key);

}  // namespace outpost
