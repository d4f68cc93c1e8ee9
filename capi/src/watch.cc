// The C API's watched queries (outpost.h, outpost_watch / outpost_unwatch) over Store::Watch,
// which re-runs a query after every committed transaction that changed a table it reads.
#include <algorithm>
#include <string>

#include "capi_internal.h"

using nlohmann::json;
using outpost::Code;
using outpost::QueryResult;
using outpost::Result;
using outpost::Status;

using namespace outpost::capi;

namespace {

// Hands one result to the app's callback. Runs inside Store's change notification: nothing may
// escape from here into the core (an exception would leave its notification state behind), so
// a failure to build the JSON is handed to the callback as an error instead.
void Deliver(outpost_watch_fn callback, void* user_data, const Result<QueryResult>& r) {
  std::string text;
  Status failure;
  if (r.ok()) {
    try {
      text = Dump(json{{"columns", r->columns}, {"rows", r->rows}});
    } catch (const std::exception& e) {
      failure = Status(Code::kInternal, std::string("cannot encode the result: ") + e.what());
    }
  } else {
    failure = r.status();
  }
  if (failure.ok()) {
    callback(user_data, OUTPOST_OK, text.c_str(), nullptr);
  } else {
    callback(user_data, static_cast<int>(failure.code()), nullptr, failure.message().c_str());
  }
}

}  // namespace

extern "C" {

int outpost_watch(outpost_db* db, const char* sql, const char* params_json,
                  outpost_watch_fn callback, void* user_data, int64_t* out_watch_id) {
  if (out_watch_id) *out_watch_id = 0;
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    if (!sql) return Status(Code::kInvalidArgument, "no SQL given");
    if (!callback) return Status(Code::kInvalidArgument, "a watch needs a callback");
    if (!out_watch_id) return Status(Code::kInvalidArgument, "no place for the watch id");
    OUTPOST_ASSIGN_OR_RETURN(json params, ParamsArg(params_json));
    OUTPOST_ASSIGN_OR_RETURN(int64_t id,
                             db->store->Watch(sql, params, [callback, user_data](const auto& r) {
                               Deliver(callback, user_data, r);
                             }));
    db->watches.push_back(id);
    *out_watch_id = id;
    return Status::Ok();
  });
}

int outpost_unwatch(outpost_db* db, int64_t watch_id) {
  return Guard(db, [&]() -> Status {
    OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
    OUTPOST_RETURN_IF_ERROR(db->store->Unwatch(watch_id));
    std::erase(db->watches, watch_id);
    return Status::Ok();
  });
}

}  // extern "C"
