/* outpost.h: the C API of Outpost, for apps written in other languages (Swift, Kotlin, Dart, C#
 * through FFI) and for the WebAssembly package, which calls it from JavaScript. It is the only
 * header a native app needs; link liboutpost (docs/c-api.md: CMake's find_package(Outpost) or
 * pkg-config's outpost).
 *
 * It is a thin layer over the C++ core and sync session (docs/architecture.md). Conventions:
 *  - Handles are opaque. An outpost_db is one local store with its sync session; an
 *    outpost_stmt is a prepared statement on it; an outpost_round is one sync round over it.
 *  - Strings are UTF-8. Unless a length is passed they are NUL-terminated. Values, rows, options
 *    and results travel as JSON text in the mapping of docs/types.md (the same as the C++ API's).
 *  - Every call that can fail returns an outpost_code: OUTPOST_OK (0) or a stable error code
 *    (outpost_code_name gives its name, the same as the protocol's and the command line's).
 *    outpost_step also returns OUTPOST_ROW or OUTPOST_DONE, outside the range of error codes. The
 *    code and message of the last call on a db handle, or on a statement or round made from it,
 *    are kept on the db handle (outpost_errcode, outpost_errmsg) until the next such call.
 *  - char** out parameters receive a string allocated by Outpost, which the caller releases with
 *    outpost_free; they are set to NULL on failure. const char* results belong to Outpost and say
 *    how long they stay valid.
 *  - No C++ exception crosses this boundary: an unexpected one becomes OUTPOST_INTERNAL.
 *  - Threading: a db handle, and the statements and rounds made from it, are used by one thread
 *    at a time (not necessarily always the same thread). Different handles, even on one file,
 *    may be used from different threads at once. outpost_sync_cancel is the one call that may
 *    come from another thread. Watch callbacks run on the thread whose call committed.
 *  - Closing (outpost_close) is always allowed: watches stop, and statements and rounds still
 *    alive become inert shells that only need finalizing (their other calls fail with
 *    OUTPOST_INVALID_ARGUMENT). See outpost_close.
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
  OUTPOST_MALFORMED_ANSWER = 26,

  /* Not errors: what outpost_step returns when it succeeds. */
  OUTPOST_ROW = 100, /* a row is ready: read it with outpost_column_* */
  OUTPOST_DONE = 101 /* the statement has run to its end */
} outpost_code;

/* Storage classes of a result value (outpost_column_type). */
typedef enum outpost_type {
  OUTPOST_TYPE_NULL = 0,
  OUTPOST_TYPE_INTEGER = 1,
  OUTPOST_TYPE_REAL = 2,
  OUTPOST_TYPE_TEXT = 3,
  OUTPOST_TYPE_BLOB = 4
} outpost_type;

typedef struct outpost_db outpost_db;
typedef struct outpost_stmt outpost_stmt;
typedef struct outpost_round outpost_round;

/* The library's version, "MAJOR.MINOR.PATCH"; a static string. The ABI is versioned separately:
 * every symbol of this header is exported under version OUTPOST_1 of liboutpost.so.1. */
const char* outpost_version(void);

/* "constraint_violation" for OUTPOST_CONSTRAINT_VIOLATION, "row" and "done" for OUTPOST_ROW and
 * OUTPOST_DONE, "unknown" for any other number; a static string. */
const char* outpost_code_name(int code);

/* Releases a string Outpost returned through a char** parameter. NULL is allowed. */
void outpost_free(void* p);

/* --- Opening and closing ------------------------------------------------------------------- */

/* Opens (creating if needed) the store at `path` (":memory:" for a private in-memory one) and its
 * sync session state. `options_json` may be NULL or an object with "durable" (bool, default true:
 * every commit synced), "wal" (bool, default true) and "cache_mib" (int), and for encryption at
 * rest (docs/local-store.md) either "key" (a passphrase, stretched with Argon2id; "kdf_cost":
 * "interactive", the default, or "moderate" applies when the file is created) or "raw_key" (64
 * hexadecimal digits, 32 bytes the app keeps in the platform's key store). A new file is created
 * encrypted with the key; an existing one opens only with its key: a wrong or missing key is
 * OUTPOST_UNAUTHORIZED and changes nothing, a key for a plain file OUTPOST_INVALID_ARGUMENT
 * (outpost_rekey encrypts it), a malformed key option OUTPOST_INVALID_ARGUMENT. Outpost keeps
 * only the derived page key, wiped at close; the caller wipes its copy of the options text.
 * *out_db receives a handle even on failure (except when memory runs out), so that the message
 * can be read; close it in every case. */
int outpost_open(const char* path, const char* options_json, outpost_db** out_db);

/* Re-encrypts the store file at `path`, closed everywhere (OUTPOST_BUSY when another connection
 * has it open), which `options_json` opens ("key" / "raw_key" as in outpost_open, or none for a
 * plain file), with the key of `new_key_json` ("key" / "raw_key" / "kdf_cost"; NULL or {} to
 * decrypt). Crash-safe: a complete copy is written and synced next to the file, then renamed
 * over it, so the file opens with either the old key or the new one. Native builds only
 * (OUTPOST_UNSUPPORTED in WebAssembly). On failure *error_message (may be NULL) receives the
 * message, released with outpost_free. Any thread; no handle is involved. */
int outpost_rekey(const char* path, const char* options_json, const char* new_key_json,
                  char** error_message);
/* Closes the handle; `db` must not be used afterwards. NULL is allowed. Always safe:
 *  - every watch of the handle is removed: no callback runs after outpost_close returns;
 *  - an open transaction is rolled back (SQLite does so when the connection closes);
 *  - statements not yet finalized and rounds not yet freed are finalized underneath: they stay
 *    valid as handles, every call on them but outpost_finalize / outpost_round_free fails with
 *    OUTPOST_INVALID_ARGUMENT (column calls return NULL or 0), and the app still releases them;
 *  - called from a watch callback (that is, while another call on the handle is running), the
 *    store is released when that outer call returns; an outpost_sync then in progress stops at
 *    its next step.
 * The database file is closed before outpost_close returns, unless it is called from a callback
 * (then when the outer call returns). */
void outpost_close(outpost_db* db);

/* The code of the last call on `db` or on a statement or round of it, and its message ("" after
 * a success). The message is valid until the next call on `db` or on its statements or rounds. */
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

/* --- Transactions -------------------------------------------------------------------------- */
/* One SQLite transaction is one client transaction: its writes, through outpost_execute and
 * prepared statements alike, are pushed together and the server applies or rejects them
 * together. Without outpost_begin every write statement is a transaction of its own. These are
 * SQL's BEGIN IMMEDIATE, COMMIT and ROLLBACK (the same as running them with outpost_execute). */

/* Opens a transaction, taking the database's write lock at once (so that a later write cannot
 * fail for another connection's lock: OUTPOST_BUSY comes here, after a 5 s wait, if at all).
 * OUTPOST_INVALID_ARGUMENT when one is already open. */
int outpost_begin(outpost_db* db);
/* Commits it; watch callbacks for what it changed run before this returns.
 * OUTPOST_INVALID_ARGUMENT when none is open. If the commit fails (OUTPOST_BUSY, a deferred
 * constraint) the transaction may still be open: see outpost_in_transaction, and roll back. */
int outpost_commit(outpost_db* db);
/* Rolls it back, captured changes included. OUTPOST_OK and nothing done when none is open (SQLite
 * may have rolled back by itself after an error). */
int outpost_rollback(outpost_db* db);

/* --- Prepared statements ------------------------------------------------------------------- */
/* For the hot path: one SQL statement parsed once, then bound, stepped and reset as often as
 * needed, with values in and out as C types (no JSON). Writes are captured for sync exactly like
 * outpost_execute's. A statement belongs to its db handle's thread rule, and its calls record
 * their outcome on the db handle (outpost_errmsg). */

/* Prepares exactly one SQL statement (a trailing ';' is fine). *out_stmt is NULL on failure. */
int outpost_prepare(outpost_db* db, const char* sql, outpost_stmt** out_stmt);
/* Finalizes the statement and frees the handle. NULL is allowed. Also after outpost_close. */
void outpost_finalize(outpost_stmt* stmt);
/* The db handle the statement was prepared on (for outpost_errmsg). */
outpost_db* outpost_stmt_db(const outpost_stmt* stmt);

/* Parameters: ?, ?NNN, :name, @name, $name. Indexes are 1-based. */
int outpost_bind_parameter_count(const outpost_stmt* stmt);
/* The index of a named parameter, prefix included (":id"); 0 when there is none. */
int outpost_bind_parameter_index(const outpost_stmt* stmt, const char* name);

/* Binding. Only before the first outpost_step after preparing or outpost_reset (else
 * OUTPOST_INVALID_ARGUMENT). Text and blobs are copied: the caller's buffer may be reused at once.
 * An index outside 1..outpost_bind_parameter_count is OUTPOST_INVALID_ARGUMENT. */
int outpost_bind_null(outpost_stmt* stmt, int index);
int outpost_bind_int64(outpost_stmt* stmt, int index, int64_t value);
/* NaN is OUTPOST_UNSUPPORTED (SQLite would store NULL); infinities are stored. */
int outpost_bind_double(outpost_stmt* stmt, int index, double value);
/* `length` bytes of UTF-8 (checked: OUTPOST_INVALID_ARGUMENT otherwise), or up to the NUL with
 * OUTPOST_NUL_TERMINATED. A NULL `text` binds SQL NULL. */
#define OUTPOST_NUL_TERMINATED ((size_t)-1)
int outpost_bind_text(outpost_stmt* stmt, int index, const char* text, size_t length);
/* `length` bytes; NULL with length 0 is an empty BLOB (not NULL). */
int outpost_bind_blob(outpost_stmt* stmt, int index, const void* data, size_t length);
/* One JSON value in the mapping of docs/types.md, as in outpost_execute's parameters: null,
 * true/false (as 1/0), numbers, strings, {"$blob": "<base64>"}; any other object or array is
 * bound as its JSON text. */
int outpost_bind_json(outpost_stmt* stmt, int index, const char* value_json);

/* Runs the statement to its next row: OUTPOST_ROW (a row is ready), OUTPOST_DONE (finished; a
 * write outside a transaction has committed, and watch callbacks for it have run), or an error
 * code (the statement is then reset, its bindings kept). */
int outpost_step(outpost_stmt* stmt);
/* Resets the statement to run again from the start AND clears its bindings (unlike SQLite's
 * sqlite3_reset). Reset a statement you stop reading before its end: until then it holds a read
 * snapshot of the database. */
int outpost_reset(outpost_stmt* stmt);

/* Columns of the current row (after OUTPOST_ROW). Without a current row, or for a column index
 * out of range, they return OUTPOST_TYPE_NULL, 0, 0.0 or NULL. Returned pointers are valid until
 * the next outpost_step, outpost_reset or outpost_finalize of the statement. */
int outpost_column_count(const outpost_stmt* stmt);              /* valid at any time */
const char* outpost_column_name(outpost_stmt* stmt, int column); /* at any time */
int outpost_column_type(const outpost_stmt* stmt, int column);   /* an outpost_type */
/* INTEGER as it is, REAL truncated toward zero (clamped to the int64 range); 0 otherwise. */
int64_t outpost_column_int64(const outpost_stmt* stmt, int column);
/* REAL as it is, INTEGER converted; 0.0 otherwise. */
double outpost_column_double(const outpost_stmt* stmt, int column);
/* TEXT: its UTF-8, NUL-terminated (length: outpost_column_bytes). NULL for other types. */
const char* outpost_column_text(const outpost_stmt* stmt, int column);
/* BLOB (or TEXT): its bytes; NULL for other types and for an empty BLOB. */
const void* outpost_column_blob(const outpost_stmt* stmt, int column);
/* The length in bytes of a TEXT or BLOB value; 0 for other types. */
size_t outpost_column_bytes(const outpost_stmt* stmt, int column);
/* Any value as JSON text in the mapping of docs/types.md, exactly as outpost_execute's rows give
 * it: null, numbers, strings, true/false for a mirrored boolean column, {"$blob": "<base64>"}.
 * NULL without a current row. */
const char* outpost_column_json(outpost_stmt* stmt, int column);

/* --- Change notification and watched queries ----------------------------------------------- */

/* The mirrored tables `sql` reads: a JSON array of names. */
int outpost_tables_read(outpost_db* db, const char* sql, char** tables_json);

/* The mirrored tables changed by every transaction committed on this handle since the last call
 * (by the app or by sync), as a sorted JSON array ("[]" for none). For apps that re-run their
 * queries themselves; outpost_watch does it for them. */
int outpost_take_changes(outpost_db* db, char** tables_json);

/* A watch callback. On success `code` is OUTPOST_OK, `result_json` is {"columns": [...],
 * "rows": [[...]]} (outpost_execute's mapping) and `message` is NULL; when the query fails (e.g.
 * a migration dropped its table) `code` is the error, `result_json` NULL and `message` says why.
 * Both strings belong to Outpost and are valid only during the call: copy what you keep. */
typedef void (*outpost_watch_fn)(void* user_data, int code, const char* result_json,
                                 const char* message);

/* A watched query: runs `sql` with `params_json` (as outpost_execute: an array, an object, or
 * NULL) now, calling `callback` with the first result before outpost_watch returns, then again
 * after every committed transaction that changes a mirrored table the query reads, the app's
 * (outpost_execute, outpost_step, outpost_commit) and sync's (outpost_sync, outpost_round_*)
 * alike: one call per transaction, never inside one. The callback runs on the thread of the call
 * that committed, before that call returns; it may use the handle (run SQL, unwatch, even close
 * it: see outpost_close), but must not start a sync round. `user_data` is passed back as is and
 * owned by the app, which may free it once outpost_unwatch or outpost_close has returned.
 * *out_watch_id receives the watch's id. Errors are those of preparing or first running `sql`
 * (no watch is made, no callback). */
int outpost_watch(outpost_db* db, const char* sql, const char* params_json,
                  outpost_watch_fn callback, void* user_data, int64_t* out_watch_id);
/* Removes a watch: no call after this returns. OUTPOST_NOT_FOUND for an unknown id. */
int outpost_unwatch(outpost_db* db, int64_t watch_id);

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

/* A whole sync round over Outpost's own HTTP client (the one the `outpost` command line uses),
 * for apps without an HTTP stack of their own: the schema when the store has none (so a fresh
 * store needs nothing but this call), push everything pending, pull until caught up, and with
 * "wait_seconds" one long-poll. Blocks the calling thread until the round ends. `server_url` is
 * "http[s]://host[:port][/prefix]"; `token` the user's JWT, sent as a Bearer token (neither is
 * stored). `options_json` may be NULL or an object with the options of outpost_round_begin and
 * "connect_timeout_seconds" (10), "read_timeout_seconds" (90; more than any long-poll wait),
 * "write_timeout_seconds" (30). *report_json (may be NULL): {"pushed_transactions",
 * "rejected_transactions", "rows_received", "deletes_received", "bootstrapped_now"}. Errors: the
 * round's (OUTPOST_UNAVAILABLE when the server cannot be reached after the retries,
 * OUTPOST_UNAUTHORIZED, ...), already recorded in the store (outpost_sync_status's
 * "last_error"); OUTPOST_INVALID_ARGUMENT when a round is running on the handle.
 * Native builds only: the WebAssembly build returns OUTPOST_UNSUPPORTED (JavaScript drives the
 * step-driven round below with fetch). */
int outpost_sync(outpost_db* db, const char* server_url, const char* token,
                 const char* options_json, char** report_json);
/* Asks the outpost_sync running on `db` to stop at its next step (it then fails with
 * OUTPOST_UNAVAILABLE, "sync cancelled"); a request in flight is not cut short. The only call
 * that may come from another thread than the one using `db`, as long as `db` is not being
 * closed. Does nothing when no outpost_sync is running. */
void outpost_sync_cancel(outpost_db* db);

/* A sync round (docs/sync-client.md, "A sync round"): the step-driven state machine for apps that
 * bring their own HTTP stack. `options_json` may be NULL or an object with "wait_seconds",
 * "pull_limit", "push_batch", "max_attempts", "initial_backoff_ms", "max_backoff_ms". One round at
 * a time per db handle (outpost_sync counts); free it when done. */
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
/* Frees the round. NULL is allowed. Also after outpost_close. */
void outpost_round_free(outpost_round* round);

#ifdef __cplusplus
}
#endif

#endif /* OUTPOST_H_ */
