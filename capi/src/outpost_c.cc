// The C API (outpost.h) over Store, SyncSession and SyncRound.
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <iterator>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "outpost.h"
#include "outpost/store.h"
#include "outpost/sync.h"
#include "outpost/sync_round.h"

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

struct outpost_db {
  std::unique_ptr<outpost::Store> store;
  std::unique_ptr<outpost::SyncSession> session;
  Status last;                       // the last failure ("ok" after a success)
  std::vector<std::string> changes;  // tables changed since outpost_take_changes, sorted
  bool round_open = false;
};

struct outpost_round {
  outpost_db* db = nullptr;
  std::unique_ptr<outpost::SyncRound> round;
};

namespace {

// A copy of `s` for a char** out parameter (released with outpost_free).
char* Export(const std::string& s) {
  char* out = static_cast<char*>(std::malloc(s.size() + 1));
  if (out) std::memcpy(out, s.c_str(), s.size() + 1);
  return out;
}

std::string Dump(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

int Fail(outpost_db* db, Status s) {
  const int code = static_cast<int>(s.code());
  if (db) db->last = std::move(s);
  return code;
}

// Runs `body` with the handle's error bookkeeping and no exception escaping.
template <typename Body>
int Guard(outpost_db* db, Body&& body) {
  if (!db) return OUTPOST_INVALID_ARGUMENT;
  try {
    Status s = body();
    if (!s.ok()) return Fail(db, std::move(s));
    db->last = Status::Ok();
    return OUTPOST_OK;
  } catch (const std::exception& e) {
    return Fail(db, Status(Code::kInternal, std::string("unexpected exception: ") + e.what()));
  } catch (...) {
    return Fail(db, Status(Code::kInternal, "unexpected exception of an unknown type"));
  }
}

// Parses an optional JSON object argument (NULL or "" is an empty object).
Result<json> ObjectArg(const char* text, const char* what) {
  if (!text || !*text) return json::object();
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) {
    return Status(Code::kInvalidArgument, std::string(what) + " must be a JSON object");
  }
  return j;
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

}  // namespace

extern "C" {

const char* outpost_code_name(int code) {
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

void outpost_close(outpost_db* db) {
  if (!db) return;
  if (db->store) db->store->SetChangeListener(nullptr);
  db->session.reset();
  db->store.reset();
  delete db;
}

int outpost_errcode(const outpost_db* db) {
  return db ? static_cast<int>(db->last.code()) : OUTPOST_INVALID_ARGUMENT;
}

const char* outpost_errmsg(const outpost_db* db) {
  return db ? db->last.message().c_str() : "no handle";
}

int outpost_in_transaction(const outpost_db* db) {
  return db && db->store && db->store->in_transaction() ? 1 : 0;
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
    json params = json::array();
    if (params_json && *params_json) {
      params = json::parse(params_json, nullptr, /*allow_exceptions=*/false);
      if (params.is_discarded()) {
        return Status(Code::kInvalidArgument, "the parameters are not valid JSON");
      }
    }
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

int outpost_round_begin(outpost_db* db, const char* options_json, outpost_round** out_round) {
  if (out_round) *out_round = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!out_round) return Status(Code::kInvalidArgument, "no place for the round");
    if (db->round_open) {
      return Status(Code::kInvalidArgument, "a round is already running on this handle");
    }
    OUTPOST_ASSIGN_OR_RETURN(json o, ObjectArg(options_json, "the round options"));
    outpost::SyncOptions options;
    auto number = [&](const char* key, int* out) {
      if (o.contains(key) && o[key].is_number_integer()) *out = o[key].get<int>();
    };
    number("wait_seconds", &options.wait_seconds);
    number("pull_limit", &options.pull_limit);
    number("max_attempts", &options.max_attempts);
    number("initial_backoff_ms", &options.initial_backoff_ms);
    number("max_backoff_ms", &options.max_backoff_ms);
    if (o.contains("push_batch") && o["push_batch"].is_number_unsigned()) {
      options.push_batch = o["push_batch"].get<size_t>();
    }
    auto round = std::make_unique<outpost_round>();
    round->db = db;
    round->round = std::make_unique<outpost::SyncRound>(*db->session, options);
    db->round_open = true;
    *out_round = round.release();
    return Status::Ok();
  });
}

int outpost_round_next(outpost_round* round, char** step_json) {
  if (step_json) *step_json = nullptr;
  if (!round) return OUTPOST_INVALID_ARGUMENT;
  return Guard(round->db, [&]() -> Status {
    outpost::SyncStep step = round->round->Next();
    json out;
    switch (step.kind) {
      case outpost::SyncStep::Kind::kSend:
        out = {{"kind", "send"},
               {"method", step.request.method},
               {"target", step.request.target},
               {"body", step.request.body}};
        break;
      case outpost::SyncStep::Kind::kWait: out = {{"kind", "wait"}, {"ms", step.wait_ms}}; break;
      case outpost::SyncStep::Kind::kDone:
        out = {{"kind", "done"},
               {"code", static_cast<int>(step.status.code())},
               {"code_name", std::string(step.status.code_name())},
               {"message", step.status.message()},
               {"report",
                {{"pushed_transactions", step.report.pushed_transactions},
                 {"rejected_transactions", step.report.rejected_transactions},
                 {"rows_received", step.report.rows_received},
                 {"deletes_received", step.report.deletes_received},
                 {"bootstrapped_now", step.report.bootstrapped_now}}}};
        break;
    }
    return Out(step_json, out);
  });
}

int outpost_round_line(outpost_round* round, const char* line, size_t length) {
  if (!round) return OUTPOST_INVALID_ARGUMENT;
  return Guard(round->db, [&]() -> Status {
    return round->round->OnLine(std::string_view(line ? line : "", line ? length : 0));
  });
}

void outpost_round_answer(outpost_round* round, int http_status, const char* body, size_t length) {
  if (!round) return;
  (void)Guard(round->db, [&]() -> Status {
    round->round->OnAnswer(http_status, std::string_view(body ? body : "", body ? length : 0));
    return Status::Ok();
  });
}

void outpost_round_failure(outpost_round* round, int code, const char* message) {
  if (!round) return;
  (void)Guard(round->db, [&]() -> Status {
    Code c =
        code > 0 && code <= OUTPOST_MALFORMED_ANSWER ? static_cast<Code>(code) : Code::kUnavailable;
    round->round->OnFailure(Status(c, message ? message : "request failed"));
    return Status::Ok();
  });
}

void outpost_round_cancel(outpost_round* round) {
  if (round) round->round->Cancel();
}

void outpost_round_free(outpost_round* round) {
  if (!round) return;
  if (round->db) round->db->round_open = false;
  delete round;
}

}  // extern "C"
