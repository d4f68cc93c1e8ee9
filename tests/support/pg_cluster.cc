#include "pg_cluster.h"

#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <thread>

namespace outpost::testing {

std::string SourceDir() {
  return OUTPOST_SOURCE_DIR;
}

std::string Run(const std::string& command) {
  std::string full = command + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run: " + command);
  std::string out;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  int rc = pclose(p);
  if (rc != 0)
    throw std::runtime_error("command failed (" + std::to_string(rc) + "): " + command + "\n" +
                             out);
  return out;
}

namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out.push_back(c);
    }
  }
  return out + "'";
}

}  // namespace

PgCluster& PgCluster::Shared() {
  static PgCluster cluster;
  return cluster;
}

PgCluster::PgCluster() {
  char tmpl[] = "/tmp/outpost-pg-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  // The script picks the port (below the ephemeral range, retrying a taken one) and prints the
  // URL, postgresql://postgres@127.0.0.1:PORT/postgres.
  const std::string out = Run(SourceDir() + "/scripts/pg-throwaway.sh start " + dir_);
  const std::string host = "@127.0.0.1:";
  const size_t at = out.rfind(host);
  if (at != std::string::npos) port_ = std::atoi(out.c_str() + at + host.size());
  if (port_ <= 0) throw std::runtime_error("pg-throwaway.sh printed no URL: " + out);
}

PgCluster::~PgCluster() {
  try {
    Run(SourceDir() + "/scripts/pg-throwaway.sh stop " + dir_);
  } catch (const std::exception& e) {
    fprintf(stderr, "warning: stopping the test cluster failed: %s\n", e.what());
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

void PgCluster::Restart() {
  Run(SourceDir() + "/scripts/pg-throwaway.sh stop " + dir_);
  // Same port (the servers under test keep their URLs). It lies below the ephemeral range, so
  // only an explicit bind can take it meanwhile; a socket of the old postmaster lingering is
  // waited out.
  for (int attempt = 1;; ++attempt) {
    try {
      Run(SourceDir() + "/scripts/pg-throwaway.sh start " + dir_ + " " + std::to_string(port_));
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 5) throw;
      std::this_thread::sleep_for(std::chrono::seconds(1));
    }
  }
}

std::string PgCluster::url(const std::string& db) const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

void PgCluster::Psql(const std::string& url, const std::string& sql) {
  Run("psql -X -q -v ON_ERROR_STOP=1 " + ShellQuote(url) + " -c " + ShellQuote(sql));
}

std::string PgCluster::CreateDatabase(const std::string& name) {
  Psql(url("postgres"), "DROP DATABASE IF EXISTS \"" + name + "\"");
  Psql(url("postgres"), "CREATE DATABASE \"" + name + "\"");
  return url(name);
}

std::string PgCluster::LoadApp(const std::string& name, const std::string& app, int rows) {
  std::string u = CreateDatabase(name);
  std::string dir = SourceDir() + "/schema/apps/" + app;
  Run("psql -X -q -v ON_ERROR_STOP=1 " + ShellQuote(u) + " -f " + ShellQuote(dir + "/schema.sql"));
  Run("psql -X -q -v ON_ERROR_STOP=1 -v rows=" + std::to_string(rows) + " " + ShellQuote(u) +
      " -f " + ShellQuote(dir + "/sample-data.sql"));
  return u;
}

}  // namespace outpost::testing
