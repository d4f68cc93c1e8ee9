// The convergence harness's clients (scenario.h): NativeClient, what a Scenario records of their
// syncs, and the fault-injecting transport.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include "scenario.h"

namespace outpost::convergence {

NativeClient::NativeClient(const std::string& url, const std::string& token, bool cli,
                           const std::string& from) {
  char tmpl[] = "/tmp/outpost-conv-XXXXXX";
  if (!mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  if (!from.empty()) std::filesystem::copy_file(from, dir_ + "/client.db");
  if (cli) {
    std::string out;
    int rc = RunCommand(CliCommand({"init", "--server", url, "--token", token, "--db",
                                    dir_ + "/client.db", "--sync"}),
                        &out);
    if (rc != 0) throw std::runtime_error("outpost init: " + out);
  }
  StoreOptions options;
  options.durable = false;
  options.cache_mib = 4;
  auto store = Store::Open(dir_ + "/client.db", options);
  if (!store.ok()) throw std::runtime_error("store: " + store.status().ToString());
  store_ = std::move(store).value();
  if (!from.empty()) {
    // A device of its own: a fresh client id (the server deduplicates by client id and tx id).
    static uint64_t counter = 0;
    char id[64];
    snprintf(id, sizeof id, "00000000-0000-7000-8000-%04x%08llx",
             static_cast<unsigned>(getpid() & 0xffff), static_cast<unsigned long long>(++counter));
    Status st = store_->SetMeta("client_id", id);
    if (!st.ok()) throw std::runtime_error("client id: " + st.ToString());
  }
  transport_ = std::make_unique<HttpTransport>(url, token, HttpTimeouts{5, 30, 30});
  auto session = SyncSession::Open(store_.get());
  if (!session.ok()) throw std::runtime_error("session: " + session.status().ToString());
  session_ = std::move(session).value();
}

NativeClient::~NativeClient() {
  session_.reset();
  store_.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

// ---------------------------------------------------------------------------------------------
// What a scenario records.

void Scenario::Note(const std::string& s) {
  if (log.size() < 400) log.push_back("[" + std::to_string(step) + "] " + s);
}

void Scenario::Fail(const std::string& s) {
  result->ok = false;
  if (result->failures.size() < 40) result->failures.push_back(s);
}

void Scenario::NoteRejections(Client& c) {
  auto list = c.tc->store().Rejections();
  if (!list.ok()) return;
  for (const auto& r : *list)
    if (!c.rejected_at.count(r.tx_id)) {
      c.rejected_at[r.tx_id] = ++order;
      Note("client " + std::to_string(c.index) + " tx " + std::to_string(r.tx_id) +
           " rejected: " + r.code + ": " + r.message.substr(0, 160));
    }
}

Result<int64_t> Scenario::CliSync(Client& c) {
  if (step <= c.offline_until) return Status(Code::kUnavailable, "partitioned");
  auto pending = c.tc->store().PendingTransactions();
  if (!pending.ok()) return pending.status();
  for (const auto& tx : *pending) {
    if (!c.delivered.insert(tx.tx_id).second) continue;
    for (const auto& m : tx.mutations) {
      Event e;
      e.order = ++order;
      e.client = c.index;
      e.tx_id = tx.tx_id;
      e.op = static_cast<char>(m.op);
      e.table = m.table;
      e.pk = m.pk;
      e.new_values = m.new_values;
      e.old_values = m.old_values;
      e.unverified = true;
      events.push_back(std::move(e));
    }
  }
  std::string out;
  int rc = RunCommand(CliCommand({"sync", "--db", c.tc->dir() + "/client.db"}), &out);
  if (rc != 0) return Status(Code::kUnavailable, "outpost sync: " + out.substr(0, 300));
  return static_cast<int64_t>(pending->size());
}

void Scenario::RecordPush(Client& c, const HttpRequest& req, int status,
                          const std::vector<std::string>& lines) {
  if (!(status / 100 == 2 || status == 503)) return;
  json body = json::parse(req.body, nullptr, false);
  if (body.is_discarded()) return;
  for (const auto& tx : body.value("transactions", json::array())) {
    int64_t id = tx.value("tx_id", int64_t{0});
    if (!c.delivered.insert(id).second) continue;
    for (const auto& m : tx.value("mutations", json::array())) {
      Event e;
      e.order = ++order;
      e.client = c.index;
      e.tx_id = id;
      std::string op = m.value("op", "");
      e.op = op == "insert" ? 'I' : op == "delete" ? 'D' : 'U';
      e.table = m.value("table", "");
      e.pk = m.value("pk", json::array());
      e.new_values = m.value("new", json::object());
      e.old_values = m.value("old", json::object());
      events.push_back(std::move(e));
    }
  }
  if (status / 100 != 2) return;
  std::string text;
  for (const auto& l : lines) text += l + "\n";
  json answer = json::parse(text, nullptr, false);
  if (answer.is_discarded()) return;
  for (const auto& r : answer.value("results", json::array())) {
    int64_t id = r.value("tx_id", int64_t{0});
    std::string st = r.value("status", "");
    auto [it, fresh] = c.seen_status.emplace(id, st);
    if (!fresh && it->second != st)
      Fail("client " + std::to_string(c.index) + " tx " + std::to_string(id) +
           ": the server answered " + it->second + " and later " + st);
    if (fresh) {
      for (const auto& n : r.value("notices", json::array())) c.notices[id].push_back(n);
      for (const auto& m : r.value("remaps", json::array()))
        c.remaps[m.value("table", "") + "\x1f" + m.value("from", json::array()).dump()] =
            m.value("to", json::array());
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The fault-injecting transport around a client's real HttpTransport.

Result<int> FaultTransport::Deliver(const HttpRequest& req, std::vector<std::string>* lines,
                                    std::string* body) {
  auto r = c_->tc->transport().Send(
      req,
      [&](std::string_view line) -> Status {
        lines->emplace_back(line);
        return Status::Ok();
      },
      body);
  if (r.ok() && IsPush(req)) sc_->RecordPush(*c_, req, *r, *lines);
  if (getenv("OUTPOST_CONV_TRACE_HTTP")) {
    std::string answer;
    for (const auto& l : *lines) answer += l + "\n";
    fprintf(stderr, "http step %d client %d: %s %s%s -> %s %s\n", sc_->step, c_->index,
            req.method.c_str(), req.target.substr(0, 60).c_str(),
            IsPush(req) ? (" " + req.body.substr(0, 6000)).c_str() : "",
            r.ok() ? std::to_string(*r).c_str() : r.status().ToString().c_str(),
            (answer + *body).substr(0, 6000).c_str());
  }
  return r;
}

Result<int> FaultTransport::Send(const HttpRequest& req,
                                 const std::function<Status(std::string_view line)>& on_line,
                                 std::string* error_body) {
  if (sc_->step <= c_->offline_until) return Status(Code::kUnavailable, "partitioned");
  const bool push = IsPush(req);
  Rng& r = *sc_->rng;
  if (sc_->faults) {
    if (r.Chance(sc_->p_drop_request)) {
      Fault("request dropped");
      return Status(Code::kUnavailable, "fault: request dropped");
    }
    if (push && sc_->stash.size() < 3 && r.Chance(sc_->p_delay)) {
      Fault("push delayed");
      sc_->stash.push_back({c_->index, req});
      return Status(Code::kUnavailable, "fault: request delayed");
    }
  }
  std::vector<std::string> lines;
  std::string body;
  auto res = Deliver(req, &lines, &body);
  if (!res.ok()) return res;
  if (sc_->faults && r.Chance(sc_->p_dup)) {
    Fault("request duplicated");
    std::vector<std::string> again;
    std::string body2;
    auto second = Deliver(req, &again, &body2);
    if (second.ok() && *second / 100 == 2 && *res / 100 == 2) lines = std::move(again);
  }
  if (sc_->faults && push && *res / 100 == 2 && !c_->last_push_answer.empty() &&
      r.Chance(sc_->p_stale)) {
    Fault("stale push answer fed");
    std::vector<std::string> stale = c_->last_push_answer;
    c_->last_push_answer = lines;
    for (const auto& l : stale) OUTPOST_RETURN_IF_ERROR(on_line(l));
    return *res;
  }
  if (sc_->faults && r.Chance(sc_->p_drop_answer)) {
    Fault(push ? "push answer dropped" : "answer dropped");
    if (push && *res / 100 == 2) c_->last_push_answer = lines;
    return Status(Code::kUnavailable, "fault: answer dropped");
  }
  if (*res / 100 != 2) {
    if (error_body) *error_body = body;
    return *res;
  }
  if (push) c_->last_push_answer = lines;
  for (const auto& l : lines) OUTPOST_RETURN_IF_ERROR(on_line(l));
  return *res;
}

bool FaultTransport::IsPush(const HttpRequest& req) {
  return req.method == "POST" && req.target.rfind("/v1/push", 0) == 0;
}

void FaultTransport::Fault(const std::string& what) {
  ++sc_->result->faults;
  sc_->Note("client " + std::to_string(c_->index) + ": " + what);
}

}  // namespace outpost::convergence
