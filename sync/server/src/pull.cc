#include "pull.h"

#include <charconv>
#include <unordered_set>

#include "rows.h"

namespace outpost::server {

namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

using protocol::kMaxPagesPerAnswer;

// `total`: the estimated rows of the whole bootstrap (first cursor line of a bootstrap).
void AppendCursorLine(const Cursor& c, bool bootstrap, bool more, std::string* out,
                      std::optional<double> total = std::nullopt) {
  std::optional<uint64_t> rows;
  if (total) rows = static_cast<uint64_t>(*total);
  protocol::AppendCursorLine(EncodeCursor(c), bootstrap, more, rows, out);
}

void AppendRowsLineStart(const SyncedTable& t, std::string* out) {
  protocol::AppendRowsLineStart(t.name(), ViewColumnsJson(t), out);
}

// The claim value a row filter compares with (as ScopePredicate does), or nullopt.
std::optional<std::string> ClaimText(const Principal& who, const std::string& claim) {
  auto it = who.claims.find(claim);
  if (it == who.claims.end() || it->is_null() || it->is_structured()) return std::nullopt;
  return it->is_string() ? it->get<std::string>() : it->dump();
}

// Positions of the primary key columns among the view columns.
std::vector<int> KeyPositions(const SyncedTable& t) {
  std::vector<int> out;
  for (const auto& k : t.view->primary_key) {
    for (size_t i = 0; i < t.view->columns.size(); ++i) {
      if (t.view->columns[i].name == k) out.push_back(static_cast<int>(i));
    }
  }
  return out;
}

struct Snapshot {
  uint64_t xmin = 0, xmax = 0, horizon = 0;
};

// The current snapshot's xmin and xmax and the history horizon.
Result<Snapshot> ReadSnapshot(PgConnection& conn) {
  OUTPOST_ASSIGN_OR_RETURN(
      PgResult r,
      conn.Exec("SELECT pg_snapshot_xmin(s)::text, pg_snapshot_xmax(s)::text,"
                " (SELECT xid::text FROM _outpost.horizon) FROM pg_current_snapshot() s"));
  Snapshot s;
  s.xmin = std::stoull(std::string(r.get(0, 0)));
  s.xmax = std::stoull(std::string(r.get(0, 1)));
  s.horizon = r.is_null(0, 2) ? 0 : std::stoull(std::string(r.get(0, 2)));
  return s;
}

Status CheckCursorAge(const Cursor& c, const Snapshot& s) {
  if (c.w > s.xmax || (c.kind == Cursor::Kind::kWindow && c.end > s.xmax)) {
    return Status(Code::kInvalidCursor, "invalid cursor: watermark in the future");
  }
  if (c.w < s.horizon) {
    return Status(Code::kCursorExpired,
                  "the cursor is older than the change history kept: pull without a cursor");
  }
  return Status::Ok();
}

// ---------------------------------------------------------------------------------------------

// Reads every in-scope row of every table, table by table in model order, a page per Next().
// A table is read in one of two orders, chosen when its reading starts:
//  - by primary key (keyset pagination): small tables, partitioned tables and tenants that hold a
//    small share of a big table (an index finds their rows);
//  - in physical order, by ranges of heap blocks (TID range scans): a tenant holding a large share
//    of a big table, where following a random (uuid) key order would fetch heap pages at random,
//    several times over. A row keeps its ctid until it is changed (a change with xid >= w, which
//    the incremental pulls serve) or the relation is rewritten (VACUUM FULL, CLUSTER: a new
//    relation file, detected through the cursor's filenode; reading restarts at block 0, and rows
//    sent twice are harmless upserts).
class BootstrapStream : public PullStream {
 public:
  BootstrapStream(PgPool::Lease lease, const ServerModel& model, const Principal& who, size_t limit,
                  Cursor at, bool reset)
      : lease_(std::move(lease)),
        model_(model),
        who_(who),
        limit_(limit),
        at_(std::move(at)),
        reset_(reset) {}

  Result<bool> Next(std::string* out) override {
    std::optional<double> total;
    if (reset_) {
      protocol::AppendResetLine(out);
      reset_ = false;
      OUTPOST_ASSIGN_OR_RETURN(total, EstimateAll());
    }
    const auto& tables = model_.tables();
    while (true) {
      if (at_.table >= tables.size()) return Done(total, out);
      const SyncedTable& t = tables[at_.table];
      // Nothing else may run on the connection while a range sent ahead is in flight.
      OUTPOST_RETURN_IF_ERROR(SettleAhead());
      if (!at_.by_block) ahead_.reset();  // none is sent for keyset pages
      if (!at_.by_block && at_.key.is_null()) OUTPOST_RETURN_IF_ERROR(ChooseOrder(t));
      OUTPOST_ASSIGN_OR_RETURN(int64_t rows,
                               at_.by_block ? PhysicalPage(t, out) : KeysetPage(t, out));
      if (rows == 0) continue;  // the table is done (NextTable moved on)
      ++pages_;
      if (at_.table >= tables.size()) return Done(total, out);
      bool more = pages_ >= kMaxPagesPerAnswer;
      AppendCursorLine(at_, true, more, out, total);
      return !more;
    }
  }

 private:
  static constexpr uint64_t kMaxBlocksPerPage = 1u << 20;
  static constexpr size_t kSubPageRows = 4096;
  // MaxHeapTuplesPerPage for 8 KiB blocks: the densest a heap block can be.
  static constexpr double kMaxRowsPerBlock = 291;
  static constexpr double kMinRowsForPhysicalOrder = 20000;
  static constexpr double kMinShareForPhysicalOrder = 0.05;

  // The last cursor line: the bootstrap is complete, incremental pulls start at its watermark.
  Result<bool> Done(std::optional<double> total, std::string* out) {
    Cursor done;
    done.w = at_.w;
    AppendCursorLine(done, false, false, out, total);
    return false;
  }

  // The estimated rows of the whole bootstrap (for the first cursor line's "total").
  Result<double> EstimateAll() {
    double sum = 0;
    for (const auto& t : model_.tables()) {
      OUTPOST_ASSIGN_OR_RETURN(double est, Estimate(t));
      sum += est;
    }
    return sum;
  }

  // One page of table `t` in physical order (about `limit_` rows, read in sub-ranges of about
  // kSubPageRows rows so that no result is large: libpq holds a whole result in memory). Each
  // range's query is sent before the previous range is encoded (and sent to the client), so
  // PostgreSQL reads the next range meanwhile; the last one of a page is read while the page
  // goes out. Returns the rows appended; 0 when the table is done (then at_ is on the next one).
  Result<int64_t> PhysicalPage(const SyncedTable& t, std::string* out) {
    OUTPOST_ASSIGN_OR_RETURN(Relation rel, ReadRelation(t));
    if (rel.filenode != at_.filenode) {  // rewritten since: start over
      at_.filenode = rel.filenode;
      at_.block = 0;
      ahead_.reset();
    }
    if (at_.block >= rel.blocks) {
      ahead_.reset();
      NextTable();
      return 0;
    }
    if (density_ < 0) {
      OUTPOST_ASSIGN_OR_RETURN(double est, Estimate(t));
      density_ = est / static_cast<double>(rel.blocks);
    }
    int64_t n = 0;
    size_t page_rows = 0;
    while (page_rows < limit_ && at_.block < rel.blocks) {
      if (!ahead_ || ahead_->table != at_.table || ahead_->lo != at_.block) {
        OUTPOST_RETURN_IF_ERROR(SettleAhead());
        ahead_.reset();
        OUTPOST_RETURN_IF_ERROR(SendRange(t, rel, limit_ - page_rows));
      }
      OUTPOST_RETURN_IF_ERROR(SettleAhead());
      Ahead range = std::move(*ahead_);
      ahead_.reset();
      const PgResult& page = *range.result;
      const int got = page.rows();
      const double used = static_cast<double>(range.hi - at_.block);
      // Follow the observed density; after an empty range, try one 4x larger.
      density_ = got > 0 ? got / used : density_ / 4;
      at_.block = range.hi;
      page_rows += static_cast<size_t>(got);
      // Ahead into the next page only if this answer has one (a query left in flight when the
      // answer ends would cost the connection).
      if (at_.block < rel.blocks && (page_rows < limit_ || pages_ + 1 < kMaxPagesPerAnswer)) {
        OUTPOST_RETURN_IF_ERROR(
            SendRange(t, rel, page_rows < limit_ ? limit_ - page_rows : limit_));
      }
      if (got == 0) continue;
      AppendRowsLineStart(t, out);
      OUTPOST_RETURN_IF_ERROR(AppendRowsJson(t, page, 0, out, flush()));
      protocol::AppendArrayLineEnd(out);
      n += got;
    }
    if (n == 0 || at_.block >= rel.blocks) NextTable();
    return n;
  }

  // One page of table `t` by primary key, after the cursor's key. Returns the rows appended; 0
  // when the table is done (then at_ is on the next one).
  Result<int64_t> KeysetPage(const SyncedTable& t, std::string* out) {
    PgParams params;
    OUTPOST_ASSIGN_OR_RETURN(std::string scope, model_.ScopePredicate(t, "t", who_, &params));
    std::string where = scope, order;
    std::string lhs = "(", rhs = "(";
    const auto& pk = t.view->primary_key;
    for (size_t i = 0; i < pk.size(); ++i) {
      std::string sep = i ? ", " : "";
      order += sep + "t." + QuoteIdent(pk[i]);
      lhs += sep + "t." + QuoteIdent(pk[i]);
      if (!at_.key.is_null()) {
        rhs +=
            sep + AddParam(&params, at_.key[i].get<std::string>()) + "::" + model_.PgType(t, pk[i]);
      }
    }
    if (!at_.key.is_null()) where += " AND " + lhs + ") > " + rhs + ")";
    const RowFormat format = RowFormatFor(t);
    std::string sql = "SELECT " + ViewColumnsSql(t, "t", format) + " FROM " + t.qname +
                      " t WHERE " + where + " ORDER BY " + order + " LIMIT " +
                      AddParam(&params, std::to_string(limit_));
    auto page = lease_->ExecCached(sql, params, ResultFormatOf(format));
    if (!page.ok()) {
      if (lease_->last_sqlstate().rfind("22", 0) == 0) {
        return Status(Code::kInvalidCursor, "invalid cursor: key does not fit the table");
      }
      return page.status();
    }
    const int n = page->rows();
    if (n == 0) {
      NextTable();
      return 0;
    }
    AppendRowsLineStart(t, out);
    OUTPOST_RETURN_IF_ERROR(AppendRowsJson(t, *page, 0, out, flush()));
    protocol::AppendArrayLineEnd(out);
    if (static_cast<size_t>(n) < limit_) {
      NextTable();
      return n;
    }
    json key = json::array();
    std::string text;
    for (int pos : KeyPositions(t)) {
      OUTPOST_RETURN_IF_ERROR(
          PgValueText(t.view->columns[static_cast<size_t>(pos)].type, *page, n - 1, pos, &text));
      key.push_back(text);
    }
    at_.key = std::move(key);
    return n;
  }

  struct Relation {
    std::string kind;
    double tuples = 0;
    uint64_t filenode = 0;
    uint64_t blocks = 0;
  };

  // A block range whose query was sent ahead (PgConnection::SendCached); `result` once received.
  struct Ahead {
    size_t table = 0;
    uint64_t lo = 0, hi = 0;
    std::optional<PgResult> result;
  };

  // Sends the query for the range of table `t` starting at at_.block, sized to bring about
  // min(`rows_wanted`, kSubPageRows) rows at the density observed so far.
  Status SendRange(const SyncedTable& t, const Relation& rel, size_t rows_wanted) {
    double target = static_cast<double>(std::min(rows_wanted, kSubPageRows));
    uint64_t want = static_cast<uint64_t>(target / std::max(density_, 1e-6));
    // However sparse the tenant's rows were so far, a range never spans more blocks than twice
    // the target would fill were every row in scope: a tenant's rows often sit together (loaded
    // together), and a range grown over the other tenants' blocks would otherwise take all of
    // them in one result (held whole by libpq, sent as one line).
    const double all_rows_per_block =
        rel.tuples > 0 ? rel.tuples / static_cast<double>(rel.blocks) : kMaxRowsPerBlock;
    const uint64_t cap = static_cast<uint64_t>(2 * target / std::max(all_rows_per_block, 1.0));
    want = std::clamp<uint64_t>(want, 1, std::clamp<uint64_t>(cap, 1, kMaxBlocksPerPage));
    Ahead range;
    range.table = at_.table;
    range.lo = at_.block;
    range.hi = std::min<uint64_t>(rel.blocks, at_.block + want);
    PgParams params;
    OUTPOST_ASSIGN_OR_RETURN(std::string scope, model_.ScopePredicate(t, "t", who_, &params));
    std::string lo_p = AddParam(&params, "(" + std::to_string(range.lo) + ",0)");
    std::string hi_p = AddParam(&params, "(" + std::to_string(range.hi) + ",0)");
    const RowFormat format = RowFormatFor(t);
    std::string sql = "SELECT " + ViewColumnsSql(t, "t", format) + " FROM " + t.qname +
                      " t WHERE t.ctid >= " + lo_p + "::tid AND t.ctid < " + hi_p + "::tid AND " +
                      scope;
    OUTPOST_RETURN_IF_ERROR(lease_->SendCached(sql, params, ResultFormatOf(format)));
    ahead_ = std::move(range);
    return Status::Ok();
  }

  // Receives the result of the range sent ahead, if one is in flight.
  Status SettleAhead() {
    if (!ahead_ || ahead_->result) return Status::Ok();
    Result<PgResult> r = lease_->Receive();
    if (!r.ok()) {
      ahead_.reset();
      return r.status();
    }
    ahead_->result = std::move(r).value();
    return Status::Ok();
  }

  void NextTable() {
    ++at_.table;
    at_.key = nullptr;
    at_.by_block = false;
    at_.block = 0;
    at_.filenode = 0;
  }

  Result<Relation> ReadRelation(const SyncedTable& t) {
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult r, lease_->ExecCached(
                        "SELECT c.relkind::text, c.reltuples::float8::text,"
                        " coalesce(pg_relation_filenode(c.oid), 0)::text,"
                        " (pg_relation_size(c.oid) / current_setting('block_size')::bigint)::text"
                        " FROM pg_class c WHERE c.oid = $1::regclass",
                        {t.qname}));
    if (r.rows() != 1) return Status(Code::kInternal, "table " + t.name() + " not in pg_class");
    Relation rel;
    rel.kind = std::string(r.get(0, 0));
    rel.tuples = std::stod(std::string(r.get(0, 1)));
    rel.filenode = std::stoull(std::string(r.get(0, 2)));
    rel.blocks = std::stoull(std::string(r.get(0, 3)));
    return rel;
  }

  // The planner's estimate of the rows of `t` in scope.
  Result<double> Estimate(const SyncedTable& t) {
    PgParams params;
    OUTPOST_ASSIGN_OR_RETURN(std::string scope, model_.ScopePredicate(t, "t", who_, &params));
    OUTPOST_ASSIGN_OR_RETURN(PgResult r, lease_->Exec("EXPLAIN (FORMAT JSON) SELECT 1 FROM " +
                                                          t.qname + " t WHERE " + scope,
                                                      params));
    json plan = json::parse(r.get(0, 0), nullptr, false);
    if (plan.is_array() && !plan.empty() && plan[0].contains("Plan") &&
        plan[0]["Plan"].contains("Plan Rows") && plan[0]["Plan"]["Plan Rows"].is_number()) {
      return plan[0]["Plan"]["Plan Rows"].get<double>();
    }
    return 0.0;
  }

  Status ChooseOrder(const SyncedTable& t) {
    OUTPOST_ASSIGN_OR_RETURN(Relation rel, ReadRelation(t));
    if (rel.kind != "r" || rel.blocks == 0 || rel.tuples < kMinRowsForPhysicalOrder) {
      return Status::Ok();
    }
    OUTPOST_ASSIGN_OR_RETURN(double est, Estimate(t));
    if (est < kMinRowsForPhysicalOrder || est < kMinShareForPhysicalOrder * rel.tuples) {
      return Status::Ok();
    }
    at_.by_block = true;
    at_.block = 0;
    at_.filenode = rel.filenode;
    density_ = est / static_cast<double>(rel.blocks);
    return Status::Ok();
  }

  PgPool::Lease lease_;
  const ServerModel& model_;
  const Principal who_;
  const size_t limit_;
  Cursor at_;  // kBootstrap
  bool reset_;
  int pages_ = 0;
  double density_ = -1;  // in-scope rows per heap block, as last observed (-1: not yet known)
  std::optional<Ahead> ahead_;  // at most one range query in flight
};

// ---------------------------------------------------------------------------------------------

constexpr const char* kChangesSql =
    "SELECT id::text, xid::text, tbl, pk::text, owners[1], owners[2] FROM ("
    "(SELECT id, xid, tbl, pk, owners FROM _outpost.changes WHERE tenant = $1"
    " AND (xid, id) > ($2::xid8, $3::bigint) AND xid < $4::xid8 ORDER BY xid, id LIMIT $5)"
    " UNION ALL "
    "(SELECT id, xid, tbl, pk, owners FROM _outpost.changes WHERE tenant = '*'"
    " AND (xid, id) > ($2::xid8, $3::bigint) AND xid < $4::xid8 ORDER BY xid, id LIMIT $5)"
    ") c ORDER BY xid, id LIMIT $5";

// Runs inside one REPEATABLE READ READ ONLY transaction (opened by StartPull) over the fixed
// window [w, end), in pages of changes ordered by (xid, id).
class IncrementalStream : public PullStream {
 public:
  IncrementalStream(PgPool::Lease lease, const ServerModel& model, const Principal& who,
                    size_t limit, Cursor at)
      : lease_(std::move(lease)), model_(model), who_(who), limit_(limit), at_(std::move(at)) {}

  Result<bool> Next(std::string* out) override {
    PgParams params = {who_.tenant.empty() ? std::nullopt : std::optional<std::string>(who_.tenant),
                       std::to_string(at_.last_xid), std::to_string(at_.last_id),
                       std::to_string(at_.end), std::to_string(limit_)};
    OUTPOST_ASSIGN_OR_RETURN(PgResult changes, lease_->ExecCached(kChangesSql, params));
    const auto& tables = model_.tables();
    struct Bucket {
      std::vector<std::string> pks;  // jsonb text of the keys, distinct
      std::unordered_set<std::string> seen;
    };
    std::vector<Bucket> buckets(tables.size());
    std::vector<std::optional<std::optional<std::string>>> claims(tables.size());
    const int n = changes.rows();
    for (int i = 0; i < n; ++i) {
      const SyncedTable* t = model_.Find(changes.get(i, 2));
      if (!t) continue;  // a table that is no longer synced
      if (model_.Filtered(*t, who_)) {
        auto& claim = claims[t->index];
        if (!claim) claim = ClaimText(who_, t->rule().filter->claim);
        bool owned = false;
        for (int col : {4, 5}) {
          owned = owned || (*claim && !changes.is_null(i, col) && changes.get(i, col) == **claim);
        }
        if (!owned) continue;  // neither had nor has the row in this user's scope
      }
      Bucket& b = buckets[t->index];
      std::string pk(changes.get(i, 3));
      if (pk == "null") continue;  // a TRUNCATE marker: StartPull checked the window for them
      if (b.seen.insert(pk).second) b.pks.push_back(std::move(pk));
    }
    // Current rows of each table: upserts (parents first) after deletions (children first).
    std::string upserts;
    for (size_t ti = 0; ti < tables.size(); ++ti) {
      const Bucket& b = buckets[ti];
      if (b.pks.empty()) continue;
      const SyncedTable& t = tables[ti];
      PgParams p;
      OUTPOST_ASSIGN_OR_RETURN(std::string sql, RowsByPkSql(model_, t, who_, &p));
      std::string keys = "[";
      for (size_t k = 0; k < b.pks.size(); ++k) {
        if (k) keys.push_back(',');
        keys += b.pks[k];
      }
      keys.push_back(']');
      p[0] = std::move(keys);
      OUTPOST_ASSIGN_OR_RETURN(PgResult rows, lease_->ExecCached(sql, p));
      std::vector<bool> found(b.pks.size(), false);
      for (int r = 0; r < rows.rows(); ++r) {
        size_t ord = std::stoull(std::string(rows.get(r, 0)));
        if (ord >= 1 && ord <= found.size()) found[ord - 1] = true;
      }
      if (rows.rows() > 0) {
        AppendRowsLineStart(t, &upserts);
        OUTPOST_RETURN_IF_ERROR(AppendRowsJson(t, rows, 1, &upserts));
        protocol::AppendArrayLineEnd(&upserts);
      }
      deletes_[ti].clear();
      for (size_t k = 0; k < found.size(); ++k) {
        if (found[k]) continue;
        json pk = json::parse(b.pks[k], nullptr, false);
        if (!deletes_[ti].empty()) deletes_[ti].push_back(',');
        OUTPOST_RETURN_IF_ERROR(AppendPkJson(t, pk, &deletes_[ti]));
      }
    }
    for (size_t ti = tables.size(); ti-- > 0;) {
      if (buckets[ti].pks.empty() || deletes_[ti].empty()) continue;
      protocol::AppendDeletesLineStart(tables[ti].name(), out);
      out->append(deletes_[ti]);
      protocol::AppendArrayLineEnd(out);
      deletes_[ti].clear();
    }
    out->append(upserts);
    ++pages_;
    if (static_cast<size_t>(n) < limit_) {
      OUTPOST_RETURN_IF_ERROR(lease_->Exec("COMMIT").status());
      Cursor done;
      done.w = at_.end;
      AppendCursorLine(done, false, false, out);
      return false;
    }
    at_.kind = Cursor::Kind::kWindow;
    at_.last_xid = std::stoull(std::string(changes.get(n - 1, 1)));
    at_.last_id = std::stoull(std::string(changes.get(n - 1, 0)));
    bool more = pages_ >= kMaxPagesPerAnswer;
    AppendCursorLine(at_, false, more, out);
    if (more) OUTPOST_RETURN_IF_ERROR(lease_->Exec("COMMIT").status());
    return !more;
  }

  void Init(size_t ntables) { deletes_.resize(ntables); }

 private:
  PgPool::Lease lease_;
  const ServerModel& model_;
  const Principal who_;
  const size_t limit_;
  Cursor at_;  // kWindow (or kIncremental before the first page: last = (w, 0))
  int pages_ = 0;
  std::vector<std::string> deletes_;
};

}  // namespace

Result<std::unique_ptr<PullStart>> PullStart::Begin(const ServerModel& model, const Principal& who,
                                                    const protocol::PullQuery& request,
                                                    Clock::time_point now) {
  if (request.schema != model.version()) {
    return Status(Code::kSchemaMismatch, "schema " + request.schema.substr(0, 80) +
                                             " is not the server's " + model.version() +
                                             ": fetch /v1/schema");
  }
  // Surface a missing claim of a row filter before anything is sent.
  for (const auto& t : model.tables()) {
    PgParams ignored;
    OUTPOST_RETURN_IF_ERROR(model.ScopePredicate(t, "t", who, &ignored).status());
  }
  std::unique_ptr<PullStart> start(new PullStart(model, who));
  start->limit_ = request.limit.value_or(protocol::kDefaultPullLimit);
  start->deadline_ = now + std::chrono::seconds(request.wait_seconds);
  if (request.cursor) {
    OUTPOST_ASSIGN_OR_RETURN(start->cursor_, DecodeCursor(*request.cursor, model));
  }
  return start;
}

bool PullStart::long_poll() const {
  return cursor_ && cursor_->kind == Cursor::Kind::kIncremental;
}

Result<std::unique_ptr<PullStream>> PullStart::Attempt(PgPool& pool, ChangeHub& hub, bool stopping,
                                                       Wait* wait) {
  if (!cursor_) {
    OUTPOST_ASSIGN_OR_RETURN(PgPool::Lease lease, pool.Acquire());
    OUTPOST_ASSIGN_OR_RETURN(Snapshot s, ReadSnapshot(*lease));
    Cursor at;
    at.kind = Cursor::Kind::kBootstrap;
    at.w = s.xmin;
    at.key = nullptr;
    return std::unique_ptr<PullStream>(
        new BootstrapStream(std::move(lease), model_, who_, limit_, at, true));
  }
  const Cursor& cursor = *cursor_;
  if (cursor.kind == Cursor::Kind::kBootstrap) {
    OUTPOST_ASSIGN_OR_RETURN(PgPool::Lease lease, pool.Acquire());
    OUTPOST_ASSIGN_OR_RETURN(Snapshot s, ReadSnapshot(*lease));
    OUTPOST_RETURN_IF_ERROR(CheckCursorAge(cursor, s));
    // A keyset position must be values of the table's key types: checked here, before the
    // answer's status line, so that a forged key is a clean 400 and not a broken stream.
    if (cursor.key.is_array() && cursor.table < model_.tables().size()) {
      const SyncedTable& t = model_.tables()[cursor.table];
      std::string sql = "SELECT ";
      PgParams params;
      for (size_t i = 0; i < t.view->primary_key.size() && i < cursor.key.size(); ++i) {
        sql += (i ? ", " : "") + AddParam(&params, cursor.key[i].get<std::string>()) +
               "::" + model_.PgType(t, t.view->primary_key[i]);
      }
      if (!params.empty() && !lease->Exec(sql, params).ok()) {
        return Status(Code::kInvalidCursor, "invalid cursor: key does not fit the table");
      }
    }
    return std::unique_ptr<PullStream>(
        new BootstrapStream(std::move(lease), model_, who_, limit_, cursor, false));
  }
  const std::string& tenant = who_.tenant;
  const uint64_t generation = hub.Generation(tenant);
  OUTPOST_ASSIGN_OR_RETURN(PgPool::Lease lease, pool.Acquire());
  OUTPOST_RETURN_IF_ERROR(lease->Exec("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY").status());
  OUTPOST_ASSIGN_OR_RETURN(Snapshot s, ReadSnapshot(*lease));
  OUTPOST_RETURN_IF_ERROR(CheckCursorAge(cursor, s));
  Cursor at = cursor;
  at.end = std::max(s.xmin, at.w);
  at.last_xid = at.w;
  at.last_id = 0;
  const auto now = Clock::now();
  bool waiting = now < deadline_ && !stopping;
  bool blocked = false;  // committed changes wait for the watermark to pass them
  if (waiting) {
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult any,
        lease->ExecCached("SELECT EXISTS (SELECT 1 FROM _outpost.changes WHERE tenant IN ($1, "
                          "'*') AND xid >= $2::xid8 AND xid < $3::xid8), EXISTS (SELECT 1 FROM "
                          "_outpost.changes WHERE tenant IN ($1, '*') AND xid >= $3::xid8)",
                          {tenant.empty() ? std::nullopt : std::optional<std::string>(tenant),
                           std::to_string(at.w), std::to_string(at.end)}));
    waiting = any.get(0, 0) != "t";
    blocked = any.get(0, 1) == "t";
  }
  if (!waiting) {
    // A synced table truncated inside the window (install.cc: one marker, no keys): the
    // client's rows of it cannot be told apart, so it bootstraps again.
    OUTPOST_ASSIGN_OR_RETURN(
        PgResult truncated,
        lease->ExecCached("SELECT tbl FROM _outpost.changes WHERE tenant = '*' AND xid >= "
                          "$1::xid8 AND xid < $2::xid8 AND pk = 'null'::jsonb",
                          {std::to_string(at.w), std::to_string(at.end)}));
    for (int i = 0; i < truncated.rows(); ++i) {
      if (!model_.Find(truncated.get(i, 0))) continue;  // no longer synced
      OUTPOST_RETURN_IF_ERROR(lease->Exec("ROLLBACK").status());
      return Status(Code::kCursorExpired, "table \"" + std::string(truncated.get(i, 0)) +
                                              "\" was truncated: pull without a cursor");
    }
    auto stream = std::make_unique<IncrementalStream>(std::move(lease), model_, who_, limit_, at);
    stream->Init(model_.tables().size());
    return std::unique_ptr<PullStream>(std::move(stream));
  }
  OUTPOST_RETURN_IF_ERROR(lease->Exec("ROLLBACK").status());
  // While committed changes sit above the watermark (an older transaction is still open), no
  // NOTIFY will announce the moment the watermark passes them: the hub watches the snapshot xmin
  // for all such waiters at once (and a second is the backstop).
  wait->generation = generation;
  wait->until = deadline_;
  wait->blocked = blocked;
  if (blocked) wait->until = std::min(deadline_, now + std::chrono::seconds(1));
  return std::unique_ptr<PullStream>();
}

}  // namespace outpost::server
