// Status and Result: stable code names, context, values.
#include "outpost/status.h"

#include <catch2/catch.hpp>
#include <set>

namespace outpost {
namespace {

TEST_CASE("status codes have stable names, read both ways", "[schema][status]") {
  CHECK(Status().ok());
  CHECK(Status(Code::kUnknownType, "x").ToString() == "unknown_type: x");
  CHECK(CodeName(Code::kConstraint) == "constraint_violation");
  CHECK(CodeName(Code::kMalformedDescriptor) == "malformed_descriptor");
  CHECK(CodeName(Code::kSqlError) == "sql_error");
  // Every code's name reads back as that code; names are unique.
  std::set<std::string_view> names;
  for (int i = static_cast<int>(Code::kOk); i <= static_cast<int>(Code::kMalformedAnswer); ++i) {
    const Code code = static_cast<Code>(i);
    INFO(i);
    CHECK(CodeFromName(CodeName(code)) == code);
    CHECK(names.insert(CodeName(code)).second);
  }
  CHECK(CodeName(Code::kMalformedAnswer) == "malformed_answer");
  CHECK_FALSE(CodeFromName("no_such_code").has_value());
  CHECK_FALSE(CodeFromName("").has_value());
}

TEST_CASE("a status carries context and stays a value", "[schema][status]") {
  Status s(Code::kNotFound, "row 7");
  Status wrapped = s.WithContext("loading");
  CHECK(wrapped.code() == Code::kNotFound);
  CHECK(wrapped.ToString() == "not_found: loading: row 7");
  CHECK(s.message() == "row 7");
  CHECK(Status::Ok().WithContext("x").ok());
  Result<int> r = Status(Code::kBusy, "locked");
  CHECK_FALSE(r.ok());
  CHECK(r.status().code_name() == "busy");
}

}  // namespace
}  // namespace outpost
