// A fixed set of threads running blocking jobs (PostgreSQL work) from a bounded queue: the HTTP
// layer's I/O threads never block, and a burst of requests waits here, up to a limit, instead of
// piling up unbounded.
//
// Threading: thread-safe. Jobs run on the queue's threads, in the order posted.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace outpost::server {

class WorkQueue {
 public:
  WorkQueue(size_t threads, size_t max_queued);
  ~WorkQueue();  // Stop()s
  WorkQueue(const WorkQueue&) = delete;
  WorkQueue& operator=(const WorkQueue&) = delete;

  // Queues `job`. False (and `job` is dropped) when max_queued jobs are already waiting, or the
  // queue has stopped. `admitted`: work of a request already admitted and bounded elsewhere (a
  // parked long-poll woken by a change: thousands may wake at once), queued over max_queued.
  bool Post(std::function<void()> job, bool admitted = false);
  // Runs the jobs already queued, then joins the threads. Later Posts are refused.
  void Stop();

  size_t queued() const;
  size_t busy() const;

 private:
  void Run();

  const size_t max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  size_t busy_ = 0;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace outpost::server
