// Admission of long-polls per token, per client and in total (long_polls.h).
#include "long_polls.h"

#include <vector>

namespace outpost::server {

LongPolls::Ticket::~Ticket() {
  owner_->Release(this);
}

Result<std::unique_ptr<LongPolls::Ticket>> LongPolls::Admit(const std::string& token,
                                                            const std::string& client,
                                                            std::function<void()> cut_short,
                                                            int* http_status) {
  std::vector<std::function<void()>> to_cut;
  std::unique_ptr<Ticket> ticket;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (total_ >= limits_.total) {
      *http_status = 503;
      return Status(Code::kUnavailable, "the server holds as many long-polls as it may: retry");
    }
    size_t& mine = per_token_[token];
    if (mine >= limits_.per_token) {
      *http_status = 429;
      return Status(Code::kUnavailable, "this token already has " +
                                            std::to_string(limits_.per_token) +
                                            " long-polls waiting: retry later");
    }
    ++mine;
    ++total_;
    ticket.reset(new Ticket(this, token, client));
    ticket->id_ = next_id_++;
    if (!client.empty()) {
      auto& ids = per_client_[client];
      // Oldest first: the ones over the limit, counting this one, answer now.
      while (!ids.empty() && ids.size() + 1 > limits_.per_client) {
        auto cut = cut_.find(ids.front());
        if (cut != cut_.end() && cut->second) {
          to_cut.push_back(std::move(cut->second));
          cut->second = nullptr;
        }
        // It stays counted until its ticket is released; it just leaves the client's queue.
        ids.pop_front();
      }
      ids.push_back(ticket->id_);
      cut_.emplace(ticket->id_, std::move(cut_short));
    }
  }
  for (auto& fn : to_cut) fn();
  return ticket;
}

void LongPolls::Release(Ticket* t) {
  std::lock_guard<std::mutex> lock(mu_);
  --total_;
  auto tok = per_token_.find(t->token_);
  if (tok != per_token_.end() && --tok->second == 0) per_token_.erase(tok);
  if (t->client_.empty()) return;
  auto cut = cut_.find(t->id_);
  if (cut != cut_.end()) cut_.erase(cut);
  auto ids = per_client_.find(t->client_);
  if (ids == per_client_.end()) return;
  for (auto it = ids->second.begin(); it != ids->second.end(); ++it) {
    if (*it == t->id_) {
      ids->second.erase(it);
      break;
    }
  }
  if (ids->second.empty()) per_client_.erase(ids);
}

size_t LongPolls::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return total_;
}

}  // namespace outpost::server
