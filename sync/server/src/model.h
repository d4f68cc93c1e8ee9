// The server's model of what syncs: the described database, the client view produced by the sync
// rules, and the SQL that scopes rows to a token (docs/sync-rules.md).
//
// Every identifier placed in generated SQL comes from the catalog (quoted with QuoteIdent);
// every value from a token or request is a parameter ($N), never SQL text.
//
// Threading: a ServerModel is immutable after Build and may be shared by all request threads.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/schema.h"
#include "outpost/status.h"
#include "pg.h"

namespace outpost::server {

// Who is asking: taken only from a verified token.
struct Principal {
  std::string tenant;     // "" when the application has no tenant-scoped tables
  std::string user;       // the "sub" claim
  std::string role;       // one of the rules' roles
  nlohmann::json claims;  // every verified claim; row filters read claims by name
};

// One synced table. `view` is what clients see (excluded columns removed); `full` is the table as
// described, with every column. Both point into the owning ServerModel.
struct SyncedTable {
  const Table* view = nullptr;
  const Table* full = nullptr;
  std::string qname;  // schema-qualified, quoted: "public"."timesheet_entries"
  size_t index = 0;   // position in ServerModel::tables() (dependency order, parents first)

  const std::string& name() const { return view->name; }
  const SyncRule& rule() const { return view->sync; }
};

// A table T that is scoped `referenced_by` R.rc: when a row of R changes, the row of T whose
// `t_column` equals R's `r_column` may enter or leave a tenant's scope.
struct ReferencedByLink {
  const SyncedTable* dependent = nullptr;  // T
  std::string r_column;                    // R.rc, a foreign key column of R
  std::string t_column;                    // the column of T it references (T's key)
};

// A row left out of scope predicates: the row a push is writing, whose own references must not
// count as making their targets visible (a referenced_by row becomes visible through its
// referrers; the written row cannot vouch for itself).
struct ScopeExclusion {
  const SyncedTable* table = nullptr;
  std::string pk_param;  // PkParam's expression for its key
};

class ServerModel {
 public:
  // `described`: DescribeDatabase of `pg_schema`; `rules`: the parsed sync rules.
  static Result<std::unique_ptr<ServerModel>> Build(const Schema& described, const SyncRules& rules,
                                                    std::string pg_schema);
  ServerModel(const ServerModel&) = delete;
  ServerModel& operator=(const ServerModel&) = delete;

  const Schema& view() const { return view_; }       // what GET /v1/schema serves
  const Schema& described() const { return full_; }  // every table of the schema, synced or not
  const std::string& view_json() const { return view_json_; }
  const std::string& version() const { return version_; }
  const std::string& pg_schema() const { return pg_schema_; }
  const std::vector<SyncedTable>& tables() const { return tables_; }
  const SyncedTable* Find(std::string_view name) const;

  // True when at least one table is scoped by tenant (tokens must then carry a tenant).
  bool has_tenant_scope() const { return has_tenant_scope_; }

  // True when the table's row filter applies to `who` (the role is among the filter's roles).
  bool Filtered(const SyncedTable& table, const Principal& who) const;

  // A SQL boolean expression: row `alias` of `table` is in `who`'s scope (tenant scope, followed
  // through `via` parents and `referenced_by` children, plus the table's own row filter when it
  // applies to the role). Values are appended to `params` and referenced as $N. Errors: a claim
  // the filter needs is missing from the token (kPermissionDenied).
  // With `exclude`, the row it names does not count as a referrer for `referenced_by` scopes
  // anywhere along the chain.
  Result<std::string> ScopePredicate(const SyncedTable& table, std::string_view alias,
                                     const Principal& who, PgParams* params,
                                     const ScopeExclusion* exclude = nullptr) const;

  // A SQL text[] expression for a trigger: the tenants that have row `rowref` (NEW or OLD) in
  // scope; ARRAY['*'] for global and all-scoped tables; NULL or NULL elements when it has none
  // (e.g. a via parent that no longer exists).
  std::string TenantsExpression(const SyncedTable& table, std::string_view rowref) const;
  // A SQL text expression: the row filter column of `rowref`, or NULL::text without a filter.
  std::string OwnerExpression(const SyncedTable& table, std::string_view rowref) const;
  // A SQL jsonb expression: the primary key of `rowref` as an array of its values as text.
  std::string PkJsonExpression(const SyncedTable& table, std::string_view rowref) const;
  // Appends the key `pk` (client JSON, in primary key order) to `params` as the jsonb array of
  // its values' PostgreSQL text, and returns "($N::jsonb)" for PkMatchExpression. Errors: a value
  // that does not convert to its column's type (kInvalidArgument).
  Result<std::string> PkParam(const SyncedTable& table, const nlohmann::json& pk,
                              PgParams* params) const;
  // A SQL boolean expression matching `alias`'s primary key with the jsonb array of text values
  // `pk_param` (e.g. "$1"): ("id") = (($1->>0)::uuid).
  std::string PkMatchExpression(const SyncedTable& table, std::string_view alias,
                                std::string_view pk_param) const;
  // The tables whose referenced_by scope goes through `r_table`.
  std::vector<ReferencedByLink> ReferencedByLinks(const SyncedTable& r_table) const;
  // PostgreSQL type of a column of the full table (format_type text, e.g. "uuid", "numeric(10,2)").
  const std::string& PgType(const SyncedTable& table, std::string_view column) const;

 private:
  ServerModel() = default;
  Result<std::string> TenantPredicate(const SyncedTable& table, std::string_view alias,
                                      const Principal& who, PgParams* params, int depth,
                                      const ScopeExclusion* exclude) const;
  std::string TenantsExpr(const SyncedTable& table, std::string_view rowref, int depth) const;

  Schema full_;
  Schema view_;
  std::string view_json_;
  std::string version_;
  std::string pg_schema_;
  std::vector<SyncedTable> tables_;
  bool has_tenant_scope_ = false;
};

// "$N" for the parameter just appended to `params`.
std::string AddParam(PgParams* params, std::optional<std::string> value);

}  // namespace outpost::server
