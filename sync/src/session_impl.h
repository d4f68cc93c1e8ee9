// The inside of a SyncSession (outpost/sync.h). Private to the sync module.
//
// Files: session.cc (opening, schema, status, rejections, bookkeeping), session_pull.cc (pull
// answers: pages of rows and deletions), session_push.cc (push requests and answers, errors).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "outpost/dependencies.h"
#include "outpost/mirror_writer.h"
#include "outpost/protocol_pull.h"
#include "outpost/protocol_push.h"
#include "outpost/sync.h"

namespace outpost {

// Meta keys (_outpost_meta) owned by the session.
inline constexpr const char* kMetaClientId = "client_id";
inline constexpr const char* kMetaCursor = "cursor";
inline constexpr const char* kMetaBootstrapped = "bootstrapped";
inline constexpr const char* kMetaLastSync = "last_sync";
inline constexpr const char* kMetaLastError = "last_error";

// Server rows a push answer's rejections listed, by (table, key JSON text).
using ServerRowsByKey = std::map<std::pair<std::string, std::string>, ServerRowState>;

class SyncSession::Impl {
 public:
  Store* store = nullptr;
  std::string client_id;
  std::string cursor;  // the stored cursor ("" before the first page)
  bool bootstrapped = false;
  bool needs_schema = false;
  int64_t set_aside_index_rows = 0;

  // The page being received: lines since the last cursor line, each with its text.
  struct Line {
    protocol::PullLine header;
    std::string text;
  };
  std::vector<Line> page;
  bool page_reset = false;  // the page began with a reset line
  bool saw_cursor = false;  // this answer applied a page
  bool more = false;        // its last cursor line said "more"

  int64_t bootstrap_rows = 0;
  std::optional<int64_t> bootstrap_total;
  std::map<std::string, int64_t> bootstrap_table_rows;  // rows per table, this bootstrap
  int64_t rows_received = 0;
  int64_t deletes_received = 0;
  int64_t pushed = 0;
  int64_t rejected = 0;
  int64_t bootstraps = 0;  // bootstraps completed since the session was opened
  std::vector<KeyRemap> remaps;

  ~Impl();
  const Schema* schema() const { return store->schema(); }
  MirrorWriter& writer() const { return store->mirror_writer(); }

  // session.cc
  Status ForgetCursor();

  // session_pull.cc
  // Applies the buffered page together with `new_cursor`, in one engine transaction.
  Status ApplyPage(const std::string& new_cursor, bool cursor_bootstrap);
  // Writes one rows or deletes line of the page; returns its tuple count.
  Result<int64_t> ApplyLine(const Line& line, bool bootstrapping);
  // A table or column the mirror lacks: the schema changed under us.
  Status NoteSchemaMismatch(const Status& s);

  // session_push.cc
  // The pushed (wire) form of an outbox entry: booleans as true/false.
  protocol::PushMutation ToWire(const Mutation& m) const;
  // A rejected transaction: removes it from the outbox, records it for the app and restores the
  // server's state of its rows.
  // A rejected transaction (from the server's answer, or found dependent locally): records the
  // rejection, removes the transaction from the outbox and restores its rows, from `server_rows`
  // where they are listed (rows a rejection of the same answer brought), else from its mutations'
  // bases. Notes its rows in `rejected_rows`. A transaction no longer in the outbox (an answer
  // seen before) is skipped: returns false.
  Result<bool> RejectTransaction(int64_t tx_id, const protocol::TxRejection& error,
                                 int64_t now_micros, protocol::RejectedRows* rejected_rows,
                                 ServerRowsByKey* server_rows);
  // After an answer with rejections: the transactions still waiting to be pushed that depend on
  // a rejected one (outpost/dependencies.h) are rejected here, as the server would have.
  // Returns how many.
  Result<int64_t> RejectDependents(int64_t after_tx_id, int64_t now_micros,
                                   protocol::RejectedRows* rejected_rows,
                                   ServerRowsByKey* server_rows);
};

}  // namespace outpost
