// Installation of the server state and change capture (docs/protocol.md, "Server state";
// docs/server.md, "Change capture").
//
// Threading: uses only the connection it is given. Two servers installing at once are serialised
// by a transaction-level advisory lock.
#pragma once

#include <string>

#include "model.h"
#include "outpost/status.h"
#include "pg.h"

namespace outpost::server {

// The advisory lock key (pg_advisory_xact_lock) taken by Install.
inline constexpr long long kInstallLockKey = 0x6f7574706f7374;  // "outpost"

// The SQL of the capture trigger function of one synced table (CREATE OR REPLACE FUNCTION ...),
// exposed for docs and tests.
std::string CaptureFunctionSql(const ServerModel& model, const SyncedTable& table);
// The function of the BEFORE DELETE trigger that logs, for the row's tenants, the via-children
// (recursively) an ON DELETE action may remove with it; "" for a table without via-children.
std::string CascadeFunctionSql(const ServerModel& model, const SyncedTable& table);

// Installs, idempotently and in one PostgreSQL transaction: schema `_outpost` with tables changes,
// clocks, pushes, horizon and marks (CREATE ... IF NOT EXISTS), functions prune_before and
// mark_and_prune (CREATE OR REPLACE), and per synced table the capture trigger function and an
// AFTER INSERT OR UPDATE OR DELETE FOR EACH ROW trigger `_outpost_capture`. Capture triggers on
// tables of `model.pg_schema()` that are no longer synced are dropped. `conn` must be idle; it is
// left idle. Errors: kPostgres.
Status Install(PgConnection& conn, const ServerModel& model);

}  // namespace outpost::server
