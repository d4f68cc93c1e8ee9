#include "http_transport.h"

#include <httplib.h>

#include <cstring>

namespace outpost {

namespace {
// Bounds the client's memory whatever the server sends: a pull answer's lines are a page of rows
// at most (a few MiB).
constexpr size_t kMaxLineBytes = size_t{64} << 20;
}  // namespace

HttpTransport::HttpTransport(std::string base_url, std::string token, HttpTimeouts timeouts)
    : base_url_(std::move(base_url)), token_(std::move(token)) {
  std::string url = base_url_;
  while (!url.empty() && url.back() == '/') url.pop_back();
  size_t scheme = url.find("://");
  if (scheme == std::string::npos) {
    init_ =
        Status(Code::kInvalidArgument, "server URL \"" + base_url_ + "\" has no http:// scheme");
    return;
  }
  std::string proto = url.substr(0, scheme);
  if (proto != "http" && proto != "https") {
    init_ = Status(Code::kUnsupported,
                   "server URL \"" + base_url_ + "\": only http:// and https:// are supported");
    return;
  }
  size_t path = url.find('/', scheme + 3);
  if (path != std::string::npos) {
    prefix_ = url.substr(path);
    url = url.substr(0, path);
  }
  client_ = std::make_unique<httplib::Client>(url);
  if (!client_->is_valid()) {
    init_ = Status(Code::kInvalidArgument, "server URL \"" + base_url_ + "\" is not usable");
    return;
  }
  client_->set_keep_alive(true);
  // Requests are small and latency-bound; see the server's matching setting.
  client_->set_tcp_nodelay(true);
  client_->set_connection_timeout(timeouts.connect_seconds, 0);
  client_->set_read_timeout(timeouts.read_seconds, 0);
  client_->set_write_timeout(timeouts.write_seconds, 0);
}

HttpTransport::~HttpTransport() = default;

Result<int> HttpTransport::Send(const HttpRequest& request,
                                const std::function<Status(std::string_view line)>& on_line,
                                std::string* error_body) {
  OUTPOST_RETURN_IF_ERROR(init_);
  httplib::Headers headers = {{"Authorization", "Bearer " + token_}};
  const std::string target = prefix_ + request.target;
  auto failed = [&](const httplib::Result& res) {
    return Status(Code::kUnavailable, request.method + " " + base_url_ + request.target + ": " +
                                          httplib::to_string(res.error()));
  };
  if (request.method == "GET") {
    int status = 0;
    bool success = false;
    std::string pending;  // an incomplete line
    Status line_status;
    httplib::Result res = client_->Get(
        target, headers,
        [&](const httplib::Response& response) {
          status = response.status;
          success = status >= 200 && status < 300;
          return true;
        },
        [&](const char* data, size_t size) {
          if (!success) {
            if (error_body) error_body->append(data, size);
            return true;
          }
          if (pending.size() + size > kMaxLineBytes) {
            line_status = Status(Code::kMalformedRequest,
                                 "GET " + request.target + ": an answer line exceeds " +
                                     std::to_string(kMaxLineBytes >> 20) + " MiB");
            return false;
          }
          // Only the new bytes are searched for line ends: a line arrives in many small reads.
          const char* nl = static_cast<const char*>(std::memchr(data, '\n', size));
          if (!nl) {
            pending.append(data, size);
            return true;
          }
          pending.append(data, static_cast<size_t>(nl - data));
          line_status = on_line(pending);
          pending.clear();
          if (!line_status.ok()) return false;
          for (const char *start = nl + 1, *end = data + size; start < end; start = nl + 1) {
            nl = static_cast<const char*>(
                std::memchr(start, '\n', static_cast<size_t>(end - start)));
            if (!nl) {
              pending.assign(start, static_cast<size_t>(end - start));
              break;
            }
            line_status = on_line(std::string_view(start, static_cast<size_t>(nl - start)));
            if (!line_status.ok()) return false;
          }
          return true;
        });
    if (!line_status.ok()) return line_status;
    if (!res) return failed(res);
    if (success && !pending.empty()) OUTPOST_RETURN_IF_ERROR(on_line(pending));
    return status;
  }
  if (request.method == "POST") {
    httplib::Result res = client_->Post(target, headers, request.body, "application/json");
    if (!res) return failed(res);
    int status = res->status;
    if (status < 200 || status >= 300) {
      if (error_body) *error_body = res->body;
      return status;
    }
    std::string_view body = res->body;
    while (!body.empty()) {
      size_t nl = body.find('\n');
      std::string_view line = body.substr(0, nl);
      OUTPOST_RETURN_IF_ERROR(on_line(line));
      if (nl == std::string_view::npos) break;
      body.remove_prefix(nl + 1);
    }
    return status;
  }
  return Status(Code::kInvalidArgument, "unsupported HTTP method " + request.method);
}

}  // namespace outpost
