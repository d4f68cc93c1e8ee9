// Test support for end-to-end sync: a real `outpost-server` process over a real PostgreSQL
// (tests/support/pg_cluster.h), tokens minted by `outpost-server token`, and clients that are real
// Stores driven by the real SyncSession over the real HTTP transport.
#pragma once

#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "http_transport.h"
#include "outpost/store.h"
#include "outpost/sync_round.h"
#include "server_process.h"

namespace outpost::testing {

// One field client: its own database file in a temporary directory.
class TestClient {
 public:
  TestClient(const std::string& server_url, const std::string& token,
             const SessionOptions& options = {});
  ~TestClient();

  // Runs SQL as the application would (writes are captured). REQUIREs success.
  QueryResult Sql(const std::string& sql, const nlohmann::json& params = nlohmann::json::array());
  // The same, returning the status (for statements expected to fail).
  Status TrySql(const std::string& sql, const nlohmann::json& params = nlohmann::json::array());
  // Pushes and pulls until caught up. REQUIREs success.
  SyncReport Sync();
  Result<SyncReport> TrySync(int wait_seconds = 0);
  // Every row of `table`, each an array of values in the view's column order, sorted.
  nlohmann::json Rows(const std::string& table);
  // A single integer (or NULL → -1) from a query.
  int64_t Scalar(const std::string& sql, const nlohmann::json& params = nlohmann::json::array());

  Store& store() { return *store_; }
  SyncSession& session() { return *session_; }
  HttpTransport& transport() { return *transport_; }
  const std::string& path() const { return path_; }

 private:
  std::string dir_;
  std::string path_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<HttpTransport> transport_;
  std::unique_ptr<SyncSession> session_;
};

// The rows of `table` that the token's principal should see, read from PostgreSQL with the sync
// rules' scope (the server's model), converted to the client's values and sorted like
// TestClient::Rows.
nlohmann::json ExpectedRows(const std::string& database_url, const std::string& app,
                            const std::string& table, const std::string& tenant,
                            const std::string& sub, const std::string& role);

// A raw HTTP exchange (for attacks and bad input).
struct RawResponse {
  int status = 0;
  std::string body;
  nlohmann::json json() const;  // parsed body (discarded value if not JSON)
};
RawResponse RawGet(const std::string& server_url, const std::string& target,
                   const std::string& token);
RawResponse RawPost(const std::string& server_url, const std::string& target,
                    const std::string& token, const std::string& body);

// The schema version the server publishes (for hand-made requests).
std::string SchemaVersionOf(const std::string& server_url, const std::string& token);

// Runs one SQL statement in PostgreSQL and returns the first column of the first row (or "").
std::string PgScalar(const std::string& database_url, const std::string& sql);

}  // namespace outpost::testing
