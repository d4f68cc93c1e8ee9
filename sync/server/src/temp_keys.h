// Temporary keys (docs/local-store.md, "Keys"; docs/protocol.md, "Push details"): rows a client
// inserted offline into a table whose key the server assigns (SERIAL, identity) carry negative
// temporary values in their server-assigned key columns. The insert gets the server's key; later
// mutations of the same request, and of later requests replaying recorded results, name the row (or
// reference it from a foreign key) by its temporary value, which is translated here.
//
// Threading: one TemporaryKeys per push request.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "model.h"
#include "outpost/protocol_push.h"
#include "push_request.h"

namespace outpost::server {

// (table, temporary value) -> the server's value.
using KeyMap = std::map<std::pair<std::string, int64_t>, int64_t>;

class TemporaryKeys {
 public:
  explicit TemporaryKeys(const ServerModel& model) : model_(model) {}

  // True when `pk[i]` is a temporary value of the server-assigned key column i of `t`.
  static bool IsTemporaryKey(const SyncedTable& t, const nlohmann::json& pk, size_t i);

  // The translations below look in `pending` (the current transaction's own inserts, not yet
  // committed) first, then in the keys of transactions committed earlier in this request.
  // The key a mutation names, translated.
  nlohmann::json TranslatePk(const Mutation& m, const KeyMap& pending) const;
  // The key an insert writes: translated as TranslatePk, but the table's own temporary values
  // (which the insert replaces) are kept.
  nlohmann::json InsertPk(const Mutation& m, const KeyMap& pending) const;
  // `fields` with every key or foreign key column holding a temporary value translated.
  std::vector<Field> TranslateFields(const SyncedTable& t, const std::vector<Field>& fields,
                                     const KeyMap& pending) const;

  // A transaction committed: its inserts' keys are known from now on.
  void Commit(const KeyMap& pending);
  // A transaction answered from its record (a replay): the keys its remaps name.
  void Absorb(const protocol::TxResult& recorded);

 private:
  // The table whose server-assigned key column `column` of `t` holds (its own, or the target of a
  // foreign key), or nullptr.
  const SyncedTable* KeyTarget(const SyncedTable& t, std::string_view column) const;
  nlohmann::json Translate(const SyncedTable& target, const nlohmann::json& v,
                           const KeyMap& pending) const;

  const ServerModel& model_;
  KeyMap committed_;
};

}  // namespace outpost::server
