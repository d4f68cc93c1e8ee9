/* The C API's watched queries, the rules of outpost_close (with statements, rounds and watches
 * alive, and from inside a callback), and outpost_sync's errors without a server (a refused
 * connection, a running round, cancellation from another thread). Part of capi_tests. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "capi_check.h"

/* What a watch callback saw. */
typedef struct {
  int calls;
  int last_code;
  char last[512];
  /* Optional actions from inside the callback, on the call numbered `act_on`. */
  int act_on;
  outpost_db* db;
  outpost_stmt* finalize; /* outpost_finalize it */
  int close;              /* outpost_close(db) */
  int run_sql;            /* run a query on db and keep its result in `inner` */
  char inner[256];
} Watcher;

static void OnResult(void* user_data, int code, const char* result_json, const char* message) {
  Watcher* w = (Watcher*)user_data;
  ++w->calls;
  w->last_code = code;
  CHECK((code == OUTPOST_OK) == (result_json != NULL));
  CHECK((code == OUTPOST_OK) == (message == NULL));
  snprintf(w->last, sizeof w->last, "%s", code == OUTPOST_OK ? result_json : message);
  if (w->calls != w->act_on) return;
  if (w->run_sql) {
    char* inner = NULL;
    CHECK(outpost_execute(w->db, "SELECT count(*) FROM items", NULL, &inner) == OUTPOST_OK);
    snprintf(w->inner, sizeof w->inner, "%s", inner ? inner : "");
    outpost_free(inner);
  }
  if (w->finalize) outpost_finalize(w->finalize);
  if (w->close) outpost_close(w->db);
}

static void Insert(outpost_db* db, const char* table, const char* name) {
  char sql[256];
  snprintf(sql, sizeof sql, "INSERT INTO %s (id, %s) VALUES (outpost_uuid(), ?)", table,
           strcmp(table, "items") == 0 ? "name" : "label");
  char params[64];
  snprintf(params, sizeof params, "[\"%s\"]", name);
  CHECK(outpost_execute(db, sql, params, NULL) == OUTPOST_OK);
}

void TestWatches(void) {
  outpost_db* db = OpenItems();
  Watcher count = {0};
  int64_t id = 0;
  CHECK(outpost_watch(db, "SELECT count(*) AS n FROM items", NULL, OnResult, &count, &id) ==
        OUTPOST_OK);
  CHECK(id > 0);
  /* The first result before outpost_watch returns. */
  CHECK(count.calls == 1 && strcmp(count.last, "{\"columns\":[\"n\"],\"rows\":[[0]]}") == 0);

  /* One call per committed transaction that changes a table the query reads. */
  Insert(db, "items", "one");
  CHECK(count.calls == 2 && CONTAINS(count.last, "[[1]]"));
  Insert(db, "tags", "unrelated");
  CHECK(count.calls == 2);
  outpost_stmt* insert = NULL;
  CHECK(outpost_prepare(db, "INSERT INTO items (id, name) VALUES (outpost_uuid(), 'stmt')",
                        &insert) == OUTPOST_OK);
  CHECK(outpost_step(insert) == OUTPOST_DONE); /* a statement that commits on its own */
  CHECK(count.calls == 3 && CONTAINS(count.last, "[[2]]"));
  CHECK(outpost_begin(db) == OUTPOST_OK);
  for (int i = 0; i < 3; ++i) {
    CHECK(outpost_reset(insert) == OUTPOST_OK);
    CHECK(outpost_step(insert) == OUTPOST_DONE);
  }
  Insert(db, "items", "four");
  CHECK(count.calls == 3); /* never inside a transaction */
  CHECK(outpost_commit(db) == OUTPOST_OK);
  CHECK(count.calls == 4 && CONTAINS(count.last, "[[6]]"));
  CHECK(outpost_begin(db) == OUTPOST_OK);
  Insert(db, "items", "rolled back");
  CHECK(outpost_rollback(db) == OUTPOST_OK);
  CHECK(count.calls == 4);
  outpost_finalize(insert);

  /* Parameters, and a callback that runs SQL on the handle. */
  Watcher named = {0};
  named.act_on = 2;
  named.db = db;
  named.run_sql = 1;
  int64_t named_id = 0;
  CHECK(outpost_watch(db, "SELECT name FROM items WHERE name = :name", "{\"name\":\"late\"}",
                      OnResult, &named, &named_id) == OUTPOST_OK);
  CHECK(named.calls == 1 && CONTAINS(named.last, "\"rows\":[]"));
  Insert(db, "items", "late");
  CHECK(named.calls == 2 && CONTAINS(named.last, "[[\"late\"]]"));
  CHECK(CONTAINS(named.inner, "[[7]]"));
  CHECK(count.calls == 5);

  /* Errors: no watch, no callback. */
  Watcher none = {0};
  int64_t bad = 99;
  CHECK(outpost_watch(db, "SELECT * FROM nowhere", NULL, OnResult, &none, &bad) ==
        OUTPOST_SQL_ERROR);
  CHECK(bad == 0 && none.calls == 0 && CONTAINS(outpost_errmsg(db), "no such table"));
  CHECK(outpost_watch(db, "SELECT ?", "[1, 2]", OnResult, &none, &bad) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_watch(db, "SELECT 1", NULL, NULL, &none, &bad) == OUTPOST_INVALID_ARGUMENT);
  CHECK(none.calls == 0);

  /* Unwatched: no more calls. */
  CHECK(outpost_unwatch(db, id) == OUTPOST_OK);
  CHECK(outpost_unwatch(db, id) == OUTPOST_NOT_FOUND);
  Insert(db, "items", "unseen");
  CHECK(count.calls == 5);
  CHECK(named.calls == 3); /* still watching; its result did not change, it is run again */
  outpost_close(db);
}

/* A statement mid-read, a round and watches alive at close. With a rollback journal, a statement
 * that has read a row holds a shared lock on the file: if the connection stayed open, another
 * handle's commit would wait for it (5 s) and fail busy. */
static void TestCloseWithEverythingAlive(const char* path) {
  outpost_db* db = OpenItemsAt(path, "{\"wal\":false,\"durable\":false}");
  Insert(db, "items", "a");
  Insert(db, "items", "b");
  outpost_stmt* reading = NULL;
  CHECK(outpost_prepare(db, "SELECT name FROM items ORDER BY name", &reading) == OUTPOST_OK);
  CHECK(outpost_step(reading) == OUTPOST_ROW);
  outpost_stmt* idle = NULL;
  CHECK(outpost_prepare(db, "SELECT 1", &idle) == OUTPOST_OK);
  outpost_round* round = NULL;
  CHECK(outpost_round_begin(db, NULL, &round) == OUTPOST_OK);
  Watcher w = {0};
  int64_t id = 0;
  CHECK(outpost_watch(db, "SELECT count(*) FROM items", NULL, OnResult, &w, &id) == OUTPOST_OK);

  outpost_close(db);

  /* The file is free: another handle writes at once. */
  outpost_db* other = OpenItemsAt(path, "{\"wal\":false,\"durable\":false}");
  time_t start = time(NULL);
  Insert(other, "items", "c");
  CHECK(time(NULL) - start < 3);
  outpost_close(other);
  CHECK(w.calls == 1); /* the first result only: the watch went with the handle */

  /* The shells fail cleanly and are released afterwards. */
  CHECK(outpost_step(reading) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_reset(reading) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_bind_int64(idle, 1, 1) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_column_text(reading, 0) == NULL && outpost_column_count(reading) == 0);
  CHECK(outpost_column_name(reading, 0) == NULL && outpost_column_json(reading, 0) == NULL);
  CHECK(outpost_bind_parameter_count(idle) == 0);
  char* step = (char*)1;
  CHECK(outpost_round_next(round, &step) == OUTPOST_INVALID_ARGUMENT && step == NULL);
  CHECK(outpost_round_line(round, "x", 1) == OUTPOST_INVALID_ARGUMENT);
  outpost_round_answer(round, 200, NULL, 0);
  outpost_round_failure(round, OUTPOST_UNAVAILABLE, "gone");
  outpost_round_cancel(round);
  outpost_finalize(reading);
  outpost_round_free(round);
  outpost_finalize(idle); /* the last shell: frees what was left of the handle */
}

void TestClose(void) {
  char dir[] = "/tmp/outpost-capi-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[128];
  snprintf(path, sizeof path, "%s/close.db", dir);
  TestCloseWithEverythingAlive(path);

  /* Closed from inside a callback: the call that committed returns normally, nothing runs
   * afterwards, and the handle is released when it returns. */
  outpost_db* db = OpenItemsAt(path, "{\"durable\":false}");
  Watcher closer = {0};
  closer.act_on = 2;
  closer.db = db;
  closer.close = 1;
  Watcher other = {0};
  int64_t id = 0;
  CHECK(outpost_watch(db, "SELECT count(*) FROM items", NULL, OnResult, &closer, &id) ==
        OUTPOST_OK);
  CHECK(outpost_watch(db, "SELECT count(*) FROM items", NULL, OnResult, &other, &id) == OUTPOST_OK);
  outpost_stmt* leftover = NULL;
  CHECK(outpost_prepare(db, "SELECT 1", &leftover) == OUTPOST_OK);
  CHECK(outpost_execute(db, "INSERT INTO items (id, name) VALUES (outpost_uuid(), 'x')", NULL,
                        NULL) == OUTPOST_OK);
  CHECK(closer.calls == 2);
  CHECK(other.calls == 1); /* the handle closed before its turn */
  CHECK(outpost_step(leftover) == OUTPOST_INVALID_ARGUMENT);
  outpost_finalize(leftover);

  /* A statement finalized by the callback its own step fired. */
  db = OpenItemsAt(path, "{\"durable\":false}");
  outpost_stmt* insert = NULL;
  CHECK(outpost_prepare(db, "INSERT INTO items (id, name) VALUES (outpost_uuid(), 'y')", &insert) ==
        OUTPOST_OK);
  Watcher finalizer = {0};
  finalizer.act_on = 2;
  finalizer.finalize = insert;
  CHECK(outpost_watch(db, "SELECT count(*) FROM items", NULL, OnResult, &finalizer, &id) ==
        OUTPOST_OK);
  CHECK(outpost_step(insert) == OUTPOST_DONE);
  CHECK(finalizer.calls == 2 && CONTAINS(finalizer.last, "[[5]]"));
  outpost_close(db);
  outpost_close(NULL);

  char file[160];
  const char* suffixes[] = {"", "-wal", "-shm", "-journal"};
  for (int i = 0; i < 4; ++i) {
    snprintf(file, sizeof file, "%s%s", path, suffixes[i]);
    unlink(file);
  }
  CHECK(rmdir(dir) == 0);
}

static void* CancelSoon(void* arg) {
  struct timespec t = {0, 300 * 1000 * 1000};
  nanosleep(&t, NULL);
  outpost_sync_cancel((outpost_db*)arg);
  return NULL;
}

void TestSyncErrors(void) {
  outpost_db* db = OpenItems();
  char* report = (char*)1;
  /* Nothing listens on port 1: unavailable, recorded in the store. */
  CHECK(outpost_sync(db, "http://127.0.0.1:1", "token", "{\"max_attempts\":1}", &report) ==
        OUTPOST_UNAVAILABLE);
  CHECK(report == NULL);
  char* status = NULL;
  CHECK(outpost_sync_status(db, &status) == OUTPOST_OK);
  CHECK(CONTAINS(status, "\"last_error\":\"unavailable"));
  outpost_free(status);
  CHECK(outpost_sync(db, NULL, "token", NULL, NULL) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_sync(db, "http://127.0.0.1:1", "t", "[1]", NULL) == OUTPOST_INVALID_ARGUMENT);

  /* One round at a time per handle. */
  outpost_round* round = NULL;
  CHECK(outpost_round_begin(db, NULL, &round) == OUTPOST_OK);
  CHECK(outpost_sync(db, "http://127.0.0.1:1", "token", NULL, NULL) == OUTPOST_INVALID_ARGUMENT);
  CHECK(CONTAINS(outpost_errmsg(db), "already running"));
  outpost_round_free(round);

  /* Cancelled from another thread while it waits to retry (2 s, then 4 s, ...). */
  pthread_t thread;
  CHECK(pthread_create(&thread, NULL, CancelSoon, db) == 0);
  time_t start = time(NULL);
  CHECK(outpost_sync(db, "http://127.0.0.1:1", "token",
                     "{\"max_attempts\":5,\"initial_backoff_ms\":2000}",
                     NULL) == OUTPOST_UNAVAILABLE);
  CHECK(CONTAINS(outpost_errmsg(db), "cancel"));
  CHECK(time(NULL) - start < 2);
  pthread_join(thread, NULL);
  outpost_close(db);
}
