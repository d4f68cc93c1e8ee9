// A push request checked against the server's model (docs/protocol.md, "POST /v1/push"), and
// the rejection of a client transaction: the vocabulary of the push path (push.h).
//
// Threading: value types; ParsePushRequest is pure.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model.h"
#include "outpost/protocol_push.h"
#include "outpost/status.h"

namespace outpost::server {

using protocol::MutationOp;

// One column value a mutation writes or names as its base.
struct Field {
  const Column* column = nullptr;  // a column of the client view
  nlohmann::json value;            // canonical client JSON of the column's type (never invalid)
};

struct Mutation {
  MutationOp op = MutationOp::kInsert;
  const SyncedTable* table = nullptr;
  nlohmann::json pk;  // array in primary key order, canonical client JSON, no nulls
  uint64_t hlc = 0;   // as sent (clamped to the server's time when applied)
  std::vector<Field> new_values;
  std::vector<Field> old_values;  // an update's has every column of new_values
};

struct ClientTx {
  int64_t tx_id = 0;
  std::vector<Mutation> mutations;
};

struct PushBatch {
  std::string client_id;  // canonical lowercase UUID
  std::vector<ClientTx> txs;
};

// Decodes `body` (protocol::DecodePushRequest) and checks it against `model`: the schema version,
// every table and column in the client view, every key complete and non-null, every value of its
// column's type (canonicalised: lowercase UUIDs, booleans as true/false), an update's new values
// each with a base, an insert's key agreeing with its values. Nothing is applied when it fails.
// Errors: kMalformedRequest, kSchemaMismatch, kUnknownTable, kUnknownColumn, kInvalidValue.
Result<PushBatch> ParsePushRequest(const ServerModel& model, std::string_view body);

// The field of `column` in `fields`, or nullptr.
const Field* FindField(const std::vector<Field>& fields, std::string_view column);

// Why a client transaction is rejected: a result of the push, not an error of the request.
struct Rejection {
  std::string code;  // constraint_violation, permission_denied, conflict, row_exists, ...
  std::string message;
  std::string rule;  // the constraint, rule or column that failed ("" when none applies)
  const SyncedTable* table = nullptr;
  nlohmann::json pk;
  int64_t depends_on = 0;  // code "dependent": the rejected transaction it depended on
};
// nullopt: the mutation or check passed (possibly with notices).
using Outcome = std::optional<Rejection>;

inline Rejection Reject(std::string code, std::string message, std::string rule,
                        const SyncedTable* table, nlohmann::json pk) {
  return Rejection{std::move(code), std::move(message), std::move(rule), table, std::move(pk)};
}

}  // namespace outpost::server
