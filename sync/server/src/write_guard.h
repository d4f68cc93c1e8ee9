// What a token may write (docs/protocol.md, "POST /v1/push"; docs/sync-rules.md; docs/server.md,
// "Security measures"): the checks a push makes around every mutation, each answering with a
// rejection rather than an error.
//  - role: the table's rule lets the token's role write it;
//  - ownership: tenant and row filter columns an insert or update sets are the token's (an
//    insert that leaves them out gets the token's);
//  - columns: the role's column permissions (write_guard_columns.cc): an insert gives a column the
//    role may not set only the value it would get anyway, an update does not change one;
//  - scope: the row is in the token's scope after the write, and every foreign key the client
//    wrote points at a row the token could see without this row (or is NULL), so that a tenant
//    can neither attach rows to another tenant's rows, nor make another tenant's `referenced_by`
//    row visible by referencing it, nor probe for them: a reference to a row the token cannot
//    see is answered exactly like a reference to no row (ReferenceRejection);
//  - cascades: a delete (or an update of a referenced column) whose ON DELETE / ON UPDATE actions
//    would change rows the token may not write (tables not synced, read-only, not writable by its
//    role, or rows outside its scope) is refused.
//
// Threading: one WriteGuard per push request; it uses the request's connection.
#pragma once

#include <nlohmann/json.hpp>
#include <vector>

#include "model.h"
#include "pg.h"
#include "push_request.h"

namespace outpost::server {

class WriteGuard {
 public:
  WriteGuard(PgConnection& conn, const ServerModel& model, const Principal& who)
      : conn_(conn), model_(model), who_(who) {}

  // The token's role may write `t`.
  Outcome CheckRole(const SyncedTable& t, const nlohmann::json& pk) const;

  // Tenant and row filter columns among `values` must hold the token's values; with `fill`
  // (inserts), absent ones are added with the token's values.
  Outcome CheckOwnership(const SyncedTable& t, const nlohmann::json& pk, std::vector<Field>* values,
                         bool fill) const;

  // Column permissions of an insert (docs/sync-rules.md, "Column permissions"), on the values the
  // client gave (before ownership fills any): a column the role may not set on insert must hold
  // what leaving it out would give, NULL or its constant default; one with a computed default
  // (now(), a random uuid, a sequence) is removed from `values`, so that the database computes it
  // (the client's own default is indistinguishable from a value the app chose). Key and tenant
  // columns are always allowed.
  Outcome CheckInsertColumns(const SyncedTable& t, const nlohmann::json& pk,
                             std::vector<Field>* values) const;

  // Column permissions of an update (or of the update a merged insert makes, `old_values`
  // nullptr): every column of `new_values` the role may not update must leave the server's value
  // as it is. Reads and locks the row (until the transaction ends, so that nobody changes the
  // compared values before the update); an absent row passes (the update is then dropped).
  // Errors: PostgreSQL failures.
  Result<Outcome> CheckUpdateColumns(const SyncedTable& t, const nlohmann::json& pk,
                                     const std::vector<Field>& new_values,
                                     const std::vector<Field>* old_values);

  // Inside the push's transaction, after the write: row `pk` of `t` is in the token's scope,
  // and every foreign key with a column among `written` points at a row in the token's scope or
  // is NULL. One query for all of it. Errors: PostgreSQL failures (the transaction is lost).
  Result<Outcome> CheckInScope(const SyncedTable& t, const nlohmann::json& pk,
                               const std::vector<Field>* written = nullptr);

  // Without writing: every foreign key whose columns are all among `values` (non-null) points
  // at a row the token can see; else ReferenceRejection. For an insert that wrote nothing (its
  // key is another's row), so that it answers as the same insert of a fresh key would.
  Result<Outcome> CheckReferences(const SyncedTable& t, const nlohmann::json& pk,
                                  const std::vector<Field>& values);

  // Before a delete of row `pk` of `t` (`written` null), or an update writing `written`: no row
  // that the foreign keys' ON DELETE / ON UPDATE actions (CASCADE, SET NULL, SET DEFAULT) would
  // change, through any chain of cascades, is in a table the token may not write or outside its
  // scope. Rejection: permission_denied, rule "cascade", naming the table. One query, and none
  // when no action can reach such a table. Errors: PostgreSQL failures.
  Result<Outcome> CheckCascades(const SyncedTable& t, const nlohmann::json& pk,
                                const std::vector<Field>* written);

 private:
  PgConnection& conn_;
  const ServerModel& model_;
  const Principal& who_;
};

// The message of every `scope` rejection: the same whatever row is outside the scope.
inline constexpr const char* kOutOfScopeMessage =
    "the row would be outside the token's scope (another tenant's row or parent row, or a row "
    "filter value that is not the token's)";

// The rejection of a write whose foreign key `fk_name` points at a row the token cannot see,
// whether that row is absent or out of scope: one answer for both, so that it tells nothing about
// other tenants' rows (constraint_violation, rule: the constraint).
Rejection ReferenceRejection(const std::string& fk_name, const SyncedTable* table,
                             nlohmann::json pk);

}  // namespace outpost::server
