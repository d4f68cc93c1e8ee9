// outpost-server: the Outpost sync endpoint's command line.
//
//   outpost-server serve --database URL --rules FILE [--listen HOST:PORT] [--hs256-secret S |
//       --hs256-secret-file F | --ed25519-public-key KEY] [--config FILE] [--pool N]
//       [--io-threads N] [--retention-seconds N] [--pg-schema NAME]
//       [--static [/PREFIX=]DIR,...] [--allow-origin ORIGIN,...] [limits: see docs/server.md]
//       Serves the sync protocol (docs/protocol.md, docs/server.md) until SIGTERM/SIGINT, and
//       static files (a web app) when asked.
//   outpost-server token --secret S --sub U --role R [--tenant T] [--ttl SECONDS] [--claims JSON]
//       Prints an HS256 token (demos and tests). --ttl may be negative (an expired token).
//   outpost-server describe --database URL [--rules FILE] [--pg-schema NAME] [--pretty] [--strict]
//       Reads the PostgreSQL catalog and prints the schema descriptor JSON (with its version).
//       With --rules, only the synced tables, with their rules, secrets removed; rules that would
//       send tenants' rows to every tenant are warned about (RuleWarnings), and --strict refuses
//       them (exit 1, nothing printed on stdout).
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "catalog.h"
#include "jwt.h"
#include "outpost/file.h"
#include "outpost/mirror.h"
#include "rules.h"
#include "server.h"

namespace {

using namespace outpost;

int Fail(const Status& s) {
  std::cerr << "outpost-server: " << s.ToString() << "\n";
  return 1;
}

int Usage() {
  std::cerr << "usage:\n"
               "  outpost-server serve --database URL --rules FILE [--listen HOST:PORT]\n"
               "      (--hs256-secret S | --hs256-secret-file F | --ed25519-public-key KEY)\n"
               "      [--config FILE] [--pool N] [--io-threads N] [--max-queued N]\n"
               "      [--retention-seconds N] [--prune-interval-seconds N] [--pg-schema NAME]\n"
               "      [--static [/PREFIX=]DIR,...] [--allow-origin ORIGIN,...]\n"
               "      [--max-connections N] [--max-body BYTES] [--max-header-bytes N]\n"
               "      [--max-header-fields N] [--header-timeout-ms MS] [--body-timeout-ms MS]\n"
               "      [--idle-timeout-ms MS] [--write-timeout-ms MS] [--long-polls-per-token N]\n"
               "      [--long-polls-per-client N] [--max-long-polls N]\n"
               "  outpost-server token --secret S --sub U --role R [--tenant T] [--ttl SECONDS] "
               "[--claims JSON]\n"
               "  outpost-server describe --database URL [--rules FILE] [--pg-schema NAME] "
               "[--pretty] [--strict]\n";
  return 2;
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
  std::vector<server::RuleWarning> warnings;
  if (opts.count("rules")) {
    auto text = ReadFileToString(opts["rules"]);
    if (!text.ok()) return Fail(text.status());
    auto rules = ParseSyncRules(*text);
    if (!rules.ok()) return Fail(rules.status().WithContext(opts["rules"]));
    auto applied = server::ApplySyncRules(schema, *rules, &notes);
    if (!applied.ok()) return Fail(applied.status().WithContext(opts["rules"]));
    warnings = server::RuleWarnings(schema, *rules);
    schema = std::move(applied).value();
  }
  for (const auto& n : notes) std::cerr << "note: " << n << "\n";
  for (const auto& w : warnings) std::cerr << "warning: " << w.message << "\n";
  if (!warnings.empty() && opts.count("strict")) {
    return Fail(
        Status(Code::kInvalidArgument, "describe --strict: " + std::to_string(warnings.size()) +
                                           " rule warning(s) above; fix " + opts["rules"] +
                                           " or describe without --strict"));
  }
  std::cout << SchemaToJson(schema, opts.count("pretty") > 0) << "\n";
  return 0;
}

int Serve(std::map<std::string, std::string>& opts) {
  server::ServerConfig config;
  if (opts.count("config")) {
    auto text = ReadFileToString(opts["config"]);
    if (!text.ok()) return Fail(text.status());
    auto j = nlohmann::json::parse(*text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) {
      return Fail(Status(Code::kInvalidArgument, opts["config"] + ": not a JSON object"));
    }
    for (const auto& [key, value] : j.items()) {
      if (opts.count(key)) continue;  // the command line wins
      std::string v = value.is_string() ? value.get<std::string>() : value.dump();
      Status s = server::ApplyConfigOption(key, v, &config);
      if (!s.ok()) return Fail(s.WithContext(opts["config"]));
    }
  }
  for (const auto& [key, value] : opts) {
    if (key == "config") continue;
    Status s = server::ApplyConfigOption(key, value, &config);
    if (!s.ok()) return Fail(s);
  }
  Status s = server::RunServer(config);
  if (!s.ok()) return Fail(s);
  return 0;
}

int Token(std::map<std::string, std::string>& opts) {
  if (!opts.count("secret") || !opts.count("sub") || !opts.count("role")) return Usage();
  nlohmann::json claims = nlohmann::json::object();
  if (opts.count("claims")) {
    claims = nlohmann::json::parse(opts["claims"], nullptr, false);
    if (claims.is_discarded() || !claims.is_object()) {
      return Fail(Status(Code::kInvalidArgument, "--claims must be a JSON object"));
    }
  }
  long long ttl = 3600;
  if (opts.count("ttl")) {
    size_t used = 0;
    try {
      ttl = std::stoll(opts["ttl"], &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (used == 0 || used != opts["ttl"].size()) {
      return Fail(Status(Code::kInvalidArgument, "--ttl must be an integer"));
    }
  }
  int64_t now = server::UnixNow();
  claims["sub"] = opts["sub"];
  claims["role"] = opts["role"];
  if (opts.count("tenant")) claims["tenant"] = opts["tenant"];
  claims["iat"] = now;
  claims["exp"] = now + ttl;
  std::cout << server::MintHs256(claims, opts["secret"]) << "\n";
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
    if (key == "pretty" || key == "strict") {
      opts[key] = "1";
    } else if (i + 1 < argc) {
      opts[key] = argv[++i];
    } else {
      return Usage();
    }
  }
  if (command == "describe") return Describe(opts);
  if (command == "serve") return Serve(opts);
  if (command == "token") return Token(opts);
  return Usage();
}
