// Every seed app: loads into PostgreSQL, is described, round-trips as JSON, mirrors into SQLite,
// takes all of its sample rows, and enforces locally the rules PostgreSQL enforces.
#include <catch2/catch.hpp>

#include "outpost/mirror.h"
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
      CHECK(store->CountOutbox()->unconfirmed_mutations == 0);

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
  auto applied = server::ApplySyncRules(*schema, *rules, nullptr);
  REQUIRE_FALSE(applied.ok());
  CHECK(applied.status().code() == Code::kMalformedDescriptor);
  CHECK_THAT(applied.status().message(), Catch::Contains("nope"));

  // An excluded NOT NULL column on a writable table: clients could never insert.
  rules = ParseSyncRules(R"({"app":"x","roles":["a"],"tables":{
      "users":{"scope":{"tenant_column":"companyId"},"exclude":["passwordHash"]}}})");
  REQUIRE(rules.ok());
  applied = server::ApplySyncRules(*schema, *rules, nullptr);
  REQUIRE_FALSE(applied.ok());
  CHECK_THAT(applied.status().message(), Catch::Contains("passwordHash"));

  auto bad_scope =
      ParseSyncRules(R"({"app":"x","roles":[],"tables":{"users":{"scope":{"via":1}}}})");
  REQUIRE_FALSE(bad_scope.ok());
  CHECK(bad_scope.status().code() == Code::kMalformedDescriptor);
}

}  // namespace outpost::testing

namespace outpost::testing {

TEST_CASE("a database Outpost has never seen is described and mirrored, gaps reported by name",
          "[server]") {
  auto& cluster = PgCluster::Shared();
  std::string url = cluster.CreateDatabase("unfamiliar");
  cluster.Psql(url, R"sql(
    CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
    CREATE TABLE "Weird ""Name""" (
      id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
      qty posint,
      total numeric GENERATED ALWAYS AS (qty * 2) STORED,
      during tstzrange,
      lower_name text CHECK (lower_name ~ '^\w+$'));
    CREATE UNIQUE INDEX weird_lower ON "Weird ""Name""" (lower(lower_name));
    CREATE TABLE nopk (a int);
    CREATE TABLE parted (id int, region text, PRIMARY KEY (id, region)) PARTITION BY LIST (region);
    CREATE TABLE parted_eu PARTITION OF parted FOR VALUES IN ('eu');
    CREATE TABLE child (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      weird_id bigint REFERENCES "Weird ""Name""" ON DELETE SET NULL,
      note text DEFAULT md5('x'));
  )sql");
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  std::vector<std::string> notes;
  auto schema = server::DescribeDatabase(pg->get(), "public", &notes);
  INFO(schema.status().ToString());
  REQUIRE(schema.ok());
  CHECK(schema->FindTable("nopk") == nullptr);
  CHECK(schema->FindTable("parted") != nullptr);
  CHECK(schema->FindTable("parted_eu") == nullptr);
  std::string all_notes;
  for (const auto& n : notes) all_notes += n + "\n";
  CHECK_THAT(all_notes, Catch::Contains("nopk: no primary key"));
  CHECK_THAT(all_notes, Catch::Contains("domain posint"));
  CHECK_THAT(all_notes, Catch::Contains("tstzrange"));
  const Table* weird = schema->FindTable("Weird \"Name\"");
  REQUIRE(weird);
  CHECK(weird->has_serial_key());
  CHECK(weird->FindColumn("total")->generated);
  CHECK(weird->FindColumn("qty")->type.kind == TypeKind::kInteger);

  auto store = MirrorInTempFile(*schema);
  MirrorDdl ddl = GenerateMirrorDdl(*schema);
  std::string reported;
  for (const auto& n : ddl.not_mirrored)
    reported += n.table + "." + n.object + ": " + n.reason + "\n";
  INFO(reported);
  CHECK_THAT(reported, Catch::Contains("Weird \"Name\".total: generated column"));
  CHECK_THAT(reported, Catch::Contains("Weird \"Name\".during"));
  CHECK_THAT(reported, Catch::Contains("regular expression: \\w"));
  CHECK_THAT(reported, Catch::Contains("child.note: default"));
  CHECK(reported.find("weird_lower") == std::string::npos);  // lower() translates

  // The mirror works: identity keys become negative temporary keys, the expression index holds.
  REQUIRE(store->Execute("INSERT INTO \"Weird \"\"Name\"\"\" (qty, lower_name) VALUES (2, 'abc')")
              .ok());
  auto dup =
      store->Execute("INSERT INTO \"Weird \"\"Name\"\"\" (qty, lower_name) VALUES (3, 'ABC')");
  CHECK(dup.status().code() == Code::kConstraint);
  auto key = store->Execute("SELECT id FROM \"Weird \"\"Name\"\"\"");
  REQUIRE(key.ok());
  CHECK(key->rows[0][0].get<int64_t>() < 0);
  REQUIRE(store->Execute("INSERT INTO child (weird_id, note) VALUES (?, 'n')", key->rows[0]).ok());
  REQUIRE(store->Execute("DELETE FROM \"Weird \"\"Name\"\"\"").ok());
  CHECK(store->Execute("SELECT count(*) FROM child WHERE weird_id IS NULL")->rows[0][0] == 1);
}

}  // namespace outpost::testing
