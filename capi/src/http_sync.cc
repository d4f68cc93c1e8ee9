// outpost_sync (outpost.h): a whole sync round over the native HTTP transport (the one the
// `outpost` command line uses, native/src/http_transport.h), and outpost_sync_cancel.
//
// Built with OUTPOST_CAPI_HTTP=1 where that transport exists (native builds). Elsewhere (the
// WebAssembly build, which must not carry an HTTP client or sockets) outpost_sync reports
// OUTPOST_UNSUPPORTED: JavaScript drives the step-driven round with fetch instead.
#include <algorithm>
#include <string>

#include "capi_internal.h"

#if OUTPOST_CAPI_HTTP
#include <chrono>
#include <thread>

#include "http_transport.h"
#endif

using nlohmann::json;
using outpost::Code;
using outpost::Status;

using namespace outpost::capi;

namespace {

#if OUTPOST_CAPI_HTTP
// Marks the handle's one round as running for the lifetime of the scope.
class RoundOpen {
 public:
  explicit RoundOpen(outpost_db* db) : db_(db) { db_->round_open = true; }
  ~RoundOpen() { db_->round_open = false; }
  RoundOpen(const RoundOpen&) = delete;
  RoundOpen& operator=(const RoundOpen&) = delete;

 private:
  outpost_db* db_;
};

Status Sync(outpost_db* db, const char* server_url, const char* token, const char* options_json,
            char** report_json) {
  OUTPOST_RETURN_IF_ERROR(NeedsSession(db));
  if (!server_url || !*server_url) return Status(Code::kInvalidArgument, "no server URL given");
  if (!token) return Status(Code::kInvalidArgument, "no token given");
  if (db->round_open) {
    return Status(Code::kInvalidArgument, "a round is already running on this handle");
  }
  OUTPOST_ASSIGN_OR_RETURN(json o, ObjectArg(options_json, "the sync options"));
  outpost::HttpTimeouts timeouts;
  auto seconds = [&](const char* key, int* out) {
    if (o.contains(key) && o[key].is_number_integer()) *out = o[key].get<int>();
  };
  seconds("connect_timeout_seconds", &timeouts.connect_seconds);
  seconds("read_timeout_seconds", &timeouts.read_seconds);
  seconds("write_timeout_seconds", &timeouts.write_seconds);
  outpost::SyncOptions options = SyncOptionsFromJson(o);
  db->cancel_sync = false;
  options.cancelled = [db] { return db->cancel_sync.load(); };
  // Waits (retry backoff) in short slices, so that a cancel is seen within 50 ms.
  options.sleep = [db](int ms) {
    for (int waited = 0; waited < ms && !db->cancel_sync.load(); waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, ms - waited)));
    }
  };
  RoundOpen open(db);
  outpost::HttpTransport transport(server_url, token, timeouts);
  OUTPOST_ASSIGN_OR_RETURN(outpost::SyncReport report,
                           outpost::SyncNow(*db->session, transport, options));
  return Out(report_json, SyncReportJson(report));
}
#endif

}  // namespace

extern "C" {

int outpost_sync(outpost_db* db, const char* server_url, const char* token,
                 const char* options_json, char** report_json) {
  if (report_json) *report_json = nullptr;
  return Guard(db, [&]() -> Status {
#if OUTPOST_CAPI_HTTP
    return Sync(db, server_url, token, options_json, report_json);
#else
    (void)server_url, (void)token, (void)options_json;
    return Status(Code::kUnsupported,
                  "outpost_sync: this build has no HTTP client (WebAssembly); drive a sync round "
                  "with outpost_round_begin and the host's own HTTP (fetch) instead");
#endif
  });
}

void outpost_sync_cancel(outpost_db* db) {
  if (db) db->cancel_sync = true;
}

}  // extern "C"
