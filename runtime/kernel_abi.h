/* kernel_abi.h — the few riscv64 Linux ABI facts the freestanding slice
 * runtime uses (syscall numbers, flag values, structure layouts), written out
 * because the runtime is built without a C library or kernel headers.
 *
 * Contract: plain #defines only, so the file is usable from C and from the
 * assembly in entry.S. The target test kernel_abi_test.cc checks every value
 * against the C library's and the kernel's own headers, so a wrong number
 * here fails a test instead of a slice.
 */
#ifndef HWSLICE_RUNTIME_KERNEL_ABI_H
#define HWSLICE_RUNTIME_KERNEL_ABI_H

/* Syscall numbers (asm-generic table, riscv64). */
#define HWS_SYS_IOCTL 29
#define HWS_SYS_CLOSE 57
#define HWS_SYS_READ 63
#define HWS_SYS_WRITE 64
#define HWS_SYS_WRITEV 66
#define HWS_SYS_EXIT_GROUP 94
#define HWS_SYS_SIGALTSTACK 132
#define HWS_SYS_RT_SIGACTION 134
#define HWS_SYS_RT_SIGRETURN 139
#define HWS_SYS_MUNMAP 215
#define HWS_SYS_MMAP 222
#define HWS_SYS_MPROTECT 226
#define HWS_SYS_CLOCK_GETTIME 113
#define HWS_SYS_PERF_EVENT_OPEN 241
#define HWS_SYS_RISCV_FLUSH_ICACHE 259

/* errno values */
#define HWS_ENOENT 2
#define HWS_EBADF 9
#define HWS_EACCES 13
#define HWS_ENODEV 19
#define HWS_EINVAL 22
#define HWS_ENOSYS 38
#define HWS_EOPNOTSUPP 95

/* mmap */
#define HWS_PROT_READ 1
#define HWS_PROT_WRITE 2
#define HWS_PROT_EXEC 4
#define HWS_MAP_PRIVATE 0x02
#define HWS_MAP_FIXED 0x10
#define HWS_MAP_ANONYMOUS 0x20

/* Signals */
#define HWS_SIGILL 4
#define HWS_SIGTRAP 5
#define HWS_SIGBUS 7
#define HWS_SIGFPE 8
#define HWS_SIGSEGV 11
#define HWS_SA_SIGINFO 0x00000004
#define HWS_SA_ONSTACK 0x08000000
/* riscv64 has no SA_RESTORER: the kernel always sets ra to the vDSO's
 * rt_sigreturn trampoline. The runtime's handlers never return through ra;
 * they issue rt_sigreturn themselves (entry.S), so a slice may map program
 * pages over the vDSO. */

/* The kernel's struct sigaction on riscv64 (asm-generic, no restorer):
 * handler, flags, 8-byte mask; rt_sigaction's sigsetsize is 8. */
#define HWS_KSIGACTION_SIZE 24
#define HWS_KSIGSET_SIZE 8
/* stack_t: ss_sp, ss_flags (int, padded), ss_size */
#define HWS_STACK_T_SIZE 24

/* siginfo_t: si_signo, si_errno, si_code, then (for faults) si_addr. */
#define HWS_SIGINFO_CODE 8
#define HWS_SIGINFO_ADDR 16
/* struct rt_sigframe (the frame rt_sigreturn reads at sp): siginfo, then
 * the ucontext. */
#define HWS_SIGFRAME_UC 128
#define HWS_CLOCK_MONOTONIC 1

/* ucontext: uc_flags, uc_link, uc_stack, uc_sigmask (+ padding to 128
 * bytes), then uc_mcontext (16-byte aligned) = struct sigcontext:
 * user_regs_struct {pc, x1..x31} then __riscv_d_ext_state {f0..f31, u32
 * fcsr} (the kernel reads its extension headers after that; the runtime
 * edits frames the kernel wrote, so those stay valid). */
#define HWS_UC_STACK 16
#define HWS_UC_SIGMASK 40
#define HWS_UC_MCONTEXT 176
#define HWS_UC_PC (HWS_UC_MCONTEXT + 0)
#define HWS_UC_X(i) (HWS_UC_MCONTEXT + 8 * (i)) /* i = 1..31 */
#define HWS_UC_F(i) (HWS_UC_MCONTEXT + 256 + 8 * (i))
#define HWS_UC_FCSR (HWS_UC_MCONTEXT + 512)

/* perf_event_open */
#define HWS_PERF_TYPE_HARDWARE 0
#define HWS_PERF_COUNT_HW_CPU_CYCLES 0
#define HWS_PERF_COUNT_HW_INSTRUCTIONS 1
#define HWS_PERF_FORMAT_GROUP 8
#define HWS_PERF_ATTR_SIZE 112 /* PERF_ATTR_SIZE_VER5 */
#define HWS_PERF_ATTR_TYPE 0    /* u32 */
#define HWS_PERF_ATTR_SIZE_FIELD 4 /* u32 */
#define HWS_PERF_ATTR_CONFIG 8  /* u64 */
#define HWS_PERF_ATTR_READ_FORMAT 32 /* u64 */
#define HWS_PERF_ATTR_FLAGS 40  /* u64 bit field */
#define HWS_PERF_ATTR_DISABLED (1ULL << 0)
#define HWS_PERF_ATTR_EXCLUDE_KERNEL (1ULL << 5)
#define HWS_PERF_ATTR_EXCLUDE_HV (1ULL << 6)
#define HWS_PERF_EVENT_IOC_ENABLE 0x2400
#define HWS_PERF_IOC_FLAG_GROUP 1

/* ELF64 (what the kernel maps at exec): the slice's own headers, read by
 * the runtime to find its config segment. Byte offsets of Elf64_Ehdr and
 * Elf64_Phdr fields. */
#define HWS_EHDR_PHOFF 32     /* u64 */
#define HWS_EHDR_PHENTSIZE 54 /* u16 */
#define HWS_EHDR_PHNUM 56     /* u16 */
#define HWS_PHDR_SIZE 56
#define HWS_PHDR_TYPE 0       /* u32 */
#define HWS_PHDR_VADDR 16     /* u64 */
#define HWS_PT_LOAD 1

#endif
