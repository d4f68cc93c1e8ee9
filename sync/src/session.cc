// SyncSession: opening, the schema, status, rejections and the record of each round
// (docs/sync-client.md). Pulls are in session_pull.cc, pushes in session_push.cc.
#include <algorithm>

#include "outpost/civil_time.h"
#include "session_impl.h"

namespace outpost {

SyncSession::Impl::~Impl() {
  // Store::Open would switch back too; this keeps the file usable by others meanwhile.
  if (store) (void)store->EndBulkLoad();
}

Status SyncSession::Impl::ForgetCursor() {
  OUTPOST_RETURN_IF_ERROR(store->DeleteMeta(kMetaCursor));
  OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaBootstrapped, "0"));
  cursor.clear();
  bootstrapped = false;
  return Status::Ok();
}

// --- SyncSession ---------------------------------------------------------------------------------

SyncSession::SyncSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SyncSession::~SyncSession() = default;

Result<std::unique_ptr<SyncSession>> SyncSession::Open(Store* store,
                                                       const SessionOptions& options) {
  if (!store) return Status(Code::kInvalidArgument, "SyncSession::Open needs a store");
  auto impl = std::make_unique<Impl>();
  impl->set_aside_index_rows = std::max<int64_t>(0, options.set_aside_index_rows);
  impl->store = store;
  OUTPOST_RETURN_IF_ERROR(store->RunAsEngine([&]() -> Status {
    OUTPOST_ASSIGN_OR_RETURN(auto id, store->GetMeta(kMetaClientId));
    if (id) {
      impl->client_id = *id;
    } else {
      impl->client_id = store->NewUuid();
      OUTPOST_RETURN_IF_ERROR(store->SetMeta(kMetaClientId, impl->client_id));
    }
    OUTPOST_ASSIGN_OR_RETURN(auto cursor, store->GetMeta(kMetaCursor));
    OUTPOST_ASSIGN_OR_RETURN(auto boot, store->GetMeta(kMetaBootstrapped));
    impl->cursor = cursor.value_or("");
    impl->bootstrapped = boot && *boot == "1";
    return Status::Ok();
  }));
  impl->needs_schema = store->schema() == nullptr;
  return std::unique_ptr<SyncSession>(new SyncSession(std::move(impl)));
}

const std::string& SyncSession::client_id() const {
  return impl_->client_id;
}
Store* SyncSession::store() const {
  return impl_->store;
}
bool SyncSession::needs_schema() const {
  return impl_->needs_schema || impl_->store->schema() == nullptr;
}
bool SyncSession::bootstrapped() const {
  return impl_->bootstrapped;
}
int64_t SyncSession::bootstrap_rows() const {
  return impl_->bootstrap_rows;
}
std::optional<int64_t> SyncSession::bootstrap_total() const {
  return impl_->bootstrap_total;
}
int64_t SyncSession::rows_received() const {
  return impl_->rows_received;
}
int64_t SyncSession::deletes_received() const {
  return impl_->deletes_received;
}
int64_t SyncSession::bootstraps_completed() const {
  return impl_->bootstraps;
}
int64_t SyncSession::pushed_transactions() const {
  return impl_->pushed;
}
int64_t SyncSession::rejected_transactions() const {
  return impl_->rejected;
}

HttpRequest SyncSession::SchemaRequest() const {
  return HttpRequest{"GET", std::string(protocol::kSchemaPath), ""};
}

Result<MirrorReport> SyncSession::HandleSchema(std::string_view body) {
  OUTPOST_ASSIGN_OR_RETURN(Schema schema, SchemaFromJson(body));
  std::string before = impl_->schema() ? SchemaVersion(*impl_->schema()) : "";
  OUTPOST_ASSIGN_OR_RETURN(MirrorReport report, impl_->store->ApplySchema(schema));
  if (!before.empty() && before != report.version && !impl_->cursor.empty()) {
    OUTPOST_RETURN_IF_ERROR(impl_->ForgetCursor());
  }
  impl_->needs_schema = false;
  return report;
}

SyncStatus SyncSession::status() {
  SyncStatus st;
  if (auto c = impl_->store->CountOutbox(); c.ok()) {
    st.pending_mutations = c->unconfirmed_mutations;
    st.pending_transactions = c->unconfirmed_transactions;
    st.awaiting_checkpoint = c->confirmed_transactions;
  }
  st.bootstrapped = impl_->bootstrapped;
  st.cursor = impl_->cursor;
  if (auto v = impl_->store->GetMeta(kMetaLastSync); v.ok()) st.last_sync = *v;
  if (auto v = impl_->store->GetMeta(kMetaLastError); v.ok()) st.last_error = *v;
  if (auto n = impl_->store->RejectionCount(); n.ok()) st.rejections = *n;
  if (auto n = impl_->store->NoticeCount(); n.ok()) st.notices = *n;
  return st;
}

Result<std::vector<Rejection>> SyncSession::Rejections() {
  return impl_->store->Rejections();
}

Status SyncSession::DismissRejection(int64_t id) {
  return impl_->store->DismissRejection(id);
}

Result<std::vector<SyncNotice>> SyncSession::Notices() { return impl_->store->Notices(); }

Status SyncSession::DismissNotice(int64_t id) { return impl_->store->DismissNotice(id); }

std::vector<KeyRemap> SyncSession::TakeRemaps() {
  std::vector<KeyRemap> out;
  out.swap(impl_->remaps);
  return out;
}

Status SyncSession::RecordSyncResult(const Status& result) {
  Store* store = impl_->store;
  OUTPOST_RETURN_IF_ERROR(store->EndBulkLoad());
  EngineOptions options;
  options.durable = false;  // bookkeeping: losing it to an OS crash only dates the status back
  return store->RunAsEngine(options, [&]() -> Status {
    if (result.ok()) {
      OUTPOST_RETURN_IF_ERROR(
          store->SetMeta(kMetaLastSync, IsoUtcMillis(store->env()->NowMicros())));
      return store->DeleteMeta(kMetaLastError);
    }
    return store->SetMeta(kMetaLastError, result.ToString());
  });
}

}  // namespace outpost
