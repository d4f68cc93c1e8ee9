// The inside of a Statement (store.h), and JSON parameter binding shared by Store::Execute.
// Private to core.
#pragma once

#include <nlohmann/json.hpp>

#include "outpost/store.h"
#include "sqlite_util.h"
#include "store_impl.h"

namespace outpost {

struct Statement::Rep {
  Store::Impl* store = nullptr;  // told when a step ends a transaction (change notification)
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;  // finalized with the Rep, or given back to the statement cache
  std::string cache_key;         // non-empty: a statement of Execute's cache, returned there
  Rep(Store::Impl* store, sqlite3_stmt* s);
  ~Rep();
  Rep(const Rep&) = delete;
  Rep& operator=(const Rep&) = delete;
};

// Binds `params` to `stmt`: a JSON array for positional parameters (?, ?NNN), an object for named
// ones (:name, @name, $name, with or without the prefix), null for none. Values as
// ValueFromJson. Errors: kInvalidArgument (wrong count, missing or unused names).
Status BindParams(sqlite3* db, sqlite3_stmt* stmt, const nlohmann::json& params);

// Whether result column `column` of `stmt` is a boolean column of `impl`'s mirrored schema (its
// values read back as true/false).
bool IsBooleanColumn(const Store::Impl& impl, sqlite3_stmt* stmt, int column);

}  // namespace outpost
