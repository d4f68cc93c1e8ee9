// Applying an application's sync rules to the database the server describes: the client view
// that GET /v1/schema publishes (docs/sync-rules.md).
//
// Threading: pure functions.
#pragma once

#include <string>
#include <vector>

#include "outpost/schema.h"
#include "outpost/status.h"

namespace outpost::server {

// Restricts a described database to the tables named by the rules, attaches each table's rule and
// removes excluded columns from the client view. Every table, column and claim a rule names must
// exist; constraints and indexes that involve an excluded column are dropped from the view and
// listed in `dropped` ("table.object: reason"); the view's rules do not name excluded columns. A
// writable table whose excluded column is NOT NULL without a default is an error: clients could
// never insert into it.
Result<Schema> ApplySyncRules(const Schema& described, const SyncRules& rules,
                              std::vector<std::string>* dropped);

}  // namespace outpost::server
