// The HTTP layer of outpost-server (http_server.h) on real sockets, with a small handler and no
// database: the limits an operator relies on, each hit the way an attacker would hit it.
#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "http_server.h"
#include "raw_socket.h"
#include "work_queue.h"

namespace outpost::testing {
namespace {

using server::HttpExchange;
using server::HttpLimits;
using server::HttpResponse;
using server::HttpServer;
using Clock = std::chrono::steady_clock;

// A server whose handler answers "path|body-size", or parks the request on /park until
// Release().
struct TestServer {
  explicit TestServer(HttpLimits limits) {
    server = std::make_unique<HttpServer>(limits, [this](std::shared_ptr<HttpExchange> ex) {
      const auto& r = ex->request();
      if (r.path == "/park") {
        std::lock_guard<std::mutex> lock(mu);
        parked.push_back(ex);
        return;
      }
      if (r.path == "/stream") {
        std::thread([ex] {
          if (!ex->StartStream(200, "text/plain", {}).ok()) return;
          for (int i = 0; i < 3; ++i) {
            if (!ex->WriteChunk("chunk" + std::to_string(i) + "\n").ok()) return;
          }
          ex->FinishStream(true);
        }).detach();
        return;
      }
      HttpResponse res;
      res.content_type = "text/plain";
      res.body = r.method + " " + r.path + "|" + std::to_string(r.body.size()) + "|" +
                 r.Param("q").value_or("-");
      ex->Respond(std::move(res));
    });
    auto p = server->Bind("127.0.0.1", 0);
    REQUIRE(p.ok());
    port = *p;
    server->Start(2);
  }
  ~TestServer() {
    Release();
    server->Stop(std::chrono::milliseconds(2000));
  }
  void Release() {
    std::lock_guard<std::mutex> lock(mu);
    for (auto& ex : parked) {
      HttpResponse res;
      res.body = "released";
      ex->Respond(std::move(res));
    }
    parked.clear();
  }
  size_t parked_count() {
    std::lock_guard<std::mutex> lock(mu);
    return parked.size();
  }
  std::unique_ptr<HttpServer> server;
  int port = 0;
  std::mutex mu;
  std::vector<std::shared_ptr<HttpExchange>> parked;
};

std::string Get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: x\r\n" + extra + "\r\n";
}

TEST_CASE("http: requests, keep-alive, pipelining and decoded targets", "[http]") {
  TestServer s(HttpLimits{});
  Socket c(s.port);
  REQUIRE(c.connected());
  REQUIRE(c.Send(Get("/a%20b?q=x%26y+z") + Get("/second")));
  std::string out = c.Read(std::chrono::seconds(5), "GET /second|0|-");
  CHECK(out.find("HTTP/1.1 200 OK") != std::string::npos);
  CHECK(out.find("GET /a b|0|x&y z") != std::string::npos);
  CHECK(out.find("GET /second|0|-") != std::string::npos);
  CHECK_FALSE(c.closed());

  REQUIRE(
      c.Send("POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
             "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
  CHECK(c.Read(std::chrono::seconds(5), "|11|").find("POST /p|11|") != std::string::npos);

  REQUIRE(c.Send(Get("/stream")));
  out = c.Read(std::chrono::seconds(5), "0\r\n\r\n");
  CHECK(out.find("chunk0") != std::string::npos);
  CHECK(out.find("chunk2") != std::string::npos);
  // The connection is still usable after a streamed answer.
  REQUIRE(c.Send(Get("/after")));
  CHECK(c.Read(std::chrono::seconds(5), "|-").find("GET /after") != std::string::npos);

  Socket bad(s.port);
  REQUIRE(bad.Send(Get("/%zz")));
  out = bad.Read(std::chrono::seconds(5));
  CHECK(out.find("HTTP/1.1 400") != std::string::npos);
  CHECK(out.find("\"malformed_request\"") != std::string::npos);
}

TEST_CASE("http: headers have one deadline, however slowly they trickle in", "[http]") {
  HttpLimits limits;
  limits.header_timeout = std::chrono::milliseconds(600);
  TestServer s(limits);
  Socket c(s.port);
  REQUIRE(c.connected());
  // A byte every 150 ms: a per-read timeout would never fire.
  std::string request = Get("/slow", "X-Padding: aaaaaaaaaaaaaaaaaaaa\r\n");
  auto started = Clock::now();
  bool cut = false;
  for (char ch : request) {
    if (!c.Send(std::string(1, ch))) {
      cut = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(150));
    if (Clock::now() - started > std::chrono::seconds(4)) break;
  }
  std::string out = c.Read(std::chrono::seconds(3));
  CHECK(out.find("GET /slow") == std::string::npos);  // never answered
  CHECK((cut || c.closed()));
  CHECK(Clock::now() - started < std::chrono::seconds(8));
  // Everyone else is still served.
  Socket other(s.port);
  REQUIRE(other.Send(Get("/ok")));
  CHECK(other.Read(std::chrono::seconds(5), "|-").find("GET /ok|0|-") != std::string::npos);
}

TEST_CASE("http: oversized headers and too many header fields get 431", "[http]") {
  HttpLimits limits;
  limits.max_header_bytes = 2048;
  limits.max_header_fields = 10;
  TestServer s(limits);
  {
    Socket c(s.port);
    REQUIRE(c.Send(Get("/big", "X-Big: " + std::string(4096, 'a') + "\r\n")));
    std::string out = c.Read(std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 431") != std::string::npos);
    CHECK(out.find("\"payload_too_large\"") != std::string::npos);
  }
  {
    std::string fields;
    for (int i = 0; i < 20; ++i) fields += "X-F" + std::to_string(i) + ": 1\r\n";
    Socket c(s.port);
    REQUIRE(c.Send(Get("/many", fields)));
    std::string out = c.Read(std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 431") != std::string::npos);
    CHECK(out.find("header fields") != std::string::npos);
  }
}

TEST_CASE("http: bodies are limited by the bytes read, chunked ones too", "[http]") {
  HttpLimits limits;
  limits.max_body_bytes = 1000;
  TestServer s(limits);
  {
    Socket c(s.port);  // announced too large: refused before the body is read
    REQUIRE(c.Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n"));
    std::string out = c.Read(std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 413") != std::string::npos);
    CHECK(out.find("\"payload_too_large\"") != std::string::npos);
  }
  {
    Socket c(s.port);  // chunked: no length announced, counted as it arrives
    std::string body = "POST /p HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 20; ++i) body += "64\r\n" + std::string(100, 'x') + "\r\n";
    body += "0\r\n\r\n";
    c.Send(body);
    std::string out = c.Read(std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 413") != std::string::npos);
    CHECK(out.find("POST /p|") == std::string::npos);
  }
  {
    Socket c(s.port);  // within the limit
    REQUIRE(c.Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" +
                   std::string(1000, 'y')));
    CHECK(c.Read(std::chrono::seconds(5), "|1000|").find("POST /p|1000|") != std::string::npos);
  }
  {
    Socket c(s.port);  // compressed bodies are not inflated
    REQUIRE(
        c.Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Encoding: gzip\r\n"
               "Content-Length: 4\r\n\r\nabcd"));
    std::string out = c.Read(std::chrono::seconds(5));
    CHECK(out.find("HTTP/1.1 400") != std::string::npos);
    CHECK(out.find("uncompressed") != std::string::npos);
  }
}

TEST_CASE("http: a body that does not arrive in time is cut off", "[http]") {
  HttpLimits limits;
  limits.body_timeout = std::chrono::milliseconds(500);
  TestServer s(limits);
  Socket c(s.port);
  REQUIRE(c.Send("POST /p HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"));
  auto started = Clock::now();
  std::string out = c.Read(std::chrono::seconds(5));
  CHECK(out.find("POST /p") == std::string::npos);  // the handler never saw it
  CHECK(c.closed());
  CHECK(Clock::now() - started < std::chrono::seconds(3));
}

TEST_CASE("http: parked requests hold no thread; over max_connections gets 503", "[http]") {
  HttpLimits limits;
  limits.max_connections = 300;
  TestServer s(limits);
  // Far more parked requests than the server has threads (2 I/O threads, no workers).
  std::vector<std::unique_ptr<Socket>> parked;
  for (int i = 0; i < 250; ++i) {
    parked.push_back(std::make_unique<Socket>(s.port));
    REQUIRE(parked.back()->Send(Get("/park")));
  }
  for (int i = 0; i < 100 && s.parked_count() < 250; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(s.parked_count() == 250);
  {
    Socket c(s.port);
    REQUIRE(c.Send(Get("/still")));
    CHECK(c.Read(std::chrono::seconds(5), "|-").find("GET /still|0|-") != std::string::npos);
  }
  // Fill up to the limit; the next one is told to come back.
  std::vector<std::unique_ptr<Socket>> more;
  for (int i = 0; i < 60; ++i) more.push_back(std::make_unique<Socket>(s.port));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  size_t refused = 0;
  for (auto& m : more) {
    std::string out = m->Read(std::chrono::milliseconds(100));
    if (out.find("HTTP/1.1 503") != std::string::npos &&
        out.find("\"unavailable\"") != std::string::npos) {
      ++refused;
    }
  }
  CHECK(refused >= 10);
  CHECK(refused <= 60);
  s.Release();
  CHECK(parked.front()->Read(std::chrono::seconds(5), "released").find("released") !=
        std::string::npos);
}

TEST_CASE("http: idle keep-alive connections close after idle_timeout", "[http]") {
  HttpLimits limits;
  limits.idle_timeout = std::chrono::milliseconds(300);
  TestServer s(limits);
  Socket c(s.port);
  REQUIRE(c.Send(Get("/one")));
  CHECK(c.Read(std::chrono::seconds(5), "|-").find("GET /one") != std::string::npos);
  c.Read(std::chrono::seconds(3));
  CHECK(c.closed());
  for (int i = 0; i < 50 && s.server->open_connections() > 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(s.server->open_connections() == 0);
}

}  // namespace
}  // namespace outpost::testing

namespace outpost::testing {
namespace {

TEST_CASE("work queue: bounded for new requests, not for admitted ones; jobs run in order",
          "[http]") {
  std::mutex mu;
  std::condition_variable cv;
  bool open = false;
  std::vector<int> ran;
  server::WorkQueue queue(1, 2);
  // The single worker is held by the first job; two more fill the queue.
  REQUIRE(queue.Post([&] {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return open; });
    ran.push_back(0);
  }));
  for (int i = 0; i < 50 && queue.busy() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  auto record = [&](int i) {
    return [&, i] {
      std::lock_guard<std::mutex> lock(mu);
      ran.push_back(i);
    };
  };
  CHECK(queue.Post(record(1)));
  CHECK(queue.Post(record(2)));
  CHECK_FALSE(queue.Post(record(99)));              // a new request: refused
  CHECK(queue.Post(record(3), /*admitted=*/true));  // a woken long-poll: queued anyway
  CHECK(queue.queued() == 3);
  {
    std::lock_guard<std::mutex> lock(mu);
    open = true;
  }
  cv.notify_all();
  queue.Stop();  // runs what is queued, then joins
  CHECK(ran == std::vector<int>{0, 1, 2, 3});
  CHECK_FALSE(queue.Post(record(4)));
}

}  // namespace
}  // namespace outpost::testing
