// A described database for the schema and rules tests. Built with aggregate initialisation, so
// only for targets compiled with -Wno-missing-field-initializers (the tests).
#pragma once

#include "outpost/schema.h"

namespace outpost::testing {

// A described database (no rules applied yet) of two tables exercising most of the model: a
// tenant table with a citext unique, and a child scoped through it with an identity key, an
// array, an enum, a CHECK, a foreign key with an action, a partial index and an additive column.
inline Schema SampleSchema() {
  Schema s;
  s.app = "demo";
  s.roles = {"admin", "employee"};
  Table parent;
  parent.name = "parent";
  parent.columns = {{"id", {TypeKind::kUuid, "uuid"}, false, "gen_random_uuid()"},
                    {"name", {TypeKind::kCitext, "citext"}, false, std::nullopt}};
  parent.primary_key = {"id"};
  parent.uniques = {{"parent_name_key", {"name"}}};
  parent.sync.scope = {ScopeKind::kTenantKey, "id", "", ""};
  Table child;
  child.name = "child";
  ColumnType tags{TypeKind::kArray, "text[]", TypeKind::kText, {}};
  ColumnType mood{TypeKind::kEnum, "mood", TypeKind::kText, {"sad", "happy"}};
  child.columns = {
      {"id", {TypeKind::kInteger, "integer"}, false, "nextval('child_id_seq'::regclass)", true},
      {"parent_id", {TypeKind::kUuid, "uuid"}, true, std::nullopt},
      {"amount", {TypeKind::kNumeric, "numeric(10,2)"}, false, "0.00"},
      {"tags", tags, true, std::nullopt},
      {"mood", mood, true, "'sad'::mood"}};
  child.primary_key = {"id"};
  child.checks = {{"amount_positive", "(amount >= (0)::numeric)"}};
  child.foreign_keys = {{"child_parent_fk",
                         {"parent_id"},
                         "parent",
                         {"id"},
                         FkAction::kSetNull,
                         FkAction::kNoAction,
                         false,
                         false}};
  child.indexes = {{"child_mood_idx", false, "btree", {"mood"}, {false}, {true}, "(amount > 0)"}};
  child.sync.scope = {ScopeKind::kVia, "parent_id", "", ""};
  child.sync.write_roles = std::vector<std::string>{"admin"};
  child.sync.conflict.columns["amount"] = ConflictPolicy::kAdditive;
  s.tables = {parent, child};
  return s;
}

}  // namespace outpost::testing
