#include "record/signal_rules.h"

#include <string.h>

namespace hwslice {

namespace {

constexpr uint64_t kSigDfl = 0, kSigIgn = 1;
constexpr uint64_t kSaOnstack = 0x08000000, kSaResethand = 0x80000000;
constexpr int32_t kSsDisable = 2;
constexpr int kSiKernel = 0x80;

}  // namespace

void SignalRules::before_call(long nr, const std::array<uint64_t, 6>& args, const Reader& read) {
  constexpr long kSysSigaltstack = 132, kSysRtSigaction = 134;
  if (nr == kSysRtSigaction) {
    call_sig_ = static_cast<int>(args[0]);
    call_action_.reset();
    KernelSigaction a;
    if (args[1] && read(args[1], &a, sizeof a)) call_action_ = a;
  } else if (nr == kSysSigaltstack) {
    call_stack_.reset();
    struct {
      uint64_t sp;
      int32_t flags;
      int32_t pad;
      uint64_t size;
    } ss{};
    if (args[0] && read(args[0], &ss, sizeof ss)) call_stack_ = KernelStack{ss.sp, ss.flags, ss.size};
  }
}

void SignalRules::after_call(long nr, int64_t ret) {
  constexpr long kSysSigaltstack = 132, kSysRtSigaction = 134;
  if (ret != 0) return;
  if (nr == kSysRtSigaction) on_sigaction(call_sig_, call_action_);
  if (nr == kSysSigaltstack) on_sigaltstack(call_stack_);
}

void SignalRules::on_sigaction(int sig, const std::optional<KernelSigaction>& act) {
  if (act && index(sig)) actions_[index(sig)] = *act;
}

void SignalRules::on_sigaltstack(const std::optional<KernelStack>& ss) {
  if (!ss) return;
  if (ss->flags & kSsDisable)
    altstack_.reset();
  else
    altstack_ = *ss;
}

void SignalRules::on_exec() {
  for (KernelSigaction& a : actions_)
    if (a.handler != kSigIgn) a = KernelSigaction{};
  altstack_.reset();
}

void SignalRules::delivered(int sig) {
  KernelSigaction& a = actions_[index(sig)];
  if (a.flags & kSaResethand) a = KernelSigaction{};
}

SignalRules::Disposition SignalRules::disposition(int sig) const {
  if (sig == SIGKILL) return Disposition::kTerminate;
  if (sig == SIGSTOP) return Disposition::kStop;
  const KernelSigaction& a = actions_[index(sig)];
  if (a.handler == kSigIgn) return Disposition::kIgnore;
  if (a.handler != kSigDfl) return Disposition::kHandler;
  switch (sig) {
    case SIGCHLD:
    case SIGURG:
    case SIGWINCH: return Disposition::kIgnore;
    case SIGCONT: return Disposition::kContinue;
    case SIGTSTP:
    case SIGTTIN:
    case SIGTTOU: return Disposition::kStop;
    default: return Disposition::kTerminate;
  }
}

uint64_t SignalRules::frame_top(int sig, uint64_t sp) const {
  const KernelSigaction& a = actions_[index(sig)];
  if (!(a.flags & kSaOnstack) || !altstack_ || altstack_->size == 0) return sp;
  const bool on_it = sp > altstack_->sp && sp <= altstack_->sp + altstack_->size;
  if (on_it) return sp;
  return altstack_->sp + altstack_->size;
}

bool SignalRules::synchronous(const siginfo_t& info) {
  switch (info.si_signo) {
    case SIGSEGV:
    case SIGBUS:
    case SIGILL:
    case SIGFPE:
    case SIGTRAP: return info.si_code > 0 && info.si_code != kSiKernel;
    default: return false;
  }
}

SignalRules::Point SignalRules::where(const siginfo_t& info, bool after_event) const {
  if (disposition(info.si_signo) != Disposition::kHandler) return Point::kPassThrough;
  if (synchronous(info) || after_event) return Point::kHere;
  return Point::kDefer;
}

std::string SignalRules::name(int sig) {
  const char* abbrev = sigabbrev_np(sig);
  if (abbrev) return std::string("SIG") + abbrev;
  return "signal " + std::to_string(sig);
}

}  // namespace hwslice
