#include "pool.h"

#include <poll.h>

#include <iostream>

namespace outpost::server {

PgPool::PgPool(std::string url, size_t size) : url_(std::move(url)), size_(size ? size : 1) {}

PgPool::~PgPool() = default;

PgPool::Lease& PgPool::Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    Release();
    pool_ = other.pool_;
    conn_ = std::move(other.conn_);
  }
  return *this;
}

PgPool::Lease::~Lease() {
  Release();
}

void PgPool::Lease::Release() {
  if (pool_ && conn_) pool_->Return(std::move(conn_));
  conn_.reset();
}

Result<PgPool::Lease> PgPool::Acquire(std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return Lease(this, std::move(conn));
    }
    if (open_ < size_) {
      ++open_;
      lock.unlock();
      auto conn = PgConnection::Connect(url_);
      if (!conn.ok()) {
        lock.lock();
        --open_;
        cv_.notify_one();
        return Status(Code::kUnavailable, "database unavailable: " + conn.status().message());
      }
      return Lease(this, std::move(conn).value());
    }
    if (cv_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        open_ >= size_) {
      return Status(Code::kUnavailable, "every database connection is busy");
    }
  }
}

void PgPool::Return(std::unique_ptr<PgConnection> conn) {
  if (conn->healthy()) {
    PGTransactionStatusType ts = PQtransactionStatus(conn->raw());
    if (ts == PQTRANS_INTRANS || ts == PQTRANS_INERROR) {
      // Best effort: a failed rollback shows up as an unhealthy connection just below.
      (void)conn->Exec("ROLLBACK");
      ts = PQtransactionStatus(conn->raw());
    }
    if (ts != PQTRANS_IDLE) conn.reset();
  }
  if (conn && !conn->healthy()) conn.reset();
  std::lock_guard<std::mutex> lock(mu_);
  if (conn) {
    idle_.push_back(std::move(conn));
  } else {
    --open_;
  }
  cv_.notify_one();
}

ChangeHub::ChangeHub(std::string url) : url_(std::move(url)) {}

ChangeHub::~ChangeHub() {
  Stop();
}

void ChangeHub::Start() {
  thread_ = std::thread([this] { Run(); });
}

void ChangeHub::Stop() {
  std::vector<WakeFn> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
    TakeWaitersLocked("*", &wake);
  }
  cv_.notify_all();
  for (auto& fn : wake) fn();
  if (thread_.joinable()) thread_.join();
}

uint64_t ChangeHub::GenerationLocked(const std::string& tenant) const {
  auto it = generations_.find(tenant);
  return global_ + (it == generations_.end() ? 0 : it->second);
}

uint64_t ChangeHub::Generation(const std::string& tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  return GenerationLocked(tenant);
}

bool ChangeHub::Wait(const std::string& tenant, uint64_t seen,
                     std::chrono::steady_clock::time_point deadline) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [&] {
    return stopping_ || GenerationLocked(tenant) != seen;
  }) && !stopping_;
}

uint64_t ChangeHub::WaitAsync(const std::string& tenant, uint64_t seen, WakeFn wake, bool blocked) {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t id = next_waiter_++;
  if (stopping_ || GenerationLocked(tenant) != seen) {
    lock.unlock();
    wake();
    return id;
  }
  waiters_[tenant].emplace(id, std::move(wake));
  waiter_tenant_.emplace(id, tenant);
  if (blocked) blocked_.emplace(id, true);
  return id;
}

bool ChangeHub::CancelWait(uint64_t id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = waiter_tenant_.find(id);
  if (it == waiter_tenant_.end()) return false;
  blocked_.erase(id);
  auto per = waiters_.find(it->second);
  if (per != waiters_.end()) {
    per->second.erase(id);
    if (per->second.empty()) waiters_.erase(per);
  }
  waiter_tenant_.erase(it);
  return true;
}

size_t ChangeHub::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiter_tenant_.size();
}

void ChangeHub::TakeWaitersLocked(const std::string& tenant, std::vector<WakeFn>* out) {
  auto take = [&](std::unordered_map<uint64_t, WakeFn>& per) {
    for (auto& [id, fn] : per) {
      waiter_tenant_.erase(id);
      blocked_.erase(id);
      out->push_back(std::move(fn));
    }
  };
  if (tenant == "*") {
    for (auto& [t, per] : waiters_) take(per);
    waiters_.clear();
    return;
  }
  auto it = waiters_.find(tenant);
  if (it == waiters_.end()) return;
  take(it->second);
  waiters_.erase(it);
}

bool ChangeHub::WakeBlockedIfXminMoved(PgConnection& conn) {
  auto r = conn.Exec("SELECT pg_snapshot_xmin(pg_current_snapshot())::text");
  if (!r.ok()) return false;
  std::string xmin(r->get(0, 0));
  if (xmin == last_xmin_) return true;
  last_xmin_ = xmin;
  std::vector<WakeFn> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<uint64_t> ids;
    for (const auto& [id, unused] : blocked_) ids.push_back(id);
    for (uint64_t id : ids) {
      auto t = waiter_tenant_.find(id);
      if (t == waiter_tenant_.end()) continue;
      auto per = waiters_.find(t->second);
      if (per != waiters_.end()) {
        auto w = per->second.find(id);
        if (w != per->second.end()) {
          wake.push_back(std::move(w->second));
          per->second.erase(w);
        }
        if (per->second.empty()) waiters_.erase(per);
      }
      waiter_tenant_.erase(t);
    }
    blocked_.clear();
  }
  for (auto& fn : wake) fn();
  return true;
}

void ChangeHub::Run() {
  bool warned = false;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stopping_) return;
    }
    auto conn = PgConnection::Connect(url_);
    if (conn.ok() && (*conn)->Exec("LISTEN outpost_changes").ok()) {
      warned = false;
      std::vector<WakeFn> wake;
      {
        // Notifications may have been missed while disconnected: wake every waiter.
        std::lock_guard<std::mutex> lock(mu_);
        ++global_;
        TakeWaitersLocked("*", &wake);
      }
      cv_.notify_all();
      for (auto& fn : wake) fn();
      PGconn* c = (*conn)->raw();
      while (true) {
        {
          std::lock_guard<std::mutex> lock(mu_);
          if (stopping_) return;
        }
        bool watch_xmin = false;
        {
          std::lock_guard<std::mutex> lock(mu_);
          watch_xmin = !blocked_.empty();
        }
        pollfd pfd{PQsocket(c), POLLIN, 0};
        int n = poll(&pfd, 1, watch_xmin ? 5 : 250);
        if (n < 0 && errno != EINTR) break;
        if (n > 0 && !PQconsumeInput(c)) break;
        // Before reading notifications: the query may have received some.
        if (watch_xmin && !WakeBlockedIfXminMoved(**conn)) break;
        bool any = false;
        std::vector<WakeFn> wake;
        {
          std::lock_guard<std::mutex> lock(mu_);
          while (PGnotify* note = PQnotifies(c)) {
            std::string tenant = note->extra ? note->extra : "";
            PQfreemem(note);
            if (tenant == "*") {
              ++global_;
            } else {
              ++generations_[tenant];
            }
            TakeWaitersLocked(tenant, &wake);
            any = true;
          }
        }
        if (any) cv_.notify_all();
        for (auto& fn : wake) fn();
        if (PQstatus(c) != CONNECTION_OK) break;
      }
    } else if (!warned) {
      std::cerr << "outpost-server: LISTEN connection failed, retrying: "
                << (conn.ok() ? "LISTEN failed" : conn.status().message()) << std::endl;
      warned = true;
    }
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
  }
}

}  // namespace outpost::server
