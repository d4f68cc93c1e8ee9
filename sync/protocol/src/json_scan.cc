#include "json_scan.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace outpost::protocol {

namespace {

bool IsWs(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendUtf8(std::string* out, uint32_t cp) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

}  // namespace

Status JsonScanner::Error(std::string_view what) const {
  return Status(Code::kMalformedAnswer,
                "pull answer: " + std::string(what) + " at byte " + std::to_string(p_));
}

char JsonScanner::Peek() {
  while (p_ < s_.size() && IsWs(s_[p_])) ++p_;
  return p_ < s_.size() ? s_[p_] : '\0';
}

bool JsonScanner::AtEnd() {
  return Peek() == '\0' && p_ >= s_.size();
}

Status JsonScanner::Expect(char c) {
  if (Peek() != c) return Error(std::string("expected '") + c + "'");
  ++p_;
  return Status::Ok();
}

bool JsonScanner::Consume(char c) {
  if (Peek() != c) return false;
  ++p_;
  return true;
}

Result<std::string_view> JsonScanner::String(std::string* scratch) {
  if (Peek() != '"') return Error("expected a string");
  size_t start = ++p_;
  // Fast path, no escapes: the closing quote, and no backslash before it (memchr is vectorised;
  // most strings of a pull line are keys and timestamps).
  const char* base = s_.data();
  const void* quote = std::memchr(base + p_, '"', s_.size() - p_);
  if (!quote) return Error("unterminated string");
  const size_t end = static_cast<size_t>(static_cast<const char*>(quote) - base);
  const void* backslash = std::memchr(base + p_, '\\', end - p_);
  if (!backslash) {
    p_ = end + 1;
    return s_.substr(start, end - start);
  }
  p_ = static_cast<size_t>(static_cast<const char*>(backslash) - base);
  scratch->assign(s_.data() + start, p_ - start);
  while (p_ < s_.size()) {
    char c = s_[p_++];
    if (c == '"') return std::string_view(*scratch);
    if (c != '\\') {
      scratch->push_back(c);
      continue;
    }
    if (p_ >= s_.size()) break;
    char e = s_[p_++];
    switch (e) {
      case '"': scratch->push_back('"'); break;
      case '\\': scratch->push_back('\\'); break;
      case '/': scratch->push_back('/'); break;
      case 'b': scratch->push_back('\b'); break;
      case 'f': scratch->push_back('\f'); break;
      case 'n': scratch->push_back('\n'); break;
      case 'r': scratch->push_back('\r'); break;
      case 't': scratch->push_back('\t'); break;
      case 'u': {
        auto hex4 = [&](uint32_t* v) -> bool {
          if (p_ + 4 > s_.size()) return false;
          *v = 0;
          for (int k = 0; k < 4; ++k) {
            int d = HexDigit(s_[p_ + static_cast<size_t>(k)]);
            if (d < 0) return false;
            *v = *v * 16 + static_cast<uint32_t>(d);
          }
          p_ += 4;
          return true;
        };
        uint32_t cp = 0;
        if (!hex4(&cp)) return Error("bad \\u escape");
        if (cp >= 0xD800 && cp <= 0xDBFF) {
          uint32_t lo = 0;
          if (p_ + 1 < s_.size() && s_[p_] == '\\' && s_[p_ + 1] == 'u') {
            p_ += 2;
            if (!hex4(&lo) || lo < 0xDC00 || lo > 0xDFFF) return Error("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else {
            return Error("lone surrogate");
          }
        } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
          return Error("lone surrogate");
        }
        AppendUtf8(scratch, cp);
        break;
      }
      default: return Error("bad escape");
    }
  }
  return Error("unterminated string");
}

Result<std::string_view> JsonScanner::SkipValue() {
  char c = Peek();
  size_t start = p_;
  if (c == '"') {
    ++p_;
    while (p_ < s_.size() && s_[p_] != '"') p_ += s_[p_] == '\\' ? 2 : 1;
    if (p_ >= s_.size()) return Error("unterminated string");
    ++p_;
    return s_.substr(start, p_ - start);
  }
  if (c == '{' || c == '[') {
    int depth = 0;
    while (p_ < s_.size()) {
      char d = s_[p_];
      if (d == '"') {
        ++p_;
        while (p_ < s_.size() && s_[p_] != '"') p_ += s_[p_] == '\\' ? 2 : 1;
        if (p_ >= s_.size()) return Error("unterminated string");
      } else if (d == '{' || d == '[') {
        ++depth;
      } else if (d == '}' || d == ']') {
        if (--depth == 0) {
          ++p_;
          return s_.substr(start, p_ - start);
        }
      }
      ++p_;
    }
    return Error("unterminated object or array");
  }
  while (p_ < s_.size() && s_[p_] != ',' && s_[p_] != '}' && s_[p_] != ']' && !IsWs(s_[p_])) {
    ++p_;
  }
  if (p_ == start) return Error("expected a value");
  return s_.substr(start, p_ - start);
}

Status JsonScanner::Number(JsonScalar* out) {
  size_t start = p_;
  bool is_float = false;
  if (p_ < s_.size() && s_[p_] == '-') ++p_;
  while (p_ < s_.size()) {
    char c = s_[p_];
    if (c >= '0' && c <= '9') {
      ++p_;
    } else if (c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-') {
      is_float = true;
      ++p_;
    } else {
      break;
    }
  }
  std::string_view text = s_.substr(start, p_ - start);
  if (text.empty() || text == "-") return Error("bad number");
  out->text = text;
  char buf[64];
  if (text.size() >= sizeof buf) return Error("number too long");
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  char* end = nullptr;
  errno = 0;
  if (!is_float) {
    long long v = std::strtoll(buf, &end, 10);
    if (errno == 0 && end == buf + text.size()) {
      out->kind = JsonScalar::Kind::kInt;
      out->i = v;
      return Status::Ok();
    }
    errno = 0;  // beyond 64 bits: read as a double
  }
  double d = std::strtod(buf, &end);
  if (end != buf + text.size()) return Error("bad number");
  out->kind = JsonScalar::Kind::kDouble;
  out->d = d;
  return Status::Ok();
}

Status JsonScanner::Scalar(JsonScalar* out, std::string* scratch) {
  char c = Peek();
  switch (c) {
    case '"': {
      OUTPOST_ASSIGN_OR_RETURN(out->text, String(scratch));
      out->kind = JsonScalar::Kind::kString;
      return Status::Ok();
    }
    case 'n':
      if (s_.substr(p_, 4) != "null") return Error("bad literal");
      p_ += 4;
      out->kind = JsonScalar::Kind::kNull;
      return Status::Ok();
    case 't':
      if (s_.substr(p_, 4) != "true") return Error("bad literal");
      p_ += 4;
      out->kind = JsonScalar::Kind::kBool;
      out->i = 1;
      return Status::Ok();
    case 'f':
      if (s_.substr(p_, 5) != "false") return Error("bad literal");
      p_ += 5;
      out->kind = JsonScalar::Kind::kBool;
      out->i = 0;
      return Status::Ok();
    case '{': {
      size_t start = p_;
      ++p_;
      std::string key_scratch;
      if (Peek() == '"') {
        OUTPOST_ASSIGN_OR_RETURN(std::string_view key, String(&key_scratch));
        if (key == "$blob" && Consume(':') && Peek() == '"') {
          OUTPOST_ASSIGN_OR_RETURN(out->text, String(scratch));
          if (Consume('}')) {
            out->kind = JsonScalar::Kind::kBlob;
            return Status::Ok();
          }
        }
      }
      p_ = start;
      OUTPOST_ASSIGN_OR_RETURN(out->text, SkipValue());
      out->kind = JsonScalar::Kind::kRaw;
      return Status::Ok();
    }
    case '[': {
      OUTPOST_ASSIGN_OR_RETURN(out->text, SkipValue());
      out->kind = JsonScalar::Kind::kRaw;
      return Status::Ok();
    }
    default:
      if (c == '-' || (c >= '0' && c <= '9')) return Number(out);
      return Error("expected a value");
  }
}

}  // namespace outpost::protocol
