// GET /v1/pull (docs/protocol.md, "GET /v1/pull"): the query, and the answer's NDJSON lines.
//
// The answer is the bulk path of the protocol (a bootstrap is millions of rows), so neither side
// builds a JSON document for it: the server appends line text directly (the writer functions
// below), and the client reads a line's header once and then its tuples one by one, each value
// decoded straight into a ValueView for its column (TupleReader), ready to bind.
//
// Line grammar (members in this order; "rows"/"keys" is the last member of its line):
//   {"type":"reset"}
//   {"type":"rows","table":T,"columns":[c...],"rows":[[v...]...]}
//   {"type":"deletes","table":T,"keys":[[k...]...]}
//   {"type":"cursor","cursor":C,"bootstrap":B[,"total":N],"more":M}
// Lines of other types are ignored by readers (they are for newer clients).
//
// Threading: pure functions; a TupleReader belongs to one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/protocol.h"
#include "outpost/schema.h"
#include "outpost/status.h"
#include "outpost/value.h"

namespace outpost::protocol {

// --- Query --------------------------------------------------------------------------------------

struct PullQuery {
  std::string schema;                 // the schema version the client mirrors
  std::optional<std::string> cursor;  // none: a bootstrap
  // Rows (bootstrap) or changes (incremental) per page; none: the server's kDefaultPullLimit.
  std::optional<size_t> limit;
  int wait_seconds = 0;  // long-poll when an incremental pull has nothing
  // The client's id (its outbox's client_id), sent with long-polls: the server keeps at most a
  // few long-polls per client waiting and answers an older one when a newer one arrives.
  std::optional<std::string> client_id;
};

// "/v1/pull?schema=...[&cursor=...][&limit=N][&wait=S][&client=ID]", values percent-encoded;
// wait is left out when 0.
std::string EncodePullTarget(const PullQuery& query);
// Reads the query from its parameters: `param(name)` returns a parameter's decoded value, or
// nullopt when the request does not have it. Errors: kMalformedRequest (schema missing or empty,
// limit not an integer in 1..kMaxPullLimit, wait not an integer in 0..kMaxPullWaitSeconds,
// client empty or over kMaxClientIdBytes).
Result<PullQuery> DecodePullQuery(
    const std::function<std::optional<std::string>(std::string_view name)>& param);

// --- Writing an answer (server) -----------------------------------------------------------------

void AppendResetLine(std::string* out);
// `columns_json`: the JSON array of the column names (["id","name"]). Continue with the rows'
// tuples ("[v,...],[v,...]", values as client JSON) and AppendArrayLineEnd.
void AppendRowsLineStart(std::string_view table, std::string_view columns_json, std::string* out);
// Continue with the keys' tuples and AppendArrayLineEnd.
void AppendDeletesLineStart(std::string_view table, std::string* out);
void AppendArrayLineEnd(std::string* out);
// `total`: an estimate of a bootstrap's rows, on its first cursor line only.
void AppendCursorLine(std::string_view cursor, bool bootstrap, bool more,
                      std::optional<uint64_t> total, std::string* out);

// --- Reading an answer (client) -----------------------------------------------------------------

// The header of one line. For rows and deletes lines the array is not read yet: TupleReader
// reads it, from `array_begin` of the same text.
struct PullLine {
  enum class Type { kRows, kDeletes, kReset, kCursor, kUnknown };
  Type type = Type::kUnknown;
  std::string table;                 // kRows, kDeletes
  std::vector<std::string> columns;  // kRows
  std::string cursor;                // kCursor
  bool bootstrap = false;            // kCursor
  bool more = false;                 // kCursor
  std::optional<int64_t> total;      // kCursor, first of a bootstrap
  size_t array_begin = 0;            // kRows, kDeletes: offset of the "rows"/"keys" array
  // The array is the line's last member and was not scanned: TupleReader checks that only the
  // closing brace follows it.
  bool array_is_last = false;
};

// Reads the header of line `text` (without its newline; blank lines are kUnknown). Errors:
// kMalformedAnswer (not a JSON object, a rows/deletes/cursor line missing what it needs, more
// than kMaxPullLineBytes).
Result<PullLine> ReadPullLine(std::string_view text);

// Reads the tuples of a rows or deletes line. Each value is decoded for the kind of its column
// (docs/types.md, the fast path of ValueFromJson for values the server wrote): numbers into
// integers or reals ("Infinity"/"-Infinity" strings too), booleans into 0/1, strings (and
// numbers of text kinds, and the raw text of JSON objects and arrays) into text, {"$blob": ...}
// into bytes.
class TupleReader {
 public:
  // `text` and `line` as read by ReadPullLine; `kinds` has the kind of each tuple position (the
  // line's columns, or the key columns of its table for deletes). `text` must outlive the reader.
  TupleReader(std::string_view text, const PullLine& line, std::vector<TypeKind> kinds);

  // The next tuple into `*values` (resized to kinds.size()). The views point into the text or
  // into the reader's buffers: valid until the next call. False after the last tuple, once the
  // array's end (and, for a last member, the line's end) has been checked. Errors:
  // kMalformedAnswer (a tuple of another width, a value that is not JSON, text after the array).
  Result<bool> Next(std::vector<ValueView>* values);

 private:
  std::string_view text_;
  bool array_is_last_;
  std::vector<TypeKind> kinds_;
  size_t pos_;
  int state_ = 0;                            // 0: before the array, 1: inside it, 2: done
  std::vector<std::string> scratch_;         // per position: unescaped text
  std::vector<std::vector<uint8_t>> blobs_;  // per position: decoded bytes
};

}  // namespace outpost::protocol
