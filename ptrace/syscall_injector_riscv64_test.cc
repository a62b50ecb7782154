// Target test (riscv64 only): the batch-injection stub runs its table's
// calls in order and stores each result, as inject_syscalls expects; the
// pair stub runs its second call only after a first returning 0, and stops
// at the ebreak inject_syscall_pair reads the outcome from. The stubs are
// called directly here (qemu-riscv64 has no ptrace): an ebreak raises
// SIGTRAP, whose handler notes where it was and returns to the caller
// through ra.
#include "ptrace/syscall_injector.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <fcntl.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace hwslice {
namespace {

uint64_t g_ebreak_pc = 0;

void back_to_caller(int, siginfo_t*, void* context) {
  auto* uc = static_cast<ucontext_t*>(context);
  g_ebreak_pc = uc->uc_mcontext.__gregs[REG_PC];
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

// The pair stub with the first call in a7/a0..a2 and the second in
// t3/t0..t2; returns a0 as the stub left it, and where it stopped.
struct PairRun {
  int64_t a0;
  uint64_t ebreak;
};
PairRun run_pair(const void* stub, long nr, uint64_t x0, uint64_t x1, uint64_t x2, long nr2, uint64_t y0,
                 uint64_t y1, uint64_t y2) {
  struct sigaction sa {}, old{};
  sa.sa_sigaction = back_to_caller;
  sa.sa_flags = SA_SIGINFO;
  sigaction(SIGTRAP, &sa, &old);
  register uint64_t a0 asm("a0") = x0;
  register uint64_t a1 asm("a1") = x1;
  register uint64_t a2 asm("a2") = x2;
  register uint64_t a7 asm("a7") = static_cast<uint64_t>(nr);
  register uint64_t t0 asm("t0") = y0;
  register uint64_t t1 asm("t1") = y1;
  register uint64_t t2 asm("t2") = y2;
  register uint64_t t3 asm("t3") = static_cast<uint64_t>(nr2);
  asm volatile("jalr ra, 0(%8)"
               : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a7), "+r"(t0), "+r"(t1), "+r"(t2), "+r"(t3)
               : "r"(stub)
               : "ra", "a3", "a4", "a5", "memory");
  const int64_t result = static_cast<int64_t>(a0);
  sigaction(SIGTRAP, &old, nullptr);
  return {result, g_ebreak_pc - reinterpret_cast<uint64_t>(stub)};
}

template <size_t N>
struct Stub {
  explicit Stub(const std::array<uint32_t, N>& words) {
    code = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    std::memcpy(code, words.data(), sizeof words);
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
  }
  ~Stub() { munmap(code, 4096); }
  void* code;
};

using BatchStubCode = Stub<kBatchStubWords>;
using PairStubCode = Stub<kPairStubWords>;

// A pipe whose read end does not block (a write that never ran reads as
// EAGAIN), closed at the end of the test.
struct Pipe {
  Pipe() {
    if (pipe(fd) != 0 || fcntl(fd[0], F_SETFL, O_NONBLOCK) != 0) fd[0] = fd[1] = -1;
  }
  ~Pipe() {
    close(fd[0]);
    close(fd[1]);
  }
  // What the read end has (at most 15 bytes), "" when nothing was written.
  std::string drain() const {
    char got[16] = {};
    return read(fd[0], got, sizeof got - 1) > 0 ? got : "";
  }
  int fd[2];
};

TEST(BatchStub, RunsEachCallInOrderAndStoresItsResult) {
  BatchStubCode stub(batch_stub());
  Pipe p;
  ASSERT_GE(p.fd[0], 0);
  const char text[] = "abc";
  alignas(8) uint64_t table[4 * 8] = {};
  // getpid(); write(fd, "abc", 3); close(-1) (fails with EBADF); end.
  table[0] = SYS_getpid;
  table[8] = SYS_write;
  table[9] = static_cast<uint64_t>(p.fd[1]);
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
  EXPECT_EQ(p.drain(), "abc");
}

TEST(BatchStub, AnEmptyTableRunsNothing) {
  BatchStubCode stub(batch_stub());
  alignas(8) uint64_t table[8] = {static_cast<uint64_t>(-1), 0, 0, 0, 0, 0, 0, 42};
  const uint64_t t0 = run_stub(stub.code, table);
  EXPECT_EQ(t0, reinterpret_cast<uint64_t>(table));
  EXPECT_EQ(table[7], 42u);  // no result written
}

TEST(PairStub, RunsTheSecondCallAfterAFirstReturningZero) {
  PairStubCode stub(pair_stub());
  Pipe p;
  ASSERT_GE(p.fd[0], 0);
  const char text[] = "xyz";
  // sched_yield() returns 0, so write(fd, "xyz", 3) runs.
  const PairRun r = run_pair(stub.code, SYS_sched_yield, 0, 0, 0, SYS_write, static_cast<uint64_t>(p.fd[1]),
                             reinterpret_cast<uint64_t>(text), 3);
  EXPECT_EQ(r.ebreak, kPairStubSecondEbreak);
  EXPECT_EQ(r.a0, 3);
  EXPECT_EQ(p.drain(), "xyz");
}

TEST(PairStub, StopsAtTheFirstEbreakWhenTheFirstCallFails) {
  PairStubCode stub(pair_stub());
  Pipe p;
  ASSERT_GE(p.fd[0], 0);
  const char text[] = "xyz";
  // close(-1) fails with EBADF, so the write never runs.
  const PairRun r = run_pair(stub.code, SYS_close, static_cast<uint64_t>(-1), 0, 0, SYS_write,
                             static_cast<uint64_t>(p.fd[1]), reinterpret_cast<uint64_t>(text), 3);
  EXPECT_EQ(r.ebreak, kPairStubFirstEbreak);
  EXPECT_EQ(r.a0, -EBADF);
  EXPECT_EQ(p.drain(), "");
}

}  // namespace
}  // namespace hwslice
