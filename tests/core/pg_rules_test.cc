// Every rule the mirror translates is enforced offline exactly as PostgreSQL enforces it: a real
// PostgreSQL table with CHECKs and partial unique indexes of the kinds real schemas use (casts to
// enums, dates and timestamps, regular expressions, LIKE, JSON and array functions, ANY/ALL,
// IS DISTINCT FROM, ...), described by the server's catalog code, mirrored into a store; then
// each row of a table of cases is inserted into both, and both must accept it or both refuse it
// (the expected answer is part of the case, so PostgreSQL's side is checked too). What cannot be
// translated must be reported by name.
#include <catch2/catch.hpp>

#include "catalog.h"
#include "outpost/mirror.h"
#include "outpost/store.h"
#include "pg.h"
#include "pg_cluster.h"
#include "server_support.h"

namespace outpost::testing {

namespace {

const char* kDdl = R"sql(
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE order_status AS ENUM ('draft', 'open', 'paid', 'void');
CREATE TYPE "Kind" AS ENUM ('A', 'B');
CREATE TABLE rules (
  id int PRIMARY KEY,
  st order_status, k "Kind", label text, name text, code char(3), email citext,
  price numeric(10,2), qty int, d date, ts timestamp(3), tz timestamptz, data jsonb, items json,
  tags text[], ints int[], flag boolean, u uuid,
  CONSTRAINT st_not_void CHECK (st <> 'void'),
  CONSTRAINT st_early CHECK (st < 'paid'::order_status OR k = 'B'),
  CONSTRAINT label_kind CHECK (label::"Kind" IS NOT NULL OR label IS NULL),
  CONSTRAINT name_lower CHECK (name ~ '^[a-z ]+$'),
  CONSTRAINT name_no_x CHECK (name !~* 'x'),
  CONSTRAINT name_like CHECK (name NOT LIKE '%zz%' AND name NOT ILIKE 'q%'),
  CONSTRAINT name_not_bad CHECK (name IS DISTINCT FROM 'bad'),
  CONSTRAINT name_trimmed CHECK (btrim(name) = name AND char_length(name) <= 12),
  CONSTRAINT name_pieces CHECK (left(name, 1) <> 'z' AND substring(name from 2 for 2) <> 'ee'
    AND position('w' in name) <> 1 AND right(name, 1) <> 'y'),
  CONSTRAINT code_set CHECK (code IN ('AB', 'CD')),
  CONSTRAINT email_domain CHECK (email ~ '@example\.org$'),
  CONSTRAINT email_not_admin CHECK (email <> 'admin@example.org'),
  CONSTRAINT price_range CHECK (price > 0.5 AND price * 2 < 100),
  CONSTRAINT qty_ratio CHECK (100 / qty > 1),
  CONSTRAINT qty_not_unlucky CHECK (qty <> ALL (ARRAY[7, 13])),
  CONSTRAINT one_amount CHECK (num_nonnulls(price, qty) <= 1),
  CONSTRAINT d_recent CHECK (d > '2020-01-01'),
  CONSTRAINT ts_before CHECK (ts < '2030-01-01 10:00'),
  CONSTRAINT ts_after_d CHECK (ts::date >= d),
  CONSTRAINT tz_after CHECK (tz >= '2020-01-01T00:00:00Z'),
  CONSTRAINT data_object CHECK (jsonb_typeof(data) = 'object'),
  CONSTRAINT items_short CHECK (json_array_length(items) < 3),
  CONSTRAINT tags_few CHECK (cardinality(tags) < 3),
  CONSTRAINT tags_nonempty CHECK (array_length(tags, 1) > 0),
  CONSTRAINT tags_not_banned CHECK (NOT ('banned' = ANY (tags))),
  CONSTRAINT ints_no_13 CHECK (13 <> ALL (ints)),
  CONSTRAINT flag_needs_u CHECK (flag IS NOT TRUE OR u IS NOT NULL),
  CONSTRAINT untranslatable_now CHECK (tz < now() + interval '100 years'),
  CONSTRAINT untranslatable_word CHECK (name ~ '\w'),
  CONSTRAINT untranslatable_order CHECK (name < 'zzzz'),
  CONSTRAINT untranslatable_typmod CHECK (name::varchar(20) = name)
);
CREATE UNIQUE INDEX one_open_name ON rules (name) WHERE st = 'open';
CREATE UNIQUE INDEX one_recent_code ON rules (code) WHERE ts > '2025-01-01';
CREATE UNIQUE INDEX one_email ON rules (lower(email::text)) WHERE email ~ '^a';
CREATE UNIQUE INDEX one_solo_a ON rules (k) WHERE k = 'A' AND name ~ 'solo';
CREATE UNIQUE INDEX one_qty_per_day ON rules (qty)
  WHERE tz >= '2024-01-01 00:00:00+00' AND tz < '2024-01-02 00:00:00+00';
)sql";

// One row: its columns, its values in PostgreSQL's SQL and (when they differ, e.g. arrays) in
// the local SQL, and whether PostgreSQL accepts it.
struct Row {
  const char* columns;
  const char* pg_values;
  const char* local_values;  // nullptr: the same as pg_values
  bool accepted;
};

const Row kRows[] = {
    // Enums: a label comparison, declaration order, a cast of text to an enum.
    {"st", "'draft'", nullptr, true},
    {"st", "'void'", nullptr, false},
    {"st, k", "'paid', 'A'", nullptr, false},
    {"st, k", "'paid', 'B'", nullptr, true},
    {"label", "'A'", nullptr, true},
    {"label", "'C'", nullptr, false},
    // Regular expressions, LIKE, IS DISTINCT FROM, trimming and lengths.
    {"name", "'hello world'", nullptr, true},
    {"name", "'Hello'", nullptr, false},
    {"name", "'box'", nullptr, false},
    {"name", "'café'", nullptr, false},
    {"name", "'a zz b'", nullptr, false},
    {"name", "'quiet'", nullptr, false},
    {"name", "'bad'", nullptr, false},
    {"name", "' pad'", nullptr, false},
    {"name", "'abcdefghijklm'", nullptr, false},
    {"name", "'zebra'", nullptr, false},
    {"name", "'beep'", nullptr, false},
    {"name", "'wall'", nullptr, false},
    {"name", "'sky'", nullptr, false},
    // char(n) without its padding; citext without case, also in its regular expressions.
    {"code", "'AB'", nullptr, true},
    {"code", "'CD '", nullptr, true},
    {"code", "'XY'", nullptr, false},
    {"email", "'bob@EXAMPLE.ORG'", nullptr, true},
    {"email", "'bob@example.com'", nullptr, false},
    {"email", "'ADMIN@example.org'", nullptr, false},
    // numeric as a number; a division by zero is an error, so a refusal.
    {"price", "'1.50'", nullptr, true},
    {"price", "'0.40'", nullptr, false},
    {"price", "'60'", nullptr, false},
    {"qty", "10", nullptr, true},
    {"qty", "0", nullptr, false},
    {"qty", "60", nullptr, false},
    {"qty", "7", nullptr, false},
    {"price, qty", "'1.50', 10", nullptr, false},
    // Dates and times through their keys: fractions, offsets, infinities, a timestamp read as
    // a date.
    {"d", "'2021-01-01'", nullptr, true},
    {"d", "'2019-12-31'", nullptr, false},
    {"d", "'infinity'", nullptr, true},
    {"d", "'-infinity'", nullptr, false},
    {"ts", "'2030-01-01T09:59:59.999'", nullptr, true},
    {"ts", "'2030-01-01T10:00:00.001'", nullptr, false},
    {"ts, d", "'2024-05-01T01:00:00', '2024-05-01'", nullptr, true},
    {"ts, d", "'2024-05-01T23:00:00', '2024-05-02'", nullptr, false},
    {"tz", "'2020-01-01T00:00:00Z'", nullptr, true},
    {"tz", "'2020-01-01T00:00:00.5Z'", nullptr, true},
    {"tz", "'2019-12-31T23:59:59.999Z'", nullptr, false},
    {"tz", "'2020-01-01 01:00:00+02'", nullptr, false},
    // JSON types and lengths (the length of an object is an error in PostgreSQL).
    {"data", "'{\"a\": 1}'", nullptr, true},
    {"data", "'[1]'", nullptr, false},
    {"data", "'null'", nullptr, false},
    {"items", "'[1, 2]'", nullptr, true},
    {"items", "'[1, 2, 3]'", nullptr, false},
    {"items", "'{}'", nullptr, false},
    // Arrays: cardinality, array_length (NULL for an empty array), = ANY and <> ALL with NULLs
    // and two dimensions.
    {"tags", "ARRAY['a', 'b']", "'[\"a\",\"b\"]'", true},
    {"tags", "ARRAY['a', 'b', 'c']", "'[\"a\",\"b\",\"c\"]'", false},
    {"tags", "'{}'", "'[]'", true},
    {"tags", "ARRAY['banned']", "'[\"banned\"]'", false},
    {"tags", "ARRAY['x', NULL]", "'[\"x\",null]'", true},
    {"ints", "ARRAY[1, 13]", "'[1,13]'", false},
    {"ints", "ARRAY[[1, 2], [3, 4]]", "'[[1,2],[3,4]]'", true},
    {"ints", "ARRAY[[1, 13], [2, 3]]", "'[[1,13],[2,3]]'", false},
    {"flag", "true", nullptr, false},
    {"flag, u", "true, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'", nullptr, true},
    {"flag", "false", nullptr, true},
    // Partial unique indexes: an enum predicate, a timestamp predicate, a citext regular
    // expression predicate over an expression key, a timestamptz window.
    {"name, st", "'solo one', 'open'", nullptr, true},
    {"name, st", "'solo one', 'open'", nullptr, false},
    {"name, st", "'solo one', 'draft'", nullptr, true},
    {"code, ts", "'AB', '2025-06-01T00:00:00'", nullptr, true},
    {"code, ts", "'AB', '2025-07-01T00:00:00'", nullptr, false},
    {"code, ts", "'AB', '2024-07-01T00:00:00'", nullptr, true},
    {"email", "'alice@example.org'", nullptr, true},
    {"email", "'ALICE@example.org'", nullptr, false},
    {"k, name", "'A', 'solo a'", nullptr, true},
    {"k, name", "'A', 'solo b'", nullptr, false},
    {"k, name", "'A', 'duo'", nullptr, true},
    {"qty, tz", "5, '2024-01-01T10:00:00Z'", nullptr, true},
    {"qty, tz", "5, '2024-01-01 23:30:00-02'", nullptr, true},
    {"qty, tz", "5, '2024-01-01T23:59:59.5Z'", nullptr, false},
};

}  // namespace

TEST_CASE("translated CHECKs and partial unique indexes refuse what PostgreSQL refuses",
          "[core][pg_rules]") {
  auto& cluster = PgCluster::Shared();
  const std::string url = cluster.CreateDatabase("pg_rules");
  cluster.Psql(url, kDdl);
  auto pg = server::PgConnection::Connect(url);
  REQUIRE(pg.ok());
  auto schema = server::DescribeDatabase(pg->get(), "public", nullptr);
  INFO(schema.status().ToString());
  REQUIRE(schema.ok());
  REQUIRE(schema->tables.size() == 1);

  // Exactly the untranslatable rules are reported, by name and with the construct.
  MirrorDdl ddl = GenerateMirrorDdl(*schema);
  std::map<std::string, std::string> reported;
  for (const auto& n : ddl.not_mirrored) reported[n.object] = n.reason;
  CHECK(reported.size() == 4);
  CHECK_THAT(reported["untranslatable_now"], Catch::Contains("now()"));
  CHECK_THAT(reported["untranslatable_word"], Catch::Contains("\\w"));
  CHECK_THAT(reported["untranslatable_order"], Catch::Contains("collation"));
  CHECK_THAT(reported["untranslatable_typmod"], Catch::Contains("truncates or rounds"));

  auto store = MirrorInTempFile(*schema);
  int id = 0;
  for (const auto& row : kRows) {
    ++id;
    const std::string cols = std::string("id, ") + row.columns;
    const std::string pg_sql = "INSERT INTO rules (" + cols + ") VALUES (" + std::to_string(id) +
                               ", " + row.pg_values + ")";
    const std::string local_sql = "INSERT INTO rules (" + cols + ") VALUES (" + std::to_string(id) +
                                  ", " + (row.local_values ? row.local_values : row.pg_values) +
                                  ")";
    auto remote = (*pg)->Exec(pg_sql);
    auto local = store->Execute(local_sql);
    INFO("PostgreSQL: " << pg_sql << " -> " << remote.status().ToString());
    INFO("local:      " << local_sql << " -> " << local.status().ToString());
    CHECK(remote.ok() == row.accepted);
    CHECK(local.ok() == row.accepted);
    if (!local.ok()) CHECK(local.status().code() == Code::kConstraint);
  }
  // What both accepted is the same set of rows.
  auto pg_count = (*pg)->Exec("SELECT count(*) FROM rules");
  auto local_count = store->Execute("SELECT count(*) FROM rules");
  REQUIRE(pg_count.ok());
  REQUIRE(local_count.ok());
  CHECK(std::string(pg_count->get(0, 0)) == local_count->rows[0][0].dump());
}

TEST_CASE("regexp() serves SQLite's REGEXP operator in application SQL", "[core][pg_rules]") {
  auto store = Store::Open(":memory:");
  REQUIRE(store.ok());
  auto r = (*store)->Execute(
      "SELECT 'abc' REGEXP '^a', 'abc' REGEXP '(?i)^A', 'abc' REGEXP '^b', NULL REGEXP 'a'");
  REQUIRE(r.ok());
  CHECK(r->rows[0].dump() == "[1,1,0,null]");
  auto bad = (*store)->Execute("SELECT 'a' REGEXP '\\w'");
  REQUIRE_FALSE(bad.ok());
  CHECK_THAT(bad.status().message(), Catch::Contains("\\w"));
}

}  // namespace outpost::testing
