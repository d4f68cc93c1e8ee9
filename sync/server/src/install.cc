#include "install.h"

#include <chrono>
#include <set>
#include <thread>

namespace outpost::server {

namespace {

constexpr int kMaxViaDepth = 4;  // via-children of referenced_by dependents followed this deep

std::string Col(std::string_view alias, std::string_view column) {
  return std::string(alias) + "." + QuoteIdent(column);
}

// The capture function's name inside _outpost (at most 63 bytes, unique per table); `prefix`
// "capture_" for the row capture, "cascade_" for the before-delete logging of via-children.
std::string FunctionName(const SyncedTable& table, const std::string& prefix = "capture_") {
  std::string name = prefix + table.name();
  if (name.size() > 60)
    name = prefix + std::to_string(table.index) + "_" + table.name().substr(0, 40);
  return "_outpost." + QuoteIdent(name);
}

// A dollar-quote tag that does not occur in `body`.
std::string DollarTag(const std::string& body) {
  for (int i = 0;; ++i) {
    std::string tag = "$outpost" + std::to_string(i) + "$";
    if (body.find(tag) == std::string::npos) return tag;
  }
}

struct ViaChild {
  const SyncedTable* child;
  std::string child_column;   // the child's via column
  std::string parent_column;  // the parent column it references
};

std::vector<ViaChild> ViaChildren(const ServerModel& model, const SyncedTable& parent) {
  std::vector<ViaChild> out;
  for (const auto& t : model.tables()) {
    const Scope& s = t.rule().scope;
    if (s.kind != ScopeKind::kVia) continue;
    for (const auto& fk : t.full->foreign_keys) {
      if (fk.columns.size() == 1 && fk.columns[0] == s.column && fk.ref_columns.size() == 1 &&
          fk.ref_table == parent.name()) {
        out.push_back(ViaChild{&t, s.column, fk.ref_columns[0]});
      }
    }
  }
  return out;
}

// INSERTs logging the rows of `table` reached by `from_where` (a FROM ... WHERE ... text whose
// rows of `table` are aliased `alias`) for each tenant of the text[] variable `tenants`, then
// the same for its via-children, recursively.
void LogReached(const ServerModel& model, const SyncedTable& table, const std::string& alias,
                const std::string& from, const std::string& where, const std::string& tenants,
                int depth, std::string* body) {
  *body += "    INSERT INTO _outpost.changes (xid, tbl, pk, tenant, owners)\n      SELECT v_xid, " +
           QuoteLiteral(table.name()) + ", " + model.PkJsonExpression(table, alias) +
           ", x, ARRAY[" + model.OwnerExpression(table, alias) + "]\n      FROM " + from +
           ", unnest(" + tenants + ") x\n      WHERE x IS NOT NULL AND " + where + ";\n";
  if (depth >= kMaxViaDepth) return;
  for (const auto& vc : ViaChildren(model, table)) {
    std::string a = "c" + std::to_string(depth + 1);
    LogReached(model, *vc.child, a,
               from + " JOIN " + vc.child->qname + " " + a + " ON " + Col(a, vc.child_column) +
                   " = " + Col(alias, vc.parent_column),
               where, tenants, depth + 1, body);
  }
}

// In a capture function: for the tenants of OLD and then of NEW, logs the rows of `table` whose
// `column` equals that side's `row_column` (already quoted), with their via-children
// (LogReached), and notifies those tenants.
void LogRowsOfBothSides(const ServerModel& model, const SyncedTable& table,
                        const std::string& column, const std::string& row_column,
                        std::string* body) {
  for (const char* side : {"OLD", "NEW"}) {
    std::string tenants = std::string(side) == "OLD" ? "old_t" : "new_t";
    *body += "  IF " + tenants + " IS NOT NULL THEN\n";
    LogReached(model, table, "d0", table.qname + " d0",
               Col("d0", column) + " = " + side + "." + row_column, tenants, 0, body);
    *body += "    PERFORM pg_notify('outpost_changes', u) FROM unnest(" + tenants +
             ") u WHERE u IS NOT NULL;\n";
    *body += "  END IF;\n";
  }
}

constexpr const char* kStateSql = R"sql(
CREATE SCHEMA IF NOT EXISTS _outpost;
CREATE TABLE IF NOT EXISTS _outpost.changes (
  id bigserial PRIMARY KEY,
  xid xid8 NOT NULL,
  tbl text NOT NULL,
  pk jsonb NOT NULL,
  tenant text NOT NULL,
  owners text[]
);
CREATE INDEX IF NOT EXISTS changes_tenant_xid ON _outpost.changes (tenant, xid, id);
CREATE INDEX IF NOT EXISTS changes_xid ON _outpost.changes (xid);
CREATE TABLE IF NOT EXISTS _outpost.clocks (
  tbl text NOT NULL,
  pk jsonb NOT NULL,
  clocks jsonb NOT NULL,
  PRIMARY KEY (tbl, pk)
);
CREATE TABLE IF NOT EXISTS _outpost.pushes (
  tenant text NOT NULL,
  user_id text NOT NULL,
  client_id text NOT NULL,
  tx_id bigint NOT NULL,
  result jsonb NOT NULL,
  xid xid8 NOT NULL,
  at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, user_id, client_id, tx_id)
);
CREATE INDEX IF NOT EXISTS pushes_at ON _outpost.pushes (at);
CREATE TABLE IF NOT EXISTS _outpost.horizon (
  one boolean PRIMARY KEY DEFAULT true CHECK (one),
  xid xid8 NOT NULL
);
INSERT INTO _outpost.horizon (one, xid) VALUES (true, '0') ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS _outpost.marks (
  at timestamptz NOT NULL,
  xid xid8 NOT NULL
);
CREATE INDEX IF NOT EXISTS marks_at ON _outpost.marks (at);

CREATE OR REPLACE FUNCTION _outpost.prune_before(x xid8) RETURNS bigint
LANGUAGE plpgsql AS $prune$
DECLARE
  n bigint;
BEGIN
  UPDATE _outpost.horizon SET xid = x WHERE xid < x;
  DELETE FROM _outpost.changes WHERE xid < x;
  GET DIAGNOSTICS n = ROW_COUNT;
  RETURN n;
END
$prune$;

-- A TRUNCATE visits no rows, so it cannot log their keys: it logs one marker (pk null) for every
-- tenant instead. A pull whose window holds a marker answers cursor_expired, and the clients
-- bootstrap again (keeping their unsynced writes). On a partition of a synced partitioned table
-- the trigger's argument names the synced table (statement triggers are not inherited, and
-- TRUNCATE of one partition fires only that partition's); the table's other rows keep their
-- column clocks then.
CREATE OR REPLACE FUNCTION _outpost.capture_truncate() RETURNS trigger
LANGUAGE plpgsql AS $truncate$
DECLARE
  synced text := coalesce(TG_ARGV[0], TG_TABLE_NAME);
BEGIN
  INSERT INTO _outpost.changes (xid, tbl, pk, tenant, owners)
    VALUES (pg_current_xact_id(), synced, 'null'::jsonb, '*', NULL);
  IF TG_NARGS = 0 THEN
    DELETE FROM _outpost.clocks WHERE tbl = synced;
  END IF;
  PERFORM pg_notify('outpost_changes', '*');
  RETURN NULL;
END
$truncate$;

CREATE OR REPLACE FUNCTION _outpost.mark_and_prune(retention interval) RETURNS bigint
LANGUAGE plpgsql AS $mark$
DECLARE
  x xid8;
  n bigint := 0;
BEGIN
  INSERT INTO _outpost.marks (at, xid) VALUES (now(), pg_snapshot_xmin(pg_current_snapshot()));
  SELECT max(m.xid) INTO x FROM _outpost.marks m WHERE m.at < now() - retention;
  IF x IS NOT NULL THEN
    n := _outpost.prune_before(x);
    DELETE FROM _outpost.marks WHERE at < now() - retention AND xid < x;
  END IF;
  DELETE FROM _outpost.pushes WHERE at < now() - retention;
  RETURN n;
END
$mark$;
)sql";

}  // namespace

std::string CaptureFunctionSql(const ServerModel& model, const SyncedTable& t) {
  const std::string name = QuoteLiteral(t.name());
  std::string b;
  b += "DECLARE\n";
  b += "  v_xid xid8 := pg_current_xact_id();\n";
  b += "  v_hlc text := nullif(current_setting('outpost.hlc', true), '');\n";
  b += "  old_pk jsonb;\n  new_pk jsonb;\n  old_t text[];\n  new_t text[];\n";
  b += "  v_owners text[];\n  v_diff jsonb;\n  v_tenant text;\n";
  b += "BEGIN\n";
  b += "  IF v_hlc IS NULL THEN\n";
  b +=
      "    v_hlc := ((floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint) << 16)::text;\n";
  b += "  END IF;\n";
  b += "  IF TG_OP <> 'INSERT' THEN\n";
  b += "    old_pk := " + model.PkJsonExpression(t, "OLD") + ";\n";
  b += "    old_t := " + model.TenantsExpression(t, "OLD") + ";\n";
  b += "  END IF;\n";
  b += "  IF TG_OP <> 'DELETE' THEN\n";
  b += "    new_pk := " + model.PkJsonExpression(t, "NEW") + ";\n";
  b += "    new_t := " + model.TenantsExpression(t, "NEW") + ";\n";
  b += "  END IF;\n";
  b += "  v_owners := ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN " + model.OwnerExpression(t, "OLD") +
       " END, CASE WHEN TG_OP <> 'DELETE' THEN " + model.OwnerExpression(t, "NEW") + " END];\n";
  // One change row per distinct tenant of OLD and NEW; for a key change, both keys.
  b += "  FOR v_tenant IN SELECT DISTINCT u FROM unnest(coalesce(old_t, '{}'::text[]) || "
       "coalesce(new_t, '{}'::text[])) u WHERE u IS NOT NULL LOOP\n";
  b += "    IF old_pk IS NOT NULL THEN\n";
  b += "      INSERT INTO _outpost.changes (xid, tbl, pk, tenant, owners) VALUES (v_xid, " + name +
       ", old_pk, v_tenant, v_owners);\n";
  b += "    END IF;\n";
  b += "    IF new_pk IS NOT NULL AND new_pk IS DISTINCT FROM old_pk THEN\n";
  b += "      INSERT INTO _outpost.changes (xid, tbl, pk, tenant, owners) VALUES (v_xid, " + name +
       ", new_pk, v_tenant, v_owners);\n";
  b += "    END IF;\n";
  b += "    PERFORM pg_notify('outpost_changes', v_tenant);\n";
  b += "  END LOOP;\n";
  // Column clocks.
  b += "  IF TG_OP = 'INSERT' THEN\n";
  b += "    INSERT INTO _outpost.clocks (tbl, pk, clocks) VALUES (" + name +
       ", new_pk, jsonb_build_object('*', v_hlc))\n";
  b += "      ON CONFLICT (tbl, pk) DO UPDATE SET clocks = EXCLUDED.clocks;\n";
  b += "  ELSIF TG_OP = 'UPDATE' THEN\n";
  b += "    SELECT jsonb_object_agg(n.key, v_hlc) INTO v_diff FROM jsonb_each(to_jsonb(NEW)) n\n";
  b += "      WHERE n.value IS DISTINCT FROM (to_jsonb(OLD) -> n.key);\n";
  b += "    IF new_pk IS DISTINCT FROM old_pk THEN\n";
  b += "      WITH gone AS (DELETE FROM _outpost.clocks WHERE tbl = " + name +
       " AND pk = old_pk RETURNING clocks)\n";
  b += "      INSERT INTO _outpost.clocks (tbl, pk, clocks)\n";
  b += "        SELECT " + name +
       ", new_pk, coalesce((SELECT clocks FROM gone), '{}'::jsonb) || coalesce(v_diff, "
       "'{}'::jsonb)\n";
  b += "      ON CONFLICT (tbl, pk) DO UPDATE SET clocks = EXCLUDED.clocks;\n";
  b += "    ELSIF v_diff IS NOT NULL THEN\n";
  b += "      INSERT INTO _outpost.clocks AS c (tbl, pk, clocks) VALUES (" + name +
       ", new_pk, v_diff)\n";
  b += "        ON CONFLICT (tbl, pk) DO UPDATE SET clocks = c.clocks || EXCLUDED.clocks;\n";
  b += "    END IF;\n";
  b += "  ELSE\n";
  b += "    DELETE FROM _outpost.clocks WHERE tbl = " + name + " AND pk = old_pk;\n";
  b += "  END IF;\n";
  // Rows of referenced_by dependents (and their via-children) whose scope this row decides.
  for (const auto& link : model.ReferencedByLinks(t)) {
    const SyncedTable& d = *link.dependent;
    std::string rc = QuoteIdent(link.r_column);
    b += "  IF TG_OP <> 'UPDATE' OR OLD." + rc + " IS DISTINCT FROM NEW." + rc +
         " OR old_t IS DISTINCT FROM new_t THEN\n";
    LogRowsOfBothSides(model, d, link.t_column, rc, &b);
    b += "  END IF;\n";
  }
  // Rows of `via` children take their tenant from this row: when it moves to another tenant they
  // move with it, and are logged for the old tenants (who lose them) and the new ones (who get
  // them), with their own via-children.
  const auto via_children = ViaChildren(model, t);
  if (!via_children.empty()) {
    b += "  IF TG_OP = 'UPDATE' AND old_t IS DISTINCT FROM new_t THEN\n";
    for (const auto& vc : via_children) {
      LogRowsOfBothSides(model, *vc.child, vc.child_column, QuoteIdent(vc.parent_column), &b);
    }
    b += "  END IF;\n";
  }
  b += "  RETURN NULL;\n";
  b += "END\n";
  std::string tag = DollarTag(b);
  return "CREATE OR REPLACE FUNCTION " + FunctionName(t) +
         "() RETURNS trigger LANGUAGE plpgsql AS " + tag + "\n" + b + tag;
}

std::string CascadeFunctionSql(const ServerModel& model, const SyncedTable& t) {
  const auto via_children = ViaChildren(model, t);
  if (via_children.empty()) return "";
  std::string b;
  b += "DECLARE\n";
  b += "  v_xid xid8 := pg_current_xact_id();\n";
  b += "  old_t text[];\n";
  b += "BEGIN\n";
  b += "  old_t := " + model.TenantsExpression(t, "OLD") + ";\n";
  b += "  IF old_t IS NOT NULL THEN\n";
  for (const auto& vc : via_children) {
    LogReached(model, *vc.child, "d0", vc.child->qname + " d0",
               Col("d0", vc.child_column) + " = OLD." + QuoteIdent(vc.parent_column), "old_t", 0,
               &b);
  }
  b += "  END IF;\n";
  b += "  RETURN OLD;\n";
  b += "END\n";
  std::string tag = DollarTag(b);
  return "CREATE OR REPLACE FUNCTION " + FunctionName(t, "cascade_") +
         "() RETURNS trigger LANGUAGE plpgsql AS " + tag + "\n" + b + tag;
}

namespace {

// One attempt of Install. `sqlstate` gets the SQLSTATE of a failed script statement.
Status InstallOnce(PgConnection& conn, const ServerModel& model, std::string* sqlstate) {
  OUTPOST_RETURN_IF_ERROR(conn.Exec("BEGIN").status());
  auto fail = [&](Status s) {
    (void)conn.Exec("ROLLBACK");
    return s.WithContext("installing change capture");
  };
  auto lock = conn.Exec("SELECT pg_advisory_xact_lock(" + std::to_string(kInstallLockKey) + ")");
  if (!lock.ok()) return fail(lock.status());
  // The statements below are fixed text or built from catalog identifiers (QuoteIdent) and
  // literals of catalog names (QuoteLiteral); they run as scripts because PQexecParams takes one
  // statement at a time.
  auto exec_script = [&](const std::string& sql) -> Status {
    Status s = conn.ExecScript(sql);
    if (!s.ok()) *sqlstate = conn.last_sqlstate();
    return s;
  };
  Status st = exec_script(kStateSql);
  if (!st.ok()) return fail(st);
  std::set<std::string> synced;
  for (const auto& t : model.tables()) {
    synced.insert(t.name());
    st = exec_script(CaptureFunctionSql(model, t));
    if (!st.ok()) return fail(st.WithContext(t.name()));
    st = exec_script(
        "CREATE OR REPLACE TRIGGER _outpost_capture AFTER INSERT OR UPDATE OR DELETE ON " +
        t.qname + " FOR EACH ROW EXECUTE FUNCTION " + FunctionName(t) + "()");
    if (!st.ok()) return fail(st.WithContext(t.name()));
    // Via-children find their tenant through this row: once an ON DELETE action has removed them
    // with it, their own capture finds none. Logged before the delete, while they can.
    const std::string cascade = CascadeFunctionSql(model, t);
    if (!cascade.empty()) {
      st = exec_script(cascade);
      if (!st.ok()) return fail(st.WithContext(t.name()));
      st = exec_script("CREATE OR REPLACE TRIGGER _outpost_cascade BEFORE DELETE ON " + t.qname +
                       " FOR EACH ROW EXECUTE FUNCTION " + FunctionName(t, "cascade_") + "()");
    } else {
      // Quietly: PostgreSQL would log a notice per table at every start otherwise.
      st = exec_script("SET LOCAL client_min_messages = warning; DROP TRIGGER IF EXISTS "
                       "_outpost_cascade ON " + t.qname);
    }
    if (!st.ok()) return fail(st.WithContext(t.name()));
    st = exec_script("CREATE OR REPLACE TRIGGER _outpost_truncate AFTER TRUNCATE ON " + t.qname +
                     " FOR EACH STATEMENT EXECUTE FUNCTION _outpost.capture_truncate()");
    if (!st.ok()) return fail(st.WithContext(t.name()));
    // The partitions of a partitioned table inherit its row trigger (PostgreSQL clones it, also
    // onto partitions created later) but not its TRUNCATE trigger: each partition existing now
    // gets its own, naming the synced table. (A partition attached later gets one when the server
    // next starts; docs/server.md.)
    auto parts = conn.Exec(
        "SELECT quote_ident(n.nspname) || '.' || quote_ident(c.relname)"
        " FROM pg_partition_tree($1::regclass) p JOIN pg_class c ON c.oid = p.relid"
        " JOIN pg_namespace n ON n.oid = c.relnamespace WHERE p.level > 0",
        {t.qname});
    if (!parts.ok()) return fail(parts.status().WithContext(t.name()));
    for (int i = 0; i < parts->rows(); ++i) {
      st = exec_script("CREATE OR REPLACE TRIGGER _outpost_truncate AFTER TRUNCATE ON " +
                       std::string(parts->get(i, 0)) +
                       " FOR EACH STATEMENT EXECUTE FUNCTION _outpost.capture_truncate(" +
                       QuoteLiteral(t.name()) + ")");
      if (!st.ok()) return fail(st.WithContext(t.name()));
    }
  }
  // Triggers left on tables that the rules no longer sync: ours (not the clones PostgreSQL puts
  // on partitions, which go with their parent's), on tables whose partition root is not synced.
  auto stale = conn.Exec(
      "SELECT c.relname, r.relname FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid"
      " JOIN pg_namespace n ON n.oid = c.relnamespace"
      " JOIN pg_class r ON r.oid = coalesce(pg_partition_root(c.oid), c.oid)"
      " WHERE g.tgname IN ('_outpost_capture', '_outpost_truncate', '_outpost_cascade')"
      " AND g.tgparentid = 0"
      " AND n.nspname = $1",
      {model.pg_schema()});
  if (!stale.ok()) return fail(stale.status());
  for (int i = 0; i < stale->rows(); ++i) {
    std::string rel(stale->get(i, 0));
    if (synced.count(std::string(stale->get(i, 1)))) continue;
    for (const char* trigger : {"_outpost_capture", "_outpost_truncate", "_outpost_cascade"}) {
      st = exec_script(std::string("DROP TRIGGER IF EXISTS ") + trigger + " ON " +
                       QuoteIdent(model.pg_schema()) + "." + QuoteIdent(rel));
      if (!st.ok()) return fail(st);
    }
  }
  auto commit = conn.Exec("COMMIT");
  if (!commit.ok()) return fail(commit.status());
  return Status::Ok();
}

}  // namespace

Status Install(PgConnection& conn, const ServerModel& model) {
  // Install locks `_outpost.changes` (CREATE INDEX IF NOT EXISTS) and then every synced table
  // (CREATE TRIGGER); an application write takes its table's lock and then, from the row
  // trigger, `_outpost.changes`'s (a TRUNCATE too, from its statement trigger). PostgreSQL breaks
  // such a deadlock by failing one side; when that is Install, it starts again.
  constexpr int kAttempts = 5;
  Status s;
  for (int attempt = 1; attempt <= kAttempts; ++attempt) {
    std::string sqlstate;
    s = InstallOnce(conn, model, &sqlstate);
    if (s.ok() || (sqlstate != "40P01" && sqlstate != "40001")) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(50 * attempt));
  }
  return s;
}

}  // namespace outpost::server
