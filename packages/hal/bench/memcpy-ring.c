/* memcpy-ring: copies one frame of N bytes into a ring of 4 slots, F times; prints JSON.
 * The physical reference for the synthetic suite: what a plain C copy of the same bytes costs.
 * usage: memcpy-ring <frame-bytes> <frames> [memset] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s <frame-bytes> <frames> [memset]\n", argv[0]);
    return 2;
  }
  size_t bytes = strtoull(argv[1], NULL, 10);
  long frames = strtol(argv[2], NULL, 10);
  int use_memset = argc > 3 && strcmp(argv[3], "memset") == 0;
  if (bytes == 0 || frames <= 0) return 2;
  size_t slot = (bytes + 63) & ~(size_t)63;
  uint8_t *src = aligned_alloc(64, slot);
  uint8_t *ring = aligned_alloc(64, slot * 4);
  if (!src || !ring) return 1;
  for (size_t i = 0; i < bytes; i++) src[i] = (uint8_t)(i * 131u);
  memset(ring, 0, slot * 4);
  /* warm-up: one pass over every slot */
  for (int s = 0; s < 4; s++) memcpy(ring + slot * s, src, bytes);
  double t0 = now_s();
  for (long f = 0; f < frames; f++) {
    uint8_t *dst = ring + slot * (size_t)(f & 3);
    if (use_memset) memset(dst, (int)(f & 255), bytes);
    else memcpy(dst, src, bytes);
    __asm__ volatile("" : : "r"(dst) : "memory");
  }
  double secs = now_s() - t0;
  unsigned sum = 0;
  for (size_t i = 0; i < slot * 4; i += 4096) sum += ring[i];
  printf("{\"frames\":%ld,\"bytes\":%zu,\"secs\":%.9f,\"fps\":%.2f,\"check\":%u}\n", frames, bytes, secs,
         (double)frames / secs, sum);
  return 0;
}
