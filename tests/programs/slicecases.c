/* slicecases: small deterministic programs for slicing tests, one per
 * argument:
 *   heap N     grows the heap (malloc of growing blocks, brk and mmap) and
 *              sums it, N rounds
 *   files F    reads file F in 1000-byte chunks N times and checksums it
 *   stdio N    prints N numbered lines with printf (buffered stdout)
 *   syscalls N N getpid + clock-free syscalls in a row (intervals made only
 *              of syscalls)
 *   edge N     compute loops with a write(2) call every 4096 iterations, so
 *              syscalls fall right before interval boundaries
 *   timer N    N rounds, each reading the time with rdtime (the program's
 *              own counter read, no syscall) and taking one of two paths on
 *              its low bit, then a compute loop
 * Every mode prints one result line; nothing in it depends on time or pids.
 * timer's registers and memory do: only a slice that replays the values
 * its rdtime read reaches the recorded end state. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

static int heap(int rounds) {
  uint64_t h = 0;
  for (int r = 0; r < rounds; r++) {
    size_t n = 1000 + (size_t)r * 3000;  /* up to ~ hundreds of KiB: brk, then mmap */
    uint64_t *p = malloc(n * sizeof *p);
    if (!p) return 1;
    for (size_t i = 0; i < n; i++) p[i] = mix(i, (uint64_t)r);
    for (size_t i = 0; i < n; i += 7) h = mix(h, p[i]);
    if (r % 3) free(p);
  }
  printf("heap: %d rounds, checksum %016llx\n", rounds, (unsigned long long)h);
  return 0;
}

static int files(const char *path, int times) {
  uint64_t h = 0;
  char buf[1000];
  for (int t = 0; t < times; t++) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) return perror(path), 1;
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
      for (ssize_t i = 0; i < n; i++) h = mix(h, (unsigned char)buf[i]);
    close(fd);
  }
  printf("files: %d reads, checksum %016llx\n", times, (unsigned long long)h);
  return 0;
}

static int stdio(int lines) {
  uint64_t h = 1;
  for (int i = 0; i < lines; i++) {
    h = mix(h, (uint64_t)i);
    printf("line %d %016llx\n", i, (unsigned long long)h);
  }
  return 0;
}

static int syscalls(int n) {
  long sum = 0;
  for (int i = 0; i < n; i++) sum += syscall(SYS_getppid) > 0 ? 1 : 0;
  printf("syscalls: %d calls, %ld positive\n", n, sum);
  return 0;
}

static int edge(int rounds) {
  uint64_t h = 7;
  for (int r = 0; r < rounds; r++) {
    for (int i = 0; i < 4096; i++) h = mix(h, (uint64_t)i);
    char c = "0123456789abcdef"[h & 15];
    if (write(2, &c, 1) != 1) return 1;
  }
  printf("\nedge: %d rounds, checksum %016llx\n", rounds, (unsigned long long)h);
  return 0;
}

volatile uint64_t timer_state;

static int timer(int rounds) {
  uint64_t h = 3;
  for (int r = 0; r < rounds; r++) {
    uint64_t t;
    __asm__ volatile("rdtime %0" : "=r"(t));
    if (t & 1) {
      h = mix(h, t);
    } else {
      h = mix(h ^ t, (uint64_t)r);
      h = mix(h, 12345);
    }
    for (int i = 0; i < 256; i++) h = mix(h, (uint64_t)i);
    timer_state = h;
  }
  printf("timer: %d rounds\n", rounds);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: slicecases heap|files|stdio|syscalls|edge|timer ARG [N]\n");
    return 2;
  }
  if (!strcmp(argv[1], "heap")) return heap(atoi(argv[2]));
  if (!strcmp(argv[1], "files")) return files(argv[2], argc > 3 ? atoi(argv[3]) : 3);
  if (!strcmp(argv[1], "stdio")) return stdio(atoi(argv[2]));
  if (!strcmp(argv[1], "syscalls")) return syscalls(atoi(argv[2]));
  if (!strcmp(argv[1], "timer")) return timer(atoi(argv[2]));
  if (!strcmp(argv[1], "edge")) return edge(atoi(argv[2]));
  return 2;
}
