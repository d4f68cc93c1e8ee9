/* The C API (outpost.h), from C: open, schema, SQL with JSON parameters, errors per handle,
 * change notification, and a whole sync round driven step by step with scripted answers (as an
 * app with its own HTTP stack drives it), with a watched query fired by the round's pull. The
 * other files of capi_tests: capi_statement_test.c (prepared statements, transactions) and
 * capi_watch_test.c (watched queries, closing, outpost_sync's errors). Exits non-zero when a
 * check failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "capi_check.h"

int capi_failures = 0;

long long JsonNumber(const char* json, const char* key) {
  char pattern[128];
  snprintf(pattern, sizeof pattern, "\"%s\":", key);
  const char* at = json ? strstr(json, pattern) : NULL;
  long long n = -1;
  if (!at || sscanf(at + strlen(pattern), "%lld", &n) != 1) return -1;
  return n;
}

/* A watch callback that counts its calls and keeps the last result. */
typedef struct {
  int calls;
  char last[512];
} Seen;

static void Remember(void* user_data, int code, const char* result_json, const char* message) {
  Seen* seen = (Seen*)user_data;
  ++seen->calls;
  snprintf(seen->last, sizeof seen->last, "%d %s", code,
           code == OUTPOST_OK ? result_json : message);
}

static const char* kDescriptor =
    "{\"format\":1,\"app\":\"capi\",\"roles\":[\"user\"],\"tables\":["
    "{\"name\":\"notes\",\"columns\":["
    "{\"name\":\"id\",\"type\":\"uuid\",\"pg_type\":\"uuid\",\"nullable\":false,"
    "\"default\":\"gen_random_uuid()\"},"
    "{\"name\":\"text\",\"type\":\"text\",\"pg_type\":\"text\",\"nullable\":false},"
    "{\"name\":\"done\",\"type\":\"boolean\",\"pg_type\":\"boolean\",\"nullable\":false,"
    "\"default\":\"false\"}],"
    "\"primary_key\":[\"id\"],\"sync\":{\"scope\":\"all\"}}]}";

/* Takes the next step and checks its kind; returns it (to be freed). */
static char* Step(outpost_db* db, outpost_round* round, const char* kind) {
  char* step = NULL;
  int rc = outpost_round_next(round, &step);
  CHECK(rc == OUTPOST_OK);
  if (rc != OUTPOST_OK) fprintf(stderr, "  %s\n", outpost_errmsg(db));
  char expected[64];
  snprintf(expected, sizeof expected, "\"kind\":\"%s\"", kind);
  if (!CONTAINS(step, expected)) fprintf(stderr, "  step: %s\n", step ? step : "(null)");
  CHECK(CONTAINS(step, expected));
  return step;
}

static void Line(outpost_round* round, const char* line) {
  CHECK(outpost_round_line(round, line, strlen(line)) == OUTPOST_OK);
}

static void TestBasicsAndRound(void) {
  CHECK(strcmp(outpost_code_name(OUTPOST_CONSTRAINT_VIOLATION), "constraint_violation") == 0);
  CHECK(strcmp(outpost_code_name(OUTPOST_MALFORMED_ANSWER), "malformed_answer") == 0);

  /* A failed open still gives a handle with the reason. */
  outpost_db* bad = NULL;
  CHECK(outpost_open("/nonexistent-dir/x/y.db", NULL, &bad) == OUTPOST_IO_ERROR);
  CHECK(bad != NULL && outpost_errcode(bad) == OUTPOST_IO_ERROR);
  CHECK(CONTAINS(outpost_errmsg(bad), "y.db"));
  outpost_close(bad);

  outpost_db* db = NULL;
  CHECK(outpost_open(":memory:", "{\"durable\":false}", &db) == OUTPOST_OK);
  char* report = NULL;
  CHECK(outpost_apply_schema(db, kDescriptor, &report) == OUTPOST_OK);
  CHECK(CONTAINS(report, "\"created\":[\"notes\"]"));
  outpost_free(report);

  /* SQL with JSON parameters; rows come back as JSON, booleans as true/false. */
  char* result = NULL;
  CHECK(outpost_execute(db, "INSERT INTO notes (id, text) VALUES (?, ?)",
                        "[\"0190a5d2-1c4e-7000-8000-000000000001\", \"caf\xc3\xa9\"]",
                        &result) == OUTPOST_OK);
  CHECK(CONTAINS(result, "\"changes\":1"));
  outpost_free(result);
  CHECK(outpost_execute(db, "SELECT text, done FROM notes", NULL, &result) == OUTPOST_OK);
  CHECK(CONTAINS(result, "[[\"caf\xc3\xa9\",false]]"));
  outpost_free(result);

  /* Errors: a stable code, a message on the handle, the out parameter NULL. */
  result = (char*)1;
  CHECK(outpost_execute(db, "SELEKT", NULL, &result) == OUTPOST_SQL_ERROR);
  CHECK(result == NULL);
  CHECK(outpost_errcode(db) == OUTPOST_SQL_ERROR);
  CHECK(CONTAINS(outpost_errmsg(db), "syntax error"));
  CHECK(outpost_execute(db, "INSERT INTO notes (id) VALUES ('x')", NULL, NULL) ==
        OUTPOST_CONSTRAINT_VIOLATION);
  CHECK(outpost_execute(db, "SELECT ?", "not json", NULL) == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_execute(db, "SELECT 1", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_errcode(db) == OUTPOST_OK && strcmp(outpost_errmsg(db), "") == 0);

  /* An app transaction across calls: open until COMMIT. */
  CHECK(outpost_in_transaction(db) == 0);
  CHECK(outpost_execute(db, "BEGIN", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_in_transaction(db) == 1);
  CHECK(outpost_execute(db, "COMMIT", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_in_transaction(db) == 0);
  CHECK(outpost_in_transaction(NULL) == 0);

  /* The signed-in user's role (column permissions are checked locally for it); not inside a
   * transaction; NULL clears it. */
  CHECK(outpost_set_role(db, "employee") == OUTPOST_OK);
  CHECK(outpost_execute(db, "BEGIN", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_set_role(db, "manager") == OUTPOST_INVALID_ARGUMENT);
  CHECK(outpost_execute(db, "ROLLBACK", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_set_role(db, NULL) == OUTPOST_OK);

  /* Watched queries: which tables a query reads, which tables commits changed. */
  char* tables = NULL;
  CHECK(outpost_tables_read(db, "SELECT count(*) FROM notes", &tables) == OUTPOST_OK);
  CHECK(tables && strcmp(tables, "[\"notes\"]") == 0);
  outpost_free(tables);
  CHECK(outpost_take_changes(db, &tables) == OUTPOST_OK);
  CHECK(tables && strcmp(tables, "[\"notes\"]") == 0);
  outpost_free(tables);
  CHECK(outpost_take_changes(db, &tables) == OUTPOST_OK);
  CHECK(tables && strcmp(tables, "[]") == 0);
  outpost_free(tables);

  /* A sync round with the app's own HTTP: push the insert, then a bootstrap. A watched query of
   * the table sees the pulled rows once the page commits. */
  Seen seen = {0, ""};
  int64_t watch = 0;
  CHECK(outpost_watch(db, "SELECT count(*) FROM notes", NULL, Remember, &seen, &watch) ==
        OUTPOST_OK);
  CHECK(seen.calls == 1 && strcmp(seen.last, "0 {\"columns\":[\"count(*)\"],\"rows\":[[1]]}") == 0);
  outpost_round* round = NULL;
  CHECK(outpost_round_begin(db, "{\"wait_seconds\":0}", &round) == OUTPOST_OK);
  outpost_round* second = NULL;
  CHECK(outpost_round_begin(db, NULL, &second) == OUTPOST_INVALID_ARGUMENT);
  char* step = Step(db, round, "send");
  CHECK(CONTAINS(step, "\"target\":\"/v1/push\""));
  /* The body names the transaction: read its tx_id back from it. */
  const char* tx = step ? strstr(step, "tx_id") : NULL;
  long long tx_id = 0;
  CHECK(tx != NULL && sscanf(tx, "tx_id\\\":%lld", &tx_id) == 1);
  outpost_free(step);
  char answer[512];
  snprintf(answer, sizeof answer,
           "{\"results\":[{\"tx_id\":%lld,\"status\":\"applied\",\"checkpoint\":\"5\","
           "\"notices\":[{\"code\":\"superseded\",\"table\":\"notes\",\"pk\":[\"x\"],"
           "\"columns\":[\"text\"]}]}]}",
           tx_id);
  Line(round, answer);
  outpost_round_answer(round, 200, NULL, 0);
  step = Step(db, round, "send");
  CHECK(CONTAINS(step, "/v1/pull?schema="));
  outpost_free(step);
  /* First a network failure: the round waits, then asks again. */
  outpost_round_failure(round, OUTPOST_UNAVAILABLE, "connection refused");
  step = Step(db, round, "wait");
  outpost_free(step);
  step = Step(db, round, "send");
  outpost_free(step);
  Line(round, "{\"type\":\"reset\"}");
  Line(round,
       "{\"type\":\"rows\",\"table\":\"notes\",\"columns\":[\"id\",\"text\",\"done\"],\"rows\":["
       "[\"0190a5d2-1c4e-7000-8000-000000000001\",\"caf\xc3\xa9\",true],"
       "[\"0190a5d2-1c4e-7000-8000-000000000002\",\"from the server\",false]]}");
  CHECK(seen.calls == 1); /* nothing is applied before the page's cursor line */
  Line(round,
       "{\"type\":\"cursor\",\"cursor\":\"eyJ3IjoiMTAifQ\",\"bootstrap\":false,"
       "\"more\":false}");
  CHECK(seen.calls == 2 && CONTAINS(seen.last, "[[2]]")); /* one call for the page */
  outpost_round_answer(round, 200, NULL, 0);
  step = Step(db, round, "done");
  CHECK(CONTAINS(step, "\"code\":0"));
  CHECK(CONTAINS(step, "\"pushed_transactions\":1"));
  CHECK(CONTAINS(step, "\"rows_received\":2"));
  CHECK(CONTAINS(step, "\"bootstrapped_now\":true"));
  outpost_free(step);
  outpost_round_free(round);
  CHECK(outpost_unwatch(db, watch) == OUTPOST_OK);

  char* status = NULL;
  CHECK(outpost_sync_status(db, &status) == OUTPOST_OK);
  CHECK(CONTAINS(status, "\"bootstrapped\":true"));
  CHECK(CONTAINS(status, "\"pending_mutations\":0"));
  outpost_free(status);
  CHECK(outpost_execute(db, "SELECT count(*) FROM notes", NULL, &result) == OUTPOST_OK);
  CHECK(CONTAINS(result, "[[2]]"));
  outpost_free(result);
  CHECK(outpost_take_changes(db, &tables) == OUTPOST_OK);
  CHECK(CONTAINS(tables, "notes")); /* the sync engine's writes count too */
  outpost_free(tables);

  /* A rejected answer is kept for the app. */
  CHECK(outpost_execute(db, "UPDATE notes SET text = 'mine'", NULL, NULL) == OUTPOST_OK);
  CHECK(outpost_round_begin(db, NULL, &round) == OUTPOST_OK);
  step = Step(db, round, "send");
  tx = step ? strstr(step, "tx_id") : NULL;
  CHECK(tx != NULL && sscanf(tx, "tx_id\\\":%lld", &tx_id) == 1);
  outpost_free(step);
  snprintf(answer, sizeof answer,
           "{\"results\":[{\"tx_id\":%lld,\"status\":\"rejected\",\"checkpoint\":\"11\","
           "\"error\":{\"code\":\"permission_denied\",\"message\":\"no\"}}]}",
           tx_id);
  Line(round, answer);
  outpost_round_answer(round, 200, NULL, 0);
  step = Step(db, round, "send");
  outpost_free(step);
  const char* unauthorized = "{\"error\":{\"code\":\"unauthorized\",\"message\":\"late\"}}";
  outpost_round_answer(round, 401, unauthorized, strlen(unauthorized));
  step = Step(db, round, "done");
  CHECK(CONTAINS(step, "\"code_name\":\"unauthorized\""));
  outpost_free(step);
  outpost_round_free(round);
  char* rejections = NULL;
  CHECK(outpost_rejections(db, &rejections) == OUTPOST_OK);
  CHECK(CONTAINS(rejections, "\"code\":\"permission_denied\""));
  outpost_free(rejections);
  CHECK(outpost_execute(db, "SELECT text FROM notes ORDER BY id", NULL, &result) == OUTPOST_OK);
  CHECK(CONTAINS(result, "caf\xc3\xa9")); /* the refused update is undone */
  outpost_free(result);
  CHECK(outpost_dismiss_rejection(db, 999) == OUTPOST_NOT_FOUND);
  CHECK(outpost_dismiss_rejection(db, 1) == OUTPOST_OK);

  /* The applied transaction's notice is kept for the app too. */
  char* notices = NULL;
  CHECK(outpost_notices(db, &notices) == OUTPOST_OK);
  CHECK(CONTAINS(notices, "\"code\":\"superseded\""));
  CHECK(CONTAINS(notices, "\"columns\":[\"text\"]"));
  outpost_free(notices);
  CHECK(outpost_sync_status(db, &status) == OUTPOST_OK);
  CHECK(CONTAINS(status, "\"notices\":1"));
  outpost_free(status);
  CHECK(outpost_dismiss_notice(db, 999) == OUTPOST_NOT_FOUND);
  CHECK(outpost_dismiss_notice(db, 1) == OUTPOST_OK);

  outpost_close(db);
}

int main(void) {
  TestBasicsAndRound();
  TestStatements();
  TestTransactions();
  TestWatches();
  TestClose();
  TestSyncErrors();
  TestEncryption();
  if (capi_failures) {
    fprintf(stderr, "%d check(s) failed\n", capi_failures);
    return 1;
  }
  printf("capi tests passed\n");
  return 0;
}
