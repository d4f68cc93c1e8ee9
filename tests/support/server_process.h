// Test and benchmark support: an `outpost-server serve` child process, and tokens for it.
// No Catch2 here (benchmarks use it too): failures throw std::runtime_error.
#pragma once

#include <sys/types.h>

#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace outpost::testing {

// An `outpost-server serve` child process. Started in the constructor (waits for its
// "listening on" line); stopped with SIGTERM in the destructor.
class ServerProcess {
 public:
  static constexpr const char* kSecret = "test-secret-0123456789abcdef0123456789";

  // `env`: extra NAME=VALUE environment entries for the server. OUTPOST_FAULT=... (fault
  // injection) runs the test build of the server, outpost-server-faults, which has the hooks.
  // `app`: a seed app's name or a rules file (RulesPath).
  ServerProcess(std::string database_url, std::string app, std::vector<std::string> extra_args = {},
                std::vector<std::string> env = {});
  ~ServerProcess();
  ServerProcess(const ServerProcess&) = delete;
  ServerProcess& operator=(const ServerProcess&) = delete;

  const std::string& url() const { return url_; }  // http://127.0.0.1:PORT
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  // Everything the server printed so far (stdout and stderr).
  std::string log() const;

  // Starts again on the same port (after Kill or Stop), with `env` replacing the environment
  // entries given so far.
  void Start();
  void set_env(std::vector<std::string> env) { env_ = std::move(env); }
  // SIGKILL, and wait for the process to be gone.
  void Kill();
  // SIGTERM; returns the exit status (as from waitpid).
  int Stop();

 private:
  std::string database_url_;
  std::string app_;
  std::vector<std::string> extra_args_;
  std::vector<std::string> env_;
  std::string url_;
  int port_ = 0;
  pid_t pid_ = -1;
  int out_fd_ = -1;
  std::thread reader_;
  mutable std::mutex log_mu_;
  std::string log_;
};

// The sync rules of `app`: schema/apps/<app>/rules.json for a seed app, or `app` itself when it
// is a path to a rules file (ends with ".json"; for tests with a schema of their own).
std::string RulesPath(const std::string& app);

// An HS256 token for ServerProcess::kSecret. `ttl` may be negative (an expired token).
std::string MintToken(const std::string& tenant, const std::string& sub, const std::string& role,
                      int ttl = 3600, const std::string& secret = ServerProcess::kSecret);

}  // namespace outpost::testing
