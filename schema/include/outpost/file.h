// Reading a whole file (schema descriptors, sync rules, configuration, key files) for the command
// line tools and the server. Not for the browser build's storage, which goes through SQLite's VFS.
#pragma once

#include <string>

#include "outpost/status.h"

namespace outpost {

// The bytes of the file at `path`. Errors: kIoError ("cannot read PATH") when it cannot be opened
// or read.
Result<std::string> ReadFileToString(const std::string& path);

}  // namespace outpost
