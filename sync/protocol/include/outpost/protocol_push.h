// POST /v1/push (docs/protocol.md, "POST /v1/push"): the request, the answer, their codecs.
//
// Values inside mutations, keys and rows are client JSON (docs/types.md): these codecs check the
// messages' shape and bounds; whether a table, a column or a value fits the schema is for the
// receiver to check against its own model.
//
// Threading: pure functions and value types.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/protocol.h"
#include "outpost/status.h"

namespace outpost::protocol {

// --- Request ------------------------------------------------------------------------------------

enum class MutationOp { kInsert, kUpdate, kDelete };
std::string_view MutationOpName(MutationOp op);  // "insert", "update", "delete"

// One captured change as pushed.
struct PushMutation {
  MutationOp op = MutationOp::kInsert;
  std::string table;
  nlohmann::json pk = nlohmann::json::array();  // the primary key's values, in key order
  uint64_t hlc = 0;  // hybrid logical clock (48 bits of milliseconds, 16 logical)
  // Insert: every column the client set. Update: exactly the changed columns. Delete: null.
  nlohmann::json new_values;
  // Update: the previous (base) value of every changed column. Delete: the row as the client
  // knew it. Insert: null.
  nlohmann::json old_values;
};

struct PushTransaction {
  int64_t tx_id = 0;  // the client's transaction id, unique per client
  std::vector<PushMutation> mutations;
};

struct PushRequest {
  std::string schema;     // the schema version the client mirrors
  std::string client_id;  // canonical lowercase UUID
  std::vector<PushTransaction> transactions;
};

// The JSON object of one mutation, exactly as a request carries it.
nlohmann::json PushMutationToJson(const PushMutation& mutation);

// Builds a request body transaction by transaction, so that the client can fill it up to a size.
class PushBodyBuilder {
 public:
  // `body_target`: the size a body should stay within (kPushBodyTarget by default).
  PushBodyBuilder(std::string_view schema, std::string_view client_id,
                  size_t body_target = kPushBodyTarget);

  // Adds `tx` unless the body would then pass `body_target`, kMaxPushTransactions or
  // kMaxPushMutations. The first transaction is always added, whatever its size (the server then
  // answers payload_too_large for a body over its limit, or malformed_request for too many
  // mutations). False: not added; send what there is and add it to the next body.
  bool Add(const PushTransaction& tx);
  size_t transactions() const { return transactions_; }
  // The finished body. The builder must not be used afterwards.
  std::string Finish();

 private:
  std::string body_;
  size_t body_target_;
  size_t transactions_ = 0;
  size_t mutations_ = 0;
};

// Decodes and checks a request body: a JSON object with "schema" (string), "client_id" (a UUID,
// canonicalised to lowercase) and "transactions" (at most kMaxPushTransactions, with distinct
// 64-bit integer "tx_id"s and kMaxPushMutations mutations in all); each mutation an object with
// "op", "table", "pk" (an array), "hlc" (a decimal string within 64 bits) and "new"/"old" as its
// op requires (objects). A body nesting deeper than kMaxPushJsonDepth is refused before it is
// parsed. Errors: kMalformedRequest, naming the place ("transactions[2].mutations[0]: ...").
Result<PushRequest> DecodePushRequest(std::string_view body);

// --- Answer -------------------------------------------------------------------------------------

// A temporary key the server replaced (docs/protocol.md, "Temporary keys").
struct KeyRemap {
  std::string table;
  nlohmann::json from;  // the temporary key values (array)
  nlohmann::json to;    // the server's key values (array, same arity)
};

// Something the server did differently from what the client wrote, for an applied transaction
// (docs/protocol.md, "Notices"): "row_deleted" (an update or delete found no row: delete wins),
// "superseded" (`columns` kept the server's value: a later write by hybrid clock, or server_wins),
// "merged" (an insert merged into the existing row), "clock_clamped".
struct Notice {
  std::string code;
  std::string table;
  nlohmann::json pk;
  std::vector<std::string> columns;  // "superseded": the columns not written; else empty
};

// The server's current state of one row a rejected transaction touched.
struct RowState {
  std::string table;
  nlohmann::json pk;   // array
  nlohmann::json row;  // the row's client-view object, or null (absent or out of scope)
};

// Why a transaction was rejected.
struct TxRejection {
  std::string code;            // constraint_violation, permission_denied, conflict, row_exists, ...
  std::string message;         // for people
  std::string rule;            // the constraint or rule that failed ("" when none applies)
  std::string table;           // the table of the failing mutation ("" when none)
  nlohmann::json pk;           // its primary key (array), or null
  std::vector<RowState> rows;  // every row the transaction touched, in first-touch order
  // code "dependent": the earlier transaction of the same client, rejected, whose rows this one
  // touched or referenced (0 otherwise).
  int64_t depends_on = 0;
};

struct TxResult {
  int64_t tx_id = 0;
  bool applied = false;  // false: rejected
  // The xid of the PostgreSQL transaction that applied the client transaction (or recorded its
  // rejection): its effects are in every pull whose cursor watermark is above it.
  uint64_t checkpoint = 0;
  std::vector<KeyRemap> remaps;  // applied only
  std::vector<Notice> notices;   // applied only
  TxRejection error;             // rejected only
};

// One result's JSON object, as an answer carries it (and the server records it).
nlohmann::json TxResultToJson(const TxResult& result);
// Errors: kMalformedAnswer.
Result<TxResult> TxResultFromJson(const nlohmann::json& j);

// {"results": [...]}, one result per transaction of the request, in order.
std::string EncodePushAnswer(const std::vector<TxResult>& results);
// Errors: kMalformedAnswer (not that shape, a result that does not decode).
Result<std::vector<TxResult>> DecodePushAnswer(std::string_view body);

}  // namespace outpost::protocol
