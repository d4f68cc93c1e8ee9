// Type round trip (docs/types.md): values produced by PostgreSQL go into SQLite through the type
// mapping and come back into PostgreSQL unchanged (IS NOT DISTINCT FROM the original).
#include <catch2/catch.hpp>

#include "outpost/value.h"
#include "pg_cluster.h"
#include "server_support.h"

namespace outpost::testing {

namespace {

const char* kDdl = R"sql(
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy', 'très "bien"');
CREATE TABLE rt (
  id int PRIMARY KEY,
  u uuid, t text, vc varchar(20), ch char(5), ci citext,
  i2 smallint, i4 integer, i8 bigint,
  n numeric, n102 numeric(10,2),
  r real, d double precision,
  b boolean, dt date, ts timestamp, ts3 timestamp(3), tz timestamptz,
  j json, jb jsonb,
  ta text[], ia int[], na numeric[], ba boolean[], ia2 int[][], tsa timestamptz[],
  e mood, ea mood[],
  ip inet, net cidr, by bytea,
  iv interval, tm time, mo money
);
INSERT INTO rt (id) VALUES (1);
INSERT INTO rt VALUES (2,
  'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', 'plain', 'vc', 'ab', 'Mixed',
  1, 2, 3, '12.5', '99.99', 1.5, 2.25,
  true, '2024-02-29', '2024-02-29 23:59:59.999999', '2024-01-01 00:00:00.123',
  '2024-06-30 23:59:59.123456+02',
  '{"a": [1, 2, {"b": null}], "c": "ü"}', '{"z": 1, "a": {"b": [true, false, null, 1.5e300]}}',
  '{"a,b","c\"d",NULL,"","NULL","back\\slash"}', '{1,NULL,-3}', '{1.50,-2,NaN}', '{t,f,NULL}',
  '{{1,2},{3,4}}', '{"2024-01-01 10:00:00.5+00",NULL}',
  'très "bien"', '{sad,"très \"bien\""}',
  '192.168.0.1/24', '10.0.0.0/8', '\x00ff10',
  '1 year 2 mons -3 days 04:05:06.789', '23:59:59.999999', '1234.56');
INSERT INTO rt VALUES (3,
  '00000000-0000-0000-0000-000000000000', E'Zoë 東京 🚀 "q" \\ tab\there\nnewline', '',
  '     ', 'ÄbÇ',
  -32768, 2147483647, -9223372036854775808,
  '-123456789012345678901234567890.123456789012345678901234567890', '-0.01',
  '3.4028235e38', '1.7976931348623157e308',
  false, '4713-01-01 BC', '0001-01-01 00:00:00', '1999-12-31 23:59:59.999',
  '1970-01-01 00:00:00.000001+00',
  '[]', '{}',
  '{}', '{}', '{}', '{}', '{}', '{}',
  'sad', '{}',
  '::1', '2001:db8::/32', '\x',
  '-178000000 years', '00:00:00', '-0.01');
INSERT INTO rt (id, r, d, n, ts, tz, dt) VALUES
  (4, '-Infinity', 'Infinity', 'Infinity', 'infinity', '-infinity', 'infinity'),
  (5, '1e-45', '5e-324', 'NaN', '294276-12-31 23:59:59.999999', '2000-02-29 12:00:00+14', '5874897-12-31'),
  (6, '-0', '0.1', '0', '2024-01-01 00:00:00', '2024-01-01 00:00:00-12', '2024-01-01');
)sql";

}  // namespace

TEST_CASE("every mapped type round-trips PostgreSQL -> SQLite -> PostgreSQL", "[server][types]") {
  auto& cluster = PgCluster::Shared();
  std::string url = cluster.CreateDatabase("roundtrip");
  cluster.Psql(url, kDdl);
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  auto schema = server::DescribeDatabase(pg->get(), "public", nullptr);
  INFO(schema.status().ToString());
  REQUIRE(schema.ok());
  const Table& rt = *schema->FindTable("rt");
  CHECK(rt.FindColumn("ci")->type.kind == TypeKind::kCitext);
  CHECK(rt.FindColumn("ea")->type.kind == TypeKind::kArray);
  CHECK(rt.FindColumn("ea")->type.element == TypeKind::kEnum);
  CHECK(rt.FindColumn("iv")->type.kind == TypeKind::kOtherText);

  auto store = MirrorInTempFile(*schema);
  CopyAllRows(pg->get(), *schema, store.get());

  // Local forms follow docs/types.md.
  auto local = store->Execute("SELECT u, ts, tz, b, ta, by, ea FROM rt WHERE id = 2");
  REQUIRE(local.ok());
  const auto& row = local->rows[0];
  CHECK(row[0] == "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
  CHECK(row[1] == "2024-02-29T23:59:59.999999");
  CHECK(row[2] == "2024-06-30T21:59:59.123456Z");
  CHECK(row[3] == true);
  CHECK(row[4] == R"(["a,b","c\"d",null,"","NULL","back\\slash"])");
  CHECK(row[5] == nlohmann::json{{"$blob", "AP8Q"}});
  CHECK(row[6] == R"(["sad","très \"bien\""])");

  // Back into PostgreSQL, column by column.
  auto stmt = store->Prepare("SELECT * FROM rt ORDER BY id");
  REQUIRE(stmt.ok());
  int rows = 0;
  while (*stmt->Step()) {
    ++rows;
    int64_t id = std::get<int64_t>(stmt->column_value(0));
    for (size_t c = 1; c < rt.columns.size(); ++c) {
      const Column& col = rt.columns[c];
      Value v = stmt->column_value(static_cast<int>(c));
      INFO("row " << id << " column " << col.name << " (" << col.type.pg_type << ")");
      auto original_null =
          (*pg)->Exec("SELECT " + QuoteIdent(col.name) + " IS NULL FROM rt WHERE id = $1",
                      {std::to_string(id)});
      REQUIRE(original_null.ok());
      bool was_null = original_null->get(0, 0) == "t";
      CHECK(IsNull(v) == was_null);
      if (IsNull(v)) continue;
      auto text = ValueToPgText(col.type, v);
      INFO(text.status().ToString());
      REQUIRE(text.ok());
      INFO("text: " << *text);
      // json has no equality operator: compare its (preserved) text instead.
      std::string lhs = "$1::" + col.type.pg_type, rhs = QuoteIdent(col.name);
      if (col.type.pg_type == "json") {
        lhs += "::text";
        rhs += "::text";
      }
      auto same =
          (*pg)->Exec("SELECT " + lhs + " IS NOT DISTINCT FROM " + rhs + " FROM rt WHERE id = $2",
                      {*text, std::to_string(id)});
      INFO(same.status().ToString());
      REQUIRE(same.ok());
      CHECK(same->get(0, 0) == "t");
    }
  }
  CHECK(rows == 6);
}

TEST_CASE("values SQLite cannot hold losslessly are refused, not altered", "[server][types]") {
  auto& cluster = PgCluster::Shared();
  std::string url = cluster.CreateDatabase("roundtrip_nan");
  cluster.Psql(url,
               "CREATE TABLE f (id int PRIMARY KEY, d double precision);"
               "INSERT INTO f VALUES (1, 'NaN')");
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  auto r = (*pg)->Exec("SELECT d FROM f");
  REQUIRE(r.ok());
  ColumnType dbl{TypeKind::kReal, "double precision", TypeKind::kText, {}};
  auto v = PgTextToValue(dbl, r->get(0, 0));
  REQUIRE_FALSE(v.ok());
  CHECK(v.status().code() == Code::kUnsupported);
}

}  // namespace outpost::testing
