#include "model.h"

#include <algorithm>

#include "outpost/value.h"
#include "rules.h"

namespace outpost::server {

namespace {

constexpr int kMaxScopeDepth = 8;  // via/referenced_by chains longer than this are refused

const ForeignKey* SingleColumnFk(const Table& table, std::string_view column) {
  for (const auto& fk : table.foreign_keys) {
    if (fk.columns.size() == 1 && fk.columns[0] == column && fk.ref_columns.size() == 1) {
      return &fk;
    }
  }
  return nullptr;
}

std::string Col(std::string_view alias, std::string_view column) {
  return std::string(alias) + "." + QuoteIdent(column);
}

}  // namespace

std::string AddParam(PgParams* params, std::optional<std::string> value) {
  params->push_back(std::move(value));
  return "$" + std::to_string(params->size());
}

Result<std::unique_ptr<ServerModel>> ServerModel::Build(const Schema& described,
                                                        const SyncRules& rules,
                                                        std::string pg_schema) {
  std::vector<std::string> dropped;
  OUTPOST_ASSIGN_OR_RETURN(Schema view, ApplySyncRules(described, rules, &dropped));
  std::unique_ptr<ServerModel> m(new ServerModel());
  m->full_ = described;
  m->view_ = std::move(view);
  m->view_json_ = SchemaToJson(m->view_);
  m->version_ = SchemaVersion(m->view_);
  m->pg_schema_ = std::move(pg_schema);
  for (const auto& t : m->view_.tables) {
    SyncedTable st;
    st.view = &t;
    st.full = m->full_.FindTable(t.name);
    if (!st.full) return Status(Code::kInternal, "view table " + t.name + " not described");
    st.qname = QuoteIdent(m->pg_schema_) + "." + QuoteIdent(t.name);
    st.index = m->tables_.size();
    m->tables_.push_back(std::move(st));
    ScopeKind k = t.sync.scope.kind;
    if (k != ScopeKind::kGlobal && k != ScopeKind::kAll) m->has_tenant_scope_ = true;
  }
  // Check that every scope chain resolves (and is not circular) once, here, so that the
  // generators below cannot fail later.
  for (const auto& st : m->tables_) {
    std::string probe = m->TenantsExpr(st, "NEW", 0);
    if (probe.empty()) {
      return Status(Code::kMalformedDescriptor,
                    "rules for \"" + st.name() + "\": scope chain does not resolve to a tenant " +
                        "within " + std::to_string(kMaxScopeDepth) + " steps");
    }
  }
  return m;
}

const SyncedTable* ServerModel::Find(std::string_view name) const {
  for (const auto& t : tables_) {
    if (t.name() == name) return &t;
  }
  return nullptr;
}

bool ServerModel::Filtered(const SyncedTable& table, const Principal& who) const {
  const auto& f = table.rule().filter;
  if (!f) return false;
  return std::find(f->roles.begin(), f->roles.end(), who.role) != f->roles.end();
}

const std::string& ServerModel::PgType(const SyncedTable& table, std::string_view column) const {
  static const std::string kText = "text";
  const Column* c = table.full->FindColumn(column);
  return c ? c->type.pg_type : kText;
}

Result<std::string> ServerModel::TenantPredicate(const SyncedTable& table, std::string_view alias,
                                                 const Principal& who, PgParams* params, int depth,
                                                 const ScopeExclusion* exclude) const {
  if (depth > kMaxScopeDepth) {
    return Status(Code::kInternal, "scope chain of " + table.name() + " is too deep");
  }
  const Scope& s = table.rule().scope;
  switch (s.kind) {
    case ScopeKind::kGlobal:
    case ScopeKind::kAll: return std::string("TRUE");
    case ScopeKind::kTenantColumn:
    case ScopeKind::kTenantKey:
      // Compare in the column's own type so that its index is usable.
      return Col(alias, s.column) + " = " + AddParam(params, who.tenant) +
             "::" + PgType(table, s.column);
    case ScopeKind::kVia: {
      const ForeignKey* fk = SingleColumnFk(*table.full, s.column);
      const SyncedTable* parent = fk ? Find(fk->ref_table) : nullptr;
      if (!parent) return Status(Code::kInternal, "via scope of " + table.name() + " unresolved");
      std::string a = "s" + std::to_string(depth + 1);
      OUTPOST_ASSIGN_OR_RETURN(std::string inner,
                               TenantPredicate(*parent, a, who, params, depth + 1, exclude));
      return "EXISTS (SELECT 1 FROM " + parent->qname + " " + a + " WHERE " +
             Col(a, fk->ref_columns[0]) + " = " + Col(alias, s.column) + " AND " + inner + ")";
    }
    case ScopeKind::kReferencedBy: {
      const SyncedTable* r = Find(s.ref_table);
      if (!r) return Status(Code::kInternal, "referenced_by scope of " + table.name());
      const ForeignKey* fk = SingleColumnFk(*r->full, s.ref_column);
      std::string t_col = fk ? fk->ref_columns[0] : table.view->primary_key[0];
      std::string a = "s" + std::to_string(depth + 1);
      OUTPOST_ASSIGN_OR_RETURN(std::string inner,
                               TenantPredicate(*r, a, who, params, depth + 1, exclude));
      if (exclude && exclude->table == r) {
        inner += " AND NOT " + PkMatchExpression(*r, a, exclude->pk_param);
      }
      return "EXISTS (SELECT 1 FROM " + r->qname + " " + a + " WHERE " + Col(a, s.ref_column) +
             " = " + Col(alias, t_col) + " AND " + inner + ")";
    }
  }
  return Status(Code::kInternal, "unknown scope kind");
}

Result<std::string> ServerModel::ScopePredicate(const SyncedTable& table, std::string_view alias,
                                                const Principal& who, PgParams* params,
                                                const ScopeExclusion* exclude) const {
  OUTPOST_ASSIGN_OR_RETURN(std::string pred,
                           TenantPredicate(table, alias, who, params, 0, exclude));
  if (Filtered(table, who)) {
    const RowFilter& f = *table.rule().filter;
    auto claim = who.claims.find(f.claim);
    if (claim == who.claims.end() || claim->is_null() || claim->is_structured()) {
      return Status(Code::kPermissionDenied, "the token has no \"" + f.claim +
                                                 "\" claim, which the row filter of \"" +
                                                 table.name() + "\" needs");
    }
    std::string value = claim->is_string() ? claim->get<std::string>() : claim->dump();
    pred += " AND " + Col(alias, f.column) + " = " + AddParam(params, value) +
            "::" + PgType(table, f.column);
  }
  return pred;
}

std::string ServerModel::TenantsExpr(const SyncedTable& table, std::string_view rowref,
                                     int depth) const {
  if (depth > kMaxScopeDepth) return "";
  const Scope& s = table.rule().scope;
  switch (s.kind) {
    case ScopeKind::kGlobal:
    case ScopeKind::kAll: return "ARRAY['*']::text[]";
    case ScopeKind::kTenantColumn:
    case ScopeKind::kTenantKey: return "ARRAY[" + Col(rowref, s.column) + "::text]";
    case ScopeKind::kVia: {
      const ForeignKey* fk = SingleColumnFk(*table.full, s.column);
      const SyncedTable* parent = fk ? Find(fk->ref_table) : nullptr;
      if (!parent) return "";
      std::string a = "t" + std::to_string(depth + 1);
      std::string inner = TenantsExpr(*parent, a, depth + 1);
      if (inner.empty()) return "";
      return "(SELECT " + inner + " FROM " + parent->qname + " " + a + " WHERE " +
             Col(a, fk->ref_columns[0]) + " = " + Col(rowref, s.column) + " LIMIT 1)";
    }
    case ScopeKind::kReferencedBy: {
      const SyncedTable* r = Find(s.ref_table);
      if (!r) return "";
      const ForeignKey* fk = SingleColumnFk(*r->full, s.ref_column);
      std::string t_col = fk ? fk->ref_columns[0] : table.view->primary_key[0];
      std::string a = "t" + std::to_string(depth + 1);
      std::string inner = TenantsExpr(*r, a, depth + 1);
      if (inner.empty()) return "";
      std::string x = "x" + std::to_string(depth + 1);
      return "(SELECT array_agg(DISTINCT " + x + ") FROM " + r->qname + " " + a + ", unnest(" +
             inner + ") " + x + " WHERE " + Col(a, s.ref_column) + " = " + Col(rowref, t_col) + ")";
    }
  }
  return "";
}

std::string ServerModel::TenantsExpression(const SyncedTable& table,
                                           std::string_view rowref) const {
  return TenantsExpr(table, rowref, 0);
}

std::string ServerModel::OwnerExpression(const SyncedTable& table, std::string_view rowref) const {
  const auto& f = table.rule().filter;
  if (!f) return "NULL::text";
  return Col(rowref, f->column) + "::text";
}

std::string ServerModel::PkJsonExpression(const SyncedTable& table, std::string_view rowref) const {
  std::string out = "jsonb_build_array(";
  for (size_t i = 0; i < table.view->primary_key.size(); ++i) {
    if (i) out += ", ";
    out += Col(rowref, table.view->primary_key[i]) + "::text";
  }
  return out + ")";
}

std::string ServerModel::PkMatchExpression(const SyncedTable& table, std::string_view alias,
                                           std::string_view pk_param) const {
  std::string lhs = "(", rhs = "(";
  const auto& pk = table.view->primary_key;
  for (size_t i = 0; i < pk.size(); ++i) {
    if (i) {
      lhs += ", ";
      rhs += ", ";
    }
    lhs += Col(alias, pk[i]);
    rhs += "(" + std::string(pk_param) + "->>" + std::to_string(i) + ")::" + PgType(table, pk[i]);
  }
  return lhs + ") = " + rhs + ")";
}

std::vector<ReferencedByLink> ServerModel::ReferencedByLinks(const SyncedTable& r_table) const {
  std::vector<ReferencedByLink> out;
  for (const auto& t : tables_) {
    const Scope& s = t.rule().scope;
    if (s.kind != ScopeKind::kReferencedBy || s.ref_table != r_table.name()) continue;
    const ForeignKey* fk = SingleColumnFk(*r_table.full, s.ref_column);
    out.push_back(
        ReferencedByLink{&t, s.ref_column, fk ? fk->ref_columns[0] : t.view->primary_key[0]});
  }
  return out;
}

Result<std::string> ServerModel::PkParam(const SyncedTable& t, const nlohmann::json& pk,
                                         PgParams* params) const {
  nlohmann::json texts = nlohmann::json::array();
  const auto& key = t.view->primary_key;
  for (size_t i = 0; i < key.size(); ++i) {
    OUTPOST_ASSIGN_OR_RETURN(auto text, JsonToPgText(t.view->FindColumn(key[i])->type, pk[i]));
    texts.push_back(text ? nlohmann::json(*text) : nlohmann::json(nullptr));
  }
  return "(" + AddParam(params, texts.dump()) + "::jsonb)";
}

}  // namespace outpost::server
