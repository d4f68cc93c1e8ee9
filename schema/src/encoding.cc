// Hex, base64, base64url and JSON string literals (outpost/encoding.h).
#include "outpost/encoding.h"

namespace outpost {
namespace {

constexpr char kHexDigits[] = "0123456789abcdef";
constexpr char kStandardAlphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrlAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// True for the bytes a JSON string may carry unescaped.
struct SafeTable {
  bool safe[256];
  constexpr SafeTable() : safe() {
    for (int c = 0; c < 256; ++c) safe[c] = c >= 0x20 && c != '"' && c != '\\';
  }
};
constexpr SafeTable kSafe;

std::string Encode(const uint8_t* data, size_t size, const char* alphabet, bool pad) {
  std::string out;
  out.reserve((size + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < size; i += 3) {
    uint32_t n = (uint32_t{data[i]} << 16) | (uint32_t{data[i + 1]} << 8) | data[i + 2];
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    out.push_back(alphabet[(n >> 6) & 63]);
    out.push_back(alphabet[n & 63]);
  }
  if (i < size) {
    uint32_t n = uint32_t{data[i]} << 16;
    if (i + 1 < size) n |= uint32_t{data[i + 1]} << 8;
    out.push_back(alphabet[(n >> 18) & 63]);
    out.push_back(alphabet[(n >> 12) & 63]);
    if (i + 1 < size) {
      out.push_back(alphabet[(n >> 6) & 63]);
    } else if (pad) {
      out.push_back('=');
    }
    if (pad) out.push_back('=');
  }
  return out;
}

// The 6-bit value of `c`, or -1. `url_only`: only the URL-safe alphabet; otherwise both.
int SextetOf(char c, bool url_only) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '-') return 62;
  if (c == '_') return 63;
  if (!url_only && c == '+') return 62;
  if (!url_only && c == '/') return 63;
  return -1;
}

// Decodes into any byte container. `strict`: URL alphabet only, no padding, zero trailing bits.
template <typename Bytes>
Result<Bytes> Decode(std::string_view text, bool strict, const char* what) {
  if (!strict) {
    while (!text.empty() && text.back() == '=') text.remove_suffix(1);
  }
  if (text.size() % 4 == 1) {
    return Status(Code::kInvalidArgument, std::string("invalid ") + what + " length");
  }
  Bytes out;
  out.reserve(text.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : text) {
    int v = SextetOf(c, strict);
    if (v < 0) return Status(Code::kInvalidArgument, std::string("invalid ") + what + " character");
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<typename Bytes::value_type>((acc >> bits) & 0xff));
    }
  }
  if (strict && bits > 0 && (acc & ((1u << bits) - 1)) != 0) {
    return Status(Code::kInvalidArgument, std::string("invalid ") + what + " trailing bits");
  }
  return out;
}

}  // namespace

std::string HexEncode(const uint8_t* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHexDigits[data[i] >> 4]);
    out.push_back(kHexDigits[data[i] & 15]);
  }
  return out;
}

std::string Base64Encode(const uint8_t* data, size_t size) {
  return Encode(data, size, kStandardAlphabet, /*pad=*/true);
}

Result<std::vector<uint8_t>> Base64Decode(std::string_view text) {
  return Decode<std::vector<uint8_t>>(text, /*strict=*/false, "base64");
}

std::string Base64UrlEncode(std::string_view bytes) {
  return Encode(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), kUrlAlphabet,
                /*pad=*/false);
}

Result<std::string> Base64UrlDecode(std::string_view text) {
  return Decode<std::string>(text, /*strict=*/true, "base64url");
}

bool JsonStringNeedsEscape(std::string_view s) {
  for (char c : s) {
    if (!kSafe.safe[static_cast<unsigned char>(c)]) return true;
  }
  return false;
}

void AppendJsonString(std::string_view s, std::string* out) {
  out->push_back('"');
  const char* p = s.data();
  const char* end = p + s.size();
  while (p < end) {
    const char* run = p;
    while (p < end && kSafe.safe[static_cast<unsigned char>(*p)]) ++p;
    if (p > run) out->append(run, static_cast<size_t>(p - run));
    if (p == end) break;
    unsigned char c = static_cast<unsigned char>(*p++);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default: {
        const char esc[6] = {'\\', 'u', '0', '0', kHexDigits[c >> 4], kHexDigits[c & 15]};
        out->append(esc, 6);
      }
    }
  }
  out->push_back('"');
}

}  // namespace outpost
