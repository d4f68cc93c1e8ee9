// PostgreSQL rows -> the client's JSON values (docs/protocol.md, "Values"; docs/types.md).
//
// Two paths with the same output:
//  - a fast path that appends JSON text straight to a std::string (bulk pages of pull: no JSON
//    DOM, no per-value allocation for the common kinds);
//  - FetchRows, which returns nlohmann::json rows for the push path (conflict answers).
//
// Every SELECT built here lists the client-view columns of the table (excluded columns are never
// read) and carries the scope predicate of ServerModel::ScopePredicate.
//
// Threading: the functions are pure or use only the connection they are given.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "model.h"
#include "outpost/encoding.h"
#include "outpost/schema.h"
#include "outpost/status.h"
#include "pg.h"

namespace outpost::server {

// Appends the client JSON of one non-NULL PostgreSQL text value of a column of `type`: the same
// JSON as PgTextToJson(type, text) (value.h), except that a real NaN becomes null (what SQLite
// would store) instead of an error. Errors: kInvalidArgument when `text` is not a valid value of
// the type (which PostgreSQL does not produce in Outpost's session settings).
Status AppendPgValueJson(const ColumnType& type, std::string_view text, std::string* out);

// Called with the output buffer when it holds at least kFlushBytes; it sends and clears it (so
// that a page is never held whole in memory, and the bytes are sent while still in cache).
using FlushFn = std::function<Status(std::string*)>;
inline constexpr size_t kFlushBytes = 256 * 1024;

// Appends rows [0, result.rows()) of `result` as JSON arrays separated by commas
// ("[v,…],[v,…]"), reading the table's view columns from result columns `first_col`,
// `first_col + 1`, … in view order. NULL is null. `flush` (optional) is called between rows.
// The result may be in either RowFormat (each column's form is read from the result).
Status AppendRowsJson(const SyncedTable& table, const PgResult& result, int first_col,
                      std::string* out, const FlushFn* flush = nullptr);

// Appends one JSON array of the primary key values given as PostgreSQL text (as stored in
// `_outpost.changes.pk`), converted to client JSON by the key columns' types: ["0193…"] or [57].
Status AppendPkJson(const SyncedTable& table, const nlohmann::json& pk_text, std::string* out);

// How a row query reads its values (docs/server.md, "Binary rows").
//  - kText: PostgreSQL's text form (its output functions) for every column.
//  - kBinary: the result is requested in binary (ResultFormat::kBinary). Columns of the kinds the
//    server decodes itself (uuid, integer, boolean, date, timestamp, timestamptz, text, citext,
//    enum) come in PostgreSQL's binary form, which costs PostgreSQL much less to produce (no uuid
//    or timestamp formatting: about half its CPU for a bootstrap). Numeric, real, json, array and
//    bytea columns are selected as `col::text`, an I/O conversion cast for them (pg_cast has no
//    function cast to text for these types), so their bytes are PostgreSQL's text form.
// Either way the JSON is the same: a binary value is turned into exactly the text PostgreSQL
// prints for it in Outpost's session settings (ISO dates, UTC), then into JSON by
// AppendPgValueJson.
enum class RowFormat { kText, kBinary };

// kBinary when every view column of `table` can be read as described above; kText otherwise
// (inet and cidr have function casts to text that differ from their output; other types have no
// decoder here).
RowFormat RowFormatFor(const SyncedTable& table);
inline ResultFormat ResultFormatOf(RowFormat format) {
  return format == RowFormat::kBinary ? ResultFormat::kBinary : ResultFormat::kText;
}

// `alias."c1", alias."c2", …` for the view columns of `table` (view order), with the casts of
// `format` (above). A query built with kBinary must be run with ResultFormat::kBinary.
std::string ViewColumnsSql(const SyncedTable& table, std::string_view alias,
                           RowFormat format = RowFormat::kText);

// The PostgreSQL text form of the non-NULL value of a column of `type` in result column `col`,
// whatever form that result column came in (binary values converted as above), into `*text`.
// Errors: kInternal when a binary value has the wrong size for its type or is out of range.
Status PgValueText(const ColumnType& type, const PgResult& result, int row, int col,
                   std::string* text);

// The JSON array of view column names, e.g. ["id","name"] (the "columns" of a rows line).
std::string ViewColumnsJson(const SyncedTable& table);

// A query returning, for the jsonb array `$1` of primary keys (each an array of values; strings
// or numbers, as text they must parse as the key column's type), the rows that exist and are in
// `who`'s scope: column 0 is the key's 1-based position in `$1`, then the view columns.
// `params` receives $1 = nullopt (the caller sets params[0]) followed by the scope's parameters.
Result<std::string> RowsByPkSql(const ServerModel& model, const SyncedTable& table,
                                const Principal& who, PgParams* params);

// For each key of `pks` (arrays of values, text or numbers, in primary key order), the current
// client-view row object ({"column": value, …}, every view column) of `table`, or null when the
// row does not exist or is outside `who`'s scope. The answer is a JSON array parallel to `pks`.
// Runs one query on `conn` (in whatever transaction `conn` has open). Errors: kInvalidArgument
// for a key of the wrong arity or not an array; kPostgres (e.g. a key value that does not parse
// as its column type), kPermissionDenied (the token lacks a claim the row filter needs).
Result<nlohmann::json> FetchRows(PgConnection& conn, const ServerModel& model,
                                 const SyncedTable& table, const Principal& who,
                                 const std::vector<nlohmann::json>& pks);

}  // namespace outpost::server
