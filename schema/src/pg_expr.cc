// Translation of PostgreSQL expressions (CHECK constraints, index predicates and expressions,
// column defaults) into SQLite. The input is what PostgreSQL's deparser prints, which is fully
// parenthesised, so a token-level rewrite with a few structural patterns is exact for the subset
// we accept; everything outside the subset is rejected by name rather than guessed at.
#include <algorithm>
#include <cctype>
#include <optional>
#include <set>

#include "outpost/mirror.h"

namespace outpost {
namespace {

enum class Tok { kIdent, kQuotedIdent, kString, kNumber, kOp, kEnd };

struct Token {
  Tok kind;
  std::string text;  // identifier (unquoted, original case), literal value, number or operator
};

Status Unsupported(std::string what) {
  return Status(Code::kUnsupported, std::move(what));
}

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '"') {
      std::string id;
      ++i;
      while (true) {
        if (i >= s.size()) return Unsupported("unterminated quoted identifier");
        if (s[i] == '"') {
          if (i + 1 < s.size() && s[i + 1] == '"') {
            id.push_back('"');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        id.push_back(s[i++]);
      }
      out.push_back({Tok::kQuotedIdent, id});
      continue;
    }
    bool escape_string = (c == 'E' || c == 'e') && i + 1 < s.size() && s[i + 1] == '\'';
    if (c == '\'' || escape_string) {
      if (escape_string) ++i;
      std::string lit;
      ++i;
      while (true) {
        if (i >= s.size()) return Unsupported("unterminated string literal");
        if (s[i] == '\'') {
          if (i + 1 < s.size() && s[i + 1] == '\'') {
            lit.push_back('\'');
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        if (escape_string && s[i] == '\\' && i + 1 < s.size()) {
          char e = s[i + 1];
          lit.push_back(e == 'n' ? '\n' : e == 't' ? '\t' : e);
          i += 2;
          continue;
        }
        lit.push_back(s[i++]);
      }
      out.push_back({Tok::kString, lit});
      continue;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && i + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t b = i;
      while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) ++i;
      if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
        while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
      }
      out.push_back({Tok::kNumber, std::string(s.substr(b, i - b))});
      continue;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t b = i;
      while (i < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' || s[i] == '$')) {
        ++i;
      }
      out.push_back({Tok::kIdent, std::string(s.substr(b, i - b))});
      continue;
    }
    static const char* kOps[] = {"!~~*", "~~*", "!~~", "::", "<=", ">=",  "<>", "!=",  "||", "~~",
                                 "~*",   "!~",  "@>",  "<@", "&&", "->>", "->", "#>>", "#>"};
    bool matched = false;
    for (const char* op : kOps) {
      size_t n = std::char_traits<char>::length(op);
      if (s.compare(i, n, op) == 0) {
        out.push_back({Tok::kOp, op});
        i += n;
        matched = true;
        break;
      }
    }
    if (matched) continue;
    if (std::string_view("=<>+-*/%()[],~").find(c) != std::string_view::npos) {
      out.push_back({Tok::kOp, std::string(1, c)});
      ++i;
      continue;
    }
    return Unsupported(std::string("unexpected character '") + c + "'");
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const std::set<std::string>& Keywords() {
  static const std::set<std::string> k = {
      "and",   "or",       "not",  "is",   "null",  "true",    "false",  "between",
      "in",    "case",     "when", "then", "else",  "end",     "any",    "all",
      "array", "distinct", "from", "like", "ilike", "similar", "escape", "symmetric"};
  return k;
}

// Classification of a cast's target type.
enum class CastClass { kTransparent, kDate, kUnsupported };

// Reads the type name after '::' starting at tokens[*i]; advances past it.
CastClass ReadCastType(const std::vector<Token>& t, size_t* i, std::string* name) {
  name->clear();
  bool quoted = t[*i].kind == Tok::kQuotedIdent;
  if (t[*i].kind != Tok::kIdent && !quoted) return CastClass::kUnsupported;
  std::string first = quoted ? t[*i].text : Lower(t[*i].text);
  *name = first;
  ++*i;
  // Multi-word type names.
  static const std::set<std::string> kSecondWords = {"varying", "precision", "with",
                                                     "without", "time",      "zone"};
  while (!quoted && t[*i].kind == Tok::kIdent && kSecondWords.count(Lower(t[*i].text))) {
    *name += " " + Lower(t[*i].text);
    ++*i;
  }
  if (t[*i].kind == Tok::kOp && t[*i].text == "(") {  // typmod
    while (t[*i].kind != Tok::kEnd && !(t[*i].kind == Tok::kOp && t[*i].text == ")")) ++*i;
    if (t[*i].kind != Tok::kEnd) ++*i;
  }
  bool array = false;
  while (t[*i].kind == Tok::kOp && t[*i].text == "[" && t[*i + 1].kind == Tok::kOp &&
         t[*i + 1].text == "]") {
    array = true;
    *i += 2;
  }
  if (quoted) return CastClass::kTransparent;  // enum or domain over text
  static const std::set<std::string> kTransparent = {"text",
                                                     "character varying",
                                                     "varchar",
                                                     "character",
                                                     "char",
                                                     "bpchar",
                                                     "name",
                                                     "citext",
                                                     "integer",
                                                     "int",
                                                     "int2",
                                                     "int4",
                                                     "int8",
                                                     "bigint",
                                                     "smallint",
                                                     "numeric",
                                                     "decimal",
                                                     "real",
                                                     "float4",
                                                     "float8",
                                                     "double precision",
                                                     "boolean",
                                                     "bool",
                                                     "json",
                                                     "jsonb",
                                                     "uuid",
                                                     "inet",
                                                     "cidr"};
  if (kTransparent.count(*name)) return CastClass::kTransparent;
  if (*name == "date" && !array) return CastClass::kDate;
  return CastClass::kUnsupported;
}

class Translator {
 public:
  Translator(const std::vector<Token>& tokens, const Table* table) : t_(tokens), table_(table) {}

  // Translates tokens [begin, end) into SQLite text pieces.
  Status Translate(size_t begin, size_t end, std::vector<std::string>* out) {
    size_t i = begin;
    while (i < end) {
      const Token& tok = t_[i];
      if (tok.kind == Tok::kOp && tok.text == "::") {
        ++i;
        std::string type;
        CastClass cc = ReadCastType(t_, &i, &type);
        if (cc == CastClass::kUnsupported) return Unsupported("cast to " + type);
        continue;  // transparent: text, numbers, booleans, enums and dates keep their form
      }
      if (tok.kind == Tok::kString) {
        out->push_back(QuoteLiteral(tok.text));
        ++i;
        continue;
      }
      if (tok.kind == Tok::kNumber) {
        out->push_back(tok.text);
        ++i;
        continue;
      }
      if (tok.kind == Tok::kQuotedIdent) {
        OUTPOST_RETURN_IF_ERROR(Column(tok.text, out));
        ++i;
        continue;
      }
      if (tok.kind == Tok::kIdent) {
        std::string w = Lower(tok.text);
        bool call = t_[i + 1].kind == Tok::kOp && t_[i + 1].text == "(";
        if (w == "any" || w == "all") {
          OUTPOST_RETURN_IF_ERROR(AnyAll(w == "all", &i, end, out));
          continue;
        }
        if (w == "array") return Unsupported("array expression outside = ANY (...)");
        if (w == "like" || w == "ilike" || w == "similar") {
          return Unsupported("pattern matching (" + w + ") differs between PostgreSQL and SQLite");
        }
        if (Keywords().count(w)) {
          out->push_back(w == "true" ? "1" : w == "false" ? "0" : Upper(w));
          ++i;
          continue;
        }
        if (call) {
          static const std::pair<const char*, const char*> kFunctions[] = {
              {"lower", "lower"},
              {"upper", "upper"},
              {"length", "length"},
              {"char_length", "length"},
              {"character_length", "length"},
              {"btrim", "trim"},
              {"abs", "abs"},
              {"coalesce", "coalesce"},
              {"nullif", "nullif"}};
          const char* mapped = nullptr;
          for (const auto& [pg, lite] : kFunctions) {
            if (w == pg) mapped = lite;
          }
          if (!mapped) return Unsupported("function " + tok.text + "()");
          out->push_back(mapped);
          ++i;
          continue;
        }
        OUTPOST_RETURN_IF_ERROR(Column(tok.text, out));
        ++i;
        continue;
      }
      if (tok.kind == Tok::kOp) {
        static const std::set<std::string> kPass = {"=", "<", ">", "<=", ">=", "<>", "!=", "+",
                                                    "-", "*", "/", "%",  "(",  ")",  ",",  "||"};
        if (!kPass.count(tok.text)) return Unsupported("operator " + tok.text);
        out->push_back(tok.text);
        ++i;
        continue;
      }
      return Unsupported("unexpected end of expression");
    }
    return Status::Ok();
  }

  std::vector<std::string> columns_seen;

 private:
  static std::string Upper(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }

  Status Column(const std::string& name, std::vector<std::string>* out) {
    const outpost::Column* col = table_ ? table_->FindColumn(name) : nullptr;
    if (table_ && !col) {
      return Unsupported("reference to column \"" + name + "\", which the client does not have");
    }
    columns_seen.push_back(name);
    // numeric is stored as exact decimal text; compare it as a number (to double precision).
    if (col && col->type.kind == TypeKind::kNumeric) {
      out->push_back("CAST(" + QuoteIdent(name) + " AS REAL)");
    } else {
      out->push_back(QuoteIdent(name));
    }
    return Status::Ok();
  }

  // x = ANY (ARRAY[a, b]) -> x IN (a, b); x <> ALL (ARRAY[a, b]) -> x NOT IN (a, b).
  Status AnyAll(bool all, size_t* pos, size_t end, std::vector<std::string>* out) {
    if (out->empty()) return Unsupported("ANY/ALL without a comparison");
    std::string op = out->back();
    if (!all && op == "=") {
      out->back() = "IN";
    } else if (all && (op == "<>" || op == "!=")) {
      out->back() = "NOT IN";
    } else {
      return Unsupported("comparison " + op + (all ? " ALL" : " ANY"));
    }
    size_t i = *pos + 1;
    if (!(t_[i].kind == Tok::kOp && t_[i].text == "(")) return Unsupported("ANY without (");
    // Find the matching ')' of the group.
    size_t depth = 0, close = i;
    for (; close < end; ++close) {
      if (t_[close].kind != Tok::kOp) continue;
      if (t_[close].text == "(") ++depth;
      if (t_[close].text == ")" && --depth == 0) break;
    }
    if (close >= end) return Unsupported("unbalanced parentheses");
    // Inside: '(' * ARRAY '[' elements ']' (casts | ')')*
    size_t j = i;
    while (j < close && t_[j].kind == Tok::kOp && t_[j].text == "(") ++j;
    if (!(t_[j].kind == Tok::kIdent && Lower(t_[j].text) == "array" && t_[j + 1].text == "[")) {
      return Unsupported("= ANY over something other than an ARRAY[...] literal");
    }
    size_t elems_begin = j + 2;
    size_t elems_end = elems_begin;
    while (elems_end < close && !(t_[elems_end].kind == Tok::kOp && t_[elems_end].text == "]")) {
      ++elems_end;
    }
    std::vector<std::string> elems;
    OUTPOST_RETURN_IF_ERROR(Translate(elems_begin, elems_end, &elems));
    // The rest up to the group's close may only be casts and closing parentheses.
    for (size_t k = elems_end + 1; k < close;) {
      if (t_[k].kind == Tok::kOp && t_[k].text == ")") {
        ++k;
      } else if (t_[k].kind == Tok::kOp && t_[k].text == "::") {
        ++k;
        std::string type;
        if (ReadCastType(t_, &k, &type) == CastClass::kUnsupported) {
          return Unsupported("cast to " + type);
        }
      } else {
        return Unsupported("unexpected token after ARRAY[...]: " + t_[k].text);
      }
    }
    out->push_back("(");
    out->insert(out->end(), elems.begin(), elems.end());
    out->push_back(")");
    *pos = close + 1;
    return Status::Ok();
  }

  const std::vector<Token>& t_;
  const Table* table_;
};

std::string Join(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    bool no_space_before = p == ")" || p == "," || (i > 0 && parts[i - 1] == "(");
    // Function names are emitted in lowercase, keywords in uppercase, columns quoted.
    bool fn_call = p == "(" && i > 0 && std::islower(static_cast<unsigned char>(parts[i - 1][0]));
    if (i > 0 && !no_space_before && !fn_call) out.push_back(' ');
    out += p;
  }
  return out;
}

}  // namespace

Result<std::string> TranslatePgExpression(std::string_view expression, const Table& table) {
  auto tokens = Tokenize(expression);
  if (!tokens.ok()) return tokens.status();
  Translator tr(*tokens, &table);
  std::vector<std::string> parts;
  OUTPOST_RETURN_IF_ERROR(tr.Translate(0, tokens->size() - 1, &parts));
  if (parts.empty()) return Unsupported("empty expression");
  return Join(parts);
}

std::vector<std::string> PgExpressionColumns(std::string_view expression) {
  std::vector<std::string> cols;
  auto tokens = Tokenize(expression);
  if (!tokens.ok()) return cols;
  const auto& t = *tokens;
  for (size_t i = 0; i + 1 < t.size(); ++i) {
    if (t[i].kind == Tok::kOp && t[i].text == "::") {  // skip the type name
      size_t j = i + 1;
      std::string type;
      ReadCastType(t, &j, &type);
      i = j - 1;
      continue;
    }
    bool call = t[i + 1].kind == Tok::kOp && t[i + 1].text == "(";
    if (t[i].kind == Tok::kQuotedIdent && !call) cols.push_back(t[i].text);
    if (t[i].kind == Tok::kIdent && !call && !Keywords().count(Lower(t[i].text))) {
      cols.push_back(t[i].text);
    }
  }
  return cols;
}

}  // namespace outpost
