// A small schema for the core tests: a tenant-scoped parent/child pair, a serial-keyed table and
// a global read-only table.
#pragma once

#include "outpost/schema.h"

namespace outpost::testing {

// A column of the given kind and PostgreSQL type (`def`: its default expression).
inline Column MakeColumn(const std::string& name, TypeKind kind, const std::string& pg_type,
                         bool nullable, std::optional<std::string> def = std::nullopt) {
  Column c;
  c.name = name;
  c.type.kind = kind;
  c.type.pg_type = pg_type;
  c.nullable = nullable;
  c.default_expr = std::move(def);
  return c;
}

inline Schema CoreTestSchema() {
  Schema s;
  s.app = "core-test";
  s.roles = {"user"};
  Table projects;
  projects.name = "projects";
  projects.columns = {MakeColumn("id", TypeKind::kUuid, "uuid", false, "gen_random_uuid()"),
                      MakeColumn("name", TypeKind::kText, "text", false),
                      MakeColumn("active", TypeKind::kBoolean, "boolean", false, "true"),
                      MakeColumn("budget", TypeKind::kNumeric, "numeric(10,2)", true)};
  projects.primary_key = {"id"};
  projects.sync.scope.kind = ScopeKind::kAll;
  Table tasks;
  tasks.name = "tasks";
  tasks.columns = {MakeColumn("id", TypeKind::kUuid, "uuid", false, "gen_random_uuid()"),
                   MakeColumn("project_id", TypeKind::kUuid, "uuid", false),
                   MakeColumn("title", TypeKind::kText, "text", false),
                   MakeColumn("minutes", TypeKind::kInteger, "integer", false, "0"),
                   MakeColumn("score", TypeKind::kReal, "double precision", true),
                   MakeColumn("blob", TypeKind::kBytea, "bytea", true)};
  tasks.primary_key = {"id"};
  tasks.checks = {{"minutes_range", R"((("minutes" >= 0) AND ("minutes" <= 1440)))"}};
  tasks.foreign_keys = {{"tasks_project_fk",
                         {"project_id"},
                         "projects",
                         {"id"},
                         FkAction::kCascade,
                         FkAction::kNoAction,
                         false,
                         false}};
  tasks.sync.scope.kind = ScopeKind::kAll;
  Table orders;
  orders.name = "orders";
  Column oid =
      MakeColumn("id", TypeKind::kInteger, "integer", false, "nextval('orders_id_seq'::regclass)");
  oid.serial = true;
  orders.columns = {oid, MakeColumn("total", TypeKind::kNumeric, "numeric(10,2)", false)};
  orders.primary_key = {"id"};
  orders.sync.scope.kind = ScopeKind::kAll;
  Table statuses;
  statuses.name = "statuses";
  statuses.columns = {MakeColumn("code", TypeKind::kText, "text", false)};
  statuses.primary_key = {"code"};
  statuses.sync.scope.kind = ScopeKind::kGlobal;
  s.tables = {projects, tasks, orders, statuses};
  return s;
}

}  // namespace outpost::testing
