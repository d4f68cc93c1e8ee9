#include "outpost/file.h"

#include <fstream>
#include <sstream>

namespace outpost {

Result<std::string> ReadFileToString(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kIoError, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return Status(Code::kIoError, "cannot read " + path);
  return ss.str();
}

}  // namespace outpost
