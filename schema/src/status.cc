#include "outpost/status.h"

namespace outpost {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kOk: return "ok";
    case Code::kInvalidArgument: return "invalid_argument";
    case Code::kMalformedDescriptor: return "malformed_descriptor";
    case Code::kUnknownType: return "unknown_type";
    case Code::kUnsupported: return "unsupported";
    case Code::kSqlError: return "sql_error";
    case Code::kConstraint: return "constraint_violation";
    case Code::kNotFound: return "not_found";
    case Code::kIoError: return "io_error";
    case Code::kPostgres: return "postgres_error";
    case Code::kConflict: return "conflict";
    case Code::kBusy: return "busy";
    case Code::kCorruption: return "corruption";
    case Code::kInternal: return "internal";
    case Code::kMalformedRequest: return "malformed_request";
    case Code::kUnknownTable: return "unknown_table";
    case Code::kUnknownColumn: return "unknown_column";
    case Code::kInvalidValue: return "invalid_value";
    case Code::kInvalidCursor: return "invalid_cursor";
    case Code::kCursorExpired: return "cursor_expired";
    case Code::kUnauthorized: return "unauthorized";
    case Code::kForbidden: return "forbidden";
    case Code::kPermissionDenied: return "permission_denied";
    case Code::kSchemaMismatch: return "schema_mismatch";
    case Code::kPayloadTooLarge: return "payload_too_large";
    case Code::kUnavailable: return "unavailable";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  std::string out(code_name());
  out += ": ";
  out += message_;
  return out;
}

Status Status::WithContext(std::string_view context) const {
  if (ok()) return *this;
  std::string msg(context);
  msg += ": ";
  msg += message_;
  return Status(code_, std::move(msg));
}

}  // namespace outpost
