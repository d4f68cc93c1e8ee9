// POST /v1/push messages (outpost/protocol_push.h): what the client writes the server reads, and
// every malformed request or answer is refused with its own code.
#include <catch2/catch.hpp>

#include "outpost/protocol_push.h"

namespace outpost::protocol {
namespace {

using nlohmann::json;

constexpr const char* kClient = "0190A5D2-1C4E-7000-8000-00000000C1C1";

PushTransaction Tx(int64_t id, size_t mutations = 1, size_t note_bytes = 8) {
  PushTransaction tx;
  tx.tx_id = id;
  for (size_t i = 0; i < mutations; ++i) {
    PushMutation m;
    m.op = MutationOp::kUpdate;
    m.table = "notes";
    m.pk = json::array({static_cast<int64_t>(i)});
    m.hlc = (uint64_t{1} << 63) + i;  // beyond int64: travels as a decimal string
    m.new_values = json{{"text", std::string(note_bytes, 'x')}, {"done", true}};
    m.old_values = json{{"text", ""}, {"done", false}};
    tx.mutations.push_back(std::move(m));
  }
  return tx;
}

TEST_CASE("a push body decodes to what was built", "[protocol][push]") {
  PushBodyBuilder builder("sha256:abc", kClient);
  REQUIRE(builder.Add(Tx(7)));
  PushTransaction insert;
  insert.tx_id = 8;
  PushMutation ins;
  ins.op = MutationOp::kInsert;
  ins.table = "notes";
  ins.pk = json::array({-1});
  ins.hlc = 42;
  ins.new_values = json{{"id", -1}, {"text", "caf\u00e9"}};
  PushMutation del;
  del.op = MutationOp::kDelete;
  del.table = "notes";
  del.pk = json::array({3});
  del.hlc = 43;
  del.old_values = json{{"id", 3}};
  insert.mutations = {ins, del};
  REQUIRE(builder.Add(insert));
  CHECK(builder.transactions() == 2);
  auto req = DecodePushRequest(builder.Finish());
  INFO(req.status().ToString());
  REQUIRE(req.ok());
  CHECK(req->schema == "sha256:abc");
  CHECK(req->client_id == "0190a5d2-1c4e-7000-8000-00000000c1c1");  // canonical lowercase
  REQUIRE(req->transactions.size() == 2);
  const PushMutation& u = req->transactions[0].mutations[0];
  CHECK(u.op == MutationOp::kUpdate);
  CHECK(u.hlc == (uint64_t{1} << 63));
  CHECK(u.new_values == json({{"text", "xxxxxxxx"}, {"done", true}}));
  CHECK(u.old_values == json({{"text", ""}, {"done", false}}));
  const auto& muts = req->transactions[1].mutations;
  REQUIRE(muts.size() == 2);
  CHECK(muts[0].op == MutationOp::kInsert);
  CHECK(muts[0].old_values.is_null());
  CHECK(muts[1].op == MutationOp::kDelete);
  CHECK(muts[1].new_values.is_null());
  CHECK(muts[1].old_values == json({{"id", 3}}));
  CHECK(PushMutationToJson(muts[1]) == json({{"op", "delete"},
                                             {"table", "notes"},
                                             {"pk", {3}},
                                             {"hlc", "43"},
                                             {"old", {{"id", 3}}}}));
}

TEST_CASE("a push body stays within its target and the protocol's limits", "[protocol][push]") {
  // Size: transactions of ~10 KiB into a 25 KiB target.
  PushBodyBuilder small("v", kClient, 25 * 1024);
  CHECK(small.Add(Tx(1, 1, 10000)));
  CHECK(small.Add(Tx(2, 1, 10000)));
  CHECK_FALSE(small.Add(Tx(3, 1, 10000)));
  CHECK(small.transactions() == 2);
  std::string body = small.Finish();
  CHECK(body.size() <= 25 * 1024);
  CHECK(DecodePushRequest(body).ok());
  // The first transaction goes whatever its size.
  PushBodyBuilder tiny("v", kClient, 100);
  CHECK(tiny.Add(Tx(1, 1, 1000)));
  CHECK_FALSE(tiny.Add(Tx(2)));
  // Mutations: never more than kMaxPushMutations in one body.
  PushBodyBuilder many("v", kClient, SIZE_MAX);
  CHECK(many.Add(Tx(1, kMaxPushMutations - 1)));
  CHECK_FALSE(many.Add(Tx(2, 2)));
  CHECK(many.Add(Tx(3, 1)));
  CHECK(DecodePushRequest(many.Finish()).ok());
}

TEST_CASE("malformed push requests are refused, naming the place", "[protocol][push]") {
  json good_tx = json{{"tx_id", 1},
                      {"mutations",
                       {{{"op", "update"},
                         {"table", "t"},
                         {"pk", {1}},
                         {"hlc", "5"},
                         {"new", {{"a", 1}}},
                         {"old", {{"a", 0}}}}}}};
  auto body = [&](json txs) {
    return json{{"schema", "v"}, {"client_id", kClient}, {"transactions", txs}}.dump();
  };
  REQUIRE(DecodePushRequest(body(json::array({good_tx}))).ok());
  auto expect = [](const std::string& b, const std::string& needle) {
    auto r = DecodePushRequest(b);
    INFO(b.substr(0, 200));
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == Code::kMalformedRequest);
    INFO(r.status().message());
    CHECK(r.status().message().find(needle) != std::string::npos);
  };
  expect("{", "not a JSON object");
  expect("[]", "not a JSON object");
  expect(R"({"schema":1,"client_id":"x","transactions":[]})", "\"schema\"");
  expect(R"({"schema":"v","client_id":"not-a-uuid","transactions":[]})", "client_id");
  expect(R"({"schema":"v","client_id":")" + std::string(kClient) + R"("})", "transactions");
  auto with = [&](const char* key, json value) {
    json tx = good_tx;
    tx["mutations"][0][key] = value;
    return body(json::array({tx}));
  };
  expect(with("op", "upsert"), "insert, update or delete");
  expect(with("table", 5), "\"table\"");
  expect(with("pk", json::array()), "\"pk\"");
  expect(with("pk", "1"), "\"pk\"");
  expect(with("hlc", 5), "\"hlc\"");
  expect(with("hlc", "18446744073709551616"), "\"hlc\"");  // 2^64
  expect(with("hlc", "-1"), "\"hlc\"");
  expect(with("old", nullptr), "an update needs");
  expect(with("new", json::array()), "transactions[0].mutations[0].new");
  json twice = json::array({good_tx, good_tx});
  expect(body(twice), "appears twice");
  json bad_id = good_tx;
  bad_id["tx_id"] = "1";
  expect(body(json::array({bad_id})), "tx_id");
  bad_id["tx_id"] = 9223372036854775808u;
  expect(body(json::array({bad_id})), "tx_id");
  json ins = good_tx;
  ins["mutations"][0]["op"] = "insert";
  expect(body(json::array({ins})), "an insert has no \"old\"");
  json del = good_tx;
  del["mutations"][0]["op"] = "delete";
  expect(body(json::array({del})), "a delete has no \"new\"");
  // Limits, counted before anything else is looked at.
  json many = json::array();
  for (size_t i = 0; i <= kMaxPushTransactions; ++i) many.push_back(json::object());
  expect(body(many), "transactions in one push");
  json big = good_tx;
  big["mutations"] = json::array();
  for (size_t i = 0; i <= kMaxPushMutations; ++i) big["mutations"].push_back(json::object());
  expect(body(json::array({big})), "mutations in one push");
}

TEST_CASE("push results round trip and malformed answers are the client's own error",
          "[protocol][push]") {
  TxResult applied;
  applied.tx_id = 7;
  applied.applied = true;
  applied.checkpoint = 123456789;
  applied.remaps = {KeyRemap{"orders", json{-3}, json{57}}};
  applied.notices = {Notice{"row_deleted", "notes", json{4}}};
  TxResult rejected;
  rejected.tx_id = 8;
  rejected.checkpoint = 123456790;
  rejected.error.code = "constraint_violation";
  rejected.error.message = "duplicate key";
  rejected.error.rule = "users_email_key";
  rejected.error.table = "users";
  rejected.error.pk = json{"u1"};
  rejected.error.rows = {RowState{"users", json{"u1"}, json{{"email", "a@b"}}},
                         RowState{"users", json{"u2"}, nullptr}};
  auto decoded = DecodePushAnswer(EncodePushAnswer({applied, rejected}));
  INFO(decoded.status().ToString());
  REQUIRE(decoded.ok());
  REQUIRE(decoded->size() == 2);
  const TxResult& a = (*decoded)[0];
  CHECK(a.applied);
  CHECK(a.tx_id == 7);
  CHECK(a.checkpoint == 123456789u);
  REQUIRE(a.remaps.size() == 1);
  CHECK(a.remaps[0].to == json{57});
  REQUIRE(a.notices.size() == 1);
  CHECK(a.notices[0].code == "row_deleted");
  const TxResult& r = (*decoded)[1];
  CHECK_FALSE(r.applied);
  CHECK(r.error.rule == "users_email_key");
  REQUIRE(r.error.rows.size() == 2);
  CHECK(r.error.rows[1].row.is_null());
  CHECK(TxResultToJson(r) == TxResultToJson(rejected));

  auto malformed = [](const std::string& body) {
    auto d = DecodePushAnswer(body);
    INFO(body);
    return !d.ok() && d.status().code() == Code::kMalformedAnswer;
  };
  CHECK(malformed("{"));
  CHECK(malformed(R"({"results":{}})"));
  CHECK(malformed(R"({"results":[{"status":"applied","checkpoint":"1"}]})"));
  CHECK(malformed(R"({"results":[{"tx_id":1,"status":"maybe","checkpoint":"1"}]})"));
  CHECK(malformed(R"({"results":[{"tx_id":1,"status":"applied"}]})"));
  CHECK(malformed(R"({"results":[{"tx_id":1,"status":"applied","checkpoint":"x"}]})"));
  CHECK(malformed(
      R"({"results":[{"tx_id":1,"status":"applied","checkpoint":"1","remaps":[{"table":"t","from":[1],"to":[]}]}]})"));
  CHECK(malformed(
      R"({"results":[{"tx_id":1,"status":"rejected","error":{"code":"x","rows":[{"table":"t"}]}}]})"));
  CHECK(malformed(R"({"results":[{"tx_id":1,"status":"rejected","error":{"code":5}}]})"));
  // A tx_id or checkpoint may come as a string of digits.
  auto lenient =
      DecodePushAnswer(R"({"results":[{"tx_id":"9","status":"applied","checkpoint":"12"}]})");
  REQUIRE(lenient.ok());
  CHECK((*lenient)[0].tx_id == 9);
}

}  // namespace
}  // namespace outpost::protocol
