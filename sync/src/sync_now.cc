// SyncNow: a SyncRound driven over a blocking Transport (outpost/sync_round.h).
#include <chrono>
#include <thread>

#include "outpost/sync_round.h"

namespace outpost {

Result<SyncReport> SyncNow(SyncSession& session, Transport& transport, const SyncOptions& options) {
  SyncRound round(session, options);
  while (true) {
    SyncStep step = round.Next();
    switch (step.kind) {
      case SyncStep::Kind::kDone:
        if (!step.status.ok()) return step.status;
        return step.report;
      case SyncStep::Kind::kWait:
        if (options.sleep) {
          options.sleep(step.wait_ms);
        } else {
          std::this_thread::sleep_for(std::chrono::milliseconds(step.wait_ms));
        }
        break;
      case SyncStep::Kind::kSend: {
        std::string error_body;
        Result<int> answer = transport.Send(
            step.request, [&](std::string_view line) { return round.OnLine(line); }, &error_body);
        if (answer.ok()) {
          round.OnAnswer(*answer, error_body);
        } else {
          round.OnFailure(answer.status());
        }
        break;
      }
    }
  }
}

}  // namespace outpost
