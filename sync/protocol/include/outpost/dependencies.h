// Dependent transactions (docs/protocol.md, "Dependent transactions"; docs/semantics.md): when the
// server rejects a client transaction, the later transactions the same client committed before it
// learned of the rejection may have been built on rows that never reached PostgreSQL. Such a
// transaction is rejected too, naming the one it depended on, instead of being applied to rows
// that are not what the user saw.
//
// A transaction depends on a rejected one when one of its mutations
//  - names a row (table and key) that a mutation of the rejected transaction named, or
//  - inserts or updates a row whose foreign key (all its columns present in the mutation's new
//    values, none null) names a row the rejected transaction inserted.
// A transaction rejected as dependent counts as rejected: transactions depending on it are
// rejected in turn (each names the one it depended on directly).
//
// Both sides apply this one definition: the server to the transactions of one push request (and
// to replayed rejections of the same request), the client to the transactions still in its outbox
// once it has processed a rejection. Keys and values are compared as JSON, in the form each side
// holds them (the server's canonical values; the client's own), so a row named twice by the same
// client matches.
//
// Threading: a value type; one thread at a time.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "outpost/protocol_push.h"
#include "outpost/schema.h"

namespace outpost::protocol {

// The code and message of a rejection for depending on transaction `earlier` (both sides say it
// alike; the client adds that it did not push the transaction).
inline constexpr const char* kDependentCode = "dependent";
std::string DependentMessage(int64_t earlier);

class RejectedRows {
 public:
  bool empty() const { return touched_.empty(); }

  // Records that the rejected transaction `tx_id` wrote the row `pk` (key values in `table`'s
  // primary key order) of `table` with `op`.
  void Add(int64_t tx_id, MutationOp op, const Table& table, const nlohmann::json& pk);

  // The rejected transaction that a mutation (`op` on row `pk` of `table`, with `new_values` an
  // object of column values or null) depends on, or 0.
  int64_t DependsOn(MutationOp op, const Table& table, const nlohmann::json& pk,
                    const nlohmann::json& new_values) const;

 private:
  // (table, key JSON text) -> the rejected transaction that named the row first.
  std::map<std::pair<std::string, std::string>, int64_t> touched_;
  // (table, {key column: value} JSON text) -> the rejected transaction that inserted the row.
  std::map<std::pair<std::string, std::string>, int64_t> inserted_;
};

}  // namespace outpost::protocol
