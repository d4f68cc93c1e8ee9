// POST /v1/push (docs/protocol.md, "POST /v1/push" and "Conflict rules"): applies a client's batch
// of transactions to PostgreSQL exactly once, resolving conflicts column by column.
//
// Threading: one call uses `conn` alone; calls on different connections may run concurrently
// (concurrent pushes of the same transaction are serialised by its `_outpost.pushes` record).
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

#include "model.h"
#include "outpost/protocol_push.h"
#include "outpost/status.h"
#include "pg.h"

namespace outpost::server {

// Handles one push `body` for `who` (from a verified token) against the database of `model`,
// whose `_outpost` schema (changes, clocks, pushes, horizon and the capture triggers) must be
// installed. `conn` must be idle (no open transaction) and is left idle.
//
// Returns one result per client transaction in request order (applied or rejected: a rejection is
// a normal result, not an error), for protocol::EncodePushAnswer. Errors, for the whole request:
//  - kMalformedRequest, kSchemaMismatch, kUnknownTable, kUnknownColumn, kInvalidValue: the request
//    failed validation; nothing was applied;
//  - kUnavailable: the database went away or stayed busy (deadlocks); kInternal: PostgreSQL failed
//    in a way that is not the client's fault. In both cases the transactions before the failing
//    one were applied and recorded, so a retry of the same request returns their recorded results
//    and continues with the rest.
Result<std::vector<protocol::TxResult>> HandlePush(PgConnection& conn, const ServerModel& model,
                                                   const Principal& who, std::string_view body);

}  // namespace outpost::server
