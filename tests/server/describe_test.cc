// Every seed app: loads into PostgreSQL, is described, round-trips as JSON, mirrors into SQLite,
// takes all of its sample rows, and enforces locally the rules PostgreSQL enforces.
#include <catch2/catch.hpp>

#include "outpost/value.h"
#include "pg_cluster.h"
#include "server_support.h"

namespace outpost::testing {
namespace {

struct App {
  const char* name;
  std::vector<RuleCase> (*cases)();
};

const App kApps[] = {
    {"gogotime", GogotimeCases}, {"selly", SellyCases},          {"erp", ErpCases},
    {"ncy8", Ncy8Cases},         {"gemini_crm", GeminiCrmCases},
};

}  // namespace

TEST_CASE("every seed app is described, mirrored and enforces the same rules", "[server][apps]") {
  auto& cluster = PgCluster::Shared();
  for (const auto& app : kApps) {
    DYNAMIC_SECTION(app.name) {
      std::string url = cluster.LoadApp(std::string("apps_") + app.name, app.name, 300);
      Schema schema = DescribeApp(url, app.name);
      REQUIRE(!schema.tables.empty());

      // The descriptor round-trips through JSON, and its version is a pure function of content.
      auto reparsed = SchemaFromJson(SchemaToJson(schema));
      INFO(reparsed.status().ToString());
      REQUIRE(reparsed.ok());
      CHECK(*reparsed == schema);
      CHECK(SchemaVersion(*reparsed) == SchemaVersion(schema));

      // Secret columns never reach the descriptor.
      for (const auto& t : schema.tables) {
        for (const auto& c : t.columns) {
          std::string lower;
          for (char ch : c.name) lower.push_back(static_cast<char>(std::tolower(ch)));
          INFO(t.name << "." << c.name);
          CHECK(lower != "password");
          CHECK(lower.find("passwordhash") == std::string::npos);
          CHECK(lower.find("password_hash") == std::string::npos);
          CHECK(lower.find("tokenhash") == std::string::npos);
          CHECK(lower.find("token_hash") == std::string::npos);
          CHECK(lower.find("key_hash") == std::string::npos);
          CHECK(lower.find("encryptionkey") == std::string::npos);
          CHECK(lower.find("credentials") == std::string::npos);
          CHECK(lower.find("refresh_token") == std::string::npos);
        }
      }

      auto store = MirrorInTempFile(schema);
      auto pg = server::PgConnection::Connect(url);
      REQUIRE(pg.ok());
      auto counts = CopyAllRows(pg->get(), schema, store.get());
      for (size_t i = 0; i < schema.tables.size(); ++i) {
        auto local = store->Execute("SELECT count(*) FROM \"" + schema.tables[i].name + "\"");
        REQUIRE(local.ok());
        CHECK(local->rows[0][0].get<int64_t>() == counts[i]);
      }
      auto fk = store->Execute("PRAGMA foreign_key_check");
      REQUIRE(fk.ok());
      CHECK(fk->rows.empty());
      // Copying as the engine captured nothing.
      CHECK(*store->PendingMutationCount() == 0);

      for (const auto& c : app.cases()) RunRuleCase(pg->get(), store.get(), c);
    }
  }
}

TEST_CASE("without rules every public table is described", "[server]") {
  auto& cluster = PgCluster::Shared();
  std::string url = cluster.LoadApp("raw_gogotime", "gogotime", 10);
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  std::vector<std::string> notes;
  auto schema = server::DescribeDatabase(pg->get(), "public", &notes);
  REQUIRE(schema.ok());
  CHECK(schema->tables.size() == 16);
  const Table* users = schema->FindTable("users");
  REQUIRE(users);
  REQUIRE(users->FindColumn("passwordHash"));  // no rules: nothing excluded
  CHECK(users->FindColumn("email")->type.kind == TypeKind::kCitext);
  const Table* entries = schema->FindTable("timesheet_entries");
  REQUIRE(entries);
  // Referenced tables come first.
  auto pos = [&](const char* n) {
    for (size_t i = 0; i < schema->tables.size(); ++i) {
      if (schema->tables[i].name == n) return i;
    }
    return size_t{999};
  };
  CHECK(pos("companies") < pos("users"));
  CHECK(pos("action_codes") < pos("timesheet_entries"));
  bool composite = false;
  for (const auto& fk : users->foreign_keys) {
    if (fk.columns.size() == 2 && fk.ref_table == "roles") composite = true;
  }
  CHECK(composite);
}

TEST_CASE("an unknown database or bad rules are clear errors", "[server]") {
  auto& cluster = PgCluster::Shared();
  auto missing = server::PgConnection::Connect(cluster.url("no_such_database"));
  REQUIRE_FALSE(missing.ok());
  CHECK(missing.status().code() == Code::kPostgres);

  std::string url = cluster.LoadApp("rules_gogotime", "gogotime", 5);
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  auto schema = server::DescribeDatabase(pg->get(), "public", nullptr);
  REQUIRE(schema.ok());
  auto rules = ParseSyncRules(R"({"app":"x","roles":["a"],"tables":{"nope":{"scope":"all"}}})");
  REQUIRE(rules.ok());
  auto applied = ApplySyncRules(*schema, *rules, nullptr);
  REQUIRE_FALSE(applied.ok());
  CHECK(applied.status().code() == Code::kMalformedDescriptor);
  CHECK_THAT(applied.status().message(), Catch::Contains("nope"));

  // An excluded NOT NULL column on a writable table: clients could never insert.
  rules = ParseSyncRules(R"({"app":"x","roles":["a"],"tables":{
      "users":{"scope":{"tenant_column":"companyId"},"exclude":["passwordHash"]}}})");
  REQUIRE(rules.ok());
  applied = ApplySyncRules(*schema, *rules, nullptr);
  REQUIRE_FALSE(applied.ok());
  CHECK_THAT(applied.status().message(), Catch::Contains("passwordHash"));

  auto bad_scope =
      ParseSyncRules(R"({"app":"x","roles":[],"tables":{"users":{"scope":{"via":1}}}})");
  REQUIRE_FALSE(bad_scope.ok());
  CHECK(bad_scope.status().code() == Code::kMalformedDescriptor);
}

}  // namespace outpost::testing
