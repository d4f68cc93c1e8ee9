// The C API (outpost.h): codes, opening and closing, errors, schema, SQL, transactions and the
// sync state. Prepared statements, watches, rounds and outpost_sync are in their own files
// (capi_internal.h lists them).
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>
#include <vector>

#include "capi_internal.h"

using nlohmann::json;
using outpost::Code;
using outpost::Result;
using outpost::Status;

// The C codes are the Status codes, number for number.
static_assert(OUTPOST_OK == static_cast<int>(Code::kOk));
static_assert(OUTPOST_CONSTRAINT_VIOLATION == static_cast<int>(Code::kConstraint));
static_assert(OUTPOST_INTERNAL == static_cast<int>(Code::kInternal));
static_assert(OUTPOST_MALFORMED_REQUEST == static_cast<int>(Code::kMalformedRequest));
static_assert(OUTPOST_UNAVAILABLE == static_cast<int>(Code::kUnavailable));
static_assert(OUTPOST_MALFORMED_ANSWER == static_cast<int>(Code::kMalformedAnswer));

#ifndef OUTPOST_VERSION_STRING
#error "OUTPOST_VERSION_STRING must be defined by the build (capi/CMakeLists.txt)"
#endif

namespace outpost::capi {

char* Export(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> ObjectArg(const char* text, const char* what) {
  if (!text || !*text) return json::object();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(Code::kInvalidArgument, std::string(what) + " must be a JSON object");
  }
  return j;
}

// The encryption key of `o` (open options, or outpost_rekey's new key): "key" a passphrase,
// "raw_key" 64 hexadecimal digits, "kdf_cost" "interactive" (default) or "moderate" for a
// passphrase. Neither key: none. Wrong types and both keys at once are errors, never ignored.
Status KeyOption(const json& o, std::optional<outpost::EncryptionKey>* key) {
  key->reset();
  const bool has_key = o.contains("key") && !o["key"].is_null();
  const bool has_raw = o.contains("raw_key") && !o["raw_key"].is_null();
  if (has_key && has_raw) {
    return Status(Code::kInvalidArgument, "give either \"key\" or \"raw_key\", not both");
  }
  outpost::EncryptionCost cost = outpost::EncryptionCost::Interactive();
  if (o.contains("kdf_cost") && !o["kdf_cost"].is_null()) {
    const json& c = o["kdf_cost"];
    if (c == "moderate") {
      cost = outpost::EncryptionCost::Moderate();
    } else if (c != "interactive") {
      return Status(Code::kInvalidArgument, "\"kdf_cost\" must be \"interactive\" or \"moderate\"");
    }
  }
  if (has_key) {
    if (!o["key"].is_string() || o["key"].get_ref<const std::string&>().empty()) {
      return Status(Code::kInvalidArgument, "\"key\" must be a non-empty string (a passphrase)");
    }
    *key = outpost::EncryptionKey::Passphrase(o["key"].get_ref<const std::string&>(), cost);
  } else if (has_raw) {
    if (!o["raw_key"].is_string()) {
      return Status(Code::kInvalidArgument, "\"raw_key\" must be a string of 64 hex digits");
    }
    OUTPOST_ASSIGN_OR_RETURN(
        *key, outpost::EncryptionKey::RawHex(o["raw_key"].get_ref<const std::string&>()));
  }
  return Status::Ok();
}

Result<json> ParamsArg(const char* text) {
  if (!text || !*text) return json::array();
  json params = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (params.is_discarded()) {
    return Status(Code::kInvalidArgument, "the parameters are not valid JSON");
  }
  return params;
}

Status Out(char** out, const json& j) {
  if (!out) return Status::Ok();
  *out = Export(Dump(j));
  if (!*out) return Status(Code::kInternal, "out of memory");
  return Status::Ok();
}

Status NeedsSession(outpost_db* db) {
  if (!db->session) return Status(Code::kInvalidArgument, "the store is not open");
  return Status::Ok();
}

bool IsUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const auto* end = p + s.size();
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
      continue;
    }
    int n;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      n = 1, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (end - p <= n) return false;
    for (int i = 1; i <= n; ++i) {
      if ((p[i] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    p += n + 1;
  }
  return true;
}

void ReleaseIfClosed(outpost_db* db) {
  if (!db->closed || db->depth > 0) return;
  if (db->store) {
    // Torn down in dependency order: what uses the store first. No call of the handle or its
    // shells is running (depth == 0), so none of these objects is in use.
    for (outpost_stmt* stmt : db->statements) stmt->statement.reset();
    if (db->round) db->round->round.reset();
    db->store->SetChangeListener(nullptr);
    db->session.reset();
    db->store.reset();  // closes the database (rolling back an open transaction)
  }
  if (db->statements.empty() && !db->round) delete db;
}

}  // namespace outpost::capi

using namespace outpost::capi;

namespace {

json ReportJson(const outpost::MirrorReport& r) {
  json gaps = json::array();
  for (const auto& n : r.not_mirrored) {
    gaps.push_back({{"table", n.table}, {"object", n.object}, {"reason", n.reason}});
  }
  return {{"version", r.version},
          {"created", r.created},
          {"migrated", r.migrated},
          {"dropped", r.dropped},
          {"not_mirrored", gaps}};
}

// Runs a transaction-control statement.
Status RunSql(outpost_db* db, const char* sql) {
  return db->store->Execute(sql).status();
}

}  // namespace

extern "C" {

const char* outpost_version(void) {
  return OUTPOST_VERSION_STRING;
}

const char* outpost_code_name(int code) {
  if (code == OUTPOST_ROW) return "row";
  if (code == OUTPOST_DONE) return "done";
  if (code < 0 || code > OUTPOST_MALFORMED_ANSWER) return "unknown";
  return outpost::CodeName(static_cast<Code>(code)).data();  // names are static literals
}

void outpost_free(void* p) {
  std::free(p);
}

int outpost_open(const char* path, const char* options_json, outpost_db** out_db) {
  if (!out_db) return OUTPOST_INVALID_ARGUMENT;
  *out_db = nullptr;
  outpost_db* db = new (std::nothrow) outpost_db;
  if (!db) return OUTPOST_INTERNAL;
  *out_db = db;
  return Guard(db, [&]() -> Status {
    if (!path) return Status(Code::kInvalidArgument, "outpost_open needs a path");
    OUTPOST_ASSIGN_OR_RETURN(json o, ObjectArg(options_json, "the open options"));
    outpost::StoreOptions options;
    if (o.contains("durable"))
      options.durable = o["durable"].is_boolean() && o["durable"].get<bool>();
    if (o.contains("wal")) options.wal = o["wal"].is_boolean() && o["wal"].get<bool>();
    if (o.contains("cache_mib") && o["cache_mib"].is_number_integer()) {
      options.cache_mib = o["cache_mib"].get<int>();
    }
    OUTPOST_RETURN_IF_ERROR(KeyOption(o, &options.encryption));
    OUTPOST_ASSIGN_OR_RETURN(db->store, outpost::Store::Open(path, options));
    OUTPOST_ASSIGN_OR_RETURN(db->session, outpost::SyncSession::Open(db->store.get()));
    db->store->SetChangeListener([db](const std::vector<std::string>& tables) {
      std::vector<std::string> merged;
      std::set_union(db->changes.begin(), db->changes.end(), tables.begin(), tables.end(),
                     std::back_inserter(merged));
      db->changes.swap(merged);
    });
    return Status::Ok();
  });
}

int outpost_rekey(const char* path, const char* options_json, const char* new_key_json,
                  char** error_message) {
  using outpost::capi::KeyOption;
  using outpost::capi::ObjectArg;
  if (error_message) *error_message = nullptr;
  Status s = [&]() -> Status {
    try {
      if (!path) return Status(Code::kInvalidArgument, "outpost_rekey needs a path");
      OUTPOST_ASSIGN_OR_RETURN(json o, ObjectArg(options_json, "the open options"));
      OUTPOST_ASSIGN_OR_RETURN(json n, ObjectArg(new_key_json, "the new key"));
      outpost::StoreOptions options;
      OUTPOST_RETURN_IF_ERROR(KeyOption(o, &options.encryption));
      std::optional<outpost::EncryptionKey> new_key;
      OUTPOST_RETURN_IF_ERROR(KeyOption(n, &new_key));
      return outpost::Store::Rekey(path, options, new_key);
    } catch (const std::exception& e) {
      return Status(Code::kInternal, std::string("unexpected exception: ") + e.what());
    }
  }();
  if (!s.ok() && error_message) *error_message = outpost::capi::Export(s.message());
  return static_cast<int>(s.code());
}

void outpost_close(outpost_db* db) {
  if (!db || db->closed) return;
  db->closed = true;
  db->cancel_sync = true;  // an outpost_sync running under a callback stops at its next step
  if (db->store) {
    // No callback after this returns, even when the store outlives it (closed from a callback).
    // The ids are the handle's live watches (outpost_unwatch forgets its own), so Unwatch finds
    // each of them.
    for (int64_t id : db->watches) (void)db->store->Unwatch(id);
    db->store->SetChangeListener(nullptr);
  }
  db->watches.clear();
  ReleaseIfClosed(db);
}

int outpost_errcode(const outpost_db* db) {
  return db ? static_cast<int>(db->last.code()) : OUTPOST_INVALID_ARGUMENT;
}

const char* outpost_errmsg(const outpost_db* db) {
  return db ? db->last.message().c_str() : "no handle";
}

int outpost_in_transaction(const outpost_db* db) {
  return db && !db->closed && db->store && db->store->in_transaction() ? 1 : 0;
}

int outpost_begin(outpost_db* db) {
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (db->store->in_transaction()) {
      return Status(Code::kInvalidArgument, "a transaction is already open");
    }
    return RunSql(db, "BEGIN IMMEDIATE");
  });
}

int outpost_commit(outpost_db* db) {
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!db->store->in_transaction()) {
      return Status(Code::kInvalidArgument, "no transaction is open");
    }
    return RunSql(db, "COMMIT");
  });
}

int outpost_rollback(outpost_db* db) {
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!db->store->in_transaction()) return Status::Ok();
    return RunSql(db, "ROLLBACK");
  });
}

int outpost_set_role(outpost_db* db, const char* role) {
  return Guard(db, [&]() -> Status {
    if (!db->store) return Status(Code::kInvalidArgument, "the store is not open");
    return db->store->SetRole(role ? role : "");
  });
}

int outpost_apply_schema(outpost_db* db, const char* descriptor_json, char** report_json) {
  if (report_json) *report_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!descriptor_json) return Status(Code::kInvalidArgument, "no descriptor");
    OUTPOST_ASSIGN_OR_RETURN(auto report, db->session->HandleSchema(descriptor_json));
    return Out(report_json, ReportJson(report));
  });
}

int outpost_execute(outpost_db* db, const char* sql, const char* params_json, char** result_json) {
  if (result_json) *result_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!sql) return Status(Code::kInvalidArgument, "no SQL given");
    OUTPOST_ASSIGN_OR_RETURN(json params, ParamsArg(params_json));
    OUTPOST_ASSIGN_OR_RETURN(auto r, db->store->Execute(sql, params));
    return Out(result_json, json{{"columns", r.columns},
                                 {"rows", std::move(r.rows)},
                                 {"changes", r.changes},
                                 {"last_insert_rowid", r.last_insert_rowid}});
  });
}

int outpost_tables_read(outpost_db* db, const char* sql, char** tables_json) {
  if (tables_json) *tables_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!sql) return Status(Code::kInvalidArgument, "no SQL given");
    OUTPOST_ASSIGN_OR_RETURN(auto tables, db->store->TablesRead(sql));
    return Out(tables_json, tables);
  });
}

int outpost_take_changes(outpost_db* db, char** tables_json) {
  if (tables_json) *tables_json = nullptr;
  return Guard(db, [&]() -> Status {
    std::vector<std::string> tables;
    tables.swap(db->changes);
    return Out(tables_json, tables);
  });
}

int outpost_sync_status(outpost_db* db, char** status_json) {
  if (status_json) *status_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    outpost::SyncStatus st = db->session->status();
    const outpost::Schema* schema = db->store->schema();
    return Out(status_json,
               json{{"pending_mutations", st.pending_mutations},
                    {"pending_transactions", st.pending_transactions},
                    {"awaiting_checkpoint", st.awaiting_checkpoint},
                    {"bootstrapped", st.bootstrapped},
                    {"cursor", st.cursor},
                    {"last_sync", st.last_sync ? json(*st.last_sync) : json(nullptr)},
                    {"last_error", st.last_error ? json(*st.last_error) : json(nullptr)},
                    {"rejections", st.rejections},
                    {"notices", st.notices},
                    {"client_id", db->session->client_id()},
                    {"schema", schema ? json(outpost::SchemaVersion(*schema)) : json(nullptr)}});
  });
}

int outpost_rejections(outpost_db* db, char** rejections_json) {
  if (rejections_json) *rejections_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    OUTPOST_ASSIGN_OR_RETURN(auto list, db->session->Rejections());
    json out = json::array();
    for (const auto& r : list) out.push_back(outpost::RejectionToJson(r));
    return Out(rejections_json, out);
  });
}

int outpost_notices(outpost_db* db, char** notices_json) {
  if (notices_json) *notices_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    OUTPOST_ASSIGN_OR_RETURN(auto list, db->session->Notices());
    json out = json::array();
    for (const auto& n : list) out.push_back(outpost::NoticeToJson(n));
    return Out(notices_json, out);
  });
}

int outpost_dismiss_notice(outpost_db* db, int64_t id) {
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    return db->session->DismissNotice(id);
  });
}

int outpost_dismiss_rejection(outpost_db* db, int64_t id) {
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    return db->session->DismissRejection(id);
  });
}

int outpost_take_remaps(outpost_db* db, char** remaps_json) {
  if (remaps_json) *remaps_json = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    json out = json::array();
    for (const auto& r : db->session->TakeRemaps()) {
      out.push_back({{"table", r.table}, {"from", r.from}, {"to", r.to}});
    }
    return Out(remaps_json, out);
  });
}

}  // extern "C"
