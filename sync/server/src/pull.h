// GET /v1/pull (docs/protocol.md, "GET /v1/pull"; docs/server.md, "Pull").
//
// A pull is started with StartPull, which does everything that can fail with an HTTP error
// (cursor, horizon, scope, long-poll wait) before a byte is sent, then streamed with
// PullStream::Next, one page per call, in bounded memory.
//
// Threading: a PullStream belongs to one thread at a time; it holds one pooled connection from
// its start to its destruction (never while long-polling).
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "cursor.h"
#include "model.h"
#include "outpost/status.h"
#include "pool.h"
#include "rows.h"

namespace outpost::server {

inline constexpr size_t kDefaultPullLimit = 5000;
inline constexpr size_t kMaxPullLimit = 50000;
inline constexpr int kMaxPullWaitSeconds = 60;
inline constexpr int kMaxPagesPerAnswer = 50;

struct PullRequest {
  std::string schema;                 // must equal the model's version
  std::optional<std::string> cursor;  // none: bootstrap
  size_t limit = kDefaultPullLimit;   // rows (bootstrap) or changes (incremental) per page
  int wait_seconds = 0;               // long-poll when an incremental pull has nothing
};

// Validates query parameters (strings as received; nullptr when absent). Errors:
// kMalformedRequest (missing schema, limit not in 1..50000, wait not in 0..60, non-numbers).
Result<PullRequest> ParsePullRequest(const std::string* schema, const std::string* cursor,
                                     const std::string* limit, const std::string* wait);

class PullStream {
 public:
  virtual ~PullStream() = default;
  // Appends the next NDJSON lines (one page and its cursor line) to `out`. Returns false once
  // the answer is complete (nothing more to call for). An error mid-stream means the answer must
  // be cut off without its final cursor line (the client then retries from its stored cursor).
  virtual Result<bool> Next(std::string* out) = 0;
  // Optional: called with `out` whenever it grows past kFlushBytes in the middle of a page; it
  // must send and clear the buffer (or fail, which ends the answer).
  void set_flush(FlushFn flush) { flush_ = std::move(flush); }

 protected:
  const FlushFn* flush() const { return flush_ ? &flush_ : nullptr; }

 private:
  FlushFn flush_;
};

// Starts a pull for `who`. Errors before streaming: kSchemaMismatch, kInvalidCursor,
// kCursorExpired, kPermissionDenied (a claim a row filter needs is missing), kUnavailable
// (database down, or `stopping` became true while long-polling), kPostgres.
Result<std::unique_ptr<PullStream>> StartPull(PgPool& pool, ChangeHub& hub,
                                              const ServerModel& model, const Principal& who,
                                              const PullRequest& request,
                                              const std::atomic<bool>& stopping);

}  // namespace outpost::server
