// A sync round: fetch the schema if needed, push everything pending, pull until caught up (and,
// optionally, long-poll once). docs/sync-client.md, "A sync round".
//
// SyncRound is a state machine that does no I/O and never waits: Next() hands back what to do
// (send this request, wait this long, or done), and the caller feeds it the answer. Retries with
// exponential backoff, cut streams, 410/409 adaptations and cancellation are decided here, so
// every driver behaves alike:
//  - native code calls SyncNow, a loop over a blocking Transport (native/src/http_transport.h);
//  - the browser package drives it with fetch and timers (its answers arrive as promises).
//
// Driving contract, for every step:
//   kSend: send `request`; for a 2xx answer feed each line of the body to OnLine as it arrives
//          (stop reading when OnLine fails), then call OnAnswer(status); for any other status call
//          OnAnswer(status, body); when the request fails (network, timeout, OnLine's error), call
//          OnFailure(error). Exactly one of OnAnswer and OnFailure follows each kSend.
//   kWait: call Next() again after `wait_ms` milliseconds.
//   kDone: the round is over; `status` is its outcome, already recorded in the store
//          (SyncSession::RecordSyncResult), and `report` what it did.
//
// Threading: a SyncRound belongs to one thread at a time, as its session does. The session must
// outlive it, and only one round may use a session at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "outpost/status.h"
#include "outpost/sync.h"

namespace outpost {

struct SyncReport {
  int64_t pushed_transactions = 0, rejected_transactions = 0, rows_received = 0,
          deletes_received = 0;
  bool bootstrapped_now = false;  // this round completed a bootstrap (first one or after a 410)
};

struct SyncOptions {
  // > 0: when catching up brought nothing new, one more pull that the server holds up to this
  // many seconds until something changes (long-poll). A round that received rows returns at once.
  int wait_seconds = 0;
  int pull_limit = 0;       // rows per page (0: the server's default)
  size_t push_batch = 500;  // client transactions per push request
  int max_attempts = 5;     // per request, on kUnavailable (network, 502-504, cut stream)
  int initial_backoff_ms = 200;
  int max_backoff_ms = 5000;
  // Checked at every step: true ends the round with kUnavailable ("sync cancelled").
  std::function<bool()> cancelled;
  // Called while bootstrapping, after each applied page: rows applied so far in this bootstrap
  // and the rate since the round started. SyncSession::bootstrap_total() may give a total.
  std::function<void(int64_t rows, double rows_per_second)> progress;
  // SyncNow only: how to wait a kWait step; nullptr blocks the calling thread. (A SyncRound itself
  // never waits.)
  std::function<void(int milliseconds)> sleep;
};

struct SyncStep {
  enum class Kind { kSend, kWait, kDone };
  Kind kind = Kind::kDone;
  HttpRequest request;  // kSend
  int wait_ms = 0;      // kWait
  Status status;        // kDone
  SyncReport report;    // kDone
};

class SyncRound {
 public:
  SyncRound(SyncSession& session, SyncOptions options);
  ~SyncRound();
  SyncRound(const SyncRound&) = delete;
  SyncRound& operator=(const SyncRound&) = delete;

  // The next step. Once kDone, every later call returns the same kDone.
  SyncStep Next();
  // The answer to the last kSend (see the driving contract above).
  Status OnLine(std::string_view line);
  void OnAnswer(int http_status, std::string_view error_body = {});
  void OnFailure(const Status& error);
  // Ends the round at its next step, as SyncOptions::cancelled does.
  void Cancel();

  class Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

// A transport sends a request with the Authorization header it was configured with. For a 2xx
// answer it calls on_line for each complete line of the body as it arrives (return a non-OK
// Status to abort) and returns the status code; for other answers it returns the status code
// with the whole body in *error_body. A network failure or timeout is Status kUnavailable; an
// on_line error ends the transfer and is returned as is. Blocking; one request at a time.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<int> Send(const HttpRequest& request,
                           const std::function<Status(std::string_view line)>& on_line,
                           std::string* error_body) = 0;
};

// Runs one SyncRound over `transport`, waiting out its kWait steps with options.sleep (or by
// blocking the thread). Returns the round's report, or its error.
Result<SyncReport> SyncNow(SyncSession& session, Transport& transport, const SyncOptions& options);

}  // namespace outpost
