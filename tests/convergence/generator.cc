// The convergence harness's Generator (scenario.h): the random writes of a scenario.
#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <regex>

#include "outpost/sql_quote.h"
#include "outpost/value.h"
#include "scenario.h"

namespace outpost::convergence {

// ---------------------------------------------------------------------------------------------
// Operations through plain SQL on a client's store.

struct Generator::Impl {
  Scenario& sc;
  AppEnv& env;
  Rng& r;

  Store& store(Client& c) { return c.tc->store(); }

  std::string PkOrder(const Table& t) {
    std::string s;
    for (const auto& k : t.primary_key) s += (s.empty() ? "" : ", ") + QuoteIdent(k);
    return s;
  }

  // A random local row of `t` as an object, or nullopt when it has none.
  std::optional<json> PickRow(Client& c, const Table& t) {
    auto n = store(c).Execute("SELECT count(*) FROM " + QuoteIdent(t.name));
    if (!n.ok() || n->rows.empty()) return std::nullopt;
    int64_t count = n->rows[0][0].get<int64_t>();
    if (count == 0) return std::nullopt;
    std::string cols;
    for (const auto& col : t.columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(col.name);
    auto row = store(c).Execute("SELECT " + cols + " FROM " + QuoteIdent(t.name) + " ORDER BY " +
                                PkOrder(t) + " LIMIT 1 OFFSET " +
                                std::to_string(r.Below(static_cast<uint64_t>(count))));
    if (!row.ok() || row->rows.empty()) return std::nullopt;
    json obj = json::object();
    for (size_t i = 0; i < t.columns.size(); ++i) obj[t.columns[i].name] = row->rows[0][i];
    return obj;
  }

  // Literal values the table's CHECK constraints name for column `c` (e.g. status IN (...)).
  std::vector<std::string> CheckLiterals(const Table& t, const std::string& c) {
    std::vector<std::string> out;
    static const std::regex lit("'([^']*)'");
    for (const auto& ch : t.checks) {
      const std::string& e = ch.expression;
      std::regex word("(^|[^\\w])\"?" + c + "\"?([^\\w]|$)");
      if (!std::regex_search(e, word)) continue;
      int mentioned = 0;
      for (const auto& other : t.columns) {
        std::regex w2("(^|[^\\w])\"?" + other.name + "\"?([^\\w]|$)");
        if (std::regex_search(e, w2)) ++mentioned;
      }
      if (mentioned != 1) continue;
      for (std::sregex_iterator it(e.begin(), e.end(), lit), end; it != end; ++it)
        out.push_back((*it)[1].str());
    }
    return out;
  }

  // A fresh value of the column's kind, in its local form.
  json Fresh(const Table& t, const Column& col) {
    auto lits = CheckLiterals(t, col.name);
    if (!lits.empty() && r.Chance(0.9)) {
      const std::string& l = r.Pick(lits);
      if (IsNumericKind(col.type.kind) || col.type.kind == TypeKind::kBoolean) {
        auto n = NumberOf(json(l));
        if (n && col.type.kind != TypeKind::kNumeric) return static_cast<int64_t>(*n);
      }
      return l;
    }
    auto args = TypeArgs(col.type.pg_type);
    switch (col.type.kind) {
      case TypeKind::kUuid: return Uuid(r);
      case TypeKind::kInteger: return static_cast<int64_t>(r.Range(0, 90));
      case TypeKind::kNumeric: {
        int scale = args.size() >= 2 ? args[1] : 0;
        int digits = args.size() >= 1 ? std::min(4, args[0] - scale) : 3;
        int64_t max = 1;
        for (int i = 0; i < std::max(1, digits); ++i) max *= 10;
        std::string s = std::to_string(r.Below(static_cast<uint64_t>(max)));
        if (scale > 0) {
          s += ".";
          for (int i = 0; i < scale; ++i) s += static_cast<char>('0' + r.Below(10));
        }
        return s;
      }
      case TypeKind::kReal: return static_cast<double>(r.Range(0, 400)) / 4.0;
      case TypeKind::kBoolean: return static_cast<int64_t>(r.Below(2));
      case TypeKind::kDate: return "2026-" + Pad2(r.Range(1, 12)) + "-" + Pad2(r.Range(1, 28));
      case TypeKind::kTimestamp:
      case TypeKind::kTimestamptz: {
        std::string s = "2026-" + Pad2(r.Range(1, 12)) + "-" + Pad2(r.Range(1, 28)) + "T" +
                        Pad2(r.Range(0, 23)) + ":" + Pad2(r.Range(0, 59)) + ":" +
                        Pad2(r.Range(0, 59));
        return col.type.kind == TypeKind::kTimestamptz ? s + "Z" : s;
      }
      case TypeKind::kJson: return "{\"k\": " + std::to_string(r.Below(100)) + "}";
      case TypeKind::kArray: return "[]";
      case TypeKind::kEnum:
        return col.type.enum_values.empty() ? json("x") : json(r.Pick(col.type.enum_values));
      case TypeKind::kInet:
        return "10.0." + std::to_string(r.Below(250)) + "." + std::to_string(1 + r.Below(250));
      case TypeKind::kBytea: return json{{"$blob", "AQI="}};
      case TypeKind::kOtherText: return nullptr;
      case TypeKind::kText:
      case TypeKind::kCitext:
      default: {
        std::string s = "v" + std::to_string(r.Below(100000));
        const bool fixed = col.type.pg_type.rfind("character(", 0) == 0;
        if (!args.empty()) {
          size_t n = static_cast<size_t>(std::max(1, args[0]));
          if (s.size() > n) s = s.substr(0, n);
          if (fixed)
            while (s.size() < n) s.push_back(' ');
        }
        return s;
      }
    }
  }

  const ForeignKey* FkOf(const Table& full, const std::string& c) {
    for (const auto& fk : full.foreign_keys)
      if (std::find(fk.columns.begin(), fk.columns.end(), c) != fk.columns.end()) return &fk;
    return nullptr;
  }

  // Values for the columns of `fk` from a parent row the client has (or PostgreSQL has, for an
  // unsynced parent table).
  std::optional<json> Parent(Client& c, const ForeignKey& fk) {
    const Table* parent = env.view().FindTable(fk.ref_table);
    json out = json::object();
    if (parent) {
      auto row = PickRow(c, *parent);
      if (!row) return std::nullopt;
      for (size_t i = 0; i < fk.columns.size(); ++i) out[fk.columns[i]] = (*row)[fk.ref_columns[i]];
      return out;
    }
    std::string cols;
    for (const auto& rc : fk.ref_columns)
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(rc) + "::text";
    auto res = env.pg().Exec("SELECT " + cols + " FROM \"public\"." + QuoteIdent(fk.ref_table) +
                             " ORDER BY 1 LIMIT 1 OFFSET " + std::to_string(r.Below(5)));
    if (!res.ok() || res->rows() == 0) return std::nullopt;
    const Table* full = env.model().described().FindTable(fk.ref_table);
    for (size_t i = 0; i < fk.columns.size(); ++i) {
      if (res->is_null(0, static_cast<int>(i))) {
        out[fk.columns[i]] = nullptr;
        continue;
      }
      const Column* rc = full ? full->FindColumn(fk.ref_columns[i]) : nullptr;
      if (!rc) return std::nullopt;
      auto v = PgTextToJson(rc->type, res->get(0, static_cast<int>(i)));
      if (!v.ok()) return std::nullopt;
      out[fk.columns[i]] = *v;
    }
    return out;
  }

  bool Writable(const Client& c, const Table& t) {
    return !t.sync.read_only() && t.sync.may_write(c.role);
  }

  std::vector<const Table*> WritableTables(const Client& c) {
    std::vector<const Table*> out;
    for (const auto& t : env.view().tables)
      if (Writable(c, t)) out.push_back(&t);
    return out;
  }

  bool FilterApplies(const Client& c, const Table& t) {
    const auto& f = t.sync.filter;
    return f && std::find(f->roles.begin(), f->roles.end(), c.role) != f->roles.end();
  }

  // The row an insert into `t` sets; `forced` overrides columns (a race or a collision).
  json InsertRow(Client& c, const Table& t, const json& forced = json::object()) {
    const Table* full = env.Full(t.name);
    json row = json::object();
    for (const auto& col : t.columns) {
      if (col.generated) continue;
      if (t.IsServerKeyColumn(col.name)) continue;  // a temporary key from the default
      const bool key = IsKey(t, col.name);
      if (!key && !t.sync.may_set(c.role, col.name, WriteKind::kInsert) && !r.Chance(0.05))
        continue;
      if (!key && col.default_expr && r.Chance(0.3)) continue;
      if (!key && col.nullable && r.Chance(0.15)) {
        row[col.name] = nullptr;
        continue;
      }
      if (!key && !col.nullable && r.Chance(0.02)) {
        row[col.name] = nullptr;  // invalid: refused locally (NOT NULL)
        continue;
      }
      json v = Fresh(t, col);
      if (v.is_null() && !col.nullable) {
        if (col.default_expr) continue;
      }
      row[col.name] = v;
    }
    // References: a parent the client has.
    if (full) {
      for (const auto& fk : full->foreign_keys) {
        bool all_in = true;
        for (const auto& fc : fk.columns)
          if (!t.FindColumn(fc)) all_in = false;
        if (!all_in) continue;
        bool nullable = true;
        for (const auto& fc : fk.columns) nullable = nullable && t.FindColumn(fc)->nullable;
        if (nullable && r.Chance(0.2)) {
          for (const auto& fc : fk.columns) row[fc] = nullptr;
          continue;
        }
        if (r.Chance(0.03)) continue;  // invalid on purpose: a reference to no row
        auto p = Parent(c, fk);
        if (p) {
          for (auto& [k, v] : p->items()) row[k] = v;
        } else if (nullable) {
          for (const auto& fc : fk.columns) row[fc] = nullptr;
        } else if (!r.Chance(0.1)) {
          return json();  // no parent to reference: no insert
        }
      }
    }
    // Tenant and row filter columns: the token's (sometimes another tenant's or user's).
    std::string tc = TenantColumn(t);
    if (!tc.empty() && !c.tenant.empty()) {
      const auto& ts = env.tenants();
      row[tc] = r.Chance(0.03) && ts.size() > 1 ? ts[1 - (ts[0] == c.tenant ? 0 : 1)] : c.tenant;
    }
    if (FilterApplies(c, t)) {
      const auto& us = env.users(c.tenant);
      row[t.sync.filter->column] = r.Chance(0.04) ? json(r.Pick(us)) : json(c.sub);
    }
    for (auto& [k, v] : forced.items()) row[k] = v;
    return row;
  }

  // Runs one statement; returns false when the store refused it.
  int64_t statements_ = 0;  // statements run (or refused) so far

  bool Exec(Client& c, const std::string& sql, const json& params) {
    ++statements_;
    if (c.cli) {
      std::string out;
      int rc = RunCommand(
          CliCommand({"sql", "--db", c.tc->dir() + "/client.db", sql, params.dump()}), &out);
      if (rc != 0) {
        ++sc.result->refused_locally;
        sc.Note("cli client " + std::to_string(c.index) + " refused locally: " + sql.substr(0, 80) +
                " -> " + out.substr(0, 160));
        return false;
      }
      sc.Note("cli client " + std::to_string(c.index) + ": " + sql.substr(0, 100) + " " +
              params.dump().substr(0, 200));
      return true;
    }
    auto res = store(c).Execute(sql, params);
    if (!res.ok()) {
      ++sc.result->refused_locally;
      if (getenv("OUTPOST_CONV_DEBUG_REFUSALS"))
        fprintf(stderr, "refused: %s %s: %s\n", sql.substr(0, 60).c_str(), params.dump().c_str(),
                res.status().ToString().c_str());
      sc.Note("client " + std::to_string(c.index) + " refused locally: " + sql.substr(0, 80) +
              " -> " + res.status().ToString().substr(0, 120));
      return false;
    }
    sc.Note("client " + std::to_string(c.index) + ": " + sql.substr(0, 100) + " " +
            params.dump().substr(0, 200));
    return true;
  }

  bool Insert(Client& c, const Table& t, const json& forced = json::object()) {
    json row = InsertRow(c, t, forced);
    if (row.is_null()) return false;
    if (row.empty())
      return Exec(c, "INSERT INTO " + QuoteIdent(t.name) + " DEFAULT VALUES", json::array());
    std::string cols, qs;
    json params = json::array();
    for (auto& [k, v] : row.items()) {
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(k);
      qs += qs.empty() ? "?" : ", ?";
      params.push_back(v);
    }
    return Exec(c, "INSERT INTO " + QuoteIdent(t.name) + " (" + cols + ") VALUES (" + qs + ")",
                params);
  }

  std::string PkWhere(const Table& t, const json& row, json* params) {
    std::string w;
    for (const auto& k : t.primary_key) {
      w += (w.empty() ? "" : " AND ") + QuoteIdent(k) + " = ?";
      params->push_back(row[k]);
    }
    return w;
  }

  static bool SoftDeleteName(const std::string& n) {
    std::string l = n;
    std::transform(l.begin(), l.end(), l.begin(), ::tolower);
    return l.find("delet") != std::string::npos || l.find("active") != std::string::npos ||
           l.find("archiv") != std::string::npos;
  }

  bool Update(Client& c, const Table& t) {
    auto row = PickRow(c, t);
    if (!row) return false;
    const Table* full = env.Full(t.name);
    std::vector<const Column*> cands, soft;
    for (const auto& col : t.columns) {
      if (IsKey(t, col.name) || col.generated) continue;
      if (col.name == TenantColumn(t) && !r.Chance(0.05)) continue;
      if (!t.sync.may_set(c.role, col.name, WriteKind::kUpdate) && !r.Chance(0.05)) continue;
      if (col.type.kind == TypeKind::kOtherText) continue;
      cands.push_back(&col);
      if (SoftDeleteName(col.name) || IsAdditive(t, col.name)) soft.push_back(&col);
    }
    if (cands.empty()) return false;
    std::string set;
    json params = json::array();
    std::set<std::string> used;
    int n = r.Range(1, 3);
    for (int i = 0; i < n; ++i) {
      const Column* col = !soft.empty() && r.Chance(0.4) ? r.Pick(soft) : r.Pick(cands);
      if (!used.insert(col->name).second) continue;
      const std::string q = QuoteIdent(col->name);
      if (IsAdditive(t, col->name)) {
        if ((*row)[col->name].is_null()) continue;
        set += (set.empty() ? "" : ", ") + q + " = " + q + " + ?";
        params.push_back(static_cast<int64_t>(r.Range(-5, 20)));
        continue;
      }
      json v;
      const ForeignKey* fk = full ? FkOf(*full, col->name) : nullptr;
      if (fk && fk->columns.size() == 1) {
        auto p = Parent(c, *fk);
        v = p ? (*p)[col->name] : json(nullptr);
        if (v.is_null() && !col->nullable) continue;
      } else if (col->nullable && r.Chance(0.15)) {
        v = nullptr;
      } else {
        v = Fresh(t, *col);
      }
      if (FilterApplies(c, t) && col->name == t.sync.filter->column && !r.Chance(0.1)) continue;
      set += (set.empty() ? "" : ", ") + q + " = ?";
      params.push_back(v);
    }
    if (set.empty()) return false;
    std::string where = PkWhere(t, *row, &params);
    return Exec(c, "UPDATE " + QuoteIdent(t.name) + " SET " + set + " WHERE " + where, params);
  }

  bool Delete(Client& c, const Table& t) {
    // Never the tenant's own row: allowed for some roles, it cascades through everything and
    // leaves the rest of the epoch with an empty tenant.
    if (t.sync.scope.kind == ScopeKind::kTenantKey) return false;
    auto row = PickRow(c, t);
    if (!row) return false;
    json params = json::array();
    std::string where = PkWhere(t, *row, &params);
    return Exec(c, "DELETE FROM " + QuoteIdent(t.name) + " WHERE " + where, params);
  }

  // Tables some table references with ON DELETE CASCADE (deleting their rows cascades).
  bool CascadeParent(const Table& t) {
    for (const auto& other : env.view().tables)
      for (const auto& fk : other.foreign_keys)
        if (fk.ref_table == t.name && fk.on_delete == FkAction::kCascade) return true;
    return false;
  }

  // One local transaction of 1-3 random writes.
  void LocalTransaction(Client& c) {
    auto tables = WritableTables(c);
    if (tables.empty()) return;
    const bool explicit_tx = !c.cli && r.Chance(0.35);  // one CLI call is one statement
    const int n = explicit_tx ? r.Range(2, 3) : 1;
    if (explicit_tx && !Exec(c, "BEGIN", json::array())) return;
    for (int i = 0; i < n; ++i) {
      // An operation may find nothing to do (no row to update, no parent to reference): try
      // another until a statement was run, a few times.
      const int64_t before = statements_;
      for (int attempt = 0; attempt < 4 && statements_ == before; ++attempt) {
        const Table& t = *r.Pick(tables);
        double roll = static_cast<double>(r.Below(100));
        if (roll < 40) {
          Insert(c, t);
        } else if (roll < 82) {
          Update(c, t);
        } else {
          // Deletes favour parents whose children cascade.
          const Table* victim = &t;
          for (int tries = 0; tries < 3 && !CascadeParent(*victim); ++tries)
            victim = r.Pick(tables);
          Delete(c, *victim);
        }
      }
    }
    if (explicit_tx) {
      auto s = store(c).Execute("COMMIT");
      if (!s.ok()) (void)store(c).Execute("ROLLBACK");
    }
    NoteCommitted(c);
  }

  // Tx ids that appeared in the outbox since the last look: transactions the harness committed.
  void NoteCommitted(Client& c) {
    auto res =
        store(c).Execute("SELECT DISTINCT tx_id FROM _outpost_outbox WHERE tx_id > ? ORDER BY 1",
                         json::array({c.last_tx}));
    if (!res.ok()) {
      sc.Fail("reading the outbox: " + res.status().ToString());
      return;
    }
    for (const auto& row : res->rows) {
      int64_t id = row[0].get<int64_t>();
      if (c.committed.insert(id).second) {
        ++sc.result->local_tx;
        c.committed_at[id] = ++sc.order;
        sc.Note("client " + std::to_string(c.index) + " committed tx " + std::to_string(id));
      }
      c.last_tx = std::max(c.last_tx, id);
    }
  }

  // Two clients insert rows agreeing on a unique constraint (or on the key of a merging table).
  void Collide(Client& a, Client& b) {
    std::vector<std::pair<const Table*, std::vector<std::string>>> cands;
    for (const Table* t : WritableTables(a)) {
      if (!Writable(b, *t)) continue;
      for (const auto& u : t->uniques) cands.push_back({t, u.columns});
      for (const auto& ix : t->indexes)
        if (ix.unique && !ix.where &&
            std::find(ix.key_is_expression.begin(), ix.key_is_expression.end(), true) ==
                ix.key_is_expression.end())
          cands.push_back({t, ix.keys});
      if (!t->has_serial_key()) cands.push_back({t, t->primary_key});
    }
    if (cands.empty()) return;
    auto [t, cols] = r.Pick(cands);
    json row = InsertRow(a, *t);
    if (row.is_null()) return;
    json forced = json::object();
    for (const auto& c : cols)
      if (row.contains(c)) forced[c] = row[c];
    sc.Note("collision on " + t->name + " " + forced.dump());
    Insert(a, *t, row);
    NoteCommitted(a);
    Insert(b, *t, forced);
    NoteCommitted(b);
  }

  // A deletes a parent row while B, offline, adds a child referencing it.
  void FkRace(Client& a, Client& b) {
    std::vector<std::pair<const Table*, const ForeignKey*>> cands;
    for (const Table* child : WritableTables(b)) {
      const Table* full = env.Full(child->name);
      if (!full) continue;
      for (const auto& fk : full->foreign_keys) {
        const Table* parent = env.view().FindTable(fk.ref_table);
        if (parent && Writable(a, *parent) && parent->sync.scope.kind != ScopeKind::kTenantKey)
          cands.push_back({child, &fk});
      }
    }
    if (cands.empty()) return;
    auto [child, fk] = r.Pick(cands);
    const Table* parent = env.view().FindTable(fk->ref_table);
    auto prow = PickRow(a, *parent);
    if (!prow) return;
    json forced = json::object();
    for (size_t i = 0; i < fk->columns.size(); ++i)
      forced[fk->columns[i]] = (*prow)[fk->ref_columns[i]];
    sc.Note("fk race: " + parent->name + " vs child " + child->name);
    json params = json::array();
    std::string where = PkWhere(*parent, *prow, &params);
    Exec(a, "DELETE FROM " + QuoteIdent(parent->name) + " WHERE " + where, params);
    NoteCommitted(a);
    Insert(b, *child, forced);
    NoteCommitted(b);
  }

  // A write through another PostgreSQL backend to a row in client 0's scope.
  void DirectWrite() {
    Client& c = *sc.clients[0];
    std::vector<const server::SyncedTable*> tables;
    for (const auto& st : env.model().tables())
      if (st.rule().scope.kind != ScopeKind::kGlobal) tables.push_back(&st);
    if (tables.empty()) return;
    const server::SyncedTable& st = *r.Pick(tables);
    const Table& t = *st.view;
    server::Principal who{c.tenant, c.sub, c.role,
                          json{{"tenant", c.tenant}, {"sub", c.sub}, {"role", c.role}}};
    server::PgParams params;
    auto pred = env.model().ScopePredicate(st, "r", who, &params);
    if (!pred.ok()) return;
    std::string keys;
    for (const auto& k : t.primary_key)
      keys += (keys.empty() ? "r." : ", r.") + QuoteIdent(k) + "::text";
    auto count = env.pg().Exec("SELECT count(*) FROM " + st.qname + " r WHERE " + *pred, params);
    if (!count.ok() || count->rows() == 0) return;
    int64_t n = std::stoll(std::string(count->get(0, 0)));
    if (n == 0) return;
    auto row = env.pg().Exec("SELECT " + keys + " FROM " + st.qname + " r WHERE " + *pred +
                                 " ORDER BY " + keys + " LIMIT 1 OFFSET " +
                                 std::to_string(r.Below(static_cast<uint64_t>(n))),
                             params);
    if (!row.ok() || row->rows() == 0) return;
    json pk = json::array();
    for (size_t i = 0; i < t.primary_key.size(); ++i) {
      auto v = PgTextToJson(t.FindColumn(t.primary_key[i])->type, row->get(0, static_cast<int>(i)));
      if (!v.ok()) return;
      pk.push_back(*v);
    }
    server::PgParams kp;
    auto pkp = env.model().PkParam(st, pk, &kp);
    if (!pkp.ok()) return;
    const std::string match = env.model().PkMatchExpression(st, "r", *pkp);
    Event e;
    e.client = -1;
    e.table = t.name;
    e.pk = pk;
    // Direct deletes only of rows nothing references (a deleted tenant would empty the rest of
    // the epoch); deletes of parents come from the clients.
    bool referenced = t.sync.scope.kind == ScopeKind::kTenantKey;
    for (const auto& other : env.model().described().tables)
      for (const auto& fk : other.foreign_keys)
        if (fk.ref_table == t.name) referenced = true;
    if (!referenced && r.Chance(0.15)) {
      auto res =
          env.pg().Exec("DELETE FROM " + st.qname + " r WHERE " + match + " RETURNING 1", kp);
      if (!res.ok() || res->rows() == 0) return;
      e.op = 'D';
    } else {
      std::vector<const Column*> cands;
      for (const auto& col : t.columns) {
        if (IsKey(t, col.name) || col.generated || col.name == TenantColumn(t)) continue;
        if (t.sync.filter && col.name == t.sync.filter->column) continue;
        if (col.type.kind == TypeKind::kOtherText) continue;
        const Table* full = env.Full(t.name);
        if (full && FkOf(*full, col.name)) continue;
        cands.push_back(&col);
      }
      if (cands.empty()) return;
      std::vector<const Column*> counters;
      for (const Column* c2 : cands)
        if (IsAdditive(t, c2->name)) counters.push_back(c2);
      const Column& col = !counters.empty() && r.Chance(0.5) ? *r.Pick(counters) : *r.Pick(cands);
      const std::string q = QuoteIdent(col.name);
      kp.push_back(std::nullopt);
      const std::string p = "$" + std::to_string(kp.size());
      std::string sql;
      if (IsAdditive(t, col.name)) {
        int64_t d = r.Range(-5, 20);
        kp.back() = std::to_string(d);
        sql = "UPDATE " + st.qname + " r SET " + q + " = r." + q + " + " + p +
              "::" + col.type.pg_type + " WHERE " + match + " AND r." + q +
              " IS NOT NULL RETURNING 1";
        e.delta = true;
        e.new_values[col.name] = d;
      } else {
        json v = Fresh(t, col);
        auto text = JsonToPgText(col.type, v);
        if (!text.ok()) return;
        kp.back() = *text;
        sql = "UPDATE " + st.qname + " r SET " + q + " = " + p + "::" + col.type.pg_type +
              " WHERE " + match + " RETURNING 1";
        e.new_values[col.name] = v;
      }
      auto res = env.pg().Exec(sql, kp);
      if (!res.ok() || res->rows() == 0) return;
      e.op = 'U';
    }
    e.order = ++sc.order;
    sc.Note("direct write " + std::string(1, e.op) + " " + t.name + " " + pk.dump() + " " +
            e.new_values.dump());
    ++sc.result->direct_writes;
    // OUTPOST_CONV_SABOTAGE: forget direct writes (to see the checks catch unexplained values).
    if (!getenv("OUTPOST_CONV_SABOTAGE")) sc.events.push_back(std::move(e));
  }
};

Generator::Generator(Scenario& sc, AppEnv& env, Rng& r) : impl_(new Impl{sc, env, r}) {}

Generator::~Generator() = default;

void Generator::LocalTransaction(Client& c) {
  impl_->LocalTransaction(c);
}

void Generator::Collide(Client& a, Client& b) {
  impl_->Collide(a, b);
}

void Generator::FkRace(Client& a, Client& b) {
  impl_->FkRace(a, b);
}

void Generator::DirectWrite() {
  impl_->DirectWrite();
}

}  // namespace outpost::convergence
