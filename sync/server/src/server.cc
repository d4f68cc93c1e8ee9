// The HTTP server of `outpost-server serve`: start-up, routes, long-polls, history pruning and
// shutdown. The sockets are http_server.h's; this file decides what each request does and where
// its PostgreSQL work runs (the worker queue), and parks long-polls without a thread.
#include "server.h"

#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <condition_variable>
#include <cstdlib>
#include <iostream>
#include <mutex>
#include <thread>

#include "catalog.h"
#include "install.h"
#include "outpost/file.h"
#include "outpost/protocol.h"
#include "outpost/protocol_pull.h"
#include "outpost/protocol_push.h"
#include "pool.h"
#include "pull.h"
#include "push.h"
#include "rules.h"
#include "static_files.h"
#include "work_queue.h"

namespace outpost::server {

namespace {

namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

// Counters for GET /metrics (Prometheus text format).
struct Counters {
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> errors{0};  // answers with a status >= 400
  std::atomic<uint64_t> pushes{0};
  std::atomic<uint64_t> pulls{0};
  std::atomic<uint64_t> long_poll_wakeups{0};
  std::atomic<uint64_t> overloaded{0};  // 429 and 503 for being over a limit
};

// What the routes share. Built by StartServices; immutable afterwards but for the counters and
// `stopping`.
struct App {
  explicit App(const ServerConfig& c) : config(c), long_polls(c.long_polls) {}
  const ServerConfig& config;
  std::unique_ptr<ServerModel> model;
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<ChangeHub> hub;
  std::unique_ptr<WorkQueue> work;
  std::unique_ptr<HttpServer> http;
  StaticFiles static_files;
  LongPolls long_polls;
  Counters metrics;
  std::atomic<bool> stopping{false};
#ifdef OUTPOST_TEST_FAULTS
  // Test builds only (outpost-server-faults): OUTPOST_FAULT=crash_after_push_commit exits the
  // process after a push committed and before it is answered.
  bool crash_after_push_commit = false;
#endif

  void Handle(const std::shared_ptr<HttpExchange>& ex);

 private:
  // Sends `r` with the CORS headers the request's origin is allowed.
  void Answer(const std::shared_ptr<HttpExchange>& ex, HttpResponse r);
  void Fail(const std::shared_ptr<HttpExchange>& ex, const Status& s, int http_status = 0) {
    Answer(ex, HttpResponse::Error(s, http_status));
  }
  // Runs `job` on a worker; answers 503 when the queue is full (unless `admitted`: see
  // WorkQueue::Post).
  void OnWorker(const std::shared_ptr<HttpExchange>& ex, std::function<void()> job,
                bool admitted = false);
  // The allowed origin to echo for this request, or "".
  std::string AllowedOrigin(const HttpRequest& req) const;
  Result<Principal> Auth(const HttpRequest& req) const;

  void Preflight(const std::shared_ptr<HttpExchange>& ex);
  void Healthz(const std::shared_ptr<HttpExchange>& ex);
  void ServeMetrics(const std::shared_ptr<HttpExchange>& ex);
  void Schema(const std::shared_ptr<HttpExchange>& ex);
  void Push(const std::shared_ptr<HttpExchange>& ex);
  void Pull(const std::shared_ptr<HttpExchange>& ex);
  void Static(const std::shared_ptr<HttpExchange>& ex);

  struct PullJob;
  // `woken`: a parked long-poll's next attempt (already admitted).
  void Attempt(const std::shared_ptr<PullJob>& job, bool woken = false);
  void Park(const std::shared_ptr<PullJob>& job, const PullStart::Wait& wait);
  void Wake(const std::shared_ptr<PullJob>& job, uint64_t park);
  void Stream(const std::shared_ptr<PullJob>& job, std::unique_ptr<PullStream> stream);
};

// A pull in progress. Parked (waiting for a change, its deadline or being cut short), it holds
// no thread and no database connection: only this object, its timer and the connection.
struct App::PullJob {
  PullJob(std::shared_ptr<HttpExchange> e, Principal p, net::io_context& io)
      : ex(std::move(e)), who(std::move(p)), strand(net::make_strand(io)), timer(strand) {}
  std::shared_ptr<HttpExchange> ex;
  Principal who;  // PullStart refers to it
  std::unique_ptr<PullStart> start;
  std::unique_ptr<LongPolls::Ticket> ticket;  // while admitted as a long-poll
  // The parked wait's end. Timer and wake-ups run on the job's strand (I/O threads).
  net::strand<net::io_context::executor_type> strand;
  net::steady_timer timer;
  std::mutex mu;
  uint64_t park = 0;       // the current parked wait (0: not parked)
  uint64_t waiter = 0;     // its ChangeHub::WaitAsync id
  bool cut_short = false;  // a newer long-poll of the same client took its place
};

void App::Answer(const std::shared_ptr<HttpExchange>& ex, HttpResponse r) {
  std::string origin = AllowedOrigin(ex->request());
  if (!origin.empty()) {
    r.headers.emplace_back("Access-Control-Allow-Origin", origin);
    r.headers.emplace_back("Vary", "Origin");
  }
  if (r.status >= 400) ++metrics.errors;
  if (r.status == 429 || r.status == 503) ++metrics.overloaded;
  ex->Respond(std::move(r));
}

void App::OnWorker(const std::shared_ptr<HttpExchange>& ex, std::function<void()> job,
                   bool admitted) {
  if (!work->Post(std::move(job), admitted)) {
    Fail(ex, Status(Code::kUnavailable, "the server is busy: retry"), 503);
  }
}

std::string App::AllowedOrigin(const HttpRequest& req) const {
  if (config.allowed_origins.empty()) return {};
  std::string origin = req.Header("Origin");
  if (origin.empty()) return {};
  for (const auto& o : config.allowed_origins) {
    if (o == "*") return "*";
    if (o == origin) return origin;
  }
  return {};
}

Result<Principal> App::Auth(const HttpRequest& req) const {
  std::string h = req.Header("Authorization");
  const std::string prefix = "Bearer ";
  if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0) {
    return Status(Code::kUnauthorized, "missing Authorization: Bearer token");
  }
  return Authenticate(std::string_view(h).substr(prefix.size()), *config.key, *model, UnixNow());
}

void App::Handle(const std::shared_ptr<HttpExchange>& ex) {
  ++metrics.requests;
  const HttpRequest& req = ex->request();
  const bool get = req.method == "GET";
  if (req.method == "OPTIONS") return Preflight(ex);
  if (get && req.path == protocol::kHealthPath) return Healthz(ex);
  if (get && req.path == protocol::kSchemaPath) return Schema(ex);
  if (get && req.path == protocol::kPullPath) return Pull(ex);
  if (req.method == "POST" && req.path == protocol::kPushPath) return Push(ex);
  if (get && req.path == "/metrics") return ServeMetrics(ex);
  if (get && !static_files.empty()) return Static(ex);
  Fail(ex, Status(Code::kNotFound, "no such endpoint"));
}

// Cross-origin calls (CORS) from the configured origins: the preflight of a request with an
// Authorization header. Bearer tokens are not cookies: no credentials mode is needed.
void App::Preflight(const std::shared_ptr<HttpExchange>& ex) {
  std::string origin = AllowedOrigin(ex->request());
  if (origin.empty()) return Fail(ex, Status(Code::kPermissionDenied, "origin not allowed"));
  HttpResponse r;
  r.status = 204;
  r.headers = {{"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
               {"Access-Control-Allow-Headers", "Authorization, Content-Type"},
               {"Access-Control-Max-Age", "600"}};
  Answer(ex, std::move(r));
}

void App::Healthz(const std::shared_ptr<HttpExchange>& ex) {
  OnWorker(ex, [this, ex] {
    auto lease = pool->Acquire(std::chrono::seconds(5));
    if (lease.ok() && (*lease)->Exec("SELECT 1").ok()) {
      HttpResponse r;
      r.content_type = "application/json";
      r.body = "{\"status\":\"ok\"}";
      return Answer(ex, std::move(r));
    }
    Fail(ex, Status(Code::kUnavailable,
                    lease.ok() ? "database does not answer" : lease.status().message()));
  });
}

void App::ServeMetrics(const std::shared_ptr<HttpExchange>& ex) {
  std::string out;
  auto line = [&out](const char* name, const char* type, uint64_t v) {
    out +=
        std::string("# TYPE ") + name + " " + type + "\n" + name + " " + std::to_string(v) + "\n";
  };
  line("outpost_http_requests_total", "counter", metrics.requests);
  line("outpost_http_errors_total", "counter", metrics.errors);
  line("outpost_http_overloaded_total", "counter", metrics.overloaded);
  line("outpost_push_requests_total", "counter", metrics.pushes);
  line("outpost_pull_requests_total", "counter", metrics.pulls);
  line("outpost_long_poll_wakeups_total", "counter", metrics.long_poll_wakeups);
  line("outpost_http_connections", "gauge", http->open_connections());
  line("outpost_long_polls_waiting", "gauge", long_polls.waiting());
  line("outpost_worker_queue", "gauge", work->queued());
  line("outpost_workers_busy", "gauge", work->busy());
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = std::move(out);
  Answer(ex, std::move(r));
}

void App::Schema(const std::shared_ptr<HttpExchange>& ex) {
  auto who = Auth(ex->request());
  if (!who.ok()) return Fail(ex, who.status());
  HttpResponse r;
  r.content_type = "application/json";
  r.body = model->view_json();
  Answer(ex, std::move(r));
}

void App::Push(const std::shared_ptr<HttpExchange>& ex) {
  auto who = Auth(ex->request());
  if (!who.ok()) return Fail(ex, who.status());
  ++metrics.pushes;
  OnWorker(ex, [this, ex, who = std::move(who).value()] {
    auto lease = pool->Acquire();
    if (!lease.ok()) return Fail(ex, lease.status());
    auto results = HandlePush(**lease, *model, who, ex->request().body);
    if (!results.ok()) return Fail(ex, results.status());
#ifdef OUTPOST_TEST_FAULTS
    if (crash_after_push_commit) {
      std::cerr << "outpost-server: OUTPOST_FAULT=crash_after_push_commit" << std::endl;
      std::_Exit(70);
    }
#endif
    HttpResponse r;
    r.content_type = "application/json";
    r.body = protocol::EncodePushAnswer(*results);
    Answer(ex, std::move(r));
  });
}

void App::Pull(const std::shared_ptr<HttpExchange>& ex) {
  const HttpRequest& req = ex->request();
  auto who = Auth(req);
  if (!who.ok()) return Fail(ex, who.status());
  ++metrics.pulls;
  auto query = protocol::DecodePullQuery([&](std::string_view name) { return req.Param(name); });
  if (!query.ok()) return Fail(ex, query.status());
  auto job = std::make_shared<PullJob>(ex, std::move(who).value(), http->io());
  auto start = PullStart::Begin(*model, job->who, *query, Clock::now());
  if (!start.ok()) return Fail(ex, start.status());
  job->start = std::move(start).value();
  if (job->start->long_poll() && query->wait_seconds > 0) {
    int http_status = 0;
    std::weak_ptr<PullJob> weak = job;
    auto ticket = long_polls.Admit(
        req.Header("Authorization"), query->client_id.value_or(""),
        [this, weak] {
          auto j = weak.lock();
          if (!j) return;
          uint64_t park = 0;
          {
            std::lock_guard<std::mutex> lock(j->mu);
            j->cut_short = true;
            park = j->park;
          }
          if (park) net::post(j->strand, [this, j, park] { Wake(j, park); });
        },
        &http_status);
    if (!ticket.ok()) return Fail(ex, ticket.status(), http_status);
    job->ticket = std::move(ticket).value();
  }
  Attempt(job);
}

void App::Attempt(const std::shared_ptr<PullJob>& job, bool woken) {
  OnWorker(
      job->ex,
      [this, job] {
        PullStart::Wait wait;
        bool cut_short = false;
        {
          std::lock_guard<std::mutex> lock(job->mu);
          cut_short = job->cut_short;
        }
        auto stream = job->start->Attempt(*pool, *hub, stopping.load() || cut_short, &wait);
        if (!stream.ok()) return Fail(job->ex, stream.status());
        if (*stream) return Stream(job, std::move(stream).value());
        Park(job, wait);
      },
      woken);
}

// Waits, without a thread, for the tenant's change generation to move, the wait's time, or being
// cut short; whichever comes first wakes the job (once) for another attempt.
void App::Park(const std::shared_ptr<PullJob>& job, const PullStart::Wait& wait) {
  uint64_t park = 0;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    static std::atomic<uint64_t> next_park{1};
    park = job->park = next_park++;
    if (job->cut_short) {
      net::post(job->strand, [this, job, park] { Wake(job, park); });
      return;
    }
  }
  net::post(job->strand, [this, job, park, until = wait.until] {
    job->timer.expires_at(until);
    job->timer.async_wait([this, job, park](const boost::system::error_code& ec) {
      if (!ec) Wake(job, park);
    });
  });
  uint64_t waiter = hub->WaitAsync(
      job->who.tenant, wait.generation,
      [this, job, park] {
        ++metrics.long_poll_wakeups;
        net::post(job->strand, [this, job, park] { Wake(job, park); });
      },
      wait.blocked);
  std::lock_guard<std::mutex> lock(job->mu);
  if (job->park == park) job->waiter = waiter;
}

void App::Wake(const std::shared_ptr<PullJob>& job, uint64_t park) {
  uint64_t waiter = 0;
  {
    std::lock_guard<std::mutex> lock(job->mu);
    if (job->park != park) return;  // already woken
    job->park = 0;
    waiter = job->waiter;
    job->waiter = 0;
  }
  if (waiter) hub->CancelWait(waiter);
  job->timer.cancel();
  Attempt(job, /*woken=*/true);
}

// Streams the answer page by page on this worker; the stream holds its pooled connection (one
// snapshot for the whole answer) until it is done.
void App::Stream(const std::shared_ptr<PullJob>& job, std::unique_ptr<PullStream> stream) {
  job->ticket.reset();  // no longer waiting
  std::vector<std::pair<std::string, std::string>> headers;
  std::string origin = AllowedOrigin(job->ex->request());
  if (!origin.empty()) headers = {{"Access-Control-Allow-Origin", origin}, {"Vary", "Origin"}};
  if (!job->ex->StartStream(200, "application/x-ndjson", std::move(headers)).ok()) return;
  HttpExchange& ex = *job->ex;
  auto send = [&ex](std::string* out) -> Status {
    Status s = ex.WriteChunk(*out);
    out->clear();
    return s;
  };
  stream->set_flush(send);
  std::string buffer;
  while (true) {
    buffer.clear();
    auto more = stream->Next(&buffer);
    Status sent = more.ok() ? send(&buffer) : more.status();
    if (!sent.ok()) {
      // Cut the answer off without its cursor line: the client retries from its cursor.
      if (sent.code() != Code::kIoError) {
        std::cerr << "outpost-server: pull failed mid-stream: " << sent.ToString() << std::endl;
      }
      return ex.FinishStream(false);
    }
    if (!*more) return ex.FinishStream(true);
  }
}

void App::Static(const std::shared_ptr<HttpExchange>& ex) {
  OnWorker(ex, [this, ex] {
    auto file = static_files.Serve(ex->request().path);
    if (!file) return Fail(ex, Status(Code::kNotFound, "no such endpoint or file"));
    Answer(ex, std::move(*file));
  });
}

Status CheckConfig(const ServerConfig& config) {
  if (config.database.empty()) return Status(Code::kInvalidArgument, "--database is required");
  if (config.rules_path.empty()) return Status(Code::kInvalidArgument, "--rules is required");
  if (!config.key) {
    return Status(Code::kInvalidArgument,
                  "a token key is required: --hs256-secret, --hs256-secret-file or "
                  "--ed25519-public-key");
  }
  return Status::Ok();
}

// SIGTERM and SIGINT are taken by a dedicated thread (sigwait): blocked in every thread, which
// inherit the mask, so this runs before any thread starts. SIGPIPE is ignored (a client that went
// away is an error on its socket).
sigset_t BlockTerminationSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);
  return signals;
}

// Pages of rows come and go by the megabyte: keep freed memory instead of returning it to the
// kernel after every page (page faults cost more than the conversion).
void TuneAllocator() {
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

// Each connection is a file descriptor: raise the soft limit to the hard one, and warn when even
// that is below what --max-connections asks for.
void RaiseFileLimit(const ServerConfig& config) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0) return;
  if (lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  const rlim_t need = config.http.max_connections + config.pool + 64;
  if (lim.rlim_cur != RLIM_INFINITY && lim.rlim_cur < need) {
    std::cerr << "outpost-server: the open-file limit (" << lim.rlim_cur
              << ") is below --max-connections plus the pool; connections over it will wait "
                 "in the listen queue (raise ulimit -n)"
              << std::endl;
  }
}

// Describes the database, applies the rules, builds the model and installs change capture; then
// opens the connection pool, the LISTEN hub and the worker threads.
Status StartServices(App* app) {
  const ServerConfig& config = app->config;
  OUTPOST_ASSIGN_OR_RETURN(app->static_files, StaticFiles::Open(config.static_mounts));
  {
    OUTPOST_ASSIGN_OR_RETURN(auto conn, PgConnection::Connect(config.database));
    std::vector<std::string> notes;
    OUTPOST_ASSIGN_OR_RETURN(Schema described,
                             DescribeDatabase(conn.get(), config.pg_schema, &notes));
    OUTPOST_ASSIGN_OR_RETURN(std::string rules_text, ReadFileToString(config.rules_path));
    auto rules = ParseSyncRules(rules_text);
    if (!rules.ok()) return rules.status().WithContext(config.rules_path);
    auto model = ServerModel::Build(described, *rules, config.pg_schema);
    if (!model.ok()) return model.status().WithContext(config.rules_path);
    for (const auto& w : RuleWarnings(described, *rules)) {
      std::cerr << "outpost-server: warning: " << w.message << std::endl;
    }
    app->model = std::move(model).value();
    OUTPOST_RETURN_IF_ERROR(Install(*conn, *app->model));
  }
  app->pool = std::make_unique<PgPool>(config.database, config.pool);
  app->hub = std::make_unique<ChangeHub>(config.database);
  app->hub->Start();
  app->work = std::make_unique<WorkQueue>(config.pool, config.max_queued);
#ifdef OUTPOST_TEST_FAULTS
  const char* fault = std::getenv("OUTPOST_FAULT");
  app->crash_after_push_commit = fault && std::string(fault) == "crash_after_push_commit";
#endif
  return Status::Ok();
}

// Prunes the change history every prune_interval_seconds on a thread of its own, from
// construction until Stop (or destruction).
class HistoryPruner {
 public:
  explicit HistoryPruner(App& app) : app_(app), thread_([this] { Run(); }) {}
  ~HistoryPruner() { Stop(); }
  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    do {
      lock.unlock();
      PruneOnce();
      lock.lock();
    } while (!cv_.wait_for(lock, std::chrono::seconds(app_.config.prune_interval_seconds),
                           [&] { return stop_; }));
  }

  void PruneOnce() {
    auto lease = app_.pool->Acquire();
    auto r = lease.ok()
                 ? (*lease)->Exec("SELECT _outpost.mark_and_prune(make_interval(secs => $1))",
                                  {std::to_string(app_.config.retention_seconds)})
                 : Result<PgResult>(lease.status());
    if (!r.ok()) {
      std::cerr << "outpost-server: pruning failed: " << r.status().ToString() << std::endl;
    }
  }

  App& app_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Status RunServer(const ServerConfig& config) {
  OUTPOST_RETURN_IF_ERROR(CheckConfig(config));
  sigset_t signals = BlockTerminationSignals();
  TuneAllocator();
  RaiseFileLimit(config);

  App app(config);
  OUTPOST_RETURN_IF_ERROR(StartServices(&app));
  app.http = std::make_unique<HttpServer>(
      config.http, [&app](std::shared_ptr<HttpExchange> ex) { app.Handle(ex); });
  OUTPOST_ASSIGN_OR_RETURN(int port, app.http->Bind(config.host, config.port));
  HistoryPruner pruner(app);
  app.http->Start(config.io_threads);

  std::cout << "listening on http://" << config.host << ":" << port << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  // Stop accepting; long-polls wake and answer at once (an empty page); answers in progress
  // finish; then the workers drain.
  app.stopping = true;
  app.hub->Stop();
  app.http->Stop();
  app.work->Stop();
  pruner.Stop();
  return Status::Ok();
}

}  // namespace outpost::server
