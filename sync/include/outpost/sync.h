// The client sync session: keeps a Store in step with outpost-server (docs/protocol.md,
// docs/sync-client.md).
//
// The session is I/O-free: it produces HTTP requests and consumes the answers; a Transport does
// the I/O (native/src/http_transport.h natively, fetch in the browser). SyncNow drives a whole
// round (schema, push, pull) over a transport.
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

#include "outpost/status.h"
#include "outpost/store.h"

namespace outpost {

struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string target;  // path and query, e.g. "/v1/pull?schema=...&cursor=..."
  std::string body;    // POST body (JSON)
};

// A transport sends a request with the Authorization header it was configured with. For a 2xx
// answer it calls on_line for each complete line of the body as it arrives (return a non-OK
// Status to abort) and returns the status code; for other answers it returns the status code
// with the whole body in *error_body. A network failure or timeout is Status kUnavailable.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual Result<int> Send(const HttpRequest& request,
                           const std::function<Status(std::string_view line)>& on_line,
                           std::string* error_body) = 0;
};

struct SyncStatus {
  int64_t pending_mutations = 0;          // outbox entries not yet applied by the server
  int64_t pending_transactions = 0;       // their client transactions
  int64_t awaiting_checkpoint = 0;        // transactions applied by the server, not yet pulled back
  bool bootstrapped = false;              // a complete snapshot has been received
  std::string cursor;                     // the stored pull cursor ("" before the first page)
  std::optional<std::string> last_sync;   // ISO 8601 UTC time of the last successful SyncNow
  std::optional<std::string> last_error;  // "code: message" of the last failed SyncNow
  int64_t rejections = 0;                 // rows in _outpost_rejections
};

// A client transaction the server refused (also a row of _outpost_rejections).
struct Rejection {
  int64_t id = 0;
  int64_t tx_id = 0;
  std::string code;          // constraint_violation, permission_denied, conflict, row_exists, ...
  std::string message;       // the server's explanation
  std::string rule;          // the constraint or rule that failed ("" if none)
  std::string table;         // the table of the failing mutation ("" if none)
  nlohmann::json pk;         // its primary key (JSON array, or null)
  nlohmann::json mutations;  // the refused mutations as they were pushed (JSON array)
  std::string at;            // ISO 8601 UTC time the rejection was received
};

// A temporary key replaced by the server's (DESIGN §7).
struct KeyRemap {
  std::string table;
  nlohmann::json from;  // temporary key values (JSON array)
  nlohmann::json to;    // server key values (JSON array)
};

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
  int max_attempts = 5;     // per request, on kUnavailable (network, 503, cut stream)
  int initial_backoff_ms = 200;
  int max_backoff_ms = 5000;
  // Waits between attempts; nullptr blocks the calling thread (nanosleep). The session itself
  // never sleeps; a browser driver supplies its own.
  std::function<void(int milliseconds)> sleep;
  // Checked between requests: true stops the round with kUnavailable ("cancelled").
  std::function<bool()> cancelled;
  // Called while bootstrapping, after each applied page: rows applied so far in this bootstrap
  // and the rate since the round started. SyncSession::bootstrap_total() may give a total.
  std::function<void(int64_t rows, double rows_per_second)> progress;
};

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
  // key "client_id") and the _outpost_rejections table on first use.
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
  // before the page.
  Status HandlePullLine(std::string_view line);
  // End of the answer: true when the server said "more" (pull again at once). A stream that
  // ended without a cursor line, or with lines after the last one, is kUnavailable: the partial
  // page is discarded and the next pull resumes from the stored cursor. When caught up (no
  // "more"), rows parked for a missing parent are put back with the reference dangling: that
  // parent is outside the client's view (Store::UnparkAll).
  Result<bool> FinishPull();
  // Discards a partial page (the transport failed mid-answer).
  void AbortPull();

  // POST /v1/push with up to `max_transactions` unconfirmed client transactions (fewer if the
  // body would pass 4 MiB or 10,000 mutations; a single larger transaction is sent alone and
  // the server refuses it), or nullopt when there is nothing to push.
  Result<std::optional<HttpRequest>> PushRequest(size_t max_transactions = 500);
  // Applies a push answer in one transaction: confirms applied transactions (they stay in the
  // rebase set until the pull cursor passes their checkpoint), applies key remaps, removes
  // rejected transactions, restores the server rows they touched and records the rejections.
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
  // Key remaps applied since the last call (for the app to follow renamed rows).
  std::vector<KeyRemap> TakeRemaps();

  // Rows applied so far in the current (or last) bootstrap, and the server's total hint (the
  // "total" field of the first cursor line of a bootstrap), if it sent one.
  int64_t bootstrap_rows() const;
  std::optional<int64_t> bootstrap_total() const;
  // Totals since the session was opened (SyncNow reports differences).
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

// Drives a session over a transport: fetch schema if needed, push all pending (with retry/backoff
// on kUnavailable — bounded attempts), then pull until caught up (no "more"). With wait_seconds>0
// and nothing received while catching up, a last pull long-polls. Calls `progress` (rows so far,
// rows/s) while bootstrapping. Records the outcome (SyncSession::RecordSyncResult).
Result<SyncReport> SyncNow(SyncSession& session, Transport& transport, const SyncOptions& options);

// The "w" field of a cursor (base64url of the server's JSON {"w": "<xid8>", ...}), or nullopt
// when the cursor does not carry one. Everything else in a cursor is opaque to the client.
std::optional<int64_t> CursorWatermark(std::string_view cursor);

}  // namespace outpost
