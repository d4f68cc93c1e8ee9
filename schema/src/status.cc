#include "outpost/status.h"

namespace outpost {

namespace {

// Every code with its stable name, in one table read both ways.
constexpr std::pair<Code, std::string_view> kCodeNames[] = {
    {Code::kOk, "ok"},
    {Code::kInvalidArgument, "invalid_argument"},
    {Code::kMalformedDescriptor, "malformed_descriptor"},
    {Code::kUnknownType, "unknown_type"},
    {Code::kUnsupported, "unsupported"},
    {Code::kSqlError, "sql_error"},
    {Code::kConstraint, "constraint_violation"},
    {Code::kNotFound, "not_found"},
    {Code::kIoError, "io_error"},
    {Code::kPostgres, "postgres_error"},
    {Code::kConflict, "conflict"},
    {Code::kBusy, "busy"},
    {Code::kCorruption, "corruption"},
    {Code::kInternal, "internal"},
    {Code::kMalformedRequest, "malformed_request"},
    {Code::kUnknownTable, "unknown_table"},
    {Code::kUnknownColumn, "unknown_column"},
    {Code::kInvalidValue, "invalid_value"},
    {Code::kInvalidCursor, "invalid_cursor"},
    {Code::kCursorExpired, "cursor_expired"},
    {Code::kUnauthorized, "unauthorized"},
    {Code::kForbidden, "forbidden"},
    {Code::kPermissionDenied, "permission_denied"},
    {Code::kSchemaMismatch, "schema_mismatch"},
    {Code::kPayloadTooLarge, "payload_too_large"},
    {Code::kUnavailable, "unavailable"},
    {Code::kMalformedAnswer, "malformed_answer"},
};

}  // namespace

std::string_view CodeName(Code code) {
  for (const auto& [c, name] : kCodeNames) {
    if (c == code) return name;
  }
  return "internal";
}

std::optional<Code> CodeFromName(std::string_view name) {
  for (const auto& [c, n] : kCodeNames) {
    if (n == name) return c;
  }
  return std::nullopt;
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
