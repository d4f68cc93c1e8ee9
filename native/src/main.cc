// outpost: the field client's command line.
//
//   outpost mirror --schema FILE --db PATH       create or migrate the local mirror
//   outpost sql --db PATH [--json] [--engine] SQL [PARAMS]
//       run SQL (PARAMS: a JSON array or object). --engine runs it as the sync engine does:
//       not captured in the outbox and allowed on read-only tables (administration, repair,
//       loading reference data); ordinary app writes never use it.
//   outpost outbox --db PATH [--json]            list pending local transactions
//
// Errors print "outpost: <code>: <message>" on stderr and exit 1; usage errors exit 2.
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "outpost/store.h"

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
               "  outpost outbox --db PATH [--json]\n";
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
    if (s == "--json" || s == "--engine") {
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

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Code::kIoError, "cannot read " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
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
  auto text = ReadFile(a.opts.at("schema"));
  if (!text.ok()) return Fail(text.status());
  auto schema = SchemaFromJson(*text);
  if (!schema.ok()) return Fail(schema.status().WithContext(a.opts.at("schema")));
  auto store = Store::Open(a.opts.at("db"));
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
  auto store = Store::Open(a.opts.at("db"));
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
  auto store = Store::Open(a.opts.at("db"));
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
  return Usage();
}
