// Change capture: the SQL functions the generated triggers call, and the triggers themselves.
//
// The triggers do the minimum in SQL (one INSERT into the outbox per changed row) and hand the
// row's values to C functions that write the outbox JSON directly, which keeps capture cheap
// (bench/capture_bench). Functions are registered per connection with the Store::Impl as user
// data; they are not DETERMINISTIC, so SQLite never folds them into constants.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <utility>

#include "outpost/mirror.h"
#include "sqlite_util.h"
#include "store_impl.h"

namespace outpost {
namespace {

Store::Impl* ImplOf(sqlite3_context* ctx) {
  return static_cast<Store::Impl*>(sqlite3_user_data(ctx));
}

// The JSON of a trigger's argument (docs/types.md).
void AppendJsonValue(std::string* out, sqlite3_value* v) {
  AppendValueJson(ViewOf(v), /*boolean=*/false, out);
}

// IS semantics: same storage class and same content.
bool SameValue(sqlite3_value* a, sqlite3_value* b) {
  int ta = sqlite3_value_type(a);
  if (ta != sqlite3_value_type(b)) return false;
  switch (ta) {
    case SQLITE_NULL: return true;
    case SQLITE_INTEGER: return sqlite3_value_int64(a) == sqlite3_value_int64(b);
    case SQLITE_FLOAT: return sqlite3_value_double(a) == sqlite3_value_double(b);
    default: {
      int na = sqlite3_value_bytes(a);
      if (na != sqlite3_value_bytes(b)) return false;
      const void* pa = ta == SQLITE_TEXT ? static_cast<const void*>(sqlite3_value_text(a))
                                         : sqlite3_value_blob(a);
      const void* pb = ta == SQLITE_TEXT ? static_cast<const void*>(sqlite3_value_text(b))
                                         : sqlite3_value_blob(b);
      return na == 0 || std::memcmp(pa, pb, static_cast<size_t>(na)) == 0;
    }
  }
}

const Store::Impl::CapturedTable* TableArg(sqlite3_context* ctx, sqlite3_value* id, int argc,
                                           int values_per_column) {
  Store::Impl* impl = ImplOf(ctx);
  int64_t i = sqlite3_value_int64(id);
  if (i < 0 || static_cast<size_t>(i) >= impl->captured.size()) {
    sqlite3_result_error(ctx, "outpost: capture trigger names an unknown table", -1);
    return nullptr;
  }
  const auto& t = impl->captured[static_cast<size_t>(i)];
  if (static_cast<size_t>(argc - 1) != t.json_keys.size() * values_per_column) {
    sqlite3_result_error(ctx, "outpost: capture trigger does not match the schema", -1);
    return nullptr;
  }
  return &t;
}

void ResultJson(sqlite3_context* ctx, std::string&& json) {
  sqlite3_result_text64(ctx, json.data(), json.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

void FnCapturing(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_int(ctx, ImplOf(ctx)->capturing ? 1 : 0);
}

void FnTxId(sqlite3_context* ctx, int, sqlite3_value**) {
  auto tx = ImplOf(ctx)->CurrentTxId();
  if (!tx.ok()) {
    sqlite3_result_error(ctx, tx.status().ToString().c_str(), -1);
    return;
  }
  sqlite3_result_int64(ctx, *tx);
}

void FnHlc(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_int64(ctx, static_cast<int64_t>(ImplOf(ctx)->clock.Now()));
}

void FnUuid(sqlite3_context* ctx, int, sqlite3_value**) {
  std::string u = ImplOf(ctx)->uuid.Next();
  sqlite3_result_text(ctx, u.data(), static_cast<int>(u.size()), SQLITE_TRANSIENT);
}

void FnRole(sqlite3_context* ctx, int, sqlite3_value**) {
  const std::string& role = ImplOf(ctx)->role;
  sqlite3_result_text(ctx, role.data(), static_cast<int>(role.size()), SQLITE_TRANSIENT);
}

void FnTempKey(sqlite3_context* ctx, int, sqlite3_value**) {
  sqlite3_result_int64(ctx, ImplOf(ctx)->next_temp_key--);
}

// outpost_pk_json(v1, ...) -> [v1, ...]
void FnPkJson(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  std::string out = "[";
  for (int i = 0; i < argc; ++i) {
    if (i) out.push_back(',');
    AppendJsonValue(&out, argv[i]);
  }
  out.push_back(']');
  ResultJson(ctx, std::move(out));
}

// outpost_row_json(table_id, key, v1, ..., vn) -> {key: {"c1": v1, ...}} for inserts ("new")
// and deletes ("old").
void RowJson(sqlite3_context* ctx, int argc, sqlite3_value** argv, const char* key) {
  const auto* t = TableArg(ctx, argv[0], argc, 1);
  if (!t) return;
  std::string out;
  out.reserve(256);
  out += "{\"";
  out += key;
  out += "\":{";
  for (size_t i = 0; i < t->json_keys.size(); ++i) {
    if (i) out.push_back(',');
    out += t->json_keys[i];
    AppendJsonValue(&out, argv[i + 1]);
  }
  out += "}}";
  ResultJson(ctx, std::move(out));
}

void FnInsertJson(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  RowJson(ctx, argc, argv, "new");
}

void FnDeleteJson(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  RowJson(ctx, argc, argv, "old");
}

// outpost_update_json(table_id, old1, new1, ..., oldn, newn) ->
//   {"new": {changed columns}, "old": {their previous values}}, or NULL when nothing changed.
void FnUpdateJson(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  const auto* t = TableArg(ctx, argv[0], argc, 2);
  if (!t) return;
  std::string new_part = "{\"new\":{";
  std::string old_part = "\"old\":{";
  bool any = false;
  for (size_t i = 0; i < t->json_keys.size(); ++i) {
    sqlite3_value* o = argv[1 + 2 * i];
    sqlite3_value* n = argv[2 + 2 * i];
    if (SameValue(o, n)) continue;
    if (any) {
      new_part.push_back(',');
      old_part.push_back(',');
    }
    any = true;
    new_part += t->json_keys[i];
    AppendJsonValue(&new_part, n);
    old_part += t->json_keys[i];
    AppendJsonValue(&old_part, o);
  }
  if (!any) {
    sqlite3_result_null(ctx);
    return;
  }
  new_part += "},";
  new_part += old_part;
  new_part += "}}";
  ResultJson(ctx, std::move(new_part));
}

std::string Refs(const char* prefix, const std::vector<std::string>& cols) {
  std::string out;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) out += ", ";
    out += prefix;
    out += QuoteIdent(cols[i]);
  }
  return out;
}

// "'a', 'b'" and "a, b" for a trigger's role test and its message.
std::pair<std::string, std::string> RoleLists(const std::vector<std::string>& roles) {
  std::string in, text;
  for (const auto& r : roles) {
    in += (in.empty() ? "" : ", ") + QuoteLiteral(r);
    text += (text.empty() ? "" : ", ") + r;
  }
  return {in, text};
}

// Column permissions (docs/sync-rules.md): one BEFORE trigger per column and kind of write that
// some role may not make, refusing it while the store's role (outpost_role()) is one of those
// roles. An insert may give such a column only what leaving it out gives (NULL or a constant
// default); a column with a computed default is not checked locally (the server computes it
// whatever the client sent). An update may not change it. The sync engine's writes are not
// captured, so they pass.
void AppendColumnPermissionTriggers(const Table& t, std::vector<std::string>* out) {
  const SyncRule& rule = t.sync;
  if (rule.column_permissions.empty()) return;
  const std::string q = QuoteIdent(t.name);
  for (size_t i = 0; i < t.columns.size(); ++i) {
    const Column& c = t.columns[i];
    if (std::find(t.primary_key.begin(), t.primary_key.end(), c.name) != t.primary_key.end() ||
        c.generated) {
      continue;
    }
    const bool tenant =
        (rule.scope.kind == ScopeKind::kTenantColumn || rule.scope.kind == ScopeKind::kTenantKey) &&
        rule.scope.column == c.name;
    const std::string col = QuoteIdent(c.name);
    const ColumnDefault def = DefaultOf(c);
    for (WriteKind kind : {WriteKind::kInsert, WriteKind::kUpdate}) {
      const bool insert = kind == WriteKind::kInsert;
      if (insert && (tenant || def.kind == ColumnDefault::kComputed)) continue;
      std::vector<std::string> roles;
      for (const auto& [role, p] : rule.column_permissions) {
        if (!rule.may_set(role, c.name, kind)) roles.push_back(role);
      }
      if (roles.empty()) continue;
      auto [in, text] = RoleLists(roles);
      std::string changed =
          insert ? "NEW." + col + " IS NOT " + (def.kind == ColumnDefault::kNull ? "NULL" : def.sql)
                 : "NEW." + col + " IS NOT OLD." + col;
      std::string message = "outpost: role " + text + " may not " + (insert ? "set" : "update") +
                            " column " + c.name + " of " + t.name +
                            (insert ? " on insert (leave it out)" : "");
      out->push_back("CREATE TRIGGER " +
                     // By position: "<table>_<column>" could name two pairs.
                     QuoteIdent(std::string(insert ? "_outpost_ci_" : "_outpost_cu_") + t.name +
                                "_" + std::to_string(i)) +
                     " BEFORE " + (insert ? "INSERT" : "UPDATE OF " + col) + " ON " + q +
                     " WHEN outpost_capturing() AND outpost_role() IN (" + in + ") AND " + changed +
                     " BEGIN SELECT RAISE(ABORT, " + QuoteLiteral(message) + "); END");
    }
  }
}

std::vector<std::string> ColumnNames(const Table& t) {
  std::vector<std::string> names;
  for (const auto& c : t.columns) names.push_back(c.name);
  return names;
}

}  // namespace

std::string PkJson(const std::vector<Value>& key) {
  std::string out = "[";
  for (size_t i = 0; i < key.size(); ++i) {
    if (i) out.push_back(',');
    AppendValueJson(ValueView::Of(key[i]), /*boolean=*/false, &out);
  }
  out.push_back(']');
  return out;
}

Status RegisterSqlFunctions(sqlite3* db, Store::Impl* impl) {
  struct Fn {
    const char* name;
    int args;
    void (*fn)(sqlite3_context*, int, sqlite3_value**);
  };
  const Fn fns[] = {
      {"outpost_capturing", 0, FnCapturing},
      {"outpost_tx_id", 0, FnTxId},
      {"outpost_hlc", 0, FnHlc},
      {"outpost_uuid", 0, FnUuid},
      {"outpost_temp_key", 0, FnTempKey},
      {"outpost_role", 0, FnRole},
      {"outpost_pk_json", -1, FnPkJson},
      {"outpost_insert_json", -1, FnInsertJson},
      {"outpost_delete_json", -1, FnDeleteJson},
      {"outpost_update_json", -1, FnUpdateJson},
  };
  for (const auto& f : fns) {
    int rc = sqlite3_create_function_v2(db, f.name, f.args, SQLITE_UTF8, impl, f.fn, nullptr,
                                        nullptr, nullptr);
    if (rc != SQLITE_OK) return SqliteStatus(rc, sqlite3_errmsg(db));
  }
  return RegisterPgFunctions(db);
}

std::vector<std::string> CaptureTriggerSql(const Table& t, int table_id) {
  const std::string q = QuoteIdent(t.name);
  const std::string lit = QuoteLiteral(t.name);
  const std::string id = std::to_string(table_id);
  const std::vector<std::string> cols = ColumnNames(t);
  std::string interleaved;  // OLD."c1", NEW."c1", ...
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) interleaved += ", ";
    interleaved += "OLD." + QuoteIdent(cols[i]) + ", NEW." + QuoteIdent(cols[i]);
  }
  // One AFTER trigger per operation: one outbox row with the key (of NEW for inserts, OLD
  // otherwise) and the row's JSON from `json_call`.
  auto capture = [&](const char* prefix, const char* event, const std::string& also_when, char op,
                     const char* key_row, const std::string& json_call) {
    return "CREATE TRIGGER " + QuoteIdent(prefix + t.name) + " AFTER " + event + " ON " + q +
           " WHEN outpost_capturing()" + also_when +
           " BEGIN INSERT INTO _outpost_outbox (tx_id, hlc, op, tbl, pk, data) "
           "VALUES (outpost_tx_id(), outpost_hlc(), '" +
           op + "', " + lit + ", outpost_pk_json(" + Refs(key_row, t.primary_key) + "), " +
           json_call + "); END";
  };
  // Unchanged rows (UPDATE ... SET x = x) are filtered in the WHEN clause, so the JSON function
  // runs once per changed row and never returns NULL there.
  std::string changed;
  for (size_t i = 0; i < cols.size(); ++i) {
    if (i) changed += " OR ";
    changed += "OLD." + QuoteIdent(cols[i]) + " IS NOT NEW." + QuoteIdent(cols[i]);
  }
  std::vector<std::string> out = {
      capture("_outpost_ai_", "INSERT", "", 'I', "NEW.",
              "outpost_insert_json(" + id + ", " + Refs("NEW.", cols) + ")"),
      capture("_outpost_au_", "UPDATE", " AND (" + changed + ")", 'U', "OLD.",
              "outpost_update_json(" + id + ", " + interleaved + ")"),
      capture("_outpost_ad_", "DELETE", "", 'D', "OLD.",
              "outpost_delete_json(" + id + ", " + Refs("OLD.", cols) + ")"),
  };
  // Keys >= 0 belong to the server (docs/local-store.md, "Keys"); offline inserts take a negative
  // temporary key from the column default, which the sync engine later replaces with the server's.
  std::string server_keys_given;
  std::string server_keys;
  for (const auto& k : t.primary_key) {
    if (!t.IsServerKeyColumn(k)) continue;
    server_keys_given +=
        (server_keys_given.empty() ? "" : " OR ") + ("NEW." + QuoteIdent(k)) + " >= 0";
    server_keys += (server_keys.empty() ? "" : ", ") + t.name + "." + k;
  }
  if (!server_keys.empty()) {
    out.push_back("CREATE TRIGGER " + QuoteIdent("_outpost_bi_" + t.name) + " BEFORE INSERT ON " +
                  q + " WHEN outpost_capturing() AND (" + server_keys_given +
                  ") BEGIN SELECT RAISE(ABORT, " +
                  QuoteLiteral("outpost: " + server_keys +
                               " is assigned by the server; omit it to get a temporary key") +
                  "); END");
  }
  AppendColumnPermissionTriggers(t, &out);
  // Global tables are read-only for clients: refuse local writes outright rather than queue
  // mutations the server will reject.
  if (t.sync.read_only()) {
    for (const char* op : {"INSERT", "UPDATE", "DELETE"}) {
      out.push_back("CREATE TRIGGER " +
                    QuoteIdent(std::string("_outpost_ro_") + op + "_" + t.name) + " BEFORE " + op +
                    " ON " + q + " WHEN outpost_capturing() BEGIN SELECT RAISE(ABORT, " +
                    QuoteLiteral("outpost: " + t.name + " is read-only for clients") + "); END");
    }
  }
  return out;
}

}  // namespace outpost
