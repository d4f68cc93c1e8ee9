/* A small field app in C, built against the INSTALLED Outpost library (tests/capi/
 * installed_test.cc builds it once with pkg-config and once with CMake's find_package(Outpost),
 * then runs it against a real outpost-server with the "selly" app):
 *
 *   app DB SERVER_URL TOKEN ORGANIZATION NAME
 *
 * It opens (or creates) the store DB, syncs (a fresh store fetches the schema and bootstraps),
 * writes one company named NAME for ORGANIZATION with a prepared statement, tries to sync while
 * "offline" (nothing listens on port 1: the write stays queued), then syncs for real. Prints
 * what it did; exits 1 with "app: <code>: <message>" on the first failure. */
#include <outpost.h>
#include <stdio.h>
#include <string.h>

static int Fail(outpost_db* db, const char* what, int code) {
  fprintf(stderr, "app: %s: %s: %s\n", what, outpost_code_name(code), outpost_errmsg(db));
  return 1;
}

static long long Pending(outpost_db* db) {
  char* status = NULL;
  long long n = -1;
  if (outpost_sync_status(db, &status) == OUTPOST_OK) {
    const char* at = strstr(status, "\"pending_transactions\":");
    if (at) sscanf(at + strlen("\"pending_transactions\":"), "%lld", &n);
  }
  outpost_free(status);
  return n;
}

int main(int argc, char** argv) {
  if (argc != 6) {
    fprintf(stderr, "usage: app DB SERVER_URL TOKEN ORGANIZATION NAME\n");
    return 2;
  }
  const char *path = argv[1], *server = argv[2], *token = argv[3], *org = argv[4], *name = argv[5];
  printf("outpost %s\n", outpost_version());

  outpost_db* db = NULL;
  int rc = outpost_open(path, NULL, &db);
  if (rc != OUTPOST_OK) return Fail(db, "open", rc);

  char* report = NULL;
  rc = outpost_sync(db, server, token, NULL, &report);
  if (rc != OUTPOST_OK) return Fail(db, "first sync", rc);
  printf("bootstrap: %s\n", report);
  outpost_free(report);

  /* The hot path: a prepared statement, values bound as C types. */
  outpost_stmt* insert = NULL;
  rc = outpost_prepare(db, "INSERT INTO companies (organization_id, name_en) VALUES (?, ?)",
                       &insert);
  if (rc != OUTPOST_OK) return Fail(db, "prepare", rc);
  if ((rc = outpost_bind_text(insert, 1, org, OUTPOST_NUL_TERMINATED)) != OUTPOST_OK ||
      (rc = outpost_bind_text(insert, 2, name, OUTPOST_NUL_TERMINATED)) != OUTPOST_OK) {
    return Fail(db, "bind", rc);
  }
  rc = outpost_step(insert);
  if (rc != OUTPOST_DONE) return Fail(db, "insert", rc);
  outpost_finalize(insert);
  printf("written offline: %lld transaction(s) pending\n", Pending(db));

  /* No network: the round fails, the write stays queued. */
  rc = outpost_sync(db, "http://127.0.0.1:1", token, "{\"max_attempts\":1}", NULL);
  if (rc != OUTPOST_UNAVAILABLE) return Fail(db, "offline sync should fail", rc);
  printf("offline: %s: %lld transaction(s) pending\n", outpost_code_name(rc), Pending(db));

  rc = outpost_sync(db, server, token, NULL, &report);
  if (rc != OUTPOST_OK) return Fail(db, "sync", rc);
  printf("synced: %s\n", report);
  outpost_free(report);
  if (Pending(db) != 0) return Fail(db, "still pending after the sync", OUTPOST_INTERNAL);

  outpost_close(db);
  printf("ok\n");
  return 0;
}
