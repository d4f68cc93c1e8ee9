// A bounded queue of blocking jobs and the threads that run them (work_queue.h).
#include "work_queue.h"

#include <exception>
#include <iostream>

namespace outpost::server {

WorkQueue::WorkQueue(size_t threads, size_t max_queued) : max_queued_(max_queued) {
  for (size_t i = 0; i < std::max<size_t>(1, threads); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

WorkQueue::~WorkQueue() {
  Stop();
}

bool WorkQueue::Post(std::function<void()> job, bool admitted) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ || (!admitted && jobs_.size() >= max_queued_)) return false;
    jobs_.push_back(std::move(job));
  }
  cv_.notify_one();
  return true;
}

void WorkQueue::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
}

size_t WorkQueue::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return jobs_.size();
}

size_t WorkQueue::busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return busy_;
}

void WorkQueue::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [&] { return stopping_ || !jobs_.empty(); });
    if (jobs_.empty()) return;  // stopping, and nothing left to run
    auto job = std::move(jobs_.front());
    jobs_.pop_front();
    ++busy_;
    lock.unlock();
    try {
      job();
    } catch (const std::exception& e) {
      // A job reports its own errors to its client; one that escapes is a bug, logged, and the
      // thread lives on for the next job.
      std::cerr << "outpost-server: a request job failed: " << e.what() << std::endl;
    }
    lock.lock();
    --busy_;
  }
}

}  // namespace outpost::server
