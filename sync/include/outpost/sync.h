// The client sync session: keeps a Store in step with outpost-server (docs/protocol.md,
// docs/sync-client.md).
//
// The session is I/O-free: it produces HTTP requests and consumes their answers, message by
// message; the wire format is the protocol module's (outpost/protocol*.h) and the writes into the
// mirror are core's (outpost/mirror_writer.h). A SyncRound (outpost/sync_round.h) sequences the
// messages of a whole round; SyncNow drives one over a native Transport.
//
// State lives in the Store's database (_outpost_meta, _outpost_outbox, _outpost_rejections), so
// a session can be closed and reopened, and a process killed at any point, without losing or
// repeating anything: every page of pulled rows is applied in one SQLite transaction together
// with its cursor, and every push answer in one transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/protocol.h"
#include "outpost/protocol_push.h"
#include "outpost/status.h"
#include "outpost/store.h"

namespace outpost {

using protocol::HttpRequest;

struct SyncStatus {
  int64_t pending_mutations = 0;          // outbox entries not yet applied by the server
  int64_t pending_transactions = 0;       // their client transactions
  int64_t awaiting_checkpoint = 0;        // transactions applied by the server, not yet pulled back
  bool bootstrapped = false;              // a complete snapshot has been received
  std::string cursor;                     // the stored pull cursor ("" before the first page)
  std::optional<std::string> last_sync;   // ISO 8601 UTC time of the last successful round
  std::optional<std::string> last_error;  // "code: message" of the last failed round
  int64_t rejections = 0;                 // rows in _outpost_rejections
  int64_t notices = 0;                    // rows in _outpost_notices
};

// A temporary key replaced by the server's (docs/protocol.md, "Temporary keys").
using protocol::KeyRemap;

struct SessionOptions {
  // Once a bootstrap has brought this many rows of a table, the table's key index, non-unique
  // indexes and plain unique indexes are dropped and rebuilt by sorting when the bootstrap ends
  // (docs/sync-client.md, "Bootstrap of big tables"). Below it the b-trees fit the page cache and
  // stay; above it rows inserted in random key order touch (and, in a bulk load, journal) pages
  // all over the indexes.
  int64_t set_aside_index_rows = 10000;
};

// One per Store; not thread-safe. The Store must outlive the session.
class SyncSession {
 public:
  // Opens the session state kept in `store`'s database; creates the client id (a UUIDv7, meta
  // key "client_id") on first use.
  static Result<std::unique_ptr<SyncSession>> Open(Store* store,
                                                   const SessionOptions& options = {});
  ~SyncSession();
  SyncSession(const SyncSession&) = delete;
  SyncSession& operator=(const SyncSession&) = delete;

  const std::string& client_id() const;
  Store* store() const;
  // True when the store mirrors no schema yet, or the server answered schema_mismatch: fetch
  // SchemaRequest() and HandleSchema() before pushing or pulling.
  bool needs_schema() const;
  bool bootstrapped() const;

  HttpRequest SchemaRequest() const;  // GET /v1/schema
  // Mirrors the descriptor (Store::ApplySchema). When it replaces a different earlier version,
  // the cursor is forgotten so the next pull re-bootstraps (existing rows lack the new columns'
  // server values); the outbox is kept.
  Result<MirrorReport> HandleSchema(std::string_view body);

  // GET /v1/pull. `wait_seconds` is only sent once bootstrapped (long-poll of incremental pulls).
  HttpRequest PullRequest(int wait_seconds = 0, int limit = 0) const;
  // One line of a pull answer (empty lines are ignored). Lines are buffered until their cursor
  // line, which applies them with the cursor in one transaction. Errors leave the store as it was
  // before the page: kMalformedAnswer for a line that breaks the protocol, kSchemaMismatch (and
  // needs_schema()) for a table or column the mirror does not have.
  Status HandlePullLine(std::string_view line);
  // End of the answer: true when the server said "more" (pull again at once). A stream that
  // ended without a cursor line, or with lines after the last one, is kUnavailable: the partial
  // page is discarded and the next pull resumes from the stored cursor. When caught up (no
  // "more"), rows parked for a missing parent are put back with the reference dangling: that
  // parent is outside the client's view (Store::UnparkAll).
  Result<bool> FinishPull();
  // Discards a partial page (the transport failed mid-answer).
  void AbortPull();

  // POST /v1/push with up to `max_transactions` unconfirmed client transactions (fewer when the
  // body would pass protocol::kPushBodyTarget or the protocol's limits; a single larger
  // transaction is sent alone, and the server may refuse it), or nullopt when there is nothing
  // to push.
  Result<std::optional<HttpRequest>> PushRequest(size_t max_transactions = 500);
  // Applies a push answer in one transaction: confirms applied transactions (they stay in the
  // rebase set until the pull cursor passes their checkpoint), applies key remaps, removes
  // rejected transactions, restores the server rows they touched and records the rejections,
  // records the notices of applied ones, and rejects the transactions still waiting to be pushed
  // that depend on a rejected one (outpost/dependencies.h; code "dependent").
  // kMalformedAnswer (nothing applied) for an answer that is not the protocol's.
  Status HandlePushResponse(std::string_view body);
  // A non-2xx answer. OK when the session adapted and the request can be repeated: 410
  // cursor_expired forgets the cursor (the next pull re-bootstraps, the outbox is kept); 409
  // schema_mismatch sets needs_schema(). 503 is kUnavailable; anything else an error with the
  // server's code (kUnauthorized, kForbidden, kInvalidCursor, ...) and message.
  Status HandleErrorResponse(int http_status, std::string_view body);

  SyncStatus status();
  Result<std::vector<Rejection>> Rejections();
  // Removes a rejection the app has dealt with; kNotFound if there is none with that id.
  Status DismissRejection(int64_t id);
  // What the server did differently from what applied transactions wrote (outbox.h,
  // SyncNotice), recorded with the answer that said so; oldest first.
  Result<std::vector<SyncNotice>> Notices();
  // Removes a notice the app has dealt with; kNotFound if there is none with that id.
  Status DismissNotice(int64_t id);
  // Key remaps applied since the last call (for the app to follow renamed rows).
  std::vector<KeyRemap> TakeRemaps();

  // Rows applied so far in the current (or last) bootstrap, and the server's total hint (the
  // "total" field of the first cursor line of a bootstrap), if it sent one.
  int64_t bootstrap_rows() const;
  std::optional<int64_t> bootstrap_total() const;
  // Totals since the session was opened (a SyncRound reports differences).
  int64_t rows_received() const;
  int64_t deletes_received() const;
  int64_t bootstraps_completed() const;
  int64_t pushed_transactions() const;    // applied by the server
  int64_t rejected_transactions() const;  // rejected by the server
  // Records the outcome of a sync round: last_sync on success, last_error otherwise. The round is
  // over: a bootstrap cut short by an error leaves bulk-load mode (Store::EndBulkLoad) until its
  // next page.
  Status RecordSyncResult(const Status& result);

  class Impl;

 private:
  explicit SyncSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost
