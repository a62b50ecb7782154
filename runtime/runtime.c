/* runtime.c — the slice runtime (freestanding, no C library): set-up,
 * replay, the end mechanism, counters, digest and report. The layout of
 * everything it reads is runtime/slice_abi.h; the assembly half is entry.S.
 *
 * Flow: hws_entry (entry.S) -> hws_main on the runtime stack: read the
 * environment, check the config block (the second PT_LOAD), install the
 * signal handlers on an alternate stack, map the regions, open and enable
 * the counters, calibrate them, then trap at hws_start_trap; that SIGTRAP
 * handler loads start_regs into the signal frame and rt_sigreturn enters
 * the program with every register exact. From then on the runtime only
 * runs when the program enters it: a near stub's far entry
 * (hws_far_replay), or a SIGTRAP at end_pc / end_next_pc / an
 * ebreak-replayed ecall site, or a fault. The slice ends in finish(), which
 * exits with the status of slice_abi.h.
 *
 * Position independence: built -fno-pic -mcmodel=medany with no jump tables,
 * no switch tables and no pointers in initialized data; the build links with
 * --emit-relocs and gen_image.cmake refuses any absolute relocation, so
 * the image runs at any 4 KiB-aligned base.
 *
 * Instruction accounting
 * ----------------------
 * The counters are one perf group (instructions leader, cycles member),
 * enabled before the start and read with one read() per sample. A sample's
 * value is "counted instructions before its ecall, plus e", where e is 1 if
 * the board counts a trapping ecall as retired and 0 if not (the ISA says
 * ecall/ebreak do not retire; QEMU counts them). Likewise a trapping ebreak
 * adds b. Both are measured at start-up (hws_calibrate: two back-to-back
 * reads give e, a read followed by an ebreak and the handler's first read
 * gives b), so the accounting is exact on both kinds of board when the
 * counters are user-only.
 *
 * Every runtime entry during the slice (a "window") reads the counters at
 * its start (A, in entry.S) and at its end (B); B - A is measured. The
 * instructions outside [A, B] are fixed, straight-line sequences whose
 * lengths come from entry.S labels:
 *   signal window: head = b (the trap) + PRE_SIG (handler entry up to A's
 *     ecall); tail = e (B's ecall) + POST_SIG (li a7) + e (rt_sigreturn).
 *   far window: head = 4 (near stub auipc/sd/ld/jalr) + PRE_FAR (far entry up
 *     to A's ecall); tail = e + POST_FAR (B's ecall up to and including the
 *     final jalr) + 3 (stub auipc/ld/jal back to the program).
 *   start: only the tail of the start trap's signal window (its B is the
 *     start of the measurement); end: only the head of the final window
 *     (its A is the end of the measurement), plus, for an HWS_END_SYSCALL
 *     slice ending at a near-stub site, the program's jal to the stub: it
 *     stands for the ecall at position `end`, which is not in the slice.
 * overhead = sum(B - A) + sum(fixed parts); measured = A_end - B_start;
 * program instructions = measured - overhead + uncounted.
 * The trapping ebreak at end_pc / end_next_pc is runtime overhead (b). An
 * ebreak that replaces an ecall (trap-site replay) stands for the program's
 * ecall, which counts as one program instruction by position semantics: if
 * the board counts it (b = 1) it stays in the program's count, and if not
 * (b = 0) it is added as "uncounted". A near stub's jal is the program's
 * instruction for its ecall and is counted by every board.
 * With user-only counters this makes program instructions == end - start
 * exactly (runtime_slice_test.cc checks it on the virtual board's k1
 * profile: 33, 17 and 58 for its slices, trap sites and near stubs both). With counters that include the kernel ("all"), e and b also take
 * in kernel work and the numbers are approximate. Cycles have no fixed
 * part: overhead cycles = sum(B - A).
 */
#include <stdint.h>

#include "runtime/kernel_abi.h"
#include "runtime/rt_util.h"
#include "runtime/slice_abi.h"

#define NORETURN __attribute__((noreturn))
#define USED __attribute__((used))

/* ---- linker and entry.S symbols --------------------------------------- */
extern const char __hws_image_start[];
extern const char __hws_image_end[];
extern char hws_far_entry[], hws_far_ecall_a[], hws_far_ecall_b[], hws_far_end[];
extern char hws_sig_entry[], hws_sig_ecall_a[], hws_sig_ecall_b[], hws_sig_ecall_ret[];
extern char hws_cal_ecall_a[], hws_cal_ecall_b[], hws_cal_ecall_c[], hws_calib_trap[];
extern char hws_start_trap[];
void hws_calibrate(void);
NORETURN void hws_start(void);

/* ---- data shared with entry.S ----------------------------------------- */
struct hws_far_frame {
  struct hws_regs r; /* pc (set here to the site), x1..x31 but sp/a0, f, fcsr */
  uint64_t near_ret; /* near+16 */
};
_Static_assert(sizeof(struct hws_regs) == 528, "hws_regs layout (entry.S FR_*)");
_Static_assert(__builtin_offsetof(struct hws_far_frame, near_ret) == 528, "FR_NEAR");

USED struct hws_far_frame hws_far_frame;
USED int32_t hws_perf_fd = -1;
USED uint64_t hws_sample_a[3], hws_sample_b[3]; /* read_format GROUP: nr, instructions, cycles */
USED uint64_t hws_calib_buf[9];

/* ---- freestanding basics ---------------------------------------------- */
void* memcpy(void* dst, const void* src, unsigned long n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  if ((((uintptr_t)d | (uintptr_t)s) & 7) == 0) {
    for (; n >= 8; n -= 8, d += 8, s += 8) *(uint64_t*)d = *(const uint64_t*)s;
  }
  while (n--) *d++ = *s++;
  return dst;
}

void* memset(void* dst, int c, unsigned long n) {
  unsigned char* d = dst;
  while (n--) *d++ = (unsigned char)c;
  return dst;
}

void* memmove(void* dst, const void* src, unsigned long n) {
  unsigned char* d = dst;
  const unsigned char* s = src;
  if (d < s) {
    while (n--) *d++ = *s++;
  } else {
    while (n--) d[n] = s[n];
  }
  return dst;
}

int memcmp(const void* a, const void* b, unsigned long n) {
  const unsigned char *x = a, *y = b;
  for (; n; n--, x++, y++)
    if (*x != *y) return *x < *y ? -1 : 1;
  return 0;
}

static long sys6(long nr, long a, long b, long c, long d, long e, long f) {
  register long a0 __asm__("a0") = a;
  register long a1 __asm__("a1") = b;
  register long a2 __asm__("a2") = c;
  register long a3 __asm__("a3") = d;
  register long a4 __asm__("a4") = e;
  register long a5 __asm__("a5") = f;
  register long a7 __asm__("a7") = nr;
  __asm__ volatile("ecall"
                   : "+r"(a0)
                   : "r"(a1), "r"(a2), "r"(a3), "r"(a4), "r"(a5), "r"(a7)
                   : "memory");
  return a0;
}
#define sys3(nr, a, b, c) sys6(nr, (long)(a), (long)(b), (long)(c), 0, 0, 0)

static NORETURN void sys_exit(int code) {
  for (;;) sys3(HWS_SYS_EXIT_GROUP, code, 0, 0);
}

static void write_all(long fd, const char* p, uint64_t n) {
  while (n) {
    long r = sys3(HWS_SYS_WRITE, fd, p, n);
    if (r <= 0) return;
    p += r;
    n -= (uint64_t)r;
  }
}

#define U64_AT(base, off) (*(uint64_t*)((unsigned char*)(base) + (off)))
#define U32_AT(base, off) (*(uint32_t*)((unsigned char*)(base) + (off)))

/* ---- state ------------------------------------------------------------- */
enum { kCountersNone, kCountersUser, kCountersAll };
enum { kExitOk = 0, kExitMismatch = 1, kExitDiverged = 2, kExitFault = 3, kExitSetup = 4 };

static const struct hws_config* cfg;
static int cfg_valid;
static int quiet;
static long stats_fd = -1;
static int counters = kCountersNone;
static long cycles_fd = -1;

static const unsigned char* replay_cur;
static uint64_t replay_index;

static int started, finishing;
static uint64_t hits;
static int end_armed, next_armed;
static unsigned char next_orig[4];
static unsigned next_len;

/* accounting (see the top of this file) */
static uint64_t cal_e, cal_b;
static int have_start_b;
static uint64_t start_b_i, start_b_c, prev_a_i, prev_a_c;
static uint64_t ov_meas_i, ov_meas_c, ov_fixed, uncounted;

static char detail_storage[512];
static struct hws_buf detail;
/* End hits with the recorded registers (all calls replayed) but another
 * stack above sp. */
static uint64_t stack_misses;
static char out_storage[4096];

static char alt_stack[32768] __attribute__((aligned(16)));

/* ---- small helpers ----------------------------------------------------- */
static uint64_t label_insns(const char* from, const char* to) { return (uint64_t)(to - from) / 4; }
#define PRE_SIG label_insns(hws_sig_entry, hws_sig_ecall_a)
#define POST_SIG label_insns(hws_sig_ecall_b + 4, hws_sig_ecall_ret)
#define PRE_FAR label_insns(hws_far_entry, hws_far_ecall_a)
#define POST_FAR label_insns(hws_far_ecall_b + 4, hws_far_end)
#define STUB_PRE 4
#define STUB_POST 3

static uint64_t sig_head(void) { return cal_b + PRE_SIG; }
static uint64_t sig_tail(void) { return cal_e + POST_SIG + cal_e; }
static uint64_t far_head(void) { return STUB_PRE + PRE_FAR; }
static uint64_t far_tail(void) { return cal_e + POST_FAR + STUB_POST; }

static const char kRegNames[32][5] = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

static const char* signal_name(long sig) {
  switch (sig) {
    case HWS_SIGILL: return "SIGILL";
    case HWS_SIGTRAP: return "SIGTRAP";
    case HWS_SIGBUS: return "SIGBUS";
    case HWS_SIGFPE: return "SIGFPE";
    case HWS_SIGSEGV: return "SIGSEGV";
    default: return "signal";
  }
}

static int in_runtime(uint64_t pc) {
  return pc >= (uint64_t)__hws_image_start && pc < (uint64_t)__hws_image_end;
}

/* ---- result ------------------------------------------------------------ */
static void emit(const struct hws_result* r, int report) {
  struct hws_buf b;
  if (report && !quiet) {
    hws_buf_init(&b, out_storage, sizeof out_storage);
    hws_format_report(&b, r);
    write_all(2, b.p, b.len);
  }
  if (stats_fd >= 0) {
    hws_buf_init(&b, out_storage, sizeof out_storage);
    hws_format_json(&b, r);
    write_all(stats_fd, b.p, b.len);
  }
}

static void result_init(struct hws_result* r, const char* status) {
  memset(r, 0, sizeof *r);
  r->status = status;
  r->name = "";
  r->end_kind = "pc_regs";
  r->counters = counters == kCountersUser ? "user" : counters == kCountersAll ? "all" : "none";
  r->detail = detail.p;
  if (cfg_valid) {
    r->name = cfg->name;
    r->start = cfg->start;
    r->end = cfg->end;
    r->end_kind = cfg->end_kind == HWS_END_SYSCALL ? "syscall" : "pc_regs";
    r->expected_digest = cfg->expected_digest;
    r->calls_count = cfg->calls_count - (cfg->end_kind == HWS_END_SYSCALL && cfg->calls_count ? 1 : 0);
  }
}

/* Set-up failed: one error line (even when quiet), the JSON, exit 4. */
static NORETURN void fail_setup(void) {
  struct hws_buf b;
  finishing = 1;
  hws_buf_init(&b, out_storage, sizeof out_storage);
  hws_buf_str(&b, "hwslice-slice: error: ");
  hws_buf_str(&b, detail.p);
  hws_buf_char(&b, '\n');
  write_all(2, b.p, b.len);
  struct hws_result r;
  result_init(&r, "setup");
  emit(&r, 0);
  sys_exit(kExitSetup);
}

static void restore_code(uint64_t pc, const unsigned char* bytes, unsigned len);
static const struct hws_region* region_of(uint64_t addr, uint64_t size);
static uint64_t region_prot(const struct hws_region* r);

/* The slice is over: counters, digest, report, exit. `status` is "ok"
 * (downgraded to "state_mismatch" when anything differs), "diverged" or
 * "fault". The end sample is hws_sample_a of the current window. */
static NORETURN void finish(const char* status, int ended, int regs_match, uint64_t end_pc) {
  finishing = 1;
  struct hws_result r;
  result_init(&r, status);
  r.ended = ended;
  r.end_pc = end_pc;
  r.hits = hits;
  r.regs_match = regs_match;
  r.calls_replayed = replay_index;

  if (counters != kCountersNone && have_start_b) {
    uint64_t measured_i = hws_sample_a[1] - start_b_i;
    uint64_t measured_c = hws_sample_a[0] >= 2 ? hws_sample_a[2] - start_b_c : 0;
    uint64_t overhead = ov_meas_i + ov_fixed;
    r.overhead_instructions = overhead;
    r.overhead_cycles = ov_meas_c;
    r.instructions = measured_i + uncounted >= overhead ? measured_i + uncounted - overhead : 0;
    r.cycles = measured_c >= ov_meas_c ? measured_c - ov_meas_c : 0;
  }

  /* The digest sees the program's code, not the runtime's breakpoints. */
  if (cfg->end_kind == HWS_END_PC_REGS) {
    if (next_armed) restore_code(cfg->end_next_pc, next_orig, next_len);
    if (end_armed) {
      unsigned char insn[4];
      for (int i = 0; i < 4; i++) insn[i] = (unsigned char)(cfg->end_insn >> (8 * i));
      restore_code(cfg->end_pc, insn, (unsigned)cfg->end_insn_len);
    }
  }
  r.digest = hws_digest_ranges((const struct hws_range*)((const char*)cfg + cfg->digest_off),
                               cfg->digest_count);
  r.digest_match = r.digest == cfg->expected_digest;

  int code = kExitOk;
  if (status[0] == 'o') {
    if (!regs_match || !r.digest_match || r.calls_replayed != r.calls_count) {
      r.status = "state_mismatch";
      code = kExitMismatch;
      if (r.calls_replayed != r.calls_count && detail.len == 0) {
        hws_buf_str(&detail, "ended after ");
        hws_buf_u64(&detail, r.calls_replayed);
        hws_buf_str(&detail, " of ");
        hws_buf_u64(&detail, r.calls_count);
        hws_buf_str(&detail, " replayed syscalls");
      }
    }
  } else if (status[0] == 'd') {
    code = kExitDiverged;
  } else {
    code = kExitFault;
  }
  if (code != kExitOk && stack_misses) {
    hws_buf_str(&detail, detail.len ? "; " : "");
    hws_buf_str(&detail, "the end registers matched at ");
    hws_buf_u64(&detail, stack_misses);
    hws_buf_str(&detail, stack_misses == 1 ? " hit" : " hits");
    hws_buf_str(&detail, ", the stack above sp did not");
  }
  emit(&r, 1);
  sys_exit(code);
}

/* ---- registers --------------------------------------------------------- */
static void uc_to_regs(unsigned char* uc, struct hws_regs* r) {
  r->pc = U64_AT(uc, HWS_UC_PC);
  r->x[0] = 0;
  for (int i = 1; i < 32; i++) r->x[i] = U64_AT(uc, HWS_UC_X(i));
  for (int i = 0; i < 32; i++) r->f[i] = U64_AT(uc, HWS_UC_F(i));
  r->fcsr = U32_AT(uc, HWS_UC_FCSR);
}

static void regs_to_uc(const struct hws_regs* r, unsigned char* uc) {
  U64_AT(uc, HWS_UC_PC) = r->pc;
  for (int i = 1; i < 32; i++) U64_AT(uc, HWS_UC_X(i)) = r->x[i];
  for (int i = 0; i < 32; i++) U64_AT(uc, HWS_UC_F(i)) = r->f[i];
  U32_AT(uc, HWS_UC_FCSR) = (uint32_t)r->fcsr;
}

static void note_reg(struct hws_buf* why, const char* name, int index, uint64_t got, uint64_t want) {
  if (!why) return;
  hws_buf_str(why, "register ");
  hws_buf_str(why, name);
  if (index >= 0) hws_buf_u64(why, (uint64_t)index);
  hws_buf_str(why, " is ");
  hws_buf_hex(why, got);
  hws_buf_str(why, ", expected ");
  hws_buf_hex(why, want);
}

/* The stack above sp at an end hit equals the recorded one (checked only
 * once the registers match, so sp is the recorded sp, whose bytes the
 * slicer checked are in the slice's pages). */
static int end_stack_matches(void) {
  if (cfg->end_stack_len == 0) return 1;
  const unsigned char* sp = (const unsigned char*)(uintptr_t)cfg->end_regs.x[2];
  return hws_hash(HWS_FNV_OFFSET, sp, cfg->end_stack_len) == cfg->end_stack_hash;
}

/* Equal registers (pc, x1..x31 but a0 when skip_a0, f0..f31, fcsr)? The
 * first difference goes to `why` (may be null). */
static int regs_equal(const struct hws_regs* got, const struct hws_regs* want, int skip_a0,
                      struct hws_buf* why) {
  if (got->pc != want->pc) {
    note_reg(why, "pc", -1, got->pc, want->pc);
    return 0;
  }
  for (int i = 1; i < 32; i++) {
    if (skip_a0 && i == 10) continue;
    if (got->x[i] != want->x[i]) {
      note_reg(why, kRegNames[i], -1, got->x[i], want->x[i]);
      return 0;
    }
  }
  for (int i = 0; i < 32; i++) {
    if (got->f[i] != want->f[i]) {
      note_reg(why, "f", i, got->f[i], want->f[i]);
      return 0;
    }
  }
  if ((uint32_t)got->fcsr != (uint32_t)want->fcsr) {
    note_reg(why, "fcsr", -1, (uint32_t)got->fcsr, (uint32_t)want->fcsr);
    return 0;
  }
  return 1;
}

/* ---- code patching ----------------------------------------------------- */
static void flush_icache(uint64_t pc, unsigned len) {
  __asm__ volatile("fence.i" ::: "memory");
  /* Other harts (the thread may migrate); ENOSYS under some emulators. */
  sys3(HWS_SYS_RISCV_FLUSH_ICACHE, pc, pc + len, 0);
}

static void restore_code(uint64_t pc, const unsigned char* bytes, unsigned len) {
  volatile unsigned char* p = (volatile unsigned char*)(uintptr_t)pc;
  for (unsigned i = 0; i < len; i++) p[i] = bytes[i];
  flush_icache(pc, len);
}

/* Breakpoint of the same length as the instruction at pc; returns it. */
static unsigned put_breakpoint(uint64_t pc, unsigned char* orig) {
  volatile unsigned char* p = (volatile unsigned char*)(uintptr_t)pc;
  unsigned len = (p[0] & 3) != 3 ? 2 : 4;
  for (unsigned i = 0; i < len; i++) orig[i] = p[i];
  if (len == 2) {
    p[0] = 0x02;
    p[1] = 0x90; /* c.ebreak 0x9002 */
  } else {
    p[0] = 0x73;
    p[1] = 0x00;
    p[2] = 0x10;
    p[3] = 0x00; /* ebreak 0x00100073 */
  }
  flush_icache(pc, len);
  return len;
}

/* ---- accounting -------------------------------------------------------- */
/* Start of a window during the slice: hws_sample_a was just read;
 * hws_sample_b still holds the previous window's end. */
static void window_enter(void) {
  if (!have_start_b) {
    start_b_i = hws_sample_b[1];
    start_b_c = hws_sample_b[2];
    have_start_b = 1;
  } else {
    ov_meas_i += hws_sample_b[1] - prev_a_i;
    ov_meas_c += hws_sample_b[2] - prev_a_c;
  }
  prev_a_i = hws_sample_a[1];
  prev_a_c = hws_sample_a[2];
}

/* ---- replay ------------------------------------------------------------ */
static NORETURN void diverge_site(uint64_t pc, uint64_t nr) {
  hws_buf_str(&detail, "syscall ");
  hws_buf_u64(&detail, nr);
  hws_buf_str(&detail, " at pc ");
  hws_buf_hex(&detail, pc);
  finish("diverged", 0, 0, pc);
}

/* Replays the next call for the ecall or counter read at regs->pc (a0
 * unknown for near sites). Returns the register it set (a0 = x10 for a
 * syscall's result, rd for a counter read) with its value in regs, or ends
 * the slice. */
static unsigned replay(struct hws_regs* regs, int near_site) {
  const uint64_t site = regs->pc, nr = regs->x[17];
  if (replay_index >= cfg->calls_count) {
    hws_buf_str(&detail, "replay table exhausted after ");
    hws_buf_u64(&detail, replay_index);
    hws_buf_str(&detail, " syscalls: the program made ");
    diverge_site(site, nr);
  }
  const struct hws_call* c = (const struct hws_call*)replay_cur;
  const int counter = (c->flags & HWS_CALL_COUNTER) != 0;
  const unsigned dest = counter ? (unsigned)c->args[0] : 10;
  if (c->site != site || (!counter && c->nr != nr) || (counter && (near_site || dest == 0 || dest > 31))) {
    hws_buf_str(&detail, "entry #");
    hws_buf_u64(&detail, replay_index + 1);
    hws_buf_str(&detail, counter ? " of the replay table is a read of counter " : " of the replay table is syscall ");
    if (counter) hws_buf_hex(&detail, c->nr);
    else hws_buf_u64(&detail, c->nr);
    hws_buf_str(&detail, " at pc ");
    hws_buf_hex(&detail, c->site);
    hws_buf_str(&detail, ", but the program made ");
    diverge_site(site, nr);
  }
  if (replay_index + 1 == cfg->calls_count && cfg->end_kind == HWS_END_SYSCALL) {
    /* The slice ends at this ecall, before it runs. */
    ov_fixed += near_site ? 1 + far_head() : sig_head();
    hits = 1;
    int equal = regs_equal(regs, &cfg->end_regs, near_site, &detail);
    finish("ok", 1, equal, site);
  }
  const unsigned char* p = replay_cur + sizeof(struct hws_call);
  for (uint64_t i = 0; i < c->nwrites; i++) {
    const struct hws_write* w = (const struct hws_write*)p;
    /* Set-up checked that every page of the write is in a region (a write
     * may span several: pages of different protections, zero
     * pages). The kernel may write where the program cannot: each page is
     * opened for its part of the copy. */
    for (uint64_t done = 0; done < w->size;) {
      const uint64_t at = w->addr + done;
      const uint64_t page = at & ~(HWS_PAGE - 1);
      uint64_t n = page + HWS_PAGE - at;
      if (n > w->size - done) n = w->size - done;
      const struct hws_region* r = region_of(at, n);
      const uint64_t prot = r ? region_prot(r) : HWS_PROT_WRITE;
      if (!(prot & HWS_PROT_WRITE)) sys3(HWS_SYS_MPROTECT, page, HWS_PAGE, prot | HWS_PROT_WRITE);
      memcpy((void*)(uintptr_t)at, p + sizeof *w + done, n);
      if (!(prot & HWS_PROT_WRITE)) sys3(HWS_SYS_MPROTECT, page, HWS_PAGE, prot);
      done += n;
    }
    p += sizeof *w + ((w->size + 7) & ~7ULL);
  }
  if ((c->flags & HWS_CALL_ECHO) && (c->nr == HWS_SYS_WRITE || c->nr == HWS_SYS_WRITEV))
    sys3(c->nr, c->args[0], c->args[1], c->args[2]);
  regs->x[dest] = c->ret;
  replay_cur = p;
  replay_index++;
  return dest;
}

/* C half of the far entry (entry.S), on the runtime stack. */
USED void hws_far_replay(struct hws_far_frame* f) {
  window_enter();
  const uint64_t near16 = f->near_ret;
  f->r.pc = *(const uint64_t*)(uintptr_t)(near16 + 16);   /* near+32: site */
  f->r.x[2] = *(const uint64_t*)(uintptr_t)(near16 + 24); /* near+40: sp */
  f->r.x[0] = 0;
  f->r.x[10] = 0;
  replay(&f->r, 1);
  ov_fixed += far_head() + far_tail();
}

/* ---- signals ----------------------------------------------------------- */
static int is_trap_site(uint64_t pc) {
  const uint64_t* s = (const uint64_t*)((const char*)cfg + cfg->trap_sites_off);
  for (uint64_t i = 0; i < cfg->trap_sites_count; i++)
    if (s[i] == pc) return 1;
  return 0;
}

static void describe_signal(long sig, const unsigned char* info, uint64_t pc) {
  hws_buf_str(&detail, signal_name(sig));
  hws_buf_str(&detail, " (");
  hws_buf_u64(&detail, (uint64_t)sig);
  hws_buf_str(&detail, ") at pc ");
  hws_buf_hex(&detail, pc);
  if (sig != HWS_SIGTRAP) {
    hws_buf_str(&detail, ", address ");
    hws_buf_hex(&detail, U64_AT(info, HWS_SIGINFO_ADDR));
  }
  if (in_runtime(pc)) hws_buf_str(&detail, " (in the slice runtime)");
}

/* C half of every signal handler (entry.S hws_sig_entry), on the
 * alternate stack. Returning resumes the context in `ucv`. */
USED void hws_on_signal(long sig, void* infov, void* ucv) {
  unsigned char* uc = ucv;
  unsigned char* info = infov;
  const uint64_t pc = U64_AT(uc, HWS_UC_PC);

  if (finishing) {
    static const char msg[] = "hwslice-slice: error: fault while finishing the slice\n";
    write_all(2, msg, sizeof msg - 1);
    sys_exit(kExitFault);
  }
  if (!started) {
    if (sig == HWS_SIGTRAP && pc == (uint64_t)hws_calib_trap) {
      /* e: two reads separated by k1 plain instructions. b: a read, k2
       * instructions, the ebreak, PRE_SIG handler instructions, a read. */
      const uint64_t k1 = label_insns(hws_cal_ecall_a + 4, hws_cal_ecall_b);
      const uint64_t k2 = label_insns(hws_cal_ecall_c + 4, hws_calib_trap);
      int64_t e = (int64_t)(hws_calib_buf[4] - hws_calib_buf[1]) - (int64_t)k1;
      int64_t b = (int64_t)(hws_sample_a[1] - hws_calib_buf[7]) - e - (int64_t)k2 - (int64_t)PRE_SIG;
      cal_e = e > 0 ? (uint64_t)e : 0;
      cal_b = b > 0 ? (uint64_t)b : 0;
      U64_AT(uc, HWS_UC_PC) = pc + 4;
      return;
    }
    if (sig == HWS_SIGTRAP && pc == (uint64_t)hws_start_trap) {
      regs_to_uc(&cfg->start_regs, uc);
      started = 1;
      ov_fixed += sig_tail();
      return;
    }
    hws_buf_str(&detail, "set-up failed: ");
    describe_signal(sig, info, pc);
    fail_setup();
  }

  window_enter();
  if (sig == HWS_SIGTRAP && cfg->end_kind == HWS_END_PC_REGS) {
    if (pc == cfg->end_pc && end_armed) {
      hits++;
      struct hws_regs now;
      uc_to_regs(uc, &now);
      /* The end is the hit with the recorded register file once every
       * recorded call has been replayed: an earlier hit with the same
       * registers (a loop whose state lives in memory, e.g. a buffer that
       * wraps) but calls still to come is not it. */
      if (replay_index == cfg->calls_count && regs_equal(&now, &cfg->end_regs, 0, 0)) {
        if (end_stack_matches()) {
          ov_fixed += sig_head();
          finish("ok", 1, 1, pc);
        }
        stack_misses++;  /* said in the report if the end is never found */
      }
      /* Not yet: run the real instruction, stop right after it. */
      unsigned char insn[4];
      for (int i = 0; i < 4; i++) insn[i] = (unsigned char)(cfg->end_insn >> (8 * i));
      restore_code(pc, insn, (unsigned)cfg->end_insn_len);
      end_armed = 0;
      next_len = put_breakpoint(cfg->end_next_pc, next_orig);
      next_armed = 1;
      ov_fixed += sig_head() + sig_tail();
      return;
    }
    if (pc == cfg->end_next_pc && next_armed) {
      restore_code(pc, next_orig, next_len);
      next_armed = 0;
      unsigned char orig[4];
      put_breakpoint(cfg->end_pc, orig);
      end_armed = 1;
      ov_fixed += sig_head() + sig_tail();
      return;
    }
  }
  if (sig == HWS_SIGTRAP && is_trap_site(pc)) {
    /* The ebreak stands for the program's ecall or counter read (one program instruction):
     * counted by the board when b = 1, added as uncounted when b = 0. */
    const uint64_t stand_in = cal_b < 1 ? cal_b : 1;
    struct hws_regs now;
    uc_to_regs(uc, &now);
    const unsigned dest = replay(&now, 0);
    U64_AT(uc, HWS_UC_X(dest)) = now.x[dest];
    U64_AT(uc, HWS_UC_PC) = pc + 4;
    ov_fixed += sig_head() - stand_in + sig_tail();
    uncounted += 1 - stand_in;
    return;
  }
  ov_fixed += PRE_SIG;
  describe_signal(sig, info, pc);
  if (sig == HWS_SIGTRAP) hws_buf_str(&detail, ", not a slice breakpoint");
  finish("fault", 0, 0, pc);
}

/* ---- set-up ------------------------------------------------------------ */
enum { kNoValue, kHex, kDecimal };
static NORETURN void setup_error(const char* what, uint64_t value, int format) {
  hws_buf_str(&detail, what);
  if (format == kHex) hws_buf_hex(&detail, value);
  if (format == kDecimal) hws_buf_u64(&detail, value);
  fail_setup();
}

static void install_handlers(void) {
  /* Filled field by field: an initializer with an address could become a
   * .rodata template with an absolute relocation. */
  /* Touch the alternate stack now: page faults during the slice would add
   * kernel work to the windows (and to the calibration). */
  for (uint64_t i = 0; i < sizeof alt_stack; i += HWS_PAGE) ((volatile char*)alt_stack)[i] = 0;
  uint64_t ss[3];
  ss[0] = (uint64_t)alt_stack;
  ss[1] = 0;
  ss[2] = sizeof alt_stack;
  long r = sys3(HWS_SYS_SIGALTSTACK, ss, 0, 0);
  if (r < 0) setup_error("sigaltstack failed, errno ", (uint64_t)-r, kDecimal);
  static const int sigs[5] = {HWS_SIGTRAP, HWS_SIGSEGV, HWS_SIGBUS, HWS_SIGILL, HWS_SIGFPE};
  for (int i = 0; i < 5; i++) {
    uint64_t act[3]; /* kernel struct sigaction: handler, flags, mask */
    act[0] = (uint64_t)hws_sig_entry;
    act[1] = HWS_SA_SIGINFO | HWS_SA_ONSTACK;
    act[2] = 0;
    r = sys6(HWS_SYS_RT_SIGACTION, sigs[i], (long)act, 0, HWS_KSIGSET_SIZE, 0, 0);
    if (r < 0) setup_error("rt_sigaction failed, errno ", (uint64_t)-r, kDecimal);
  }
}

static int overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn) { return a < b + bn && b < a + an; }

/* Extra protection for pages the runtime patches (end_pc, end_next_pc). */
static uint64_t patch_prot(uint64_t addr, uint64_t size) {
  if (cfg->end_kind != HWS_END_PC_REGS) return 0;
  if (overlaps(addr, size, cfg->end_pc, cfg->end_insn_len) || overlaps(addr, size, cfg->end_next_pc, 4))
    return HWS_PROT_WRITE;
  return 0;
}

/* The protection a region has once mapped. */
static uint64_t region_prot(const struct hws_region* r) { return (r->prot & 7) | patch_prot(r->addr, r->size); }

static const struct hws_region* region_of(uint64_t addr, uint64_t size) {
  const struct hws_region* reg = (const struct hws_region*)((const char*)cfg + cfg->regions_off);
  for (uint64_t i = 0; i < cfg->regions_count; i++)
    if (addr >= reg[i].addr && addr + size <= reg[i].addr + reg[i].size) return &reg[i];
  return 0;
}

/* Every page of [addr, addr+size) lies in some region. */
static int pages_covered(uint64_t addr, uint64_t size) {
  for (uint64_t page = addr & ~(HWS_PAGE - 1); page < addr + size; page += HWS_PAGE) {
    const uint64_t from = page > addr ? page : addr;
    const uint64_t to = page + HWS_PAGE < addr + size ? page + HWS_PAGE : addr + size;
    if (!region_of(from, to - from)) return 0;
  }
  return 1;
}

/* The config block starts the second PT_LOAD segment. Its address comes
 * from the slice's own program headers, which the writer puts in the
 * image's reserved first bytes (mapped at the image start), so the config
 * may follow the runtime's file bytes without a page of padding. */
static const struct hws_config* find_config(void) {
  const char* image = __hws_image_start;
  const uint64_t phoff = *(const uint64_t*)(image + HWS_EHDR_PHOFF);
  const uint16_t phentsize = *(const uint16_t*)(image + HWS_EHDR_PHENTSIZE);
  const uint16_t phnum = *(const uint16_t*)(image + HWS_EHDR_PHNUM);
  if (phoff == 0 || phentsize != HWS_PHDR_SIZE || phoff > HWS_HEADER_RESERVE ||
      (uint64_t)phnum * HWS_PHDR_SIZE > HWS_HEADER_RESERVE - phoff)
    setup_error("no program headers in the slice's first bytes", 0, kNoValue);
  int loads = 0;
  for (uint16_t i = 0; i < phnum; i++) {
    const char* ph = image + phoff + (uint64_t)i * HWS_PHDR_SIZE;
    if (*(const uint32_t*)(ph + HWS_PHDR_TYPE) == HWS_PT_LOAD && ++loads == 2)
      return (const struct hws_config*)*(const uint64_t*)(ph + HWS_PHDR_VADDR);
  }
  setup_error("no config segment (second PT_LOAD) in the slice", 0, kNoValue);
}

static void check_config(void) {
  if (cfg->magic != HWS_MAGIC) setup_error("no slice configuration (bad magic) at ", (uint64_t)cfg, kHex);
  cfg_valid = 1;
  if (cfg->version != HWS_VERSION) setup_error("unsupported slice format version ", cfg->version, kDecimal);
  if (cfg->end_kind != HWS_END_PC_REGS && cfg->end_kind != HWS_END_SYSCALL)
    setup_error("unknown end kind ", cfg->end_kind, kDecimal);
  if (cfg->end_kind == HWS_END_SYSCALL && cfg->calls_count == 0)
    setup_error("a syscall end needs a replay table", 0, kNoValue);
  /* The replay table must hold exactly calls_count well-formed calls. */
  const unsigned char* p = (const unsigned char*)cfg + cfg->replay_off;
  const unsigned char* end = p + cfg->replay_size;
  for (uint64_t i = 0; i < cfg->calls_count; i++) {
    if ((uint64_t)(end - p) < sizeof(struct hws_call)) setup_error("replay table too short at call ", i, kDecimal);
    const struct hws_call* c = (const struct hws_call*)p;
    p += sizeof *c;
    for (uint64_t w = 0; w < c->nwrites; w++) {
      if ((uint64_t)(end - p) < sizeof(struct hws_write)) setup_error("replay table too short at call ", i, kDecimal);
      const struct hws_write* wr = (const struct hws_write*)p;
      uint64_t padded = (wr->size + 7) & ~7ULL;
      if (padded < wr->size || (uint64_t)(end - p) - sizeof *wr < padded)
        setup_error("replay write data past the table at call ", i, kDecimal);
      if (wr->size && !pages_covered(wr->addr, wr->size))
        setup_error("replay write outside the slice's regions: ", wr->addr, kHex);
      p += sizeof *wr + padded;
    }
  }
  if (p != end) setup_error("replay table has bytes after the last call", 0, kNoValue);
  replay_cur = (const unsigned char*)cfg + cfg->replay_off;
}

static void map_regions(void) {
  const struct hws_region* reg = (const struct hws_region*)((const char*)cfg + cfg->regions_off);
  const uint64_t self = (uint64_t)__hws_image_start;
  /* The config block and its data end at the furthest offset it names. */
  uint64_t cfg_len = cfg->regions_off + cfg->regions_count * sizeof *reg;
  if (cfg->replay_off + cfg->replay_size > cfg_len) cfg_len = cfg->replay_off + cfg->replay_size;
  if (cfg->trap_sites_off + cfg->trap_sites_count * 8 > cfg_len) cfg_len = cfg->trap_sites_off + cfg->trap_sites_count * 8;
  if (cfg->digest_off + cfg->digest_count * sizeof(struct hws_range) > cfg_len)
    cfg_len = cfg->digest_off + cfg->digest_count * sizeof(struct hws_range);
  for (uint64_t i = 0; i < cfg->regions_count; i++)
    if (reg[i].data_off != HWS_NO_DATA && reg[i].data_off + reg[i].size > cfg_len) cfg_len = reg[i].data_off + reg[i].size;
  /* The fill table: each entry's end is known only by walking it. */
  const unsigned char* fill = (const unsigned char*)cfg + cfg->fills_off;
  for (uint64_t i = 0; i < cfg->fills_count; i++) fill += sizeof(struct hws_write) + ((((const struct hws_write*)fill)->size + 7) & ~7ULL);
  if ((uint64_t)(fill - (const unsigned char*)cfg) > cfg_len) cfg_len = (uint64_t)(fill - (const unsigned char*)cfg);
  const uint64_t self_len = (uint64_t)cfg + cfg_len - self;
  fill = (const unsigned char*)cfg + cfg->fills_off;
  uint64_t fills_left = cfg->fills_count;

  for (uint64_t i = 0; i < cfg->regions_count; i++) {
    const struct hws_region* r = &reg[i];
    if ((r->addr | r->size) & (HWS_PAGE - 1)) setup_error("region not page aligned: ", r->addr, kHex);
    if (overlaps(r->addr, r->size, self, self_len))
      setup_error("region overlaps the slice runtime or its data: ", r->addr, kHex);
    long m = sys6(HWS_SYS_MMAP, (long)r->addr, (long)r->size, HWS_PROT_READ | HWS_PROT_WRITE,
                  HWS_MAP_FIXED | HWS_MAP_PRIVATE | HWS_MAP_ANONYMOUS, -1, 0);
    if ((uint64_t)m != r->addr) setup_error("mmap failed for region ", r->addr, kHex);
    /* A fresh anonymous mapping is all zero: regions without data need no copy. */
    if (r->data_off != HWS_NO_DATA) {
      memcpy((void*)(uintptr_t)r->addr, (const char*)cfg + r->data_off, r->size);
    } else {
      /* Still write each page once: a page's first write is a fault the
       * kernel handles on its own, and taken by an sc it clears the
       * reservation (the sc fails once, the slice retires more
       * instructions than recorded). Copied pages are written anyway. */
      for (uint64_t a = r->addr; a < r->addr + r->size; a += HWS_PAGE) *(volatile unsigned char*)(uintptr_t)a = 0;
    }
    /* Fills are sorted by address, as regions are: those of this region
     * come next. */
    while (fills_left > 0) {
      const struct hws_write* f = (const struct hws_write*)fill;
      if (f->addr < r->addr || f->addr >= r->addr + r->size) break;
      if (f->addr + f->size > r->addr + r->size) setup_error("fill crosses the end of its region: ", f->addr, kHex);
      memcpy((void*)(uintptr_t)f->addr, fill + sizeof *f, f->size);
      fill += sizeof *f + ((f->size + 7) & ~7ULL);
      fills_left--;
    }
    uint64_t prot = region_prot(r);
    if (prot != (HWS_PROT_READ | HWS_PROT_WRITE)) {
      long e = sys3(HWS_SYS_MPROTECT, r->addr, r->size, prot);
      if (e < 0) setup_error("mprotect failed for region ", r->addr, kHex);
    }
  }

  if (fills_left) setup_error("fill outside the slice's regions: ", ((const struct hws_write*)fill)->addr, kHex);

  const struct hws_range* d = (const struct hws_range*)((const char*)cfg + cfg->digest_off);
  for (uint64_t i = 0; i < cfg->digest_count; i++) {
    const struct hws_region* r = region_of(d[i].addr, d[i].size);
    if (!r || !(r->prot & HWS_PROT_READ))
      setup_error("digest range not inside one readable region: ", d[i].addr, kHex);
  }
  if (cfg->end_kind == HWS_END_PC_REGS) {
    if (cfg->end_insn_len != 2 && cfg->end_insn_len != 4) setup_error("bad end_insn_len ", cfg->end_insn_len, kDecimal);
    if (cfg->end_next_pc != cfg->end_pc + cfg->end_insn_len) setup_error("end_next_pc is not end_pc + end_insn_len: ", cfg->end_next_pc, kHex);
    if (!region_of(cfg->end_pc, cfg->end_insn_len) || !region_of(cfg->end_next_pc, 2))
      setup_error("end pc outside the slice's regions: ", cfg->end_pc, kHex);
    const unsigned char* e = (const unsigned char*)(uintptr_t)cfg->end_pc;
    int ok = cfg->end_insn_len == 2 ? (e[0] == 0x02 && e[1] == 0x90)
                                    : (e[0] == 0x73 && e[1] == 0 && e[2] == 0x10 && e[3] == 0);
    if (!ok) setup_error("no breakpoint at end pc ", cfg->end_pc, kHex);
    end_armed = 1;
  }
}

static long perf_open(uint64_t config, int leader, int user_only, long group_fd) {
  unsigned char attr[HWS_PERF_ATTR_SIZE];
  memset(attr, 0, sizeof attr);
  U32_AT(attr, HWS_PERF_ATTR_TYPE) = HWS_PERF_TYPE_HARDWARE;
  U32_AT(attr, HWS_PERF_ATTR_SIZE_FIELD) = HWS_PERF_ATTR_SIZE;
  U64_AT(attr, HWS_PERF_ATTR_CONFIG) = config;
  U64_AT(attr, HWS_PERF_ATTR_READ_FORMAT) = leader ? HWS_PERF_FORMAT_GROUP : 0;
  U64_AT(attr, HWS_PERF_ATTR_FLAGS) =
      (leader ? HWS_PERF_ATTR_DISABLED : 0) |
      (user_only ? HWS_PERF_ATTR_EXCLUDE_KERNEL | HWS_PERF_ATTR_EXCLUDE_HV : 0);
  return sys6(HWS_SYS_PERF_EVENT_OPEN, (long)attr, 0, -1, group_fd, 0, 0);
}

static void open_counters(void) {
  int user_only = 1;
  long fd = perf_open(HWS_PERF_COUNT_HW_INSTRUCTIONS, 1, 1, -1);
  if (fd == -HWS_EINVAL || fd == -HWS_EOPNOTSUPP) {
    user_only = 0;
    fd = perf_open(HWS_PERF_COUNT_HW_INSTRUCTIONS, 1, 0, -1);
  }
  if (fd < 0) return; /* ENOSYS (qemu-user), EACCES, ENOENT...: no counters */
  cycles_fd = perf_open(HWS_PERF_COUNT_HW_CPU_CYCLES, 0, user_only, fd);
  if (sys3(HWS_SYS_IOCTL, fd, HWS_PERF_EVENT_IOC_ENABLE, HWS_PERF_IOC_FLAG_GROUP) < 0) {
    sys3(HWS_SYS_CLOSE, fd, 0, 0);
    if (cycles_fd >= 0) sys3(HWS_SYS_CLOSE, cycles_fd, 0, 0);
    cycles_fd = -1;
    return;
  }
  hws_perf_fd = (int32_t)fd;
  counters = user_only ? kCountersUser : kCountersAll;
}

USED NORETURN void hws_main(uint64_t* initial_sp) {
  hws_buf_init(&detail, detail_storage, sizeof detail_storage);
  /* The environment, before any region may replace the initial stack. */
  const uint64_t argc = initial_sp[0];
  char** envp = (char**)(initial_sp + 1 + argc + 1);
  int bad_fd = 0;
  for (; *envp; envp++) {
    const char* v;
    uint64_t n;
    if ((v = hws_env_value(*envp, "HWSLICE_QUIET"))) quiet = v[0] == '1' && v[1] == 0;
    if ((v = hws_env_value(*envp, "HWSLICE_STATS_FD"))) {
      if (hws_parse_u64(v, &n) && n < 0x7fffffff)
        stats_fd = (long)n;
      else
        bad_fd = 1;
    }
  }
  cfg = find_config();
  if (bad_fd) setup_error("HWSLICE_STATS_FD is not a file descriptor number", 0, kNoValue);
  check_config();
  install_handlers();
  map_regions();
  open_counters();
  if (counters != kCountersNone) {
    /* Twice: the second run is the warm one (caches, TLB, first touches). */
    hws_calibrate();
    hws_calibrate();
  }
  hws_start();
}
