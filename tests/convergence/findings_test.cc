// Minimal reproductions of the product bugs the convergence harness found (FINDINGS.md), kept as
// regression tests now that they are fixed (`convergence_tests "[findings]"` runs F1 and F2
// alone). A new open finding would be hidden ([.findings]) until its fix lands.
#include <catch2/catch.hpp>

#include "e2e_harness.h"
#include "pg_cluster.h"

namespace outpost::testing {
namespace {

using json = nlohmann::json;

// F1: a user leaving a referenced_by scope is deleted locally with ON DELETE CASCADE, taking rows
// with it that are still in scope.
TEST_CASE("F1: a row leaving a referenced_by scope does not cascade to in-scope children",
          "[findings]") {
  const std::string db = PgCluster::Shared().LoadApp("finding_f1", "ncy8", 40);
  ServerProcess server(db, "ncy8");
  // A team member whose user belongs to the team's organisation through one membership.
  const std::string row = PgScalar(
      db,
      "SELECT tm.team_id || ' ' || tm.user_id || ' ' || t.organization_id FROM \"TeamMember\" tm "
      "JOIN \"Team\" t ON t.id = tm.team_id JOIN \"OrganizationMember\" om ON om.user_id = "
      "tm.user_id AND om.organization_id = t.organization_id ORDER BY 1 LIMIT 1");
  REQUIRE_FALSE(row.empty());
  const std::string team = row.substr(0, 36), user = row.substr(37, 36), org = row.substr(74, 36);
  const std::string owner = PgScalar(
      db, "SELECT user_id FROM \"OrganizationMember\" WHERE organization_id = '" + org +
              "' AND user_id <> '" + user + "' ORDER BY user_id LIMIT 1");
  TestClient client(server.url(), MintToken(org, owner, "OWNER"));
  client.Sync();
  const std::string count =
      "SELECT count(*) FROM \"TeamMember\" WHERE team_id = '" + team + "' AND user_id = '" + user + "'";
  REQUIRE(client.Scalar(count) == 1);
  // The user leaves the organisation; the team membership stays (and stays in scope: its team
  // is the organisation's).
  PgCluster::Shared().Psql(db, "DELETE FROM \"OrganizationMember\" WHERE organization_id = '" + org +
                                   "' AND user_id = '" + user + "'");
  client.Sync();
  CHECK(client.Rows("TeamMember") == ExpectedRows(db, "ncy8", "TeamMember", org, owner, "OWNER"));
  CHECK(client.Scalar(count) == 1);
}

// F2: a `via` child whose parent the role's row filter hides (the child is in scope: scopes
// follow the parent's tenant, not its filter) stays on the client after a cascade deleted it.
// The cascaded deletion logs no tenant and the client cannot cascade locally: it never had the
// parent.
TEST_CASE("F2: a cascaded delete reaches clients that do not see the parent", "[findings]") {
  const std::string db = PgCluster::Shared().LoadApp("finding_f2", "selly", 40);
  ServerProcess server(db, "selly");
  const std::string org = PgScalar(db, "SELECT id FROM organizations ORDER BY id LIMIT 1");
  const std::string me = PgScalar(db, "SELECT id FROM users WHERE organization_id = '" + org +
                                          "' ORDER BY id LIMIT 1");
  const std::string other = PgScalar(db, "SELECT id FROM users WHERE organization_id = '" + org +
                                             "' ORDER BY id OFFSET 1 LIMIT 1");
  const std::string company =
      PgScalar(db, "SELECT id FROM companies WHERE organization_id = '" + org + "' ORDER BY id LIMIT 1");
  REQUIRE_FALSE(other.empty());
  REQUIRE_FALSE(company.empty());
  // A list owned by the other user: a customer_user does not see it, but sees its items.
  const std::string list = "00000000-0000-4000-8000-00000000f002";
  PgCluster::Shared().Psql(db, "INSERT INTO company_lists (id, organization_id, owner_user_id, name) "
                               "VALUES ('" + list + "', '" + org + "', '" + other + "', 'theirs')");
  PgCluster::Shared().Psql(db, "INSERT INTO company_list_items (list_id, company_id) VALUES ('" +
                                   list + "', '" + company + "')");
  TestClient client(server.url(), MintToken(org, me, "customer_user"));
  client.Sync();
  const std::string items = "SELECT count(*) FROM company_list_items WHERE list_id = '" + list + "'";
  REQUIRE(client.Scalar("SELECT count(*) FROM company_lists WHERE id = '" + list + "'") == 0);
  REQUIRE(client.Scalar(items) == 1);
  REQUIRE(client.Rows("company_list_items") ==
          ExpectedRows(db, "selly", "company_list_items", org, me, "customer_user"));
  // The list is deleted; ON DELETE CASCADE deletes the item in PostgreSQL.
  PgCluster::Shared().Psql(db, "DELETE FROM company_lists WHERE id = '" + list + "'");
  client.Sync();
  CHECK(client.Scalar(items) == 0);
  CHECK(client.Rows("company_list_items") ==
        ExpectedRows(db, "selly", "company_list_items", org, me, "customer_user"));
}

// F4: a pulled row whose reference is outside the client's scope is parked during an
// incremental page; parking deletes it locally, and ON DELETE CASCADE takes its children with it.
// The row comes back (unparked, dangling) when the pull is caught up; the children never do.
TEST_CASE("F4: parking a parent row does not cascade to its children", "[findings]") {
  const std::string db = PgCluster::Shared().LoadApp("finding_f4", "ncy8", 40);
  ServerProcess server(db, "ncy8");
  const std::string org = PgScalar(db, "SELECT id FROM \"Organization\" ORDER BY id LIMIT 1");
  const std::string owner = PgScalar(db, "SELECT user_id FROM \"OrganizationMember\" WHERE "
                                         "organization_id = '" + org + "' ORDER BY user_id LIMIT 1");
  // A user who is not a member of the organisation: outside its `referenced_by` User scope.
  const std::string stranger = PgScalar(
      db, "SELECT id FROM \"User\" WHERE id NOT IN (SELECT user_id FROM \"OrganizationMember\" "
          "WHERE organization_id = '" + org + "') ORDER BY id LIMIT 1");
  REQUIRE_FALSE(stranger.empty());
  TestClient client(server.url(), MintToken(org, owner, "OWNER"));
  client.Sync();
  const int64_t members = client.Scalar("SELECT count(*) FROM \"OrganizationMember\"");
  REQUIRE(members > 0);
  PgCluster::Shared().Psql(db, "UPDATE \"Organization\" SET owner_id = '" + stranger +
                                   "' WHERE id = '" + org + "'");
  client.Sync();
  CHECK(client.Scalar("SELECT count(*) FROM \"OrganizationMember\"") == members);
  CHECK(client.Rows("OrganizationMember") ==
        ExpectedRows(db, "ncy8", "OrganizationMember", org, owner, "OWNER"));
}

// F3: restoring the server's row for a rejected transaction collides on a UNIQUE constraint with
// a later pending write of the same client; the whole push answer fails to apply, and since the
// server returns the same recorded answer every time, the client can never sync again.
// Fixed on main (4d683e4): kept as a regression test.
TEST_CASE("F3: a rejection's restored row colliding with a pending write does not wedge the client",
          "[convergence][regression]") {
  const std::string db = PgCluster::Shared().LoadApp("finding_f3", "gemini_crm", 40);
  ServerProcess server(db, "gemini_crm");
  const std::string user = PgScalar(db, "SELECT \"userId\" FROM \"UserNotifications\" GROUP BY 1 "
                                        "HAVING count(*) >= 2 ORDER BY 1 LIMIT 1");
  REQUIRE_FALSE(user.empty());
  const std::string a = PgScalar(db, "SELECT id FROM \"UserNotifications\" WHERE \"userId\" = " +
                                         user + " ORDER BY id LIMIT 1");
  const std::string b = PgScalar(db, "SELECT id FROM \"UserNotifications\" WHERE \"userId\" = " +
                                         user + " ORDER BY id OFFSET 1 LIMIT 1");
  const std::string a_notification =
      PgScalar(db, "SELECT \"notificationId\" FROM \"UserNotifications\" WHERE id = " + a);
  const std::string free_notification = PgScalar(
      db, "SELECT id FROM \"Notifications\" WHERE id NOT IN (SELECT \"notificationId\" FROM "
          "\"UserNotifications\" WHERE \"userId\" = " + user +
          " AND \"notificationId\" IS NOT NULL) ORDER BY id LIMIT 1");
  const std::string order = PgScalar(db, "SELECT id FROM \"Orders\" ORDER BY id LIMIT 1");
  const std::string product = PgScalar(
      db, "INSERT INTO \"Products\" (name, price, \"createdAt\", \"updatedAt\") VALUES "
          "('doomed', 1, now(), now()) RETURNING id");
  TestClient client(server.url(), MintToken("", user, "admin"));
  client.Sync();
  // The product goes away on the server; the client does not know yet.
  PgCluster::Shared().Psql(db, "DELETE FROM \"Products\" WHERE id = " + product);
  // tx 1: A takes a free notification, and an order item references the vanished product (the
  // server rejects tx 1 and restores A to its old notification).
  client.Sql("BEGIN");
  client.Sql("UPDATE \"UserNotifications\" SET \"notificationId\" = " + free_notification +
             " WHERE id = " + a);
  client.Sql("INSERT INTO \"OrderItems\" (\"orderId\", \"productId\", quantity, price, "
             "\"createdAt\", \"updatedAt\") VALUES (" + order + ", " + product +
             ", 1, '1.00', '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')");
  client.Sql("COMMIT");
  // tx 2: B takes A's old notification (free locally after tx 1).
  client.Sql("UPDATE \"UserNotifications\" SET \"notificationId\" = " + a_notification +
             " WHERE id = " + b);
  auto first = client.TrySync();
  INFO(first.status().ToString());
  CHECK(first.ok());
  auto second = client.TrySync();
  INFO(second.status().ToString());
  CHECK(second.ok());
  CHECK(client.session().status().pending_mutations == 0);
  CHECK(client.Rows("UserNotifications") ==
        ExpectedRows(db, "gemini_crm", "UserNotifications", "", user, "admin"));
}

}  // namespace
}  // namespace outpost::testing
