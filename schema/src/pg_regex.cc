// PgRegex (outpost/pg_eval.h): the locale-independent subset of PostgreSQL's advanced regular
// expressions, compiled to a Thompson NFA and matched by simulating every state at once (no
// backtracking, no recursion: time is text length times program size, stack use is constant).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "outpost/pg_eval.h"

namespace outpost {

namespace {

Status Unsupported(std::string what) {
  return Status(Code::kUnsupported, "regular expression: " + std::move(what));
}

// UTF-8 -> code points. An invalid byte becomes 0xFFFFFFFF minus the byte: a value no character,
// range or class in a pattern can name, so it matches only `.` and negated classes.
std::vector<char32_t> Decode(std::string_view s) {
  std::vector<char32_t> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    int extra = b < 0x80           ? 0
                : (b >> 5) == 0x6  ? 1
                : (b >> 4) == 0xE  ? 2
                : (b >> 3) == 0x1E ? 3
                                   : -1;
    char32_t cp = extra == 0 ? b : extra == 1 ? (b & 0x1F) : extra == 2 ? (b & 0x0F) : (b & 0x07);
    bool ok = extra >= 0 && i + static_cast<size_t>(extra) < s.size();
    for (int k = 1; ok && k <= extra; ++k) {
      const auto c = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
      if ((c & 0xC0) != 0x80) ok = false;
      cp = (cp << 6) | (c & 0x3F);
    }
    if (!ok) {
      out.push_back(0xFFFFFFFFu - b);
      ++i;
      continue;
    }
    out.push_back(cp);
    i += static_cast<size_t>(extra) + 1;
  }
  return out;
}

struct Range {
  char32_t lo, hi;
};

struct CharClass {
  std::vector<Range> ranges;
  bool negated = false;
  bool Contains(char32_t c) const {
    bool in = std::any_of(ranges.begin(), ranges.end(),
                          [c](const Range& r) { return r.lo <= c && c <= r.hi; });
    return in != negated;
  }
};

// glibc's "space" class in its UTF-8 locales (what PostgreSQL's \s and [[:space:]] use there).
const Range kSpaces[] = {{0x09, 0x0D},     {0x20, 0x20},     {0x1680, 0x1680}, {0x2000, 0x2006},
                         {0x2008, 0x200A}, {0x2028, 0x2029}, {0x205F, 0x205F}, {0x3000, 0x3000}};

// The pattern as a tree, before it becomes a program.
struct Node {
  enum Kind { kEmpty, kClass, kBol, kEol, kConcat, kAlt, kRepeat } kind = kEmpty;
  CharClass cls;               // kClass (a literal character is a one-character class)
  int min = 0, max = 0;        // kRepeat; max -1: unbounded
  std::vector<Node> children;  // kConcat, kAlt; kRepeat: one
};

class Parser {
 public:
  Parser(std::vector<char32_t> p, bool icase) : p_(std::move(p)), icase_(icase) {}

  Result<Node> Parse() {
    OUTPOST_RETURN_IF_ERROR(LeadingOptions());
    OUTPOST_ASSIGN_OR_RETURN(Node n, Alternation());
    if (i_ < p_.size()) return Unsupported("unbalanced parenthesis");
    return n;
  }

 private:
  bool At(char32_t c, size_t ahead = 0) const {
    return i_ + ahead < p_.size() && p_[i_ + ahead] == c;
  }
  static bool IsDigit(char32_t c) { return c >= '0' && c <= '9'; }
  static bool IsAlnum(char32_t c) {
    return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  }

  // "***" directors and a leading "(?flags)" group.
  Status LeadingOptions() {
    if (At('*') && At('*', 1) && At('*', 2)) return Unsupported("*** director");
    if (!(At('(') && At('?', 1))) return Status::Ok();
    size_t j = i_ + 2;
    bool icase = icase_;
    while (j < p_.size() && p_[j] != ')') {
      if (p_[j] == 'i') {
        icase = true;
      } else if (p_[j] == 'c') {
        icase = false;
      } else if (p_[j] >= 'a' && p_[j] <= 'z') {
        return Unsupported(std::string("embedded option (?") + static_cast<char>(p_[j]) + ")");
      } else {
        return Status::Ok();  // "(?:", "(?=", ...: a group, handled by Atom
      }
      ++j;
    }
    if (j >= p_.size() || j == i_ + 2) return Status::Ok();
    icase_ = icase;
    i_ = j + 1;
    return Status::Ok();
  }

  Result<Node> Alternation() {
    Node alt;
    alt.kind = Node::kAlt;
    while (true) {
      OUTPOST_ASSIGN_OR_RETURN(Node branch, Concatenation());
      alt.children.push_back(std::move(branch));
      if (!At('|')) break;
      ++i_;
    }
    if (alt.children.size() == 1) return std::move(alt.children[0]);
    return alt;
  }

  Result<Node> Concatenation() {
    Node cat;
    cat.kind = Node::kConcat;
    while (i_ < p_.size() && !At('|') && !At(')')) {
      OUTPOST_ASSIGN_OR_RETURN(Node atom, Atom());
      OUTPOST_ASSIGN_OR_RETURN(bool quantified, Quantifier(&atom));
      if (quantified && (At('*') || At('+') || At('?') ||
                         (At('{') && i_ + 1 < p_.size() && IsDigit(p_[i_ + 1])))) {
        return Unsupported("a quantifier after a quantifier");
      }
      cat.children.push_back(std::move(atom));
    }
    return cat;
  }

  // Applies a following *, +, ?, {m[,[n]]} (and a non-greedy '?') to `atom`.
  Result<bool> Quantifier(Node* atom) {
    int min = 0, max = 0;
    if (At('*')) {
      min = 0, max = -1, ++i_;
    } else if (At('+')) {
      min = 1, max = -1, ++i_;
    } else if (At('?')) {
      min = 0, max = 1, ++i_;
    } else if (At('{') && i_ + 1 < p_.size() && IsDigit(p_[i_ + 1])) {
      ++i_;
      OUTPOST_ASSIGN_OR_RETURN(min, Count());
      max = min;
      if (At(',')) {
        ++i_;
        max = -1;
        if (i_ < p_.size() && IsDigit(p_[i_])) {
          OUTPOST_ASSIGN_OR_RETURN(max, Count());
          if (max < min) return Unsupported("a bound {m,n} with m > n");
        }
      }
      if (!At('}')) return Unsupported("a malformed bound {...}");
      ++i_;
    } else {
      return false;
    }
    if (At('?')) ++i_;  // non-greedy: the same yes/no answer
    if (atom->kind == Node::kBol || atom->kind == Node::kEol) {
      return Unsupported("a quantified anchor");
    }
    Node rep;
    rep.kind = Node::kRepeat;
    rep.min = min;
    rep.max = max;
    rep.children.push_back(std::move(*atom));
    *atom = std::move(rep);
    return true;
  }

  Result<int> Count() {
    int n = 0;
    while (i_ < p_.size() && IsDigit(p_[i_])) {
      n = n * 10 + static_cast<int>(p_[i_] - '0');
      if (n > 255) return Unsupported("a repetition count above 255");
      ++i_;
    }
    return n;
  }

  Result<Node> Atom() {
    char32_t c = p_[i_];
    if (c == '(') {
      ++i_;
      if (At('?')) {
        if (!At(':', 1)) return Unsupported("lookaround or embedded options inside the pattern");
        i_ += 2;
      }
      OUTPOST_ASSIGN_OR_RETURN(Node inner, Alternation());
      if (!At(')')) return Unsupported("unbalanced parenthesis");
      ++i_;
      return inner;
    }
    if (c == '*' || c == '+' || c == '?' ||
        (c == '{' && i_ + 1 < p_.size() && IsDigit(p_[i_ + 1]))) {
      return Unsupported("a quantifier without an operand");
    }
    ++i_;
    Node n;
    if (c == '^' || c == '$') {
      n.kind = c == '^' ? Node::kBol : Node::kEol;
      return n;
    }
    n.kind = Node::kClass;
    if (c == '.') {
      n.cls.negated = true;  // the empty negated class: every character
      return n;
    }
    if (c == '[') {
      OUTPOST_RETURN_IF_ERROR(Bracket(&n.cls));
    } else if (c == '\\') {
      OUTPOST_RETURN_IF_ERROR(Escape(/*in_bracket=*/false, &n.cls));
    } else {
      OUTPOST_RETURN_IF_ERROR(AddChar(c, &n.cls));
    }
    return n;
  }

  // One character (ASCII letters in both cases when case-insensitive).
  Status AddChar(char32_t c, CharClass* cls) { return AddRange(c, c, cls); }
  Status AddRange(char32_t lo, char32_t hi, CharClass* cls) {
    cls->ranges.push_back({lo, hi});
    if (!icase_) return Status::Ok();
    if (hi > 0x7F) {
      return Unsupported(
          "case-insensitive matching of non-ASCII characters (case folding follows the "
          "database's locale)");
    }
    for (char32_t a : {char32_t{'a'}, char32_t{'A'}}) {
      char32_t from = std::max(lo, a), to = std::min(hi, static_cast<char32_t>(a + 25));
      if (from <= to) cls->ranges.push_back({from ^ 0x20, to ^ 0x20});
    }
    return Status::Ok();
  }

  Status Bracket(CharClass* cls) {
    if (At('^')) {
      cls->negated = true;
      ++i_;
    }
    bool first = true;
    while (true) {
      if (i_ >= p_.size()) return Unsupported("an unterminated bracket expression");
      char32_t c = p_[i_];
      if (c == ']' && !first) {
        ++i_;
        return Status::Ok();
      }
      first = false;
      if (c == '[' && (At(':', 1) || At('.', 1) || At('=', 1))) {
        return Unsupported(At(':', 1) ? "a [[:class:]] (its members follow the database's locale)"
                                      : "a collating element or equivalence class");
      }
      ++i_;
      char32_t lo = c;
      if (c == '\\') {
        CharClass esc;
        OUTPOST_RETURN_IF_ERROR(Escape(/*in_bracket=*/true, &esc));
        if (esc.ranges.size() != 1 || esc.ranges[0].lo != esc.ranges[0].hi) {
          cls->ranges.insert(cls->ranges.end(), esc.ranges.begin(), esc.ranges.end());
          continue;
        }
        lo = esc.ranges[0].lo;
      }
      if (At('-') && i_ + 1 < p_.size() && p_[i_ + 1] != ']') {
        ++i_;
        char32_t hi = p_[i_++];
        if (hi == '\\') {
          CharClass esc;
          OUTPOST_RETURN_IF_ERROR(Escape(/*in_bracket=*/true, &esc));
          if (esc.ranges.size() != 1 || esc.ranges[0].lo != esc.ranges[0].hi) {
            return Unsupported("a range ending in a class escape");
          }
          hi = esc.ranges[0].lo;
        } else if (hi == '[') {
          return Unsupported("a range ending in '['");
        }
        if (hi < lo) return Unsupported("a range out of order");
        OUTPOST_RETURN_IF_ERROR(AddRange(lo, hi, cls));
      } else {
        OUTPOST_RETURN_IF_ERROR(AddChar(lo, cls));
      }
    }
  }

  Result<char32_t> Hex(int min_digits, int max_digits) {
    char32_t v = 0;
    int n = 0;
    while (n < max_digits && i_ < p_.size()) {
      char32_t c = p_[i_];
      int d = IsDigit(c)               ? static_cast<int>(c - '0')
              : (c >= 'a' && c <= 'f') ? static_cast<int>(c - 'a' + 10)
              : (c >= 'A' && c <= 'F') ? static_cast<int>(c - 'A' + 10)
                                       : -1;
      if (d < 0) break;
      v = v * 16 + static_cast<char32_t>(d);
      ++n, ++i_;
    }
    if (n < min_digits || v > 0x10FFFF) return Unsupported("a malformed hexadecimal escape");
    return v;
  }

  // After a backslash: a class escape or one character, into `cls`.
  Status Escape(bool in_bracket, CharClass* cls) {
    if (i_ >= p_.size()) return Unsupported("a trailing backslash");
    char32_t e = p_[i_++];
    switch (e) {
      case 'd':
      case 'D':
        if (e == 'D' && in_bracket) break;
        cls->ranges.push_back({'0', '9'});
        cls->negated = e == 'D';
        return Status::Ok();
      case 's':
      case 'S':
        if (e == 'S' && in_bracket) break;
        cls->ranges.assign(std::begin(kSpaces), std::end(kSpaces));
        cls->negated = e == 'S';
        return Status::Ok();
      case 'w':
      case 'W':
        return Unsupported(std::string("\\") + static_cast<char>(e) +
                           " (word characters follow the database's locale)");
      case 't': return AddChar('\t', cls);
      case 'n': return AddChar('\n', cls);
      case 'r': return AddChar('\r', cls);
      case 'f': return AddChar('\f', cls);
      case 'v': return AddChar('\v', cls);
      case 'a': return AddChar('\a', cls);
      case 'e': return AddChar(0x1B, cls);
      case 'x': {
        OUTPOST_ASSIGN_OR_RETURN(char32_t v, Hex(1, 8));
        return AddChar(v, cls);
      }
      case 'u': {
        OUTPOST_ASSIGN_OR_RETURN(char32_t v, Hex(4, 4));
        return AddChar(v, cls);
      }
      case 'U': {
        OUTPOST_ASSIGN_OR_RETURN(char32_t v, Hex(8, 8));
        return AddChar(v, cls);
      }
      default:
        if (!IsAlnum(e)) return AddChar(e, cls);
    }
    if (e >= '1' && e <= '9') return Unsupported("a back reference");
    std::string name = std::string("the escape \\") + static_cast<char>(e);
    if (e == 'b') name += " (a backspace in PostgreSQL, a word boundary elsewhere)";
    return Unsupported(name);
  }

  std::vector<char32_t> p_;
  size_t i_ = 0;
  bool icase_;
};

}  // namespace

struct PgRegex::Program {
  struct Inst {
    enum Op { kClass, kSplit, kJmp, kBol, kEol, kMatch } op;
    int cls = 0;       // kClass: index into classes
    int x = 0, y = 0;  // kSplit: both targets; kJmp: x
  };
  std::vector<Inst> insts;
  std::vector<CharClass> classes;
};

namespace {

constexpr size_t kMaxInstructions = 20000;

class Emitter {
 public:
  explicit Emitter(PgRegex::Program* p) : p_(p) {}

  Status Emit(const Node& n) {
    if (p_->insts.size() > kMaxInstructions) {
      return Unsupported("a pattern too large once its repetitions are expanded");
    }
    using Inst = PgRegex::Program::Inst;
    switch (n.kind) {
      case Node::kEmpty: return Status::Ok();
      case Node::kClass:
        p_->classes.push_back(n.cls);
        Add({Inst::kClass, static_cast<int>(p_->classes.size() - 1)});
        return Status::Ok();
      case Node::kBol: Add({Inst::kBol}); return Status::Ok();
      case Node::kEol: Add({Inst::kEol}); return Status::Ok();
      case Node::kConcat:
        for (const auto& c : n.children) OUTPOST_RETURN_IF_ERROR(Emit(c));
        return Status::Ok();
      case Node::kAlt: {
        // split L1, next; L1: a; jmp end; next: split L2, ...; last: z; end:
        std::vector<size_t> jumps;
        for (size_t k = 0; k < n.children.size(); ++k) {
          const bool last = k + 1 == n.children.size();
          size_t split = 0;
          if (!last) split = Add({Inst::kSplit});
          if (!last) p_->insts[split].x = Here();
          OUTPOST_RETURN_IF_ERROR(Emit(n.children[k]));
          if (!last) {
            jumps.push_back(Add({Inst::kJmp}));
            p_->insts[split].y = Here();
          }
        }
        for (size_t j : jumps) p_->insts[j].x = Here();
        return Status::Ok();
      }
      case Node::kRepeat: {
        const Node& body = n.children[0];
        for (int k = 0; k < n.min; ++k) OUTPOST_RETURN_IF_ERROR(Emit(body));
        if (n.max < 0) {  // L: split body, end; body; jmp L; end:
          size_t split = Add({Inst::kSplit});
          p_->insts[split].x = Here();
          OUTPOST_RETURN_IF_ERROR(Emit(body));
          size_t jmp = Add({Inst::kJmp});
          p_->insts[jmp].x = static_cast<int>(split);
          p_->insts[split].y = Here();
          return Status::Ok();
        }
        std::vector<size_t> splits;  // each optional copy may be skipped to the end
        for (int k = n.min; k < n.max; ++k) {
          size_t split = Add({Inst::kSplit});
          p_->insts[split].x = Here();
          splits.push_back(split);
          OUTPOST_RETURN_IF_ERROR(Emit(body));
        }
        for (size_t s : splits) p_->insts[s].y = Here();
        return Status::Ok();
      }
    }
    return Status(Code::kInternal, "regular expression: unknown node");
  }

 private:
  size_t Add(PgRegex::Program::Inst i) {
    p_->insts.push_back(i);
    return p_->insts.size() - 1;
  }
  int Here() const { return static_cast<int>(p_->insts.size()); }
  PgRegex::Program* p_;
};

}  // namespace

Result<PgRegex> PgRegex::Compile(std::string_view pattern, bool case_insensitive) {
  Parser parser(Decode(pattern), case_insensitive);
  OUTPOST_ASSIGN_OR_RETURN(Node tree, parser.Parse());
  auto program = std::make_shared<Program>();
  Emitter emitter(program.get());
  OUTPOST_RETURN_IF_ERROR(emitter.Emit(tree));
  if (program->insts.size() > kMaxInstructions) {
    return Unsupported("a pattern too large once its repetitions are expanded");
  }
  program->insts.push_back({Program::Inst::kMatch});
  return PgRegex(std::move(program));
}

bool PgRegex::Search(std::string_view text) const {
  using Inst = Program::Inst;
  const auto& insts = program_->insts;
  const std::vector<char32_t> s = Decode(text);
  const size_t n = insts.size();
  // Thread lists as dense arrays with a generation mark per instruction (no clearing).
  std::vector<int> current, next, stack;
  std::vector<size_t> mark(n, 0);
  size_t generation = 0;
  current.reserve(n), next.reserve(n), stack.reserve(n);
  // Adds pc and everything reachable from it without consuming a character at position `pos`
  // to `list`; true when that reaches the match.
  auto add = [&](std::vector<int>& list, int pc, size_t pos) {
    stack.push_back(pc);
    while (!stack.empty()) {
      int at = stack.back();
      stack.pop_back();
      if (mark[static_cast<size_t>(at)] == generation) continue;
      mark[static_cast<size_t>(at)] = generation;
      const Inst& in = insts[static_cast<size_t>(at)];
      switch (in.op) {
        case Inst::kMatch: stack.clear(); return true;
        case Inst::kJmp: stack.push_back(in.x); break;
        case Inst::kSplit:
          stack.push_back(in.y);
          stack.push_back(in.x);
          break;
        case Inst::kBol:
          if (pos == 0) stack.push_back(at + 1);
          break;
        case Inst::kEol:
          if (pos == s.size()) stack.push_back(at + 1);
          break;
        case Inst::kClass: list.push_back(at); break;
      }
    }
    return false;
  };
  ++generation;
  for (size_t pos = 0;; ++pos) {
    // A match may start at every position: add the start state to the current generation.
    if (add(current, 0, pos)) return true;
    if (pos == s.size()) return false;
    ++generation;
    next.clear();
    for (int pc : current) {
      const Inst& in = insts[static_cast<size_t>(pc)];
      if (program_->classes[static_cast<size_t>(in.cls)].Contains(s[pos]) &&
          add(next, pc + 1, pos + 1)) {
        return true;
      }
    }
    std::swap(current, next);
  }
}

Result<std::string> LikeToPgRegex(std::string_view like) {
  std::string out = "^";
  for (size_t i = 0; i < like.size(); ++i) {
    char c = like[i];
    if (c == '%') {
      out += ".*";
    } else if (c == '_') {
      out += '.';
    } else {
      if (c == '\\') {
        if (++i >= like.size()) {
          return Status(Code::kUnsupported, "LIKE pattern ends with the escape character");
        }
        c = like[i];
      }
      if (std::string_view("\\.[](){}*+?|^$").find(c) != std::string_view::npos) out += '\\';
      out += c;
    }
  }
  return out + "$";
}

}  // namespace outpost
