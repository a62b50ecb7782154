/* entry.S — the slice runtime's assembly: process entry, the replay far
 * entry, the signal-handler entry (which also returns into the program with
 * rt_sigreturn), the counter calibration and the start trap.
 *
 * Every sequence here whose length enters the instruction accounting is
 * straight-line code assembled with `.option norvc` (4 bytes an
 * instruction), so runtime.c derives its instruction count from the
 * distance between two labels; see "Instruction accounting" in runtime.c.
 * Counter samples are read(perf group fd, buf, 24) into hws_sample_a (at the
 * start of a runtime entry) and hws_sample_b (at its end); with no counters
 * the fd is -1 and the read fails harmlessly, so the path is the same.
 *
 * Only the far entry and the signal entry touch f registers or fcsr (the C
 * code is built without F/D): the program's FP state passes through the
 * runtime untouched.
 */
#include "runtime/kernel_abi.h"

/* struct hws_far_frame (runtime.c): struct hws_regs {pc, x[32], f[32],
 * fcsr} then the stub's return address (near+16). */
#define FR_X(i) (8 + 8 * (i))
#define FR_F(i) (264 + 8 * (i))
#define FR_FCSR 520
#define FR_NEAR 528

  .option norvc

/* ---- process entry: sp = argc, argv..., 0, envp..., 0, auxv ---------- */
  .section .text.hws_entry, "ax", @progbits
  .globl hws_entry
  .type hws_entry, @function
hws_entry:
  mv a0, sp
  lla sp, hws_stack_top
  call hws_main
1:
  ebreak
  j 1b
  .size hws_entry, . - hws_entry

  .text

/* ---- replay far entry ------------------------------------------------
 * From a near stub (slice_abi.h): a0 = near+16, sp = the program's sp (also
 * saved at near+40), every other register is the program's. Saves them,
 * samples the counters, replays one call in C on the runtime stack, samples
 * again, restores everything but a0 (= the call's result) and sp, and
 * returns to near+16 with sp = near+16. */
  .globl hws_far_entry
  .type hws_far_entry, @function
hws_far_entry:
  lla sp, hws_far_frame
  sd x1, FR_X(1)(sp)
  sd x3, FR_X(3)(sp)
  sd x4, FR_X(4)(sp)
  sd x5, FR_X(5)(sp)
  sd x6, FR_X(6)(sp)
  sd x7, FR_X(7)(sp)
  sd x8, FR_X(8)(sp)
  sd x9, FR_X(9)(sp)
  sd x11, FR_X(11)(sp)
  sd x12, FR_X(12)(sp)
  sd x13, FR_X(13)(sp)
  sd x14, FR_X(14)(sp)
  sd x15, FR_X(15)(sp)
  sd x16, FR_X(16)(sp)
  sd x17, FR_X(17)(sp)
  sd x18, FR_X(18)(sp)
  sd x19, FR_X(19)(sp)
  sd x20, FR_X(20)(sp)
  sd x21, FR_X(21)(sp)
  sd x22, FR_X(22)(sp)
  sd x23, FR_X(23)(sp)
  sd x24, FR_X(24)(sp)
  sd x25, FR_X(25)(sp)
  sd x26, FR_X(26)(sp)
  sd x27, FR_X(27)(sp)
  sd x28, FR_X(28)(sp)
  sd x29, FR_X(29)(sp)
  sd x30, FR_X(30)(sp)
  sd x31, FR_X(31)(sp)
  sd a0, FR_NEAR(sp)
  .option push
  .option arch, +d
  fsd f0, FR_F(0)(sp)
  fsd f1, FR_F(1)(sp)
  fsd f2, FR_F(2)(sp)
  fsd f3, FR_F(3)(sp)
  fsd f4, FR_F(4)(sp)
  fsd f5, FR_F(5)(sp)
  fsd f6, FR_F(6)(sp)
  fsd f7, FR_F(7)(sp)
  fsd f8, FR_F(8)(sp)
  fsd f9, FR_F(9)(sp)
  fsd f10, FR_F(10)(sp)
  fsd f11, FR_F(11)(sp)
  fsd f12, FR_F(12)(sp)
  fsd f13, FR_F(13)(sp)
  fsd f14, FR_F(14)(sp)
  fsd f15, FR_F(15)(sp)
  fsd f16, FR_F(16)(sp)
  fsd f17, FR_F(17)(sp)
  fsd f18, FR_F(18)(sp)
  fsd f19, FR_F(19)(sp)
  fsd f20, FR_F(20)(sp)
  fsd f21, FR_F(21)(sp)
  fsd f22, FR_F(22)(sp)
  fsd f23, FR_F(23)(sp)
  fsd f24, FR_F(24)(sp)
  fsd f25, FR_F(25)(sp)
  fsd f26, FR_F(26)(sp)
  fsd f27, FR_F(27)(sp)
  fsd f28, FR_F(28)(sp)
  fsd f29, FR_F(29)(sp)
  fsd f30, FR_F(30)(sp)
  fsd f31, FR_F(31)(sp)
  frcsr t0
  .option pop
  sd t0, FR_FCSR(sp)
  lw a0, hws_perf_fd
  lla a1, hws_sample_a
  li a2, 24
  li a7, HWS_SYS_READ
  .globl hws_far_ecall_a
hws_far_ecall_a:
  ecall
  lla sp, hws_stack_top
  lla a0, hws_far_frame
  call hws_far_replay
  lw a0, hws_perf_fd
  lla a1, hws_sample_b
  li a2, 24
  li a7, HWS_SYS_READ
  .globl hws_far_ecall_b
hws_far_ecall_b:
  ecall
  lla sp, hws_far_frame
  ld t0, FR_FCSR(sp)
  .option push
  .option arch, +d
  fscsr t0
  fld f0, FR_F(0)(sp)
  fld f1, FR_F(1)(sp)
  fld f2, FR_F(2)(sp)
  fld f3, FR_F(3)(sp)
  fld f4, FR_F(4)(sp)
  fld f5, FR_F(5)(sp)
  fld f6, FR_F(6)(sp)
  fld f7, FR_F(7)(sp)
  fld f8, FR_F(8)(sp)
  fld f9, FR_F(9)(sp)
  fld f10, FR_F(10)(sp)
  fld f11, FR_F(11)(sp)
  fld f12, FR_F(12)(sp)
  fld f13, FR_F(13)(sp)
  fld f14, FR_F(14)(sp)
  fld f15, FR_F(15)(sp)
  fld f16, FR_F(16)(sp)
  fld f17, FR_F(17)(sp)
  fld f18, FR_F(18)(sp)
  fld f19, FR_F(19)(sp)
  fld f20, FR_F(20)(sp)
  fld f21, FR_F(21)(sp)
  fld f22, FR_F(22)(sp)
  fld f23, FR_F(23)(sp)
  fld f24, FR_F(24)(sp)
  fld f25, FR_F(25)(sp)
  fld f26, FR_F(26)(sp)
  fld f27, FR_F(27)(sp)
  fld f28, FR_F(28)(sp)
  fld f29, FR_F(29)(sp)
  fld f30, FR_F(30)(sp)
  fld f31, FR_F(31)(sp)
  .option pop
  ld x1, FR_X(1)(sp)
  ld x3, FR_X(3)(sp)
  ld x4, FR_X(4)(sp)
  ld x5, FR_X(5)(sp)
  ld x6, FR_X(6)(sp)
  ld x7, FR_X(7)(sp)
  ld x8, FR_X(8)(sp)
  ld x9, FR_X(9)(sp)
  ld x11, FR_X(11)(sp)
  ld x12, FR_X(12)(sp)
  ld x13, FR_X(13)(sp)
  ld x14, FR_X(14)(sp)
  ld x15, FR_X(15)(sp)
  ld x16, FR_X(16)(sp)
  ld x17, FR_X(17)(sp)
  ld x18, FR_X(18)(sp)
  ld x19, FR_X(19)(sp)
  ld x20, FR_X(20)(sp)
  ld x21, FR_X(21)(sp)
  ld x22, FR_X(22)(sp)
  ld x23, FR_X(23)(sp)
  ld x24, FR_X(24)(sp)
  ld x25, FR_X(25)(sp)
  ld x26, FR_X(26)(sp)
  ld x27, FR_X(27)(sp)
  ld x28, FR_X(28)(sp)
  ld x29, FR_X(29)(sp)
  ld x30, FR_X(30)(sp)
  ld x31, FR_X(31)(sp)
  ld a0, FR_X(10)(sp)
  ld sp, FR_NEAR(sp)
  jalr x0, 0(sp)
  .globl hws_far_end
hws_far_end:
  .size hws_far_entry, . - hws_far_entry

/* ---- signal entry ------------------------------------------------------
 * Every handler (SA_SIGINFO | SA_ONSTACK): a0 = signo, a1 = siginfo,
 * a2 = ucontext, sp = the kernel's rt_sigframe on the alternate stack. Any
 * register may be used: the interrupted context is in the frame. Returns to
 * the (possibly edited) context with rt_sigreturn on that same frame, never
 * through ra (which points into the vDSO, which a slice may replace). */
  .globl hws_sig_entry
  .type hws_sig_entry, @function
hws_sig_entry:
  mv s0, a0
  mv s1, a1
  mv s2, a2
  lw a0, hws_perf_fd
  lla a1, hws_sample_a
  li a2, 24
  li a7, HWS_SYS_READ
  .globl hws_sig_ecall_a
hws_sig_ecall_a:
  ecall
  mv a0, s0
  mv a1, s1
  mv a2, s2
  call hws_on_signal
  lw a0, hws_perf_fd
  lla a1, hws_sample_b
  li a2, 24
  li a7, HWS_SYS_READ
  .globl hws_sig_ecall_b
hws_sig_ecall_b:
  ecall
  li a7, HWS_SYS_RT_SIGRETURN
  .globl hws_sig_ecall_ret
hws_sig_ecall_ret:
  ecall
  ebreak
  .size hws_sig_entry, . - hws_sig_entry

/* ---- calibration -------------------------------------------------------
 * void hws_calibrate(void): three counter samples into hws_calib_buf with a
 * known number of instructions between them, then a trapping ebreak whose
 * handler samples at hws_sig_ecall_a. runtime.c derives from them whether
 * an ecall and a trapping ebreak count as retired instructions on this
 * board. The handler resumes at hws_calib_trap + 4; likewise for a
 * faulting load, after which it resumes at hws_calib_fault + 4. */
  .globl hws_calibrate
  .type hws_calibrate, @function
hws_calibrate:
  lw t0, hws_perf_fd
  lla t1, hws_calib_buf
  mv a0, t0
  mv a1, t1
  li a2, 24
  li a7, HWS_SYS_READ
  .globl hws_cal_ecall_a
hws_cal_ecall_a:
  ecall
  mv a0, t0
  addi a1, t1, 24
  .globl hws_cal_ecall_b
hws_cal_ecall_b:
  ecall
  mv a0, t0
  addi a1, t1, 48
  .globl hws_cal_ecall_c
hws_cal_ecall_c:
  ecall
  .globl hws_calib_trap
hws_calib_trap:
  ebreak
  /* A read, then a load from a page without access (hws_fault_page): its
   * handler's first read gives f, what a faulting access adds to the
   * count (the fault marks of slice_abi.h). t0, t1, a2 and a7 are as
   * before the ebreak: its handler resumed the saved context. */
  mv a0, t0
  addi a1, t1, 72
  .globl hws_cal_ecall_d
hws_cal_ecall_d:
  ecall
  lla t2, hws_fault_page
  ld t2, 0(t2)
  .globl hws_calib_fault
hws_calib_fault:
  ld t2, 0(t2)
  ret
  .size hws_calibrate, . - hws_calibrate

/* ---- start -------------------------------------------------------------
 * void hws_start(void): traps; the SIGTRAP handler replaces the whole
 * context with the slice's start registers, and its rt_sigreturn enters the
 * program with every register (x1..x31, f0..f31, fcsr, pc) exact. */
  .globl hws_start
  .type hws_start, @function
hws_start:
  .globl hws_start_trap
hws_start_trap:
  ebreak
1:
  ebreak
  j 1b
  .size hws_start, . - hws_start

/* ---- stacks ------------------------------------------------------------ */
  .section .bss.hws_stack, "aw", @nobits
  .balign 16
  .globl hws_stack
hws_stack:
  .skip 32768
  .globl hws_stack_top
hws_stack_top:

  .section .note.GNU-stack, "", @progbits
