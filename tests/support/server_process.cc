#include "server_process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "pg_cluster.h"

namespace outpost::testing {

namespace {

// A port nobody listens on: bind a socket to port 0, read the port the kernel chose, close it.
int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("socket failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    throw std::runtime_error("cannot find a free port");
  }
  close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// ServerProcess

std::string RulesPath(const std::string& app) {
  const std::string ext = ".json";
  if (app.size() > ext.size() && app.compare(app.size() - ext.size(), ext.size(), ext) == 0) {
    return app;
  }
  return SourceDir() + "/schema/apps/" + app + "/rules.json";
}

ServerProcess::ServerProcess(std::string database_url, std::string app,
                             std::vector<std::string> extra_args, std::vector<std::string> env)
    : database_url_(std::move(database_url)),
      app_(std::move(app)),
      extra_args_(std::move(extra_args)),
      env_(std::move(env)) {
  port_ = FreePort();
  url_ = "http://127.0.0.1:" + std::to_string(port_);
  Start();
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0) Stop();
}

std::string ServerProcess::log() const {
  std::lock_guard<std::mutex> lock(log_mu_);
  return log_;
}

void ServerProcess::Start() {
  if (reader_.joinable()) reader_.join();
  int fds[2];
  // Close-on-exec: a server started later (another instance, possibly from another thread)
  // must not inherit this one's pipe, or this reader would wait for its EOF until that server
  // exits too (the dup2s below clear the flag on the child's own stdout and stderr).
  if (pipe2(fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  // A fault to inject needs the build with fault hooks; the production binary has none.
  const bool faults = std::any_of(env_.begin(), env_.end(), [](const std::string& e) {
    return e.rfind("OUTPOST_FAULT=", 0) == 0;
  });
  std::vector<std::string> args = {faults ? OUTPOST_SERVER_FAULTS_BIN : OUTPOST_SERVER_BIN,
                                   "serve",
                                   "--database",
                                   database_url_,
                                   "--rules",
                                   RulesPath(app_),
                                   "--listen",
                                   "127.0.0.1:" + std::to_string(port_),
                                   "--hs256-secret",
                                   kSecret};
  args.insert(args.end(), extra_args_.begin(), extra_args_.end());
  pid_ = fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    for (auto& e : env_) putenv(e.data());
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    close(fds[0]);
    close(fds[1]);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(fds[1]);
  out_fd_ = fds[0];
  // Read until the "listening on" line (or failure), then keep draining in the background so the
  // server never blocks on a full pipe.
  // Only this start's output counts: the log keeps what earlier starts printed.
  size_t from = 0;
  {
    std::lock_guard<std::mutex> lock(log_mu_);
    from = log_.size();
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  bool ready = false;
  while (!ready) {
    if (std::chrono::steady_clock::now() > deadline) {
      throw std::runtime_error("outpost-server did not start in 60 s: " + log());
    }
    pollfd p{out_fd_, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    char buf[4096];
    ssize_t n = read(out_fd_, buf, sizeof buf);
    if (n <= 0) {
      int st = 0;
      waitpid(pid_, &st, 0);
      pid_ = -1;
      throw std::runtime_error("outpost-server exited at start: " + log());
    }
    std::lock_guard<std::mutex> lock(log_mu_);
    log_.append(buf, static_cast<size_t>(n));
    ready = log_.find("listening on http://", from) != std::string::npos;
  }
  int fd = out_fd_;
  reader_ = std::thread([this, fd] {
    char buf[4096];
    while (true) {
      ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      std::lock_guard<std::mutex> lock(log_mu_);
      log_.append(buf, static_cast<size_t>(n));
    }
    close(fd);
  });
}

void ServerProcess::Kill() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  int st = 0;
  waitpid(pid_, &st, 0);
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
}

int ServerProcess::Stop() {
  if (pid_ <= 0) return 0;
  kill(pid_, SIGTERM);
  int st = 0;
  for (int i = 0; i < 300; ++i) {  // up to 30 s for a clean shutdown
    if (waitpid(pid_, &st, WNOHANG) == pid_) {
      pid_ = -1;
      if (reader_.joinable()) reader_.join();
      return st;
    }
    usleep(100000);
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &st, 0);
  pid_ = -1;
  if (reader_.joinable()) reader_.join();
  return -1;
}

std::string MintToken(const std::string& tenant, const std::string& sub, const std::string& role,
                      int ttl, const std::string& secret) {
  std::string cmd = std::string(OUTPOST_SERVER_BIN) + " token --secret '" + secret + "' --sub '" +
                    sub + "' --role '" + role + "' --ttl " + std::to_string(ttl);
  if (!tenant.empty()) cmd += " --tenant '" + tenant + "'";
  std::string out = Run(cmd);
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

}  // namespace outpost::testing
