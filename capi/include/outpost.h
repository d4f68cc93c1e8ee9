/* outpost.h: the C API of Outpost, for apps written in other languages (Swift, Kotlin, Dart, C#
 * through FFI) and for the WebAssembly package, which calls it from JavaScript.
 *
 * It is a thin layer over the C++ core and sync session (docs/architecture.md). Conventions:
 *  - Handles are opaque. An outpost_db is one local store with its sync session; an
 *    outpost_round is one sync round over it.
 *  - Strings are UTF-8 and NUL-terminated. Values, rows, options and results travel as JSON text
 *    in the mapping of docs/types.md (the same as the C++ API's).
 *  - Every call that can fail returns an outpost_code: OUTPOST_OK (0) or a stable error code
 *    (outpost_code_name gives its name, the same as the protocol's and the command line's). The
 *    message of the last failure is kept on the db handle (outpost_errmsg) until the next call
 *    on that handle.
 *  - char** out parameters receive a string allocated by Outpost, which the caller releases with
 *    outpost_free; they are set to NULL on failure.
 *  - No C++ exception crosses this boundary: an unexpected one becomes OUTPOST_INTERNAL.
 *  - Threading: a db handle, and the rounds made from it, are used by one thread at a time.
 *    Different handles (even on one file) may be used from different threads.
 */
#ifndef OUTPOST_H_
#define OUTPOST_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Stable error codes: the numbers never change meaning (outpost/status.h, Code). */
typedef enum outpost_code {
  OUTPOST_OK = 0,
  OUTPOST_INVALID_ARGUMENT = 1,
  OUTPOST_MALFORMED_DESCRIPTOR = 2,
  OUTPOST_UNKNOWN_TYPE = 3,
  OUTPOST_UNSUPPORTED = 4,
  OUTPOST_SQL_ERROR = 5,
  OUTPOST_CONSTRAINT_VIOLATION = 6,
  OUTPOST_NOT_FOUND = 7,
  OUTPOST_IO_ERROR = 8,
  OUTPOST_POSTGRES_ERROR = 9,
  OUTPOST_CONFLICT = 10,
  OUTPOST_BUSY = 11,
  OUTPOST_CORRUPTION = 12,
  OUTPOST_INTERNAL = 13,
  OUTPOST_MALFORMED_REQUEST = 14,
  OUTPOST_UNKNOWN_TABLE = 15,
  OUTPOST_UNKNOWN_COLUMN = 16,
  OUTPOST_INVALID_VALUE = 17,
  OUTPOST_INVALID_CURSOR = 18,
  OUTPOST_CURSOR_EXPIRED = 19,
  OUTPOST_UNAUTHORIZED = 20,
  OUTPOST_FORBIDDEN = 21,
  OUTPOST_PERMISSION_DENIED = 22,
  OUTPOST_SCHEMA_MISMATCH = 23,
  OUTPOST_PAYLOAD_TOO_LARGE = 24,
  OUTPOST_UNAVAILABLE = 25,
  OUTPOST_MALFORMED_ANSWER = 26
} outpost_code;

typedef struct outpost_db outpost_db;
typedef struct outpost_round outpost_round;

/* "constraint_violation" for OUTPOST_CONSTRAINT_VIOLATION, ...; a static string. */
const char* outpost_code_name(int code);

/* Releases a string Outpost returned through a char** parameter. NULL is allowed. */
void outpost_free(void* p);

/* --- Opening ------------------------------------------------------------------------------- */

/* Opens (creating if needed) the store at `path` (":memory:" for a private in-memory one) and its
 * sync session state. `options_json` may be NULL or an object with "durable" (bool, default true:
 * every commit synced), "wal" (bool, default true) and "cache_mib" (int). *out_db receives a
 * handle even on failure (except when memory runs out), so that the message can be read; close it
 * in every case. */
int outpost_open(const char* path, const char* options_json, outpost_db** out_db);
/* Closes the handle and frees it (and nothing else may use it afterwards). NULL is allowed. */
void outpost_close(outpost_db* db);

/* The last failure on `db`: its code and message ("" and OUTPOST_OK after a success). The
 * message is valid until the next call on `db`. */
int outpost_errcode(const outpost_db* db);
const char* outpost_errmsg(const outpost_db* db);

/* The sync role of the signed-in user (its token's "role" claim; NULL or "" for unknown). The
 * app's writes are then checked locally against the role's column permissions (docs/sync-rules.md):
 * a write setting a column the role may not set fails with OUTPOST_CONSTRAINT_VIOLATION instead of
 * being queued for a push the server would reject. Kept in the store across reopening. Not inside
 * a transaction. */
int outpost_set_role(outpost_db* db, const char* role);

/* --- Schema and SQL ------------------------------------------------------------------------ */

/* Creates or migrates the mirror of a schema descriptor (GET /v1/schema). *report_json (may be
 * NULL): {"version", "created", "migrated", "dropped", "not_mirrored": [{"table", "object",
 * "reason"}]}. */
int outpost_apply_schema(outpost_db* db, const char* descriptor_json, char** report_json);

/* Runs SQL (several statements allowed; parameters bind the last) with `params_json` a JSON
 * array or object of values, or NULL. *result_json (may be NULL): {"columns": [...], "rows":
 * [[...]], "changes": n, "last_insert_rowid": n}. Writes to mirrored tables are captured for
 * sync. */
int outpost_execute(outpost_db* db, const char* sql, const char* params_json, char** result_json);

/* 1 while a transaction is open on `db` (the app ran BEGIN and has not ended it), else 0. */
int outpost_in_transaction(const outpost_db* db);

/* The mirrored tables `sql` reads: a JSON array of names. */
int outpost_tables_read(outpost_db* db, const char* sql, char** tables_json);

/* The mirrored tables changed by every transaction committed on this handle since the last call
 * (by the app or by sync), as a sorted JSON array ("[]" for none). For watched queries: re-run
 * those that read any of them. */
int outpost_take_changes(outpost_db* db, char** tables_json);

/* --- Sync ---------------------------------------------------------------------------------- */

/* {"pending_mutations", "pending_transactions", "awaiting_checkpoint", "bootstrapped", "cursor",
 * "last_sync", "last_error", "rejections", "notices", "client_id", "schema"}. */
int outpost_sync_status(outpost_db* db, char** status_json);
/* The client transactions the server refused: [{"id", "tx_id", "code", "message", "rule",
 * "table", "pk", "mutations", "at", "depends_on"}]; "depends_on" is the earlier rejected
 * transaction a "dependent" one wrote on (else null). */
int outpost_rejections(outpost_db* db, char** rejections_json);
int outpost_dismiss_rejection(outpost_db* db, int64_t id);
/* What the server did differently from what applied transactions wrote: [{"id", "tx_id", "code",
 * "table", "pk", "columns", "at"}] with codes "row_deleted", "superseded" (columns that kept the
 * server's value), "merged", "clock_clamped" (docs/semantics.md). */
int outpost_notices(outpost_db* db, char** notices_json);
int outpost_dismiss_notice(outpost_db* db, int64_t id);
/* Temporary keys the server replaced since the last call: [{"table", "from", "to"}]. */
int outpost_take_remaps(outpost_db* db, char** remaps_json);

/* A sync round (docs/sync-client.md, "A sync round"): the step-driven state machine for apps that
 * bring their own HTTP stack. `options_json` may be NULL or an object with "wait_seconds",
 * "pull_limit", "push_batch", "max_attempts", "initial_backoff_ms", "max_backoff_ms". One round at
 * a time per db handle; free it before closing the handle. */
int outpost_round_begin(outpost_db* db, const char* options_json, outpost_round** out_round);
/* The next step as JSON:
 *   {"kind": "send", "method": "GET" | "POST", "target": "/v1/...", "body": "..."}
 *   {"kind": "wait", "ms": n}                  call outpost_round_next again after n ms
 *   {"kind": "done", "code": c, "message": "...", "report": {"pushed_transactions",
 *    "rejected_transactions", "rows_received", "deletes_received", "bootstrapped_now"}}
 * After "send", feed the answer: for a 2xx status each body line (without its newline) to
 * outpost_round_line as it arrives, then outpost_round_answer(status, NULL, 0); for another status
 * outpost_round_answer(status, body, length); when there is no answer, outpost_round_failure. */
int outpost_round_next(outpost_round* round, char** step_json);
/* One line of a 2xx answer. A failure here means: stop reading, call outpost_round_failure with
 * this code and message. */
int outpost_round_line(outpost_round* round, const char* line, size_t length);
void outpost_round_answer(outpost_round* round, int http_status, const char* body, size_t length);
/* The request failed: `code` is usually OUTPOST_UNAVAILABLE (network down, timeout). */
void outpost_round_failure(outpost_round* round, int code, const char* message);
/* Ends the round at its next step (done, "sync cancelled"). */
void outpost_round_cancel(outpost_round* round);
void outpost_round_free(outpost_round* round);

#ifdef __cplusplus
}
#endif

#endif /* OUTPOST_H_ */
