#include "ptrace/wait_status.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace hwslice {
namespace {

// Raw statuses built the way the kernel encodes them.
int exited(int code) { return (code & 0xff) << 8; }
int killed(int sig, bool core = false) { return sig | (core ? 0x80 : 0); }
int stopped(int sig, int event = 0) { return 0x7f | (sig << 8) | (event << 16); }

TEST(WaitStatusTest, DecodesExitAndDeath) {
  WaitStatus e(exited(3));
  EXPECT_EQ(e.kind(), WaitStatus::Kind::kExited);
  EXPECT_EQ(e.exit_code(), 3);
  EXPECT_EQ(e.describe(), "exited with status 3");
  EXPECT_EQ(e.shell_status(), 3);

  WaitStatus k(killed(SIGSEGV, true));
  EXPECT_EQ(k.kind(), WaitStatus::Kind::kSignaled);
  EXPECT_EQ(k.describe(), "killed by SIGSEGV (core dumped)");
  EXPECT_EQ(k.shell_status(), 128 + SIGSEGV);
}

TEST(WaitStatusTest, DistinguishesPtraceStops) {
  EXPECT_EQ(WaitStatus(stopped(SIGTRAP | 0x80)).kind(), WaitStatus::Kind::kSyscallStop);
  WaitStatus sig(stopped(SIGIO));
  EXPECT_EQ(sig.kind(), WaitStatus::Kind::kSignalStop);
  EXPECT_EQ(sig.signal(), SIGIO);
  EXPECT_EQ(sig.describe(), "stopped by SIGIO");
  WaitStatus ev(stopped(SIGTRAP, 3));
  EXPECT_EQ(ev.kind(), WaitStatus::Kind::kEventStop);
  EXPECT_EQ(ev.ptrace_event(), 3);
  EXPECT_EQ(WaitStatus(stopped(SIGSTOP, 128)).kind(), WaitStatus::Kind::kGroupStop);
}

TEST(WaitStatusTest, NamesSignals) {
  EXPECT_EQ(signal_name(SIGILL), "SIGILL");
  EXPECT_EQ(signal_name(200), "signal 200");
}

}  // namespace
}  // namespace hwslice
