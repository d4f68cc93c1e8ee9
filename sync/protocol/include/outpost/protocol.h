// The sync protocol v1 (docs/protocol.md): what the client session and outpost-server exchange.
//
// This module is the only place that knows the wire format. Both sides link it:
//   protocol.h       endpoints, limits, HTTP status <-> error code, error bodies, the cursor's
//                    public part;
//   protocol_push.h  POST /v1/push: the request and answer messages and their codecs;
//   protocol_pull.h  GET /v1/pull: the query, and the NDJSON answer's lines (a writer for the
//                    server, a streaming reader for the client).
// It depends on the schema module only (status, values, encodings), never on core or on libpq.
//
// Decoders treat their input as hostile: they check every shape and bound, and fail with a Status
// instead of throwing. Requests that do not decode are Code::kMalformedRequest (the server's
// view); answers that do not decode are Code::kMalformedAnswer (the client's view).
//
// Threading: pure functions and value types.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "outpost/status.h"

namespace outpost::protocol {

// --- Endpoints ----------------------------------------------------------------------------------

inline constexpr std::string_view kHealthPath = "/healthz";
inline constexpr std::string_view kSchemaPath = "/v1/schema";
inline constexpr std::string_view kPullPath = "/v1/pull";
inline constexpr std::string_view kPushPath = "/v1/push";

// One HTTP request as the client session produces it. The transport adds the Authorization
// header and, for a body, Content-Type: application/json.
struct HttpRequest {
  std::string method;  // "GET" or "POST"
  std::string target;  // path and query, e.g. "/v1/pull?schema=...&cursor=..."
  std::string body;    // POST body (JSON)
};

// --- Limits -------------------------------------------------------------------------------------
// The server refuses requests over these; the client never builds one.

// Transactions, and mutations of all transactions together, in one push request.
inline constexpr size_t kMaxPushTransactions = 10000;
inline constexpr size_t kMaxPushMutations = 10000;
// The server's default limit on a request body (outpost-server --max-body).
inline constexpr size_t kDefaultMaxBodyBytes = 8u << 20;
// The client fills a push request up to this size (half the default limit: room for a server
// configured lower, and a request that stays quick to retry). A single larger transaction is
// sent alone and may be refused with payload_too_large.
inline constexpr size_t kPushBodyTarget = kDefaultMaxBodyBytes / 2;
// Pull: rows (bootstrap) or changes (incremental) per page, pages per answer, long-poll seconds.
inline constexpr size_t kDefaultPullLimit = 5000;
inline constexpr size_t kMaxPullLimit = 50000;
inline constexpr int kMaxPagesPerAnswer = 50;
inline constexpr int kMaxPullWaitSeconds = 60;
// A client id a long-poll names (clients send their UUID).
inline constexpr size_t kMaxClientIdBytes = 64;
// A cursor the server issues is far shorter; anything longer is not one of its cursors.
inline constexpr size_t kMaxCursorBytes = size_t{8} * 1024;
// The longest line of a pull answer a client accepts (the server's are one page at most).
inline constexpr size_t kMaxPullLineBytes = 64u << 20;
// Nesting of JSON a server reads from the network. Its parser and serializer recurse on nesting,
// so an unbounded depth (a body of 100,000 '[') is a stack overflow: depth is checked first,
// with a linear scan (JsonDepthWithin), and anything deeper is malformed_request (tokens:
// unauthorized; cursors: invalid_cursor). A json/jsonb or array column value may nest
// kMaxJsonValueDepth levels, inline or as JSON text; a push body adds its envelope (body,
// transactions, transaction, mutations, mutation, new/old/pk: 6 levels); a token's header and
// claims and a cursor take kMaxSmallJsonDepth.
inline constexpr size_t kMaxJsonValueDepth = 64;
inline constexpr size_t kPushEnvelopeDepth = 6;
inline constexpr size_t kMaxPushJsonDepth = kPushEnvelopeDepth + kMaxJsonValueDepth;
inline constexpr size_t kMaxSmallJsonDepth = 16;
// Client text quoted in an error message (a table or column name, a value) is cut to this.
inline constexpr size_t kMaxQuotedBytes = 80;

// True when no array or object in the JSON text `text` nests deeper than `max_depth` (a scalar
// is depth 0, `[]` depth 1). Strings are skipped with their escapes. Linear, allocation-free, and
// says nothing else about validity: run it before parsing.
bool JsonDepthWithin(std::string_view text, size_t max_depth);
// `text` cut to at most `max` bytes (at a UTF-8 character boundary), with "..." when cut: how
// error messages quote client input.
std::string Quoted(std::string_view text, size_t max = kMaxQuotedBytes);

// --- Errors -------------------------------------------------------------------------------------

// The HTTP status of an error answer with `code` (docs/protocol.md, "Errors"): 400 for request
// errors, 401, 403, 404, 409 schema_mismatch, 410 cursor_expired, 413, 503 unavailable; 500 for
// every code that is not the client's fault.
int HttpStatusOf(Code code);
// The code a client assumes for an error answer whose body names no code it knows.
Code CodeOfHttpStatus(int http_status);

// The body of an error answer: {"error": {"code": C, "message": M}}. Codes that HttpStatusOf
// maps to 500 are sent as "internal" with the status's text as the message. Invalid UTF-8 in the
// message is replaced, never sent.
std::string EncodeErrorBody(const Status& status);
// The error an answer with a non-2xx `http_status` reports, as a Status with the server's code
// (or CodeOfHttpStatus when the body names none this client knows) and message ("" bodies and
// bodies that are not the JSON above are shown, shortened, as the message).
Status DecodeErrorAnswer(int http_status, std::string_view body);

// --- Cursors ------------------------------------------------------------------------------------
// A cursor is base64url (unpadded) of a JSON object the server writes. Its only public part is
// "w": the watermark, a decimal string of an unsigned 64-bit PostgreSQL xid8, below which every
// change has been served. Everything else in it is the server's business (sync/server/cursor.h).

// The text of a cursor with `fields` (a JSON object that has "w"; the server's encoder).
std::string WrapCursor(const nlohmann::json& fields);
// The JSON object inside `cursor`. Errors: kInvalidCursor (empty, over kMaxCursorBytes, not
// base64url, nested deeper than kMaxSmallJsonDepth, not a JSON object); the fields are not
// checked.
Result<nlohmann::json> UnwrapCursor(std::string_view cursor);
// A JSON string holding an unsigned 64-bit integer (an xid8, a change id) as cursors and answers
// write them: 1 to 20 decimal digits, no sign, no leading zero; nullopt for anything else.
std::optional<uint64_t> ParseDecimalU64(const nlohmann::json& field);
// The watermark of `cursor`, or nullopt when it is not a cursor with a valid "w".
std::optional<uint64_t> CursorWatermark(std::string_view cursor);

}  // namespace outpost::protocol
