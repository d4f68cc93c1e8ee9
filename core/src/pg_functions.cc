// The SQL functions that translated PostgreSQL rules call (outpost/pg_eval.h has their
// semantics; schema/src/pg_expr.cc emits the calls; docs/types.md lists them):
//
//   regexp(pattern, text)                 PostgreSQL's `text ~ pattern` over the subset PgRegex
//                                         accepts ("(?i)" leading: ~*); SQLite's REGEXP operator
//                                         calls it, so `text REGEXP pattern` works in app SQL too
//   outpost_pg_time_key(text, kind)       the comparison key of a date/timestamp/timestamptz
//   outpost_pg_array_has(array, v, mode)  v = ANY (array), three-valued
//   outpost_pg_cardinality(array)         cardinality(array)
//   outpost_pg_error(message, value)      fails the statement as a constraint violation (what
//                                         PostgreSQL's failing cast or division does)
//
// All are deterministic and innocuous (SQLite allows only such functions in CHECK constraints,
// partial-index predicates and index expressions) and registered on every store connection with
// the capture functions. A SQLite connection without them can read the mirror but not write the
// tables whose rules call them.
#include <optional>
#include <string>

#include "outpost/pg_eval.h"
#include "sqlite_util.h"
#include "store_impl.h"

namespace outpost {
namespace {

std::string_view TextOf(sqlite3_value* v) {
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(v));
  return p ? std::string_view(p, static_cast<size_t>(sqlite3_value_bytes(v))) : std::string_view();
}

void ResultStatus(sqlite3_context* ctx, const Status& s) {
  const std::string msg = "outpost: " + s.message();
  sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
}

void DeleteRegex(void* p) {
  delete static_cast<PgRegex*>(p);
}

void FnRegexp(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  // The compiled pattern is kept while SQLite keeps the argument constant (a statement's
  // lifetime for a literal pattern, which every translated rule has).
  if (auto* cached = static_cast<const PgRegex*>(sqlite3_get_auxdata(ctx, 0))) {
    sqlite3_result_int(ctx, cached->Search(TextOf(argv[1])) ? 1 : 0);
    return;
  }
  auto compiled = PgRegex::Compile(TextOf(argv[0]));
  if (!compiled.ok()) {
    ResultStatus(ctx, compiled.status());
    return;
  }
  sqlite3_result_int(ctx, compiled->Search(TextOf(argv[1])) ? 1 : 0);
  // Last: SQLite may destroy the data before this call returns.
  sqlite3_set_auxdata(ctx, 0, new PgRegex(std::move(compiled).value()), DeleteRegex);
}

std::optional<TypeKind> TimeKind(std::string_view name) {
  if (name == "date") return TypeKind::kDate;
  if (name == "timestamp") return TypeKind::kTimestamp;
  if (name == "timestamptz") return TypeKind::kTimestamptz;
  return std::nullopt;
}

void FnTimeKey(sqlite3_context* ctx, int, sqlite3_value** argv) {
  auto kind = TimeKind(TextOf(argv[1]));
  if (!kind) {
    sqlite3_result_error(ctx, "outpost_pg_time_key: unknown kind", -1);
    return;
  }
  // Text that is no date or time has no key: the rule is left to the server, which refuses the
  // value itself.
  if (sqlite3_value_type(argv[0]) != SQLITE_TEXT) {
    sqlite3_result_null(ctx);
    return;
  }
  auto key = PgTimeKey(TextOf(argv[0]), *kind);
  if (key) {
    sqlite3_result_int64(ctx, *key);
  } else {
    sqlite3_result_null(ctx);
  }
}

void FnArrayHas(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  static const std::pair<const char*, PgElementCompare> kModes[] = {
      {"text", PgElementCompare::kText},
      {"nocase", PgElementCompare::kNoCase},
      {"bpchar", PgElementCompare::kBpchar},
      {"number", PgElementCompare::kNumber},
      {"date", PgElementCompare::kDate},
      {"timestamp", PgElementCompare::kTimestamp},
      {"timestamptz", PgElementCompare::kTimestamptz}};
  std::string_view mode = TextOf(argv[2]);
  const PgElementCompare* compare = nullptr;
  for (const auto& [name, c] : kModes) {
    if (mode == name) compare = &c;
  }
  if (!compare) {
    sqlite3_result_error(ctx, "outpost_pg_array_has: unknown mode", -1);
    return;
  }
  PgScalar v;
  switch (sqlite3_value_type(argv[1])) {
    case SQLITE_INTEGER:
      v.kind = PgScalar::Kind::kInteger;
      v.integer = sqlite3_value_int64(argv[1]);
      break;
    case SQLITE_FLOAT:
      v.kind = PgScalar::Kind::kReal;
      v.real = sqlite3_value_double(argv[1]);
      break;
    case SQLITE_NULL: break;
    default: v.kind = PgScalar::Kind::kText; v.text = TextOf(argv[1]);
  }
  auto r = PgArrayContains(TextOf(argv[0]), v, *compare);
  if (!r.ok()) {
    ResultStatus(ctx, r.status());
  } else if (!*r) {
    sqlite3_result_null(ctx);
  } else {
    sqlite3_result_int(ctx, **r ? 1 : 0);
  }
}

void FnCardinality(sqlite3_context* ctx, int, sqlite3_value** argv) {
  if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
    sqlite3_result_null(ctx);
    return;
  }
  auto n = PgArrayCardinality(TextOf(argv[0]));
  if (n.ok()) {
    sqlite3_result_int64(ctx, *n);
  } else {
    ResultStatus(ctx, n.status());
  }
}

void FnError(sqlite3_context* ctx, int, sqlite3_value** argv) {
  std::string msg = "outpost: " + std::string(TextOf(argv[0]));
  if (sqlite3_value_type(argv[1]) != SQLITE_NULL)
    msg += ": \"" + std::string(TextOf(argv[1])) + "\"";
  sqlite3_result_error(ctx, msg.c_str(), static_cast<int>(msg.size()));
  // A constraint violation, like the PostgreSQL error it stands for (Store reports
  // constraint_violation).
  sqlite3_result_error_code(ctx, SQLITE_CONSTRAINT_FUNCTION);
}

}  // namespace

Status RegisterPgFunctions(sqlite3* db) {
  struct Fn {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  const Fn fns[] = {
      {"regexp", 2, FnRegexp},
      {"outpost_pg_time_key", 2, FnTimeKey},
      {"outpost_pg_array_has", 3, FnArrayHas},
      {"outpost_pg_cardinality", 1, FnCardinality},
      {"outpost_pg_error", 2, FnError},
  };
  for (const auto& f : fns) {
    int rc = sqlite3_create_function_v2(db, f.name, f.args,
                                        SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS,
                                        nullptr, f.fn, nullptr, nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(db));
  }
  return Status::Ok();
}

}  // namespace outpost
