// The HTTP/1.1 layer of outpost-server (docs/server.md, "Connections and limits"): an
// event-driven server over Boost.Beast. Waiting connections (idle keep-alives, slow clients,
// long-polls parked by the application) cost memory, not threads: a few I/O threads run every
// socket; the application's handlers hand blocking work to threads of their own.
//
// Limits are enforced before the application sees a request: connection count (503), a total
// deadline for a request's headers counted from its first byte (not reset by each byte), header
// bytes and field count (431), body bytes counted as they are read, chunked bodies included
// (413), a deadline for the body, no compressed bodies (400), one request at a time per
// connection. Error answers carry the protocol's JSON error body.
//
// Threading: Start/Stop from one controlling thread. Handlers are called on an I/O thread and
// must not block; an Exchange may be answered from any thread, but its blocking stream calls
// (StartStream, WriteChunk) must never be made on an I/O thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "outpost/status.h"

namespace boost::asio {
class io_context;
}

namespace outpost::server {

struct HttpLimits {
  size_t max_connections = 10000;    // open client connections; more get 503 and are closed
  size_t max_header_bytes = 16384;   // request line and header fields
  size_t max_header_fields = 64;     // header fields per request
  size_t max_body_bytes = 8u << 20;  // decoded body bytes (Content-Length or chunked)
  std::chrono::milliseconds header_timeout{10000};  // first byte to the end of the headers
  std::chrono::milliseconds body_timeout{60000};    // end of the headers to the end of the body
  std::chrono::milliseconds idle_timeout{75000};    // keep-alive: waiting for the next request
  std::chrono::milliseconds write_timeout{60000};   // each write of an answer (one chunk)
};

// A request as the application sees it: complete, within the limits.
struct HttpRequest {
  std::string method;                                        // "GET", "POST", ...
  std::string path;                                          // percent-decoded, no query
  std::vector<std::pair<std::string, std::string>> params;   // query, percent-decoded
  std::vector<std::pair<std::string, std::string>> headers;  // as received
  std::string body;
  std::string peer;  // remote address

  // The first value of header `name` (case-insensitive), or "".
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
  // The first value of query parameter `name`, or nullopt.
  std::optional<std::string> Param(std::string_view name) const;
};

struct HttpResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;

  // The protocol's JSON error answer for `s` (status from protocol::HttpStatusOf unless given).
  static HttpResponse Error(const Status& s, int http_status = 0);
};

// One request and the channel to answer it. Exactly one of: Respond, or StartStream followed by
// WriteChunk calls and FinishStream. Until then the connection reads nothing more (and a parked
// long-poll holds nothing but this object). Dropping the last reference without answering
// closes the connection.
class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const HttpRequest& request() const = 0;

  // Sends a whole answer. Any thread; does not block.
  virtual void Respond(HttpResponse response) = 0;

  // A streamed answer (chunked transfer encoding). Blocking, on a non-I/O thread; each waits
  // until its bytes are written. Errors: kIoError (the client went away or stopped reading
  // within write_timeout; the connection is then closed).
  virtual Status StartStream(int status, std::string content_type,
                             std::vector<std::pair<std::string, std::string>> headers) = 0;
  virtual Status WriteChunk(std::string_view data) = 0;
  // `complete`: ends the answer properly (last chunk); otherwise cuts it off by closing the
  // connection, so the client sees an incomplete answer. Does not block.
  virtual void FinishStream(bool complete) = 0;
};

// Receives each request; called on an I/O thread, must not block.
using HttpHandler = std::function<void(std::shared_ptr<HttpExchange>)>;

class HttpServer {
 public:
  HttpServer(HttpLimits limits, HttpHandler handler);
  ~HttpServer();  // Stop()s
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Listens on host:port (0: a free port); returns the port. Errors: kIoError.
  Result<int> Bind(const std::string& host, int port);
  // Runs `io_threads` I/O threads; returns at once.
  void Start(size_t io_threads);
  // Stops accepting, closes idle connections, lets answers in progress finish (they close their
  // connection afterwards) and joins the I/O threads once every connection has gone, or
  // `grace` has passed (then the rest are cut off).
  void Stop(std::chrono::milliseconds grace = std::chrono::milliseconds(30000));

  // For timers of the application (e.g. long-poll deadlines); valid until destruction.
  boost::asio::io_context& io();

  size_t open_connections() const;

 private:
  friend class Connection;  // http_server.cc
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace outpost::server
