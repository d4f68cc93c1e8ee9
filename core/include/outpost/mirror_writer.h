// MirrorWriter: how the sync engine writes the server's state into a Store's mirror
// (docs/local-store.md; docs/sync-client.md). The sync session (sync/) decides what to write and
// when; this is how, and it is the only code besides the Store that touches the mirror's tables for
// the engine:
//  - pages of server rows and deletions (TupleWriter), each row then rebased: the app's pending
//    mutations of that row (the outbox) re-applied on top, so that local edits survive and the
//    server's changes to other columns appear at once;
//  - the state of the rows of a rejected transaction, restored from the server's answer (or, for
//    rows it does not list, from the refused mutations' recorded bases);
//  - key remaps: a temporary key replaced by the server's in the row, in the rows that reference
//    it and in the outbox;
//  - a bootstrap's big tables, whose indexes are set aside while their rows stream in and rebuilt
//    by sorting at the end.
//
// Contract: every method but Reset runs inside the sync engine's transaction
// (Store::RunAsEngine), so that a page, an answer or a remap is applied whole or not at all.
// Threading: as the Store (one thread at a time). Obtained from Store::mirror_writer().
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "outpost/outbox.h"
#include "outpost/schema.h"
#include "outpost/status.h"
#include "outpost/value.h"

namespace outpost {

class Store;

// Writes tuples of one table: full rows (upserts) or keys (deletions). Obtained from
// MirrorWriter::Rows or ::Deletes, and valid until the next MirrorWriter::Reset.
class TupleWriter {
 public:
  virtual ~TupleWriter() = default;
  // The kind of each tuple position: the columns of a rows line, the key columns for deletions.
  virtual const std::vector<TypeKind>& kinds() const = 0;
  // Writes one tuple (values.size() == kinds().size()) as the server sent it, then rebases the
  // row. A row that a unique index refuses because a stale local row holds its unique values
  // (that row changed on the server too; its new version comes in this catch-up) replaces it.
  // The views need to live only during the call. Errors: SQLite's, naming the table.
  virtual Status Write(const std::vector<ValueView>& values) = 0;
};

// The server's current state of one row, as a push answer gives it for a rejected transaction.
struct ServerRowState {
  std::string table;
  nlohmann::json pk;   // the key's values (client JSON array)
  nlohmann::json row;  // the row's client JSON object, or null: the server has no such row
};

class MirrorWriter {
 public:
  ~MirrorWriter();
  MirrorWriter(const MirrorWriter&) = delete;
  MirrorWriter& operator=(const MirrorWriter&) = delete;

  // --- Pages of a pull --------------------------------------------------------------------------
  // Starts a page: notes which tables have outbox entries (their rows are rebased as they are
  // written) and whether any server row is parked (a row written again is no longer parked).
  Status BeginPage();
  // A bootstrap's reset: deletes every row of every mirrored table and forgets parked rows. The
  // outbox stays (ReapplyOutbox puts its writes back once the snapshot is in).
  Status ClearMirror();
  // The writer of rows of `table` with `columns` (in the line's order; every key column among
  // them). Errors: kSchemaMismatch (a table or column the mirror does not have),
  // kMalformedAnswer (a key column missing).
  Result<TupleWriter*> Rows(std::string_view table, const std::vector<std::string>& columns);
  // The writer of deletions of `table`'s rows by key (tuples in primary key order). A deletion
  // cascades as the mirror's foreign keys say. Errors: kSchemaMismatch.
  Result<TupleWriter*> Deletes(std::string_view table);
  // Re-applies every outbox entry, in order, on top of the mirror (after a bootstrap, whose reset
  // wiped the app's unsynced writes from the tables). An entry that no longer fits (a constraint
  // fails against the server's rows) is left out of the tables; the server will refuse it on push
  // and the rejection restores the server's state.
  Status ReapplyOutbox();

  // --- Big tables during a bootstrap ------------------------------------------------------------
  // Drops `table`'s key index, non-unique indexes and plain unique indexes (column lists without
  // a WHERE), recording their SQL in _outpost_meta in the same transaction, so that its rows load
  // without random index writes. Until RestoreIndexes, the table has no key: its rows are plain
  // inserts, and app writes to it or to tables referencing it fail (docs/sync-client.md, "Bootstrap
  // of big tables"). A no-op for a table already set aside.
  Status SetAsideIndexes(std::string_view table);
  // Rebuilds every set-aside index by sorting, key indexes first, each after removing the rows it
  // would refuse (rows sent twice: the later copy wins; rows colliding on a unique index: the
  // server's row beats one the app wrote meanwhile, then the later row wins).
  Status RestoreIndexes();

  // --- Push answers -----------------------------------------------------------------------------
  // After the server rejected the transaction whose mutations are `refused` (as the outbox had
  // them; the caller has removed them from it): every row the answer lists in `server_rows` takes
  // the server's state, every other row the mutations touched is undone from their recorded
  // bases (newest first), and then the pending mutations of each of those rows are re-applied.
  Status RestoreRejected(const std::vector<Mutation>& refused,
                         const std::vector<ServerRowState>& server_rows);
  // The server replaced the temporary values of `table`'s key `from` with `to` (same arity; only
  // server-assigned key columns differ, and their values in `from` are negative): renames the row
  // (or drops the temporary copy when the server's row arrived already), every foreign key that
  // references it by key columns and every outbox entry naming it. Errors: kInvalidArgument for
  // a remap that renames anything else (nothing is changed).
  Status RemapKey(std::string_view table, const nlohmann::json& from, const nlohmann::json& to);

  // Forgets the prepared statements (they name tables of the current schema). Store::ApplySchema
  // calls it; any TupleWriter obtained before is invalid afterwards.
  void Reset();

  class Impl;

 private:
  friend class Store;
  explicit MirrorWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost
