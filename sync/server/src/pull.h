// GET /v1/pull (docs/protocol.md, "GET /v1/pull"; docs/server.md, "Pull").
//
// A pull is started with PullStart, which does everything that can fail with an HTTP error
// (cursor, horizon, scope, long-poll wait) before a byte is sent, then streamed with
// PullStream::Next, one page per call, in bounded memory.
//
// Threading: a PullStream belongs to one thread at a time; it holds one pooled connection from
// its start to its destruction (never while long-polling).
#pragma once

#include <chrono>
#include <cstdint>
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

// A pull being started (docs/server.md, "Long-poll"): Begin checks what needs no database, then
// Attempt runs until there is something to send. An incremental pull with nothing new and a
// `wait` in its query does not hold a thread or a connection while it waits: Attempt answers
// "wait" with the change hub generation to wait on, and the caller retries once the hub moves
// (ChangeHub::WaitAsync) or the wait's time passes.
//
// Threading: one thread at a time; Attempt blocks on PostgreSQL (run it on a worker).
class PullStart {
 public:
  using Clock = std::chrono::steady_clock;
  // Errors: kSchemaMismatch, kInvalidCursor, kPermissionDenied (a claim a row filter needs is
  // missing). `model` and `who` must outlive the PullStart.
  static Result<std::unique_ptr<PullStart>> Begin(const ServerModel& model, const Principal& who,
                                                  const protocol::PullQuery& query,
                                                  Clock::time_point now);

  struct Wait {
    uint64_t generation = 0;  // ChangeHub::Generation(who.tenant) the attempt looked at
    Clock::time_point until;  // when to attempt again anyway
    // Changes are committed but held back by the watermark: wait for the snapshot xmin to move
    // too (ChangeHub::WaitAsync's `blocked`).
    bool blocked = false;
  };
  // One attempt: a stream to send (it holds a pooled connection until destroyed), or a null
  // stream with `*wait` set when a long-poll has nothing to send yet. With `stopping`, a
  // long-poll answers at once (an empty page). Errors before streaming: kInvalidCursor,
  // kCursorExpired, kUnavailable (database down), kPostgres.
  Result<std::unique_ptr<PullStream>> Attempt(PgPool& pool, ChangeHub& hub, bool stopping,
                                              Wait* wait);

  // An incremental pull (the kind that may long-poll).
  bool long_poll() const;

 private:
  PullStart(const ServerModel& model, const Principal& who) : model_(model), who_(who) {}

  const ServerModel& model_;
  const Principal& who_;
  size_t limit_ = 0;
  std::optional<Cursor> cursor_;  // none: a bootstrap from the start
  Clock::time_point deadline_;
};

}  // namespace outpost::server
