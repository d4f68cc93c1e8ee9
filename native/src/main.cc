// outpost: the field client's command line.
//
//   outpost mirror --schema FILE --db PATH       create or migrate the local mirror
//   outpost sql --db PATH [--json] [--engine] SQL [PARAMS]
//       run SQL (PARAMS: a JSON array or object). --engine runs it as the sync engine does:
//       not captured in the outbox and allowed on read-only tables (administration, repair,
//       loading reference data); ordinary app writes never use it.
//   outpost outbox --db PATH [--json]            list pending local transactions
//   outpost init --server URL [--token TOKEN] --db PATH [--sync] [--progress]
//       create the database, remember the server and token, fetch /v1/schema and mirror it;
//       --sync also bootstraps (a full sync round)
//   outpost sync --db PATH [--watch] [--wait S] [--progress] [--server URL] [--token TOKEN]
//       one sync round (push everything pending, pull until caught up); --watch repeats forever
//       with long-polls of S seconds (default 30). Ctrl-C stops after the current request (twice:
//       at once; every applied page is already committed, so nothing is lost either way)
//   outpost status --db PATH [--json]            outbox, cursor, last sync, rejections
//   outpost rejections --db PATH [--json] [--dismiss ID] [--dismiss-notice ID]
//       the transactions the server refused and the notices of applied ones (docs/semantics.md)
//   outpost rekey --db PATH (--new-key-file FILE | --decrypt)
//       re-encrypt the store with the key in FILE, or decrypt it (docs/local-store.md)
//
// Encrypted stores: every command takes the store's key from --key-file FILE, else from the
// environment (OUTPOST_KEY). The key is a passphrase, or "raw:" and 64 hexadecimal digits for
// 32 raw bytes; a key file holds the same text (one trailing newline is ignored). Without a key a
// new store is created unencrypted; an encrypted one does not open.
// The token comes from --token, else the environment (OUTPOST_TOKEN), else the one stored by init;
// its "role" claim becomes the store's role (local checks of column permissions).
// Errors print "outpost: <code>: <message>" on stderr and exit 1; usage errors exit 2.
#include <sodium.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <map>
#include <thread>

#include "http_transport.h"
#include "outpost/encoding.h"
#include "outpost/encryption.h"
#include "outpost/file.h"
#include "outpost/store.h"
#include "outpost/sync_round.h"

namespace {

using namespace outpost;
using nlohmann::json;

int Fail(const Status& s) {
  std::cerr << "outpost: " << s.ToString() << "\n";
  return 1;
}

int Usage() {
  std::cerr << "usage:\n"
               "  outpost mirror --schema FILE --db PATH\n"
               "  outpost sql --db PATH [--json] [--engine] SQL [PARAMS_JSON]\n"
               "  outpost outbox --db PATH [--json]\n"
               "  outpost init --server URL [--token TOKEN] --db PATH [--sync] [--progress]\n"
               "  outpost sync --db PATH [--watch] [--wait S] [--progress] [--server URL] "
               "[--token TOKEN]\n"
               "  outpost status --db PATH [--json]\n"
               "  outpost rejections --db PATH [--json] [--dismiss ID] [--dismiss-notice ID]\n"
               "  outpost rekey --db PATH (--new-key-file FILE | --decrypt)\n"
               "every command: [--key-file FILE] (or OUTPOST_KEY) for an encrypted store\n";
  return 2;
}

struct Args {
  std::map<std::string, std::string> opts;
  std::vector<std::string> positional;
  bool has(const std::string& k) const { return opts.count(k) > 0; }
};

Result<Args> ParseArgs(int argc, char** argv, int first) {
  Args a;
  for (int i = first; i < argc; ++i) {
    std::string s = argv[i];
    if (s == "--json" || s == "--engine" || s == "--sync" || s == "--watch" || s == "--progress" ||
        s == "--decrypt") {
      a.opts[s.substr(2)] = "1";
    } else if (s.rfind("--", 0) == 0 && s.size() > 2) {
      if (i + 1 >= argc) return Status(Code::kInvalidArgument, s + " needs a value");
      a.opts[s.substr(2)] = argv[++i];
    } else {
      a.positional.push_back(s);
    }
  }
  return a;
}

// A key as the command line takes it: "raw:<64 hex>" or a passphrase. Empty: no key.
Result<std::optional<EncryptionKey>> KeyFromText(std::string text, const std::string& source) {
  std::optional<EncryptionKey> key;
  if (text.empty()) return key;
  if (text.rfind("raw:", 0) == 0) {
    auto raw = EncryptionKey::RawHex(std::string_view(text).substr(4));
    sodium_memzero(text.data(), text.size());
    if (!raw.ok()) return raw.status().WithContext(source);
    key = std::move(raw).value();
  } else {
    key = EncryptionKey::Passphrase(text);
    sodium_memzero(text.data(), text.size());
  }
  return key;
}

// The key in the file at `path` (one trailing newline is not part of it).
Result<std::optional<EncryptionKey>> KeyFromFile(const std::string& path) {
  OUTPOST_ASSIGN_OR_RETURN(std::string text, ReadFileToString(path));
  size_t end = text.size();
  if (end > 0 && text[end - 1] == '\n') --end;
  if (end > 0 && text[end - 1] == '\r') --end;
  std::string key = text.substr(0, end);
  sodium_memzero(text.data(), text.size());
  if (key.empty()) return Status(Code::kInvalidArgument, "the key file " + path + " is empty");
  return KeyFromText(std::move(key), "key file " + path);
}

// Store options for --db: the key from --key-file, else OUTPOST_KEY.
Result<StoreOptions> CliStoreOptions(const Args& a) {
  StoreOptions options;
  if (a.has("key-file")) {
    OUTPOST_ASSIGN_OR_RETURN(options.encryption, KeyFromFile(a.opts.at("key-file")));
  } else if (const char* env = std::getenv("OUTPOST_KEY"); env && *env) {
    OUTPOST_ASSIGN_OR_RETURN(options.encryption, KeyFromText(env, "OUTPOST_KEY"));
  }
  return options;
}

Result<std::unique_ptr<Store>> OpenStore(const Args& a) {
  OUTPOST_ASSIGN_OR_RETURN(StoreOptions options, CliStoreOptions(a));
  auto store = Store::Open(a.opts.at("db"), options);
  if (!store.ok() && store.status().code() == Code::kUnauthorized) {
    return Status(Code::kUnauthorized,
                  store.status().message() +
                      " (the key comes from --key-file FILE or OUTPOST_KEY; raw:<64 hex digits> "
                      "for a raw key)");
  }
  return store;
}

std::string Cell(const json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "NULL";
  return v.dump();
}

void PrintTable(const QueryResult& r) {
  if (r.columns.empty()) {
    std::cout << r.changes << " row(s) changed\n";
    return;
  }
  std::vector<size_t> width;
  for (const auto& c : r.columns) width.push_back(c.size());
  for (const auto& row : r.rows) {
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], Cell(row[i]).size());
  }
  for (auto& w : width) w = std::min<size_t>(w, 60);
  auto print_row = [&](const std::vector<std::string>& cells) {
    for (size_t i = 0; i < cells.size(); ++i) {
      std::string c = cells[i].size() > 60 ? cells[i].substr(0, 57) + "..." : cells[i];
      std::cout << (i ? " | " : "") << c
                << std::string(width[i] - std::min(width[i], c.size()), ' ');
    }
    std::cout << "\n";
  };
  print_row(r.columns);
  for (size_t i = 0; i < width.size(); ++i) {
    std::cout << (i ? "-+-" : "") << std::string(width[i], '-');
  }
  std::cout << "\n";
  for (const auto& row : r.rows) {
    std::vector<std::string> cells;
    for (const auto& v : row) cells.push_back(Cell(v));
    print_row(cells);
  }
  std::cout << "(" << r.rows.size() << " row" << (r.rows.size() == 1 ? "" : "s") << ")\n";
}

int Mirror(const Args& a) {
  if (!a.has("schema") || !a.has("db")) return Usage();
  auto text = ReadFileToString(a.opts.at("schema"));
  if (!text.ok()) return Fail(text.status());
  auto schema = SchemaFromJson(*text);
  if (!schema.ok()) return Fail(schema.status().WithContext(a.opts.at("schema")));
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status());
  auto report = (*store)->ApplySchema(*schema);
  if (!report.ok()) return Fail(report.status());
  std::cout << "mirror " << a.opts.at("db") << " at schema " << report->version << "\n";
  for (const auto& t : report->created) std::cout << "  created  " << t << "\n";
  for (const auto& t : report->migrated) std::cout << "  migrated " << t << "\n";
  for (const auto& t : report->dropped) std::cout << "  dropped  " << t << "\n";
  if (report->created.empty() && report->migrated.empty() && report->dropped.empty()) {
    std::cout << "  up to date\n";
  }
  if (!report->not_mirrored.empty()) {
    std::cout << "not mirrored (" << report->not_mirrored.size() << "):\n";
    for (const auto& n : report->not_mirrored) {
      std::cout << "  " << n.table << "." << n.object << ": " << n.reason << "\n";
    }
  }
  return 0;
}

int Sql(const Args& a) {
  if (!a.has("db") || a.positional.empty() || a.positional.size() > 2) return Usage();
  json params = json::array();
  if (a.positional.size() == 2) {
    params = json::parse(a.positional[1], nullptr, false);
    if (params.is_discarded()) {
      return Fail(Status(Code::kInvalidArgument, "PARAMS is not valid JSON"));
    }
  }
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status());
  Result<QueryResult> r = Status(Code::kInternal, "not run");
  if (a.has("engine")) {
    Status s = (*store)->RunAsEngine([&]() -> Status {
      r = (*store)->Execute(a.positional[0], params);
      return r.status();
    });
    if (!s.ok()) return Fail(s);
  } else {
    r = (*store)->Execute(a.positional[0], params);
  }
  if (!r.ok()) return Fail(r.status());
  if (a.has("json")) {
    std::cout << json{{"columns", r->columns}, {"rows", r->rows}, {"changes", r->changes}}.dump()
              << "\n";
  } else {
    PrintTable(*r);
  }
  return 0;
}

int Outbox(const Args& a) {
  if (!a.has("db")) return Usage();
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status());
  auto txs = (*store)->PendingTransactions();
  if (!txs.ok()) return Fail(txs.status());
  json out = json::array();
  for (const auto& tx : *txs) {
    json muts = json::array();
    for (const auto& m : tx.mutations) {
      json jm{{"seq", m.seq},
              {"op", std::string(1, static_cast<char>(m.op))},
              {"table", m.table},
              {"pk", m.pk},
              {"hlc", m.hlc}};
      if (!m.new_values.empty()) jm["new"] = m.new_values;
      if (!m.old_values.empty()) jm["old"] = m.old_values;
      muts.push_back(std::move(jm));
    }
    out.push_back({{"tx_id", tx.tx_id}, {"mutations", muts}});
  }
  if (a.has("json")) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (txs->empty()) std::cout << "outbox empty: nothing to sync\n";
  for (const auto& tx : out) {
    std::cout << "transaction " << tx["tx_id"] << " (" << tx["mutations"].size()
              << " mutation(s))\n";
    for (const auto& m : tx["mutations"]) {
      static const std::map<std::string, std::string> kOp = {
          {"I", "INSERT"}, {"U", "UPDATE"}, {"D", "DELETE"}};
      std::cout << "  " << kOp.at(m["op"].get<std::string>()) << " "
                << m["table"].get<std::string>() << " " << m["pk"].dump() << "\n";
      if (m.contains("new")) std::cout << "      new: " << m["new"].dump() << "\n";
      if (m.contains("old")) std::cout << "      old: " << m["old"].dump() << "\n";
    }
  }
  return 0;
}

// --- Sync commands ------------------------------------------------------------------------------

// Meta keys written by `outpost init`.
constexpr const char* kMetaServerUrl = "server_url";
constexpr const char* kMetaServerToken = "server_token";

volatile std::sig_atomic_t g_stop = 0;

void OnSigint(int) {
  if (g_stop) _exit(130);  // second Ctrl-C: committed state is consistent at every instant
  g_stop = 1;
  const char msg[] = "\noutpost: stopping after the current request (Ctrl-C again to quit now)\n";
  ssize_t ignored = write(2, msg, sizeof msg - 1);
  (void)ignored;
}

std::string Thousands(int64_t n) {
  std::string digits = std::to_string(n < 0 ? -n : n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return (n < 0 ? "-" : "") + out;
}

struct SyncContext {
  std::unique_ptr<Store> store;
  std::unique_ptr<SyncSession> session;
  std::unique_ptr<HttpTransport> transport;
};

// The "role" claim of a JWT, read without verifying the signature (only the server can, and
// does): the store checks the app's writes against that role's column permissions
// (docs/sync-rules.md). "" when the token has none.
std::string TokenRole(const std::string& token) {
  size_t first = token.find('.');
  size_t second = first == std::string::npos ? first : token.find('.', first + 1);
  if (second == std::string::npos) return "";
  auto payload = Base64UrlDecode(std::string_view(token).substr(first + 1, second - first - 1));
  if (!payload.ok()) return "";
  json claims = json::parse(*payload, nullptr, /*allow_exceptions=*/false);
  if (!claims.is_object() || !claims.contains("role") || !claims["role"].is_string()) return "";
  return claims["role"].get<std::string>();
}

Result<SyncContext> OpenSync(const Args& a, bool for_init) {
  SyncContext c;
  OUTPOST_ASSIGN_OR_RETURN(c.store, OpenStore(a));
  OUTPOST_ASSIGN_OR_RETURN(auto stored_url, c.store->GetMeta(kMetaServerUrl));
  OUTPOST_ASSIGN_OR_RETURN(auto stored_token, c.store->GetMeta(kMetaServerToken));
  std::string url = a.has("server") ? a.opts.at("server") : stored_url.value_or("");
  std::string token;
  const char* env = std::getenv("OUTPOST_TOKEN");
  if (a.has("token")) {
    token = a.opts.at("token");
  } else if (env && *env) {
    token = env;
  } else {
    token = stored_token.value_or("");
  }
  if (url.empty()) {
    return Status(Code::kInvalidArgument,
                  a.opts.at("db") + " has no server: run outpost init --server URL first");
  }
  if (token.empty()) {
    return Status(Code::kInvalidArgument, "no token: give --token or set OUTPOST_TOKEN");
  }
  if (for_init || a.has("server")) OUTPOST_RETURN_IF_ERROR(c.store->SetMeta(kMetaServerUrl, url));
  if (a.has("token")) OUTPOST_RETURN_IF_ERROR(c.store->SetMeta(kMetaServerToken, token));
  if (std::string role = TokenRole(token); role != c.store->role()) {
    OUTPOST_RETURN_IF_ERROR(c.store->SetRole(role));
  }
  OUTPOST_ASSIGN_OR_RETURN(c.session, SyncSession::Open(c.store.get()));
  c.transport = std::make_unique<HttpTransport>(url, token, HttpTimeouts{});
  return c;
}

SyncOptions CliSyncOptions(const Args& a, SyncSession* session) {
  SyncOptions o;
  o.sleep = [](int ms) {
    for (int waited = 0; waited < ms && !g_stop; waited += 50) {
      std::this_thread::sleep_for(std::chrono::milliseconds(std::min(50, ms - waited)));
    }
  };
  o.cancelled = [] { return g_stop != 0; };
  if (a.has("progress") || isatty(2)) {
    o.progress = [session](int64_t rows, double rate) {
      std::string line = "\rbootstrap: " + Thousands(rows) + " rows  " +
                         Thousands(static_cast<int64_t>(rate)) + " rows/s";
      auto total = session->bootstrap_total();
      if (total && *total > 0 && rate > 0) {
        int64_t left = std::max<int64_t>(0, *total - rows);
        int64_t eta = static_cast<int64_t>(static_cast<double>(left) / rate);
        int pct = static_cast<int>(std::min<int64_t>(100, rows * 100 / *total));
        line += "  " + std::to_string(pct) + "%  ETA " + std::to_string(eta / 60) + ":" +
                (eta % 60 < 10 ? "0" : "") + std::to_string(eta % 60);
      }
      std::cerr << line << "   " << std::flush;
      if (session->bootstrapped()) std::cerr << "\n";
    };
  }
  return o;
}

void PrintReport(const SyncReport& r) {
  std::cout << "synced: pushed " << r.pushed_transactions << " transaction(s)";
  if (r.rejected_transactions) std::cout << ", " << r.rejected_transactions << " rejected";
  std::cout << ", received " << Thousands(r.rows_received) << " row(s) and "
            << Thousands(r.deletes_received) << " deletion(s)";
  if (r.bootstrapped_now) std::cout << " (bootstrap complete)";
  std::cout << "\n" << std::flush;
}

int Init(const Args& a) {
  if (!a.has("server") || !a.has("db")) return Usage();
  auto c = OpenSync(a, /*for_init=*/true);
  if (!c.ok()) return Fail(c.status());
  std::string body, error_body;
  auto code = c->transport->Send(
      c->session->SchemaRequest(),
      [&](std::string_view line) {
        body.append(line);
        body.push_back('\n');
        return Status::Ok();
      },
      &error_body);
  if (!code.ok()) return Fail(code.status());
  if (*code < 200 || *code >= 300) {
    Status s = c->session->HandleErrorResponse(*code, error_body);
    return Fail(s.ok() ? Status(Code::kConflict, "schema request answered " + std::to_string(*code))
                       : s);
  }
  auto report = c->session->HandleSchema(body);
  if (!report.ok()) return Fail(report.status());
  std::cout << "initialised " << a.opts.at("db") << " for " << a.opts.at("server") << " at schema "
            << report->version << " (" << c->store->schema()->tables.size() << " tables)\n";
  for (const auto& n : report->not_mirrored) {
    std::cout << "  not mirrored: " << n.table << "." << n.object << ": " << n.reason << "\n";
  }
  if (!a.has("sync")) return 0;
  std::signal(SIGINT, OnSigint);
  auto r = SyncNow(*c->session, *c->transport, CliSyncOptions(a, c->session.get()));
  if (!r.ok()) return Fail(r.status());
  PrintReport(*r);
  return 0;
}

int Sync(const Args& a) {
  if (!a.has("db")) return Usage();
  auto c = OpenSync(a, /*for_init=*/false);
  if (!c.ok()) return Fail(c.status());
  std::signal(SIGINT, OnSigint);
  SyncOptions options = CliSyncOptions(a, c->session.get());
  int wait = 0;
  if (a.has("wait")) {
    wait = std::atoi(a.opts.at("wait").c_str());
    if (wait < 0 || wait > 60) return Fail(Status(Code::kInvalidArgument, "--wait is 0..60 s"));
  } else if (a.has("watch")) {
    wait = 30;
  }
  options.wait_seconds = wait;
  if (!a.has("watch")) {
    auto r = SyncNow(*c->session, *c->transport, options);
    if (!r.ok()) return Fail(r.status());
    PrintReport(*r);
    return 0;
  }
  int failures = 0;
  while (!g_stop) {
    auto r = SyncNow(*c->session, *c->transport, options);
    if (g_stop) break;
    if (r.ok()) {
      failures = 0;
      if (r->pushed_transactions || r->rejected_transactions || r->rows_received ||
          r->deletes_received) {
        PrintReport(*r);
      }
      if (wait == 0) options.sleep(1000);
      continue;
    }
    std::cerr << "outpost: " << r.status().ToString() << "\n";
    if (r.status().code() == Code::kUnauthorized || r.status().code() == Code::kForbidden) {
      return 1;
    }
    options.sleep(std::min(60000, 1000 << std::min(++failures, 6)));
  }
  return 0;
}

int StatusCmd(const Args& a) {
  if (!a.has("db")) return Usage();
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status());
  auto session = SyncSession::Open(store->get());
  if (!session.ok()) return Fail(session.status());
  SyncStatus st = (*session)->status();
  auto url = (*store)->GetMeta(kMetaServerUrl);
  const Schema* schema = (*store)->schema();
  json j{{"server", url.ok() && *url ? json(**url) : json(nullptr)},
         {"client_id", (*session)->client_id()},
         {"schema", schema ? json(SchemaVersion(*schema)) : json(nullptr)},
         {"pending_mutations", st.pending_mutations},
         {"pending_transactions", st.pending_transactions},
         {"awaiting_checkpoint", st.awaiting_checkpoint},
         {"bootstrapped", st.bootstrapped},
         {"cursor", st.cursor},
         {"last_sync", st.last_sync ? json(*st.last_sync) : json(nullptr)},
         {"last_error", st.last_error ? json(*st.last_error) : json(nullptr)},
         {"rejections", st.rejections},
         {"notices", st.notices}};
  if (a.has("json")) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  auto text = [](const json& v) { return v.is_null() ? std::string("-") : Cell(v); };
  std::cout << "server:        " << text(j["server"]) << "\n"
            << "client id:     " << (*session)->client_id() << "\n"
            << "schema:        " << text(j["schema"]) << "\n"
            << "bootstrapped:  " << (st.bootstrapped ? "yes" : "no") << "\n"
            << "pending:       " << st.pending_mutations << " mutation(s) in "
            << st.pending_transactions << " transaction(s)\n"
            << "awaiting pull: " << st.awaiting_checkpoint << " transaction(s)\n"
            << "last sync:     " << text(j["last_sync"]) << "\n"
            << "last error:    " << text(j["last_error"]) << "\n"
            << "rejections:    " << st.rejections << "\n"
            << "notices:       " << st.notices << "\n";
  return 0;
}

int RejectionsCmd(const Args& a) {
  if (!a.has("db")) return Usage();
  auto store = OpenStore(a);
  if (!store.ok()) return Fail(store.status());
  auto session = SyncSession::Open(store->get());
  if (!session.ok()) return Fail(session.status());
  if (a.has("dismiss")) {
    Status s = (*session)->DismissRejection(std::atoll(a.opts.at("dismiss").c_str()));
    if (!s.ok()) return Fail(s);
    std::cout << "dismissed rejection " << a.opts.at("dismiss") << "\n";
    return 0;
  }
  if (a.has("dismiss-notice")) {
    Status s = (*session)->DismissNotice(std::atoll(a.opts.at("dismiss-notice").c_str()));
    if (!s.ok()) return Fail(s);
    std::cout << "dismissed notice " << a.opts.at("dismiss-notice") << "\n";
    return 0;
  }
  auto list = (*session)->Rejections();
  if (!list.ok()) return Fail(list.status());
  auto notices = (*session)->Notices();
  if (!notices.ok()) return Fail(notices.status());
  if (a.has("json")) {
    json out{{"rejections", json::array()}, {"notices", json::array()}};
    for (const auto& r : *list) out["rejections"].push_back(RejectionToJson(r));
    for (const auto& n : *notices) out["notices"].push_back(NoticeToJson(n));
    std::cout << out.dump() << "\n";
    return 0;
  }
  if (list->empty()) std::cout << "no rejections\n";
  for (const auto& r : *list) {
    std::cout << "#" << r.id << " transaction " << r.tx_id << " at " << r.at << ": " << r.code;
    if (!r.rule.empty()) std::cout << " (" << r.rule << ")";
    if (r.depends_on > 0) std::cout << " (after transaction " << r.depends_on << ")";
    std::cout << "\n    " << r.message << "\n";
    if (!r.table.empty()) std::cout << "    row: " << r.table << " " << r.pk.dump() << "\n";
    std::cout << "    " << r.mutations.size() << " mutation(s) dropped\n";
  }
  if (notices->empty()) std::cout << "no notices\n";
  for (const auto& n : *notices) {
    std::cout << "notice #" << n.id << " transaction " << n.tx_id << " at " << n.at << ": "
              << n.code << " " << n.table << " " << n.pk.dump();
    if (!n.columns.empty()) std::cout << " " << json(n.columns).dump();
    std::cout << "\n";
  }
  return 0;
}

int Rekey(const Args& a) {
  if (!a.has("db") || a.has("new-key-file") == a.has("decrypt")) return Usage();
  auto options = CliStoreOptions(a);
  if (!options.ok()) return Fail(options.status());
  std::optional<EncryptionKey> new_key;
  if (a.has("new-key-file")) {
    auto key = KeyFromFile(a.opts.at("new-key-file"));
    if (!key.ok()) return Fail(key.status());
    new_key = std::move(key).value();
  }
  const std::string& path = a.opts.at("db");
  Status s = Store::Rekey(path, *options, new_key);
  if (!s.ok()) return Fail(s);
  std::cout << (new_key ? "encrypted " : "decrypted ") << path
            << (new_key ? " with the new key\n" : "\n");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return Usage();
  std::string command = argv[1];
  auto args = ParseArgs(argc, argv, 2);
  if (!args.ok()) {
    std::cerr << "outpost: " << args.status().message() << "\n";
    return Usage();
  }
  if (command == "mirror") return Mirror(*args);
  if (command == "sql") return Sql(*args);
  if (command == "outbox") return Outbox(*args);
  if (command == "init") return Init(*args);
  if (command == "sync") return Sync(*args);
  if (command == "status") return StatusCmd(*args);
  if (command == "rejections") return RejectionsCmd(*args);
  if (command == "rekey") return Rekey(*args);
  return Usage();
}
