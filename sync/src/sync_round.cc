// SyncRound: the sequencing of a sync round, as a state machine (outpost/sync_round.h).
//
// The round has two stages, push then pull; before either, a schema fetch whenever the session
// needs one. Each request is retried on kUnavailable (and 502-504) up to max_attempts with
// exponential backoff, handed out as kWait steps.
#include "outpost/sync_round.h"

#include <algorithm>
#include <optional>

namespace outpost {

namespace {

bool Is2xx(int http_status) {
  return http_status >= 200 && http_status < 300;
}

bool IsRetryableStatus(int http_status) {
  return http_status == 502 || http_status == 503 || http_status == 504;
}

}  // namespace

class SyncRound::Impl {
 public:
  Impl(SyncSession& session, SyncOptions options)
      : session_(session), options_(std::move(options)) {
    start_micros_ = Now();
    bootstraps0_ = session_.bootstraps_completed();
    rows0_ = session_.rows_received();
    deletes0_ = session_.deletes_received();
    pushed0_ = session_.pushed_transactions();
    rejected0_ = session_.rejected_transactions();
  }

  SyncStep Next();
  Status OnLine(std::string_view line);
  void OnAnswer(int http_status, std::string_view error_body);
  void OnFailure(const Status& error);
  void Cancel() { cancel_ = true; }

 private:
  enum class Stage { kPush, kPull };
  enum class Sent { kNone, kSchema, kPush, kPull };

  int64_t Now() { return session_.store()->env()->NowMicros(); }

  SyncStep Send(Sent what, HttpRequest request);
  SyncStep Finish(const Status& outcome);
  // After a request failed with kUnavailable (or 502-504): schedules its resend after the
  // backoff. False when its attempts are used up.
  bool ScheduleRetry();
  void OnSchemaAnswer(int http_status, std::string_view error_body);
  void OnPushAnswer(int http_status, std::string_view error_body);
  void OnPullAnswer(int http_status, std::string_view error_body);
  void ReportProgress();
  void Fail(const Status& s) { failure_ = s; }

  SyncSession& session_;
  const SyncOptions options_;
  int64_t start_micros_ = 0;
  int64_t bootstraps0_, rows0_, deletes0_, pushed0_, rejected0_;

  Stage stage_ = Stage::kPush;
  bool cancel_ = false;
  std::optional<Status> failure_;  // the round ends with it at the next step
  bool succeeded_ = false;         // caught up: the round ends well at the next step
  std::optional<SyncStep> done_;   // the final step, once the round is over

  // The request in flight, and its retries.
  Sent in_flight_ = Sent::kNone;
  Sent last_sent_ = Sent::kNone;
  HttpRequest last_request_;
  int attempt_ = 0;
  int backoff_ms_ = 0;
  bool resend_ = false;  // the next step resends last_request_
  int wait_ms_ = 0;      // the next step is this wait
  std::string body_;     // the 2xx body of a schema or push answer, line by line
  int64_t reported_rows_ = 0;

  // Push stage: error answers the session adapted to in a row.
  int push_adaptations_ = 0;
  // Pull stage.
  bool pull_started_ = false;
  int64_t pull_rows0_ = 0, pull_deletes0_ = 0;  // received before the pull stage
  int pull_wait_ = 0;                           // the next pull's long-poll
  bool long_polled_ = false;
  int pull_adaptations_ = 0;
  int cut_streams_ = 0;
};

SyncStep SyncRound::Impl::Send(Sent what, HttpRequest request) {
  in_flight_ = last_sent_ = what;
  last_request_ = std::move(request);
  attempt_ = 1;
  backoff_ms_ = std::max(1, options_.initial_backoff_ms);
  body_.clear();
  reported_rows_ = session_.bootstrap_rows();
  SyncStep step;
  step.kind = SyncStep::Kind::kSend;
  step.request = last_request_;
  return step;
}

SyncStep SyncRound::Impl::Finish(const Status& outcome) {
  SyncStep step;
  step.kind = SyncStep::Kind::kDone;
  step.status = outcome;
  // The round is over: record it (and leave bulk-load mode) whatever its outcome.
  Status recorded = session_.RecordSyncResult(outcome);
  if (step.status.ok()) step.status = recorded;
  step.report.pushed_transactions = session_.pushed_transactions() - pushed0_;
  step.report.rejected_transactions = session_.rejected_transactions() - rejected0_;
  step.report.rows_received = session_.rows_received() - rows0_;
  step.report.deletes_received = session_.deletes_received() - deletes0_;
  step.report.bootstrapped_now = session_.bootstraps_completed() > bootstraps0_;
  done_ = step;
  return step;
}

bool SyncRound::Impl::ScheduleRetry() {
  if (attempt_ >= std::max(1, options_.max_attempts)) return false;
  ++attempt_;
  wait_ms_ = backoff_ms_;
  backoff_ms_ = std::min(backoff_ms_ * 2, std::max(backoff_ms_, options_.max_backoff_ms));
  resend_ = true;
  body_.clear();
  if (last_sent_ == Sent::kPull) session_.AbortPull();
  return true;
}

SyncStep SyncRound::Impl::Next() {
  if (done_) return *done_;
  if (in_flight_ != Sent::kNone) {
    return Finish(Status(Code::kInternal, "SyncRound::Next called before its request's answer"));
  }
  if (failure_) return Finish(*failure_);
  if (succeeded_) return Finish(Status::Ok());
  if (cancel_ || (options_.cancelled && options_.cancelled())) {
    return Finish(Status(Code::kUnavailable, "sync cancelled"));
  }
  if (wait_ms_ > 0) {
    SyncStep step;
    step.kind = SyncStep::Kind::kWait;
    step.wait_ms = wait_ms_;
    wait_ms_ = 0;
    return step;
  }
  if (resend_) {
    resend_ = false;
    in_flight_ = last_sent_;
    reported_rows_ = session_.bootstrap_rows();
    SyncStep step;
    step.kind = SyncStep::Kind::kSend;
    step.request = last_request_;
    return step;
  }
  if (session_.needs_schema()) return Send(Sent::kSchema, session_.SchemaRequest());
  if (stage_ == Stage::kPush) {
    auto request = session_.PushRequest(options_.push_batch);
    if (!request.ok()) return Finish(request.status());
    if (*request) return Send(Sent::kPush, std::move(**request));
    stage_ = Stage::kPull;
  }
  if (!pull_started_) {
    // Rows that come in while catching up are news for the app already: they are handed over at
    // once rather than held for a long-poll.
    pull_started_ = true;
    pull_rows0_ = session_.rows_received();
    pull_deletes0_ = session_.deletes_received();
    long_polled_ = options_.wait_seconds <= 0;
  }
  return Send(Sent::kPull, session_.PullRequest(pull_wait_, options_.pull_limit));
}

Status SyncRound::Impl::OnLine(std::string_view line) {
  switch (in_flight_) {
    case Sent::kSchema:
    case Sent::kPush:
      body_.append(line);
      body_.push_back('\n');
      return Status::Ok();
    case Sent::kPull:
      OUTPOST_RETURN_IF_ERROR(session_.HandlePullLine(line));
      if (options_.progress && !session_.bootstrapped() &&
          session_.bootstrap_rows() != reported_rows_) {
        ReportProgress();
      }
      return Status::Ok();
    case Sent::kNone: break;
  }
  return Status(Code::kInternal, "SyncRound::OnLine without a request in flight");
}

void SyncRound::Impl::ReportProgress() {
  reported_rows_ = session_.bootstrap_rows();
  double secs = static_cast<double>(Now() - start_micros_) / 1e6;
  options_.progress(reported_rows_, secs > 0 ? static_cast<double>(reported_rows_) / secs : 0);
}

void SyncRound::Impl::OnFailure(const Status& error) {
  const Sent sent = in_flight_;
  in_flight_ = Sent::kNone;
  if (sent == Sent::kNone) return Fail(Status(Code::kInternal, "SyncRound: an answer too many"));
  if (sent == Sent::kPull) session_.AbortPull();
  if (error.code() == Code::kUnavailable && ScheduleRetry()) return;
  // A table or column the mirror does not know: the schema changed under us. The next step
  // fetches it and pulls again.
  if (sent == Sent::kPull && error.code() == Code::kSchemaMismatch && session_.needs_schema() &&
      ++pull_adaptations_ <= 2) {
    return;
  }
  Fail(error);
}

void SyncRound::Impl::OnAnswer(int http_status, std::string_view error_body) {
  const Sent sent = in_flight_;
  in_flight_ = Sent::kNone;
  if (sent == Sent::kNone) return Fail(Status(Code::kInternal, "SyncRound: an answer too many"));
  if (IsRetryableStatus(http_status) && ScheduleRetry()) return;
  switch (sent) {
    case Sent::kSchema: return OnSchemaAnswer(http_status, error_body);
    case Sent::kPush: return OnPushAnswer(http_status, error_body);
    case Sent::kPull: return OnPullAnswer(http_status, error_body);
    case Sent::kNone: return;
  }
}

void SyncRound::Impl::OnSchemaAnswer(int http_status, std::string_view error_body) {
  if (Is2xx(http_status)) {
    Status s = session_.HandleSchema(body_).status();
    if (!s.ok()) Fail(s);
    return;
  }
  Status s = session_.HandleErrorResponse(http_status, error_body);
  Fail(s.ok() ? Status(Code::kUnavailable, "schema request answered " + std::to_string(http_status))
              : s);
}

void SyncRound::Impl::OnPushAnswer(int http_status, std::string_view error_body) {
  if (Is2xx(http_status)) {
    Status s = session_.HandlePushResponse(body_);
    if (!s.ok()) return Fail(s);
    push_adaptations_ = 0;
    return;
  }
  Status s = session_.HandleErrorResponse(http_status, error_body);
  if (!s.ok()) return Fail(s);
  if (++push_adaptations_ > 2) {
    Fail(Status(Code::kConflict, "push keeps being refused (" + std::to_string(http_status) + ")"));
  }
}

void SyncRound::Impl::OnPullAnswer(int http_status, std::string_view error_body) {
  if (!Is2xx(http_status)) {
    session_.AbortPull();
    Status s = session_.HandleErrorResponse(http_status, error_body);
    if (!s.ok()) return Fail(s);
    if (++pull_adaptations_ > 2) {
      Fail(Status(Code::kConflict,
                  "pull keeps being refused (" + std::to_string(http_status) + ")"));
    }
    return;
  }
  Result<bool> more = session_.FinishPull();
  if (!more.ok()) {
    // A stream cut before its cursor line: pull again from the stored cursor, after a pause.
    if (more.status().code() == Code::kUnavailable &&
        ++cut_streams_ < std::max(1, options_.max_attempts)) {
      wait_ms_ = std::max(1, options_.initial_backoff_ms);
      return;
    }
    return Fail(more.status());
  }
  pull_adaptations_ = 0;
  if (*more) {
    pull_wait_ = 0;
    return;
  }
  if (options_.progress && session_.bootstrapped() && session_.bootstrap_rows() != reported_rows_) {
    ReportProgress();
  }
  const bool caught_up_with_news =
      session_.rows_received() != pull_rows0_ || session_.deletes_received() != pull_deletes0_;
  if (!long_polled_ && session_.bootstrapped() && !caught_up_with_news) {
    long_polled_ = true;
    pull_wait_ = options_.wait_seconds;
    return;
  }
  succeeded_ = true;
}

// --- SyncRound -----------------------------------------------------------------------------------

SyncRound::SyncRound(SyncSession& session, SyncOptions options)
    : impl_(std::make_unique<Impl>(session, std::move(options))) {}
SyncRound::~SyncRound() = default;

SyncStep SyncRound::Next() {
  return impl_->Next();
}
Status SyncRound::OnLine(std::string_view line) {
  return impl_->OnLine(line);
}
void SyncRound::OnAnswer(int http_status, std::string_view error_body) {
  impl_->OnAnswer(http_status, error_body);
}
void SyncRound::OnFailure(const Status& error) {
  impl_->OnFailure(error);
}
void SyncRound::Cancel() {
  impl_->Cancel();
}

}  // namespace outpost
