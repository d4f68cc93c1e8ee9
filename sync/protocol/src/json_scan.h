// A small, allocation-light JSON scanner for the hot path of pull answers: "rows" lines are read
// value by value, without building a DOM (protocol_pull.h, TupleReader). Private to the protocol
// module. Errors are kMalformedAnswer: it only ever reads what a server sent.
//
// Contract: the scanned text must stay alive and unchanged while views returned by the scanner
// are used. Only what pull lines need is decoded; SkipValue validates structure loosely (it
// finds the end of any well-formed value and rejects unbalanced input).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "outpost/status.h"

namespace outpost::protocol {

// One scalar as it appeared in the JSON text.
struct JsonScalar {
  enum class Kind { kNull, kBool, kInt, kDouble, kString, kBlob, kRaw };
  Kind kind = Kind::kNull;
  int64_t i = 0;          // kInt, kBool (0/1)
  double d = 0;           // kDouble
  std::string_view text;  // kString: decoded text; kBlob: the base64 text; kRaw: the JSON
                          // text of an object/array; kInt/kDouble: the number's text
};

class JsonScanner {
 public:
  explicit JsonScanner(std::string_view text, size_t pos = 0) : s_(text), p_(pos) {}

  size_t pos() const { return p_; }
  // Skips whitespace and returns the next character ('\0' at the end).
  char Peek();
  // Skips whitespace and consumes `c`, or fails.
  Status Expect(char c);
  // Skips whitespace; consumes `c` and returns true if it is next.
  bool Consume(char c);
  bool AtEnd();

  // A string at the current position. The result views the source when the string has no
  // escapes, otherwise `*scratch` (which it overwrites).
  Result<std::string_view> String(std::string* scratch);
  // Skips any value, returning its raw text.
  Result<std::string_view> SkipValue();
  // A scalar (or {"$blob": "..."} / any other object or array as kRaw).
  Status Scalar(JsonScalar* out, std::string* scratch);

  Status Error(std::string_view what) const;

 private:
  Status Number(JsonScalar* out);
  std::string_view s_;
  size_t p_;
};

}  // namespace outpost::protocol
