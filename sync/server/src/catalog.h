// Reading the PostgreSQL catalog into a Schema (the server's half of docs/types.md).
#pragma once

#include <string>
#include <vector>

#include "outpost/schema.h"
#include "pg.h"

namespace outpost::server {

// Describes every table of PostgreSQL schema `pg_schema` (normally "public"): columns with their
// type mapping, defaults, identity/serial and generated flags, primary keys, UNIQUE, CHECK and
// foreign key constraints, and secondary indexes (with access method, expression keys and partial
// predicates). Tables come in dependency order (referenced tables first). Tables without a
// primary key are left out and noted. `notes` (optional) receives what the description cannot
// express fully, by name.
Result<Schema> DescribeDatabase(PgConnection* pg, const std::string& pg_schema,
                                std::vector<std::string>* notes);

}  // namespace outpost::server
