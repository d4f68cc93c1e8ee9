// Static files served next to the sync endpoint (`outpost-server serve --static`): a web app on
// the same origin as its API.
//
// A request path under a mount's prefix maps to a file under its directory; a path that names a
// directory serves its index.html. Paths with "..", "." or empty segments, backslashes or NUL
// are refused, so nothing outside the directories is reachable by path. Answers are whole files
// (no ranges), with the content type a browser needs (module scripts and WebAssembly are
// checked), no caching (a new build is picked up on the next load) and nosniff.
//
// Threading: immutable after construction; Serve reads the disk (call it on a worker).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "http_server.h"
#include "outpost/status.h"

namespace outpost::server {

class StaticFiles {
 public:
  struct Mount {
    std::string prefix;     // "/" or "/assets"
    std::string directory;  // must exist
  };
  // Errors: kInvalidArgument (a directory that is not readable).
  static Result<StaticFiles> Open(const std::vector<Mount>& mounts);

  bool empty() const { return mounts_.empty(); }
  // The file for `path` (a decoded request path) from the first mount that has it, or nullopt.
  std::optional<HttpResponse> Serve(const std::string& path) const;

 private:
  std::vector<Mount> mounts_;
};

}  // namespace outpost::server
