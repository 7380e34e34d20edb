/* The benchmark kernels of kernels.asc in C (gcc -O2), the native baseline. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MB (1 << 20)

static void fill(uint32_t *p, int words, uint32_t seed) {
  uint32_t x = seed;
  for (int i = 0; i < words; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = x;
  }
}

static uint64_t crc32_k(void) {
  static uint32_t t[256];
  int n = 8 * MB;
  uint8_t *p = malloc(n);
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  fill((uint32_t *)p, n >> 2, 1);
  uint32_t crc = 0xffffffff;
  for (int i = 0; i < n; i++) crc = t[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  free(p);
  return ~crc;
}

static uint64_t sieve_k(void) {
  int n = 32 * MB;
  uint8_t *p = malloc(n);
  memset(p, 1, n);
  int count = 0;
  for (int i = 2; i < n; i++) {
    if (p[i]) {
      count++;
      for (int64_t j = (int64_t)i * i; j < n; j += i) p[j] = 0;
    }
  }
  free(p);
  return (uint32_t)count;
}

static void qsort_k(int32_t *p, int lo, int hi) {
  while (lo < hi) {
    int32_t pivot = p[(unsigned)(lo + hi) >> 1];
    int i = lo, j = hi;
    while (i <= j) {
      while (p[i] < pivot) i++;
      while (p[j] > pivot) j--;
      if (i <= j) {
        int32_t a = p[i];
        p[i] = p[j];
        p[j] = a;
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      qsort_k(p, lo, j);
      lo = i;
    } else {
      qsort_k(p, i, hi);
      hi = j;
    }
  }
}

static uint64_t quicksort_k(void) {
  int n = 2000000;
  int32_t *p = malloc(n * 4);
  fill((uint32_t *)p, n, 7);
  qsort_k(p, 0, n - 1);
  int ok = 1;
  for (int i = 1; i < n; i++)
    if (p[i - 1] > p[i]) ok = 0;
  uint32_t r = (uint32_t)(ok * p[n >> 1]);
  free(p);
  return r;
}

static uint64_t fnv1a_k(void) {
  int n = 16 * MB;
  uint8_t *p = malloc(n);
  fill((uint32_t *)p, n >> 2, 3);
  uint64_t h = 0xcbf29ce484222325ull;
  for (int r = 0; r < 2; r++)
    for (int i = 0; i < n; i++) {
      h ^= p[i];
      h *= 0x100000001b3ull;
    }
  free(p);
  return h;
}

static int skip_name(const uint8_t *p, int len, int off) {
  int hops = 0;
  while (off < len) {
    int b = p[off];
    if (b == 0) return off + 1;
    if ((b & 0xc0) == 0xc0) {
      if (++hops > 8) return -1;
      return off + 2;
    }
    off += b + 1;
  }
  return -1;
}

static uint64_t dns_k(void) {
  static uint8_t p[512];
  static const uint8_t bytes[] = {
      0x12, 0x34, 0x81, 0x80, 0, 1, 0, 2, 0, 0, 0, 0,
      3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 3, 99, 111, 109, 0, 0, 1, 0, 1,
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 34,
      0xc0, 12, 0, 1, 0, 1, 0, 0, 0x0e, 0x10, 0, 4, 93, 184, 216, 35,
  };
  int len = sizeof bytes;
  memcpy(p, bytes, len);
  int sum = 0;
  for (int round = 0; round < 2000000; round++) {
    *(volatile uint8_t *)&p[1] = (uint8_t)round;
    int id = (p[0] << 8) | p[1];
    int qd = (p[4] << 8) | p[5];
    int an = (p[6] << 8) | p[7];
    int off = 12;
    for (int q = 0; q < qd && off >= 0; q++) {
      off = skip_name(p, len, off);
      if (off >= 0) off += 4;
    }
    for (int a = 0; a < an && off >= 0; a++) {
      off = skip_name(p, len, off);
      if (off < 0) break;
      int rdlen = (p[off + 8] << 8) | p[off + 9];
      if (rdlen == 4) sum += p[off + 13];
      off += 10 + rdlen;
    }
    sum += id & 1;
  }
  return (uint32_t)sum;
}

int main(int argc, char **argv) {
  static const struct { const char *name; uint64_t (*fn)(void); } ks[] = {
      {"crc32", crc32_k}, {"sieve", sieve_k}, {"quicksort", quicksort_k}, {"fnv1a", fnv1a_k}, {"dns", dns_k},
  };
  int reps = argc > 2 ? atoi(argv[2]) : 3;
  for (size_t k = 0; k < sizeof ks / sizeof ks[0]; k++) {
    if (argc > 1 && strcmp(argv[1], "all") != 0 && strcmp(argv[1], ks[k].name) != 0) continue;
    uint64_t best = UINT64_MAX, result = 0;
    for (int r = 0; r < reps; r++) {
      struct timespec a, b;
      clock_gettime(CLOCK_MONOTONIC, &a);
      result = ks[k].fn();
      clock_gettime(CLOCK_MONOTONIC, &b);
      uint64_t ns = (uint64_t)(b.tv_sec - a.tv_sec) * 1000000000ull + (uint64_t)(b.tv_nsec - a.tv_nsec);
      if (ns < best) best = ns;
    }
    printf("%s %llu %llx\n", ks[k].name, (unsigned long long)best, (unsigned long long)result);
  }
  return 0;
}
