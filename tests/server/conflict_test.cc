// Conflict resolution per column (sync/server/src/conflict.h): every rule of docs/protocol.md
// ("Conflict rules") as a pure function, without a database.
#include "conflict.h"

#include <catch2/catch.hpp>

namespace outpost::server {
namespace {

ColumnConflict Update(ConflictPolicy policy, bool base_matches) {
  ColumnConflict c;
  c.policy = policy;
  c.has_base = true;
  c.base_matches = base_matches;
  c.client_clock = 100;
  c.server_clock = 50;
  return c;
}

TEST_CASE("an unchanged server value takes the client's, whatever the policy", "[conflict]") {
  for (auto p : {ConflictPolicy::kLastWriterWins, ConflictPolicy::kServerWins,
                 ConflictPolicy::kReject, ConflictPolicy::kAdditive}) {
    INFO(ConflictPolicyName(p));
    ColumnConflict c = Update(p, /*base_matches=*/true);
    c.server_clock = 1000;  // even when the server's clock is ahead
    CHECK(ResolveColumn(c) == ColumnAction::kWrite);
  }
}

TEST_CASE("last writer wins by hybrid logical clock", "[conflict]") {
  ColumnConflict c = Update(ConflictPolicy::kLastWriterWins, false);
  c.client_clock = 100;
  c.server_clock = 99;
  CHECK(ResolveColumn(c) == ColumnAction::kWrite);
  c.server_clock = 100;  // a tie goes to the client: its write arrived last
  CHECK(ResolveColumn(c) == ColumnAction::kWrite);
  c.server_clock = 101;
  CHECK(ResolveColumn(c) == ColumnAction::kKeepServer);
  c.server_clock = 0;  // unknown: written before capture; the client's write is newer
  CHECK(ResolveColumn(c) == ColumnAction::kWrite);
}

TEST_CASE("server wins keeps the server's value and reject rejects", "[conflict]") {
  CHECK(ResolveColumn(Update(ConflictPolicy::kServerWins, false)) == ColumnAction::kKeepServer);
  CHECK(ResolveColumn(Update(ConflictPolicy::kReject, false)) == ColumnAction::kReject);
}

TEST_CASE("additive applies the client's delta, or falls back to last writer wins", "[conflict]") {
  ColumnConflict c = Update(ConflictPolicy::kAdditive, false);
  c.delta_applies = true;
  CHECK(ResolveColumn(c) == ColumnAction::kAddDelta);
  // No delta (a NULL on either side): the later write wins instead.
  c.delta_applies = false;
  CHECK(ResolveColumn(c) == ColumnAction::kWrite);
  c.server_clock = 200;
  CHECK(ResolveColumn(c) == ColumnAction::kKeepServer);
}

TEST_CASE("a merged insert writes only what differs, by the column's policy", "[conflict]") {
  ColumnConflict c = Update(ConflictPolicy::kLastWriterWins, true);
  c.has_base = false;
  CHECK(ResolveColumn(c) == ColumnAction::kKeepServer);  // already equal
  c.base_matches = false;
  CHECK(ResolveColumn(c) == ColumnAction::kWrite);
  c.policy = ConflictPolicy::kReject;
  CHECK(ResolveColumn(c) == ColumnAction::kReject);
  // Without a base there is no delta: additive behaves as last writer wins.
  c.policy = ConflictPolicy::kAdditive;
  c.delta_applies = true;
  c.server_clock = 500;
  CHECK(ResolveColumn(c) == ColumnAction::kKeepServer);
}

}  // namespace
}  // namespace outpost::server
