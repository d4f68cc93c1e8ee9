// The convergence harness's checks (scenario.h): reading rows, and the checks at the end of a
// scenario.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "outpost/sql_quote.h"
#include "outpost/value.h"
#include "scenario.h"

namespace outpost::convergence {

namespace {

// The reconciliation API being added (notices kept in the store, dependent rejections): used
// when this tree has it, detected at compile time so that the harness builds either way.
template <class S = Store>
constexpr bool kStoreHasNotices = requires(S& s) {
  s.Notices();
};
template <class R = Rejection>
constexpr bool kRejectionHasDependsOn = requires(R& r) {
  r.depends_on;
};

// The notices a store kept, as JSON objects like the push answer's ({tx_id, code, table, pk,
// columns}); nullopt without the API.
template <class S = Store>
std::optional<json> StoredNotices(S& store) {
  if constexpr (kStoreHasNotices<S>) {
    auto notices = store.Notices();
    if (!notices.ok()) return std::nullopt;
    json out = json::array();
    for (const auto& n : *notices)
      out.push_back(json{{"tx_id", n.tx_id},
                         {"code", n.code},
                         {"table", n.table},
                         {"pk", n.pk},
                         {"columns", n.columns}});
    return out;
  } else {
    (void)store;
    return std::nullopt;
  }
}

template <class R = Rejection>
int64_t DependsOn(const R& r) {
  if constexpr (kRejectionHasDependsOn<R>) {
    return r.depends_on;
  } else {
    (void)r;
    return 0;
  }
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Reading rows for the checks.

json ClientRows(Client& c, const Table& t, std::string* error) {
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "" : ", ") + QuoteIdent(col.name);
  auto res = c.tc->store().Execute("SELECT " + cols + " FROM " + QuoteIdent(t.name));
  if (!res.ok()) {
    *error = res.status().ToString();
    return json::array();
  }
  json rows = json::array();
  for (auto& row : res->rows) {
    json out = json::array();
    for (size_t i = 0; i < t.columns.size(); ++i) out.push_back(Norm(t.columns[i], row[i]));
    rows.push_back(std::move(out));
  }
  std::sort(rows.begin(), rows.end(),
            [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return rows;
}

json ScopeRows(AppEnv& env, Client& c, const server::SyncedTable& st, std::string* error) {
  server::Principal who{c.tenant, c.sub, c.role,
                        json{{"tenant", c.tenant}, {"sub", c.sub}, {"role", c.role}}};
  server::PgParams params;
  auto pred = env.model().ScopePredicate(st, "r", who, &params);
  if (!pred.ok()) {
    *error = pred.status().ToString();
    return json::array();
  }
  const Table& t = *st.view;
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "r." : ", r.") + QuoteIdent(col.name);
  auto res = env.pg().Exec("SELECT " + cols + " FROM " + st.qname + " r WHERE " + *pred, params);
  if (!res.ok()) {
    *error = res.status().ToString();
    return json::array();
  }
  json rows = json::array();
  for (int i = 0; i < res->rows(); ++i) {
    json out = json::array();
    for (size_t j = 0; j < t.columns.size(); ++j) {
      int ci = static_cast<int>(j);
      if (res->is_null(i, ci)) {
        out.push_back(nullptr);
        continue;
      }
      auto v = PgTextToJson(t.columns[j].type, res->get(i, ci));
      out.push_back(v.ok() ? Norm(t.columns[j], *v) : json("<" + v.status().ToString() + ">"));
    }
    rows.push_back(std::move(out));
  }
  std::sort(rows.begin(), rows.end(),
            [](const json& a, const json& b) { return a.dump() < b.dump(); });
  return rows;
}

namespace {

// The PostgreSQL row of `table` with key `pk` (client JSON), as an object of normalised values;
// nullopt when absent.
std::optional<json> PgRow(AppEnv& env, const std::string& table, const json& pk) {
  const auto* st = env.model().Find(table);
  if (!st) return std::nullopt;
  server::PgParams params;
  auto pkp = env.model().PkParam(*st, pk, &params);
  if (!pkp.ok()) return std::nullopt;
  const Table& t = *st->view;
  std::string cols;
  for (const auto& col : t.columns) cols += (cols.empty() ? "r." : ", r.") + QuoteIdent(col.name);
  auto res = env.pg().Exec("SELECT " + cols + " FROM " + st->qname + " r WHERE " +
                               env.model().PkMatchExpression(*st, "r", *pkp),
                           params);
  if (!res.ok() || res->rows() == 0) return std::nullopt;
  json out = json::object();
  for (size_t j = 0; j < t.columns.size(); ++j) {
    int ci = static_cast<int>(j);
    if (res->is_null(0, ci)) {
      out[t.columns[j].name] = nullptr;
      continue;
    }
    auto v = PgTextToJson(t.columns[j].type, res->get(0, ci));
    out[t.columns[j].name] = v.ok() ? Norm(t.columns[j], *v) : json(nullptr);
  }
  return out;
}

}  // namespace

AdditiveSnapshot SnapshotAdditive(AppEnv& env) {
  AdditiveSnapshot snap;
  for (const auto& st : env.model().tables()) {
    const Table& t = *st.view;
    if (env.TriggerTable(t.name)) continue;
    std::vector<std::string> add;
    for (const auto& col : t.columns)
      if (IsAdditive(t, col.name) && !env.TriggerColumn(t.name, col.name)) add.push_back(col.name);
    if (add.empty()) continue;
    std::string cols;
    for (const auto& k : t.primary_key)
      cols += (cols.empty() ? "" : ", ") + QuoteIdent(k) + "::text";
    for (const auto& a : add) cols += ", " + QuoteIdent(a) + "::text";
    auto res = env.pg().Exec("SELECT " + cols + " FROM " + st.qname);
    if (!res.ok()) continue;
    const int nk = static_cast<int>(t.primary_key.size());
    for (int i = 0; i < res->rows(); ++i) {
      json pk = json::array();
      for (int k = 0; k < nk; ++k) {
        auto v =
            PgTextToJson(t.FindColumn(t.primary_key[static_cast<size_t>(k)])->type, res->get(i, k));
        pk.push_back(v.ok() ? *v : json(nullptr));
      }
      for (size_t a = 0; a < add.size(); ++a) {
        int ci = nk + static_cast<int>(a);
        if (res->is_null(i, ci)) continue;
        snap[t.name][pk.dump()][add[a]] = std::stod(std::string(res->get(i, ci)));
      }
    }
  }
  return snap;
}

// ---------------------------------------------------------------------------------------------
// The checks at the end of a scenario.

namespace {

// Every client equals PostgreSQL for its scope; differences of a known finding's shape count as
// known findings unless `options.strict_findings`.
void CheckConvergence(Scenario& sc, AppEnv& env, const Options& options) {
  ScenarioResult& result = *sc.result;
  // (1) Every client equals PostgreSQL for its scope.
  for (auto& c : sc.clients) {
    auto st = c->tc->session().status();
    if (st.pending_mutations != 0)
      sc.Fail("client " + std::to_string(c->index) + ": " + std::to_string(st.pending_mutations) +
              " mutations still pending after the final syncs");
    // PostgreSQL's rows in the client's scope, per table (also to classify differences).
    std::map<std::string, json> expected_of;
    bool read_error = false;
    for (const auto& table : env.model().tables()) {
      std::string e;
      expected_of[table.name()] = ScopeRows(env, *c, table, &e);
      if (!e.empty()) {
        sc.Fail("client " + std::to_string(c->index) + " " + table.name() + ": " + e);
        read_error = true;
      }
    }
    if (read_error) continue;
    // Known product bugs (FINDINGS.md F1, F2): a row that differs while one of its ON DELETE
    // CASCADE parents is outside the client's scope.
    auto known_finding = [&](const Table& t, const json& row) -> bool {
      for (const auto& fk : t.foreign_keys) {
        if (fk.on_delete != FkAction::kCascade) continue;
        const Table* parent = env.view().FindTable(fk.ref_table);
        if (!parent) continue;
        json want = json::array();
        for (const auto& col : fk.columns)
          for (size_t ci = 0; ci < t.columns.size(); ++ci)
            if (t.columns[ci].name == col) want.push_back(row[ci]);
        bool has_null = false;
        for (const auto& v : want) has_null = has_null || v.is_null();
        if (has_null) continue;
        bool visible = false;
        for (const auto& prow : expected_of[parent->name]) {
          json got = json::array();
          for (const auto& col : fk.ref_columns)
            for (size_t ci = 0; ci < parent->columns.size(); ++ci)
              if (parent->columns[ci].name == col) got.push_back(prow[ci]);
          if (got == want) visible = true;
        }
        if (!visible) return true;
      }
      return false;
    };
    // Known bug F4: a row that arrived with a reference outside the scope was parked, and
    // parking cascaded to its children; it is back (dangling), they are not. Its trace: the
    // store has dangling references (PRAGMA foreign_key_check).
    bool dangling = false;
    {
      auto fk = c->tc->store().Execute("PRAGMA foreign_key_check");
      dangling = fk.ok() && !fk->rows.empty();
    }
    for (const auto& table : env.model().tables()) {
      std::string e1;
      json local = ClientRows(*c, *table.view, &e1);
      const json& expected = expected_of[table.name()];
      if (!e1.empty()) {
        sc.Fail("client " + std::to_string(c->index) + " " + table.name() + ": " + e1);
        continue;
      }
      if (local != expected) {
        std::string diff;
        int shown = 0;
        std::set<std::string> l, x;
        for (const auto& row : local) l.insert(row.dump());
        for (const auto& row : expected) x.insert(row.dump());
        // The key of a row as an array (for showing PostgreSQL's row whatever its scope).
        auto pk_of = [&](const std::string& dumped) {
          json row = json::parse(dumped), pk = json::array();
          for (const auto& k : table.view->primary_key)
            for (size_t ci = 0; ci < table.view->columns.size(); ++ci)
              if (table.view->columns[ci].name == k) pk.push_back(row[ci]);
          return pk;
        };
        int unexplained = 0, known = 0;
        // F4 with ON DELETE SET NULL (suspected, FINDINGS.md): the local row equals
        // PostgreSQL's but for SET NULL foreign key columns that are NULL locally.
        auto set_null_only = [&](const json& local_row) {
          const json pk = pk_of(local_row.dump());
          for (const auto& xs : x) {
            json pg_row = json::parse(xs);
            if (pk_of(xs) != pk) continue;
            bool only = true, any = false;
            for (size_t ci = 0; ci < table.view->columns.size() && only; ++ci) {
              if (local_row[ci] == pg_row[ci]) continue;
              bool set_null = false;
              for (const auto& fk : table.view->foreign_keys)
                if (fk.on_delete == FkAction::kSetNull &&
                    std::find(fk.columns.begin(), fk.columns.end(), table.view->columns[ci].name) !=
                        fk.columns.end())
                  set_null = true;
              if (set_null && local_row[ci].is_null()) {
                any = true;
              } else {
                only = false;
              }
            }
            return only && any;
          }
          return false;
        };
        std::set<std::string> f4b_keys;
        for (const auto& s : l) {
          if (x.count(s)) continue;
          if (set_null_only(json::parse(s))) {
            f4b_keys.insert(pk_of(s).dump());
            ++known;
            if (shown++ < 3) diff += "\n    only local (known: F4, SET NULL): " + s;
            continue;
          }
          const bool k = known_finding(*table.view, json::parse(s));
          (k ? known : unexplained)++;
          if (shown++ < 3) {
            auto pg_row = PgRow(env, table.name(), pk_of(s));
            diff += std::string("\n    only local") + (k ? " (known: F2)" : "") + ": " + s +
                    "\n      PostgreSQL row (any scope): " +
                    (pg_row ? pg_row->dump() : std::string("none"));
          }
        }
        for (const auto& s : x) {
          if (l.count(s)) continue;
          if (f4b_keys.count(pk_of(s).dump())) continue;  // the other side of an F4 SET NULL row
          const bool f1 = known_finding(*table.view, json::parse(s));
          // F4: missing rows whose key no local row has (not a stale version of a local row).
          bool f4 = false;
          if (!f1 && dangling) {
            const json pk = pk_of(s);
            f4 = true;
            for (const auto& ls : l)
              if (pk_of(ls) == pk) f4 = false;
          }
          const bool k = f1 || f4;
          (k ? known : unexplained)++;
          if (shown++ < 6)
            diff += std::string("\n    only in PostgreSQL") +
                    (f1   ? " (known: F1)"
                     : f4 ? " (known: F4)"
                          : "") +
                    ": " + s;
        }
        const std::string text = "client " + std::to_string(c->index) + " (" + c->role +
                                 ") differs from PostgreSQL in " + table.name() + ": " +
                                 std::to_string(local.size()) + " local rows, " +
                                 std::to_string(expected.size()) + " expected" + diff;
        if (unexplained > 0 || options.strict_findings) {
          sc.Fail(text);
        } else {
          ++result.known_findings;
          sc.Note("known finding: " + text);
        }
      }
    }
  }
}

// Returns the transactions applied, per client.
std::map<int, std::set<int64_t>> CheckAccountability(Scenario& sc) {
  ScenarioResult& result = *sc.result;
  // (2) Accountability.
  std::map<int, std::set<int64_t>> applied;
  for (auto& c : sc.clients) {
    auto rejections = c->tc->session().Rejections();
    if (!rejections.ok()) {
      sc.Fail("rejections: " + rejections.status().ToString());
      continue;
    }
    std::map<int64_t, const Rejection*> rejected;
    for (const auto& rj : *rejections) {
      if (rejected.count(rj.tx_id))
        sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(rj.tx_id) +
                ": rejection recorded twice");
      rejected[rj.tx_id] = &rj;
      if (rj.code.empty() || rj.message.empty())
        sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(rj.tx_id) +
                ": rejection without code or reason");
    }
    auto pending = c->tc->store().Execute(
        "SELECT DISTINCT tx_id FROM _outpost_outbox WHERE checkpoint IS NULL");
    std::set<int64_t> still;
    if (pending.ok())
      for (const auto& row : pending->rows) still.insert(row[0].get<int64_t>());
    for (int64_t tx : c->committed) {
      const std::string who = "client " + std::to_string(c->index) + " tx " + std::to_string(tx);
      auto seen = c->seen_status.find(tx);
      if (still.count(tx)) {
        sc.Fail(who + ": still pending at the end");
      } else if (rejected.count(tx)) {
        ++result.rejected;
        if (seen != c->seen_status.end() && seen->second == "applied")
          sc.Fail(who + ": the server applied it but the client lists it as rejected (" +
                  rejected[tx]->code + ")");
      } else {
        ++result.applied;
        if (!c->delivered.count(tx))
          sc.Fail(who + ": left the outbox without a rejection but never reached the server");
        else if (seen != c->seen_status.end() && seen->second == "rejected")
          sc.Fail(who + ": the server rejected it but the client has no rejection for it");
        applied[c->index].insert(tx);
      }
    }
  }
  return applied;
}

// Dependent rejections, given the transactions applied per client.
void CheckDependentRejections(Scenario& sc, std::map<int, std::set<int64_t>>& applied) {
  // Dependent transactions (the API being added): a rejection `dependent` names an earlier
  // rejected transaction of the same client; and an applied transaction that was still pending
  // when an earlier transaction of the same client touching the same row was rejected should
  // have been rejected as dependent.
  if constexpr (kRejectionHasDependsOn<Rejection>) {
    for (auto& c : sc.clients) {
      auto rejections = c->tc->session().Rejections();
      if (!rejections.ok()) continue;
      std::map<int64_t, const Rejection*> by_tx;
      for (const auto& rj : *rejections) by_tx[rj.tx_id] = &rj;
      for (const auto& rj : *rejections) {
        const std::string who =
            "client " + std::to_string(c->index) + " tx " + std::to_string(rj.tx_id);
        const int64_t dep = DependsOn(rj);
        if (rj.code == "dependent") {
          if (dep == 0 || dep >= rj.tx_id || !by_tx.count(dep))
            sc.Fail(who + ": dependent rejection names " + std::to_string(dep) +
                    ", not an earlier rejected transaction of the client");
        } else if (dep != 0) {
          sc.Fail(who + ": rejection " + rj.code + " with depends_on " + std::to_string(dep));
        }
      }
      // Rows (table + key) each rejected transaction touched, from what it pushed.
      for (const auto& rj : *rejections) {
        if (!rj.mutations.is_array()) continue;
        std::set<std::string> rows;
        for (const auto& m : rj.mutations)
          rows.insert(m.value("table", "") + "\x1f" + m.value("pk", json::array()).dump());
        for (const auto& e : sc.events) {
          if (e.client != c->index || e.tx_id <= rj.tx_id || !applied[c->index].count(e.tx_id))
            continue;
          if (!rows.count(e.table + "\x1f" + e.pk.dump())) continue;
          auto committed = c->committed_at.find(e.tx_id);
          auto seen = c->rejected_at.find(rj.tx_id);
          if (committed == c->committed_at.end() || seen == c->rejected_at.end()) continue;
          if (committed->second < seen->second)
            sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(e.tx_id) +
                    " touched " + e.table + " " + e.pk.dump() + " like rejected tx " +
                    std::to_string(rj.tx_id) + " (" + rj.code +
                    ") and was pending then, yet applied instead of rejected as dependent");
        }
      }
    }
  }
}

// The applied timeline: the notices the stores kept, the values that landed in PostgreSQL, and
// the additive columns against their `snapshot`.
void CheckTimeline(Scenario& sc, AppEnv& env, std::map<int, std::set<int64_t>>& applied,
                   const AdditiveSnapshot& snapshot) {
  // The applied timeline, with temporary keys replaced by the server's.
  std::vector<Event> timeline;
  for (auto e : sc.events) {
    if (e.client >= 0) {
      if (!applied[e.client].count(e.tx_id)) continue;
      Client& c = *sc.clients[static_cast<size_t>(e.client)];
      auto remap = c.remaps.find(e.table + "\x1f" + e.pk.dump());
      if (remap != c.remaps.end()) e.pk = remap->second;
      const Table* full = env.Full(e.table);
      if (full) {
        for (const auto& fk : full->foreign_keys) {
          if (fk.columns.size() != 1 || !e.new_values.contains(fk.columns[0])) continue;
          const json& v = e.new_values[fk.columns[0]];
          auto m = c.remaps.find(fk.ref_table + "\x1f" + json::array({v}).dump());
          if (m != c.remaps.end() && !m->second.empty()) e.new_values[fk.columns[0]] = m->second[0];
        }
      }
    }
    timeline.push_back(std::move(e));
  }
  std::sort(timeline.begin(), timeline.end(),
            [](const Event& a, const Event& b) { return a.order < b.order; });

  // Notices kept by the stores (the API being added), per client and tx.
  std::map<int, std::map<int64_t, std::vector<json>>> stored_notices;
  for (auto& c : sc.clients) {
    auto stored = StoredNotices(c->tc->store());
    if (!stored) continue;
    for (const auto& n : *stored)
      stored_notices[c->index][n.value("tx_id", int64_t{0})].push_back(n);
    // Every notice the server sent a native client is kept by it (until dismissed; the harness
    // never dismisses).
    if (!c->cli)
      for (const auto& [tx, list] : c->notices)
        for (const auto& n : list) {
          bool kept = false;
          for (const auto& k : stored_notices[c->index][tx])
            kept = kept || (k.value("code", "") == n.value("code", "") &&
                            k.value("table", "") == n.value("table", "") &&
                            k.value("pk", json()) == n.value("pk", json()));
          if (!kept)
            sc.Fail("client " + std::to_string(c->index) + " tx " + std::to_string(tx) +
                    ": the server's notice " + n.dump() + " is not in the store's notices");
        }
  }
  auto has_notice = [&](const Event& e, const std::string& code, const std::string& col) {
    if (e.client < 0) return false;
    Client& c = *sc.clients[static_cast<size_t>(e.client)];
    std::vector<json> all;
    auto it = c.notices.find(e.tx_id);
    if (it != c.notices.end()) all = it->second;
    for (const auto& n : stored_notices[c.index][e.tx_id]) all.push_back(n);
    for (const auto& n : all) {
      if (n.value("code", "") != code || n.value("table", "") != e.table) continue;
      // A notice is about one row: another row of the same table in the same transaction (a
      // delete that lost to another client's delete beside an additive update) is not explained
      // by it (soak seed 21299).
      if (n.contains("pk") && n["pk"].is_array() && n["pk"] != e.pk) continue;
      if (col.empty()) return true;
      if (!n.contains("columns")) return true;
      for (const auto& x : n["columns"])
        if (x == col) return true;
    }
    return false;
  };
  // With the reconciliation API the server reports `superseded`: a value that did not land
  // needs a later write or a notice. Without it, an earlier write to the same column may have
  // won silently (lww clock, server_wins), so that also explains a missing value.
  constexpr bool strict = kStoreHasNotices<Store>;

  std::map<std::string, std::optional<json>> final_rows;
  auto final_row = [&](const std::string& table, const json& pk) -> const std::optional<json>& {
    std::string key = table + "\x1f" + pk.dump();
    auto it = final_rows.find(key);
    if (it == final_rows.end()) it = final_rows.emplace(key, PgRow(env, table, pk)).first;
    return it->second;
  };

  for (size_t i = 0; i < timeline.size(); ++i) {
    const Event& e = timeline[i];
    if (e.client < 0 || e.op == 'D') continue;
    const Table* t = env.view().FindTable(e.table);
    if (!t) continue;
    // A CLI client's writes: its notices are only known from its store, its remaps not at all.
    if (e.unverified && (!kStoreHasNotices<Store> || t->has_serial_key())) continue;
    const std::string who = "client " + std::to_string(e.client) + " tx " +
                            std::to_string(e.tx_id) + " " + (e.op == 'I' ? "insert" : "update") +
                            " " + e.table + " " + e.pk.dump();
    bool later_delete = false;
    for (size_t j = i + 1; j < timeline.size(); ++j)
      if (timeline[j].op == 'D') later_delete = true;
    auto row = final_row(e.table, e.pk);
    if (!row) {
      if (!later_delete && !has_notice(e, "row_deleted", "") && e.op != 'I')
        sc.Fail(who + ": row absent from PostgreSQL, no later delete and no row_deleted notice");
      if (!later_delete && e.op == 'I' && !has_notice(e, "row_deleted", ""))
        sc.Fail(who + ": inserted row absent from PostgreSQL and no later delete");
      continue;
    }
    if (env.TriggerTable(e.table)) continue;  // existence only
    const std::string& role = sc.clients[static_cast<size_t>(e.client)]->role;
    for (auto& [col, value] : e.new_values.items()) {
      const Column* column = t->FindColumn(col);
      if (!column || column->generated || t->IsServerKeyColumn(col) || IsAdditive(*t, col))
        continue;
      if (env.TriggerColumn(e.table, col)) continue;
      if (e.op == 'I' && !t->sync.may_set(role, col, WriteKind::kInsert)) continue;
      if (e.op == 'I' && value.is_number_integer() && value.get<int64_t>() < 0 && column->serial)
        continue;
      const json want = Norm(*column, value);
      const json have = (*row).value(col, json());
      if (SameValue(want, have)) continue;
      bool covered = has_notice(e, "superseded", col) || has_notice(e, "merged", "") ||
                     has_notice(e, "row_deleted", "");
      for (size_t j = 0; j < timeline.size() && !covered; ++j) {
        const Event& o = timeline[j];
        if (j == i) continue;
        const bool same_row = o.table == e.table && o.pk == e.pk;
        if (j > i) {
          if (same_row && (o.op == 'D' || o.new_values.contains(col))) covered = true;
          // ON DELETE SET NULL / SET DEFAULT of a referenced row deleted later.
          if (o.op == 'D') {
            const Table* full = env.Full(e.table);
            if (full)
              for (const auto& fk : full->foreign_keys)
                if (fk.ref_table == o.table &&
                    std::find(fk.columns.begin(), fk.columns.end(), col) != fk.columns.end())
                  covered = true;
          }
        } else if (!strict && same_row && o.new_values.contains(col)) {
          covered = true;  // an earlier write with a newer clock, or server_wins
        }
      }
      if (!covered)
        sc.Fail(who + ": column " + col + " = " + want.dump() + " is not in PostgreSQL (" +
                have.dump() + ") and no later write or notice explains it");
    }
  }

  // (3) Nothing applied twice: additive columns = start + applied deltas.
  for (const auto& [table, rows] : snapshot) {
    const Table* t = env.view().FindTable(table);
    for (const auto& [pkdump, cols] : rows) {
      json pk = json::parse(pkdump);
      for (const auto& [col, start_value] : cols) {
        double sum = start_value;
        bool exact = true;
        for (const auto& e : timeline) {
          if (e.table != table || e.pk != pk) continue;
          if (e.op != 'U') {
            exact = false;
            continue;
          }
          if (!e.new_values.contains(col)) continue;
          if (e.delta) {
            sum += e.new_values[col].get<double>();
            continue;
          }
          auto n = NumberOf(e.new_values[col]);
          auto o = NumberOf(e.old_values.value(col, json()));
          if (!n || !o) {
            exact = false;
            continue;
          }
          if (has_notice(e, "row_deleted", "")) continue;
          sum += *n - *o;
        }
        if (!exact) continue;
        auto row = final_row(table, pk);
        if (!row) continue;
        auto have = NumberOf((*row).value(col, json()));
        if (!have || std::fabs(*have - sum) > 1e-6 * std::max(1.0, std::fabs(sum)))
          sc.Fail("additive " + table + "." + col + " " + pkdump + ": PostgreSQL has " +
                  (have ? std::to_string(*have) : std::string("NULL")) + ", start " +
                  std::to_string(start_value) + " plus applied deltas gives " +
                  std::to_string(sum));
        (void)t;
      }
    }
  }
}

}  // namespace

void CheckScenario(Scenario& sc, AppEnv& env, const AdditiveSnapshot& snapshot,
                   const Options& options) {
  CheckConvergence(sc, env, options);
  std::map<int, std::set<int64_t>> applied = CheckAccountability(sc);
  CheckDependentRejections(sc, applied);
  CheckTimeline(sc, env, applied, snapshot);
}

}  // namespace outpost::convergence
