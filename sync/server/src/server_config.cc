// outpost-server serve's options, from the command line or a --config file (server.h).
#include <string>
#include <vector>

#include "outpost/file.h"
#include "server.h"

namespace outpost::server {

namespace {

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
  } else if (key == "io-threads" || key == "threads") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->io_threads = static_cast<size_t>(n);
  } else if (key == "max-queued") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->max_queued = static_cast<size_t>(n);
  } else if (key == "max-connections") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->http.max_connections = static_cast<size_t>(n);
  } else if (key == "max-body") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1024));
    c->http.max_body_bytes = static_cast<size_t>(n);
  } else if (key == "max-header-bytes") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1024));
    c->http.max_header_bytes = static_cast<size_t>(n);
  } else if (key == "max-header-fields") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 8));
    c->http.max_header_fields = static_cast<size_t>(n);
  } else if (key == "header-timeout-ms") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 10));
    c->http.header_timeout = std::chrono::milliseconds(n);
  } else if (key == "body-timeout-ms") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 10));
    c->http.body_timeout = std::chrono::milliseconds(n);
  } else if (key == "idle-timeout-ms") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 10));
    c->http.idle_timeout = std::chrono::milliseconds(n);
  } else if (key == "write-timeout-ms") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 10));
    c->http.write_timeout = std::chrono::milliseconds(n);
  } else if (key == "long-polls-per-token") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->long_polls.per_token = static_cast<size_t>(n);
  } else if (key == "long-polls-per-client") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->long_polls.per_client = static_cast<size_t>(n);
  } else if (key == "max-long-polls") {
    OUTPOST_ASSIGN_OR_RETURN(long long n, ParseNumber(key, value, 1));
    c->long_polls.total = static_cast<size_t>(n);
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

}  // namespace outpost::server
