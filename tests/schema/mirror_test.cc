// DDL generation and PostgreSQL expression translation.
#include "outpost/mirror.h"

#include <catch2/catch.hpp>

namespace outpost {

namespace {
Table Entries() {
  Table t;
  t.name = "entries";
  t.columns = {
      {"id", {TypeKind::kUuid, "uuid"}, false, "gen_random_uuid()"},
      {"durationMin", {TypeKind::kInteger, "integer"}, false, std::nullopt},
      {"status", {TypeKind::kText, "character varying(16)"}, false, "'DRAFT'::character varying"},
      {"deleted_at", {TypeKind::kTimestamp, "timestamp(3) without time zone"}, true, std::nullopt},
      {"name", {TypeKind::kText, "text"}, true, std::nullopt}};
  t.primary_key = {"id"};
  return t;
}
}  // namespace

TEST_CASE("PostgreSQL check and predicate expressions translate to SQLite", "[schema][mirror]") {
  Table t = Entries();
  auto ok = [&](const char* pg, const char* lite) {
    auto r = TranslatePgExpression(pg, t);
    INFO(pg << " -> " << r.status().ToString());
    REQUIRE(r.ok());
    CHECK(*r == lite);
  };
  ok(R"((("durationMin" >= 0) AND ("durationMin" <= 1440)))",
     R"((("durationMin" >= 0) AND ("durationMin" <= 1440)))");
  ok(R"(((status)::text = ANY ((ARRAY['DRAFT'::character varying, 'SUBMITTED'::character varying])::text[])))",
     R"(("status" IN ('DRAFT', 'SUBMITTED')))");
  ok(R"((status)::text <> ALL (ARRAY['X'::text, 'Y'::text]))", R"(("status" NOT IN ('X', 'Y')))");
  ok("(deleted_at IS NULL)", R"(("deleted_at" IS NULL))");
  ok("(length(name) > 2)", R"((length("name") > 2))");
  ok("(name = 'it''s'::text)", R"(("name" = 'it''s'))");
  auto bad = [&](const char* pg, const char* fragment) {
    auto r = TranslatePgExpression(pg, t);
    INFO(pg);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kUnsupported);
    CHECK_THAT(r.status().message(), Catch::Contains(fragment));
  };
  bad(R"((name ~ '\w+'::text))", "\\w");
  bad("(deleted_at > now())", "now");
  bad("(missing > 1)", "missing");
  bad("(name > 'a'::text)", "collation");
}

TEST_CASE("generated DDL mirrors types, defaults and constraints and reports the rest",
          "[schema][mirror]") {
  Schema s;
  Table t = Entries();
  t.checks = {{"dur", R"((("durationMin" >= 0) AND ("durationMin" <= 1440)))"},
              {"re", R"((name ~ '\ya'::text))"}};
  t.indexes = {{"trgm", false, "gin", {"name"}, {false}, {false}, std::nullopt},
               {"live", false, "btree", {"status"}, {false}, {false}, "(deleted_at IS NULL)"}};
  t.foreign_keys = {{"fk_missing",
                     {"name"},
                     "elsewhere",
                     {"id"},
                     FkAction::kCascade,
                     FkAction::kNoAction,
                     false,
                     false}};
  s.tables = {t};
  MirrorDdl ddl = GenerateMirrorDdl(s);
  REQUIRE(ddl.tables.size() == 1);
  const std::string& create = ddl.tables[0].create_table;
  CHECK_THAT(create, Catch::Contains(R"("id" TEXT NOT NULL DEFAULT (outpost_uuid()))"));
  CHECK_THAT(create, Catch::Contains(R"("status" TEXT NOT NULL DEFAULT 'DRAFT')"));
  CHECK_THAT(create, Catch::Contains(R"(CONSTRAINT "dur" CHECK)"));
  CHECK_THAT(create, Catch::EndsWith("STRICT"));
  CHECK_THAT(create, !Catch::Contains("PRIMARY KEY"));
  REQUIRE(ddl.tables[0].create_indexes.size() == 2);
  // The key is a droppable unique index (KeyIndexName), first of the table's indexes.
  CHECK(ddl.tables[0].create_indexes[0] ==
        R"(CREATE UNIQUE INDEX "_outpost_key_entries" ON "entries" ("id"))");
  CHECK_THAT(ddl.tables[0].create_indexes[1], Catch::Contains(R"(WHERE ("deleted_at" IS NULL))"));
  std::vector<std::string> reported;
  for (const auto& n : ddl.not_mirrored) reported.push_back(n.object);
  CHECK_THAT(reported,
             Catch::UnorderedEquals(std::vector<std::string>{"re", "trgm", "fk_missing"}));
}

}  // namespace outpost
