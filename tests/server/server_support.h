// Helpers shared by the server integration tests.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "catalog.h"
#include "outpost/store.h"
#include "pg.h"
#include "rules.h"

namespace outpost::testing {

// Describes the database at `url` and applies schema/apps/<app>/rules.json.
Schema DescribeApp(const std::string& url, const std::string& app);

// Copies every row of every table of `schema` from PostgreSQL into `store` as an engine write,
// converting values with PgTextToValue. Returns the number of rows copied per table, in schema
// order.
std::vector<int64_t> CopyAllRows(server::PgConnection* pg, const Schema& schema, Store* store);

// Builds a fresh store file in a temporary directory with the mirror of `schema`.
std::unique_ptr<Store> MirrorInTempFile(const Schema& schema, std::string* path = nullptr);

// A statement that must behave the same in PostgreSQL and in the local mirror.
struct RuleCase {
  std::string name;
  std::vector<std::string> setup;  // run first, in PostgreSQL and locally (as engine writes)
  std::string statement;           // the statement under test, run in both
  bool expect_ok = false;          // true: both accept it; false: both reject it
  bool local_as_engine = false;    // run the statement locally as an engine write (read-only
                                   // tables refuse app writes by design)
  std::string check;               // optional query; its single integer result must match
};

// Runs `c` against PostgreSQL (`pg`) and the mirror (`store`) and REQUIREs equal behaviour.
void RunRuleCase(server::PgConnection* pg, Store* store, const RuleCase& c);

// Per-app case tables (tests/server/app_cases_*.cc).
std::vector<RuleCase> GogotimeCases();
std::vector<RuleCase> SellyCases();
std::vector<RuleCase> ErpCases();
std::vector<RuleCase> Ncy8Cases();
std::vector<RuleCase> GeminiCrmCases();

}  // namespace outpost::testing
