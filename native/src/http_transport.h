// HttpTransport: the native Transport of the sync session, over cpp-httplib (HTTP/1.1,
// keep-alive, one connection reused across requests).
//
// Bodies of 2xx answers are streamed: each complete line goes to the session as it arrives, so a
// bootstrap of any size is applied with bounded memory. Not thread-safe: one transport per
// session.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "outpost/status.h"
#include "outpost/sync_round.h"

namespace httplib {
class Client;
}

namespace outpost {

struct HttpTimeouts {
  int connect_seconds = 10;
  // Silence allowed while waiting for an answer or between chunks. Must exceed the long-poll
  // wait (at most 60 s), or a quiet long-poll would be reported as a network failure.
  int read_seconds = 90;
  int write_seconds = 30;
};

class HttpTransport : public Transport {
 public:
  // `base_url`: "http[s]://host[:port][/prefix]" (Debian's cpp-httplib is built with OpenSSL).
  // `token` is sent as "Authorization: Bearer <token>". A bad URL is reported by Send.
  HttpTransport(std::string base_url, std::string token, HttpTimeouts timeouts = {});
  ~HttpTransport() override;
  HttpTransport(const HttpTransport&) = delete;
  HttpTransport& operator=(const HttpTransport&) = delete;

  // See Transport. Network failures and timeouts are kUnavailable; an on_line error aborts the
  // transfer and is returned as is.
  Result<int> Send(const HttpRequest& request,
                   const std::function<Status(std::string_view line)>& on_line,
                   std::string* error_body) override;

 private:
  std::string base_url_;
  std::string prefix_;  // path prefix of base_url ("" or "/something")
  std::string token_;
  Status init_;  // why the client could not be set up
  std::unique_ptr<httplib::Client> client_;
};

}  // namespace outpost
