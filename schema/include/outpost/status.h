// Status and Result: how every Outpost operation reports failure.
//
// A Status is a small value type: OK, or a stable error code plus a human-readable message. The
// code's name (Status::code_name) is part of the public contract: it appears in the command
// line's output and in the JSON errors of the sync protocol (docs/protocol.md), and never changes
// meaning. Messages are for people and may be reworded.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace outpost {

enum class Code {
  kOk = 0,
  kInvalidArgument,      // "invalid_argument": a caller passed something unusable
  kMalformedDescriptor,  // "malformed_descriptor": a schema descriptor or rules file is not valid
  kUnknownType,          // "unknown_type": a type Outpost has no mapping for
  kUnsupported,          // "unsupported": valid input, but a feature Outpost does not provide
  kSqlError,             // "sql_error": SQL that SQLite could not prepare or run
  kConstraint,           // "constraint_violation": a NOT NULL/UNIQUE/CHECK/FOREIGN KEY rule failed
  kNotFound,             // "not_found"
  kIoError,              // "io_error": files, processes, sockets
  kPostgres,             // "postgres_error": PostgreSQL refused or failed
  kConflict,             // "conflict": the operation contradicts the current state
  kBusy,                 // "busy": the database is locked by another writer
  kCorruption,           // "corruption": stored state Outpost wrote is not readable any more
  kInternal,             // "internal": a broken invariant inside Outpost (a bug)
  // Sync protocol (docs/protocol.md): the same names appear in the server's JSON errors.
  kMalformedRequest,  // "malformed_request": a request that is not JSON or has the wrong shape
  kUnknownTable,      // "unknown_table": a table the client view does not have
  kUnknownColumn,     // "unknown_column": a column the client view does not have
  kInvalidValue,      // "invalid_value": a value of the wrong type or form for its column
  kInvalidCursor,     // "invalid_cursor": a cursor the server did not issue
  kCursorExpired,     // "cursor_expired": the cursor is older than the history kept
  kUnauthorized,      // "unauthorized": missing, malformed, forged or expired token
  kForbidden,         // "forbidden": the token's role is not allowed at all
  kPermissionDenied,  // "permission_denied": a write the token's scope or role does not allow
  kSchemaMismatch,    // "schema_mismatch": client and server schema versions differ
  kPayloadTooLarge,   // "payload_too_large": a request body over the limit
  kUnavailable,       // "unavailable": server or network unreachable, shutting down; retry
  // "malformed_answer": the client received an answer from the server that is not what the
  // protocol says (the server's fault, or something between the two); never sent by the server.
  kMalformedAnswer,
};

// The stable, lowercase name of a code, e.g. "unknown_type".
std::string_view CodeName(Code code);
// The code named `name` (CodeName's inverse), or nullopt for a name this version does not know.
std::optional<Code> CodeFromName(std::string_view name);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }

  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  std::string_view code_name() const { return CodeName(code_); }
  const std::string& message() const { return message_; }
  // "code_name: message", or "ok".
  std::string ToString() const;

  // Returns a copy whose message is prefixed with `context` ("context: message").
  Status WithContext(std::string_view context) const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

// Either a value or a non-OK Status. Accessing value() of an error is a programming error.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.ok() && "Result built from an OK status carries no value");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace outpost

// Early return of a non-OK Status from a function returning Status or Result<T>.
#define OUTPOST_RETURN_IF_ERROR(expr)        \
  do {                                       \
    ::outpost::Status _outpost_s = (expr);   \
    if (!_outpost_s.ok()) return _outpost_s; \
  } while (0)

#define OUTPOST_CONCAT_INNER(a, b) a##b
#define OUTPOST_CONCAT(a, b) OUTPOST_CONCAT_INNER(a, b)
// OUTPOST_ASSIGN_OR_RETURN(auto x, SomethingReturningResult());
#define OUTPOST_ASSIGN_OR_RETURN(lhs, rexpr) \
  OUTPOST_ASSIGN_OR_RETURN_IMPL(OUTPOST_CONCAT(_outpost_r, __LINE__), lhs, rexpr)
#define OUTPOST_ASSIGN_OR_RETURN_IMPL(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                                  \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
