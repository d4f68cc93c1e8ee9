// Row encoding (sync/server/src/rows.h): a table read in binary (RowFormat::kBinary) gives the
// very JSON that its text form gives, for the edge values of every mapped type and for every
// table of the five seed systems. Real PostgreSQL: the text form is PostgreSQL's own output.
#include "rows.h"

#include <catch2/catch.hpp>

#include "catalog.h"
#include "model.h"
#include "pg_cluster.h"

namespace outpost::testing {

namespace {

// The server model of every table of `url` with scope "all" (no secrets excluded: every column).
std::unique_ptr<server::ServerModel> ModelOfAll(server::PgConnection* pg) {
  auto described = server::DescribeDatabase(pg, "public", nullptr);
  INFO(described.status().ToString());
  REQUIRE(described.ok());
  nlohmann::json rules = {
      {"app", "rows_test"}, {"roles", {"r"}}, {"tables", nlohmann::json::object()}};
  for (const auto& t : described->tables) rules["tables"][t.name] = {{"scope", "all"}};
  auto parsed = ParseSyncRules(rules.dump());
  INFO(parsed.status().ToString());
  REQUIRE(parsed.ok());
  auto model = server::ServerModel::Build(*described, *parsed, "public");
  INFO(model.status().ToString());
  REQUIRE(model.ok());
  return std::move(model).value();
}

// The rows JSON of `t` read with `format`, ordered by every column's text (a total order that
// does not depend on the format).
std::string RowsJson(server::PgConnection* pg, const server::SyncedTable& t,
                     server::RowFormat format) {
  std::string sql = "SELECT " + server::ViewColumnsSql(t, "t", format) + " FROM " + t.qname +
                    " t ORDER BY (t.*)::text";
  auto r = pg->ExecCached(sql, {}, server::ResultFormatOf(format));
  INFO(sql);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  std::string out;
  Status s = server::AppendRowsJson(t, *r, 0, &out);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return out;
}

}  // namespace

TEST_CASE("binary rows give the JSON of text rows for the edge values of every type",
          "[server][rows]") {
  auto& cluster = PgCluster::Shared();
  std::string url = cluster.CreateDatabase("rows_binary_edges");
  cluster.Psql(url, R"sql(
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'très "bien"');
CREATE DOMAIN positive_int AS integer CHECK (VALUE > 0);
CREATE TABLE b (
  id int PRIMARY KEY, u uuid, t text, vc varchar(20), ch char(5), nm name, ci citext,
  i2 smallint, i4 integer, i8 bigint, dom positive_int, n numeric, r real, d double precision,
  bo boolean, dt date, ts timestamp, ts3 timestamp(3), tz timestamptz, j json, jb jsonb,
  ta text[], tsa timestamptz[], e mood, by bytea);
INSERT INTO b (id) VALUES (1);
INSERT INTO b VALUES
 (2, 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', E'Zoë "q" \\ tab\there\nnl', 'vc', 'ab', 'nm',
  'Mixed', -32768, -2147483648, -9223372036854775808, 1, '-12.50', '1e-45', '5e-324', true,
  '4713-01-01 BC', '0001-01-01 00:00:00', '1999-12-31 23:59:59.999', '1970-01-01 00:00:00.000001+00',
  '{"a": [1, {"b": null}]}', '{"z": 1}', '{"a,b",NULL,""}', '{"2024-01-01 10:00:00.5+00",NULL}',
  'très "bien"', '\x00ff10'),
 (3, 'ffffffff-ffff-ffff-ffff-ffffffffffff', '', '', '     ', '', 'ÄbÇ', 32767, 2147483647,
  9223372036854775807, 2147483647, 'NaN', 'NaN', '-Infinity', false, 'infinity', 'infinity',
  '-infinity', 'infinity', '[]', '{}', '{}', '{}', 'sad', '\x'),
 (4, '00000000-0000-0000-0000-000000000000', 'x', 'y', 'z', 'w', 'v', 0, 0, 0, 5, '0', '-0',
  '1.7976931348623157e308', true, '-infinity', '-infinity', '294276-12-31 23:59:59.999999',
  '-infinity', 'null', 'null', '{}', '{}', 'ok', '\x01'),
 (5, '0193a5b2-0000-7000-8000-000000000001', 'a', 'b', 'c', 'd', 'e', -1, -1, -1, 7, '1e-20',
  '3.4028235e38', '0.1', false, '1999-12-31', '1999-12-31 23:59:59.999999', '2000-01-01 00:00:00',
  '0044-03-15 12:00:00.1 BC', '1', '"s"', '{x}', '{}', 'ok', '\x02'),
 (6, '0193a5b2-0000-7000-8000-000000000002', 'a', 'b', 'c', 'd', 'e', 1, 1, 1, 8, '1', '1', '1',
  true, '2000-01-01', '2000-01-01 00:00:00.000001', '1899-12-31 23:59:59.5',
  '2024-02-29 23:59:59.999999+14', '2', '3', '{}', '{}', 'ok', '\x03'),
 (7, '0193a5b2-0000-7000-8000-000000000003', 'a', 'b', 'c', 'd', 'e', 1, 1, 1, 9, '1', '1', '1',
  true, '5874897-12-31', '10000-01-01 00:00:00', '0001-12-31 23:59:59.999 BC',
  '1969-12-31 23:59:59.999999+00', '2', '3', '{}', '{}', 'ok', '\x03');
CREATE TABLE with_inet (id int PRIMARY KEY, ip inet);
INSERT INTO with_inet VALUES (1, '10.0.0.1/32');
)sql");
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  auto model = ModelOfAll(pg->get());
  const server::SyncedTable* b = model->Find("b");
  REQUIRE(b);
  REQUIRE(server::RowFormatFor(*b) == server::RowFormat::kBinary);
  const std::string text = RowsJson(pg->get(), *b, server::RowFormat::kText);
  const std::string binary = RowsJson(pg->get(), *b, server::RowFormat::kBinary);
  CHECK(binary == text);
  // What the text form is (so that the comparison above compares something).
  CHECK(text.find("\"a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11\"") != std::string::npos);
  CHECK(text.find("-9223372036854775808") != std::string::npos);
  CHECK(text.find("\"1970-01-01T00:00:00.000001Z\"") != std::string::npos);
  CHECK(text.find("\"294277-01-01T00:00:00\"") != std::string::npos);  // timestamp(3) rounded
  CHECK(text.find("\"10000-01-01T00:00:00\"") != std::string::npos);
  CHECK(text.find("\"0001-12-31T23:59:59.999 BC\"") != std::string::npos);
  CHECK(text.find("\"1969-12-31T23:59:59.999999Z\"") != std::string::npos);
  CHECK(text.find("\"4713-01-01 BC\"") != std::string::npos);

  // inet's cast to text differs from its output: such a table is read as text.
  const server::SyncedTable* with_inet = model->Find("with_inet");
  REQUIRE(with_inet);
  CHECK(server::RowFormatFor(*with_inet) == server::RowFormat::kText);
}

TEST_CASE("binary rows give the JSON of text rows for every table of the seed systems",
          "[server][rows]") {
  auto& cluster = PgCluster::Shared();
  for (const char* app : {"selly", "erp", "ncy8", "gemini_crm", "gogotime"}) {
    DYNAMIC_SECTION(app) {
      std::string url = cluster.LoadApp(std::string("rows_") + app, app, 50);
      auto pg = server::PgConnection::Connect(url);
      REQUIRE(pg.ok());
      auto model = ModelOfAll(pg->get());
      int binary_tables = 0;
      for (const auto& t : model->tables()) {
        if (server::RowFormatFor(t) != server::RowFormat::kBinary) continue;
        ++binary_tables;
        INFO(app << "." << t.name());
        CHECK(RowsJson(pg->get(), t, server::RowFormat::kBinary) ==
              RowsJson(pg->get(), t, server::RowFormat::kText));
      }
      CHECK(binary_tables > 0);
    }
  }
}

}  // namespace outpost::testing
