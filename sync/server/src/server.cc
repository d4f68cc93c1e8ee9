// The HTTP server of `outpost-server serve`: start-up, routes, history pruning and shutdown.
#include "server.h"

#include <httplib.h>
#include <malloc.h>
#include <signal.h>

#include <atomic>
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

namespace outpost::server {

namespace {

using nlohmann::json;

Result<long long> ParseNumber(const std::string& key, const std::string& value, long long min) {
  size_t used = 0;
  long long v = 0;
  bool ok = !value.empty();
  if (ok) {
    try {
      v = std::stoll(value, &used);
    } catch (const std::exception&) {
      ok = false;
    }
  }
  if (!ok || used != value.size() || v < min) {
    return Status(Code::kInvalidArgument,
                  "--" + key + " must be an integer >= " + std::to_string(min));
  }
  return v;
}

// The non-empty items of a comma-separated list.
std::vector<std::string> SplitList(const std::string& value) {
  std::vector<std::string> items;
  size_t start = 0;
  while (start <= value.size()) {
    size_t comma = value.find(',', start);
    if (comma == std::string::npos) comma = value.size();
    if (comma > start) items.push_back(value.substr(start, comma - start));
    start = comma + 1;
  }
  return items;
}

// An error answer: the protocol's status and JSON body for `s`.
void SendStatus(httplib::Response& res, const Status& s) {
  res.status = protocol::HttpStatusOf(s.code());
  res.set_content(protocol::EncodeErrorBody(s), "application/json");
}

// What the routes share. Built by StartServices, immutable afterwards but for `stopping`.
struct App {
  explicit App(const ServerConfig& c) : config(c) {}
  const ServerConfig& config;
  std::unique_ptr<ServerModel> model;
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<ChangeHub> hub;
  std::atomic<bool> stopping{false};
#ifdef OUTPOST_TEST_FAULTS
  // Test builds only (outpost-server-faults): OUTPOST_FAULT=crash_after_push_commit exits the
  // process after a push committed and before it is answered.
  bool crash_after_push_commit = false;
#endif

  Result<Principal> Auth(const httplib::Request& req) const {
    std::string h = req.get_header_value("Authorization");
    const std::string prefix = "Bearer ";
    if (h.size() <= prefix.size() || h.compare(0, prefix.size(), prefix) != 0) {
      return Status(Code::kUnauthorized, "missing Authorization: Bearer token");
    }
    return Authenticate(std::string_view(h).substr(prefix.size()), *config.key, *model, UnixNow());
  }

  void Healthz(httplib::Response& res) {
    auto lease = pool->Acquire(std::chrono::seconds(5));
    if (lease.ok() && (*lease)->Exec("SELECT 1").ok()) {
      res.set_content("{\"status\":\"ok\"}", "application/json");
      return;
    }
    SendStatus(res, Status(Code::kUnavailable,
                           lease.ok() ? "database does not answer" : lease.status().message()));
  }

  void Schema(const httplib::Request& req, httplib::Response& res) {
    auto who = Auth(req);
    if (!who.ok()) return SendStatus(res, who.status());
    res.set_content(model->view_json(), "application/json");
  }

  void Pull(const httplib::Request& req, httplib::Response& res) {
    auto who = Auth(req);
    if (!who.ok()) return SendStatus(res, who.status());
    auto query = protocol::DecodePullQuery([&](std::string_view name) {
      std::string key(name);
      return req.has_param(key) ? std::optional<std::string>(req.get_param_value(key))
                                : std::nullopt;
    });
    if (!query.ok()) return SendStatus(res, query.status());
    auto stream = StartPull(*pool, *hub, *model, *who, *query, stopping);
    if (!stream.ok()) return SendStatus(res, stream.status());
    std::shared_ptr<PullStream> s(std::move(stream).value());
    auto buffer = std::make_shared<std::string>();
    res.set_chunked_content_provider("application/x-ndjson", [s, buffer](size_t,
                                                                         httplib::DataSink& sink) {
      // Sends in slices so that httplib's per-chunk copies stay small.
      auto send = [&sink](std::string* out) -> Status {
        for (size_t at = 0; at < out->size(); at += kFlushBytes) {
          size_t n = std::min(kFlushBytes, out->size() - at);
          if (!sink.write(out->data() + at, n)) {
            return Status(Code::kIoError, "client went away");
          }
        }
        out->clear();
        return Status::Ok();
      };
      s->set_flush(send);
      buffer->clear();
      auto more = s->Next(buffer.get());
      Status sent = more.ok() ? send(buffer.get()) : more.status();
      if (!sent.ok()) {
        // Cut the answer off without its cursor line: the client retries from its cursor.
        if (sent.code() != Code::kIoError) {
          std::cerr << "outpost-server: pull failed mid-stream: " << sent.ToString() << std::endl;
        }
        return false;
      }
      if (!*more) sink.done();
      return true;
    });
  }

  void Push(const httplib::Request& req, httplib::Response& res) {
    auto who = Auth(req);
    if (!who.ok()) return SendStatus(res, who.status());
    auto lease = pool->Acquire();
    if (!lease.ok()) return SendStatus(res, lease.status());
    auto results = HandlePush(**lease, *model, *who, req.body);
    if (!results.ok()) return SendStatus(res, results.status());
#ifdef OUTPOST_TEST_FAULTS
    if (crash_after_push_commit) {
      std::cerr << "outpost-server: OUTPOST_FAULT=crash_after_push_commit" << std::endl;
      std::_Exit(70);
    }
#endif
    res.set_content(protocol::EncodePushAnswer(*results), "application/json");
  }
};

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

// Describes the database, applies the rules, builds the model and installs change capture; then
// opens the connection pool and the LISTEN hub.
Status StartServices(App* app) {
  const ServerConfig& config = app->config;
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
    app->model = std::move(model).value();
    OUTPOST_RETURN_IF_ERROR(Install(*conn, *app->model));
  }
  app->pool = std::make_unique<PgPool>(config.database, config.pool);
  app->hub = std::make_unique<ChangeHub>(config.database);
  app->hub->Start();
#ifdef OUTPOST_TEST_FAULTS
  const char* fault = std::getenv("OUTPOST_FAULT");
  app->crash_after_push_commit = fault && std::string(fault) == "crash_after_push_commit";
#endif
  return Status::Ok();
}

void ConfigureHttp(const ServerConfig& config, httplib::Server* svr) {
  size_t threads = config.threads ? config.threads : std::max<size_t>(64, 8 * config.pool);
  svr->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr->set_payload_max_length(config.max_body);
  svr->set_keep_alive_timeout(2);
  // A sync client sends many small requests on one connection (push, then pull); closing it every
  // few requests (httplib's default is 5) costs a TCP handshake each time.
  svr->set_keep_alive_max_count(100000);
  // Responses are small and latency-bound (a long-poll answer): Nagle plus the peer's delayed ACK
  // would hold the last segment for ~40 ms.
  svr->set_tcp_nodelay(true);
  svr->set_read_timeout(30);
  svr->set_write_timeout(120);
  svr->set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      SendStatus(res, Status(Code::kNotFound, "no such endpoint"));
    } else if (res.status == 413) {
      SendStatus(res, Status(Code::kPayloadTooLarge, "request body over the limit"));
    } else if (res.status == 400) {
      SendStatus(res, Status(Code::kMalformedRequest, "bad HTTP request"));
    } else if (res.status >= 500) {
      const int http = res.status;
      SendStatus(res, Status(Code::kInternal, "HTTP error " + std::to_string(http)));
      res.status = http;
    }
  });
  svr->set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        }
        SendStatus(res, Status(Code::kInternal, what));
      });
}

// Static files: the mounts, their content types (a module worker and WebAssembly need the right
// ones) and no caching (a new build is picked up at the next load).
Status MountStatic(const ServerConfig& config, httplib::Server* svr) {
  for (const auto& [ext, type] :
       std::vector<std::pair<const char*, const char*>>{{"html", "text/html; charset=utf-8"},
                                                        {"js", "text/javascript; charset=utf-8"},
                                                        {"mjs", "text/javascript; charset=utf-8"},
                                                        {"css", "text/css; charset=utf-8"},
                                                        {"json", "application/json"},
                                                        {"wasm", "application/wasm"},
                                                        {"svg", "image/svg+xml"},
                                                        {"png", "image/png"},
                                                        {"ico", "image/x-icon"},
                                                        {"txt", "text/plain; charset=utf-8"},
                                                        {"ts", "text/plain; charset=utf-8"},
                                                        {"md", "text/plain; charset=utf-8"}}) {
    svr->set_file_extension_and_mimetype_mapping(ext, type);
  }
  for (const auto& mount : config.static_mounts) {
    if (!svr->set_mount_point(mount.prefix, mount.directory)) {
      return Status(Code::kInvalidArgument,
                    "--static: " + mount.directory + " is not a readable directory");
    }
  }
  svr->set_file_request_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Content-Type-Options", "nosniff");
  });
  return Status::Ok();
}

// Cross-origin calls (CORS) from the configured origins: the preflight of a request with an
// Authorization header, and the header that lets the page read the answer. Bearer tokens are not
// cookies: no credentials mode is needed.
void AllowOrigins(const ServerConfig& config, httplib::Server* svr) {
  if (config.allowed_origins.empty()) return;
  auto allowed = [origins = config.allowed_origins](const std::string& origin) -> std::string {
    for (const auto& o : origins) {
      if (o == "*") return "*";
      if (o == origin) return origin;
    }
    return {};
  };
  svr->Options("/.*", [allowed](const httplib::Request& req, httplib::Response& res) {
    std::string origin = allowed(req.get_header_value("Origin"));
    if (origin.empty()) {
      return SendStatus(res, Status(Code::kPermissionDenied, "origin not allowed"));
    }
    res.status = 204;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS");
    res.set_header("Access-Control-Allow-Headers", "Authorization, Content-Type");
    res.set_header("Access-Control-Max-Age", "600");
    res.set_header("Vary", "Origin");
  });
  svr->set_post_routing_handler([allowed](const httplib::Request& req, httplib::Response& res) {
    if (!req.has_header("Origin")) return;
    std::string origin = allowed(req.get_header_value("Origin"));
    if (origin.empty()) return;
    res.set_header("Access-Control-Allow-Origin", origin);
    res.set_header("Vary", "Origin");
  });
}

void Route(App& app, httplib::Server* svr) {
  svr->Get(std::string(protocol::kHealthPath),
           [&](const httplib::Request&, httplib::Response& res) { app.Healthz(res); });
  svr->Get(std::string(protocol::kSchemaPath),
           [&](const httplib::Request& req, httplib::Response& res) { app.Schema(req, res); });
  svr->Get(std::string(protocol::kPullPath),
           [&](const httplib::Request& req, httplib::Response& res) { app.Pull(req, res); });
  svr->Post(std::string(protocol::kPushPath),
            [&](const httplib::Request& req, httplib::Response& res) { app.Push(req, res); });
}

// Binds the listening socket; returns the port (chosen by the system for port 0).
Result<int> Bind(const ServerConfig& config, httplib::Server* svr) {
  if (config.port == 0) {
    int port = svr->bind_to_any_port(config.host);
    if (port < 0) return Status(Code::kIoError, "cannot listen on " + config.host);
    return port;
  }
  if (!svr->bind_to_port(config.host, config.port)) {
    return Status(Code::kIoError,
                  "cannot listen on " + config.host + ":" + std::to_string(config.port));
  }
  return config.port;
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

Status ApplyConfigOption(const std::string& key, const std::string& value, ServerConfig* c) {
  if (key == "database") {
    c->database = value;
  } else if (key == "rules") {
    c->rules_path = value;
  } else if (key == "pg-schema") {
    c->pg_schema = value;
  } else if (key == "listen") {
    size_t colon = value.rfind(':');
    if (colon == std::string::npos || colon == 0) {
      return Status(Code::kInvalidArgument, "--listen must be HOST:PORT");
    }
    c->host = value.substr(0, colon);
    OUTPOST_ASSIGN_OR_RETURN(long long port, ParseNumber(key, value.substr(colon + 1), 0));
    if (port > 65535) return Status(Code::kInvalidArgument, "--listen port out of range");
    c->port = static_cast<int>(port);
  } else if (key == "hs256-secret") {
    if (value.size() < 16) {
      return Status(Code::kInvalidArgument, "--hs256-secret must be at least 16 bytes");
    }
    c->key = JwtKey::Hs256(value);
  } else if (key == "hs256-secret-file") {
    OUTPOST_ASSIGN_OR_RETURN(std::string secret, ReadFileToString(value));
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) secret.pop_back();
    return ApplyConfigOption("hs256-secret", secret, c);
  } else if (key == "ed25519-public-key") {
    OUTPOST_ASSIGN_OR_RETURN(JwtKey k, JwtKey::Ed25519PublicKey(value));
    c->key = std::move(k);
  } else if (key == "pool") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->pool = static_cast<size_t>(n);
  } else if (key == "threads") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->threads = static_cast<size_t>(n);
  } else if (key == "max-body") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1024));
    c->max_body = static_cast<size_t>(n);
  } else if (key == "retention-seconds") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->retention_seconds = n;
  } else if (key == "prune-interval-seconds") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->prune_interval_seconds = n;
  } else if (key == "static") {
    for (const std::string& item : SplitList(value)) {
      size_t eq = item.find('=');
      ServerConfig::StaticMount mount{"/", item};
      if (eq != std::string::npos) mount = {item.substr(0, eq), item.substr(eq + 1)};
      if (mount.prefix.empty() || mount.prefix[0] != '/' || mount.directory.empty()) {
        return Status(Code::kInvalidArgument, "--static takes [/PREFIX=]DIR, separated by commas");
      }
      c->static_mounts.push_back(std::move(mount));
    }
  } else if (key == "allow-origin") {
    for (const std::string& origin : SplitList(value)) {
      const bool web = origin.rfind("http://", 0) == 0 || origin.rfind("https://", 0) == 0;
      if (origin != "*" && (!web || origin.back() == '/')) {
        return Status(Code::kInvalidArgument,
                      "--allow-origin takes origins like https://app.example.com (no path), or *");
      }
      c->allowed_origins.push_back(origin);
    }
  } else {
    return Status(Code::kInvalidArgument, "unknown option --" + key);
  }
  return Status::Ok();
}

Status RunServer(const ServerConfig& config) {
  OUTPOST_RETURN_IF_ERROR(CheckConfig(config));
  sigset_t signals = BlockTerminationSignals();
  TuneAllocator();

  App app(config);
  OUTPOST_RETURN_IF_ERROR(StartServices(&app));
  httplib::Server svr;
  ConfigureHttp(config, &svr);
  Route(app, &svr);
  OUTPOST_RETURN_IF_ERROR(MountStatic(config, &svr));
  AllowOrigins(config, &svr);
  OUTPOST_ASSIGN_OR_RETURN(int port, Bind(config, &svr));
  HistoryPruner pruner(app);

  // On SIGTERM/SIGINT: stop accepting, and wake long-polls, which then answer at once.
  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    app.stopping = true;
    svr.stop();
    app.hub->Stop();
  });

  std::cout << "listening on http://" << config.host << ":" << port << std::endl;
  svr.listen_after_bind();  // returns once stopped; in-flight requests have finished
  bool by_signal = app.stopping.exchange(true);
  if (!by_signal) kill(getpid(), SIGTERM);  // listening ended on its own: release signal_thread
  signal_thread.join();
  pruner.Stop();
  app.hub->Stop();
  if (!by_signal) return Status(Code::kIoError, "the HTTP server stopped unexpectedly");
  return Status::Ok();
}

}  // namespace outpost::server
