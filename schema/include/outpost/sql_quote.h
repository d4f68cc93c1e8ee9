// Quoting names and literals into SQL text, for SQLite and PostgreSQL alike.
//
// Both follow the SQL standard here: an identifier is "name" with doubled double quotes, a string
// literal 'text' with doubled apostrophes. For PostgreSQL this relies on
// standard_conforming_strings = on (its default since 9.1; a backslash is then an ordinary
// character). Only names from a catalog or a validated descriptor, and literals Outpost itself
// writes into DDL, are quoted this way: values from requests always travel as bound parameters.
//
// Threading: pure functions.
#pragma once

#include <string>
#include <string_view>

namespace outpost {

std::string QuoteIdent(std::string_view ident);
std::string QuoteLiteral(std::string_view text);

}  // namespace outpost
