/* What the C files of tests/capi (one executable: capi_tests) share: a failure counter, CHECK
 * and the test functions of each file. */
#ifndef OUTPOST_TESTS_CAPI_CHECK_H_
#define OUTPOST_TESTS_CAPI_CHECK_H_

#include <stdio.h>
#include <string.h>

#include "outpost.h"

extern int capi_failures;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: FAILED: %s\n", __FILE__, __LINE__, #cond); \
      ++capi_failures;                                                   \
    }                                                                    \
  } while (0)

#define CONTAINS(haystack, needle) ((haystack) && strstr((haystack), (needle)) != NULL)

/* The number after "key": in a JSON text (-1 when absent). */
long long JsonNumber(const char* json, const char* key);

/* capi_statement_test.c */
/* A store with two tables, items (every storage class) and tags, at `path` (":memory:" for a
 * fresh one) opened with `options`. */
outpost_db* OpenItemsAt(const char* path, const char* options);
outpost_db* OpenItems(void);
void TestStatements(void);
void TestTransactions(void);
/* capi_watch_test.c */
void TestWatches(void);
void TestClose(void);
void TestSyncErrors(void);
/* capi_encryption_test.c */
void TestEncryption(void);

#endif /* OUTPOST_TESTS_CAPI_CHECK_H_ */
