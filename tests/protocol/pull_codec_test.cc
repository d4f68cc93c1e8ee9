// GET /v1/pull (outpost/protocol_pull.h): the query both ways, and the answer's lines as the
// server writes them and the client reads them, value by value, for every column kind.
#include <catch2/catch.hpp>
#include <cmath>
#include <map>

#include "outpost/protocol_pull.h"

namespace outpost::protocol {
namespace {

// DecodePullQuery over a parsed query string (values already unescaped, as HTTP servers give
// them).
Result<PullQuery> Decode(const std::map<std::string, std::string>& params) {
  return DecodePullQuery([&](std::string_view name) -> std::optional<std::string> {
    auto it = params.find(std::string(name));
    if (it == params.end()) return std::nullopt;
    return it->second;
  });
}

std::string Text(const ValueView& v) {
  REQUIRE(v.kind == ValueView::Kind::kText);
  return std::string(v.bytes);
}

TEST_CASE("the pull query is written and read back", "[protocol][pull]") {
  PullQuery q;
  q.schema = "sha256:ab";
  q.cursor = "eyJ3IjoiMSJ9+/=";
  q.limit = 200;
  q.wait_seconds = 30;
  CHECK(EncodePullTarget(q) ==
        "/v1/pull?schema=sha256:ab&cursor=eyJ3IjoiMSJ9%2B%2F%3D&limit=200&wait=30");
  PullQuery bare;
  bare.schema = "v";
  CHECK(EncodePullTarget(bare) == "/v1/pull?schema=v");

  auto d = Decode({{"schema", "v"}, {"cursor", "c"}, {"limit", "200"}, {"wait", "60"}});
  REQUIRE(d.ok());
  CHECK(d->cursor == "c");
  CHECK(d->limit == 200u);
  CHECK(d->wait_seconds == 60);
  auto defaults = Decode({{"schema", "v"}});
  REQUIRE(defaults.ok());
  CHECK_FALSE(defaults->cursor);
  CHECK_FALSE(defaults->limit);
  for (const auto& bad : std::vector<std::map<std::string, std::string>>{
           {},
           {{"schema", ""}},
           {{"schema", "v"}, {"limit", "0"}},
           {{"schema", "v"}, {"limit", "50001"}},
           {{"schema", "v"}, {"limit", "1e3"}},
           {{"schema", "v"}, {"wait", "61"}},
           {{"schema", "v"}, {"wait", "-1"}},
           {{"schema", "v"}, {"wait", "99999999999999999999"}}}) {
    CHECK(Decode(bad).status().code() == Code::kMalformedRequest);
  }
}

TEST_CASE("rows written by the server are read back value by value", "[protocol][pull]") {
  std::string out;
  AppendResetLine(&out);
  AppendRowsLineStart("entries", R"(["id","n","r","ok","t","num","b","j"])", &out);
  out += R"(["e1",5,2,true,"caf\u00e9 \"q\"",12.50,{"$blob":"AP8H"},{"a":[1,2]}],)";
  out += R"(["e2",null,"-Infinity",false,7,"-0.5",{"$blob":""},[1,"x"]])";
  AppendArrayLineEnd(&out);
  AppendDeletesLineStart("entries", &out);
  out += R"(["e3"],["e4"])";
  AppendArrayLineEnd(&out);
  AppendCursorLine("CUR", /*bootstrap=*/true, /*more=*/false, 1234, &out);

  std::vector<std::string> lines;
  for (size_t at = 0; at < out.size();) {
    size_t nl = out.find('\n', at);
    lines.push_back(out.substr(at, nl - at));
    at = nl + 1;
  }
  REQUIRE(lines.size() == 4);
  CHECK(ReadPullLine(lines[0])->type == PullLine::Type::kReset);

  auto rows = ReadPullLine(lines[1]);
  REQUIRE(rows.ok());
  CHECK(rows->type == PullLine::Type::kRows);
  CHECK(rows->table == "entries");
  CHECK(rows->columns.size() == 8);
  CHECK(rows->array_is_last);
  TupleReader reader(lines[1], *rows,
                     {TypeKind::kUuid, TypeKind::kInteger, TypeKind::kReal, TypeKind::kBoolean,
                      TypeKind::kText, TypeKind::kNumeric, TypeKind::kBytea, TypeKind::kJson});
  std::vector<ValueView> v;
  REQUIRE(*reader.Next(&v));
  CHECK(Text(v[0]) == "e1");
  CHECK(v[1].kind == ValueView::Kind::kInteger);
  CHECK(v[1].integer == 5);
  CHECK(v[2].kind == ValueView::Kind::kReal);  // an integer for a real column
  CHECK(v[2].real == 2.0);
  CHECK(v[3].kind == ValueView::Kind::kInteger);
  CHECK(v[3].integer == 1);
  CHECK(Text(v[4]) == "caf\xc3\xa9 \"q\"");
  CHECK(Text(v[5]) == "12.50");  // a number for a numeric column keeps its text
  REQUIRE(v[6].kind == ValueView::Kind::kBlob);
  CHECK(v[6].bytes == std::string("\x00\xff\x07", 3));
  CHECK(Text(v[7]) == R"({"a":[1,2]})");
  REQUIRE(*reader.Next(&v));
  CHECK(v[1].kind == ValueView::Kind::kNull);
  CHECK(v[2].real == -HUGE_VAL);
  CHECK(v[3].integer == 0);
  CHECK(Text(v[4]) == "7");
  CHECK(v[6].kind == ValueView::Kind::kBlob);
  CHECK(v[6].bytes.empty());
  CHECK(Text(v[7]) == R"([1,"x"])");
  CHECK_FALSE(*reader.Next(&v));
  CHECK_FALSE(*reader.Next(&v));  // stays done

  auto deletes = ReadPullLine(lines[2]);
  REQUIRE(deletes.ok());
  CHECK(deletes->type == PullLine::Type::kDeletes);
  TupleReader keys(lines[2], *deletes, {TypeKind::kUuid});
  REQUIRE(*keys.Next(&v));
  CHECK(Text(v[0]) == "e3");
  REQUIRE(*keys.Next(&v));
  CHECK_FALSE(*keys.Next(&v));

  auto cursor = ReadPullLine(lines[3]);
  REQUIRE(cursor.ok());
  CHECK(cursor->type == PullLine::Type::kCursor);
  CHECK(cursor->cursor == "CUR");
  CHECK(cursor->bootstrap);
  CHECK_FALSE(cursor->more);
  CHECK(cursor->total == 1234);
}

TEST_CASE("lines in another member order are still read", "[protocol][pull]") {
  std::string line = R"({"rows":[["a",1]],"columns":["id","n"],"table":"t","type":"rows"})";
  auto h = ReadPullLine(line);
  REQUIRE(h.ok());
  CHECK_FALSE(h->array_is_last);
  TupleReader r(line, *h, {TypeKind::kText, TypeKind::kInteger});
  std::vector<ValueView> v;
  REQUIRE(*r.Next(&v));
  CHECK(v[1].integer == 1);
  CHECK_FALSE(*r.Next(&v));
  // Unknown line types and blank lines are for newer clients: nothing to do.
  CHECK(ReadPullLine(R"({"type":"hint","x":[1,{"y":2}]})")->type == PullLine::Type::kUnknown);
  CHECK(ReadPullLine("  \r")->type == PullLine::Type::kUnknown);
}

TEST_CASE("a broken answer line is the client's malformed_answer", "[protocol][pull]") {
  auto header_error = [](const std::string& line) {
    auto h = ReadPullLine(line);
    INFO(line);
    return h.ok() ? Code::kOk : h.status().code();
  };
  CHECK(header_error("not json") == Code::kMalformedAnswer);
  CHECK(header_error(R"({"type":"rows","table":"t","rows":[]})") == Code::kMalformedAnswer);
  CHECK(header_error(R"({"type":"deletes","keys":[]})") == Code::kMalformedAnswer);
  CHECK(header_error(R"({"type":"cursor","cursor":""})") == Code::kMalformedAnswer);
  CHECK(header_error(R"({"type":"reset"} trailing)") == Code::kMalformedAnswer);
  CHECK(header_error(std::string(kMaxPullLineBytes + 1, ' ') + "{}") == Code::kMalformedAnswer);

  auto tuple_error = [](const std::string& line, size_t width) {
    auto h = ReadPullLine(line);
    REQUIRE(h.ok());
    TupleReader r(line, *h, std::vector<TypeKind>(width, TypeKind::kInteger));
    std::vector<ValueView> v;
    while (true) {
      auto more = r.Next(&v);
      if (!more.ok()) return more.status().code();
      if (!*more) return Code::kOk;
    }
  };
  const std::string head = R"({"type":"rows","table":"t","columns":["a","b"],"rows":)";
  CHECK(tuple_error(head + "[[1,2],[3,4]]}", 2) == Code::kOk);
  CHECK(tuple_error(head + "[[1,2,3]]}", 2) == Code::kMalformedAnswer);        // too wide
  CHECK(tuple_error(head + "[[1]]}", 2) == Code::kMalformedAnswer);            // too narrow
  CHECK(tuple_error(head + "[[1,2]],\"x\":1}", 2) == Code::kMalformedAnswer);  // after the array
  CHECK(tuple_error(head + "[[1,2] [3,4]]}", 2) == Code::kMalformedAnswer);
  CHECK(tuple_error(head + "[[1,{\"$blob\":\"%%\"}]]}", 2) == Code::kMalformedAnswer);
  CHECK(tuple_error(head + "[[1,tru]]}", 2) == Code::kMalformedAnswer);
}

}  // namespace
}  // namespace outpost::protocol
