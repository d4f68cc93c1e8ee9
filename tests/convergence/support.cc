// Small helpers of the convergence harness (scenario.h).
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <sstream>

#include "outpost/value.h"
#include "scenario.h"

namespace outpost::convergence {

std::string Uuid(Rng& r) {
  static const char* hex = "0123456789abcdef";
  uint64_t a = r.Next(), b = r.Next();
  std::string s;
  for (int i = 0; i < 32; ++i) {
    uint64_t w = i < 16 ? a : b;
    int nib = static_cast<int>((w >> (4 * (i % 16))) & 0xf);
    if (i == 12) nib = 4;
    if (i == 16) nib = 8 | (nib & 3);
    if (i == 8 || i == 12 || i == 16 || i == 20) s.push_back('-');
    s.push_back(hex[nib]);
  }
  return s;
}

std::string Pad2(int v) {
  char b[16];
  snprintf(b, sizeof b, "%02d", v);
  return b;
}

// Integer parameters in a PostgreSQL type text: "numeric(10,2)" -> {10, 2}.
std::vector<int> TypeArgs(const std::string& pg_type) {
  std::vector<int> out;
  auto open = pg_type.find('(');
  if (open == std::string::npos) return out;
  std::string inner = pg_type.substr(open + 1);
  std::stringstream ss(inner);
  std::string part;
  while (std::getline(ss, part, ',')) {
    try {
      out.push_back(std::stoi(part));
    } catch (...) {
    }
  }
  return out;
}

bool IsAdditive(const Table& t, const std::string& c) {
  auto it = t.sync.conflict.columns.find(c);
  return it != t.sync.conflict.columns.end() && it->second == ConflictPolicy::kAdditive;
}

bool IsKey(const Table& t, const std::string& c) {
  return std::find(t.primary_key.begin(), t.primary_key.end(), c) != t.primary_key.end();
}

// The tenant column of a table's own scope ("" if none).
std::string TenantColumn(const Table& t) {
  if (t.sync.scope.kind == ScopeKind::kTenantColumn || t.sync.scope.kind == ScopeKind::kTenantKey)
    return t.sync.scope.column;
  return "";
}

bool IsNumericKind(TypeKind k) {
  return k == TypeKind::kInteger || k == TypeKind::kNumeric || k == TypeKind::kReal;
}

std::optional<double> NumberOf(const json& v) {
  if (v.is_number()) return v.get<double>();
  if (v.is_boolean()) return v.get<bool>() ? 1.0 : 0.0;
  if (v.is_string()) {
    try {
      size_t used = 0;
      double d = std::stod(v.get<std::string>(), &used);
      return d;
    } catch (...) {
    }
  }
  return std::nullopt;
}

// A value in one comparable form for its column: the local value re-encoded, JSON columns parsed,
// numbers as doubles.
json Norm(const Column& c, const json& v) {
  if (v.is_null()) return nullptr;
  auto val = ValueFromJson(c.type, v);
  json out = val.ok() ? ValueToJson(c.type, *val) : v;
  if ((c.type.kind == TypeKind::kJson || c.type.kind == TypeKind::kArray) && out.is_string()) {
    json p = json::parse(out.get<std::string>(), nullptr, false);
    if (!p.is_discarded()) return p;
  }
  if (IsNumericKind(c.type.kind)) {
    auto n = NumberOf(out);
    if (n) return *n;
  }
  if (c.type.kind == TypeKind::kBoolean && out.is_number()) return out.get<int64_t>() != 0;
  if ((c.type.kind == TypeKind::kTimestamp || c.type.kind == TypeKind::kTimestamptz) &&
      out.is_string()) {
    // One form for equal instants: "…:04.100Z" (a local now() default) is "…:04.1Z".
    std::string s = out.get<std::string>();
    const bool z = !s.empty() && s.back() == 'Z';
    if (z) s.pop_back();
    auto dot = s.find('.', 19);
    if (dot != std::string::npos) {
      while (s.back() == '0') s.pop_back();
      if (s.back() == '.') s.pop_back();
    }
    return z ? s + "Z" : s;
  }
  return out;
}

bool SameValue(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) {
    double x = a.get<double>(), y = b.get<double>();
    return std::fabs(x - y) <= 1e-6 * std::max(1.0, std::fabs(x));
  }
  return a == b;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

namespace {

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace

// The `outpost` CLI with arguments, as a shell command.
std::string CliCommand(const std::vector<std::string>& args) {
  std::string cmd = OUTPOST_CLI_BIN;
  for (const auto& a : args) cmd += " " + ShellQuote(a);
  return cmd;
}

// Runs a shell command; returns its exit status, its output (stdout and stderr) in *out.
int RunCommand(const std::string& command, std::string* out) {
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  out->clear();
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out->append(buf, n);
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

}  // namespace outpost::convergence
