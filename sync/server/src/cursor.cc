#include "cursor.h"

#include "outpost/protocol.h"

namespace outpost::server {

namespace {

using nlohmann::json;

Status Invalid(std::string why) {
  return Status(Code::kInvalidCursor, "invalid cursor: " + std::move(why));
}

bool ParseU64(const json& j, uint64_t* out) {
  auto v = protocol::ParseDecimalU64(j);
  if (v) *out = *v;
  return v.has_value();
}

}  // namespace

std::string EncodeCursor(const Cursor& c) {
  json j = json::object();
  j["v"] = 1;
  j["w"] = std::to_string(c.w);
  switch (c.kind) {
    case Cursor::Kind::kIncremental: break;
    case Cursor::Kind::kBootstrap:
      j["t"] = c.table;
      if (c.by_block) {
        j["b"] = std::to_string(c.block);
        j["f"] = std::to_string(c.filenode);
      } else {
        j["k"] = c.key;
      }
      break;
    case Cursor::Kind::kWindow:
      j["e"] = std::to_string(c.end);
      j["x"] = std::to_string(c.last_xid);
      j["i"] = std::to_string(c.last_id);
      break;
  }
  return protocol::WrapCursor(j);
}

Result<Cursor> DecodeCursor(std::string_view text, const ServerModel& model) {
  std::vector<size_t> arity;
  for (const auto& t : model.tables()) arity.push_back(t.view->primary_key.size());
  return DecodeCursor(text, arity);
}

Result<Cursor> DecodeCursor(std::string_view text, const std::vector<size_t>& key_arity) {
  OUTPOST_ASSIGN_OR_RETURN(json j, protocol::UnwrapCursor(text));
  auto v = j.find("v");
  if (v == j.end() || !v->is_number_integer() || v->get<int64_t>() != 1) {
    return Invalid("unknown version");
  }
  Cursor c;
  if (!j.contains("w") || !ParseU64(j["w"], &c.w)) return Invalid("bad watermark");
  if (j.size() == 2) return c;
  if (j.size() == 4 && j.contains("t") && j.contains("k")) {
    c.kind = Cursor::Kind::kBootstrap;
    const json& t = j["t"];
    if (!t.is_number_unsigned() || t.get<uint64_t>() >= key_arity.size()) {
      return Invalid("bad table");
    }
    c.table = t.get<size_t>();
    const json& k = j["k"];
    if (!k.is_null()) {
      if (!k.is_array() || k.size() != key_arity[c.table]) return Invalid("bad key");
      for (const auto& e : k) {
        if (!e.is_string() || e.get_ref<const std::string&>().size() > 1024) {
          return Invalid("bad key");
        }
      }
    }
    c.key = k;
    return c;
  }
  if (j.size() == 5 && j.contains("t") && j.contains("b") && j.contains("f")) {
    c.kind = Cursor::Kind::kBootstrap;
    c.by_block = true;
    const json& t = j["t"];
    if (!t.is_number_unsigned() || t.get<uint64_t>() >= key_arity.size()) {
      return Invalid("bad table");
    }
    c.table = t.get<size_t>();
    // A block number and a relation file node are 32-bit in PostgreSQL.
    if (!ParseU64(j["b"], &c.block) || c.block > 0xffffffffull || !ParseU64(j["f"], &c.filenode) ||
        c.filenode > 0xffffffffull) {
      return Invalid("bad block");
    }
    return c;
  }
  if (j.size() == 5 && j.contains("e") && j.contains("x") && j.contains("i")) {
    c.kind = Cursor::Kind::kWindow;
    if (!ParseU64(j["e"], &c.end) || !ParseU64(j["x"], &c.last_xid) ||
        !ParseU64(j["i"], &c.last_id)) {
      return Invalid("bad window");
    }
    if (c.end < c.w || c.last_xid < c.w || c.last_xid >= c.end) return Invalid("bad window");
    // A change id is a bigint: beyond its range the query would fail after the answer began.
    if (c.last_id > static_cast<uint64_t>(INT64_MAX)) return Invalid("bad window");
    return c;
  }
  return Invalid("unknown fields");
}

}  // namespace outpost::server
