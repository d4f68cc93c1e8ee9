// End to end for all five seed applications: a real PostgreSQL with the app's sample data, a real
// outpost-server, two clients of one tenant. Client A bootstraps, edits offline with plain SQL
// (inserts, updates, deletes, several statements in one transaction), pushes; client B pulls.
// PostgreSQL must hold the changes and both clients must equal PostgreSQL for their scope.
#include <catch2/catch.hpp>

#include "pg_cluster.h"
#include "e2e_harness.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;

struct AppCase {
  std::string app;
  std::string tenant_sql;  // PostgreSQL query for the tenant id ("" = single-tenant app)
  std::string user_sql;    // PostgreSQL query for a user id of that tenant ($T = tenant)
  std::string role;
  std::vector<std::string> edits;  // local SQL, named parameters :tenant and :user
  // PostgreSQL queries that must return 1 after the push (markers of the edits).
  std::vector<std::string> pg_checks;
};

std::vector<AppCase> Cases() {
  return {
      {"gogotime",
       "SELECT id FROM companies ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE \"companyId\" = '$T' ORDER BY id LIMIT 1",
       "admin",
       {"BEGIN",
        "INSERT INTO timesheet_entries (\"companyId\", \"userId\", \"actionCodeId\", country, "
        "\"durationMin\", day, note) VALUES (:tenant, :user, (SELECT id FROM action_codes WHERE "
        "\"companyId\" = :tenant ORDER BY id LIMIT 1), 'TH', 45, '2026-11-20', 'e2e-insert')",
        "UPDATE timesheet_entries SET \"durationMin\" = 77, note = 'e2e-update' WHERE id = (SELECT "
        "id FROM timesheet_entries WHERE note IS NOT 'e2e-insert' ORDER BY id LIMIT 1)",
        "COMMIT",
        "DELETE FROM timesheet_entries WHERE id = (SELECT id FROM timesheet_entries WHERE note IS "
        "NOT 'e2e-insert' AND note IS NOT 'e2e-update' ORDER BY id DESC LIMIT 1)"},
       {"SELECT count(*) FROM timesheet_entries WHERE note = 'e2e-insert' AND \"durationMin\" = 45",
        "SELECT count(*) FROM timesheet_entries WHERE note = 'e2e-update' AND \"durationMin\" = "
        "77"}},
      {"selly",
       "SELECT id FROM organizations ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE organization_id = '$T' ORDER BY id LIMIT 1",
       "customer_admin",
       {"INSERT INTO companies (organization_id, name_en) VALUES (:tenant, 'e2e-insert')", "BEGIN",
        "INSERT INTO company_contacts (company_id, first_name, last_name) VALUES ((SELECT id FROM "
        "companies WHERE name_en = 'e2e-insert'), 'Ada', 'E2e')",
        "UPDATE companies SET name_en = 'e2e-update' WHERE id = (SELECT id FROM companies WHERE "
        "name_en <> 'e2e-insert' ORDER BY id LIMIT 1)",
        "COMMIT",
        "DELETE FROM company_contacts WHERE id = (SELECT id FROM company_contacts WHERE last_name "
        "IS NOT 'E2e' ORDER BY id LIMIT 1)"},
       {"SELECT count(*) FROM companies WHERE name_en = 'e2e-insert'",
        "SELECT count(*) FROM companies WHERE name_en = 'e2e-update'",
        "SELECT count(*) FROM company_contacts WHERE full_name = 'Ada E2e'"}},
      {"erp",
       "SELECT id FROM tenants ORDER BY id LIMIT 1",
       "SELECT id FROM users WHERE \"tenantId\" = '$T' ORDER BY id LIMIT 1",
       "ADMIN",
       {"INSERT INTO analytics_events (id, \"tenantId\", \"eventType\", \"eventName\", properties) "
        "VALUES (outpost_uuid(), :tenant, 'e2e', 'e2e-insert', '{\"n\": [1, 2.5, \"x\"]}')",
        "UPDATE analytics_events SET \"eventName\" = 'e2e-update', properties = "
        "'{\"nested\": {\"k\": null}}' WHERE id = (SELECT id FROM analytics_events WHERE "
        "\"eventName\" <> 'e2e-insert' ORDER BY id LIMIT 1)",
        "DELETE FROM analytics_events WHERE id = (SELECT id FROM analytics_events WHERE "
        "\"eventName\" NOT IN ('e2e-insert', 'e2e-update') ORDER BY id DESC LIMIT 1)"},
       {"SELECT count(*) FROM analytics_events WHERE \"eventName\" = 'e2e-insert' AND "
        "properties = '{\"n\": [1, 2.5, \"x\"]}'::jsonb",
        "SELECT count(*) FROM analytics_events WHERE \"eventName\" = 'e2e-update' AND "
        "properties = '{\"nested\": {\"k\": null}}'::jsonb"}},
      {"ncy8",
       "SELECT id FROM \"Organization\" ORDER BY id LIMIT 1",
       "SELECT user_id FROM \"OrganizationMember\" WHERE organization_id = '$T' ORDER BY user_id "
       "LIMIT 1",
       "OWNER",
       {"INSERT INTO \"Task\" (project_id, title, metadata) VALUES ((SELECT id FROM \"Project\" "
        "WHERE organization_id = :tenant ORDER BY id LIMIT 1), 'e2e-insert', '{\"a\": 1}')",
        "UPDATE \"Task\" SET status = 'DONE', title = 'e2e-update' WHERE id = (SELECT id FROM "
        "\"Task\" WHERE title <> 'e2e-insert' ORDER BY id LIMIT 1)",
        "DELETE FROM \"Task\" WHERE id = (SELECT id FROM \"Task\" WHERE title NOT IN "
        "('e2e-insert', 'e2e-update') ORDER BY id DESC LIMIT 1)"},
       {"SELECT count(*) FROM \"Task\" WHERE title = 'e2e-insert'",
        "SELECT count(*) FROM \"Task\" WHERE title = 'e2e-update' AND status = 'DONE'"}},
      {"gemini_crm",
       "",
       "SELECT id FROM \"Users\" ORDER BY id LIMIT 1",
       "admin",
       {"BEGIN",
        "INSERT INTO \"Customers\" (\"firstName\", email, \"createdAt\", \"updatedAt\") VALUES "
        "('e2e-insert', 'e2e@example.com', '2026-11-23T10:00:00Z', '2026-11-23T10:00:00Z')",
        "INSERT INTO \"Orders\" (\"customerId\", total, \"createdAt\", \"updatedAt\") VALUES "
        "((SELECT id FROM \"Customers\" WHERE \"firstName\" = 'e2e-insert'), '12.50', "
        "'2026-11-23T10:00:00Z', '2026-11-23T10:00:00Z')",
        "COMMIT",
        "UPDATE \"Customers\" SET phone = 'e2e-update' WHERE id = (SELECT min(id) FROM "
        "\"Customers\" WHERE id > 0)",
        "DELETE FROM \"OrderItems\" WHERE id = (SELECT max(id) FROM \"OrderItems\")"},
       {"SELECT count(*) FROM \"Orders\" o JOIN \"Customers\" c ON c.id = o.\"customerId\" WHERE "
        "c.\"firstName\" = 'e2e-insert' AND o.total = 12.50",
        "SELECT count(*) FROM \"Customers\" WHERE phone = 'e2e-update'"}},
  };
}

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size())) {
    s.replace(p, from.size(), to);
  }
  return s;
}

void RequireEqualToPostgres(TestClient& client, const std::string& db, const AppCase& c,
                            const std::string& tenant, const std::string& user) {
  for (const auto& t : client.store().schema()->tables) {
    INFO(c.app << " table " << t.name);
    json local = client.Rows(t.name);
    json expected = ExpectedRows(db, c.app, t.name, tenant, user, c.role);
    CHECK(local.size() == expected.size());
    CHECK(local == expected);
  }
}

TEST_CASE("every seed app syncs end to end between two clients and PostgreSQL", "[sync][e2e]") {
  auto& cluster = PgCluster::Shared();
  for (const AppCase& c : Cases()) {
    DYNAMIC_SECTION(c.app) {
      std::string db = cluster.LoadApp("e2e_" + c.app, c.app, 300);
      ServerProcess server(db, c.app);
      std::string tenant = c.tenant_sql.empty() ? "" : PgScalar(db, c.tenant_sql);
      std::string user = PgScalar(db, Replace(c.user_sql, "$T", tenant));
      REQUIRE(!user.empty());
      std::string token = MintToken(tenant, user, c.role);
      TestClient a(server.url(), token);
      TestClient b(server.url(), token);

      SyncReport boot = a.Sync();
      CHECK(boot.rows_received > 0);
      RequireEqualToPostgres(a, db, c, tenant, user);

      json params = json::object();
      for (const auto& sql : c.edits) {
        bool named =
            sql.find(":tenant") != std::string::npos || sql.find(":user") != std::string::npos;
        if (named) {
          if (sql.find(":tenant") != std::string::npos) params[":tenant"] = tenant;
          if (sql.find(":user") != std::string::npos) params[":user"] = user;
          a.Sql(sql, params);
          params = json::object();
        } else {
          a.Sql(sql);
        }
      }
      REQUIRE(a.session().status().pending_mutations > 0);
      SyncReport pushed = a.Sync();
      CHECK(pushed.pushed_transactions >= 2);
      CHECK(pushed.rejected_transactions == 0);
      CHECK(a.session().status().pending_mutations == 0);
      for (const auto& check : c.pg_checks) {
        INFO(check);
        CHECK(PgScalar(db, check) == "1");
      }
      b.Sync();
      a.Sync();  // A's rebase set drains once its cursor passes its pushes
      RequireEqualToPostgres(a, db, c, tenant, user);
      RequireEqualToPostgres(b, db, c, tenant, user);
      if (c.app == "gemini_crm") {
        // The offline Customer's temporary key was replaced by the server's, in the row and in
        // the Order that referenced it.
        CHECK(a.Scalar("SELECT count(*) FROM \"Customers\" WHERE id < 0") == 0);
        CHECK(a.Scalar("SELECT count(*) FROM \"Orders\" o JOIN \"Customers\" c ON c.id = "
                       "o.\"customerId\" WHERE c.\"firstName\" = 'e2e-insert'") == 1);
      }
    }
  }
}

}  // namespace
}  // namespace outpost::testing
