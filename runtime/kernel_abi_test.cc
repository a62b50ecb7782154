// Target test: every constant of runtime/kernel_abi.h against the riscv64 C
// library's and kernel's headers (the runtime itself is built without them).
#include "runtime/kernel_abi.h"

#include <elf.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/ucontext.h>
#include <time.h>

#include <cstddef>
#include <cstring>

#include <gtest/gtest.h>

namespace {

TEST(RuntimeKernelAbi, SyscallNumbers) {
  EXPECT_EQ(HWS_SYS_IOCTL, SYS_ioctl);
  EXPECT_EQ(HWS_SYS_CLOSE, SYS_close);
  EXPECT_EQ(HWS_SYS_READ, SYS_read);
  EXPECT_EQ(HWS_SYS_WRITE, SYS_write);
  EXPECT_EQ(HWS_SYS_WRITEV, SYS_writev);
  EXPECT_EQ(HWS_SYS_EXIT_GROUP, SYS_exit_group);
  EXPECT_EQ(HWS_SYS_SIGALTSTACK, SYS_sigaltstack);
  EXPECT_EQ(HWS_SYS_RT_SIGACTION, SYS_rt_sigaction);
  EXPECT_EQ(HWS_SYS_RT_SIGRETURN, SYS_rt_sigreturn);
  EXPECT_EQ(HWS_SYS_CLOCK_GETTIME, SYS_clock_gettime);
  EXPECT_EQ(HWS_CLOCK_MONOTONIC, CLOCK_MONOTONIC);
  EXPECT_EQ(HWS_SYS_MUNMAP, SYS_munmap);
  EXPECT_EQ(HWS_SYS_MMAP, SYS_mmap);
  EXPECT_EQ(HWS_SYS_MPROTECT, SYS_mprotect);
  EXPECT_EQ(HWS_SYS_PERF_EVENT_OPEN, SYS_perf_event_open);
  EXPECT_EQ(HWS_SYS_RISCV_FLUSH_ICACHE, SYS_riscv_flush_icache);
}

TEST(RuntimeKernelAbi, ErrnoMmapAndSignalValues) {
  EXPECT_EQ(HWS_ENOENT, ENOENT);
  EXPECT_EQ(HWS_EBADF, EBADF);
  EXPECT_EQ(HWS_EACCES, EACCES);
  EXPECT_EQ(HWS_ENODEV, ENODEV);
  EXPECT_EQ(HWS_EINVAL, EINVAL);
  EXPECT_EQ(HWS_ENOSYS, ENOSYS);
  EXPECT_EQ(HWS_EOPNOTSUPP, EOPNOTSUPP);
  EXPECT_EQ(HWS_PROT_READ, PROT_READ);
  EXPECT_EQ(HWS_PROT_WRITE, PROT_WRITE);
  EXPECT_EQ(HWS_PROT_EXEC, PROT_EXEC);
  EXPECT_EQ(HWS_MAP_PRIVATE, MAP_PRIVATE);
  EXPECT_EQ(HWS_MAP_FIXED, MAP_FIXED);
  EXPECT_EQ(HWS_MAP_ANONYMOUS, MAP_ANONYMOUS);
  EXPECT_EQ(HWS_SIGILL, SIGILL);
  EXPECT_EQ(HWS_SIGTRAP, SIGTRAP);
  EXPECT_EQ(HWS_SIGBUS, SIGBUS);
  EXPECT_EQ(HWS_SIGFPE, SIGFPE);
  EXPECT_EQ(HWS_SIGSEGV, SIGSEGV);
  EXPECT_EQ(HWS_SA_SIGINFO, SA_SIGINFO);
  EXPECT_EQ(HWS_SA_ONSTACK, SA_ONSTACK);
#ifdef SA_RESTORER
  ADD_FAILURE() << "riscv64 has SA_RESTORER after all: kernel_abi.h says otherwise";
#endif
}

TEST(RuntimeKernelAbi, SignalStructureLayouts) {
  EXPECT_EQ(HWS_STACK_T_SIZE, sizeof(stack_t));
  EXPECT_EQ(HWS_SIGINFO_CODE, offsetof(siginfo_t, si_code));
  EXPECT_EQ(HWS_SIGINFO_ADDR, offsetof(siginfo_t, si_addr));
  // The kernel's struct rt_sigframe {siginfo; ucontext} (arch/riscv/kernel/signal.c).
  EXPECT_EQ(size_t{HWS_SIGFRAME_UC}, sizeof(siginfo_t));
  EXPECT_EQ(HWS_UC_STACK, offsetof(ucontext_t, uc_stack));
  EXPECT_EQ(HWS_UC_SIGMASK, offsetof(ucontext_t, uc_sigmask));
  EXPECT_EQ(HWS_UC_MCONTEXT, offsetof(ucontext_t, uc_mcontext));
  ucontext_t uc;
  auto at = [&](const void* field) {
    return static_cast<size_t>(static_cast<const char*>(field) - reinterpret_cast<const char*>(&uc));
  };
  EXPECT_EQ(size_t{HWS_UC_PC}, at(&uc.uc_mcontext.__gregs[0]));  // REG_PC
  for (int i = 1; i < 32; i++) EXPECT_EQ(size_t(HWS_UC_X(i)), at(&uc.uc_mcontext.__gregs[i])) << i;
  for (int i = 0; i < 32; i++)
    EXPECT_EQ(size_t(HWS_UC_F(i)), at(&uc.uc_mcontext.__fpregs.__d.__f[i])) << i;
  EXPECT_EQ(size_t{HWS_UC_FCSR}, at(&uc.uc_mcontext.__fpregs.__d.__fcsr));
}

TEST(RuntimeKernelAbi, PerfEventAttrLayout) {
  EXPECT_EQ(HWS_PERF_ATTR_SIZE, PERF_ATTR_SIZE_VER5);
  EXPECT_GE(sizeof(perf_event_attr), size_t{HWS_PERF_ATTR_SIZE});
  EXPECT_EQ(HWS_PERF_ATTR_TYPE, offsetof(perf_event_attr, type));
  EXPECT_EQ(HWS_PERF_ATTR_SIZE_FIELD, offsetof(perf_event_attr, size));
  EXPECT_EQ(HWS_PERF_ATTR_CONFIG, offsetof(perf_event_attr, config));
  EXPECT_EQ(HWS_PERF_ATTR_READ_FORMAT, offsetof(perf_event_attr, read_format));
  EXPECT_EQ(HWS_PERF_TYPE_HARDWARE, PERF_TYPE_HARDWARE);
  EXPECT_EQ(HWS_PERF_COUNT_HW_CPU_CYCLES, PERF_COUNT_HW_CPU_CYCLES);
  EXPECT_EQ(HWS_PERF_COUNT_HW_INSTRUCTIONS, PERF_COUNT_HW_INSTRUCTIONS);
  EXPECT_EQ(HWS_PERF_FORMAT_GROUP, PERF_FORMAT_GROUP);
  EXPECT_EQ(HWS_PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_ENABLE);
  EXPECT_EQ(HWS_PERF_IOC_FLAG_GROUP, PERF_IOC_FLAG_GROUP);
  // The flag bits, through the bit-field the kernel header declares.
  auto flags = [](const perf_event_attr& a) {
    uint64_t v;
    std::memcpy(&v, reinterpret_cast<const char*>(&a) + HWS_PERF_ATTR_FLAGS, 8);
    return v;
  };
  perf_event_attr a{};
  a.disabled = 1;
  EXPECT_EQ(flags(a), uint64_t{HWS_PERF_ATTR_DISABLED});
  a = perf_event_attr{};
  a.exclude_kernel = 1;
  EXPECT_EQ(flags(a), uint64_t{HWS_PERF_ATTR_EXCLUDE_KERNEL});
  a = perf_event_attr{};
  a.exclude_hv = 1;
  EXPECT_EQ(flags(a), uint64_t{HWS_PERF_ATTR_EXCLUDE_HV});
}

TEST(RuntimeKernelAbi, ElfHeaderLayout) {
  EXPECT_EQ(HWS_EHDR_PHOFF, offsetof(Elf64_Ehdr, e_phoff));
  EXPECT_EQ(HWS_EHDR_PHENTSIZE, offsetof(Elf64_Ehdr, e_phentsize));
  EXPECT_EQ(HWS_EHDR_PHNUM, offsetof(Elf64_Ehdr, e_phnum));
  EXPECT_EQ(HWS_PHDR_SIZE, sizeof(Elf64_Phdr));
  EXPECT_EQ(HWS_PHDR_TYPE, offsetof(Elf64_Phdr, p_type));
  EXPECT_EQ(HWS_PHDR_VADDR, offsetof(Elf64_Phdr, p_vaddr));
  EXPECT_EQ(HWS_PT_LOAD, PT_LOAD);
}

}  // namespace
