// Behavioural vectors through the C API, natively (tests/vectors/*.json). The same vectors run on
// the WebAssembly engine under node (tests/wasm/vectors.mjs); both must produce the transcript
// recorded in tests/vectors/<name>.expected.json: the same SQL gives the same outbox, the same
// server answers give the same local state.
//
//   capi_vectors VECTOR_DIR            compare
//   OUTPOST_UPDATE_VECTORS=1 capi_vectors VECTOR_DIR   rewrite the expected transcripts
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "outpost.h"

namespace {

using nlohmann::json;

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The C API's char** results as JSON, or {"error": code name} on failure.
struct Api {
  outpost_db* db = nullptr;

  json Result(int code, char* text) {
    if (code != OUTPOST_OK) return json{{"error", outpost_code_name(code)}};
    json j = text ? json::parse(text) : json(nullptr);
    outpost_free(text);
    return j;
  }
  // Calls `fn(char** out)` and returns its result (the call happens before the string is read).
  template <typename Fn>
  json Take(Fn&& fn) {
    char* text = nullptr;
    const int code = fn(&text);
    return Result(code, text);
  }
};

// Removes what differs between runs (clocks, random ids, times).
void Normalize(json& j) {
  if (j.is_object()) {
    for (const char* key : {"hlc", "client_id", "at", "last_sync"}) j.erase(key);
    for (auto& [k, v] : j.items()) Normalize(v);
  } else if (j.is_array()) {
    for (auto& v : j) Normalize(v);
  }
}

json RunRound(Api& api, const json& spec) {
  json out = json::array();
  outpost_round* round = nullptr;
  int rc =
      outpost_round_begin(api.db, spec.value("options", json::object()).dump().c_str(), &round);
  if (rc != OUTPOST_OK) return json{{"error", outpost_code_name(rc)}};
  const json& answers = spec["answers"];
  size_t next_answer = 0;
  for (int guard = 0; guard < 100; ++guard) {
    json step = api.Take([&](char** out) { return outpost_round_next(round, out); });
    if (step.contains("error")) {
      out.push_back(step);
      break;
    }
    if (step["kind"] == "wait") {
      out.push_back({{"wait", step["ms"]}});
      continue;
    }
    if (step["kind"] == "done") {
      out.push_back(
          {{"done", step["code_name"]}, {"message", step["message"]}, {"report", step["report"]}});
      break;
    }
    // send
    json sent = {{"send", step["target"]}};
    std::vector<int64_t> tx_ids;
    if (!step["body"].get<std::string>().empty()) {
      json body = json::parse(step["body"].get<std::string>());
      for (const auto& tx : body["transactions"]) tx_ids.push_back(tx["tx_id"].get<int64_t>());
      sent["body"] = body;
    }
    if (next_answer >= answers.size()) {
      sent["answer"] = "none scripted";
      out.push_back(sent);
      outpost_round_cancel(round);
      outpost_round_failure(round, OUTPOST_UNAVAILABLE, "no answer scripted");
      continue;
    }
    const json& a = answers[next_answer++];
    if (step["target"].get<std::string>().rfind(a["expect"].get<std::string>(), 0) != 0) {
      sent["unexpected"] = true;
    }
    if (a.contains("failure")) {
      outpost_round_failure(round, OUTPOST_UNAVAILABLE, "network down");
    } else if (a.contains("lines")) {
      bool failed = false;
      for (const auto& l : a["lines"]) {
        const std::string line = l.get<std::string>();
        rc = outpost_round_line(round, line.data(), line.size());
        if (rc != OUTPOST_OK) {
          sent["line_error"] = outpost_code_name(rc);
          outpost_round_failure(round, rc, "bad line");
          failed = true;
          break;
        }
      }
      if (!failed) outpost_round_answer(round, a["status"].get<int>(), nullptr, 0);
    } else {
      // A body; for a 2xx push answer "$txN" names the request's Nth transaction.
      std::string body = a["body"].dump();
      for (size_t i = 0; i < tx_ids.size(); ++i) {
        const std::string placeholder = "\"$tx" + std::to_string(i) + "\"";
        for (size_t at; (at = body.find(placeholder)) != std::string::npos;) {
          body.replace(at, placeholder.size(), std::to_string(tx_ids[i]));
        }
      }
      const int status = a["status"].get<int>();
      if (status >= 200 && status < 300) {
        rc = outpost_round_line(round, body.data(), body.size());
        if (rc != OUTPOST_OK) {
          sent["line_error"] = outpost_code_name(rc);
          outpost_round_failure(round, rc, "bad body");
        } else {
          outpost_round_answer(round, status, nullptr, 0);
        }
      } else {
        outpost_round_answer(round, status, body.data(), body.size());
      }
    }
    out.push_back(sent);
  }
  outpost_round_free(round);
  return out;
}

json Run(const json& vector) {
  Api api;
  json transcript = json::array();
  int rc = outpost_open(":memory:", "{\"durable\":false}", &api.db);
  if (rc != OUTPOST_OK) return json{{"open", outpost_code_name(rc)}};
  const std::string descriptor = vector["schema"].dump();
  transcript.push_back({{"schema", api.Take([&](char** out) {
                           return outpost_apply_schema(api.db, descriptor.c_str(), out);
                         })}});
  for (const auto& step : vector["steps"]) {
    json entry;
    if (step.contains("sql")) {
      const std::string params = step["params"].is_null() ? "" : step["params"].dump();
      const std::string sql = step["sql"].get<std::string>();
      json r = api.Take([&](char** out) {
        return outpost_execute(api.db, sql.c_str(), params.empty() ? nullptr : params.c_str(), out);
      });
      entry = {{"sql", step["sql"]}, {"result", r}};
    } else if (step.contains("query")) {
      const std::string sql = step["query"].get<std::string>();
      entry = {{"query", step["query"]}, {"result", api.Take([&](char** out) {
                                            return outpost_execute(api.db, sql.c_str(), nullptr,
                                                                   out);
                                          })}};
    } else if (step.contains("outbox")) {
      json r = api.Take([&](char** out) {
        return outpost_execute(api.db,
                               "SELECT tx_id, op, tbl, pk, data, checkpoint FROM _outpost_outbox "
                               "ORDER BY seq",
                               nullptr, out);
      });
      json entries = json::array();
      for (const auto& row : r["rows"]) {
        entries.push_back({{"tx", row[0]},
                           {"op", row[1]},
                           {"table", row[2]},
                           {"pk", json::parse(row[3].get<std::string>())},
                           {"data", json::parse(row[4].get<std::string>())},
                           {"checkpoint", row[5]}});
      }
      entry = {{"outbox", entries}};
    } else if (step.contains("round")) {
      entry = {{"round", RunRound(api, step["round"])}};
    } else if (step.contains("rejections")) {
      entry = {
          {"rejections", api.Take([&](char** out) { return outpost_rejections(api.db, out); })}};
    } else if (step.contains("status")) {
      entry = {{"status", api.Take([&](char** out) { return outpost_sync_status(api.db, out); })}};
    }
    transcript.push_back(entry);
  }
  outpost_close(api.db);
  Normalize(transcript);
  return transcript;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: capi_vectors VECTOR_DIR\n";
    return 2;
  }
  const bool update = std::getenv("OUTPOST_UPDATE_VECTORS") != nullptr;
  int failed = 0, passed = 0;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    const auto path = entry.path();
    if (path.extension() != ".json" || path.string().find(".expected.") != std::string::npos) {
      continue;
    }
    json vector = json::parse(ReadFile(path));
    json transcript = Run(vector);
    auto expected_path = path;
    expected_path.replace_extension(".expected.json");
    if (update) {
      std::ofstream(expected_path) << transcript.dump(1) << "\n";
      std::cout << "wrote " << expected_path << "\n";
      continue;
    }
    json expected = json::parse(ReadFile(expected_path));
    if (transcript == expected) {
      ++passed;
      continue;
    }
    ++failed;
    std::cerr << "vector " << vector["name"] << ": the transcript differs from " << expected_path
              << "\n";
    for (size_t i = 0; i < std::max(transcript.size(), expected.size()); ++i) {
      json got = i < transcript.size() ? transcript[i] : json();
      json want = i < expected.size() ? expected[i] : json();
      if (got != want) {
        std::cerr << "  step " << i << "\n    got:      " << got.dump().substr(0, 2000)
                  << "\n    expected: " << want.dump().substr(0, 2000) << "\n";
        break;
      }
    }
  }
  std::cout << passed << " passed, " << failed << " failed\n";
  return failed ? 1 : 0;
}
