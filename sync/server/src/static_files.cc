// Static files next to the sync endpoint (static_files.h).
#include "static_files.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>
#include <utility>

namespace outpost::server {

namespace {

const char* ContentTypeOf(const std::string& file) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {"html", "text/html; charset=utf-8"},
      {"js", "text/javascript; charset=utf-8"},
      {"mjs", "text/javascript; charset=utf-8"},
      {"css", "text/css; charset=utf-8"},
      {"json", "application/json"},
      {"wasm", "application/wasm"},
      {"svg", "image/svg+xml"},
      {"png", "image/png"},
      {"ico", "image/x-icon"},
      {"txt", "text/plain; charset=utf-8"},
      {"ts", "text/plain; charset=utf-8"},
      {"md", "text/plain; charset=utf-8"},
      {"webmanifest", "application/manifest+json"}};
  size_t dot = file.rfind('.');
  size_t slash = file.rfind('/');
  if (dot != std::string::npos && (slash == std::string::npos || dot > slash)) {
    std::string ext = file.substr(dot + 1);
    for (const auto& [e, type] : kTypes) {
      if (ext == e) return type;
    }
  }
  return "application/octet-stream";
}

// A relative path whose every segment is a plain name (no "..", ".", empty segments,
// backslashes or NUL). An empty path is the directory itself.
bool SafeRelative(const std::string& rel) {
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) return false;
  size_t start = 0;
  while (start < rel.size()) {
    size_t slash = rel.find('/', start);
    if (slash == std::string::npos) slash = rel.size();
    std::string segment = rel.substr(start, slash - start);
    if (segment.empty() || segment == "." || segment == "..") return false;
    start = slash + 1;
  }
  return true;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsFile(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

Result<StaticFiles> StaticFiles::Open(const std::vector<Mount>& mounts) {
  StaticFiles files;
  for (Mount m : mounts) {
    if (!IsDirectory(m.directory)) {
      return Status(Code::kInvalidArgument,
                    "--static: " + m.directory + " is not a readable directory");
    }
    while (m.prefix.size() > 1 && m.prefix.back() == '/') m.prefix.pop_back();
    while (m.directory.size() > 1 && m.directory.back() == '/') m.directory.pop_back();
    files.mounts_.push_back(std::move(m));
  }
  return files;
}

std::optional<HttpResponse> StaticFiles::Serve(const std::string& path) const {
  for (const Mount& m : mounts_) {
    std::string rel;
    if (m.prefix == "/") {
      if (path.empty() || path[0] != '/') continue;
      rel = path.substr(1);
    } else if (path == m.prefix) {
      rel = "";
    } else if (path.size() > m.prefix.size() && path.compare(0, m.prefix.size(), m.prefix) == 0 &&
               path[m.prefix.size()] == '/') {
      rel = path.substr(m.prefix.size() + 1);
    } else {
      continue;
    }
    if (!SafeRelative(rel)) return std::nullopt;
    std::string file = m.directory + "/" + rel;
    if (rel.empty() || rel.back() == '/' || IsDirectory(file)) {
      if (!file.empty() && file.back() != '/') file += '/';
      file += "index.html";
    }
    if (!IsFile(file)) continue;
    std::ifstream in(file, std::ios::binary);
    if (!in) continue;
    std::ostringstream body;
    body << in.rdbuf();
    HttpResponse r;
    r.content_type = ContentTypeOf(file);
    r.body = std::move(body).str();
    r.headers = {{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
    return r;
  }
  return std::nullopt;
}

}  // namespace outpost::server
