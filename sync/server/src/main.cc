// outpost-server: the Outpost sync endpoint's command line.
//
//   outpost-server describe --database URL [--rules FILE] [--pg-schema NAME] [--pretty]
//       Reads the PostgreSQL catalog and prints the schema descriptor JSON (with its version).
//       With --rules, only the synced tables, with their rules, secrets removed.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "catalog.h"
#include "outpost/mirror.h"

namespace {

using namespace outpost;

int Fail(const Status& s) {
  std::cerr << "outpost-server: " << s.ToString() << "\n";
  return 1;
}

int Usage() {
  std::cerr << "usage: outpost-server describe --database URL [--rules FILE] [--pg-schema NAME] "
               "[--pretty]\n";
  return 2;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kIoError, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int Describe(std::map<std::string, std::string>& opts) {
  if (!opts.count("database")) return Usage();
  auto pg = server::PgConnection::Connect(opts["database"]);
  if (!pg.ok()) return Fail(pg.status());
  std::vector<std::string> notes;
  std::string pg_schema = opts.count("pg-schema") ? opts["pg-schema"] : "public";
  auto described = server::DescribeDatabase(pg->get(), pg_schema, &notes);
  if (!described.ok()) return Fail(described.status());
  Schema schema = std::move(described).value();
  if (opts.count("rules")) {
    auto text = ReadFile(opts["rules"]);
    if (!text.ok()) return Fail(text.status());
    auto rules = ParseSyncRules(*text);
    if (!rules.ok()) return Fail(rules.status().WithContext(opts["rules"]));
    auto applied = ApplySyncRules(schema, *rules, &notes);
    if (!applied.ok()) return Fail(applied.status().WithContext(opts["rules"]));
    schema = std::move(applied).value();
  }
  for (const auto& n : notes) std::cerr << "note: " << n << "\n";
  std::cout << SchemaToJson(schema, opts.count("pretty") > 0) << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string command = argv[1];
  std::map<std::string, std::string> opts;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) return Usage();
    std::string key = a.substr(2);
    if (key == "pretty") {
      opts[key] = "1";
    } else if (i + 1 < argc) {
      opts[key] = argv[++i];
    } else {
      return Usage();
    }
  }
  if (command == "describe") return Describe(opts);
  return Usage();
}
