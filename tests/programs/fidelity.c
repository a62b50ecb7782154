/* fidelity: programs whose slices are easy to get subtly wrong, one per
 * argument:
 *   interp N   a bytecode interpreter whose whole state (virtual pc, loop
 *              counter, accumulator) lives in memory: at most of its pcs
 *              the registers and the stack repeat exactly every round of
 *              its 8-op bytecode loop, N rounds in all; no syscall, no new
 *              page while it runs
 *   crash N    computes, prints its result, then stores through a null
 *              pointer and dies of SIGSEGV (status 139 from a shell)
 *   segv N     maps N pages PROT_NONE and writes to each in turn, with
 *              some computing in between; its SIGSEGV handler makes the
 *              page writable and returns, so the store runs again (a GC's
 *              write barrier); then a null-pointer store, which the handler
 *              reports before it exits with status 7
 *   refault N  like segv, but with one page mapped again and again at the
 *              same address (munmap, mmap), so the same page faults N times
 *   alarm N    N rounds of computing with a getppid call every round while
 *              a 1 ms interval timer (ITIMER_REAL) sends SIGALRM; the
 *              handler counts; it waits for at least 3 of them
 *   usr1 N     a child process sends SIGUSR1 to the program 5 times while
 *              it computes N rounds (a getppid call every round); the
 *              handler counts; it waits for at least one (two signals
 *              sent close together may arrive as one)
 * Every mode prints one result line that depends on nothing but N: the
 * signals arrive at points that vary from run to run, the output does not. */
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static uint64_t mix(uint64_t h, uint64_t v) {
  h ^= v;
  h *= 0x9e3779b97f4a7c15ULL;
  return h ^ (h >> 29);
}

static uint64_t compute(uint64_t h, int n) {
  for (int i = 0; i < n; i++) h = mix(h, (uint64_t)i);
  return h;
}

/* ---- interp ------------------------------------------------------------
 * struct vm { u64 vpc; u64 left; u64 acc; }, code: 8 one-byte ops.
 * Op 0 adds 3 to acc, op 1 mixes acc, op 2 counts a round down and stops
 * at 0, op 3 does nothing. Every op clears the registers that held state
 * loaded from memory before it returns to the dispatch, so from one round
 * of the bytecode to the next the registers differ only inside the op
 * bodies (between the load of acc or left and the clearing). */
struct vm {
  uint64_t vpc, left, acc;
};
void interp_run(struct vm *vm, const uint8_t *code);
__asm__(
    "  .text\n"
    "  .globl interp_run\n"
    "  .type interp_run, @function\n"
    "interp_run:\n"
    "1:\n"
    "  ld   t0, 0(a0)\n"
    "  add  t1, a1, t0\n"
    "  lbu  t2, 0(t1)\n"
    "  addi t0, t0, 1\n"
    "  andi t0, t0, 7\n"
    "  sd   t0, 0(a0)\n"
    "  li   t3, 1\n"
    "  beq  t2, t3, 3f\n"
    "  li   t3, 2\n"
    "  beq  t2, t3, 4f\n"
    "  li   t3, 3\n"
    "  beq  t2, t3, 1b\n"
    "2:\n" /* op 0 */
    "  ld   t4, 16(a0)\n"
    "  addi t4, t4, 3\n"
    "  sd   t4, 16(a0)\n"
    "  li   t4, 0\n"
    "  j    1b\n"
    "3:\n" /* op 1 */
    "  ld   t4, 16(a0)\n"
    "  slli t5, t4, 7\n"
    "  xor  t4, t4, t5\n"
    "  srli t5, t4, 9\n"
    "  xor  t4, t4, t5\n"
    "  sd   t4, 16(a0)\n"
    "  li   t4, 0\n"
    "  li   t5, 0\n"
    "  j    1b\n"
    "4:\n" /* op 2 */
    "  ld   t4, 8(a0)\n"
    "  addi t4, t4, -1\n"
    "  sd   t4, 8(a0)\n"
    "  beqz t4, 5f\n"
    "  li   t4, 0\n"
    "  j    1b\n"
    "5:\n"
    "  ret\n"
    "  .size interp_run, . - interp_run\n");

static struct vm the_vm;
static const uint8_t bytecode[8] = {0, 1, 3, 0, 1, 3, 1, 2};

static int interp(int rounds) {
  the_vm.vpc = 0;
  the_vm.left = (uint64_t)rounds;
  the_vm.acc = 1;
  interp_run(&the_vm, bytecode);
  printf("interp: %d rounds, acc %016llx\n", rounds, (unsigned long long)the_vm.acc);
  return 0;
}

/* ---- crash ------------------------------------------------------------- */
static int crash(int n) {
  printf("crash: %016llx\n", (unsigned long long)compute(1, n));
  fflush(stdout);
  *(volatile int *)(uintptr_t)0 = 1;
  return 0;
}

/* ---- segv -------------------------------------------------------------- */
static volatile uint64_t segv_fixed;
static char *segv_page;

static void on_segv(int sig, siginfo_t *info, void *uc) {
  (void)sig, (void)uc;
  char *addr = info->si_addr;
  if (segv_page && addr >= segv_page && addr < segv_page + 4096) {
    mprotect(segv_page, 4096, PROT_READ | PROT_WRITE);
    segv_fixed++;
    return;
  }
  char msg[80];
  int len = snprintf(msg, sizeof msg, "segv: caught SIGSEGV at %p after %llu fixed faults\n", (void *)addr,
                     (unsigned long long)segv_fixed);
  write(1, msg, (size_t)len);
  _exit(7);
}

static int segv(int n, int refault) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGSEGV, &sa, 0);
  uint64_t h = 5;
  char *pages = refault ? 0 : mmap(0, 4096 * (size_t)n, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED) return 1;
  for (int i = 0; i < n; i++) {
    segv_page = refault ? mmap(0, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0) : pages + 4096 * i;
    if (segv_page == MAP_FAILED) return 1;
    h = compute(h, 2000);
    segv_page[100] = (char)h;  /* faults; the handler opens the page */
    h = mix(h, (uint64_t)segv_page[100]);
    if (refault) munmap(segv_page, 4096);
    segv_page = 0;
  }
  printf("%s: %d rounds, checksum %016llx\n", refault ? "refault" : "segv", n, (unsigned long long)h);
  fflush(stdout);
  *(volatile int *)(uintptr_t)0 = 1;
  return 0;
}

/* ---- alarm / usr1 ------------------------------------------------------ */
static volatile int signals_seen;
static void count_signal(int sig) {
  (void)sig;
  signals_seen++;
}

static uint64_t rounds_with_syscalls(int n, int at_least) {
  uint64_t h = 9;
  for (int r = 0; r < n || signals_seen < at_least; r++) {
    if (r < n) h = compute(mix(h, (uint64_t)r), 500);  /* rounds past n only wait */
    syscall(SYS_getppid);
  }
  return h;
}

static int alarm_mode(int n) {
  signal(SIGALRM, count_signal);
  struct itimerval it = {{0, 1000}, {0, 1000}};
  setitimer(ITIMER_REAL, &it, 0);
  uint64_t h = rounds_with_syscalls(n, 3);
  struct itimerval off = {{0, 0}, {0, 0}};
  setitimer(ITIMER_REAL, &off, 0);
  printf("alarm: %d rounds, checksum %016llx\n", n, (unsigned long long)h);
  return 0;
}

static int usr1(int n) {
  signal(SIGUSR1, count_signal);
  const pid_t parent = getpid();
  fflush(stdout);
  pid_t child = fork();
  if (child < 0) return 1;
  if (child == 0) {
    for (int i = 0; i < 5; i++) {
      usleep(2000);
      kill(parent, SIGUSR1);
    }
    _exit(0);
  }
  uint64_t h = rounds_with_syscalls(n, 1);
  int status;
  while (waitpid(child, &status, 0) < 0) {
  }
  printf("usr1: %d rounds, checksum %016llx\n", n, (unsigned long long)h);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: fidelity interp|crash|segv|refault|alarm|usr1 N\n");
    return 2;
  }
  const int n = atoi(argv[2]);
  if (!strcmp(argv[1], "interp")) return interp(n);
  if (!strcmp(argv[1], "crash")) return crash(n);
  if (!strcmp(argv[1], "segv")) return segv(n, 0);
  if (!strcmp(argv[1], "refault")) return segv(n, 1);
  if (!strcmp(argv[1], "alarm")) return alarm_mode(n);
  if (!strcmp(argv[1], "usr1")) return usr1(n);
  return 2;
}
