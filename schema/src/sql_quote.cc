// SQL quoting (outpost/sql_quote.h).
#include "outpost/sql_quote.h"

namespace outpost {
namespace {

std::string Quote(std::string_view text, char quote) {
  std::string out(1, quote);
  out.reserve(text.size() + 2);
  for (char c : text) {
    if (c == quote) out.push_back(quote);
    out.push_back(c);
  }
  out.push_back(quote);
  return out;
}

}  // namespace

std::string QuoteIdent(std::string_view ident) {
  return Quote(ident, '"');
}

std::string QuoteLiteral(std::string_view text) {
  return Quote(text, '\'');
}

}  // namespace outpost
