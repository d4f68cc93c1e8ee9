#include "server.h"

#include <httplib.h>
#include <malloc.h>
#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <iostream>

#include "catalog.h"
#include "install.h"
#include "outpost/file.h"
#include "pool.h"
#include "pull.h"
#include "push.h"

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

int HttpStatus(Code code) {
  switch (code) {
    case Code::kMalformedRequest:
    case Code::kUnknownTable:
    case Code::kUnknownColumn:
    case Code::kInvalidValue:
    case Code::kInvalidCursor: return 400;
    case Code::kUnauthorized: return 401;
    case Code::kForbidden:
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kSchemaMismatch: return 409;
    case Code::kCursorExpired: return 410;
    case Code::kPayloadTooLarge: return 413;
    case Code::kUnavailable: return 503;
    default: return 500;
  }
}

void SendError(httplib::Response& res, int http, std::string_view code, std::string message) {
  res.status = http;
  json body = {{"error", {{"code", code}, {"message", std::move(message)}}}};
  res.set_content(body.dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

void SendStatus(httplib::Response& res, const Status& s) {
  int http = HttpStatus(s.code());
  if (http == 500) {
    SendError(res, 500, "internal", s.ToString());
  } else {
    SendError(res, http, s.code_name(), s.message());
  }
}

struct App {
  explicit App(const ServerConfig& c) : config(c) {}
  const ServerConfig& config;
  std::unique_ptr<ServerModel> model;
  std::unique_ptr<PgPool> pool;
  std::unique_ptr<ChangeHub> hub;
  std::atomic<bool> stopping{false};
  bool crash_after_push_commit = false;

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
    SendError(res, 503, "unavailable",
              lease.ok() ? "database does not answer" : lease.status().message());
  }

  void Schema(const httplib::Request& req, httplib::Response& res) {
    auto who = Auth(req);
    if (!who.ok()) return SendStatus(res, who.status());
    res.set_content(model->view_json(), "application/json");
  }

  void Pull(const httplib::Request& req, httplib::Response& res) {
    auto who = Auth(req);
    if (!who.ok()) return SendStatus(res, who.status());
    auto param = [&](const char* name) -> std::optional<std::string> {
      if (!req.has_param(name)) return std::nullopt;
      return req.get_param_value(name);
    };
    auto schema = param("schema"), cursor = param("cursor"), limit = param("limit"),
         wait = param("wait");
    auto request = ParsePullRequest(schema ? &*schema : nullptr, cursor ? &*cursor : nullptr,
                                    limit ? &*limit : nullptr, wait ? &*wait : nullptr);
    if (!request.ok()) return SendStatus(res, request.status());
    auto stream = StartPull(*pool, *hub, *model, *who, *request, stopping);
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
    auto answer = HandlePush(**lease, *model, *who, req.body);
    if (!answer.ok()) return SendStatus(res, answer.status());
    if (crash_after_push_commit) {
      std::cerr << "outpost-server: OUTPOST_FAULT=crash_after_push_commit" << std::endl;
      std::_Exit(70);
    }
    res.set_content(answer->dump(-1, ' ', false, json::error_handler_t::replace),
                    "application/json");
  }
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
  } else {
    return Status(Code::kInvalidArgument, "unknown option --" + key);
  }
  return Status::Ok();
}

Status RunServer(const ServerConfig& config) {
  if (config.database.empty()) return Status(Code::kInvalidArgument, "--database is required");
  if (config.rules_path.empty()) return Status(Code::kInvalidArgument, "--rules is required");
  if (!config.key) {
    return Status(Code::kInvalidArgument,
                  "a token key is required: --hs256-secret, --hs256-secret-file or "
                  "--ed25519-public-key");
  }
  // Signals are taken by a dedicated thread (sigwait): block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  // Pages of rows come and go by the megabyte: keep freed memory instead of returning it to the
  // kernel after every page (page faults cost more than the conversion).
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);

  App app(config);
  const char* fault = std::getenv("OUTPOST_FAULT");
  app.crash_after_push_commit = fault && std::string(fault) == "crash_after_push_commit";
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
    app.model = std::move(model).value();
    OUTPOST_RETURN_IF_ERROR(Install(*conn, *app.model));
  }
  app.pool = std::make_unique<PgPool>(config.database, config.pool);
  app.hub = std::make_unique<ChangeHub>(config.database);
  app.hub->Start();

  httplib::Server svr;
  size_t threads = config.threads ? config.threads : std::max<size_t>(64, 8 * config.pool);
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  svr.set_payload_max_length(config.max_body);
  svr.set_keep_alive_timeout(2);
  // A sync client sends many small requests on one connection (push, then pull); closing it every
  // few requests (httplib's default is 5) costs a TCP handshake each time.
  svr.set_keep_alive_max_count(100000);
  // Responses are small and latency-bound (a long-poll answer): Nagle plus the peer's delayed ACK
  // would hold the last segment for ~40 ms.
  svr.set_tcp_nodelay(true);
  svr.set_read_timeout(30);
  svr.set_write_timeout(120);
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    if (res.status == 404) {
      SendError(res, 404, "not_found", "no such endpoint");
    } else if (res.status == 413) {
      SendError(res, 413, "payload_too_large", "request body over the limit");
    } else if (res.status == 400) {
      SendError(res, 400, "malformed_request", "bad HTTP request");
    } else if (res.status >= 500) {
      SendError(res, res.status, "internal", "HTTP error " + std::to_string(res.status));
    }
  });
  svr.set_exception_handler(
      [](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
        std::string what = "unknown exception";
        try {
          std::rethrow_exception(ep);
        } catch (const std::exception& e) {
          what = e.what();
        }
        SendError(res, 500, "internal", what);
      });
  svr.Get("/healthz", [&](const httplib::Request&, httplib::Response& res) { app.Healthz(res); });
  svr.Get("/v1/schema",
          [&](const httplib::Request& req, httplib::Response& res) { app.Schema(req, res); });
  svr.Get("/v1/pull",
          [&](const httplib::Request& req, httplib::Response& res) { app.Pull(req, res); });
  svr.Post("/v1/push",
           [&](const httplib::Request& req, httplib::Response& res) { app.Push(req, res); });

  int port = config.port;
  if (port == 0) {
    port = svr.bind_to_any_port(config.host);
    if (port < 0) return Status(Code::kIoError, "cannot listen on " + config.host);
  } else if (!svr.bind_to_port(config.host, port)) {
    return Status(Code::kIoError,
                  "cannot listen on " + config.host + ":" + std::to_string(config.port));
  }

  // History pruning, every prune_interval_seconds.
  std::mutex prune_mu;
  std::condition_variable prune_cv;
  std::thread pruner([&] {
    std::unique_lock<std::mutex> lock(prune_mu);
    do {
      lock.unlock();
      {
        auto lease = app.pool->Acquire();
        auto r = lease.ok()
                     ? (*lease)->Exec("SELECT _outpost.mark_and_prune(make_interval(secs => $1))",
                                      {std::to_string(config.retention_seconds)})
                     : Result<PgResult>(lease.status());
        if (!r.ok()) {
          std::cerr << "outpost-server: pruning failed: " << r.status().ToString() << std::endl;
        }
      }
      lock.lock();
    } while (!prune_cv.wait_for(lock, std::chrono::seconds(config.prune_interval_seconds),
                                [&] { return app.stopping.load(); }));
  });

  std::thread signal_thread([&] {
    int sig = 0;
    sigwait(&signals, &sig);
    app.stopping = true;
    svr.stop();
    app.hub->Stop();  // wakes long-polls, which answer at once
    prune_cv.notify_all();
  });

  std::cout << "listening on http://" << config.host << ":" << port << std::endl;
  svr.listen_after_bind();
  bool by_signal = app.stopping.exchange(true);
  if (!by_signal) kill(getpid(), SIGTERM);  // listening ended on its own: release signal_thread
  signal_thread.join();
  { std::lock_guard<std::mutex> lock(prune_mu); }
  prune_cv.notify_all();
  pruner.join();
  app.hub->Stop();
  if (!by_signal) return Status(Code::kIoError, "the HTTP server stopped unexpectedly");
  return Status::Ok();
}

}  // namespace outpost::server
