/* Encryption at rest through the C API: the key options of outpost_open, the errors of a wrong,
 * missing or malformed key, and outpost_rekey. */
#include <stdlib.h>
#include <unistd.h>

#include "capi_check.h"

static const char* kRaw =
    "{\"durable\":false,\"raw_key\":"
    "\"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}";
static const char* kWrongRaw =
    "{\"raw_key\":\"ff0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\"}";
static const char* kSecret = "field-note-7f3a9c-confidential";

/* 1 when the file at `path` holds `needle` anywhere (-1 when it cannot be read). */
static int FileHolds(const char* path, const char* needle) {
  FILE* f = fopen(path, "rb");
  if (!f) return -1;
  size_t cap = 1 << 16, n = 0, r;
  char* buf = malloc(cap);
  while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
    n += r;
    if (n == cap) {
      cap *= 2;
      buf = realloc(buf, cap);
    }
  }
  fclose(f);
  if (!buf) return -1;
  int found = 0;
  size_t len = strlen(needle);
  for (size_t i = 0; i + len <= n && !found; ++i) found = memcmp(buf + i, needle, len) == 0;
  free(buf);
  return found;
}

static void WriteSecret(outpost_db* db) {
  outpost_stmt* stmt = NULL;
  CHECK(outpost_prepare(db, "INSERT INTO tags (id, label) VALUES (outpost_uuid(), ?)", &stmt) ==
        OUTPOST_OK);
  CHECK(outpost_bind_text(stmt, 1, kSecret, OUTPOST_NUL_TERMINATED) == OUTPOST_OK);
  CHECK(outpost_step(stmt) == OUTPOST_DONE);
  outpost_finalize(stmt);
}

static int HasSecret(outpost_db* db) {
  char* result = NULL;
  int rc = outpost_execute(db, "SELECT label FROM tags", NULL, &result);
  int found = rc == OUTPOST_OK && CONTAINS(result, kSecret);
  outpost_free(result);
  return found;
}

void TestEncryption(void) {
  char dir[] = "/tmp/outpost-capi-crypt-XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char path[256], plain[256], wal[300];
  snprintf(path, sizeof path, "%s/enc.db", dir);
  snprintf(plain, sizeof plain, "%s/plain.db", dir);
  snprintf(wal, sizeof wal, "%s-wal", path);

  /* A plain control store holds the value in its file. */
  outpost_db* db = OpenItemsAt(plain, "{\"durable\":false}");
  WriteSecret(db);
  outpost_close(db);
  CHECK(FileHolds(plain, kSecret) == 1);

  /* The encrypted store: readable through the API, absent from its files. */
  db = OpenItemsAt(path, kRaw);
  WriteSecret(db);
  CHECK(HasSecret(db));
  CHECK(FileHolds(wal, kSecret) != 1); /* the WAL, while the store is open */
  outpost_close(db);
  CHECK(FileHolds(path, kSecret) == 0);

  /* No key, a wrong key: unauthorized, with a message; the right key still reads it. */
  db = NULL;
  CHECK(outpost_open(path, "{\"durable\":false}", &db) == OUTPOST_UNAUTHORIZED);
  CHECK(CONTAINS(outpost_errmsg(db), "key"));
  outpost_close(db);
  db = NULL;
  CHECK(outpost_open(path, kWrongRaw, &db) == OUTPOST_UNAUTHORIZED);
  CHECK(outpost_errcode(db) == OUTPOST_UNAUTHORIZED);
  outpost_close(db);

  /* Malformed key options are refused, never ignored. */
  const char* bad[] = {"{\"key\":42}", "{\"key\":\"\"}", "{\"raw_key\":\"abc\"}",
                       "{\"key\":\"p\",\"raw_key\":\"00\"}",
                       "{\"key\":\"p\",\"kdf_cost\":\"max\"}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; ++i) {
    db = NULL;
    CHECK(outpost_open(path, bad[i], &db) == OUTPOST_INVALID_ARGUMENT);
    CHECK(strlen(outpost_errmsg(db)) > 0);
    outpost_close(db);
  }

  /* Rekey to a passphrase: the old key fails, the passphrase reads everything. */
  char* err = NULL;
  CHECK(outpost_rekey(path, kWrongRaw, "{\"key\":\"pass\"}", &err) == OUTPOST_UNAUTHORIZED);
  CHECK(CONTAINS(err, "key"));
  outpost_free(err);
  err = NULL;
  CHECK(outpost_rekey(path, kRaw, "{\"key\":\"correct horse\"}", &err) == OUTPOST_OK);
  CHECK(err == NULL);
  db = NULL;
  CHECK(outpost_open(path, kRaw, &db) == OUTPOST_UNAUTHORIZED);
  outpost_close(db);
  db = OpenItemsAt(path, "{\"key\":\"correct horse\"}");
  CHECK(HasSecret(db));
  outpost_close(db);
  CHECK(FileHolds(path, kSecret) == 0);

  /* Decrypt: a plain file again, opened without a key. */
  CHECK(outpost_rekey(path, "{\"key\":\"correct horse\"}", NULL, NULL) == OUTPOST_OK);
  db = OpenItemsAt(path, "{\"durable\":false}");
  CHECK(HasSecret(db));
  outpost_close(db);
  CHECK(FileHolds(path, kSecret) == 1);

  char cmd[400];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  CHECK(system(cmd) == 0);
}
