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

// A rule that sends rows where they do not belong (docs/sync-rules.md, "Warnings"): a `global`
// table with a foreign key to a tenant-scoped table (tenant_column, tenant_key, via or
// referenced_by). Its rows belong to tenants, yet every tenant receives all of them.
struct RuleWarning {
  std::string table;                 // the global table
  std::vector<std::string> columns;  // its foreign key's columns
  std::string ref_table;             // the tenant-scoped table they reference
  std::string message;               // the whole finding, naming all three
};

// The warnings of `rules` over `described` (the full catalog: foreign keys on excluded columns
// count too, the rows are the tenants' all the same), in table order. Rules ApplySyncRules
// refuses may give no warnings; run it first.
std::vector<RuleWarning> RuleWarnings(const Schema& described, const SyncRules& rules);

}  // namespace outpost::server
