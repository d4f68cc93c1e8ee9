// SyncSession: pull answers. Lines are buffered until their cursor line; the page then goes into
// the mirror with its cursor in one engine transaction (docs/sync-client.md, "Pulls").
#include "session_impl.h"

namespace outpost {

Status SyncSession::Impl::NoteSchemaMismatch(const Status& s) {
  if (s.code() == Code::kSchemaMismatch) needs_schema = true;
  return s;
}

Result<int64_t> SyncSession::Impl::ApplyLine(const Line& line, bool bootstrapping) {
  const protocol::PullLine& h = line.header;
  const bool rows = h.type == protocol::PullLine::Type::kRows;
  if (rows && bootstrapping && bootstrap_table_rows[h.table] >= set_aside_index_rows) {
    // Enough of this table has come to make its remaining rows cheaper without its indexes.
    OUTPOST_RETURN_IF_ERROR(writer().SetAsideIndexes(h.table));
  }
  Result<TupleWriter*> w = rows ? writer().Rows(h.table, h.columns) : writer().Deletes(h.table);
  if (!w.ok()) return NoteSchemaMismatch(w.status());
  protocol::TupleReader reader(line.text, h, (*w)->kinds());
  std::vector<ValueView> values;
  int64_t count = 0;
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool more, reader.Next(&values));
    if (!more) break;
    OUTPOST_RETURN_IF_ERROR((*w)->Write(values));
    ++count;
  }
  if (rows && bootstrapping) bootstrap_table_rows[h.table] += count;
  return count;
}

Status SyncSession::Impl::ApplyPage(const std::string& new_cursor, bool cursor_bootstrap) {
  if (!schema() || needs_schema) {
    return Status(Code::kSchemaMismatch, "no schema mirrored: fetch /v1/schema first");
  }
  const bool bootstrapping = page_reset || !bootstrapped;
  const bool finishing = bootstrapping && !cursor_bootstrap;
  EngineOptions options;
  options.check_constraints = false;  // PostgreSQL checked these rows
  // Not fsynced: a page lost to an OS crash takes its cursor with it (same transaction), so it
  // is pulled again. The app's own writes stay durable, and their fsync also covers every
  // earlier commit in the WAL.
  options.durable = false;
  if (bootstrapping) {
    // Parents come before children and nothing is deleted: no checks. Rows may reference rows
    // outside the client's view (another tenant's user): they are kept as the server sent
    // them, with a dangling reference.
    options.foreign_keys = false;
  } else {
    options.defer_foreign_keys = true;
    options.park_fk_violations = true;
  }
  if (bootstrapping && !store->bulk_loading()) {
    // Pages written once instead of twice (Store::BeginBulkLoad); ended with the bootstrap, a
    // cut pull (FinishPull) or the round (RecordSyncResult). Refused (another connection has
    // the file open): WAL it is.
    OUTPOST_RETURN_IF_ERROR(store->BeginBulkLoad().status());
  }
  int64_t rows = 0, dels = 0;
  Status s = store->RunAsEngine(options, [&]() -> Status {
    if (page_reset) {
      bootstrap_table_rows.clear();
      OUTPOST_RETURN_IF_ERROR(writer().ClearMirror());
    }
    // Confirmed writes below the new watermark are in the rows served from now on.
    if (auto w = protocol::CursorWatermark(new_cursor)) {
      OUTPOST_RETURN_IF_ERROR(store->DropConfirmedBefore(static_cast<int64_t>(*w)).status());
    }
    OUTPOST_RETURN_IF_ERROR(writer().BeginPage());
    for (const auto& line : page) {
      OUTPOST_ASSIGN_OR_RETURN(int64_t n, ApplyLine(line, bootstrapping));
      (line.header.type == protocol::PullLine::Type::kRows ? rows : dels) += n;
    }
    if (finishing) {
      OUTPOST_RETURN_IF_ERROR(writer().RestoreIndexes());
      // Offline writes the server has not seen yet (they were wiped by the reset).
      OUTPOST_RETURN_IF_ERROR(writer().ReapplyOutbox());
    }
    OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaCursor, new_cursor));
    return store->SetMeta(kMetaBootstrapped, bootstrapping && !finishing ? "0" : "1");
  });
  if (!s.ok()) return s;
  if (finishing) OUTPOST_RETURN_IF_ERROR(store->EndBulkLoad());
  cursor = new_cursor;
  if (page_reset) bootstrap_rows = 0;
  if (bootstrapping) bootstrap_rows += rows;
  bootstrapped = !bootstrapping || finishing;
  if (finishing) ++bootstraps;
  rows_received += rows;
  deletes_received += dels;
  return Status::Ok();
}

HttpRequest SyncSession::PullRequest(int wait_seconds, int limit) const {
  protocol::PullQuery query;
  query.schema = impl_->schema() ? SchemaVersion(*impl_->schema()) : std::string();
  if (!impl_->cursor.empty()) query.cursor = impl_->cursor;
  if (limit > 0) query.limit = static_cast<size_t>(limit);
  if (wait_seconds > 0 && impl_->bootstrapped && !impl_->cursor.empty()) {
    query.wait_seconds = wait_seconds;
    query.client_id = client_id();
  }
  return HttpRequest{"GET", protocol::EncodePullTarget(query), ""};
}

Status SyncSession::HandlePullLine(std::string_view raw) {
  Impl::Line line;
  line.text.assign(raw);
  OUTPOST_ASSIGN_OR_RETURN(line.header, protocol::ReadPullLine(line.text));
  switch (line.header.type) {
    case protocol::PullLine::Type::kRows:
    case protocol::PullLine::Type::kDeletes: impl_->page.push_back(std::move(line)); break;
    case protocol::PullLine::Type::kReset:
      // Everything before it is superseded by the snapshot that follows.
      impl_->page.clear();
      impl_->page_reset = true;
      break;
    case protocol::PullLine::Type::kCursor: {
      const protocol::PullLine& h = line.header;
      if (h.total && (impl_->page_reset || !impl_->bootstrapped)) impl_->bootstrap_total = h.total;
      Status s = impl_->ApplyPage(h.cursor, h.bootstrap);
      impl_->page.clear();
      impl_->page_reset = false;
      if (!s.ok()) return s;
      impl_->saw_cursor = true;
      impl_->more = h.more;
      break;
    }
    case protocol::PullLine::Type::kUnknown: break;  // blank, or for newer clients
  }
  return Status::Ok();
}

Result<bool> SyncSession::FinishPull() {
  bool partial = !impl_->page.empty() || impl_->page_reset;
  bool saw = impl_->saw_cursor;
  bool more = impl_->more;
  AbortPull();
  if (partial || !saw || !more) {
    // The pull is over (or failed): a bootstrap that is not finished continues in WAL mode at its
    // next pull, rather than leaving other connections without WAL in between.
    OUTPOST_RETURN_IF_ERROR(impl_->store->EndBulkLoad());
  }
  if (partial) {
    return Status(Code::kUnavailable, "pull answer ended before its cursor line");
  }
  if (!saw) return Status(Code::kUnavailable, "pull answer had no cursor line");
  if (!more) {
    // Caught up: a parent still missing is outside the client's view; keep its children.
    OUTPOST_RETURN_IF_ERROR(impl_->store->UnparkAll().status());
  }
  return more;
}

void SyncSession::AbortPull() {
  impl_->page.clear();
  impl_->page_reset = false;
  impl_->saw_cursor = false;
  impl_->more = false;
}

}  // namespace outpost
