// Statement (store.h) and the binding of JSON parameters.
#include <set>

#include "statement_impl.h"

namespace outpost {

using nlohmann::json;

namespace {

Status BindValue(sqlite3* db, sqlite3_stmt* stmt, int index, const Value& v) {
  return BindView(db, stmt, index, ValueView::Of(v), /*copy=*/true);
}

}  // namespace

Status BindParams(sqlite3* db, sqlite3_stmt* stmt, const json& params) {
  int count = sqlite3_bind_parameter_count(stmt);
  if (params.is_null() || (params.is_array() && params.empty() && count == 0)) {
    if (count > 0) {
      return Status(Code::kInvalidArgument,
                    "statement has " + std::to_string(count) + " parameters but none were given");
    }
    return Status::Ok();
  }
  if (params.is_array()) {
    if (static_cast<int>(params.size()) != count) {
      return Status(Code::kInvalidArgument, "statement has " + std::to_string(count) +
                                                " parameters, " + std::to_string(params.size()) +
                                                " given");
    }
    for (int i = 0; i < count; ++i) {
      OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(params[static_cast<size_t>(i)]));
      OUTPOST_RETURN_IF_ERROR(BindValue(db, stmt, i + 1, v));
    }
    return Status::Ok();
  }
  if (params.is_object()) {
    std::set<std::string> used;
    for (int i = 1; i <= count; ++i) {
      const char* name = sqlite3_bind_parameter_name(stmt, i);
      if (!name) {
        return Status(Code::kInvalidArgument,
                      "positional parameter ?" + std::to_string(i) + " needs an array of params");
      }
      std::string bare(name + 1);
      auto it = params.find(name);
      if (it == params.end()) it = params.find(bare);
      if (it == params.end()) {
        return Status(Code::kInvalidArgument, std::string("no value for parameter ") + name);
      }
      used.insert(it.key());
      OUTPOST_ASSIGN_OR_RETURN(Value v, ValueFromJson(*it));
      OUTPOST_RETURN_IF_ERROR(BindValue(db, stmt, i, v));
    }
    for (const auto& [k, v] : params.items()) {
      if (!used.count(k)) {
        return Status(Code::kInvalidArgument, "parameter \"" + k + "\" is not in the statement");
      }
    }
    return Status::Ok();
  }
  return Status(Code::kInvalidArgument, "params must be a JSON array or object");
}

bool IsBooleanColumn(const Store::Impl& impl, sqlite3_stmt* stmt, int column) {
  if (!impl.schema) return false;
  const char* table = sqlite3_column_table_name(stmt, column);
  const char* origin = sqlite3_column_origin_name(stmt, column);
  if (!table || !origin) return false;
  const Table* t = impl.schema->FindTable(table);
  const Column* col = t ? t->FindColumn(origin) : nullptr;
  return col && col->type.kind == TypeKind::kBoolean;
}

Statement::Statement(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}
Statement::Statement(Statement&& other) noexcept = default;
Statement& Statement::operator=(Statement&& other) noexcept = default;
Statement::~Statement() = default;

Statement::Rep::Rep(Store::Impl* owner, sqlite3_stmt* s) : store(owner), db(owner->db), stmt(s) {}

Statement::Rep::~Rep() {
  if (cache_key.empty()) {
    sqlite3_finalize(stmt);
  } else {
    store->CacheStatement(std::move(cache_key), stmt);
  }
}

int Statement::parameter_count() const {
  return sqlite3_bind_parameter_count(rep_->stmt);
}
Status Statement::Bind(int index, const Value& value) {
  return BindValue(rep_->db, rep_->stmt, index, value);
}
Status Statement::BindNull(int index) {
  return Bind(index, Value(Null{}));
}
Status Statement::BindInt(int index, int64_t value) {
  return BindView(rep_->db, rep_->stmt, index, ValueView::MakeInteger(value), true);
}
Status Statement::BindDouble(int index, double value) {
  return BindView(rep_->db, rep_->stmt, index, ValueView::MakeReal(value), true);
}
Status Statement::BindText(int index, std::string_view value) {
  return BindView(rep_->db, rep_->stmt, index, ValueView::MakeText(value), true);
}
Status Statement::BindBlob(int index, std::string_view bytes) {
  return BindView(rep_->db, rep_->stmt, index, ValueView::MakeBlob(bytes), true);
}
int Statement::parameter_index(std::string_view name) const {
  return sqlite3_bind_parameter_index(rep_->stmt, std::string(name).c_str());
}
Result<bool> Statement::Step() {
  int rc = sqlite3_step(rep_->stmt);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) {
    // A statement run outside a transaction has just committed its own.
    rep_->store->NotifyChanges();
    return false;
  }
  Status s = SqliteError(rep_->db, rc);
  sqlite3_reset(rep_->stmt);
  return s;
}
Status Statement::Run() {
  while (true) {
    OUTPOST_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}
Status Statement::Reset() {
  sqlite3_reset(rep_->stmt);
  sqlite3_clear_bindings(rep_->stmt);
  return Status::Ok();
}
int Statement::column_count() const {
  return sqlite3_column_count(rep_->stmt);
}
std::string Statement::column_name(int column) const {
  const char* n = sqlite3_column_name(rep_->stmt, column);
  return n ? n : "";
}
Value Statement::column_value(int column) const {
  return ViewOfColumn(rep_->stmt, column).ToValue();
}
ValueView Statement::column_view(int column) const {
  return ViewOfColumn(rep_->stmt, column);
}
bool Statement::column_boolean(int column) const {
  return IsBooleanColumn(*rep_->store, rep_->stmt, column);
}

}  // namespace outpost
