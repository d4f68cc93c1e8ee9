// Test support: a real, throwaway PostgreSQL cluster for the integration tests.
//
// The first call to PgCluster::Shared() runs scripts/pg-throwaway.sh to start a cluster in a fresh
// temporary directory on a free port; it is stopped and removed when the test process exits.
#pragma once

#include <string>

namespace outpost::testing {

class PgCluster {
 public:
  static PgCluster& Shared();

  // Creates an empty database and returns its URL.
  std::string CreateDatabase(const std::string& name);
  // Creates database `name`, loads schema/apps/<app>/schema.sql and its sample data with
  // `rows` rows, and returns the URL.
  std::string LoadApp(const std::string& name, const std::string& app, int rows);
  // Runs psql with a SQL string against `url`; throws on failure.
  void Psql(const std::string& url, const std::string& sql);
  // Stops and starts the cluster again on the same port (fast shutdown: connections are cut).
  void Restart();

  std::string url(const std::string& db) const;
  int port() const { return port_; }

  ~PgCluster();

 private:
  PgCluster();
  std::string dir_;
  int port_ = 0;
};

// Source tree root (for schema/apps and scripts), from the OUTPOST_SOURCE_DIR compile definition.
std::string SourceDir();
// Runs a shell command; throws std::runtime_error with its output on a non-zero exit.
std::string Run(const std::string& command);

}  // namespace outpost::testing
