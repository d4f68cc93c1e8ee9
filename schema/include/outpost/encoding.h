// Text encodings shared by every layer: hexadecimal, base64 and base64url, and JSON string
// literals. One implementation of each, used for BLOB values ({"$blob": ...}), SQL blob literals,
// pull cursors, tokens, the outbox and the wire protocol.
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/status.h"

namespace outpost {

// Lowercase hexadecimal, two digits per byte.
std::string HexEncode(const uint8_t* data, size_t size);

// Base64 with the standard alphabet and '=' padding (RFC 4648 §4): the form of {"$blob": ...}.
std::string Base64Encode(const uint8_t* data, size_t size);
// Decodes base64 as clients send it: either alphabet (standard or URL-safe), padding optional.
// Errors: kInvalidArgument (a character outside both alphabets, an impossible length).
Result<std::vector<uint8_t>> Base64Decode(std::string_view text);

// base64url without padding (RFC 4648 §5): cursors and tokens.
std::string Base64UrlEncode(std::string_view bytes);
// Strict: no padding, no whitespace, no characters outside the URL-safe alphabet and no
// non-zero trailing bits, so that every byte string has exactly one accepted encoding.
// Errors: kInvalidArgument.
Result<std::string> Base64UrlDecode(std::string_view text);

// Appends `s` as a JSON string literal, quotes included. `s` should be UTF-8: bytes >= 0x80 are
// copied as they are; '"', '\\' and control characters are escaped.
void AppendJsonString(std::string_view s, std::string* out);
// True when `s` holds a byte that AppendJsonString escapes (then a JSON string of `s` is not
// simply `s` between quotes).
bool JsonStringNeedsEscape(std::string_view s);

}  // namespace outpost
