// DDL generation: the local SQLite tables that mirror a Schema.
//
// For every table the generator emits a STRICT table with the type mapping of docs/types.md, its
// primary key (as the unique index KeyIndexName(table), see below), NOT NULL, defaults, CHECK
// constraints (enum sets, booleans, JSON shape, and the table's own CHECKs translated from
// PostgreSQL where SQLite can express them), foreign keys with their ON DELETE / ON UPDATE actions,
// UNIQUE constraints and b-tree indexes (partial and expression indexes included when their
// expressions translate). Everything it cannot mirror is listed in MirrorDdl::not_mirrored by name
// with the reason; nothing is dropped silently.
//
// Generated defaults call SQL functions that the local store registers on every connection:
// outpost_uuid() (UUIDv7) and outpost_temp_key() (a negative temporary key for server-assigned
// integer keys, docs/local-store.md, "Keys"); translated rules may call regexp() and the
// outpost_pg_* functions of outpost/pg_eval.h (core/src/pg_functions.cc). Plain SQLite tools can
// read the database, but writing rows that need those functions requires the Outpost store.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "outpost/schema.h"
#include "outpost/sql_quote.h"
#include "outpost/status.h"
#include "outpost/value.h"

namespace outpost {

struct NotMirrored {
  std::string table;
  std::string object;  // column, constraint or index name
  std::string reason;
};

struct TableDdl {
  std::string table;
  std::string create_table;                 // CREATE TABLE ... STRICT
  std::vector<std::string> create_indexes;  // CREATE [UNIQUE] INDEX ...
};

struct MirrorDdl {
  std::vector<TableDdl> tables;  // in schema order
  std::vector<NotMirrored> not_mirrored;
};

MirrorDdl GenerateMirrorDdl(const Schema& schema);

// The unique index that holds a table's primary key: always the first of its create_indexes. The
// key is not a PRIMARY KEY clause because SQLite's automatic index for one cannot be dropped, and
// a bootstrap drops and rebuilds the key index of a big table: filling a b-tree in the server's
// (random uuid) order costs random page writes once it outgrows the page cache, building it by
// sorting at the end does not. A unique index over the key columns is the same constraint, parent
// key for foreign keys and ON CONFLICT target. "_outpost_key_" + the table name.
std::string KeyIndexName(const Table& table);

// What a column holds when an insert leaves it out, as far as it is a constant (column
// permissions, docs/sync-rules.md: an insert may only give a column the role may not set the value
// it would get anyway). kNull: no default or DEFAULT NULL; kConstant: a literal default, `value`
// in the local form; kComputed: a sequence, the current time, a random uuid or any other
// expression, whose value nobody but the database that evaluates it knows.
struct ColumnDefault {
  enum Kind { kNull, kConstant, kComputed } kind = kNull;
  Value value;
  std::string sql;  // kConstant: `value` as an SQLite literal
};
ColumnDefault DefaultOf(const Column& column);

// Translates a PostgreSQL expression (as pg_get_expr prints CHECK constraints, index predicates
// and index expressions) into an equivalent SQLite expression over the local columns of `table`:
// its value in the form that compares as PostgreSQL's does (numeric as REAL, dates and times as
// outpost_pg_time_key()). Supported (docs/types.md, "CHECK constraints, index predicates and
// defaults", has the details): column references; literals; casts between text, citext, char(n),
// numbers, booleans, uuids, dates and times (not across time zones), to the enums and domains the
// table's columns use; comparisons (text ordering only under COLLATE "C"), arithmetic, ||,
// AND/OR/NOT, IS [NOT] NULL/TRUE/FALSE, IS [NOT] DISTINCT FROM, [NOT] IN, [NOT] BETWEEN
// [SYMMETRIC], CASE; ANY/ALL over array literals and = ANY / <> ALL over array values; ~ ~* !~ !~*
// and LIKE/ILIKE with constant patterns in PgRegex's subset; lower, upper, length, char_length,
// octet_length, btrim/ltrim/rtrim/TRIM, POSITION/strpos, SUBSTRING/left/right (constant
// positions), abs, coalesce, nullif, num_nulls, num_nonnulls, json[b]_typeof,
// json[b]_array_length, cardinality, array_length(x, 1). Anything else is kUnsupported with the
// offending construct named.
Result<std::string> TranslatePgExpression(std::string_view expression, const Table& table);

// Column names a PostgreSQL expression refers to (best effort: identifiers that are not keywords,
// function names or type names).
std::vector<std::string> PgExpressionColumns(std::string_view expression);

}  // namespace outpost
