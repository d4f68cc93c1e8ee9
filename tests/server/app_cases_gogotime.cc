// GoGoTime: the rules the issue names (enum, durationMin range, dangling foreign key, citext
// unique per company, cascade and SET NULL deletes) behave the same in PostgreSQL and locally.
#include "server_support.h"

namespace outpost::testing {
namespace {

// Deterministic sample ids (schema/apps/gogotime/sample-data.sql).
const std::string kCompany = "'4e59da50-40fc-5e0d-33c1-688ba4977baa'";
const std::string kUser1 = "'c2668b5c-86a0-47dd-b2c8-364c4f7f56fd'";
const std::string kUser2 = "'8824d19f-2de5-d50e-6ae2-c7d46b9c1c5b'";
const std::string kActionCode = "'9b82aba7-bf4f-b61c-f6fd-fb1f49110b62'";

std::string Entry(const std::string& id, const std::string& work_mode, int duration,
                  const std::string& action_code = kActionCode,
                  const std::string& timesheet = "NULL") {
  return "INSERT INTO \"timesheet_entries\" (\"id\", \"companyId\", \"userId\", \"timesheetId\", "
         "\"actionCodeId\", \"workMode\", \"country\", \"durationMin\", \"day\") VALUES ('" +
         id + "', " + kCompany + ", " + kUser1 + ", " + timesheet + ", " + action_code + ", '" +
         work_mode + "', 'FR', " + std::to_string(duration) + ", '2030-01-07')";
}

std::string Timesheet(const std::string& id, const std::string& start, const std::string& end) {
  return "INSERT INTO \"timesheets\" (\"id\", \"companyId\", \"userId\", \"periodStart\", "
         "\"periodEnd\") VALUES ('" +
         id + "', " + kCompany + ", " + kUser1 + ", '" + start + "', '" + end + "')";
}

}  // namespace

std::vector<RuleCase> GogotimeCases() {
  const std::string t1 = "aaaaaaaa-0000-4000-8000-000000000001";
  const std::string t2 = "aaaaaaaa-0000-4000-8000-000000000002";
  std::vector<RuleCase> cases;
  cases.push_back({"workMode outside its CHECK list",
                   {},
                   Entry("bbbbbbbb-0000-4000-8000-000000000001", "space", 60),
                   false});
  cases.push_back({"durationMin 1441 violates BETWEEN 0 AND 1440",
                   {},
                   Entry("bbbbbbbb-0000-4000-8000-000000000002", "office", 1441),
                   false});
  cases.push_back({"durationMin -1 violates BETWEEN 0 AND 1440",
                   {},
                   Entry("bbbbbbbb-0000-4000-8000-000000000003", "office", -1),
                   false});
  cases.push_back({"durationMin 1440 is allowed",
                   {},
                   Entry("bbbbbbbb-0000-4000-8000-000000000004", "remote", 1440),
                   true,
                   false,
                   "SELECT count(*) FROM \"timesheet_entries\" WHERE \"id\" = "
                   "'bbbbbbbb-0000-4000-8000-000000000004'"});
  cases.push_back({"dangling action code",
                   {},
                   Entry("bbbbbbbb-0000-4000-8000-000000000005", "office", 30,
                         "'00000000-0000-4000-8000-00000000dead'"),
                   false});
  cases.push_back({"NOT NULL country",
                   {},
                   "INSERT INTO \"timesheet_entries\" (\"id\", \"companyId\", \"userId\", "
                   "\"actionCodeId\", \"durationMin\", \"day\") VALUES "
                   "('bbbbbbbb-0000-4000-8000-000000000006', " +
                       kCompany + ", " + kUser1 + ", " + kActionCode + ", 10, '2030-01-07')",
                   false});
  cases.push_back({"email unique per company, differing only in case (citext)",
                   {},
                   "UPDATE \"users\" SET \"email\" = upper((SELECT \"email\" FROM \"users\" WHERE "
                   "\"id\" = " +
                       kUser2 + ")) WHERE \"id\" = " + kUser1,
                   false,
                   true});
  cases.push_back(
      {"deleting a timesheet cascades to its approvals",
       {Timesheet(t1, "2031-01-06", "2031-01-12"),
        "INSERT INTO \"timesheet_approvals\" (\"id\", \"companyId\", \"timesheetId\", "
        "\"approverId\") VALUES ('cccccccc-0000-4000-8000-000000000001', " +
            kCompany + ", '" + t1 + "', " + kUser2 + ")"},
       "DELETE FROM \"timesheets\" WHERE \"id\" = '" + t1 + "'",
       true,
       false,
       "SELECT count(*) FROM \"timesheet_approvals\" WHERE \"timesheetId\" = '" + t1 + "'"});
  cases.push_back(
      {"deleting a timesheet sets its entries' timesheetId to NULL",
       {Timesheet(t2, "2031-02-03", "2031-02-09"),
        Entry("bbbbbbbb-0000-4000-8000-000000000007", "hybrid", 90, kActionCode, "'" + t2 + "'")},
       "DELETE FROM \"timesheets\" WHERE \"id\" = '" + t2 + "'",
       true,
       false,
       "SELECT count(*) FROM \"timesheet_entries\" WHERE \"id\" = "
       "'bbbbbbbb-0000-4000-8000-000000000007' AND \"timesheetId\" IS NULL"});
  cases.push_back({"a timesheet for the same user and period twice",
                   {Timesheet("aaaaaaaa-0000-4000-8000-000000000003", "2032-01-05", "2032-01-11")},
                   Timesheet("aaaaaaaa-0000-4000-8000-000000000004", "2032-01-05", "2032-01-11"),
                   false});
  return cases;
}

}  // namespace outpost::testing
