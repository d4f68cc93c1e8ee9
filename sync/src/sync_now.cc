// SyncNow: one sync round over a transport (schema, push, pull), with bounded retries.
#include <time.h>

#include <algorithm>
#include <cerrno>

#include "outpost/sync.h"

namespace outpost {

namespace {

// Blocks the calling thread (POSIX nanosleep; Emscripten provides it too). Used when the caller
// gives no SyncOptions::sleep.
void BlockingSleep(int milliseconds) {
  timespec ts{milliseconds / 1000, static_cast<long>(milliseconds % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

class Round {
 public:
  Round(SyncSession& session, Transport& transport, const SyncOptions& options)
      : session_(session), transport_(transport), options_(options) {
    start_micros_ = Now();
  }

  Status Run(SyncReport* report) {
    const int64_t bootstraps0 = session_.bootstraps_completed();
    const int64_t rows0 = session_.rows_received(), deletes0 = session_.deletes_received();
    const int64_t pushed0 = session_.pushed_transactions();
    const int64_t rejected0 = session_.rejected_transactions();
    Status s = Body();
    report->pushed_transactions = session_.pushed_transactions() - pushed0;
    report->rejected_transactions = session_.rejected_transactions() - rejected0;
    report->rows_received = session_.rows_received() - rows0;
    report->deletes_received = session_.deletes_received() - deletes0;
    report->bootstrapped_now = session_.bootstraps_completed() > bootstraps0;
    return s;
  }

 private:
  int64_t Now() { return session_.store()->env()->NowMicros(); }

  void Sleep(int milliseconds) {
    if (options_.sleep) {
      options_.sleep(milliseconds);
    } else {
      BlockingSleep(milliseconds);
    }
  }

  Status Cancelled() {
    if (options_.cancelled && options_.cancelled()) {
      return Status(Code::kUnavailable, "sync cancelled");
    }
    return Status::Ok();
  }

  // Sends with retries on kUnavailable (network failures, timeouts, cut streams reported by
  // `on_retry`), waiting between attempts with exponential backoff.
  Result<int> Send(const HttpRequest& request,
                   const std::function<Status(std::string_view)>& on_line, std::string* error_body,
                   const std::function<void()>& on_retry) {
    int backoff = std::max(1, options_.initial_backoff_ms);
    const int attempts = std::max(1, options_.max_attempts);
    for (int attempt = 1;; ++attempt) {
      OUTPOST_RETURN_IF_ERROR(Cancelled());
      error_body->clear();
      Result<int> r = transport_.Send(request, on_line, error_body);
      bool retry = !r.ok() && r.status().code() == Code::kUnavailable;
      if (r.ok() && (*r == 502 || *r == 503 || *r == 504)) retry = true;
      if (!retry || attempt >= attempts) return r;
      if (on_retry) on_retry();
      Sleep(backoff);
      backoff = std::min(backoff * 2, std::max(backoff, options_.max_backoff_ms));
    }
  }

  Status FetchSchema() {
    std::string body, error_body;
    OUTPOST_ASSIGN_OR_RETURN(int code, Send(
                                           session_.SchemaRequest(),
                                           [&](std::string_view line) {
                                             body.append(line);
                                             body.push_back('\n');
                                             return Status::Ok();
                                           },
                                           &error_body, [&] { body.clear(); }));
    if (code < 200 || code >= 300) {
      OUTPOST_RETURN_IF_ERROR(session_.HandleErrorResponse(code, error_body));
      return Status(Code::kUnavailable, "schema request answered " + std::to_string(code));
    }
    return session_.HandleSchema(body).status();
  }

  Status Push() {
    int adaptations = 0;
    while (true) {
      OUTPOST_RETURN_IF_ERROR(Cancelled());
      if (session_.needs_schema()) OUTPOST_RETURN_IF_ERROR(FetchSchema());
      OUTPOST_ASSIGN_OR_RETURN(auto request, session_.PushRequest(options_.push_batch));
      if (!request) return Status::Ok();
      std::string body, error_body;
      OUTPOST_ASSIGN_OR_RETURN(int code, Send(
                                             *request,
                                             [&](std::string_view line) {
                                               body.append(line);
                                               body.push_back('\n');
                                               return Status::Ok();
                                             },
                                             &error_body, [&] { body.clear(); }));
      if (code >= 200 && code < 300) {
        OUTPOST_RETURN_IF_ERROR(session_.HandlePushResponse(body));
        adaptations = 0;
        continue;
      }
      OUTPOST_RETURN_IF_ERROR(session_.HandleErrorResponse(code, error_body));
      if (++adaptations > 2) {
        return Status(Code::kConflict, "push keeps being refused (" + std::to_string(code) + ")");
      }
    }
  }

  Status Pull() {
    int wait = 0;
    bool long_polled = options_.wait_seconds <= 0;
    // Rows that came in while catching up are news for the app already: hand them over now
    // rather than holding them for a long-poll.
    const int64_t rows0 = session_.rows_received(), deletes0 = session_.deletes_received();
    int adaptations = 0;
    int cut_streams = 0;
    while (true) {
      OUTPOST_RETURN_IF_ERROR(Cancelled());
      if (session_.needs_schema()) OUTPOST_RETURN_IF_ERROR(FetchSchema());
      std::string error_body;
      int64_t reported = session_.bootstrap_rows();
      auto on_line = [&](std::string_view line) -> Status {
        OUTPOST_RETURN_IF_ERROR(session_.HandlePullLine(line));
        if (options_.progress && !session_.bootstrapped() &&
            session_.bootstrap_rows() != reported) {
          reported = session_.bootstrap_rows();
          double secs = static_cast<double>(Now() - start_micros_) / 1e6;
          options_.progress(reported, secs > 0 ? static_cast<double>(reported) / secs : 0);
        }
        return Status::Ok();
      };
      Result<int> code = Send(session_.PullRequest(wait, options_.pull_limit), on_line, &error_body,
                              [&] { session_.AbortPull(); });
      if (!code.ok()) {
        session_.AbortPull();
        // A table or column the mirror does not know: the schema changed under us.
        if (code.status().code() == Code::kSchemaMismatch && session_.needs_schema() &&
            ++adaptations <= 2) {
          continue;
        }
        return code.status();
      }
      if (*code < 200 || *code >= 300) {
        session_.AbortPull();
        OUTPOST_RETURN_IF_ERROR(session_.HandleErrorResponse(*code, error_body));
        if (++adaptations > 2) {
          return Status(Code::kConflict,
                        "pull keeps being refused (" + std::to_string(*code) + ")");
        }
        continue;
      }
      Result<bool> more = session_.FinishPull();
      if (!more.ok()) {
        if (more.status().code() == Code::kUnavailable &&
            ++cut_streams < std::max(1, options_.max_attempts)) {
          Sleep(std::max(1, options_.initial_backoff_ms));
          continue;
        }
        return more.status();
      }
      adaptations = 0;
      if (*more) {
        wait = 0;
        continue;
      }
      if (options_.progress && session_.bootstrapped() && session_.bootstrap_rows() != reported) {
        double secs = static_cast<double>(Now() - start_micros_) / 1e6;
        options_.progress(session_.bootstrap_rows(),
                          secs > 0 ? static_cast<double>(session_.bootstrap_rows()) / secs : 0);
      }
      const bool caught_up_with_news =
          session_.rows_received() != rows0 || session_.deletes_received() != deletes0;
      if (!long_polled && session_.bootstrapped() && !caught_up_with_news) {
        long_polled = true;
        wait = options_.wait_seconds;
        continue;
      }
      return Status::Ok();
    }
  }

  Status Body() {
    if (session_.needs_schema()) OUTPOST_RETURN_IF_ERROR(FetchSchema());
    OUTPOST_RETURN_IF_ERROR(Push());
    return Pull();
  }

  SyncSession& session_;
  Transport& transport_;
  const SyncOptions& options_;
  int64_t start_micros_ = 0;
};

}  // namespace

Result<SyncReport> SyncNow(SyncSession& session, Transport& transport, const SyncOptions& options) {
  SyncReport report;
  Round round(session, transport, options);
  Status s = round.Run(&report);
  Status recorded = session.RecordSyncResult(s);
  OUTPOST_RETURN_IF_ERROR(s);
  OUTPOST_RETURN_IF_ERROR(recorded);
  return report;
}

}  // namespace outpost
