/* compute: a deterministic, compute-bound program (about 13 million user
 * instructions by default) for position, page-tracking and slicing tests. Its basic
 * blocks are long (an unrolled mixing step), so software stepping needs few
 * stops per instruction. It prints one checksum; nothing in it depends on
 * time, pids or random bytes. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N 4096

static uint64_t table[N];

static inline uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x9e3779b97f4a7c15ULL;
  h ^= h >> 29;
  return h;
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 600;
  for (int i = 0; i < N; i++) table[i] = (uint64_t)i * 0x100000001b3ULL;
  uint64_t h = 0xcbf29ce484222325ULL;
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < N; i += 8) {
      /* eight mixing steps without a branch between them */
      h = mix(h, table[i + 0]);
      h = mix(h, table[i + 1]);
      h = mix(h, table[i + 2]);
      h = mix(h, table[i + 3]);
      h = mix(h, table[i + 4]);
      h = mix(h, table[i + 5]);
      h = mix(h, table[i + 6]);
      h = mix(h, table[i + 7]);
      table[i] = h;
    }
  }
  printf("compute: %d rounds, checksum %016llx\n", rounds, (unsigned long long)h);
  return 0;
}
