// Admission of long-polls (docs/server.md, "Connections and limits"): a parked long-poll costs
// little, but a token that opens thousands of them, or a client whose abandoned long-polls pile
// up after network cuts, must not crowd out everyone else.
//  - per token: at most `per_token` long-polls wait at once for one bearer token; more are
//    refused (429).
//  - per client id: at most `per_client` wait at once for one client id (pull's `client`); a newer
//    one makes the oldest answer at once (the client has almost certainly given up on it).
//  - total: at most `total` wait at once in the process; more are refused (503).
//
// Threading: thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "outpost/status.h"

namespace outpost::server {

class LongPolls {
 public:
  struct Limits {
    size_t per_token = 16;
    size_t per_client = 1;
    size_t total = 100000;
  };
  explicit LongPolls(Limits limits) : limits_(limits) {}

  // Held by an admitted long-poll until it answers; releasing it (destruction) frees its place.
  class Ticket {
   public:
    ~Ticket();
    Ticket(const Ticket&) = delete;
    Ticket& operator=(const Ticket&) = delete;

   private:
    friend class LongPolls;
    Ticket(LongPolls* owner, std::string token, std::string client)
        : owner_(owner), token_(std::move(token)), client_(std::move(client)) {}
    LongPolls* owner_;
    std::string token_;
    std::string client_;
    uint64_t id_ = 0;
  };

  // Admits a long-poll of `token` (the bearer token) and `client` (may be empty: not counted
  // per client). `cut_short` is called (at most once, on the caller's thread of a later Admit)
  // when a newer long-poll of the same client takes its place; it must be quick and must not
  // call into LongPolls. Errors: kUnavailable with `*http_status` 429 (per token) or 503
  // (total).
  Result<std::unique_ptr<Ticket>> Admit(const std::string& token, const std::string& client,
                                        std::function<void()> cut_short, int* http_status);

  size_t waiting() const;

 private:
  void Release(Ticket* t);

  const Limits limits_;
  mutable std::mutex mu_;
  size_t total_ = 0;
  uint64_t next_id_ = 1;
  std::unordered_map<std::string, size_t> per_token_;
  // Per client: the ids of its admitted long-polls, oldest first, and their cut_short.
  std::unordered_map<std::string, std::list<uint64_t>> per_client_;
  std::unordered_map<uint64_t, std::function<void()>> cut_;
};

}  // namespace outpost::server
