/* The C API's prepared statements (binders, steps, columns, errors) and transactions, from C.
 * Part of capi_tests (capi_test.c has main). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi_check.h"

/* Two tables: items (every storage class) and tags (to show what a watch does not see). */
static const char* kItems =
    "{\"format\":1,\"app\":\"capi\",\"roles\":[\"user\"],\"tables\":["
    "{\"name\":\"items\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"uuid\",\"pg_type\":\"uuid\",\"nullable\":false},"
    "{\"name\":\"name\",\"type\":\"text\",\"pg_type\":\"text\",\"nullable\":false},"
    "{\"name\":\"qty\",\"type\":\"integer\",\"pg_type\":\"bigint\",\"nullable\":true},"
    "{\"name\":\"price\",\"type\":\"real\",\"pg_type\":\"double precision\",\"nullable\":true},"
    "{\"name\":\"photo\",\"type\":\"bytea\",\"pg_type\":\"bytea\",\"nullable\":true},"
    "{\"name\":\"flag\",\"type\":\"boolean\",\"pg_type\":\"boolean\",\"nullable\":true}],"
    "\"primary_key\":[\"id\"],\"sync\":{\"scope\":\"all\"}},"
    "{\"name\":\"tags\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"uuid\",\"pg_type\":\"uuid\",\"nullable\":false},"
    "{\"name\":\"label\",\"type\":\"text\",\"pg_type\":\"text\",\"nullable\":false}],"
    "\"primary_key\":[\"id\"],\"sync\":{\"scope\":\"all\"}}]}";

outpost_db* OpenItemsAt(const char* path, const char* options) {
  outpost_db* db = NULL;
  CHECK(outpost_open(path, options, &db) == OUTPOST_OK);
  CHECK(outpost_apply_schema(db, kItems, NULL) == OUTPOST_OK); /* a no-op when mirrored */
  return db;
}

outpost_db* OpenItems(void) {
  return OpenItemsAt(":memory:", "{\"durable\":false}");
}

/* pending_transactions / pending_mutations of the outbox. */
static long long Pending(outpost_db* db, const char* which) {
  char* status = NULL;
  CHECK(outpost_sync_status(db, &status) == OUTPOST_OK);
  long long n = JsonNumber(status, which);
  outpost_free(status);
  return n;
}

static long long Count(outpost_db* db, const char* sql) {
  outpost_stmt* stmt = NULL;
  CHECK(outpost_prepare(db, sql, &stmt) == OUTPOST_OK);
  CHECK(outpost_step(stmt) == OUTPOST_ROW);
  long long n = outpost_column_int64(stmt, 0);
  CHECK(outpost_step(stmt) == OUTPOST_DONE);
  outpost_finalize(stmt);
  return n;
}

static void TestBinding(outpost_db* db) {
  outpost_stmt* insert = NULL;
  CHECK(outpost_prepare(db,
                        "INSERT INTO items (id, name, qty, price, photo, flag) VALUES (?, ?, ?, ?, "
                        "?, ?);",
                        &insert) == OUTPOST_OK);
  CHECK(insert != NULL && outpost_stmt_db(insert) == db);
  CHECK(outpost_bind_parameter_count(insert) == 6);
  CHECK(outpost_column_count(insert) == 0);

  /* Every binder, text both NUL-terminated and by length (only the first 5 bytes: "café"). */
  const unsigned char photo[] = {0x00, 0x01, 0xfe, 0xff};
  CHECK(outpost_bind_text(insert, 1, "0190a5d2-1c4e-7000-8000-0000000000a1",
                          OUTPOST_NUL_TERMINATED) == OUTPOST_OK);
  CHECK(outpost_bind_text(insert, 2, "caf\xc3\xa9 and more", 5) == OUTPOST_OK);
  CHECK(outpost_bind_int64(insert, 3, INT64_C(9007199254740993)) == OUTPOST_OK);
  CHECK(outpost_bind_double(insert, 4, 2.5) == OUTPOST_OK);
  CHECK(outpost_bind_blob(insert, 5, photo, sizeof photo) == OUTPOST_OK);
  CHECK(outpost_bind_json(insert, 6, "true") == OUTPOST_OK);
  CHECK(outpost_step(insert) == OUTPOST_DONE);
  CHECK(outpost_errcode(db) == OUTPOST_OK);

  /* Binding needs a reset after a step. */
  CHECK(outpost_bind_int64(insert, 3, 1) == OUTPOST_INVALID_ARGUMENT);
  CHECK(CONTAINS(outpost_errmsg(db), "outpost_reset"));
  CHECK(outpost_reset(insert) == OUTPOST_OK);

  /* Wrong indexes and values: stable codes, messages on the db handle. */
  CHECK(outpost_bind_int64(insert, 0, 1) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_bind_null(insert, 7) == OUTPOST_INVALID_ARGUMENT);
  CHECK(CONTAINS(outpost_errmsg(db), "out of range"));
  CHECK(outpost_bind_text(insert, 2, "\xff\xfe", OUTPOST_NUL_TERMINATED) ==
        OUTPOST_INVALID_ARGUMENT);
  CHECK(CONTAINS(outpost_errmsg(db), "UTF-8"));
  CHECK(outpost_bind_text(insert, 2, "\xed\xa0\x80", 3) ==
        OUTPOST_INVALID_ARGUMENT); /* surrogate */
  CHECK(outpost_bind_double(insert, 4, nan("")) == OUTPOST_UNSUPPORTED);
  CHECK(outpost_bind_json(insert, 6, "{not json") == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_bind_json(insert, 5, "{\"$blob\":\"!!\"}") == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_bind_blob(insert, 5, NULL, 3) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_bind_text(NULL, 1, "x", 1) == OUTPOST_INVALID_ARGUMENT);

  /* A second row: NULLs (bind_null, a NULL text, JSON null), an empty BLOB, a blob as JSON. */
  CHECK(outpost_bind_json(insert, 1, "\"0190a5d2-1c4e-7000-8000-0000000000a2\"") == OUTPOST_OK);
  CHECK(outpost_bind_text(insert, 2, "zebra", OUTPOST_NUL_TERMINATED) == OUTPOST_OK);
  CHECK(outpost_bind_text(insert, 3, NULL, 0) == OUTPOST_OK);
  CHECK(outpost_bind_null(insert, 4) == OUTPOST_OK);
  CHECK(outpost_bind_blob(insert, 5, NULL, 0) == OUTPOST_OK);
  CHECK(outpost_bind_json(insert, 6, "null") == OUTPOST_OK);
  CHECK(outpost_step(insert) == OUTPOST_DONE);

  /* A constraint failure: the code, SQLite's message, and the statement reset with its
   * bindings kept (stepping again fails the same way). */
  CHECK(outpost_step(insert) == OUTPOST_CONSTRAINT_VIOLATION);
  CHECK(CONTAINS(outpost_errmsg(db), "UNIQUE"));
  CHECK(outpost_step(insert) == OUTPOST_CONSTRAINT_VIOLATION);
  CHECK(outpost_reset(insert) == OUTPOST_OK);
  /* Reset cleared the bindings: NOT NULL id. */
  CHECK(outpost_step(insert) == OUTPOST_CONSTRAINT_VIOLATION);
  outpost_finalize(insert);

  /* Writes through statements are captured like outpost_execute's: one transaction each. */
  CHECK(Pending(db, "pending_transactions") == 2);
  CHECK(Pending(db, "pending_mutations") == 2);
  char* outbox = NULL;
  CHECK(outpost_execute(db, "SELECT count(*) FROM _outpost_outbox WHERE tbl = 'items' AND op = 'I'",
                        NULL, &outbox) == OUTPOST_OK);
  CHECK(CONTAINS(outbox, "[[2]]"));
  outpost_free(outbox);
}

static void TestColumns(outpost_db* db) {
  outpost_stmt* q = NULL;
  CHECK(outpost_prepare(db,
                        "SELECT id, name, qty, price, photo, flag, qty * 2 AS doubled, price * 3 "
                        "FROM items ORDER BY name",
                        &q) == OUTPOST_OK);
  CHECK(outpost_column_count(q) == 8);
  CHECK(outpost_column_name(q, 1) && strcmp(outpost_column_name(q, 1), "name") == 0);
  CHECK(outpost_column_name(q, 6) && strcmp(outpost_column_name(q, 6), "doubled") == 0);
  CHECK(outpost_column_name(q, 8) == NULL);
  /* No row yet. */
  CHECK(outpost_column_type(q, 1) == OUTPOST_TYPE_NULL && outpost_column_text(q, 1) == NULL);
  CHECK(outpost_column_json(q, 1) == NULL);

  CHECK(outpost_step(q) == OUTPOST_ROW);
  CHECK(outpost_column_type(q, 0) == OUTPOST_TYPE_TEXT);
  CHECK(outpost_column_type(q, 2) == OUTPOST_TYPE_INTEGER);
  CHECK(outpost_column_type(q, 3) == OUTPOST_TYPE_REAL);
  CHECK(outpost_column_type(q, 4) == OUTPOST_TYPE_BLOB);
  CHECK(outpost_column_type(q, 5) == OUTPOST_TYPE_INTEGER);
  CHECK(strcmp(outpost_column_text(q, 1), "caf\xc3\xa9") == 0);
  CHECK(outpost_column_bytes(q, 1) == 5);
  CHECK(outpost_column_int64(q, 2) == INT64_C(9007199254740993));
  CHECK(outpost_column_double(q, 3) == 2.5);
  CHECK(outpost_column_int64(q, 7) == 7);      /* 7.5 truncated */
  CHECK(outpost_column_double(q, 2) > 9.0e15); /* INTEGER converted */
  CHECK(outpost_column_bytes(q, 4) == 4);
  const unsigned char* photo = (const unsigned char*)outpost_column_blob(q, 4);
  CHECK(photo && photo[0] == 0x00 && photo[2] == 0xfe && photo[3] == 0xff);
  CHECK(outpost_column_text(q, 4) == NULL); /* a BLOB is not text */
  CHECK(outpost_column_text(q, 2) == NULL && outpost_column_bytes(q, 2) == 0);
  /* JSON exactly as outpost_execute gives it: booleans of boolean columns, blobs in base64. */
  CHECK(strcmp(outpost_column_json(q, 1), "\"caf\xc3\xa9\"") == 0);
  CHECK(strcmp(outpost_column_json(q, 2), "9007199254740993") == 0);
  CHECK(strcmp(outpost_column_json(q, 3), "2.5") == 0);
  CHECK(strcmp(outpost_column_json(q, 4), "{\"$blob\":\"AAH+/w==\"}") == 0);
  CHECK(strcmp(outpost_column_json(q, 5), "true") == 0);
  CHECK(strcmp(outpost_column_json(q, 6), "18014398509481986") == 0);
  /* Out of range. */
  CHECK(outpost_column_type(q, 8) == OUTPOST_TYPE_NULL && outpost_column_json(q, -1) == NULL);
  CHECK(outpost_column_int64(q, 99) == 0 && outpost_column_blob(q, 99) == NULL);

  CHECK(outpost_step(q) == OUTPOST_ROW);
  CHECK(strcmp(outpost_column_text(q, 1), "zebra") == 0);
  CHECK(outpost_column_type(q, 2) == OUTPOST_TYPE_NULL && outpost_column_int64(q, 2) == 0);
  CHECK(outpost_column_type(q, 3) == OUTPOST_TYPE_NULL && outpost_column_double(q, 3) == 0.0);
  CHECK(strcmp(outpost_column_json(q, 3), "null") == 0);
  CHECK(outpost_column_type(q, 4) == OUTPOST_TYPE_BLOB); /* empty, not NULL */
  CHECK(outpost_column_bytes(q, 4) == 0 && outpost_column_blob(q, 4) == NULL);
  CHECK(strcmp(outpost_column_json(q, 4), "{\"$blob\":\"\"}") == 0);
  CHECK(strcmp(outpost_column_json(q, 5), "null") == 0);

  CHECK(outpost_step(q) == OUTPOST_DONE);
  CHECK(outpost_column_text(q, 1) == NULL && outpost_column_json(q, 0) == NULL);
  /* Run again after a reset. */
  CHECK(outpost_reset(q) == OUTPOST_OK);
  CHECK(outpost_step(q) == OUTPOST_ROW);
  CHECK(strcmp(outpost_column_text(q, 1), "caf\xc3\xa9") == 0);
  outpost_finalize(q);

  /* The same row through outpost_execute: one JSON mapping. */
  char* result = NULL;
  CHECK(outpost_execute(db, "SELECT name, photo, flag FROM items ORDER BY name LIMIT 1", NULL,
                        &result) == OUTPOST_OK);
  CHECK(CONTAINS(result, "[[\"caf\xc3\xa9\",{\"$blob\":\"AAH+/w==\"},true]]"));
  outpost_free(result);

  /* Named parameters. */
  outpost_stmt* named = NULL;
  CHECK(outpost_prepare(db, "SELECT :a + @b", &named) == OUTPOST_OK);
  CHECK(outpost_bind_parameter_index(named, ":a") == 1);
  CHECK(outpost_bind_parameter_index(named, "@b") == 2);
  CHECK(outpost_bind_parameter_index(named, ":zz") == 0);
  CHECK(outpost_bind_int64(named, 1, 40) == OUTPOST_OK);
  CHECK(outpost_bind_double(named, 2, 2.0) == OUTPOST_OK);
  CHECK(outpost_step(named) == OUTPOST_ROW);
  CHECK(outpost_column_double(named, 0) == 42.0);
  outpost_finalize(named);
}

static void TestPrepareErrors(outpost_db* db) {
  outpost_stmt* stmt = (outpost_stmt*)1;
  CHECK(outpost_prepare(db, "SELEKT", &stmt) == OUTPOST_SQL_ERROR);
  CHECK(stmt == NULL);
  CHECK(CONTAINS(outpost_errmsg(db), "syntax error"));
  CHECK(outpost_prepare(db, "SELECT * FROM nowhere", &stmt) == OUTPOST_SQL_ERROR);
  CHECK(CONTAINS(outpost_errmsg(db), "no such table"));
  CHECK(outpost_prepare(db, "SELECT 1; SELECT 2", &stmt) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_prepare(db, "   ", &stmt) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_prepare(db, NULL, &stmt) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_prepare(NULL, "SELECT 1", &stmt) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_prepare(db, "SELECT 1", NULL) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_step(NULL) == OUTPOST_INVALID_ARGUMENT);
  outpost_finalize(NULL);
  CHECK(outpost_prepare(db, "SELECT 1;", &stmt) == OUTPOST_OK);
  CHECK(outpost_errcode(db) == OUTPOST_OK && strcmp(outpost_errmsg(db), "") == 0);
  outpost_finalize(stmt);
}

void TestStatements(void) {
  CHECK(strcmp(outpost_code_name(OUTPOST_ROW), "row") == 0);
  CHECK(strcmp(outpost_code_name(OUTPOST_DONE), "done") == 0);
  CHECK(strcmp(outpost_code_name(57), "unknown") == 0);
  const char* version = outpost_version();
  int major = -1, minor = -1, patch = -1;
  CHECK(version && sscanf(version, "%d.%d.%d", &major, &minor, &patch) == 3);

  outpost_db* db = OpenItems();
  TestBinding(db);
  TestColumns(db);
  TestPrepareErrors(db);
  outpost_close(db);
}

void TestTransactions(void) {
  outpost_db* db = OpenItems();
  CHECK(outpost_commit(db) == OUTPOST_INVALID_ARGUMENT);
  CHECK(CONTAINS(outpost_errmsg(db), "no transaction"));
  CHECK(outpost_rollback(db) == OUTPOST_OK); /* nothing to roll back */

  /* Statements and outpost_execute in one transaction: one client transaction. */
  outpost_stmt* insert = NULL;
  CHECK(outpost_prepare(db, "INSERT INTO items (id, name) VALUES (outpost_uuid(), ?)", &insert) ==
        OUTPOST_OK);
  CHECK(outpost_begin(db) == OUTPOST_OK);
  CHECK(outpost_in_transaction(db) == 1);
  CHECK(outpost_begin(db) == OUTPOST_INVALID_ARGUMENT);
  CHECK(CONTAINS(outpost_errmsg(db), "already open"));
  for (int i = 0; i < 3; ++i) {
    char name[16];
    snprintf(name, sizeof name, "bulk %d", i);
    CHECK(outpost_bind_text(insert, 1, name, OUTPOST_NUL_TERMINATED) == OUTPOST_OK);
    CHECK(outpost_step(insert) == OUTPOST_DONE);
    CHECK(outpost_reset(insert) == OUTPOST_OK);
  }
  CHECK(outpost_execute(db, "UPDATE items SET qty = 1 WHERE name = 'bulk 0'", NULL, NULL) ==
        OUTPOST_OK);
  /* The connection sees its own open transaction: one transaction id for every write. */
  CHECK(Pending(db, "pending_transactions") == 1);
  CHECK(outpost_commit(db) == OUTPOST_OK);
  CHECK(outpost_in_transaction(db) == 0);
  CHECK(Pending(db, "pending_transactions") == 1);
  CHECK(Pending(db, "pending_mutations") == 4);

  /* Rolled back: neither rows nor captured changes remain. */
  CHECK(outpost_begin(db) == OUTPOST_OK);
  CHECK(outpost_bind_text(insert, 1, "gone", OUTPOST_NUL_TERMINATED) == OUTPOST_OK);
  CHECK(outpost_step(insert) == OUTPOST_DONE);
  CHECK(outpost_rollback(db) == OUTPOST_OK);
  CHECK(outpost_in_transaction(db) == 0);
  CHECK(Count(db, "SELECT count(*) FROM items WHERE name = 'gone'") == 0);
  CHECK(Pending(db, "pending_mutations") == 4);
  outpost_finalize(insert);

  /* BEGIN/COMMIT through SQL are the same thing. */
  CHECK(outpost_execute(db, "BEGIN", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_begin(db) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_execute(db, "INSERT INTO tags (id, label) VALUES (outpost_uuid(), 'x')", NULL,
                        NULL) == OUTPOST_OK);
  CHECK(outpost_commit(db) == OUTPOST_OK);
  CHECK(Pending(db, "pending_transactions") == 2);
  outpost_close(db);
}
