// ResolveColumn (conflict.h).
#include "conflict.h"

namespace outpost::server {

ColumnAction ResolveColumn(const ColumnConflict& c) {
  if (c.base_matches) return c.has_base ? ColumnAction::kWrite : ColumnAction::kKeepServer;
  ConflictPolicy policy = c.policy;
  if (policy == ConflictPolicy::kAdditive && !(c.has_base && c.delta_applies)) {
    policy = ConflictPolicy::kLastWriterWins;  // no delta to apply
  }
  switch (policy) {
    case ConflictPolicy::kServerWins: return ColumnAction::kKeepServer;
    case ConflictPolicy::kReject: return ColumnAction::kReject;
    case ConflictPolicy::kAdditive: return ColumnAction::kAddDelta;
    case ConflictPolicy::kLastWriterWins:
      return c.client_clock < c.server_clock ? ColumnAction::kKeepServer : ColumnAction::kWrite;
  }
  return ColumnAction::kReject;
}

}  // namespace outpost::server
