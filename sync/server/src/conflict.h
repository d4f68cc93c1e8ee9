// Conflict resolution per column (docs/protocol.md, "Conflict rules"): what an update
// does with one column it writes, given the server's current state of that column. A pure
// function, so that every rule is unit-tested without a database (tests/server/conflict_test.cc);
// push.cc gathers the inputs in one query and applies the decisions in one UPDATE.
//
// Threading: pure.
#pragma once

#include <cstdint>

#include "outpost/schema.h"

namespace outpost::server {

struct ColumnConflict {
  // The column's rule: its own policy, or the table's default.
  ConflictPolicy policy = ConflictPolicy::kLastWriterWins;
  // True for an update, which carries the client's base (previous) value; false for an insert
  // merged into an existing row (on_insert_conflict: merge), which has none.
  bool has_base = true;
  // The server's value equals the client's base (update) or the client's new value (merge):
  // compared by PostgreSQL in the column's type.
  bool base_matches = false;
  // For the additive policy: the column is numeric, the client's new and base values are not
  // NULL, and neither is the server's value. Otherwise there is no delta to apply.
  bool delta_applies = false;
  // Hybrid logical clocks: the client's write (clamped to the server's time) and the server's
  // last write of this column (0 when unknown, e.g. written before capture was installed).
  uint64_t client_clock = 0;
  uint64_t server_clock = 0;
};

enum class ColumnAction {
  kKeepServer,  // the column is not written: the server's value stays
  kWrite,       // the client's new value is written
  kAddDelta,    // the server's value + (client new - client base) is written
  kReject,      // the whole client transaction is rejected ("conflict", naming the column)
};

// The rules:
//  - nothing changed on the server since the client's base: the client's value is written (for a
//    merge, an equal value needs no write);
//  - otherwise, by policy: server_wins keeps the server's value; reject rejects; additive applies
//    the client's delta (or, without one, falls back to last writer wins); last writer wins
//    writes the client's value unless the server's write of the column is newer by clock.
ColumnAction ResolveColumn(const ColumnConflict& c);

}  // namespace outpost::server
