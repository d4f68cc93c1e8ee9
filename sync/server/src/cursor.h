// Pull cursors (docs/protocol.md, "GET /v1/pull"; docs/server.md, "Cursors").
//
// A cursor is base64url (unpadded) of a JSON object the server wrote (protocol::WrapCursor; "w"
// is the public part, protocol::CursorWatermark):
//   {"v":1,"w":"<xid8>"}                                   incremental, at watermark w
//   {"v":1,"w":"<xid8>","t":<table>,"k":[<pk text>…]|null}   bootstrap in progress: the next page
//                                                            is table t after key k (null: from
//                                                            its start); w = xmin at its start
//   {"v":1,"w":"<xid8>","t":<table>,"b":"<block>","f":"<filenode>"}
//                                                            bootstrap in progress, table t read
//                                                            in physical order: next block b of
//                                                            relation file f
//   {"v":1,"w":"<xid8>","e":"<xid8>","x":"<xid8>","i":"<id>"} incremental window [w, e) in
//                                                            progress, after change (x, i)
// Decoding is strict: exactly these shapes, xid8 as strings of at most 20 digits within 64 bits,
// i within a bigint, b and f within 32 bits, t within the model's tables, k of the table's key
// arity with string elements, e >= w, w <= x < e. Anything else is kInvalidCursor, so that every
// number a query takes fits its PostgreSQL type and a forged cursor is refused before anything is
// streamed (watermarks beyond the snapshot, and key values that do not fit the key's type, are
// refused by the pull before its answer starts).
//
// Threading: pure functions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "model.h"
#include "outpost/status.h"

namespace outpost::server {

struct Cursor {
  enum class Kind { kIncremental, kBootstrap, kWindow };
  Kind kind = Kind::kIncremental;
  uint64_t w = 0;  // watermark: every change with xid < w has been served
  // kBootstrap
  size_t table = 0;
  nlohmann::json key;     // null or an array of the key's values as PostgreSQL text
  bool by_block = false;  // physical order: `block` of relation file `filenode` is next
  uint64_t block = 0;
  uint64_t filenode = 0;
  // kWindow
  uint64_t end = 0;       // e: the window's end W'
  uint64_t last_xid = 0;  // x, i: the last change served, in (xid, id) order
  uint64_t last_id = 0;

  bool operator==(const Cursor&) const = default;
};

std::string EncodeCursor(const Cursor& c);
Result<Cursor> DecodeCursor(std::string_view text, const ServerModel& model);
// The same checks against a table count and key arities (tests).
Result<Cursor> DecodeCursor(std::string_view text, const std::vector<size_t>& key_arity);

}  // namespace outpost::server
