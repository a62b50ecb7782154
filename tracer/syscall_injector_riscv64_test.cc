// Target test (riscv64 only): the batch-injection stub runs its table's
// calls in order and stores each result, as inject_syscalls expects. The
// stub is called directly here (qemu-riscv64 has no ptrace): its final
// ebreak raises SIGTRAP, whose handler returns to the caller through ra.
#include "tracer/syscall_injector.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <cstring>

namespace hwslice {
namespace {

void back_to_caller(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  uc->uc_mcontext.__gregs[REG_PC] = uc->uc_mcontext.__gregs[REG_RA];
}

// Calls the stub with t0 = table; returns where its ebreak was.
uint64_t run_stub(const void* stub, void* table) {
  struct sigaction sa {}, old{};
  sa.sa_sigaction = back_to_caller;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, &old);
  register uint64_t t0 asm("t0") = reinterpret_cast<uint64_t>(table);
  asm volatile("jalr ra, 0(%1)"
               : "+r"(t0)
               : "r"(stub)
               : "ra", "a0", "a1", "a2", "a3", "a4", "a5", "a7", "memory");
  // A register variable is t0 only in the asm: copied before the call below.
  const uint64_t end = t0;
  sigaction(SIGTRAP, &old, nullptr);
  return end;
}

struct Stub {
  Stub() {
    code = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    const auto words = batch_stub();
    std::memcpy(code, words.data(), sizeof words);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
  }
  ~Stub() { munmap(code, 4096); }
  void* code;
};

TEST(BatchStub, RunsEachCallInOrderAndStoresItsResult) {
  Stub stub;
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const char text[] = "abc";
  alignas(8) uint64_t table[4 * 8] = {};
  // getpid(); write(fds[1], "abc", 3); close(-1) (fails with EBADF); end.
  table[0] = SYS_getpid;
  table[8] = SYS_write;
  table[9] = static_cast<uint64_t>(fds[1]);
  table[10] = reinterpret_cast<uint64_t>(text);
  table[11] = 3;
  table[16] = SYS_close;
  table[17] = static_cast<uint64_t>(-1);
  table[24] = static_cast<uint64_t>(-1);
  const uint64_t t0 = run_stub(stub.code, table);
  EXPECT_EQ(static_cast<int64_t>(table[7]), getpid());
  EXPECT_EQ(static_cast<int64_t>(table[15]), 3);
  EXPECT_EQ(static_cast<int64_t>(table[23]), -EBADF);
  // t0 stopped at the end marker: three entries of 64 bytes on.
  EXPECT_EQ(t0, reinterpret_cast<uint64_t>(table) + 3 * kBatchEntryBytes);
  char got[4] = {};
  ASSERT_EQ(read(fds[0], got, 3), 3);
  EXPECT_STREQ(got, "abc");
  close(fds[0]);
  close(fds[1]);
}

TEST(BatchStub, AnEmptyTableRunsNothing) {
  Stub stub;
  alignas(8) uint64_t table[8] = {static_cast<uint64_t>(-1), 0, 0, 0, 0, 0, 0, 42};
  const uint64_t t0 = run_stub(stub.code, table);
  EXPECT_EQ(t0, reinterpret_cast<uint64_t>(table));
  EXPECT_EQ(table[7], 42u);  // no result written
}

}  // namespace
}  // namespace hwslice
