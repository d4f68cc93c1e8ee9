// The HTTP/1.1 layer of outpost-server over Boost.Beast (http_server.h).
//
// A connection is a small state machine on its own strand: wait for a request's first byte
// (idle_timeout), read its headers (header_timeout, counted from that byte), read its body
// (body_timeout), hand it to the application, write the answer, and start again (keep-alive).
// Nothing is read while an answer is pending, so a parked long-poll costs its Connection object,
// its socket and its buffers.
#include "http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <future>
#include <iostream>
#include <iterator>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "outpost/protocol.h"

namespace outpost::server {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;

namespace {

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX-decodes `in` (and '+' as a space in a query). False on a broken escape.
bool PercentDecode(std::string_view in, bool query, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = HexDigit(in[i + 1]);
      int lo = HexDigit(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && query) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// Splits a request target into its decoded path and query parameters. False when it does not
// decode.
bool ParseTarget(std::string_view target, HttpRequest* r) {
  size_t q = target.find('?');
  if (!PercentDecode(target.substr(0, q), false, &r->path)) return false;
  if (q == std::string_view::npos) return true;
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (item.empty()) continue;
    size_t eq = item.find('=');
    std::string name, value;
    if (!PercentDecode(item.substr(0, eq), true, &name)) return false;
    if (eq != std::string_view::npos && !PercentDecode(item.substr(eq + 1), true, &value)) {
      return false;
    }
    r->params.emplace_back(std::move(name), std::move(value));
  }
  return true;
}

// The answer to a connection over max_connections, written as-is before closing it.
const std::string& BusyAnswer() {
  static const std::string answer = [] {
    std::string body = protocol::EncodeErrorBody(
        Status(Code::kUnavailable, "the server is at its connection limit: retry later"));
    return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
           "Retry-After: 1\r\nConnection: close\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body;
  }();
  return answer;
}

}  // namespace

std::string HttpRequest::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return {};
}

bool HttpRequest::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (EqualsIgnoreCase(k, name)) return true;
  }
  return false;
}

std::optional<std::string> HttpRequest::Param(std::string_view name) const {
  for (const auto& [k, v] : params) {
    if (k == name) return v;
  }
  return std::nullopt;
}

HttpResponse HttpResponse::Error(const Status& s, int http_status) {
  HttpResponse r;
  r.status = http_status ? http_status : protocol::HttpStatusOf(s.code());
  r.content_type = "application/json";
  r.body = protocol::EncodeErrorBody(s);
  return r;
}

class Connection;

struct HttpServer::Impl {
  Impl(HttpLimits l, HttpHandler h) : limits(l), handler(std::move(h)) {}

  void Accept();
  void Register(Connection* c, std::weak_ptr<Connection> w) {
    std::lock_guard<std::mutex> lock(mu);
    live.emplace(c, std::move(w));
  }
  void Unregister(Connection* c) {
    std::lock_guard<std::mutex> lock(mu);
    live.erase(c);
  }

  const HttpLimits limits;
  const HttpHandler handler;
  net::io_context ioc;
  net::executor_work_guard<net::io_context::executor_type> work{ioc.get_executor()};
  tcp::acceptor acceptor{ioc};
  net::steady_timer accept_backoff{ioc};
  std::vector<std::thread> threads;
  std::atomic<size_t> connections{0};
  std::atomic<bool> stopping{false};
  std::mutex mu;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> live;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(HttpServer::Impl& server, tcp::socket socket)
      : server_(server),
        stream_(std::move(socket)),
        buffer_(server.limits.max_header_bytes + 65536) {
    ++server_.connections;
  }
  ~Connection() {
    server_.Unregister(this);
    --server_.connections;
  }

  void Start() {
    server_.Register(this, weak_from_this());
    beast::error_code ignored;
    stream_.socket().set_option(tcp::no_delay(true), ignored);
    ReadRequest();
  }

  // At shutdown: a connection between requests goes now; one with an answer pending closes
  // after it.
  void CloseIfIdle() {
    net::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->state_ == State::kWaiting || self->state_ == State::kReading) self->Close();
    });
  }

  // Called by HttpExchange (any thread).
  void PostResponse(HttpResponse r) {
    net::post(stream_.get_executor(), [self = shared_from_this(), r = std::move(r)]() mutable {
      self->WriteResponse(std::move(r), self->keep_alive_);
    });
  }
  void PostClose() {
    net::post(stream_.get_executor(), [self = shared_from_this()] { self->Close(); });
  }
  Status StreamHeader(int status, std::string content_type,
                      std::vector<std::pair<std::string, std::string>> headers);
  Status StreamChunk(std::string_view data);
  void PostStreamEnd(bool complete);

  const HttpLimits& limits() const { return server_.limits; }

 private:
  enum class State { kWaiting, kReading, kAnswering, kClosed };

  void ReadRequest();
  void ReadHeader();
  void OnHeader(beast::error_code ec);
  void ReadBody();
  void OnBody(beast::error_code ec);
  // Answers or closes after a failed read (limits: 431/413; gone or late: close; else 400 with
  // `what`). False when `ec` is no error.
  bool FailedRead(beast::error_code ec, const char* what);
  void Dispatch();
  void Reject(const Status& s, int http_status);
  void WriteResponse(HttpResponse r, bool keep_alive);
  void AfterAnswer(bool keep_alive);
  void Linger();
  void Close();
  // Runs `op` on the strand and waits (at most write_timeout and a little) for it to call the
  // completion it is given.
  Status RunOnStrand(std::function<void(std::function<void(Status)>)> op);

  HttpServer::Impl& server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  State state_ = State::kWaiting;
  bool keep_alive_ = true;
  unsigned version_ = 11;
  size_t lingered_ = 0;  // bytes discarded after the last answer
};

// The application's handle on one request.
class Exchange : public HttpExchange {
 public:
  Exchange(std::shared_ptr<Connection> conn, HttpRequest request)
      : conn_(std::move(conn)), request_(std::move(request)) {}
  ~Exchange() override {
    if (!answered_.exchange(true)) {
      conn_->PostClose();
    } else if (streaming_) {
      conn_->PostStreamEnd(false);  // a stream left unfinished is cut off
    }
  }
  const HttpRequest& request() const override { return request_; }
  void Respond(HttpResponse response) override {
    if (answered_.exchange(true)) return;
    conn_->PostResponse(std::move(response));
  }
  Status StartStream(int status, std::string content_type,
                     std::vector<std::pair<std::string, std::string>> headers) override {
    if (answered_.exchange(true)) return Status(Code::kInternal, "answered twice");
    streaming_ = true;
    return conn_->StreamHeader(status, std::move(content_type), std::move(headers));
  }
  Status WriteChunk(std::string_view data) override {
    if (!streaming_) return Status(Code::kInternal, "WriteChunk without StartStream");
    return conn_->StreamChunk(data);
  }
  void FinishStream(bool complete) override {
    if (!streaming_) return;
    streaming_ = false;
    conn_->PostStreamEnd(complete);
  }

 private:
  std::shared_ptr<Connection> conn_;
  HttpRequest request_;
  std::atomic<bool> answered_{false};
  bool streaming_ = false;
};

void Connection::ReadRequest() {
  if (server_.stopping) return Close();
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(server_.limits.max_header_bytes));
  parser_->body_limit(server_.limits.max_body_bytes);
  if (buffer_.size() > 0) return ReadHeader();  // the next request is already here
  state_ = State::kWaiting;
  stream_.expires_after(server_.limits.idle_timeout);
  stream_.async_read_some(buffer_.prepare(4096),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec || self->state_ == State::kClosed) return self->Close();
                            self->buffer_.commit(n);
                            self->ReadHeader();
                          });
}

void Connection::ReadHeader() {
  state_ = State::kReading;
  // One deadline for all of the headers: a client trickling a byte at a time gains nothing.
  stream_.expires_after(server_.limits.header_timeout);
  bhttp::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

bool Connection::FailedRead(beast::error_code ec, const char* what) {
  if (!ec) return false;
  if (ec == bhttp::error::header_limit || ec == bhttp::error::buffer_overflow) {
    Reject(Status(Code::kPayloadTooLarge, "request headers over " +
                                              std::to_string(server_.limits.max_header_bytes) +
                                              " bytes"),
           431);
  } else if (ec == bhttp::error::body_limit) {
    Reject(Status(Code::kPayloadTooLarge,
                  "request body over " + std::to_string(server_.limits.max_body_bytes) + " bytes"),
           413);
  } else if (ec == beast::error::timeout || ec == bhttp::error::end_of_stream ||
             ec == net::error::eof || ec == net::error::operation_aborted ||
             ec == net::error::connection_reset) {
    // The peer is gone, or a deadline passed (beast::tcp_stream has already closed the socket):
    // there is no one to answer.
    Close();
  } else {
    Reject(Status(Code::kMalformedRequest, what), 400);
  }
  return true;
}

void Connection::OnHeader(beast::error_code ec) {
  if (state_ == State::kClosed || FailedRead(ec, "bad HTTP request")) return;
  const auto& req = parser_->get();
  version_ = req.version();
  keep_alive_ = req.keep_alive();
  if (static_cast<size_t>(std::distance(req.begin(), req.end())) >
      server_.limits.max_header_fields) {
    return Reject(
        Status(Code::kPayloadTooLarge,
               "more than " + std::to_string(server_.limits.max_header_fields) + " header fields"),
        431);
  }
  auto encoding = req.find(bhttp::field::content_encoding);
  if (encoding != req.end() && !EqualsIgnoreCase(encoding->value(), "identity")) {
    return Reject(Status(Code::kMalformedRequest,
                         "compressed request bodies are not accepted: send it uncompressed"),
                  400);
  }
  if (parser_->is_done()) return Dispatch();
  auto expect = req.find(bhttp::field::expect);
  if (expect != req.end() && EqualsIgnoreCase(expect->value(), "100-continue")) {
    static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
    stream_.expires_after(server_.limits.write_timeout);
    return net::async_write(stream_, net::buffer(kContinue),
                            [self = shared_from_this()](beast::error_code ec2, size_t) {
                              if (ec2) return self->Close();
                              self->ReadBody();
                            });
  }
  ReadBody();
}

void Connection::ReadBody() {
  stream_.expires_after(server_.limits.body_timeout);
  bhttp::async_read(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(beast::error_code ec) {
  if (state_ == State::kClosed || FailedRead(ec, "bad HTTP request body")) return;
  Dispatch();
}

void Connection::Dispatch() {
  state_ = State::kAnswering;
  stream_.expires_never();  // the application decides how long an answer takes
  auto& req = parser_->get();
  HttpRequest r;
  r.method = std::string(req.method_string());
  if (!ParseTarget(req.target(), &r)) {
    return Reject(Status(Code::kMalformedRequest, "bad percent-encoding in the request target"),
                  400);
  }
  for (const auto& field : req) {
    r.headers.emplace_back(std::string(field.name_string()), std::string(field.value()));
  }
  r.body = std::move(req.body());
  beast::error_code ignored;
  auto endpoint = stream_.socket().remote_endpoint(ignored);
  if (!ignored) r.peer = endpoint.address().to_string();
  parser_.reset();
  auto exchange = std::make_shared<Exchange>(shared_from_this(), std::move(r));
  try {
    server_.handler(exchange);
  } catch (const std::exception& e) {
    exchange->Respond(HttpResponse::Error(Status(Code::kInternal, e.what())));
  }
}

void Connection::Reject(const Status& s, int http_status) {
  state_ = State::kAnswering;
  WriteResponse(HttpResponse::Error(s, http_status), /*keep_alive=*/false);
}

void Connection::WriteResponse(HttpResponse r, bool keep_alive) {
  if (state_ == State::kClosed) return;
  keep_alive = keep_alive && !server_.stopping;
  auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
      static_cast<bhttp::status>(r.status), version_);
  res->set(bhttp::field::server, "outpost-server");
  if (!r.content_type.empty()) res->set(bhttp::field::content_type, r.content_type);
  for (auto& [k, v] : r.headers) res->set(k, v);
  res->body() = std::move(r.body);
  res->keep_alive(keep_alive);
  res->prepare_payload();
  stream_.expires_after(server_.limits.write_timeout);
  bhttp::async_write(stream_, *res,
                     [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                       if (ec) return self->Close();
                       self->AfterAnswer(keep_alive);
                     });
}

void Connection::AfterAnswer(bool keep_alive) {
  if (!keep_alive || server_.stopping) {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    return Linger();
  }
  ReadRequest();
}

// A lingering close: after the last answer, read and discard what the client is still sending
// (the body of a refused request) for a bounded time and amount, so that it reads our answer
// instead of a connection reset.
void Connection::Linger() {
  if (state_ == State::kClosed) return;
  if (lingered_ == 0) stream_.expires_after(std::chrono::seconds(5));
  if (lingered_ > 2 * server_.limits.max_body_bytes + (1u << 20)) return Close();
  buffer_.consume(buffer_.size());
  stream_.async_read_some(buffer_.prepare(65536),
                          [self = shared_from_this()](beast::error_code ec, size_t n) {
                            if (ec) return self->Close();
                            self->lingered_ += n;
                            self->buffer_.commit(n);
                            self->Linger();
                          });
}

void Connection::Close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  beast::error_code ignored;
  stream_.socket().close(ignored);
}

Status Connection::RunOnStrand(std::function<void(std::function<void(Status)>)> op) {
  auto done = std::make_shared<std::promise<Status>>();
  auto result = done->get_future();
  net::post(stream_.get_executor(), [self = shared_from_this(), op = std::move(op), done] {
    if (self->state_ == State::kClosed) {
      done->set_value(Status(Code::kIoError, "client went away"));
      return;
    }
    op([done](Status s) { done->set_value(std::move(s)); });
  });
  // The strand's own write deadline ends the operation; this is a backstop for a stopped server.
  if (result.wait_for(server_.limits.write_timeout + std::chrono::seconds(5)) !=
      std::future_status::ready) {
    PostClose();
    return Status(Code::kIoError, "client did not read the answer in time");
  }
  return result.get();
}

Status Connection::StreamHeader(int status, std::string content_type,
                                std::vector<std::pair<std::string, std::string>> headers) {
  auto res = std::make_shared<bhttp::response<bhttp::empty_body>>(
      static_cast<bhttp::status>(status), version_);
  res->set(bhttp::field::server, "outpost-server");
  res->set(bhttp::field::content_type, content_type);
  for (auto& [k, v] : headers) res->set(k, v);
  res->keep_alive(keep_alive_);
  res->chunked(true);
  return RunOnStrand([self = shared_from_this(), res](std::function<void(Status)> done) {
    auto sr = std::make_shared<bhttp::response_serializer<bhttp::empty_body>>(*res);
    self->stream_.expires_after(self->server_.limits.write_timeout);
    bhttp::async_write_header(self->stream_, *sr,
                              [self, res, sr, done](beast::error_code ec, size_t) {
                                if (ec) {
                                  self->Close();
                                  return done(Status(Code::kIoError, "client went away"));
                                }
                                done(Status::Ok());
                              });
  });
}

Status Connection::StreamChunk(std::string_view data) {
  if (data.empty()) return Status::Ok();  // an empty chunk would end the answer
  // A copy: should the wait below give up, the write may still run later.
  auto bytes = std::make_shared<std::string>(data);
  return RunOnStrand([self = shared_from_this(), bytes](std::function<void(Status)> done) {
    self->stream_.expires_after(self->server_.limits.write_timeout);
    net::async_write(self->stream_, bhttp::make_chunk(net::buffer(*bytes)),
                     [self, bytes, done](beast::error_code ec, size_t) {
                       if (ec) {
                         self->Close();
                         return done(Status(Code::kIoError, "client went away"));
                       }
                       done(Status::Ok());
                     });
  });
}

void Connection::PostStreamEnd(bool complete) {
  net::post(stream_.get_executor(), [self = shared_from_this(), complete] {
    if (self->state_ == State::kClosed) return;
    if (!complete) return self->Close();
    self->stream_.expires_after(self->server_.limits.write_timeout);
    net::async_write(self->stream_, bhttp::make_chunk_last(), [self](beast::error_code ec, size_t) {
      if (ec) return self->Close();
      self->AfterAnswer(self->keep_alive_);
    });
  });
}

void HttpServer::Impl::Accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
    if (stopping || !acceptor.is_open()) return;
    if (ec) {
      // Out of file descriptors (or another transient failure): pause instead of spinning.
      std::cerr << "outpost-server: accept failed: " << ec.message() << std::endl;
      accept_backoff.expires_after(std::chrono::milliseconds(100));
      accept_backoff.async_wait([this](beast::error_code) { Accept(); });
      return;
    }
    if (connections.load() >= limits.max_connections) {
      auto s = std::make_shared<tcp::socket>(std::move(socket));
      net::async_write(*s, net::buffer(BusyAnswer()), [s](beast::error_code, size_t) {
        beast::error_code ignored;
        s->shutdown(tcp::socket::shutdown_send, ignored);
        s->close(ignored);
      });
    } else {
      std::make_shared<Connection>(*this, std::move(socket))->Start();
    }
    Accept();
  });
}

HttpServer::HttpServer(HttpLimits limits, HttpHandler handler)
    : impl_(std::make_unique<Impl>(limits, std::move(handler))) {}

HttpServer::~HttpServer() {
  Stop(std::chrono::milliseconds(0));
}

boost::asio::io_context& HttpServer::io() {
  return impl_->ioc;
}

size_t HttpServer::open_connections() const {
  return impl_->connections.load();
}

Result<int> HttpServer::Bind(const std::string& host, int port) {
  beast::error_code ec;
  auto address = net::ip::make_address(host == "localhost" ? "127.0.0.1" : host, ec);
  if (ec) return Status(Code::kInvalidArgument, "cannot listen on " + host + ": not an address");
  tcp::endpoint endpoint(address, static_cast<unsigned short>(port));
  auto& a = impl_->acceptor;
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(Code::kIoError,
                  "cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  }
  return static_cast<int>(a.local_endpoint().port());
}

void HttpServer::Start(size_t io_threads) {
  impl_->Accept();
  for (size_t i = 0; i < std::max<size_t>(1, io_threads); ++i) {
    impl_->threads.emplace_back([this] { impl_->ioc.run(); });
  }
}

void HttpServer::Stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (s.stopping.exchange(true) && s.threads.empty()) return;
  net::post(s.ioc, [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_backoff.cancel();
  });
  std::vector<std::shared_ptr<Connection>> open;
  {
    std::lock_guard<std::mutex> lock(s.mu);
    for (auto& [c, w] : s.live) {
      if (auto p = w.lock()) open.push_back(std::move(p));
    }
  }
  for (auto& c : open) c->CloseIfIdle();
  open.clear();
  auto until = std::chrono::steady_clock::now() + grace;
  while (s.connections.load() > 0 && std::chrono::steady_clock::now() < until &&
         !s.threads.empty()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  s.work.reset();
  s.ioc.stop();
  for (auto& t : s.threads) t.join();
  s.threads.clear();
}

}  // namespace outpost::server
