// The schema model: what the server publishes about the tables a client mirrors.
//
// A Schema (the "descriptor") is produced by the server from the PostgreSQL catalog and the sync
// rules, serialised as JSON and consumed by clients, which create and migrate their local SQLite
// tables from it. The JSON form is canonical (sorted keys, no insignificant whitespace) and its
// SHA-256 is the descriptor's version: two descriptors with the same version describe the same
// tables, columns, constraints and rules.
//
// Invariants of a valid Schema (enforced by SchemaFromJson and ValidateSchema):
//  - table names are unique; column names are unique within a table;
//  - every primary key, unique, index, check-free foreign key and rule column names a column of
//    its table; every table has a primary key;
//  - every column has a known TypeKind (kArray columns have a known, non-array element kind).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/status.h"

namespace outpost {

// How a PostgreSQL type is represented locally (docs/types.md). Each kind has one SQLite storage
// class and one canonical text or number form; see docs/types.md.
enum class TypeKind {
  kUuid,         // TEXT, lowercase canonical 8-4-4-4-12
  kText,         // TEXT (text, varchar(n), char(n), name)
  kCitext,       // TEXT COLLATE NOCASE
  kInteger,      // INTEGER (smallint, integer, bigint, serial, bigserial)
  kNumeric,      // TEXT, exact decimal string ("-12.50", "NaN")
  kReal,         // REAL (real, double precision)
  kBoolean,      // INTEGER 0/1
  kDate,         // TEXT YYYY-MM-DD
  kTimestamp,    // TEXT YYYY-MM-DDTHH:MM:SS[.ffffff]
  kTimestamptz,  // TEXT YYYY-MM-DDTHH:MM:SS[.ffffff]Z (UTC)
  kJson,         // TEXT, JSON document (json and jsonb)
  kArray,        // TEXT, JSON array (nested for multi-dimensional arrays)
  kEnum,         // TEXT with CHECK (value IN (...))
  kInet,         // TEXT (inet, cidr)
  kBytea,        // BLOB
  kOtherText,    // TEXT holding PostgreSQL's own text form (interval, time, money, ...)
};

std::string_view TypeKindName(TypeKind kind);
// Parses a TypeKindName. Unknown names are an error with Code::kUnknownType.
Result<TypeKind> ParseTypeKind(std::string_view name);

struct ColumnType {
  TypeKind kind = TypeKind::kText;
  std::string pg_type;                   // PostgreSQL's format_type(), e.g. "numeric(10,2)"
  TypeKind element = TypeKind::kText;    // kArray only: the element kind
  std::vector<std::string> enum_values;  // kEnum, or kArray of an enum: the labels in order

  bool operator==(const ColumnType&) const = default;
};

struct Column {
  std::string name;
  ColumnType type;
  bool nullable = true;
  std::optional<std::string> default_expr;  // PostgreSQL expression text, as in the catalog
  bool serial = false;                      // value from a sequence or identity (server-assigned)
  bool generated = false;                   // GENERATED ALWAYS AS (...) STORED: server computes it

  bool operator==(const Column&) const = default;
};

struct CheckConstraint {
  std::string name;
  std::string expression;  // PostgreSQL expression, as pg_get_expr() prints it

  bool operator==(const CheckConstraint&) const = default;
};

struct UniqueConstraint {
  std::string name;
  std::vector<std::string> columns;

  bool operator==(const UniqueConstraint&) const = default;
};

enum class FkAction { kNoAction, kRestrict, kCascade, kSetNull, kSetDefault };
std::string_view FkActionName(FkAction action);  // "no_action", "restrict", "cascade", ...

struct ForeignKey {
  std::string name;
  std::vector<std::string> columns;
  std::string ref_table;
  std::vector<std::string> ref_columns;
  FkAction on_delete = FkAction::kNoAction;
  FkAction on_update = FkAction::kNoAction;
  bool deferrable = false;
  bool initially_deferred = false;

  bool operator==(const ForeignKey&) const = default;
};

// A secondary index. Keys are column names, or PostgreSQL expressions for expression keys.
struct Index {
  std::string name;
  bool unique = false;
  std::string method = "btree";  // access method; only btree can be mirrored
  std::vector<std::string> keys;
  std::vector<bool> key_is_expression;  // parallel to keys
  std::vector<bool> descending;         // parallel to keys
  std::optional<std::string> where;     // partial index predicate (PostgreSQL expression)

  bool operator==(const Index&) const = default;
};

// Which rows of a table a client receives (docs/sync-rules.md).
enum class ScopeKind {
  kGlobal,        // same rows for every tenant; read-only for clients
  kAll,           // single-tenant application: every row
  kTenantColumn,  // column == token tenant
  kTenantKey,     // the tenant table itself: column == token tenant
  kVia,           // column is a foreign key to a scoped parent; row follows the parent's tenant
  kReferencedBy,  // rows referenced by ref_table.ref_column of a scoped table
};
std::string_view ScopeKindName(ScopeKind kind);

struct Scope {
  ScopeKind kind = ScopeKind::kAll;
  std::string column;      // kTenantColumn, kTenantKey, kVia
  std::string ref_table;   // kReferencedBy
  std::string ref_column;  // kReferencedBy

  bool operator==(const Scope&) const = default;
};

// Optional row filter: for the listed roles, only rows whose `column` equals the token's `claim`.
struct RowFilter {
  std::string column;
  std::string claim;
  std::vector<std::string> roles;

  bool operator==(const RowFilter&) const = default;
};

enum class ConflictPolicy { kLastWriterWins, kServerWins, kReject, kAdditive };
std::string_view ConflictPolicyName(ConflictPolicy policy);  // "lww", "server_wins", ...

struct ConflictRules {
  ConflictPolicy default_policy = ConflictPolicy::kLastWriterWins;
  std::map<std::string, ConflictPolicy> columns;
  bool merge_on_insert_conflict = false;  // natural-key tables: an insert of an existing key merges

  bool operator==(const ConflictRules&) const = default;
};

// Which columns a role may set in one kind of write (docs/sync-rules.md, "Column permissions"):
// either only the listed columns (`except` false, written as a JSON array) or every column but
// the listed ones (`except` true, written {"except": [...]}). Primary key columns are outside
// column permissions: an insert always gives the key, an update never changes it.
struct ColumnGrant {
  bool except = false;
  std::vector<std::string> columns;

  bool operator==(const ColumnGrant&) const = default;
  bool permits(std::string_view column) const;
};

// A role's column permissions on a table; nullopt: every column.
struct ColumnPermissions {
  std::optional<ColumnGrant> insert;
  std::optional<ColumnGrant> update;

  bool operator==(const ColumnPermissions&) const = default;
};

enum class WriteKind { kInsert, kUpdate };

struct SyncRule {
  Scope scope;
  std::optional<RowFilter> filter;
  std::vector<std::string> excluded_columns;  // never leave the server (not in client view)
  std::optional<std::vector<std::string>> write_roles;  // nullopt: every role may write
  ConflictRules conflict;
  // Per role (a role without an entry may set every column it can write). Enforced by the
  // server on push and mirrored locally for the store's current role.
  std::map<std::string, ColumnPermissions> column_permissions;

  bool operator==(const SyncRule&) const = default;
  // True when no role may write (global tables, or "write": []).
  bool read_only() const;
  bool may_write(std::string_view role) const;
  // Whether `role` may set `column` (not a key column) in a write of `kind`, column permissions
  // only (may_write is separate).
  bool may_set(std::string_view role, std::string_view column, WriteKind kind) const;
};

struct Table {
  std::string name;
  std::vector<Column> columns;
  std::vector<std::string> primary_key;
  std::vector<CheckConstraint> checks;
  std::vector<UniqueConstraint> uniques;
  std::vector<ForeignKey> foreign_keys;
  std::vector<Index> indexes;
  SyncRule sync;

  bool operator==(const Table&) const = default;
  const Column* FindColumn(std::string_view column) const;
  // True when `column` is a primary key column the server assigns: a SERIAL / identity integer
  // (docs/local-store.md, "Keys"). Offline inserts give such a column a negative temporary value,
  // which the push answer remaps to the server's; the key may have other columns (a partitioned
  // table's (id, created_at), say), which the client gives as usual.
  bool IsServerKeyColumn(std::string_view column) const;
  // True when some primary key column is server-assigned (IsServerKeyColumn).
  bool has_serial_key() const;
};

struct Schema {
  std::string app;                 // application name from the rules ("" when described raw)
  std::vector<std::string> roles;  // roles named by the rules
  std::vector<Table> tables;       // in dependency order where possible, else catalog order

  bool operator==(const Schema&) const = default;
  const Table* FindTable(std::string_view table) const;
};

// Checks the invariants listed at the top of this file.
Status ValidateSchema(const Schema& schema);

// Checks `t.sync.column_permissions` against the table `t` (the full table when the rule still
// has excluded columns) and the declared `roles`: every role is declared and may write the
// table, every column exists, is not excluded and is not a primary key column, and a role can
// insert at all (every NOT NULL column without a default is insertable). Errors:
// kMalformedDescriptor naming the table, role and column.
Status ValidateColumnPermissions(const Table& t, const std::vector<std::string>& roles);

// The canonical JSON form, including "version". Deterministic for equal schemas.
std::string SchemaToJson(const Schema& schema, bool pretty = false);
// Parses and validates a descriptor. Errors: kMalformedDescriptor (syntax, missing or ill-typed
// fields, broken invariants, a version that does not match the content) and kUnknownType.
Result<Schema> SchemaFromJson(std::string_view json);
// "sha256:<hex>" of the canonical JSON without the version field.
std::string SchemaVersion(const Schema& schema);

// Sync rules as written by an application (schema/apps/<app>/rules.json, see docs/sync-rules.md).
// The server applies them to the database it describes (sync/server/src/rules.h).
struct SyncRules {
  std::string app;
  std::vector<std::string> roles;
  std::map<std::string, SyncRule> tables;  // by table name
};
Result<SyncRules> ParseSyncRules(std::string_view json);

}  // namespace outpost
