/* memcmp for the WebAssembly builds. The C library of Emscripten 3.1.6 (musl) compares byte by
 * byte; SQLite's key comparisons (B-tree searches, the sorter of an index build) spent about a
 * tenth of a bootstrap there. This one compares eight bytes at a time (WebAssembly loads need no
 * alignment) and is linked into every WebAssembly executable as an object, which takes
 * precedence over the C library's archive member. Built with -fno-builtin so that the loops are
 * not turned back into a call to memcmp. */
#include <stddef.h>
#include <stdint.h>

static uint64_t load64(const unsigned char* p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8);
  return v;
}

int memcmp(const void* a, const void* b, size_t n) {
  const unsigned char* p = (const unsigned char*)a;
  const unsigned char* q = (const unsigned char*)b;
  for (; n >= 8; p += 8, q += 8, n -= 8) {
    uint64_t x = load64(p), y = load64(q);
    if (x != y) {
      /* Little-endian: the lowest differing byte is the first one in memory. */
      int shift = __builtin_ctzll(x ^ y) & ~7;
      return (int)((x >> shift) & 0xff) - (int)((y >> shift) & 0xff);
    }
  }
  for (; n; ++p, ++q, --n) {
    if (*p != *q) return *p - *q;
  }
  return 0;
}
