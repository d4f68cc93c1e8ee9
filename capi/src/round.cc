// The C API's step-driven sync round (outpost.h, outpost_round_*) over SyncRound, and the sync
// options and report that outpost_sync shares.
#include <string>

#include "capi_internal.h"

using nlohmann::json;
using outpost::Code;
using outpost::Status;

namespace outpost::capi {

SyncOptions SyncOptionsFromJson(const json& o) {
  SyncOptions options;
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
  return options;
}

json SyncReportJson(const SyncReport& r) {
  return {{"pushed_transactions", r.pushed_transactions},
          {"rejected_transactions", r.rejected_transactions},
          {"rows_received", r.rows_received},
          {"deletes_received", r.deletes_received},
          {"bootstrapped_now", r.bootstrapped_now}};
}

void FreeRound(outpost_round* round) {
  outpost_db* db = round->db;
  if (db->round == round) {
    db->round = nullptr;
    db->round_open = false;
  }
  delete round;
  ReleaseIfClosed(db);
}

}  // namespace outpost::capi

using namespace outpost::capi;

namespace {

// Guard for a call on a round: refuses a round whose db was torn down or that was freed, and
// frees a round that a callback freed during the call.
template <typename Body>
int RoundGuard(outpost_round* round, Body&& body) {
  if (!round || round->freed) return OUTPOST_INVALID_ARGUMENT;
  if (!round->round) return OUTPOST_INVALID_ARGUMENT;  // its db was closed
  ++round->busy;
  const int code = Guard(round->db, [&]() -> Status {
    if (!round->round) return Status(Code::kInvalidArgument, "the round's handle is closed");
    return body();
  });
  if (--round->busy == 0 && round->freed) FreeRound(round);
  return code;
}

}  // namespace

extern "C" {

int outpost_round_begin(outpost_db* db, const char* options_json, outpost_round** out_round) {
  if (out_round) *out_round = nullptr;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!out_round) return Status(Code::kInvalidArgument, "no place for the round");
    if (db->round_open) {
      return Status(Code::kInvalidArgument, "a round is already running on this handle");
    }
    OUTPOST_ASSIGN_OR_RETURN(json o, ObjectArg(options_json, "the round options"));
    auto round = std::make_unique<outpost_round>();
    round->db = db;
    round->round = std::make_unique<outpost::SyncRound>(*db->session, SyncOptionsFromJson(o));
    db->round_open = true;
    db->round = round.get();
    *out_round = round.release();
    return Status::Ok();
  });
}

int outpost_round_next(outpost_round* round, char** step_json) {
  if (step_json) *step_json = nullptr;
  return RoundGuard(round, [&]() -> Status {
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
               {"report", SyncReportJson(step.report)}};
        break;
    }
    return Out(step_json, out);
  });
}

int outpost_round_line(outpost_round* round, const char* line, size_t length) {
  return RoundGuard(round, [&]() -> Status {
    return round->round->OnLine(std::string_view(line ? line : "", line ? length : 0));
  });
}

void outpost_round_answer(outpost_round* round, int http_status, const char* body, size_t length) {
  (void)RoundGuard(round, [&]() -> Status {
    round->round->OnAnswer(http_status, std::string_view(body ? body : "", body ? length : 0));
    return Status::Ok();
  });
}

void outpost_round_failure(outpost_round* round, int code, const char* message) {
  (void)RoundGuard(round, [&]() -> Status {
    Code c =
        code > 0 && code <= OUTPOST_MALFORMED_ANSWER ? static_cast<Code>(code) : Code::kUnavailable;
    round->round->OnFailure(Status(c, message ? message : "request failed"));
    return Status::Ok();
  });
}

void outpost_round_cancel(outpost_round* round) {
  if (round && !round->freed && round->round) round->round->Cancel();
}

void outpost_round_free(outpost_round* round) {
  if (!round || round->freed) return;
  round->freed = true;
  if (round->db->round == round) round->db->round_open = false;  // a new round may begin now
  if (round->busy == 0) FreeRound(round);
}

}  // extern "C"
