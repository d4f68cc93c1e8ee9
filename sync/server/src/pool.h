// A pool of PostgreSQL connections for request threads, and the LISTEN/NOTIFY hub that wakes
// long-polls (docs/server.md, "Long-poll").
//
// Threading: PgPool and ChangeHub are thread-safe. A Lease is used by one thread at a time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "outpost/status.h"
#include "pg.h"

namespace outpost::server {

class PgPool {
 public:
  // At most `size` connections to `url`, opened on demand.
  PgPool(std::string url, size_t size);
  ~PgPool();
  PgPool(const PgPool&) = delete;
  PgPool& operator=(const PgPool&) = delete;

  // A connection on loan; returned to the pool when destroyed. A connection left inside a
  // transaction is rolled back; a broken one is closed (a new one is opened on demand).
  class Lease {
   public:
    Lease() = default;
    Lease(PgPool* pool, std::unique_ptr<PgConnection> conn) : pool_(pool), conn_(std::move(conn)) {}
    Lease(Lease&&) = default;
    Lease& operator=(Lease&& other) noexcept;
    ~Lease();
    PgConnection& operator*() const { return *conn_; }
    PgConnection* operator->() const { return conn_.get(); }
    explicit operator bool() const { return conn_ != nullptr; }
    void Release();

   private:
    PgPool* pool_ = nullptr;
    std::unique_ptr<PgConnection> conn_;
  };

  // Waits up to `timeout` for a connection. Errors: kUnavailable (the database cannot be reached,
  // or every connection stayed busy).
  Result<Lease> Acquire(std::chrono::milliseconds timeout = std::chrono::seconds(10));

 private:
  void Return(std::unique_ptr<PgConnection> conn);

  const std::string url_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<PgConnection>> idle_;
  size_t open_ = 0;  // idle + leased + being opened
};

// Listens on channel `outpost_changes` (payload: a tenant id, or "*") with one dedicated
// connection and keeps a generation counter per tenant. Long-polls read a generation, run their
// query, release their connection and wait for the generation to move.
class ChangeHub {
 public:
  explicit ChangeHub(std::string url);
  ~ChangeHub();  // Stop()s
  ChangeHub(const ChangeHub&) = delete;
  ChangeHub& operator=(const ChangeHub&) = delete;

  void Start();  // starts the listening thread
  void Stop();   // wakes every waiter and joins the thread

  // Changes of `tenant` (or of "*", or a reconnection of the listener) move the generation.
  uint64_t Generation(const std::string& tenant);
  // Waits until Generation(tenant) != seen, `deadline`, or Stop. True when the generation moved.
  bool Wait(const std::string& tenant, uint64_t seen,
            std::chrono::steady_clock::time_point deadline);

  // Calls `wake` once, when Generation(tenant) moves away from `seen` or the hub stops: at once
  // on the calling thread when it already has, otherwise on the hub's thread. `wake` must be
  // quick (post work elsewhere) and must not call into the hub. Returns an id for CancelWait.
  //
  // `blocked`: the waiter saw committed changes held back by the watermark (an older transaction
  // still open). No NOTIFY announces that transaction's end, so the hub also wakes such waiters
  // when the database's snapshot xmin moves, which its own thread checks every few milliseconds
  // while any are waiting: one query for all of them, however many there are.
  using WakeFn = std::function<void()>;
  uint64_t WaitAsync(const std::string& tenant, uint64_t seen, WakeFn wake, bool blocked = false);
  // Forgets waiter `id`. False when it has already been woken (or is being woken right now:
  // its `wake` may still run after this returns).
  bool CancelWait(uint64_t id);
  // Waiters registered and not yet woken or cancelled.
  size_t waiting() const;

 private:
  void Run();
  uint64_t GenerationLocked(const std::string& tenant) const;
  // Takes the waiters to wake after `tenant`'s generation moved ("*": all of them).
  void TakeWaitersLocked(const std::string& tenant, std::vector<WakeFn>* out);
  // On the hub's thread: wakes the blocked waiters when the snapshot xmin moved since the last
  // check. False when the connection failed.
  bool WakeBlockedIfXminMoved(PgConnection& conn);

  const std::string url_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, uint64_t> generations_;
  // Asynchronous waiters by tenant, then id; `waiter_tenant_` finds an id's tenant.
  std::unordered_map<std::string, std::unordered_map<uint64_t, WakeFn>> waiters_;
  std::unordered_map<uint64_t, std::string> waiter_tenant_;
  std::unordered_map<uint64_t, bool> blocked_;  // ids of waiters with `blocked`
  uint64_t next_waiter_ = 1;
  std::string last_xmin_;  // hub thread only
  uint64_t global_ = 0;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace outpost::server
