// The HTTP server of `outpost-server serve` (docs/protocol.md; docs/server.md).
//
// Threading: RunServer blocks the calling thread until SIGTERM or SIGINT (or Shutdown()); it
// serves requests on a pool of worker threads (httplib), holds one LISTEN connection on its own
// thread and prunes history on another. SIGTERM/SIGINT must not be handled elsewhere.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "jwt.h"
#include "outpost/status.h"

namespace outpost::server {

struct ServerConfig {
  std::string database;  // libpq URL
  std::string rules_path;
  std::string pg_schema = "public";
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  std::optional<JwtKey> key;
  size_t pool = 8;                            // PostgreSQL connections for requests
  size_t threads = 0;                         // HTTP workers; 0: max(64, 8 * pool)
  size_t max_body = 8u << 20;                 // bytes
  int64_t retention_seconds = 7 * 24 * 3600;  // change history kept
  int64_t prune_interval_seconds = 60;
};

// Builds `config` from a JSON object with the command-line keys ("database", "rules", "listen",
// "hs256-secret", "hs256-secret-file", "ed25519-public-key", "pool", "max-body",
// "retention-seconds", "pg-schema"), values as strings or numbers. Errors: kInvalidArgument.
Status ApplyConfigOption(const std::string& key, const std::string& value, ServerConfig* config);

// Starts up (connect, describe, rules, model, install capture), listens, prints
// "listening on http://HOST:PORT" on stdout, and serves until SIGTERM/SIGINT: then stops
// accepting, wakes long-polls, lets in-flight requests finish and returns OK. Errors at start-up
// are returned (the process should exit non-zero).
Status RunServer(const ServerConfig& config);

}  // namespace outpost::server
