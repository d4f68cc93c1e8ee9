// Private to the schema module: the name tables of the model's enums, and the checked JSON
// reading shared by the descriptor (schema_json.cc) and the sync rules (sync_rules.cc).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "outpost/schema.h"

namespace outpost::schema_internal {

using nlohmann::json;

inline constexpr std::pair<TypeKind, std::string_view> kTypeKindNames[] = {
    {TypeKind::kUuid, "uuid"},           {TypeKind::kText, "text"},
    {TypeKind::kCitext, "citext"},       {TypeKind::kInteger, "integer"},
    {TypeKind::kNumeric, "numeric"},     {TypeKind::kReal, "real"},
    {TypeKind::kBoolean, "boolean"},     {TypeKind::kDate, "date"},
    {TypeKind::kTimestamp, "timestamp"}, {TypeKind::kTimestamptz, "timestamptz"},
    {TypeKind::kJson, "json"},           {TypeKind::kArray, "array"},
    {TypeKind::kEnum, "enum"},           {TypeKind::kInet, "inet"},
    {TypeKind::kBytea, "bytea"},         {TypeKind::kOtherText, "other"},
};

inline constexpr std::pair<FkAction, std::string_view> kFkActionNames[] = {
    {FkAction::kNoAction, "no_action"},     {FkAction::kRestrict, "restrict"},
    {FkAction::kCascade, "cascade"},        {FkAction::kSetNull, "set_null"},
    {FkAction::kSetDefault, "set_default"},
};

inline constexpr std::pair<ScopeKind, std::string_view> kScopeKindNames[] = {
    {ScopeKind::kGlobal, "global"},
    {ScopeKind::kAll, "all"},
    {ScopeKind::kTenantColumn, "tenant_column"},
    {ScopeKind::kTenantKey, "tenant_key"},
    {ScopeKind::kVia, "via"},
    {ScopeKind::kReferencedBy, "referenced_by"},
};

inline constexpr std::pair<ConflictPolicy, std::string_view> kPolicyNames[] = {
    {ConflictPolicy::kLastWriterWins, "lww"},
    {ConflictPolicy::kServerWins, "server_wins"},
    {ConflictPolicy::kReject, "reject"},
    {ConflictPolicy::kAdditive, "additive"},
};

template <typename E, size_t N>
std::string_view NameOf(const std::pair<E, std::string_view> (&table)[N], E value) {
  for (const auto& [v, name] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <typename E, size_t N>
std::optional<E> ValueOf(const std::pair<E, std::string_view> (&table)[N], std::string_view name) {
  for (const auto& [v, n] : table) {
    if (n == name) return v;
  }
  return std::nullopt;
}

inline Status Malformed(std::string message) {
  return Status(Code::kMalformedDescriptor, std::move(message));
}

// --- JSON reading helpers: every access is checked so that bad input is an error, not a throw --

class Reader {
 public:
  explicit Reader(std::string where) : where_(std::move(where)) {}

  Status Object(const json& j) const {
    if (!j.is_object()) return Malformed(where_ + ": expected an object");
    return Status::Ok();
  }
  Status String(const json& j, const char* key, std::string* out, bool required = true) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) return Malformed(where_ + ": missing \"" + key + "\"");
      return Status::Ok();
    }
    if (!it->is_string()) return Malformed(where_ + ": \"" + key + "\" must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status OptString(const json& j, const char* key, std::optional<std::string>* out) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      out->reset();
      return Status::Ok();
    }
    if (!it->is_string()) return Malformed(where_ + ": \"" + key + "\" must be a string");
    *out = it->get<std::string>();
    return Status::Ok();
  }
  Status Bool(const json& j, const char* key, bool* out) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_boolean()) return Malformed(where_ + ": \"" + key + "\" must be true or false");
    *out = it->get<bool>();
    return Status::Ok();
  }
  Status Strings(const json& j, const char* key, std::vector<std::string>* out,
                 bool required = false) const {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) return Malformed(where_ + ": missing \"" + key + "\"");
      return Status::Ok();
    }
    return StringArray(*it, key, out);
  }
  Status StringArray(const json& arr, const char* key, std::vector<std::string>* out) const {
    if (!arr.is_array()) return Malformed(where_ + ": \"" + key + "\" must be an array of strings");
    out->clear();
    for (const auto& e : arr) {
      if (!e.is_string()) {
        return Malformed(where_ + ": \"" + key + "\" must be an array of strings");
      }
      out->push_back(e.get<std::string>());
    }
    return Status::Ok();
  }
  const std::string& where() const { return where_; }

 private:
  std::string where_;
};

// The JSON form of a table's sync rule, and its parser (`where` names the place in errors).
json SyncRuleToJson(const SyncRule& rule);
Result<SyncRule> ParseSyncRule(const json& j, const std::string& where);

}  // namespace outpost::schema_internal
