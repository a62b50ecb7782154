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
 * adds b, and a faulting access (a fault mark, slice_abi.h) f. All three
 * are measured at start-up (hws_calibrate: two back-to-back reads give e, a
 * read followed by an ebreak and the handler's first read gives b, a read
 * followed by a load from a page without access gives f), so the
 * accounting is exact on both kinds of board when the counters are
 * user-only.
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
extern char hws_cal_ecall_d[], hws_calib_fault[];
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
USED uint64_t hws_calib_buf[12];
USED uint64_t hws_fault_page; /* a page without access: the fault calibration loads from it */

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
static uint64_t hits;          /* end-mechanism hits */
static uint64_t traps;         /* signals the runtime took after the start */
static uint64_t end_traps;     /* of those, the end mechanism's */
static uint64_t region_start_ns;
static int end_armed, next_armed;
/* The pass stub (slice_abi.h, HWS_END_COUNTED): passes in the batch now
 * counting down, passes so far, and the first check's count and passes. */
static uint64_t stub_batch, stub_passes, stub_first_n, stub_first_passes;
static int stub_have_first;
static unsigned char next_orig[4];
static unsigned next_len;

/* Pages with fault marks and their protection now (slice_abi.h). */
struct mark_page {
  uint64_t page, prot;
};
static struct mark_page marks[HWS_MAX_MARKS];
static uint64_t nmarks;

/* accounting (see the top of this file) */
static uint64_t cal_e, cal_b, cal_f;
static int have_start_b;
static uint64_t start_b_i, start_b_c, prev_a_i, prev_a_c;
static uint64_t ov_meas_i, ov_meas_c, ov_fixed, uncounted;

static char detail_storage[512];
static struct hws_buf detail;
/* End hits with the recorded registers (all calls replayed) but another
 * stack above sp. */
static uint64_t stack_misses;
/* ... and the stack too, but not the written-memory digest. */
static uint64_t digest_misses;
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
/* A signal from the program's own instruction (a fault mark, an access
 * fault, an illegal instruction) instead of an ebreak. */
static uint64_t fault_head(long sig) { return (sig == HWS_SIGTRAP ? cal_b : cal_f) + PRE_SIG; }
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
  r->end_kind = "counted";
  r->counters = counters == kCountersUser ? "user" : counters == kCountersAll ? "all" : "none";
  r->detail = detail.p;
  if (cfg_valid) {
    r->name = cfg->name;
    r->start = cfg->start;
    r->end = cfg->end;
    r->end_kind = cfg->end_kind == HWS_END_SYSCALL      ? "syscall"
                  : cfg->end_kind == HWS_END_FAULT      ? "fault"
                  : cfg->end_kind == HWS_END_AFTER_CALL ? "after_call"
                                                        : "counted";
    r->expected_digest = cfg->expected_digest;
    const int unapplied = cfg->end_kind == HWS_END_SYSCALL || cfg->end_kind == HWS_END_FAULT;
    r->calls_count = cfg->calls_count - (unapplied && cfg->calls_count ? 1 : 0);
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
static int pages_covered(uint64_t addr, uint64_t size);
static uint64_t region_prot(const struct hws_region* r);
static void open_marks_for_reading(int open);

static uint64_t now_ns(void) {
  uint64_t ts[2] = {0, 0};
  if (sys3(HWS_SYS_CLOCK_GETTIME, HWS_CLOCK_MONOTONIC, ts, 0) < 0) return 0;
  return ts[0] * 1000000000ULL + ts[1];
}

/* The slice is over: counters, digest, report, exit. `status` is "ok"
 * (downgraded to "state_mismatch" when anything differs), "diverged" or
 * "fault". The end sample is hws_sample_a of the current window. */
static NORETURN void finish(const char* status, int ended, int regs_match, uint64_t end_pc) {
  const uint64_t end_ns = now_ns();
  finishing = 1;
  struct hws_result r;
  result_init(&r, status);
  r.ended = ended;
  r.end_pc = end_pc;
  r.hits = hits;
  r.traps = traps;
  r.end_traps = end_traps;
  r.region_ns = region_start_ns && end_ns > region_start_ns ? end_ns - region_start_ns : 0;
  /* The pass that ended a counted end: the stub counts every pass, the
   * breakpoint traps at each. */
  if (ended && cfg->end_kind == HWS_END_COUNTED) r.end_pass = cfg->end_stub ? stub_passes : hits;
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

  /* The digest sees the program's code, not the runtime's breakpoints,
   * and pages whose fault mark has not come yet. */
  open_marks_for_reading(1);
  if (cfg->end_kind == HWS_END_COUNTED) {
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
  if (code != kExitOk && digest_misses) {
    hws_buf_str(&detail, detail.len ? "; " : "");
    hws_buf_str(&detail, "the end registers and stack matched at ");
    hws_buf_u64(&detail, digest_misses);
    hws_buf_str(&detail, digest_misses == 1 ? " hit" : " hits");
    hws_buf_str(&detail, ", the written-memory digest did not");
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

/* Equal registers (pc, x1..x31 but x[skip] when skip is 1..31, f0..f31, fcsr)? The
 * first difference goes to `why` (may be null). */
static int regs_equal(const struct hws_regs* got, const struct hws_regs* want, int skip,
                      struct hws_buf* why) {
  if (got->pc != want->pc) {
    note_reg(why, "pc", -1, got->pc, want->pc);
    return 0;
  }
  for (int i = 1; i < 32; i++) {
    if (i == skip) continue;
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

/* ---- marked pages ------------------------------------------------------ */
static struct mark_page* mark_of(uint64_t page) {
  for (uint64_t i = 0; i < nmarks; i++)
    if (marks[i].page == page) return &marks[i];
  return 0;
}

/* The protection `page` has now. */
static uint64_t prot_now(uint64_t page) {
  const struct mark_page* m = mark_of(page);
  if (m) return m->prot;
  const struct hws_region* r = region_of(page, HWS_PAGE);
  return r ? region_prot(r) : HWS_PROT_WRITE;
}

/* Marked pages the program cannot read yet, readable meanwhile (open) or
 * back to their protection: the kernel reads echoed output from them, the
 * digest reads them at the end. */
static void open_marks_for_reading(int open) {
  for (uint64_t i = 0; i < nmarks; i++)
    if (!(marks[i].prot & HWS_PROT_READ))
      sys3(HWS_SYS_MPROTECT, marks[i].page, HWS_PAGE, open ? marks[i].prot | HWS_PROT_READ : marks[i].prot);
}

/* ---- code patching ----------------------------------------------------- */
static void flush_icache(uint64_t pc, unsigned len) {
  __asm__ volatile("fence.i" ::: "memory");
  /* Other harts (the thread may migrate); ENOSYS under some emulators. */
  sys3(HWS_SYS_RISCV_FLUSH_ICACHE, pc, pc + len, 0);
}

/* Code pages the runtime patches are writable (patch_prot), except marked
 * ones, whose protection must stay what the slicer chose: those are opened
 * for the patch alone. */
static void patch_bytes(uint64_t pc, const unsigned char* bytes, unsigned char* orig, unsigned len) {
  const struct mark_page* m = mark_of(pc & ~(HWS_PAGE - 1));
  const int open = m && !(m->prot & HWS_PROT_WRITE);
  if (open) sys3(HWS_SYS_MPROTECT, m->page, HWS_PAGE, HWS_PROT_READ | HWS_PROT_WRITE | HWS_PROT_EXEC);
  volatile unsigned char* p = (volatile unsigned char*)(uintptr_t)pc;
  for (unsigned i = 0; i < len; i++) {
    if (orig) orig[i] = p[i];
    p[i] = bytes[i];
  }
  if (open) sys3(HWS_SYS_MPROTECT, m->page, HWS_PAGE, m->prot);
  flush_icache(pc, len);
}

static void restore_code(uint64_t pc, const unsigned char* bytes, unsigned len) { patch_bytes(pc, bytes, 0, len); }

/* Breakpoint of the same length as the instruction at pc; returns it. */
static unsigned put_breakpoint(uint64_t pc, unsigned char* orig) {
  static const unsigned char ebreak[4] = {0x73, 0x00, 0x10, 0x00};   /* 0x00100073 */
  static const unsigned char c_ebreak[2] = {0x02, 0x90};              /* 0x9002 */
  const unsigned len = (*(volatile unsigned char*)(uintptr_t)pc & 3) != 3 ? 2 : 4;
  patch_bytes(pc, len == 2 ? c_ebreak : ebreak, orig, len);
  return len;
}

static void end_insn_bytes(unsigned char insn[4]) {
  for (int i = 0; i < 4; i++) insn[i] = (unsigned char)(cfg->end_insn >> (8 * i));
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

/* Program instructions retired up to this window, whose fixed instructions
 * before its first sample are `head` (finish() computes the same). */
static uint64_t program_count_now(uint64_t head) {
  const uint64_t measured = hws_sample_a[1] - start_b_i;
  const uint64_t overhead = ov_meas_i + ov_fixed + head;
  return measured + uncounted >= overhead ? measured + uncounted - overhead : 0;
}

/* ---- events ------------------------------------------------------------ */
static const struct hws_call* next_entry(void) {
  return replay_index < cfg->calls_count ? (const struct hws_call*)(const void*)replay_cur : 0;
}

static int last_entry(void) { return replay_index + 1 == cfg->calls_count; }

static const unsigned char* entry_end(const struct hws_call* c) {
  const unsigned char* p = (const unsigned char*)c + sizeof *c;
  for (uint64_t i = 0; i < c->nwrites; i++) p += sizeof(struct hws_write) + ((((const struct hws_write*)p)->size + 7) & ~7ULL);
  return p;
}

static void advance(void) {
  replay_cur = entry_end(next_entry());
  replay_index++;
}

/* The entry's memory writes. The kernel may write where the program cannot:
 * each page is opened for its part of the copy. */
static void apply_writes(const struct hws_call* c) {
  const unsigned char* p = (const unsigned char*)c + sizeof *c;
  for (uint64_t i = 0; i < c->nwrites; i++) {
    const struct hws_write* w = (const struct hws_write*)p;
    for (uint64_t done = 0; done < w->size;) {
      const uint64_t at = w->addr + done;
      const uint64_t page = at & ~(HWS_PAGE - 1);
      uint64_t n = page + HWS_PAGE - at;
      if (n > w->size - done) n = w->size - done;
      const uint64_t prot = prot_now(page);
      if (!(prot & HWS_PROT_WRITE)) sys3(HWS_SYS_MPROTECT, page, HWS_PAGE, prot | HWS_PROT_READ | HWS_PROT_WRITE);
      memcpy((void*)(uintptr_t)at, p + sizeof *w + done, n);
      if (!(prot & HWS_PROT_WRITE)) sys3(HWS_SYS_MPROTECT, page, HWS_PAGE, prot);
      done += n;
    }
    p += sizeof *w + ((w->size + 7) & ~7ULL);
  }
}

/* After every event: once all have happened, the counted end's breakpoint
 * goes in (the end comes after the last event). */
static void after_events(void) {
  if (cfg->end_kind != HWS_END_COUNTED || replay_index != cfg->calls_count || end_armed || next_armed) return;
  if (cfg->end_stub) {
    stub_batch = cfg->end_pass ? cfg->end_pass : 1;
    *(volatile uint64_t*)(uintptr_t)(cfg->end_stub + HWS_END_STUB_LEFT) = stub_batch;
    unsigned char jal[4];
    for (int i = 0; i < 4; i++) jal[i] = (unsigned char)(cfg->end_jal >> (8 * i));
    patch_bytes(cfg->end_pc, jal, 0, 4);
  } else {
    unsigned char orig[4];
    put_breakpoint(cfg->end_pc, orig);
  }
  end_armed = 1;
}

/* A signal delivered to the program's handler: the frame the kernel wrote
 * and the registers it set. */
static void deliver_signal(unsigned char* uc, const struct hws_call* c) {
  apply_writes(c);
  U64_AT(uc, HWS_UC_PC) = c->args[0];
  U64_AT(uc, HWS_UC_X(2)) = c->args[1];
  U64_AT(uc, HWS_UC_X(1)) = c->args[2];
  U64_AT(uc, HWS_UC_X(10)) = c->nr;
  U64_AT(uc, HWS_UC_X(11)) = c->args[3];
  U64_AT(uc, HWS_UC_X(12)) = c->args[4];
  advance();
}

/* Signals delivered where the context in `uc` is about to resume (after an
 * event, or at the start), one after another as the kernel does. */
static void deliver_pending(unsigned char* uc) {
  const struct hws_call* c;
  while ((c = next_entry()) && (c->flags & HWS_CALL_SIGNAL) && c->site == U64_AT(uc, HWS_UC_PC))
    deliver_signal(uc, c);
}

static NORETURN void diverge_site(uint64_t pc, uint64_t nr) {
  hws_buf_str(&detail, "syscall ");
  hws_buf_u64(&detail, nr);
  hws_buf_str(&detail, " at pc ");
  hws_buf_hex(&detail, pc);
  finish("diverged", 0, 0, pc);
}

static void describe_entry(const struct hws_call* c) {
  hws_buf_str(&detail, "entry #");
  hws_buf_u64(&detail, replay_index + 1);
  if (c->flags & HWS_CALL_COUNTER) {
    hws_buf_str(&detail, " of the replay table is a read of counter ");
    hws_buf_hex(&detail, c->nr);
  } else if (c->flags & HWS_CALL_FAULT) {
    hws_buf_str(&detail, " of the replay table is a fault (signal ");
    hws_buf_u64(&detail, c->nr);
    hws_buf_char(&detail, ')');
  } else if (c->flags & HWS_CALL_SIGNAL) {
    hws_buf_str(&detail, " of the replay table is the delivery of signal ");
    hws_buf_u64(&detail, c->nr);
  } else {
    hws_buf_str(&detail, " of the replay table is syscall ");
    hws_buf_u64(&detail, c->nr);
  }
  hws_buf_str(&detail, " at pc ");
  hws_buf_hex(&detail, c->site);
}

/* Replays the next call for the ecall or counter read at regs->pc (a0
 * unknown for near sites). Returns the register it set (a0 = x10 for a
 * syscall's result, rd for a counter read) with its value in regs, or ends
 * the slice (HWS_END_SYSCALL: at this ecall, before it runs). */
static unsigned replay(struct hws_regs* regs, int near_site) {
  const uint64_t site = regs->pc, nr = regs->x[17];
  const struct hws_call* c = next_entry();
  if (!c) {
    hws_buf_str(&detail, "replay table exhausted after ");
    hws_buf_u64(&detail, replay_index);
    hws_buf_str(&detail, " events: the program made ");
    diverge_site(site, nr);
  }
  const int counter = (c->flags & HWS_CALL_COUNTER) != 0;
  const unsigned dest = counter ? (unsigned)c->args[0] : 10;
  if ((c->flags & (HWS_CALL_FAULT | HWS_CALL_SIGNAL)) || c->site != site || (!counter && c->nr != nr) ||
      (counter && (near_site || dest == 0 || dest > 31))) {
    describe_entry(c);
    hws_buf_str(&detail, ", but the program made ");
    diverge_site(site, nr);
  }
  if (last_entry() && cfg->end_kind == HWS_END_SYSCALL) {
    /* The slice ends at this ecall, before it runs. */
    ov_fixed += near_site ? 1 + far_head() : sig_head();
    hits = 1;
    int equal = regs_equal(regs, &cfg->end_regs, near_site ? 10 : 0, &detail);
    finish("ok", 1, equal, site);
  }
  apply_writes(c);
  if ((c->flags & HWS_CALL_ECHO) && (c->nr == HWS_SYS_WRITE || c->nr == HWS_SYS_WRITEV)) {
    open_marks_for_reading(1);
    sys3(c->nr, c->args[0], c->args[1], c->args[2]);
    open_marks_for_reading(0);
  }
  regs->x[dest] = c->ret;
  advance();
  return dest;
}

/* The ucontext rt_sigreturn restores (at sp + HWS_SIGFRAME_UC), into the
 * runtime's own frame `uc`: every register and the pc. */
static void sigreturn_context(unsigned char* uc, uint64_t sp, uint64_t recorded_a0) {
  unsigned char* from = (unsigned char*)(uintptr_t)(sp + HWS_SIGFRAME_UC);
  /* The frame may span pages of different regions (a page boundary on the
   * stack where the protections or the kind of data change). */
  if (!pages_covered(sp, HWS_SIGFRAME_UC + HWS_UC_FCSR + 4)) {
    hws_buf_str(&detail, "rt_sigreturn's frame at sp ");
    hws_buf_hex(&detail, sp);
    hws_buf_str(&detail, " is not in the slice's pages");
    finish("diverged", 0, 0, U64_AT(uc, HWS_UC_PC));
  }
  if (U64_AT(from, HWS_UC_X(10)) != recorded_a0) {
    hws_buf_str(&detail, "rt_sigreturn restores a0 = ");
    hws_buf_hex(&detail, U64_AT(from, HWS_UC_X(10)));
    hws_buf_str(&detail, ", the traced program got ");
    hws_buf_hex(&detail, recorded_a0);
    finish("diverged", 0, 0, U64_AT(uc, HWS_UC_PC));
  }
  U64_AT(uc, HWS_UC_PC) = U64_AT(from, HWS_UC_PC);
  for (int i = 1; i < 32; i++) U64_AT(uc, HWS_UC_X(i)) = U64_AT(from, HWS_UC_X(i));
  for (int i = 0; i < 32; i++) U64_AT(uc, HWS_UC_F(i)) = U64_AT(from, HWS_UC_F(i));
  U32_AT(uc, HWS_UC_FCSR) = U32_AT(from, HWS_UC_FCSR);
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
  if (cfg->end_kind == HWS_END_AFTER_CALL && replay_index == cfg->calls_count) {
    /* The slice ends right after this call. */
    ov_fixed += far_head();
    hits = 1;
    struct hws_regs now = f->r;
    now.pc += 4;
    finish("ok", 1, regs_equal(&now, &cfg->end_regs, 0, &detail), now.pc);
  }
  ov_fixed += far_head() + far_tail();
  after_events();
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

/* The registers in `uc` against the recorded end state; ends the slice. */
static NORETURN void end_here(unsigned char* uc, uint64_t pc) {
  struct hws_regs now;
  uc_to_regs(uc, &now);
  finish("ok", 1, regs_equal(&now, &cfg->end_regs, 0, &detail), pc);
}

/* A hit of the counted end's breakpoint (the original instruction is back
 * in place): is this the end? See HWS_END_COUNTED in slice_abi.h. */
static int counted_end_here(unsigned char* uc, uint64_t pc) {
  static uint64_t passes;
  const uint64_t expected = cfg->end - cfg->start;
  if (cfg->end_pass) return ++passes == cfg->end_pass;
  if (counters != kCountersNone) {
    /* Past the interval's length the program ran past its end: exactly so
     * with user-only counts; with counts that include the kernel too, since
     * the recorded length counts the tracer's kernel work, which the slice
     * does not do. */
    const uint64_t n = program_count_now(sig_head());
    if (n > expected) {
      hws_buf_str(&detail, "ran past its end: at hit ");
      hws_buf_u64(&detail, hits);
      hws_buf_str(&detail, " of pc ");
      hws_buf_hex(&detail, pc);
      hws_buf_str(&detail, " the program had retired ");
      hws_buf_u64(&detail, n);
      hws_buf_str(&detail, " instructions, ");
      hws_buf_u64(&detail, expected);
      hws_buf_str(&detail, " expected");
      ov_fixed += sig_head();
      finish("diverged", 0, 0, pc);
    }
    if (counters == kCountersUser && (cfg->flags & HWS_F_EXACT)) return n == expected;
  }
  /* Otherwise the whole state the slice can observe decides. */
  struct hws_regs now;
  uc_to_regs(uc, &now);
  if (!regs_equal(&now, &cfg->end_regs, 0, 0)) return 0;
  if (!end_stack_matches()) {
    stack_misses++; /* said in the report if the end is never found */
    return 0;
  }
  if (hws_digest_ranges((const struct hws_range*)((const char*)cfg + cfg->digest_off), cfg->digest_count) ==
      cfg->expected_digest)
    return 1;
  digest_misses++;
  return 0;
}

/* A check of the pass stub (its ebreak at end_stub + HWS_END_STUB_CHECK):
 * the end, or the next batch of passes. */
static void stub_check(unsigned char* uc) {
  hits++;
  end_traps++;
  stub_passes += stub_batch;
  ov_fixed += HWS_END_STUB_PASS * (stub_batch - 1) + HWS_END_STUB_CHECK_HEAD;
  const unsigned rd = (unsigned)cfg->end_stub_rd, scratch = (unsigned)cfg->end_stub_scratch;
  /* The registers at end_pc: the scratch register's value is in the stub,
   * rd is dead there (the end instruction writes it unread). */
  struct hws_regs now;
  uc_to_regs(uc, &now);
  now.pc = cfg->end_pc;
  now.x[scratch] = *(volatile uint64_t*)(uintptr_t)(cfg->end_stub + HWS_END_STUB_SAVE);
  now.x[rd] = cfg->end_regs.x[rd];
  const uint64_t expected = cfg->end - cfg->start;
  const int exact = counters == kCountersUser && (cfg->flags & HWS_F_EXACT);
  uint64_t n = 0;
  int is_end;
  if (cfg->end_pass) {
    is_end = stub_passes == cfg->end_pass;
  } else {
    if (counters != kCountersNone) {
      n = program_count_now(sig_head());
      if (n > expected) {
        hws_buf_str(&detail, "ran past its end: at pass ");
        hws_buf_u64(&detail, stub_passes);
        hws_buf_str(&detail, " of pc ");
        hws_buf_hex(&detail, cfg->end_pc);
        hws_buf_str(&detail, " the program had retired ");
        hws_buf_u64(&detail, n);
        hws_buf_str(&detail, " instructions, ");
        hws_buf_u64(&detail, expected);
        hws_buf_str(&detail, " expected");
        ov_fixed += sig_head();
        finish("diverged", 0, 0, cfg->end_pc);
      }
    }
    if (exact) {
      is_end = n == expected;
    } else {
      is_end = regs_equal(&now, &cfg->end_regs, (int)rd, 0);
      if (is_end && !end_stack_matches()) {
        stack_misses++;
        is_end = 0;
      }
      if (is_end) {
        is_end = hws_digest_ranges((const struct hws_range*)((const char*)cfg + cfg->digest_off), cfg->digest_count) ==
                 cfg->expected_digest;
        if (!is_end) digest_misses++;
      }
    }
  }
  if (is_end) {
    ov_fixed += sig_head();
    regs_to_uc(&now, uc);
    finish("ok", 1, regs_equal(&now, &cfg->end_regs, (int)rd, &detail), cfg->end_pc);
  }
  /* The next batch: with exact counts, about half the passes the count says
   * are left (from the passes' average length since the first check); else
   * every pass. */
  uint64_t next = 1;
  if (exact && !(cfg->flags & HWS_F_EVERY_PASS)) {
    if (!stub_have_first) {
      stub_have_first = 1;
      stub_first_n = n;
      stub_first_passes = stub_passes;
    } else if (stub_passes > stub_first_passes && n > stub_first_n) {
      const uint64_t per = (n - stub_first_n) / (stub_passes - stub_first_passes);
      const uint64_t left = per ? (expected - n) / per : 0;
      next = left / 4;
      if (next > 4 * stub_batch) next = 4 * stub_batch;
      if (next < 1) next = 1;
    }
  }
  stub_batch = next;
  *(volatile uint64_t*)(uintptr_t)(cfg->end_stub + HWS_END_STUB_LEFT) = next;
  U64_AT(uc, HWS_UC_PC) = cfg->end_stub + HWS_END_STUB_RESUME;
  ov_fixed += sig_head() + sig_tail() + HWS_END_STUB_CHECK_TAIL;
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
    if (sig == HWS_SIGSEGV && pc == (uint64_t)hws_calib_fault) {
      /* f: a read, k3 instructions, the faulting load, PRE_SIG handler
       * instructions, a read. */
      const uint64_t k3 = label_insns(hws_cal_ecall_d + 4, hws_calib_fault);
      int64_t f = (int64_t)(hws_sample_a[1] - hws_calib_buf[10]) - (int64_t)cal_e - (int64_t)k3 - (int64_t)PRE_SIG;
      cal_f = f > 0 ? (uint64_t)f : 0;
      U64_AT(uc, HWS_UC_PC) = pc + 4;
      return;
    }
    if (sig == HWS_SIGTRAP && pc == (uint64_t)hws_start_trap) {
      regs_to_uc(&cfg->start_regs, uc);
      started = 1;
      deliver_pending(uc);
      after_events();
      ov_fixed += sig_tail();
      region_start_ns = now_ns();
      return;
    }
    hws_buf_str(&detail, "set-up failed: ");
    describe_signal(sig, info, pc);
    fail_setup();
  }

  window_enter();
  traps++;
  if (sig == HWS_SIGTRAP && cfg->end_kind == HWS_END_COUNTED) {
    if (cfg->end_stub && pc == cfg->end_stub + HWS_END_STUB_CHECK && end_armed) {
      stub_check(uc);
      return;
    }
    if (!cfg->end_stub && pc == cfg->end_pc && end_armed) {
      hits++;
      end_traps++;
      /* The original instruction back: the end runs it next, or it runs
       * now with a breakpoint after it. */
      unsigned char insn[4];
      end_insn_bytes(insn);
      restore_code(pc, insn, (unsigned)cfg->end_insn_len);
      end_armed = 0;
      if (counted_end_here(uc, pc)) {
        ov_fixed += sig_head();
        end_here(uc, pc);
      }
      next_len = put_breakpoint(cfg->end_next_pc, next_orig);
      next_armed = 1;
      ov_fixed += sig_head() + sig_tail();
      return;
    }
    if (pc == cfg->end_next_pc && next_armed) {
      end_traps++;
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
    if (last_entry() && cfg->end_kind == HWS_END_SYSCALL) end_traps++;
    const uint64_t nr = now.x[17];
    const int sigreturn = next_entry() && !(next_entry()->flags & HWS_CALL_COUNTER) && nr == HWS_SYS_RT_SIGRETURN;
    const unsigned dest = replay(&now, 0);
    U64_AT(uc, HWS_UC_X(dest)) = now.x[dest];
    U64_AT(uc, HWS_UC_PC) = pc + 4;
    if (sigreturn) sigreturn_context(uc, now.x[2], now.x[10]);
    uncounted += 1 - stand_in;
    if (cfg->end_kind == HWS_END_AFTER_CALL && replay_index == cfg->calls_count) {
      ov_fixed += sig_head() - stand_in;
      hits = 1;
      end_traps++;
      end_here(uc, U64_AT(uc, HWS_UC_PC));
    }
    ov_fixed += sig_head() - stand_in + sig_tail();
    deliver_pending(uc);
    after_events();
    return;
  }
  /* The program's own instruction raised the signal: a fault mark or a
   * signal the traced program got there too. */
  const struct hws_call* c = next_entry();
  const uint64_t addr = U64_AT(info, HWS_SIGINFO_ADDR);
  if (c && (c->flags & HWS_CALL_FAULT) && c->site == pc && c->nr == (uint64_t)sig &&
      (c->args[0] == HWS_NO_PAGE || (addr & ~(HWS_PAGE - 1)) == c->args[0])) {
    if (last_entry() && cfg->end_kind == HWS_END_FAULT) {
      ov_fixed += fault_head(sig);
      hits = 1;
      end_traps++;
      end_here(uc, pc);
    }
    struct mark_page* m = c->args[0] == HWS_NO_PAGE ? 0 : mark_of(c->args[0]);
    if (m) {
      m->prot = c->args[1] & 7;
      sys3(HWS_SYS_MPROTECT, m->page, HWS_PAGE, m->prot);
    }
    advance();
    ov_fixed += fault_head(sig) + sig_tail();
    deliver_pending(uc);
    after_events();
    return;
  }
  if (c && (c->flags & HWS_CALL_SIGNAL) && c->site == pc && c->nr == (uint64_t)sig) {
    ov_fixed += fault_head(sig) + sig_tail();
    deliver_pending(uc);
    after_events();
    return;
  }
  ov_fixed += PRE_SIG;
  describe_signal(sig, info, pc);
  if (sig == HWS_SIGTRAP) hws_buf_str(&detail, ", not a slice breakpoint");
  if (c) {
    hws_buf_str(&detail, "; next event: ");
    describe_entry(c);
  }
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
  if (cfg->end_kind != HWS_END_COUNTED || (size == HWS_PAGE && mark_of(addr))) return 0;
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
  if (cfg->end_kind != HWS_END_COUNTED && cfg->end_kind != HWS_END_SYSCALL && cfg->end_kind != HWS_END_FAULT &&
      cfg->end_kind != HWS_END_AFTER_CALL)
    setup_error("unknown end kind ", cfg->end_kind, kDecimal);
  if (cfg->end_kind != HWS_END_COUNTED && cfg->calls_count == 0)
    setup_error("an end at an event needs a replay table", 0, kNoValue);
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
  /* The pages of fault marks, with the protection their region starts
   * with; the end's entry kind must match the end kind. */
  const struct hws_call* last = 0;
  for (p = replay_cur; p != end; p = entry_end(last)) {
    last = (const struct hws_call*)(const void*)p;
    if (!(last->flags & HWS_CALL_FAULT) || last->args[0] == HWS_NO_PAGE || mark_of(last->args[0])) continue;
    if (last->args[0] & (HWS_PAGE - 1)) setup_error("fault mark on an unaligned page: ", last->args[0], kHex);
    if (nmarks == HWS_MAX_MARKS) setup_error("more pages with fault marks than the runtime tracks: ", HWS_MAX_MARKS, kDecimal);
    const struct hws_region* r = region_of(last->args[0], HWS_PAGE);
    marks[nmarks].page = last->args[0];
    marks[nmarks].prot = r ? r->prot & 7 : 0;
    nmarks++;
  }
  if ((cfg->end_kind == HWS_END_FAULT) != (last && (last->flags & HWS_CALL_FAULT)))
    setup_error("the end kind does not match the last replay-table entry", 0, kNoValue);
  if ((cfg->end_kind == HWS_END_SYSCALL || cfg->end_kind == HWS_END_AFTER_CALL) &&
      (last->flags & (HWS_CALL_FAULT | HWS_CALL_SIGNAL | HWS_CALL_COUNTER)))
    setup_error("a syscall end needs a syscall as the last replay-table entry", 0, kNoValue);
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

  /* A marked page outside the regions must fault because nothing is there:
   * the kernel may have put the slice's own stack or vDSO there (the
   * runtime uses neither once hws_main runs). */
  for (uint64_t i = 0; i < nmarks; i++)
    if (!region_of(marks[i].page, HWS_PAGE)) sys3(HWS_SYS_MUNMAP, marks[i].page, HWS_PAGE, 0);

  const struct hws_range* d = (const struct hws_range*)((const char*)cfg + cfg->digest_off);
  for (uint64_t i = 0; i < cfg->digest_count; i++) {
    const struct hws_region* r = region_of(d[i].addr, d[i].size);
    /* A marked page may be unreadable until its mark: the runtime opens
     * it for the digest (finish). */
    if (!r || !((r->prot & HWS_PROT_READ) || (r->size == HWS_PAGE && mark_of(r->addr))))
      setup_error("digest range not inside one readable region: ", d[i].addr, kHex);
  }
  if (cfg->end_kind == HWS_END_COUNTED) {
    if (cfg->end_insn_len != 2 && cfg->end_insn_len != 4) setup_error("bad end_insn_len ", cfg->end_insn_len, kDecimal);
    if (cfg->end_next_pc != cfg->end_pc + cfg->end_insn_len) setup_error("end_next_pc is not end_pc + end_insn_len: ", cfg->end_next_pc, kHex);
    if (!region_of(cfg->end_pc, cfg->end_insn_len) || (!cfg->end_stub && !region_of(cfg->end_next_pc, 2)))
      setup_error("end pc outside the slice's regions: ", cfg->end_pc, kHex);
    if (cfg->end_stub) {
      const struct hws_region* r = region_of(cfg->end_stub, HWS_END_STUB_SIZE);
      if (!r || (region_prot(r) & 7) != 7 || cfg->end_insn_len != 4 || cfg->end_stub_rd == 0 ||
          cfg->end_stub_rd > 31 || cfg->end_stub_scratch == 0 || cfg->end_stub_scratch > 31 ||
          cfg->end_stub_rd == cfg->end_stub_scratch || cfg->end_stub_scratch == 2)
        setup_error("bad end stub at ", cfg->end_stub, kHex);
    }
    /* The breakpoint goes in once every event has happened (after_events). */
    const unsigned char* e = (const unsigned char*)(uintptr_t)cfg->end_pc;
    unsigned char insn[4];
    end_insn_bytes(insn);
    if (memcmp(e, insn, (unsigned long)cfg->end_insn_len) != 0)
      setup_error("the instruction at the end pc is not the recorded one: ", cfg->end_pc, kHex);
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
    long page = sys6(HWS_SYS_MMAP, 0, (long)HWS_PAGE, 0, HWS_MAP_PRIVATE | HWS_MAP_ANONYMOUS, -1, 0);
    if (page < 0) setup_error("mmap of the calibration page failed, errno ", (uint64_t)-page, kDecimal);
    hws_fault_page = (uint64_t)page;
    /* Twice: the second run is the warm one (caches, TLB, first touches). */
    hws_calibrate();
    hws_calibrate();
    sys3(HWS_SYS_MUNMAP, page, HWS_PAGE, 0);
  }
  hws_start();
}
