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
#include "outpost/protocol_pull.h"
#include "outpost/status.h"
#include "pool.h"
#include "rows.h"

namespace outpost::server {

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

// Starts a pull for `who` with the query the client sent (protocol::DecodePullQuery). Errors
// before streaming: kSchemaMismatch, kInvalidCursor,
// kCursorExpired, kPermissionDenied (a claim a row filter needs is missing), kUnavailable
// (database down, or `stopping` became true while long-polling), kPostgres.
Result<std::unique_ptr<PullStream>> StartPull(PgPool& pool, ChangeHub& hub,
                                              const ServerModel& model, const Principal& who,
                                              const protocol::PullQuery& query,
                                              const std::atomic<bool>& stopping);

}  // namespace outpost::server
