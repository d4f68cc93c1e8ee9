// The HTTP server of `outpost-server serve` (docs/protocol.md; docs/server.md).
//
// Threading: RunServer blocks the calling thread until the process gets SIGTERM or SIGINT. Sockets
// are served by a few I/O threads (http_server.h); PostgreSQL work runs on `pool` worker threads
// (one per pooled connection) fed by a bounded queue; one thread holds the LISTEN connection,
// one prunes history and one waits for the signals. SIGTERM/SIGINT must not be handled elsewhere
// in the process.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "http_server.h"
#include "jwt.h"
#include "long_polls.h"
#include "outpost/protocol.h"
#include "outpost/status.h"
#include "static_files.h"

namespace outpost::server {

struct ServerConfig {
  std::string database;  // libpq URL
  std::string rules_path;
  std::string pg_schema = "public";
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::optional<JwtKey> key;
  size_t pool = 8;           // PostgreSQL connections for requests, and as many worker threads
  size_t io_threads = 2;     // threads serving the sockets
  size_t max_queued = 1024;  // requests waiting for a worker; more are answered 503
  HttpLimits http;           // connections, header and body limits, timeouts
  LongPolls::Limits long_polls;
  int64_t retention_seconds = 7 * 24 * 3600;  // change history kept
  int64_t prune_interval_seconds = 60;
  // Static files served by GET under a URL prefix (a web app next to its sync endpoint, on the
  // same origin): {prefix, directory}.
  using StaticMount = StaticFiles::Mount;
  std::vector<StaticMount> static_mounts;
  // Web origins ("https://app.example.com", or "*") whose pages may call the sync endpoints from
  // another origin (CORS). Empty: none.
  std::vector<std::string> allowed_origins;
};

// Sets one option of `config` by its command-line name ("database", "rules", "listen",
// "hs256-secret", "hs256-secret-file", "ed25519-public-key", "pool", "io-threads", "max-queued",
// "max-connections", "max-body", "max-header-bytes", "max-header-fields",
// "header-timeout-ms", "body-timeout-ms", "idle-timeout-ms", "write-timeout-ms",
// "long-polls-per-token", "long-polls-per-client", "max-long-polls", "retention-seconds",
// "prune-interval-seconds", "pg-schema", "static" ([PREFIX=]DIR, several separated by commas),
// "allow-origin" (origins separated by commas)); a --config file's keys are the same names.
// Errors: kInvalidArgument.
Status ApplyConfigOption(const std::string& key, const std::string& value, ServerConfig* config);

// Starts up (connect, describe, rules, model, install capture), listens, prints
// "listening on http://HOST:PORT" on stdout, and serves until SIGTERM/SIGINT: then stops
// accepting, wakes long-polls, lets in-flight requests finish and returns OK. Errors at start-up
// are returned (the process should exit non-zero).
Status RunServer(const ServerConfig& config);

}  // namespace outpost::server
