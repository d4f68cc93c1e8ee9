// Tokenizer and parser of PostgreSQL expressions (pg_expr_parse.h).
#include "pg_expr_parse.h"

#include <cctype>
#include <set>

namespace outpost::pg_expr {

namespace {

Status Unsupported(std::string what) {
  return Status(Code::kUnsupported, std::move(what));
}

bool IsOpChar(char c) {
  return std::string_view("+-*/<>=~!@#%^&|`?").find(c) != std::string_view::npos;
}

}  // namespace

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
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
          if (e == 'x' || e == 'u' || e == 'U' || (e >= '0' && e <= '7')) {
            return Unsupported("escape \\" + std::string(1, e) + " in an E'' string");
          }
          lit.push_back(e == 'n'   ? '\n'
                        : e == 't' ? '\t'
                        : e == 'r' ? '\r'
                        : e == 'b' ? '\b'
                        : e == 'f' ? '\f'
                                   : e);
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
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' ||
        static_cast<unsigned char>(c) >= 0x80) {
      size_t b = i;
      while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                              s[i] == '$' || static_cast<unsigned char>(s[i]) >= 0x80)) {
        ++i;
      }
      out.push_back({Tok::kIdent, std::string(s.substr(b, i - b))});
      continue;
    }
    if (c == ':' && i + 1 < s.size() && s[i + 1] == ':') {
      out.push_back({Tok::kOp, "::"});
      i += 2;
      continue;
    }
    if (std::string_view("()[],.;:").find(c) != std::string_view::npos) {
      out.push_back({Tok::kOp, std::string(1, c)});
      ++i;
      continue;
    }
    if (IsOpChar(c)) {
      size_t b = i;
      while (i < s.size() && IsOpChar(s[i])) ++i;
      out.push_back({Tok::kOp, std::string(s.substr(b, i - b))});
      continue;
    }
    return Unsupported(std::string("unexpected character '") + c + "'");
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

namespace {

bool IsComparison(const std::string& op) {
  return op == "=" || op == "<" || op == ">" || op == "<=" || op == ">=" || op == "<>" ||
         op == "!=";
}

class Parser {
 public:
  explicit Parser(std::vector<Token> t) : t_(std::move(t)) {}

  Result<Node> ParseAll() {
    OUTPOST_ASSIGN_OR_RETURN(Node n, Or());
    if (t_[i_].kind != Tok::kEnd) return Unsupported("unexpected " + Describe(t_[i_]));
    return n;
  }

 private:
  static std::string Describe(const Token& t) {
    if (t.kind == Tok::kEnd) return "end of expression";
    if (t.kind == Tok::kString) return "literal '" + t.text + "'";
    return "\"" + t.text + "\"";
  }
  bool IsOp(const char* op, size_t ahead = 0) const {
    const Token& t = t_[std::min(i_ + ahead, t_.size() - 1)];
    return t.kind == Tok::kOp && t.text == op;
  }
  bool IsWord(const char* w, size_t ahead = 0) const {
    const Token& t = t_[std::min(i_ + ahead, t_.size() - 1)];
    return t.kind == Tok::kIdent && Lower(t.text) == w;
  }
  Status Expect(const char* what, bool word) {
    if (word ? IsWord(what) : IsOp(what)) {
      ++i_;
      return Status::Ok();
    }
    return Unsupported(std::string("expected ") + (word ? "" : "'") + what + (word ? "" : "'") +
                       " before " + Describe(t_[i_]));
  }
  static Node Make(Node::Kind kind, std::vector<Node> args, std::string text = {}) {
    Node n;
    n.kind = kind;
    n.args = std::move(args);
    n.text = std::move(text);
    return n;
  }

  Result<Node> Or() { return Chain(Node::Kind::kOr, "or", &Parser::And); }
  Result<Node> And() { return Chain(Node::Kind::kAnd, "and", &Parser::Not); }
  Result<Node> Chain(Node::Kind kind, const char* word, Result<Node> (Parser::*next)()) {
    OUTPOST_ASSIGN_OR_RETURN(Node first, (this->*next)());
    if (!IsWord(word)) return first;
    Node chain = Make(kind, {});
    chain.args.push_back(std::move(first));
    while (IsWord(word)) {
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(Node n, (this->*next)());
      chain.args.push_back(std::move(n));
    }
    return chain;
  }

  Result<Node> Not() {
    if (!IsWord("not")) return Is();
    ++i_;
    OUTPOST_ASSIGN_OR_RETURN(Node n, Not());
    return Make(Node::Kind::kNot, {std::move(n)});
  }

  Result<Node> Is() {
    OUTPOST_ASSIGN_OR_RETURN(Node left, Comparison());
    while (true) {
      if (IsWord("isnull") || IsWord("notnull")) {
        Node n = Make(Node::Kind::kIsNull, {std::move(left)});
        n.negated = IsWord("notnull");
        ++i_;
        left = std::move(n);
        continue;
      }
      if (!IsWord("is")) return left;
      ++i_;
      bool negated = IsWord("not");
      if (negated) ++i_;
      Node n;
      if (IsWord("null")) {
        n = Make(Node::Kind::kIsNull, {std::move(left)});
        ++i_;
      } else if (IsWord("true") || IsWord("false") || IsWord("unknown")) {
        n = Make(Node::Kind::kIsBool, {std::move(left)}, Lower(t_[i_].text));
        ++i_;
      } else if (IsWord("distinct")) {
        ++i_;
        OUTPOST_RETURN_IF_ERROR(Expect("from", true));
        OUTPOST_ASSIGN_OR_RETURN(Node right, Comparison());
        n = Make(Node::Kind::kDistinct, {std::move(left), std::move(right)});
      } else {
        return Unsupported("IS " + std::string(negated ? "NOT " : "") + Describe(t_[i_]));
      }
      n.negated = negated;
      left = std::move(n);
    }
  }

  // The right side of `left op`: ANY/ALL/SOME (...) or an operand parsed by `next`.
  Result<Node> RightOf(Node left, const std::string& op, Result<Node> (Parser::*next)()) {
    if ((IsWord("any") || IsWord("some") || IsWord("all")) && IsOp("(", 1)) {
      bool all = IsWord("all");
      i_ += 2;
      OUTPOST_ASSIGN_OR_RETURN(Node inner, Or());
      OUTPOST_RETURN_IF_ERROR(Expect(")", false));
      Node n = Make(Node::Kind::kAnyAll, {std::move(left), std::move(inner)}, op);
      n.all = all;
      return n;
    }
    OUTPOST_ASSIGN_OR_RETURN(Node right, (this->*next)());
    return Make(Node::Kind::kBinary, {std::move(left), std::move(right)}, op);
  }

  Result<Node> Comparison() {
    OUTPOST_ASSIGN_OR_RETURN(Node left, Special());
    while (t_[i_].kind == Tok::kOp && IsComparison(t_[i_].text)) {
      std::string op = t_[i_++].text;
      OUTPOST_ASSIGN_OR_RETURN(left, RightOf(std::move(left), op, &Parser::Special));
    }
    return left;
  }

  // BETWEEN, IN, LIKE, ILIKE, SIMILAR TO (each possibly with NOT).
  Result<Node> Special() {
    OUTPOST_ASSIGN_OR_RETURN(Node left, OtherOp());
    while (true) {
      size_t k = IsWord("not") ? 1 : 0;
      const bool negated = k == 1;
      if (IsWord("between", k)) {
        i_ += k + 1;
        bool symmetric = IsWord("symmetric");
        if (symmetric || IsWord("asymmetric")) ++i_;
        OUTPOST_ASSIGN_OR_RETURN(Node lo, OtherOp());
        OUTPOST_RETURN_IF_ERROR(Expect("and", true));
        OUTPOST_ASSIGN_OR_RETURN(Node hi, OtherOp());
        Node n = Make(Node::Kind::kBetween, {std::move(left), std::move(lo), std::move(hi)});
        n.negated = negated;
        n.all = symmetric;
        left = std::move(n);
      } else if (IsWord("in", k) && IsOp("(", k + 1)) {
        i_ += k + 2;
        if (IsWord("select")) return Unsupported("IN (subquery)");
        Node n = Make(Node::Kind::kIn, {std::move(left)});
        n.negated = negated;
        while (true) {
          OUTPOST_ASSIGN_OR_RETURN(Node e, Or());
          n.args.push_back(std::move(e));
          if (!IsOp(",")) break;
          ++i_;
        }
        OUTPOST_RETURN_IF_ERROR(Expect(")", false));
        left = std::move(n);
      } else if (IsWord("like", k) || IsWord("ilike", k)) {
        bool ilike = IsWord("ilike", k);
        i_ += k + 1;
        std::string op = std::string(negated ? "!" : "") + (ilike ? "~~*" : "~~");
        OUTPOST_ASSIGN_OR_RETURN(left, RightOf(std::move(left), op, &Parser::OtherOp));
        if (IsWord("escape")) return Unsupported("LIKE ... ESCAPE");
      } else if (IsWord("similar", k)) {
        return Unsupported("SIMILAR TO");
      } else {
        return left;
      }
    }
  }

  Result<Node> OtherOp() {
    OUTPOST_ASSIGN_OR_RETURN(Node left, Additive());
    while (t_[i_].kind == Tok::kOp) {
      const std::string& op = t_[i_].text;
      static const std::set<std::string> kNotOther = {"=", "<", ">",  "<=", ">=", "<>", "!=", "+",
                                                      "-", "*", "/",  "%",  "^",  "(",  ")",  "[",
                                                      "]", ",", "::", ".",  ";",  ":"};
      if (kNotOther.count(op)) break;
      std::string taken = op;
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(left, RightOf(std::move(left), taken, &Parser::Additive));
    }
    return left;
  }

  Result<Node> Additive() { return LeftAssoc({"+", "-"}, &Parser::Multiplicative); }
  Result<Node> Multiplicative() { return LeftAssoc({"*", "/", "%"}, &Parser::Power); }
  Result<Node> Power() { return LeftAssoc({"^"}, &Parser::Unary); }
  Result<Node> LeftAssoc(std::initializer_list<const char*> ops, Result<Node> (Parser::*next)()) {
    OUTPOST_ASSIGN_OR_RETURN(Node left, (this->*next)());
    while (true) {
      const char* found = nullptr;
      for (const char* op : ops) {
        if (IsOp(op)) found = op;
      }
      if (!found) return left;
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(Node right, (this->*next)());
      left = Make(Node::Kind::kBinary, {std::move(left), std::move(right)}, found);
    }
  }

  Result<Node> Unary() {
    if (IsOp("-") || IsOp("+")) {
      std::string op = t_[i_++].text;
      OUTPOST_ASSIGN_OR_RETURN(Node n, Unary());
      return Make(Node::Kind::kUnary, {std::move(n)}, op);
    }
    return Postfix();
  }

  Result<Node> Postfix() {
    OUTPOST_ASSIGN_OR_RETURN(Node n, Primary());
    while (true) {
      if (IsOp("::")) {
        ++i_;
        Node cast = Make(Node::Kind::kCast, {std::move(n)});
        OUTPOST_ASSIGN_OR_RETURN(cast.type, Type());
        n = std::move(cast);
      } else if (IsOp("[")) {
        OUTPOST_RETURN_IF_ERROR(SkipGroup("[", "]"));
        n = Make(Node::Kind::kSubscript, {std::move(n)});
      } else if (IsWord("collate")) {
        ++i_;
        if (t_[i_].kind != Tok::kIdent && t_[i_].kind != Tok::kQuotedIdent) {
          return Unsupported("COLLATE without a collation");
        }
        std::string name = t_[i_++].text;
        while (IsOp(".") && t_[i_ + 1].kind != Tok::kEnd) {
          i_ += 1;
          name = t_[i_++].text;
        }
        n = Make(Node::Kind::kCollate, {std::move(n)}, name);
      } else {
        return n;
      }
    }
  }

  // Skips a balanced (open ... close) group starting at the current token.
  Status SkipGroup(const char* open, const char* close) {
    int depth = 0;
    do {
      if (t_[i_].kind == Tok::kEnd) return Unsupported(std::string("unbalanced ") + open);
      if (IsOp(open)) ++depth;
      if (IsOp(close)) --depth;
      ++i_;
    } while (depth > 0);
    return Status::Ok();
  }

  Result<TypeName> Type() {
    TypeName type;
    const Token& first = t_[i_];
    if (first.kind != Tok::kIdent && first.kind != Tok::kQuotedIdent) {
      return Unsupported("expected a type name after ::");
    }
    type.quoted = first.kind == Tok::kQuotedIdent;
    type.name = type.quoted ? first.text : Lower(first.text);
    ++i_;
    while (IsOp(".") && (t_[i_ + 1].kind == Tok::kIdent || t_[i_ + 1].kind == Tok::kQuotedIdent)) {
      type.quoted = t_[i_ + 1].kind == Tok::kQuotedIdent;
      type.name = type.quoted ? t_[i_ + 1].text : Lower(t_[i_ + 1].text);
      i_ += 2;
    }
    static const std::set<std::string> kMoreWords = {"varying", "precision", "with",
                                                     "without", "time",      "zone"};
    while (true) {
      if (IsOp("(")) {
        OUTPOST_RETURN_IF_ERROR(SkipGroup("(", ")"));
        type.modifiers = true;
      } else if (!type.quoted && t_[i_].kind == Tok::kIdent &&
                 kMoreWords.count(Lower(t_[i_].text))) {
        type.name += " " + Lower(t_[i_++].text);
      } else {
        break;
      }
    }
    while (IsOp("[") && IsOp("]", 1)) {
      ++type.array_dims;
      i_ += 2;
    }
    return type;
  }

  Result<Node> Primary() {
    const Token& t = t_[i_];
    switch (t.kind) {
      case Tok::kEnd: return Unsupported("unexpected end of expression");
      case Tok::kString: ++i_; return Make(Node::Kind::kString, {}, t.text);
      case Tok::kNumber: ++i_; return Make(Node::Kind::kNumber, {}, t.text);
      case Tok::kQuotedIdent: return Name();
      case Tok::kOp:
        if (IsOp("(")) {
          ++i_;
          OUTPOST_ASSIGN_OR_RETURN(Node inner, Or());
          if (IsOp(",")) return Unsupported("row constructor");
          OUTPOST_RETURN_IF_ERROR(Expect(")", false));
          return inner;
        }
        return Unsupported("operator " + t.text);
      case Tok::kIdent: break;
    }
    const std::string w = Lower(t.text);
    if (w == "true" || w == "false") {
      ++i_;
      return Make(Node::Kind::kBool, {}, w);
    }
    if (w == "null") {
      ++i_;
      return Make(Node::Kind::kNull, {});
    }
    if (w == "case") return Case();
    if (w == "array") {
      ++i_;
      if (!IsOp("[")) return Unsupported("ARRAY(subquery)");
      return ArrayElements();
    }
    static const std::set<std::string> kSpecial = {
        "current_date",   "current_time",    "current_timestamp", "localtime",
        "localtimestamp", "current_user",    "session_user",      "user",
        "current_role",   "current_catalog", "current_schema"};
    if (kSpecial.count(w) && !IsOp("(", 1)) {
      ++i_;
      return Make(Node::Kind::kSpecial, {}, w);
    }
    if (kSpecial.count(w)) {  // CURRENT_TIMESTAMP(3)
      ++i_;
      OUTPOST_RETURN_IF_ERROR(SkipGroup("(", ")"));
      return Make(Node::Kind::kSpecial, {}, w);
    }
    if (w == "trim" && IsOp("(", 1)) return Trim();
    if (w == "position" && IsOp("(", 1)) return Position();
    if (w == "substring" && IsOp("(", 1)) return Substring();
    if (w == "exists" || w == "row" || w == "select") {
      return Unsupported(w == "row" ? "a row constructor" : "a subquery");
    }
    if (t_[i_ + 1].kind == Tok::kString && w != "not") {  // typed literal: date '2020-01-01'
      Node cast = Make(Node::Kind::kCast, {Make(Node::Kind::kString, {}, t_[i_ + 1].text)});
      OUTPOST_ASSIGN_OR_RETURN(cast.type, Type());
      if (t_[i_].kind != Tok::kString) return Unsupported("a typed literal with modifiers");
      ++i_;
      return cast;
    }
    return Name();
  }

  // A column reference or a function call (possibly qualified: the last name counts).
  Result<Node> Name() {
    while (IsOp(".", 1) &&
           (t_[i_ + 2].kind == Tok::kIdent || t_[i_ + 2].kind == Tok::kQuotedIdent)) {
      i_ += 2;
    }
    const Token& t = t_[i_++];
    const bool quoted = t.kind == Tok::kQuotedIdent;
    if (!IsOp("(")) return Make(Node::Kind::kColumn, {}, t.text);
    Node call = Make(Node::Kind::kCall, {}, quoted ? t.text : Lower(t.text));
    call.quoted = quoted;
    ++i_;  // '('
    if (IsOp(")")) {
      ++i_;
      return call;
    }
    while (true) {
      if (IsWord("distinct") || IsWord("variadic") || IsOp("*")) break;
      OUTPOST_ASSIGN_OR_RETURN(Node arg, Or());
      call.args.push_back(std::move(arg));
      if (IsOp(",")) {
        ++i_;
        continue;
      }
      if (IsOp(")")) {
        ++i_;
        return call;
      }
      break;
    }
    // SQL-standard argument syntax (EXTRACT(x FROM y), SUBSTRING(x FROM a FOR b), ...),
    // aggregates: nothing here translates them.
    return Unsupported("function " + call.text + "()");
  }

  Result<Node> ArrayElements() {  // at '['
    ++i_;
    Node arr = Make(Node::Kind::kArray, {});
    if (IsOp("]")) {
      ++i_;
      return arr;
    }
    while (true) {
      if (IsOp("[")) {
        OUTPOST_ASSIGN_OR_RETURN(Node sub, ArrayElements());
        arr.args.push_back(std::move(sub));
      } else {
        OUTPOST_ASSIGN_OR_RETURN(Node e, Or());
        arr.args.push_back(std::move(e));
      }
      if (IsOp(",")) {
        ++i_;
        continue;
      }
      OUTPOST_RETURN_IF_ERROR(Expect("]", false));
      return arr;
    }
  }

  Result<Node> Case() {
    ++i_;  // CASE
    Node n = Make(Node::Kind::kCase, {});
    if (!IsWord("when")) {
      OUTPOST_ASSIGN_OR_RETURN(Node operand, Or());
      n.args.push_back(std::move(operand));
      n.has_operand = true;
    }
    while (IsWord("when")) {
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(Node when, Or());
      OUTPOST_RETURN_IF_ERROR(Expect("then", true));
      OUTPOST_ASSIGN_OR_RETURN(Node then, Or());
      n.args.push_back(std::move(when));
      n.args.push_back(std::move(then));
    }
    if (IsWord("else")) {
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(Node otherwise, Or());
      n.args.push_back(std::move(otherwise));
      n.has_else = true;
    }
    OUTPOST_RETURN_IF_ERROR(Expect("end", true));
    return n;
  }

  // POSITION(sub IN s): strpos(s, sub). The operands are parsed above IN's level, so that
  // "IN (s)" is not taken for an IN list.
  Result<Node> Position() {
    i_ += 2;  // POSITION (
    OUTPOST_ASSIGN_OR_RETURN(Node sub, OtherOp());
    OUTPOST_RETURN_IF_ERROR(Expect("in", true));
    OUTPOST_ASSIGN_OR_RETURN(Node s, OtherOp());
    OUTPOST_RETURN_IF_ERROR(Expect(")", false));
    return Make(Node::Kind::kCall, {std::move(s), std::move(sub)}, "strpos");
  }

  // SUBSTRING(s FROM start [FOR count]) and SUBSTRING(s, start [, count]): substr(...).
  Result<Node> Substring() {
    i_ += 2;  // SUBSTRING (
    Node call = Make(Node::Kind::kCall, {}, "substr");
    OUTPOST_ASSIGN_OR_RETURN(Node s, Or());
    call.args.push_back(std::move(s));
    const bool standard = IsWord("from");
    if (!standard && !IsOp(",")) return Unsupported("SUBSTRING without a start");
    ++i_;
    OUTPOST_ASSIGN_OR_RETURN(Node start, Or());
    call.args.push_back(std::move(start));
    if (standard ? IsWord("for") : IsOp(",")) {
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(Node count, Or());
      call.args.push_back(std::move(count));
    }
    OUTPOST_RETURN_IF_ERROR(Expect(")", false));
    return call;
  }

  // TRIM([BOTH | LEADING | TRAILING] [chars] FROM source) and TRIM(source): btrim/ltrim/rtrim.
  Result<Node> Trim() {
    i_ += 2;  // TRIM (
    std::string fn = "btrim";
    if (IsWord("both") || IsWord("leading") || IsWord("trailing")) {
      fn = IsWord("leading") ? "ltrim" : IsWord("trailing") ? "rtrim" : "btrim";
      ++i_;
    }
    Node call = Make(Node::Kind::kCall, {}, fn);
    std::optional<Node> chars;
    if (!IsWord("from")) {
      OUTPOST_ASSIGN_OR_RETURN(Node first, Or());
      chars = std::move(first);
    }
    if (IsWord("from")) {
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(Node source, Or());
      call.args.push_back(std::move(source));
      if (chars) call.args.push_back(std::move(*chars));
    } else if (chars) {
      call.args.push_back(std::move(*chars));  // TRIM(source)
    } else {
      return Unsupported("TRIM without a source");
    }
    OUTPOST_RETURN_IF_ERROR(Expect(")", false));
    return call;
  }

  std::vector<Token> t_;
  size_t i_ = 0;
};

}  // namespace

Result<Node> Parse(std::string_view expression) {
  OUTPOST_ASSIGN_OR_RETURN(auto tokens, Tokenize(expression));
  Parser parser(std::move(tokens));
  return parser.ParseAll();
}

}  // namespace outpost::pg_expr
