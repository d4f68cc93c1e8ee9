// Selly, ERP, NCY_8 and Gemini CRM: CHECK lists, numeric ranges, dangling foreign keys, unique
// keys, NOT NULL, and cascade / SET NULL deletes behave the same in PostgreSQL and locally.
#include <string>
#include <vector>

#include "server_support.h"

namespace outpost::testing {
namespace {

// Quotes a literal for SQL.
std::string Q(const std::string& s) {
  return "'" + s + "'";
}

// Deterministic sample ids: md5('<app>:<kind>:<key>') as a UUID (see each sample-data.sql).
const std::string kSellyOrg1 = "fa77e9e5-7412-1f3c-8d2a-883a3d86d5f3";      // selly:organization:1
const std::string kSellyCompany1 = "25bc47a1-c0d5-23d6-475e-db88c849057b";  // selly:company:1
const std::string kSellyList11 = "4ee7a3c8-0ae5-be64-2468-48fedc20ac91";    // selly:list:1:1
const std::string kSellyStaff2Org2 = "e97863af-91cb-3dba-4840-f64920ab5913";  // selly:user:2:3

const std::string kErpTenant1 = "59f19782-5347-825f-a9ae-54f2fc0a909f";  // erp:tenant:1
const std::string kErpTenant3 = "c81d7c50-1e4b-df05-e34f-3136afd7cea2";  // erp:tenant:3
const std::string kErpUser12 = "9955e085-d903-e072-2536-d1f2162a729d";   // erp:user:1:2
const std::string kErpUser32 = "bedc9235-e454-11e2-3d92-a154c683f427";   // erp:user:3:2

const std::string kNcyOrg1 = "0ff14351-9005-caeb-955b-2d0f3340ce7a";    // ncy8:organization:1
const std::string kNcyUser1 = "a26a1b10-47ce-b86b-7192-0e690617b806";   // ncy8:user:1 (owns org 1)
const std::string kNcyUser4 = "b7fea3ea-5949-47a0-1c22-14a2e2bd7e4e";   // ncy8:user:4 (org 1)
const std::string kNcyUser7 = "2f32c930-c26f-9b2e-975b-04ea7d14c68b";   // ncy8:user:7 (org 1)
const std::string kNcyTeam11 = "c4da26f9-fdb5-185c-ead3-1dca1a078278";  // ncy8:team:1:1 (user 1)
const std::string kNcyProject11 = "19a8396d-a4ac-85c5-1b75-a0b943f82166";  // ncy8:project:1:1
const std::string kNcyTask1 = "7bff9760-622e-d8d0-a531-d91d9be8aca1";      // ncy8:task:1

const std::string kMissing = "00000000-0000-4000-8000-00000000dead";  // referenced by nothing
const std::string kTs = "'2024-01-01T10:00:00Z'";

std::string SellyCompany(const std::string& id) {
  return "INSERT INTO \"companies\" (\"id\", \"organization_id\", \"name_en\") VALUES (" + Q(id) +
         ", " + Q(kSellyOrg1) + ", 'Outpost Case Co.')";
}

std::string SellyContact(const std::string& id, const std::string& company) {
  return "INSERT INTO \"company_contacts\" (\"id\", \"company_id\", \"first_name\", "
         "\"last_name\") VALUES (" +
         Q(id) + ", " + Q(company) + ", 'Zoë', 'Case')";
}

std::string SellyListItem(const std::string& id, const std::string& company) {
  return "INSERT INTO \"company_list_items\" (\"id\", \"list_id\", \"company_id\", \"note\") "
         "VALUES (" +
         Q(id) + ", " + Q(kSellyList11) + ", " + Q(company) + ", 'case')";
}

std::string ErpEvent(const std::string& id, const std::string& tenant) {
  return "INSERT INTO \"analytics_events\" (\"id\", \"tenantId\", \"eventType\", \"eventName\", "
         "\"properties\", \"source\", \"timestamp\") VALUES (" +
         Q(id) + ", " + Q(tenant) +
         ", 'page_view', 'dashboard_opened', '{\"path\": \"/dash\", \"ms\": 42}', 'web', "
         "'2024-01-01T10:00:00')";
}

std::string NcyTask(const std::string& id, const std::string& project) {
  return "INSERT INTO \"Task\" (\"id\", \"project_id\", \"assignee_id\", \"title\", \"status\", "
         "\"priority\", \"due_date\") VALUES (" +
         Q(id) + ", " + Q(project) + ", " + Q(kNcyUser4) +
         ", 'Outpost case task', 'REVIEW', 'URGENT', '2030-01-01T09:00:00')";
}

std::string GeminiCustomer(int id) {
  return "INSERT INTO \"Customers\" (\"id\", \"firstName\", \"lastName\", \"email\", "
         "\"createdAt\", \"updatedAt\") VALUES (" +
         std::to_string(id) + ", 'Case', 'Customer', 'case@example.com', " + kTs + ", " + kTs + ")";
}

std::string GeminiOrder(int id, int customer) {
  return "INSERT INTO \"Orders\" (\"id\", \"customerId\", \"createdBy\", \"status\", \"total\", "
         "\"createdAt\", \"updatedAt\") VALUES (" +
         std::to_string(id) + ", " + std::to_string(customer) + ", 1, 'processing', '30.00', " +
         kTs + ", " + kTs + ")";
}

std::string GeminiItem(int id, int order) {
  return "INSERT INTO \"OrderItems\" (\"id\", \"orderId\", \"productId\", \"quantity\", \"price\", "
         "\"createdAt\", \"updatedAt\") VALUES (" +
         std::to_string(id) + ", " + std::to_string(order) + ", 1, 2, '15.00', " + kTs + ", " +
         kTs + ")";
}

std::string GeminiPreference(int id) {
  return "INSERT INTO \"NotificationPreferences\" (\"id\", \"userId\", \"notificationType\", "
         "\"enabled\", \"emailEnabled\", \"createdAt\", \"updatedAt\") VALUES (" +
         std::to_string(id) + ", 1, 'outpost_case', TRUE, FALSE, " + kTs + ", " + kTs + ")";
}

}  // namespace

// Selly: company_size CHECK list, data_quality_score BETWEEN 0 AND 1 (1.01 refused, 1.00 allowed),
// dangling company_id, unique (list_id, company_id), NOT NULL name_en, deleting a company cascades
// to contacts and list items, deleting a user sets the columns referencing it NULL.
std::vector<RuleCase> SellyCases() {
  const std::string company = "5e11e000-0000-4000-8000-000000000001";
  const std::string dup_company = "5e11e000-0000-4000-8000-000000000002";
  std::vector<RuleCase> cases;
  cases.push_back(
      {"companies.company_size outside its CHECK list",
       {},
       "UPDATE \"companies\" SET \"company_size\" = 'huge' WHERE \"id\" = " + Q(kSellyCompany1),
       false});
  cases.push_back({"data_quality_score 1.01 violates BETWEEN 0 AND 1",
                   {},
                   "UPDATE \"companies\" SET \"data_quality_score\" = '1.01' WHERE \"id\" = " +
                       Q(kSellyCompany1),
                   false});
  cases.push_back(
      {"data_quality_score 1.00 (the upper bound, as numeric(3,2) writes it) is allowed",
       {},
       "UPDATE \"companies\" SET \"data_quality_score\" = '1.00' WHERE \"id\" = " +
           Q(kSellyCompany1),
       true,
       false,
       "SELECT count(*) FROM \"companies\" WHERE \"id\" = " + Q(kSellyCompany1) +
           " AND \"data_quality_score\" = '1.00'"});
  cases.push_back({"contact of a company that does not exist",
                   {},
                   SellyContact("5e11e000-0000-4000-8000-0000000000c0", kMissing),
                   false});
  cases.push_back({"a company twice in the same list (unique list_id, company_id)",
                   {SellyCompany(dup_company),
                    SellyListItem("5e11e000-0000-4000-8000-0000000000a1", dup_company)},
                   SellyListItem("5e11e000-0000-4000-8000-0000000000a2", dup_company),
                   false});
  cases.push_back(
      {"NOT NULL companies.name_en",
       {},
       "UPDATE \"companies\" SET \"name_en\" = NULL WHERE \"id\" = " + Q(kSellyCompany1),
       false});
  cases.push_back(
      {"deleting a company cascades to its contacts and list items",
       {SellyCompany(company), SellyContact("5e11e000-0000-4000-8000-0000000000c1", company),
        SellyContact("5e11e000-0000-4000-8000-0000000000c2", company),
        SellyListItem("5e11e000-0000-4000-8000-0000000000a3", company)},
       "DELETE FROM \"companies\" WHERE \"id\" = " + Q(company),
       true,
       false,
       "SELECT (SELECT count(*) FROM \"company_contacts\" WHERE \"company_id\" = " + Q(company) +
           ") + (SELECT count(*) FROM \"company_list_items\" WHERE "
           "\"company_id\" = " +
           Q(company) +
           ") + (SELECT count(*) FROM "
           "\"company_contacts\")"});
  // Last: removes a sample user (users cannot be created here: password_hash is excluded).
  cases.push_back({"deleting a user sets the columns that reference it to NULL",
                   {},
                   "DELETE FROM \"users\" WHERE \"id\" = " + Q(kSellyStaff2Org2),
                   true,
                   true,
                   "SELECT (SELECT count(*) FROM \"companies\" WHERE \"created_by\" IS NULL) + "
                   "(SELECT count(*) FROM \"companies\" WHERE \"updated_by\" IS NULL) + "
                   "(SELECT count(*) FROM \"company_list_items\" WHERE \"added_by_user_id\" IS "
                   "NULL) + (SELECT count(*) FROM \"export_jobs\" WHERE \"requested_by\" IS NULL) "
                   "+ (SELECT count(*) FROM \"user_roles\")"});
  return cases;
}

// ERP: UserRole enum, unique (email, tenantId) refused within a tenant and allowed across tenants,
// dangling tenantId, NOT NULL eventName, a valid event, deleting a tenant cascades to its users,
// integrations and events.
std::vector<RuleCase> ErpCases() {
  std::vector<RuleCase> cases;
  cases.push_back({"users.role outside the UserRole enum",
                   {},
                   "UPDATE \"users\" SET \"role\" = 'OWNER' WHERE \"id\" = " + Q(kErpUser12),
                   false,
                   true});
  cases.push_back({"duplicate (email, tenantId) within a tenant",
                   {},
                   "UPDATE \"users\" SET \"email\" = 'admin@acme-retail.example' WHERE \"id\" = " +
                       Q(kErpUser12),
                   false,
                   true});
  cases.push_back({"the same email in another tenant is allowed",
                   {},
                   "UPDATE \"users\" SET \"email\" = 'ops@shared-agency.example' WHERE \"id\" = " +
                       Q(kErpUser32),
                   true,
                   true,
                   "SELECT count(*) FROM \"users\" WHERE \"email\" = 'ops@shared-agency.example'"});
  cases.push_back({"event of a tenant that does not exist",
                   {},
                   ErpEvent("e7e70000-0000-4000-8000-000000000001", kMissing),
                   false});
  cases.push_back({"NOT NULL analytics_events.eventName",
                   {},
                   "INSERT INTO \"analytics_events\" (\"id\", \"tenantId\", \"eventType\", "
                   "\"properties\") VALUES ('e7e70000-0000-4000-8000-000000000002', " +
                       Q(kErpTenant1) + ", 'page_view', '{}')",
                   false});
  cases.push_back(
      {"a valid event is accepted",
       {},
       ErpEvent("e7e70000-0000-4000-8000-000000000003", kErpTenant1),
       true,
       false,
       "SELECT count(*) FROM \"analytics_events\" WHERE \"tenantId\" = " + Q(kErpTenant1)});
  // Last: removes a sample tenant (tenants cannot be created here: encryptionKey is excluded).
  cases.push_back({"deleting a tenant cascades to its users, integrations and events",
                   {},
                   "DELETE FROM \"tenants\" WHERE \"id\" = " + Q(kErpTenant3),
                   true,
                   true,
                   "SELECT (SELECT count(*) FROM \"users\") + (SELECT count(*) FROM "
                   "\"integrations\") + (SELECT count(*) FROM \"analytics_events\")"});
  return cases;
}

// NCY_8: TaskStatus enum, dangling assignee_id, duplicate TeamMember primary key, duplicate
// OrganizationMember (organization_id, user_id), NOT NULL title, a valid task, deleting an
// organization cascades through teams, members, projects and tasks, deleting a user still
// referenced by "Organization".owner_id (NO ACTION) is refused.
std::vector<RuleCase> Ncy8Cases() {
  const std::string org = "0c480000-0000-4000-8000-000000000001";
  const std::string team = "0c480000-0000-4000-8000-000000000002";
  const std::string project = "0c480000-0000-4000-8000-000000000003";
  std::vector<RuleCase> cases;
  cases.push_back({"Task.status outside the TaskStatus enum",
                   {},
                   "UPDATE \"Task\" SET \"status\" = 'BLOCKED' WHERE \"id\" = " + Q(kNcyTask1),
                   false});
  cases.push_back(
      {"Task assigned to a user that does not exist",
       {},
       "UPDATE \"Task\" SET \"assignee_id\" = " + Q(kMissing) + " WHERE \"id\" = " + Q(kNcyTask1),
       false});
  cases.push_back({"duplicate TeamMember primary key (team_id, user_id)",
                   {},
                   "INSERT INTO \"TeamMember\" (\"team_id\", \"user_id\") VALUES (" +
                       Q(kNcyTeam11) + ", " + Q(kNcyUser1) + ")",
                   false});
  cases.push_back({"duplicate OrganizationMember (organization_id, user_id)",
                   {},
                   "INSERT INTO \"OrganizationMember\" (\"id\", \"organization_id\", \"user_id\", "
                   "\"role\") VALUES ('0c480000-0000-4000-8000-0000000000b1', " +
                       Q(kNcyOrg1) + ", " + Q(kNcyUser4) + ", 'ADMIN')",
                   false});
  cases.push_back({"NOT NULL Task.title",
                   {},
                   "INSERT INTO \"Task\" (\"id\", \"project_id\") VALUES "
                   "('0c480000-0000-4000-8000-0000000000f1', " +
                       Q(kNcyProject11) + ")",
                   false});
  cases.push_back({"a valid task is accepted",
                   {},
                   NcyTask("0c480000-0000-4000-8000-0000000000f2", kNcyProject11),
                   true,
                   false,
                   "SELECT count(*) FROM \"Task\" WHERE \"project_id\" = " + Q(kNcyProject11)});
  cases.push_back(
      {"deleting an organization cascades to members, teams, team members, projects and tasks",
       {"INSERT INTO \"Organization\" (\"id\", \"name\", \"slug\", \"owner_id\") VALUES (" +
            Q(org) + ", 'Outpost Cases', 'outpost-cases', " + Q(kNcyUser1) + ")",
        "INSERT INTO \"OrganizationMember\" (\"id\", \"organization_id\", \"user_id\", \"role\") "
        "VALUES ('0c480000-0000-4000-8000-0000000000b2', " +
            Q(org) + ", " + Q(kNcyUser7) + ", 'MANAGER')",
        "INSERT INTO \"Team\" (\"id\", \"organization_id\", \"name\") VALUES (" + Q(team) + ", " +
            Q(org) + ", 'Case team')",
        "INSERT INTO \"TeamMember\" (\"team_id\", \"user_id\") VALUES (" + Q(team) + ", " +
            Q(kNcyUser7) + ")",
        "INSERT INTO \"Project\" (\"id\", \"organization_id\", \"name\", \"status\") VALUES (" +
            Q(project) + ", " + Q(org) + ", 'Case project', 'INACTIVE')",
        NcyTask("0c480000-0000-4000-8000-0000000000f3", project),
        NcyTask("0c480000-0000-4000-8000-0000000000f4", project)},
       "DELETE FROM \"Organization\" WHERE \"id\" = " + Q(org),
       true,
       false,
       "SELECT (SELECT count(*) FROM \"OrganizationMember\") + (SELECT count(*) FROM \"Team\") + "
       "(SELECT count(*) FROM \"TeamMember\") + (SELECT count(*) FROM \"Project\") + "
       "(SELECT count(*) FROM \"Task\")"});
  cases.push_back({"deleting the owner of an organization (NO ACTION) is refused",
                   {},
                   "DELETE FROM \"User\" WHERE \"id\" = " + Q(kNcyUser1),
                   false,
                   true});
  return cases;
}

// Gemini CRM: Orders.status and Notifications.priority CHECK lists, unique Users.email, unique
// (userId, notificationType), dangling orderId, NOT NULL price, deleting an order cascades to its
// items, deleting a customer sets Orders.customerId NULL. Rows with explicit SERIAL keys are
// engine writes locally (keys >= 0 belong to the server).
std::vector<RuleCase> GeminiCrmCases() {
  std::vector<RuleCase> cases;
  cases.push_back({"Orders.status outside its CHECK list",
                   {},
                   "UPDATE \"Orders\" SET \"status\" = 'shipped' WHERE \"id\" = 1",
                   false});
  cases.push_back({"Notifications.priority outside its CHECK list",
                   {},
                   "UPDATE \"Notifications\" SET \"priority\" = 'urgent' WHERE \"id\" = 1",
                   false});
  cases.push_back({"duplicate Users.email",
                   {},
                   "UPDATE \"Users\" SET \"email\" = 'admin@geminicrm.com' WHERE \"id\" = 2",
                   false,
                   true});
  cases.push_back({"duplicate NotificationPreferences (userId, notificationType)",
                   {GeminiPreference(900001)},
                   GeminiPreference(900002),
                   false,
                   true});
  cases.push_back({"order item of an order that does not exist",
                   {},
                   "UPDATE \"OrderItems\" SET \"orderId\" = 999999 WHERE \"id\" = 1",
                   false});
  cases.push_back({"NOT NULL Products.price",
                   {},
                   "UPDATE \"Products\" SET \"price\" = NULL WHERE \"id\" = 1",
                   false});
  cases.push_back({"deleting an order cascades to its items",
                   {GeminiCustomer(900001), GeminiOrder(900001, 900001), GeminiItem(900001, 900001),
                    GeminiItem(900002, 900001)},
                   "DELETE FROM \"Orders\" WHERE \"id\" = 900001",
                   true,
                   false,
                   "SELECT (SELECT count(*) FROM \"OrderItems\" WHERE \"orderId\" = 900001) + "
                   "(SELECT count(*) FROM \"OrderItems\")"});
  cases.push_back({"deleting a customer sets Orders.customerId NULL",
                   {GeminiCustomer(900002), GeminiOrder(900002, 900002),
                    GeminiOrder(900003, 900002), GeminiItem(900003, 900002)},
                   "DELETE FROM \"Customers\" WHERE \"id\" = 900002",
                   true,
                   false,
                   "SELECT (SELECT count(*) FROM \"Orders\" WHERE \"id\" IN (900002, 900003) AND "
                   "\"customerId\" IS NULL) * 1000 + (SELECT count(*) FROM \"Orders\" WHERE "
                   "\"customerId\" IS NULL)"});
  return cases;
}

}  // namespace outpost::testing
