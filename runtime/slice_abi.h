/* slice_abi.h — the contract between the slicer (C++, writes slices) and the
 * runtime (freestanding C + assembly, linked into every slice).
 *
 * A slice is a static riscv64 ELF with two PT_LOAD segments:
 *   1. the runtime image (code, data, then bss as memsz only) at
 *      `runtime_base`, which the slicer chooses in a hole of the traced
 *      program's address space (the runtime is position independent: it is
 *      built -fno-pic -mcmodel=medany without jump tables or pointers in
 *      initialized data, so every reference is pc-relative);
 *   2. read-only: the config block (struct hws_config), 8-byte aligned,
 *      anywhere above the runtime's memsz (the writer puts it right after
 *      the runtime's file bytes in the file, so at runtime_base + memsz
 *      rounded up to 4 KiB + its file offset's remainder in a page); the
 *      runtime finds it through this segment's p_vaddr in the program
 *      headers at its own start. It is followed by the tables and page data
 *      the config points to by offset.
 * e_entry = runtime_base + entry offset of the runtime image. The runtime
 * segment starts at file offset 0: its first HWS_HEADER_RESERVE bytes, unused
 * by the runtime, hold the ELF header and program headers.
 *
 * Sparse pages: a page with only a few bytes of content (step-mode slices
 * hold only the bytes an interval uses; fresh heap and stack pages are
 * mostly zero) is mapped as zeros (a region without data), and its content comes
 * from the fill table: runs of bytes, each a struct hws_write and its data,
 * copied in place before the region gets its final protection.
 *
 * Everything is little-endian; every offset below is relative to the start
 * of the config block and 8-byte aligned (page data 16-byte aligned: the
 * runtime copies it into place, nothing maps it).
 *
 * Replay protocol (seed 004, made position independent):
 *   An ecall site whose every execution in the slice returns the same value
 *   v (-2048 <= v < 2048) without writing memory or echoing output is
 *   rewritten in place to `addi a0, x0, v` and has no replay-table entry.
 *   Any other ecall site is rewritten to `jal x0, near` with a near stub
 *   (HWS_NEAR_STUB_SIZE bytes) within jal range in a page the interval never
 *   touches:
 *       near+0:  auipc a0, 0
 *       near+4:  sd    sp, 40(a0)        # save the program's sp in the stub
 *       near+8:  ld    a0, 48(a0)        # a0 = far entry (literal below)
 *       near+12: jalr  a0, 0(a0)         # a0 = near+16, enter the runtime
 *       near+16: auipc sp, 0
 *       near+20: ld    sp, 24(sp)        # sp = saved sp (near+40)
 *       near+24: jal   x0, site+4        # back to the program
 *       near+28: nop  (c.nop c.nop)
 *       near+32: .dword site pc          # for divergence checks
 *       near+40: .dword saved sp
 *       near+48: .dword far entry address (runtime_base + far offset)
 *   Stub pages are mapped read+write+exec. The far entry switches to the
 *   runtime stack, saves every register except a0 (whose value at the ecall
 *   is lost; the recorded arguments stand in for it), applies the next
 *   replay-table call, sets a0 to its return value, restores the other
 *   registers and returns with `jalr x0, 0(sp)` where sp = near+16.
 *   A site with no free page within jal range is rewritten to `ebreak` and
 *   listed in the trap-site table; the runtime's SIGTRAP handler replays it
 *   the same way (with the full register file, a0 included).
 *
 * Counter reads: an rdcycle/rdtime/rdinstret the program ran in the interval
 * is a replay-table entry too (HWS_CALL_COUNTER), in order among the
 * syscalls; its site is always rewritten to `ebreak` and listed in the
 * trap-site table, and the SIGTRAP handler sets rd to the recorded value
 * and moves pc past it (the ebreak stands for the program's instruction in
 * the accounting, as for an ecall trap site).
 *
 * Replay table: the calls in program order, each a struct hws_call followed
 * by `nwrites` struct hws_write, each followed by its data padded to 8
 * bytes. The runtime keeps one cursor; a call from the wrong site (near+32
 * or the trap pc differs from `site`) or past the end is a divergence.
 *
 * Events: besides syscalls and counter reads, the replay table holds the
 * two other things that happen to a program at one exact point:
 *   HWS_CALL_FAULT, a fault mark: the program's instruction at `site`
 *     faults. args[0] = the page (4 KiB aligned, or HWS_NO_PAGE for a fault
 *     that needs none, e.g. a program's own SIGILL), args[1] = the
 *     protection the page has from this mark on, nr = the signal the
 *     runtime sees (SIGSEGV for an access). The slice maps the page with
 *     less access than the instruction needs (its region's prot) until the
 *     mark, so the fault happens exactly there, once: the tracer saw the
 *     same fault at the same point (a page's first touch in the interval,
 *     or the program's own fault). At the mark the runtime gives the page
 *     args[1] and the instruction runs again; the next entry may be a
 *     signal delivered at that pc.
 *   HWS_CALL_SIGNAL: the kernel delivered signal `nr` to the program's
 *     handler at `site` (the pc it interrupted): args[0] = handler pc,
 *     args[1] = sp, args[2] = ra (the vDSO's sigreturn trampoline),
 *     args[3] = a1 (&siginfo), args[4] = a2 (&ucontext); a0 = nr; the
 *     writes are the signal frame the kernel wrote. The runtime applies it
 *     right after the entry before it (a syscall at a trap site, a fault
 *     mark), or at the program's own fault at `site` (a synchronous signal
 *     the slice raises itself), or at the start when it is the first entry
 *     and `site` is the start pc.
 *   rt_sigreturn (nr HWS_SYS_RT_SIGRETURN) is always a trap site: the
 *     runtime loads every register from the ucontext at sp + 128 (struct
 *     rt_sigframe: siginfo, then ucontext), as the kernel does.
 * Marked pages: a page with fault marks is a region of its own; the
 * runtime tracks its current protection (at most HWS_MAX_MARKS marks).
 *
 * End of slice: the end is an event that happens once, or a count.
 *   HWS_END_SYSCALL: at the ecall of the last replay-table call, which is
 *     not applied (the program's exit). The registers compared are those at
 *     that ecall (a0 excluded for near-stub sites).
 *   HWS_END_AFTER_CALL: right after the last replay-table call (a syscall)
 *     is applied: the registers with its result, pc after the ecall.
 *   HWS_END_FAULT: at the fault of the last replay-table entry, a fault
 *     mark, which is not applied (a page's first touch, or the program's
 *     fatal fault). Registers compared at the faulting instruction.
 *   HWS_END_COUNTED (an interval that ends in code that makes no syscall and
 *     touches no new page): the runtime arms `ebreak` (c.ebreak for a 2-byte
 *     instruction) at end_pc once every replay-table entry has been applied
 *     (the end comes after the last event). At each hit it decides:
 *     - end_pass > 0 (the tracer counted the executions of end_pc after the
 *       last event: step mode): the end_pass-th hit is the end;
 *     - else, with exact user-only counters (HWS_F_EXACT and the counters
 *       are user-only): the hit whose program-instruction count is end -
 *       start is the end; a count past it is a divergence;
 *     - else the end is the first hit where the register file, the stack
 *       above sp (end_stack_len bytes, end_stack_hash) and the written-
 *       memory digest all equal the recorded ones: the whole state the
 *       slice can observe (an earlier hit in that same state would mean the
 *       program loops forever without a syscall). A count that includes the
 *       kernel's instructions bounds it from above: the recorded length
 *       counts the tracer's kernel work, which the slice does not do, so a
 *       hit past end - start has run past the end (a divergence), as with
 *       exact counts.
 *     A hit that is not the end puts the original instruction back, places a
 *     breakpoint at end_next_pc (end_pc is never a control-flow instruction,
 *     so that is its only successor), and on that trap re-arms end_pc.
 *   The pass stub (end_stub != 0) checks in user mode instead, without a
 *     kernel trap at every pass: the end instruction (4 bytes, not
 *     pc-relative, writing an integer rd it does not read, so rd is dead
 *     there) is replaced by `jal rd, end_stub`; the stub (HWS_END_STUB_SIZE
 *     bytes, in a page of its own, read+write+exec) counts the passes down:
 *       S+0:  auipc rd, 0
 *       S+4:  sd    s, HWS_END_STUB_SAVE(rd)   s = end_stub_scratch
 *       S+8:  ld    s, HWS_END_STUB_LEFT(rd)
 *       S+12: addi  s, s, -1
 *       S+16: sd    s, HWS_END_STUB_LEFT(rd)
 *       S+20: beq   s, x0, S+36
 *       S+24: ld    s, HWS_END_STUB_SAVE(rd)   (a check resumes here)
 *       S+28: the end instruction
 *       S+32: jal   x0, end_pc + 4
 *       S+36: ebreak                           (a check)
 *     LEFT is the number of passes to the next check, which the runtime
 *     sets: end_pass when known (one check, the end); else, with exact
 *     counts and without HWS_F_EVERY_PASS, a quarter of the passes the count
 *     says are left at the passes' average length so far, at most four times
 *     the last batch (a few checks; a program whose passes thin out towards
 *     the end can make it run past the end, which the runtime reports: the
 *     slicer runs such a slice once and sets HWS_F_EVERY_PASS when it did);
 *     else 1 (every pass is checked, one trap each). Every pass costs
 *     HWS_END_STUB_PASS instructions besides the program's, a check
 *     HWS_END_STUB_CHECK_HEAD before its trap and HWS_END_STUB_CHECK_TAIL
 *     after it: accounted exactly. At the end, rd holds the stub's address:
 *     it is dead, so it is not compared, and the runtime puts the recorded
 *     value back.
 *
 * Counters: the runtime opens instructions and cycles with perf_event_open
 * (exclude_kernel when the board allows; flags say which), enables them just
 * before the register restore and reads them at the end; its own
 * instructions inside the measured window (restore sequence, replay, end
 * handler) are counted with the same counters around each runtime entry and
 * reported separately as overhead.
 *
 * Result: exit status 0 = ended by the end mechanism with registers and
 * memory digest equal; 1 = ended, but state differs; 2 = diverged (replay
 * from an unexpected site, table exhausted, end never reached); 3 = the
 * program faulted (signal) inside the slice; 4 = runtime set-up failed.
 * A perf-stat-like report goes to stderr unless HWSLICE_QUIET=1; when
 * HWSLICE_STATS_FD=n is set, one JSON object (keys in hws_stats_keys below)
 * is written to fd n.
 */
#ifndef HWSLICE_RUNTIME_SLICE_ABI_H
#define HWSLICE_RUNTIME_SLICE_ABI_H

#include <stdint.h>

#define HWS_MAGIC 0x31454349534c5748ULL /* "HWSLICE1" */
#define HWS_VERSION 5
#define HWS_PAGE 4096ULL
#define HWS_NEAR_STUB_SIZE 56
/* The first bytes of the runtime image are not used by the runtime: the
 * slice's ELF header and program headers go there (runtime.ld). */
#define HWS_HEADER_RESERVE 0x100

/* hws_config.flags */
#define HWS_F_EXACT 1ULL          /* start/end positions are exact instruction counts */
#define HWS_F_EVERY_PASS 2ULL     /* a counted end's pass stub checks every pass (batches of 1) */

/* hws_config.end_kind */
#define HWS_END_COUNTED 1ULL
#define HWS_END_SYSCALL 2ULL
#define HWS_END_FAULT 3ULL
#define HWS_END_AFTER_CALL 4ULL

/* Fault marks per slice the runtime can track (pages with a protection
 * that changes at a mark). */
#define HWS_MAX_MARKS 64

/* The pass stub of HWS_END_COUNTED (see there). */
#define HWS_END_STUB_SIZE 144
#define HWS_END_STUB_RESUME 24
#define HWS_END_STUB_CHECK 36
#define HWS_END_STUB_SAVE 128
#define HWS_END_STUB_LEFT 136
#define HWS_END_STUB_PASS 9        /* jal at end_pc, then S+0..S+24, S+32 */
#define HWS_END_STUB_CHECK_HEAD 7  /* jal, S+0..S+20 */
#define HWS_END_STUB_CHECK_TAIL 2  /* S+24, S+32 */
#define HWS_NO_PAGE 0xffffffffffffffffULL

/* hws_region.prot: PROT_* bits (1 read, 2 write, 4 exec) */

/* hws_call.flags */
#define HWS_CALL_ECHO 1ULL  /* write/writev to fd 1 or 2: also perform it for
                               real (same fd, buffers read from the slice's
                               memory); the recorded return value is used */
#define HWS_CALL_COUNTER 2ULL /* not a syscall: the program's read of a counter
                                 (rdcycle/rdtime/rdinstret) at `site`, always a
                                 trap site; nr = the CSR number, args[0] = rd,
                                 ret = the value rd gets; no writes */
#define HWS_CALL_FAULT 4ULL   /* a fault mark (see "Events" above) */
#define HWS_CALL_SIGNAL 8ULL  /* a signal delivered to a handler (see "Events") */

struct hws_regs {
  uint64_t pc;
  uint64_t x[32]; /* x[0] unused (0) */
  uint64_t f[32]; /* raw bits */
  uint64_t fcsr;
};

struct hws_region {  /* pages mapped at start: [addr, addr+size) */
  uint64_t addr;      /* 4 KiB aligned */
  uint64_t size;      /* multiple of 4 KiB */
  uint64_t prot;      /* final protection after the copy */
  uint64_t data_off;  /* size bytes of content, or HWS_NO_DATA: all zero */
};
#define HWS_NO_DATA 0xffffffffffffffffULL

struct hws_range {   /* memory covered by the written-memory digest */
  uint64_t addr;
  uint64_t size;
};

struct hws_call {
  uint64_t nr;        /* syscall number (a7) */
  uint64_t site;      /* pc of the ecall */
  uint64_t args[6];   /* recorded a0..a5 */
  uint64_t ret;       /* value for a0 */
  uint64_t flags;     /* HWS_CALL_* */
  uint64_t nwrites;   /* struct hws_write entries that follow */
};

struct hws_write {
  uint64_t addr;
  uint64_t size;      /* followed by size bytes, padded to a multiple of 8 */
};

struct hws_config {
  uint64_t magic;               /* HWS_MAGIC */
  uint64_t version;             /* HWS_VERSION */
  uint64_t flags;               /* HWS_F_* */
  uint64_t start;               /* program position of the first instruction */
  uint64_t end;                 /* program position where the slice ends */
  uint64_t regions_off, regions_count;
  uint64_t replay_off, replay_size;       /* bytes of the replay table */
  uint64_t calls_count;                   /* calls in the replay table */
  uint64_t trap_sites_off, trap_sites_count; /* uint64_t pcs of ebreak-replayed ecall and counter-read sites */
  uint64_t digest_off, digest_count;      /* struct hws_range, sorted by addr */
  uint64_t expected_digest;               /* hws_digest of those ranges at the end */
  uint64_t fills_off, fills_count;        /* struct hws_write + data (padded to 8), sorted by
                                             addr: bytes copied into regions after their data */
  uint64_t end_kind;
  uint64_t end_pc;
  uint64_t end_insn;           /* original instruction bytes at end_pc */
  uint64_t end_insn_len;       /* 2 or 4 */
  uint64_t end_next_pc;        /* end_pc + end_insn_len */
  uint64_t end_pass;           /* HWS_END_COUNTED: the hit of end_pc that is the end, counted
                                  from the last event; 0: not known */
  uint64_t end_stub;           /* HWS_END_COUNTED with a pass stub (see below): its address; 0: none */
  uint64_t end_jal;            /* the jal rd, end_stub written at end_pc when the end is armed */
  uint64_t end_stub_rd;        /* rd of the end instruction (dead at end_pc: the instruction writes it
                                  without reading it) */
  uint64_t end_stub_scratch;   /* the register the stub saves and uses */
  struct hws_regs start_regs;  /* entry state: every register, then jump to pc */
  struct hws_regs end_regs;    /* recorded state at the end point */
  /* HWS_END_COUNTED may also require, at the end hit, hws_hash(HWS_FNV_OFFSET)
   * of the end_stack_len bytes at end_regs.x[2] (the stack above sp, within
   * the slice's pages) to equal end_stack_hash; 0 bytes: no stack check. */
  uint64_t end_stack_len;
  uint64_t end_stack_hash;
  char name[48];               /* "<start>-<end>", NUL-terminated (at most 42 bytes) */
};

/* hws_hash: the content hash of slices and traces (written-memory digest,
 * end stack, a trace's page digests). FNV-1a 64 taken a 64-bit word at a
 * time: for each whole 8-byte little-endian word w, h = (h ^ w) *
 * HWS_FNV_PRIME, then h ^= h >> 32 (the multiplication alone only carries
 * bits upward: the fold brings the high half back down); then the last
 * n % 8 bytes one at a time, as plain FNV-1a (so anything shorter than 8
 * bytes hashes as FNV-1a 64). Why words: byte-wise FNV-1a costs about five
 * instructions a byte, 20,000 a page, and the tracer hashes every page an
 * interval touches (its digest in the trace, the written memory at the end)
 * while the runtime hashes up to 4 KiB of stack at every end hit. A hash
 * continued from an earlier call's h equals one call over the
 * concatenation only when the earlier input's length is a multiple of 8.
 *
 * The written-memory digest: hws_hash over, for each range in order, its
 * address and its size (one word each) and then its content. */
#define HWS_FNV_OFFSET 0xcbf29ce484222325ULL
#define HWS_FNV_PRIME 0x100000001b3ULL
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hws_hash reads little-endian words"
#endif
typedef uint64_t __attribute__((may_alias)) hws_u64_alias;
static inline uint64_t hws_hash_word(uint64_t h, uint64_t w) {
  h = (h ^ w) * HWS_FNV_PRIME;
  return h ^ (h >> 32);
}
static inline uint64_t hws_hash(uint64_t h, const unsigned char* p, uint64_t n) {
  uint64_t i = 0;
  if (((uintptr_t)p & 7) == 0) {
    const hws_u64_alias* w = (const hws_u64_alias*)(const void*)p;
    /* Four words a turn: the same result, a quarter of the loop's own
     * instructions (a page is 512 words). */
    for (; i + 32 <= n; i += 32) {
      h = hws_hash_word(h, w[i / 8]);
      h = hws_hash_word(h, w[i / 8 + 1]);
      h = hws_hash_word(h, w[i / 8 + 2]);
      h = hws_hash_word(h, w[i / 8 + 3]);
    }
    for (; i + 8 <= n; i += 8) h = hws_hash_word(h, w[i / 8]);
  } else {
    for (; i + 8 <= n; i += 8) {
      uint64_t w = 0;
      for (int b = 7; b >= 0; b--) w = w << 8 | p[i + (uint64_t)b];
      h = hws_hash_word(h, w);
    }
  }
  for (; i < n; i++) {
    h ^= p[i];
    h *= HWS_FNV_PRIME;
  }
  return h;
}

/* JSON written to HWSLICE_STATS_FD (one object, one line):
 *  {"name":"P0-100","status":"ok"|"state_mismatch"|"diverged"|"fault"|"setup",
 *   "end":"counted"|"syscall"|"fault"|"after_call","hits":N,"traps":N,"end_traps":N,
 *   "region_ns":N,"end_pass":N,"instructions":N,"cycles":N,
 *   "overhead_instructions":N,"overhead_cycles":N,"counters":"user"|"all"|"none",
 *   "regs_match":true,"digest":"<16 hex>","digest_match":true,
 *   "calls_replayed":N,"detail":"..."} */

#endif
