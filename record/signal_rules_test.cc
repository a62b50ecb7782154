#include "record/signal_rules.h"

#include <gtest/gtest.h>

#include <cstring>

namespace hwslice {
namespace {

siginfo_t info(int sig, int code) {
  siginfo_t i{};
  i.si_signo = sig;
  i.si_code = code;
  return i;
}

TEST(SignalRules, DefaultsOfAFreshProgram) {
  SignalRules r;
  EXPECT_EQ(r.disposition(SIGSEGV), SignalRules::Disposition::kTerminate);
  EXPECT_EQ(r.disposition(SIGALRM), SignalRules::Disposition::kTerminate);
  EXPECT_EQ(r.disposition(SIGCHLD), SignalRules::Disposition::kIgnore);
  EXPECT_EQ(r.disposition(SIGWINCH), SignalRules::Disposition::kIgnore);
  EXPECT_EQ(r.disposition(SIGCONT), SignalRules::Disposition::kContinue);
  EXPECT_EQ(r.disposition(SIGTSTP), SignalRules::Disposition::kStop);
  EXPECT_EQ(r.disposition(SIGKILL), SignalRules::Disposition::kTerminate);
}

TEST(SignalRules, SigactionSetsAHandlerOrIgnores) {
  SignalRules r;
  r.on_sigaction(SIGALRM, KernelSigaction{0x10400, 0x04000000, 0});
  EXPECT_EQ(r.disposition(SIGALRM), SignalRules::Disposition::kHandler);
  EXPECT_EQ(r.action(SIGALRM).handler, 0x10400u);
  r.on_sigaction(SIGALRM, std::nullopt);  // a query: nothing changes
  EXPECT_EQ(r.disposition(SIGALRM), SignalRules::Disposition::kHandler);
  r.on_sigaction(SIGPIPE, KernelSigaction{1, 0, 0});
  EXPECT_EQ(r.disposition(SIGPIPE), SignalRules::Disposition::kIgnore);
  // SIGKILL and SIGSTOP cannot be caught whatever the table says.
  r.on_sigaction(SIGKILL, KernelSigaction{0x10400, 0, 0});
  EXPECT_EQ(r.disposition(SIGKILL), SignalRules::Disposition::kTerminate);
}

TEST(SignalRules, ResetHandAndExec) {
  SignalRules r;
  r.on_sigaction(SIGUSR1, KernelSigaction{0x2000, 0x80000000, 0});  // SA_RESETHAND
  r.on_sigaction(SIGUSR2, KernelSigaction{0x3000, 0, 0});
  r.on_sigaction(SIGPIPE, KernelSigaction{1, 0, 0});
  r.delivered(SIGUSR1);
  r.delivered(SIGUSR2);
  EXPECT_EQ(r.disposition(SIGUSR1), SignalRules::Disposition::kTerminate);
  EXPECT_EQ(r.disposition(SIGUSR2), SignalRules::Disposition::kHandler);
  r.on_exec();
  EXPECT_EQ(r.disposition(SIGUSR2), SignalRules::Disposition::kTerminate);
  EXPECT_EQ(r.disposition(SIGPIPE), SignalRules::Disposition::kIgnore);  // stays ignored
}

TEST(SignalRules, FrameGoesOnTheAlternateStackOnlyWithSaOnstack) {
  SignalRules r;
  r.on_sigaction(SIGSEGV, KernelSigaction{0x2000, 0x08000000, 0});  // SA_ONSTACK
  r.on_sigaction(SIGALRM, KernelSigaction{0x3000, 0, 0});
  EXPECT_EQ(r.frame_top(SIGSEGV, 0x7ff000), 0x7ff000u);  // no alternate stack yet
  r.on_sigaltstack(KernelStack{0x40000, 0, 0x8000});
  EXPECT_EQ(r.frame_top(SIGSEGV, 0x7ff000), 0x48000u);
  EXPECT_EQ(r.frame_top(SIGALRM, 0x7ff000), 0x7ff000u);
  // Already on it (a nested signal): below the current sp.
  EXPECT_EQ(r.frame_top(SIGSEGV, 0x47000), 0x47000u);
  r.on_sigaltstack(KernelStack{0, 2, 0});  // SS_DISABLE
  EXPECT_EQ(r.frame_top(SIGSEGV, 0x7ff000), 0x7ff000u);
}

TEST(SignalRules, SynchronousMeansRaisedByTheInstruction) {
  EXPECT_TRUE(SignalRules::synchronous(info(SIGSEGV, SEGV_MAPERR)));
  EXPECT_TRUE(SignalRules::synchronous(info(SIGSEGV, SEGV_ACCERR)));
  EXPECT_TRUE(SignalRules::synchronous(info(SIGILL, ILL_ILLOPC)));
  EXPECT_TRUE(SignalRules::synchronous(info(SIGTRAP, TRAP_BRKPT)));
  // Sent with kill/tgkill, or by the kernel on the program's behalf.
  EXPECT_FALSE(SignalRules::synchronous(info(SIGSEGV, SI_USER)));
  EXPECT_FALSE(SignalRules::synchronous(info(SIGSEGV, SI_TKILL)));
  EXPECT_FALSE(SignalRules::synchronous(info(SIGSEGV, SI_KERNEL)));
  EXPECT_FALSE(SignalRules::synchronous(info(SIGALRM, SI_KERNEL)));
  EXPECT_FALSE(SignalRules::synchronous(info(SIGCHLD, CLD_EXITED)));
}

TEST(SignalRules, WhereToDeliver) {
  SignalRules r;
  r.on_sigaction(SIGALRM, KernelSigaction{0x3000, 0, 0});
  r.on_sigaction(SIGSEGV, KernelSigaction{0x2000, 0, 0});
  // No handler runs: nothing to place.
  EXPECT_EQ(r.where(info(SIGCHLD, CLD_EXITED), false), SignalRules::Point::kPassThrough);
  EXPECT_EQ(r.where(info(SIGTERM, SI_USER), false), SignalRules::Point::kPassThrough);
  // A fault's handler runs at the faulting instruction.
  EXPECT_EQ(r.where(info(SIGSEGV, SEGV_MAPERR), false), SignalRules::Point::kHere);
  // A sent signal waits for a point a slice finds again.
  EXPECT_EQ(r.where(info(SIGALRM, SI_KERNEL), false), SignalRules::Point::kDefer);
  EXPECT_EQ(r.where(info(SIGALRM, SI_KERNEL), true), SignalRules::Point::kHere);
  EXPECT_EQ(r.where(info(SIGSEGV, SI_USER), false), SignalRules::Point::kDefer);
}

TEST(SignalRules, LearnsFromTheProgramsCalls) {
  SignalRules r;
  // A fake memory: the struct sigaction at 0x1000, a stack_t at 0x2000.
  const KernelSigaction act{0x10400, 0x08000004, 0};
  struct {
    uint64_t sp;
    int32_t flags, pad;
    uint64_t size;
  } ss{0x50000, 0, 0, 0x4000};
  auto read = [&](uint64_t addr, void* out, size_t len) {
    if (addr == 0x1000 && len == sizeof act) return std::memcpy(out, &act, len), true;
    if (addr == 0x2000 && len == sizeof ss) return std::memcpy(out, &ss, len), true;
    return false;
  };
  r.before_call(134, {SIGSEGV, 0x1000, 0, 8, 0, 0}, read);
  r.after_call(134, -22);  // failed: nothing changes
  EXPECT_EQ(r.disposition(SIGSEGV), SignalRules::Disposition::kTerminate);
  r.before_call(134, {SIGSEGV, 0x1000, 0, 8, 0, 0}, read);
  r.after_call(134, 0);
  EXPECT_EQ(r.disposition(SIGSEGV), SignalRules::Disposition::kHandler);
  EXPECT_EQ(r.action(SIGSEGV).handler, 0x10400u);
  r.before_call(132, {0x2000, 0, 0, 0, 0, 0}, read);
  r.after_call(132, 0);
  EXPECT_EQ(r.frame_top(SIGSEGV, 0x7ff000), 0x54000u);
  // A query (act NULL) leaves the handler alone.
  r.before_call(134, {SIGSEGV, 0, 0x3000, 8, 0, 0}, read);
  r.after_call(134, 0);
  EXPECT_EQ(r.disposition(SIGSEGV), SignalRules::Disposition::kHandler);
}

TEST(SignalRules, Names) {
  EXPECT_EQ(SignalRules::name(SIGALRM), "SIGALRM");
  EXPECT_EQ(SignalRules::name(SIGSEGV), "SIGSEGV");
}

}  // namespace
}  // namespace hwslice
