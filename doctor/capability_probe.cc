#include "doctor/capability_probe.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "ptrace/breakpoint.h"
#include "riscv/isa_string.h"
#include "control/perf_counter.h"
#include "ptrace/syscall_injector.h"
#include "ptrace/tracee.h"

extern "C" {
void hwslice_probe_main();
uint64_t hwslice_probe_rdinstret();
uint64_t hwslice_probe_rdcycle();
uint64_t hwslice_probe_rdtime();
extern char hwslice_probe_page[4096];
}

namespace hwslice {

namespace {

// Instructions between probe points 3->4, 4->5 and 5->6 (see probe_riscv64.S).
constexpr uint64_t kProbeLoopInstructions = 2001;
constexpr uint64_t kProbePageMarker = 0x6877736c69636521ULL;
constexpr uint64_t kOverflowPeriod = 100000;

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

Check make(std::string id, std::string title) {
  Check c;
  c.id = std::move(id);
  c.title = std::move(title);
  return c;
}

// Collects checks; the probe child's steps depend on each other, so a failed
// step marks the dependent checks failed with the same reason.
class Prober {
 public:
  explicit Prober(CapabilityReport& r) : report_(r) {}

  Check& add(Check c) {
    report_.checks.push_back(std::move(c));
    return report_.checks.back();
  }
  Check& ok(std::string id, std::string title, std::string detail, std::string consequence) {
    Check c = make(std::move(id), std::move(title));
    c.state = CheckState::kOk;
    c.detail = std::move(detail);
    c.consequence = std::move(consequence);
    return add(std::move(c));
  }
  Check& unavailable(std::string id, std::string title, std::string detail, std::string consequence) {
    Check& c = ok(std::move(id), std::move(title), std::move(detail), std::move(consequence));
    c.state = CheckState::kUnavailable;
    return c;
  }
  Check& failed(std::string id, std::string title, const Error& e, std::string consequence = "") {
    Check& c = ok(std::move(id), std::move(title), e.message(), std::move(consequence));
    c.state = CheckState::kFailed;
    return c;
  }

  void system_info();
  void traced_probes();
  void counter_csrs();
  void perf_settings();

 private:
  Status run_traced(Tracee& t);
  Status at_point(Tracee& t);  // continue to the next probe ebreak, step over it

  CapabilityReport& report_;
  bool has_c_ = true;
};

void Prober::system_info() {
  utsname u{};
  ::uname(&u);
  report_.kernel_release = u.release;
  KernelVersion kv = parse_kernel_release(u.release);
  Check& k = ok("kernel.version", "kernel", u.release, "");
  k.values = {{"major", kv.major}, {"minor", kv.minor}, {"patch", kv.patch}};
  if (kv < KernelVersion{5, 3, 0}) {
    k.state = CheckState::kUnavailable;
    k.consequence = "PTRACE_GET_SYSCALL_INFO needs Linux 5.3 or newer";
  } else if (kv >= KernelVersion{6, 6, 0}) {
    k.consequence = "user rdcycle/rdinstret trap unless kernel.perf_user_access=2; counters via perf_event";
  }

  report_.isa = cpuinfo_isa_line(read_file("/proc/cpuinfo"));
  IsaInfo isa = parse_isa_string(report_.isa);
  has_c_ = isa.has("c");
  std::vector<std::string> exts(isa.extensions.begin(), isa.extensions.end());
  if (isa.xlen != 64) {
    Check& c = failed("isa.extensions", "ISA extensions", Error("not an rv64 ISA string: '" + report_.isa + "'"));
    c.values = {{"extensions", exts}};
    return;
  }
  std::string detail = isa.to_string();
  std::string consequence = has_c_ ? "breakpoints use c.ebreak" : "breakpoints use ebreak (no C extension)";
  if (isa.has("zba") || isa.has("zbb"))
    consequence += "; Zba/Zbb instructions are decoded by length when Capstone does not know them";
  Check& c = ok("isa.extensions", "ISA extensions", detail, consequence);
  c.values = {{"extensions", exts}, {"sscofpmf", isa.has("sscofpmf")}, {"compressed", has_c_}};
}

Status Prober::at_point(Tracee& t) {
  HWSLICE_TRY(t.cont_until_signal(SIGTRAP));
  auto regs = t.regs();
  if (!regs) return regs.error();
  uint32_t insn = 0;
  HWSLICE_TRY(t.read(RemoteAddr(regs->pc()), &insn, 4));
  if (insn != riscv::kEbreak) return Error("expected a probe ebreak: " + t.state_line());
  regs->set_pc(regs->pc() + 4);
  return t.set_regs(*regs);
}

void Prober::traced_probes() {
  const unsigned options = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
  auto started = Tracee::fork_stopped([] { hwslice_probe_main(); }, options);
  if (!started) {
    failed("ptrace.attach", "ptrace attach", started.error(), "hwslice cannot trace programs here");
    return;
  }
  Tracee& t = *started;
  ok("ptrace.attach", "ptrace attach", "traced child " + std::to_string(t.pid()) + " stopped",
     "programs can be started and attached under trace");
  if (auto st = run_traced(t); !st) {
    // Whatever step broke is reported; the tracee is killed by ~Tracee.
    Check c = make("probe.child", "probe child");
    c.state = CheckState::kFailed;
    c.detail = st.error().message();
    c.consequence = "later checks could not run";
    add(std::move(c));
  }
}

Status Prober::run_traced(Tracee& t) {
  const pid_t pid = t.pid();
  // --- syscall stops and PTRACE_GET_SYSCALL_INFO -------------------------
  bool found = false;
  for (int i = 0; i < 64 && !found; ++i) {
    HWSLICE_TRY(t.syscall());
    auto st = t.wait();
    if (!st) return st.error();
    if (st->kind() != WaitStatus::Kind::kSyscallStop) {
      if (!t.alive()) return Error("probe child " + st->describe());
      continue;
    }
    auto info = t.syscall_info();
    if (!info) {
      failed("ptrace.syscall_info", "PTRACE_GET_SYSCALL_INFO", info.error(),
             "syscall arguments must be read from registers");
      return info.error();
    }
    if (info->op != PTRACE_SYSCALL_INFO_ENTRY || info->entry.nr != riscv::kSysGetpid ||
        info->entry.args[0] != 0x4857 || info->entry.args[1] != 0x534c)
      continue;
    found = true;
    auto regs = t.regs();
    if (!regs) return regs.error();
    int64_t entry_a0 = static_cast<int64_t>(regs->x(riscv::kA0));
    HWSLICE_TRY(t.syscall());
    auto exit_st = t.wait();
    if (!exit_st) return exit_st.error();
    auto exit_info = t.syscall_info();
    if (!exit_info) return exit_info.error();
    ok("ptrace.syscall_stops", "ptrace syscall stops", "entry and exit stops of getpid seen",
       "every ecall can be intercepted with its return value");
    if (exit_info->op != PTRACE_SYSCALL_INFO_EXIT || exit_info->exit.rval != pid)
      return Error("syscall-exit info for getpid: op " + std::to_string(exit_info->op) + ", rval " +
                   std::to_string(exit_info->exit.rval) + " (expected " + std::to_string(pid) + ")");
    Check& c = ok("ptrace.syscall_info", "PTRACE_GET_SYSCALL_INFO",
                  "entry nr 172 with both arguments, exit rval = pid" +
                      std::string(entry_a0 == -ENOSYS ? "; a0 reads -ENOSYS at entry" : ""),
                  "syscall arguments are read from the kernel, not from a0");
    c.values = {{"entry_a0_is_enosys", entry_a0 == -ENOSYS}};
  }
  if (!found) return Error("no getpid syscall stop within 64 stops");

  // --- point 1: hardware single-step (expected EIO) and software stepping --
  HWSLICE_TRY(at_point(t));
  errno = 0;
  if (::ptrace(PTRACE_SINGLESTEP, pid, nullptr, nullptr) != 0) {
    int err = errno;
    Check& c = unavailable("ptrace.hw_singlestep", "PTRACE_SINGLESTEP", Error::from_errno("PTRACE_SINGLESTEP", err).message(),
                           "single-stepping is done in software (ebreak at the next pc)");
    c.values = {{"errno", err}};
  } else {
    auto st = t.wait();
    if (!st) return st.error();
    ok("ptrace.hw_singlestep", "PTRACE_SINGLESTEP", "the kernel single-steps",
       "precise mode could use hardware single-step");
    // One instruction ran (li a0, 0); the software check below runs the rest.
  }
  {
    auto before = t.regs();
    if (!before) return before.error();
    uint64_t start_pc = before->pc();
    bool hw_stepped = report_.ok("ptrace.hw_singlestep");
    int steps = hw_stepped ? 4 : 5;
    for (int i = 0; i < steps; ++i) {
      if (auto st = step_straight_line(t, has_c_); !st) {
        failed("step.software", "software single-step", st.error(), "precise mode is not possible");
        return st.error();
      }
    }
    auto after = t.regs();
    if (!after) return after.error();
    if (after->x(riscv::kA0) != 4)
      return Error("software stepping: a0 = " + std::to_string(after->x(riscv::kA0)) + " after 5 steps, expected 4");
    Check& c = ok("step.software", "software single-step",
                  std::to_string(steps) + " instructions stepped with " + (has_c_ ? "c.ebreak" : "ebreak") +
                      " (4- and 2-byte), registers as expected",
                  "exact positions and step mode work on this kernel");
    c.values = {{"steps", steps}, {"bytes", after->pc() - start_pc}};
  }

  // --- point 2: syscall injection, then PROT_NONE fault tracking ----------
  HWSLICE_TRY(at_point(t));
  auto regs = t.regs();
  if (!regs) return regs.error();
  RemoteAddr code(regs->pc());
  auto inj = inject_syscall(t, code, riscv::kSysGetpid, {});
  if (!inj || *inj != pid) {
    Error e = inj ? Error("injected getpid returned " + std::to_string(*inj)) : inj.error();
    failed("inject.syscall", "syscall injection", e, "page tracking and in-tracee mmap are not possible");
    return e;
  }
  auto regs_after = t.regs();
  if (!regs_after || !(*regs_after == *regs))
    return Error("registers changed by syscall injection");
  ok("inject.syscall", "syscall injection", "getpid injected with ecall;ebreak, code and registers restored",
     "mprotect/mmap can be run inside the tracee");

  RemoteAddr page(reinterpret_cast<uintptr_t>(hwslice_probe_page));
  auto prot = inject_syscall(t, code, riscv::kSysMprotect, {page.as_int(), 4096, PROT_NONE, 0, 0, 0});
  if (!prot || *prot != 0) {
    Error e = prot ? Error("injected mprotect returned " + std::to_string(*prot)) : prot.error();
    failed("pages.fault_tracking", "mprotect fault tracking", e, "touched pages cannot be tracked");
    return e;
  }
  HWSLICE_TRY(t.cont());
  auto st = t.wait();
  if (!st) return st.error();
  auto si = t.siginfo();
  if (st->kind() != WaitStatus::Kind::kSignalStop || st->signal() != SIGSEGV || !si ||
      reinterpret_cast<uintptr_t>(si->si_addr) != page.as_int()) {
    Error e("expected SIGSEGV at the protected page, got: " + t.state_line());
    failed("pages.fault_tracking", "mprotect fault tracking", e, "touched pages cannot be tracked");
    return e;
  }
  int si_code = si->si_code;
  auto fault_regs = t.regs();
  if (!fault_regs) return fault_regs.error();
  auto unprot = inject_syscall(t, RemoteAddr(fault_regs->pc()), riscv::kSysMprotect,
                               {page.as_int(), 4096, PROT_READ | PROT_WRITE, 0, 0, 0});
  if (!unprot || *unprot != 0) return Error("restoring the probe page's protection failed");
  // Suppress the SIGSEGV: the load runs again and succeeds.
  HWSLICE_TRY(at_point(t));
  auto loaded = t.regs();
  if (!loaded) return loaded.error();
  if (loaded->x(riscv::kA0) != kProbePageMarker) return Error("the faulting load did not re-execute correctly");
  {
    Check& c = ok("pages.fault_tracking", "mprotect fault tracking",
                  std::string("read of a PROT_NONE page stopped with SIGSEGV (") +
                      (si_code == SEGV_ACCERR ? "SEGV_ACCERR" : "si_code " + std::to_string(si_code)) +
                      ") at the page; load re-executed after restore",
                  "pages touched per interval can be recorded");
    c.values = {{"si_code", si_code}};
  }

  // --- points 3..6: counting, with and without the user-only filter --------
  // Each event gets stretches of its own: a PMU may have one counter able to
  // count instructions, and an event that cannot be scheduled reads 0.
  struct Counted {
    Result<PerfCounter> counter;
    uint64_t first = 0, second = 0;
  };
  auto open = [&](PerfCounterSpec::Event ev, bool user) {
    PerfCounterSpec spec;
    spec.event = ev;
    spec.user_only = user;
    spec.start_enabled = false;
    return Counted{PerfCounter::open(pid, spec)};
  };
  // Runs one stretch (to the next probe point) with `cs` counting.
  auto stretch = [&](std::initializer_list<Counted*> cs, bool first) -> Status {
    for (Counted* c : cs)
      if (c->counter) {
        HWSLICE_TRY(c->counter->reset());
        HWSLICE_TRY(c->counter->enable());
      }
    HWSLICE_TRY(at_point(t));
    for (Counted* c : cs) {
      if (!c->counter) continue;
      HWSLICE_TRY(c->counter->disable());
      auto v = c->counter->read();
      if (!v) return v.error();
      (first ? c->first : c->second) = *v;
    }
    return ok_status();
  };
  Counted user_inst = open(PerfCounterSpec::Event::kInstructions, true);
  HWSLICE_TRY(stretch({&user_inst}, true));
  HWSLICE_TRY(stretch({&user_inst}, false));
  const std::optional<Error> user_error =
      user_inst.counter ? std::nullopt : std::optional<Error>(user_inst.counter.error());
  user_inst.counter = Error("closed");  // frees the hardware counter for the next stretch
  Counted all_inst = open(PerfCounterSpec::Event::kInstructions, false);
  Counted all_cyc = open(PerfCounterSpec::Event::kCycles, false);
  HWSLICE_TRY(stretch({&all_inst, &all_cyc}, true));

  if (all_inst.counter) {
    Check& c = ok("perf.instructions", "perf instruction counting",
                  std::to_string(all_inst.first) + " for a " +
                      std::to_string(kProbeLoopInstructions) + "-instruction stretch (kernel included)",
                  "slices can report retired instructions");
    c.values = {{"count", all_inst.first}, {"expected_user", kProbeLoopInstructions}};
  } else {
    failed("perf.instructions", "perf instruction counting", all_inst.counter.error(),
           "slices cannot report instructions; positions need software stepping");
  }
  if (all_cyc.counter) {
    Check& c = ok("perf.cycles", "perf cycle counting",
                  std::to_string(all_cyc.first) + " cycles for the same stretch", "slices can report cycles and IPC");
    c.values = {{"count", all_cyc.first}};
  } else {
    failed("perf.cycles", "perf cycle counting", all_cyc.counter.error(), "slices cannot report cycles");
  }
  if (!user_error) {
    Check& c = ok("perf.user_only", "user-only counting (exclude_kernel)",
                  std::to_string(user_inst.first) + " user instructions",
                  "counts exclude the kernel's share");
    c.values = {{"first", user_inst.first}, {"second", user_inst.second}};
    // Exact means: two identical stretches count the same, and the count is
    // the stretch's instructions, plus at most the trapping ebreak that ends
    // it (the ISA says a trapping instruction does not retire; some
    // implementations, QEMU among them, count it). The offset is reported.
    int64_t offset = static_cast<int64_t>(user_inst.first) - static_cast<int64_t>(kProbeLoopInstructions);
    bool exact = user_inst.first == user_inst.second && (offset == 0 || offset == 1);
    std::string counted = "counted " + std::to_string(user_inst.first) + " and " + std::to_string(user_inst.second) +
                          " for " + std::to_string(kProbeLoopInstructions) + " instructions";
    Check& e = exact ? ok("perf.user_exact", "exact user instruction counts",
                          counted + (offset ? " (the trapping ebreak is counted)" : ""),
                          "counted fast-forward lands exactly; slice instruction counts are checked exactly")
                     : unavailable("perf.user_exact", "exact user instruction counts", counted,
                                   "positions are finished by software stepping; verify reports differences");
    e.values = {{"first", user_inst.first}, {"second", user_inst.second}, {"expected", kProbeLoopInstructions},
                {"trap_counted", offset == 1}};
  } else {
    Check& c = unavailable("perf.user_only", "user-only counting (exclude_kernel)", user_error->message(),
                           "no mode filter (no Sscofpmf): counts include the kernel; exact positions by stepping");
    c.values = {{"errno", user_error->err()}};
    Check& e = unavailable("perf.user_exact", "exact user instruction counts", "needs user-only counting",
                           "verify reports instruction differences instead of asserting them");
    e.values = {{"errno", user_error->err()}};
  }

  // --- point 6..7: overflow signal and its skid ------------------------------
  PerfCounterSpec ovf;
  ovf.event = PerfCounterSpec::Event::kInstructions;
  ovf.user_only = true;
  ovf.sample_period = kOverflowPeriod;
  ovf.overflow_signal = SIGIO;
  ovf.start_enabled = true;
  auto sampler = PerfCounter::open(pid, ovf);
  if (!sampler) {
    // Without a mode filter, try sampling kernel+user to tell EINVAL (filter)
    // apart from EOPNOTSUPP (no overflow interrupt at all).
    ovf.user_only = false;
    auto unfiltered = PerfCounter::open(pid, ovf);
    Error e = unfiltered ? sampler.error() : unfiltered.error();
    Check& c = unavailable("perf.overflow", "overflow signal", e.message(),
                           unfiltered ? "overflow works only with kernel counting: positions by stepping"
                                      : "no overflow interrupt (no Sscofpmf): fast-forward by stepping or counted polling");
    c.values = {{"opened", false}, {"errno", e.err()}, {"unfiltered_ok", static_cast<bool>(unfiltered)}};
    HWSLICE_TRY(at_point(t));
  } else {
    int64_t skid_min = INT64_MAX, skid_max = INT64_MIN;
    int signals = 0;
    uint64_t last_overflows = 0;
    while (true) {
      HWSLICE_TRY(t.cont());
      auto s = t.wait();
      if (!s) return s.error();
      if (s->kind() == WaitStatus::Kind::kSignalStop && s->signal() == SIGIO) {
        auto v = sampler->read();
        if (!v) return v.error();
        uint64_t overflows = *v / kOverflowPeriod;
        // Signals coalesce; each stop measures the distance past the last
        // overflow point.
        if (overflows > last_overflows) {
          int64_t skid = static_cast<int64_t>(*v - overflows * kOverflowPeriod);
          skid_min = std::min(skid_min, skid);
          skid_max = std::max(skid_max, skid);
          ++signals;
          last_overflows = overflows;
        }
        continue;  // suppress SIGIO
      }
      if (s->kind() == WaitStatus::Kind::kSignalStop && s->signal() == SIGTRAP) break;
      return Error("during the overflow probe: " + t.state_line());
    }
    auto regs6 = t.regs();
    if (!regs6) return regs6.error();
    regs6->set_pc(regs6->pc() + 4);
    HWSLICE_TRY(t.set_regs(*regs6));
    HWSLICE_TRY(sampler->disable());
    if (signals == 0) {
      auto counted = sampler->read();
      if (!counted) return counted.error();
      Check& c = unavailable("perf.overflow", "overflow signal",
                             "sampling counter opened, but no overflow signal arrived in " +
                                 std::to_string(*counted) + " counted instructions",
                             "fast-forward by stepping");
      c.values = {{"opened", true}, {"signals", 0}, {"period", kOverflowPeriod}};
    } else {
      Check& c = ok("perf.overflow", "overflow signal",
                    std::to_string(signals) + " signals every " + std::to_string(kOverflowPeriod) +
                        " instructions, skid " + std::to_string(skid_min) + ".." + std::to_string(skid_max) +
                        " instructions",
                    "fast-forward stops shortly before a position, then steps the last " +
                        std::to_string(skid_max) + "+ instructions");
      c.values = {{"signals", signals}, {"period", kOverflowPeriod}, {"skid_min", skid_min}, {"skid_max", skid_max}};
    }
  }

  // --- hardware breakpoint ------------------------------------------------------
  PerfCounterSpec bp;
  bp.event = PerfCounterSpec::Event::kExecBreakpoint;
  bp.breakpoint_addr = reinterpret_cast<uintptr_t>(&hwslice_probe_main);
  if (auto hb = PerfCounter::open(pid, bp)) {
    ok("hw.breakpoint", "hardware breakpoints", "perf exec breakpoint accepted",
       "slice ends could use a PC breakpoint");
  } else {
    Check& c = unavailable("hw.breakpoint", "hardware breakpoints", hb.error().message(),
                           "slice ends use software mechanisms (ebreak + count)");
    c.values = {{"errno", hb.error().err()}};
  }

  // --- the child finishes normally ----------------------------------------------
  HWSLICE_TRY(t.cont());
  auto fin = t.wait();
  if (!fin) return fin.error();
  if (fin->kind() != WaitStatus::Kind::kExited || fin->exit_code() != 0)
    return Error("probe child did not exit cleanly: " + fin->describe());
  return ok_status();
}

// Runs fn in an untraced child and returns how the child ended: exit 0 when
// fn returned, death by SIGILL when the instruction traps.
WaitStatus run_in_child(uint64_t (*fn)()) {
  pid_t pid = ::fork();
  if (pid == 0) {
    fn();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WaitStatus(status);
}

void Prober::counter_csrs() {
  struct {
    const char* id;
    const char* title;
    uint64_t (*fn)();
    const char* consequence_ok;
    const char* consequence_no;
  } csrs[] = {
      {"csr.rdtime", "user rdtime", hwslice_probe_rdtime, "rdtime is a nondeterministic input slices must replay",
       "rdtime faults"},
      {"csr.rdcycle", "user rdcycle", hwslice_probe_rdcycle, "programs may read cycles directly",
       "rdcycle traps (perf_user_access != 2): programs using it die with SIGILL"},
      {"csr.rdinstret", "user rdinstret", hwslice_probe_rdinstret, "programs may read instret directly",
       "rdinstret traps (perf_user_access != 2)"},
  };
  for (const auto& c : csrs) {
    WaitStatus st = run_in_child(c.fn);
    if (st.kind() == WaitStatus::Kind::kExited && st.exit_code() == 0)
      ok(c.id, c.title, "readable from user mode", c.consequence_ok);
    else
      unavailable(c.id, c.title, "reading it " + st.describe(), c.consequence_no);
  }
}

void Prober::perf_settings() {
  std::string paranoid = trim(read_file("/proc/sys/kernel/perf_event_paranoid"));
  if (paranoid.empty()) {
    unavailable("perf.paranoid", "perf_event_paranoid", "not present", "");
  } else {
    int v = std::stoi(paranoid);
    Check& c = ok("perf.paranoid", "perf_event_paranoid", paranoid,
                  v <= 2 || ::geteuid() == 0 ? "counting own processes is allowed"
                                             : "counters need root or perf_event_paranoid <= 2");
    c.values = {{"value", v}, {"root", ::geteuid() == 0}};
  }
  std::string access = trim(read_file("/proc/sys/kernel/perf_user_access"));
  if (access.empty()) {
    unavailable("perf.user_access", "perf_user_access", "not present (kernel older than 6.6?)", "");
  } else {
    int v = std::stoi(access);
    Check& c = ok("perf.user_access", "perf_user_access", access,
                  v == 2 ? "user counter CSRs are readable" : "slices read counters through perf_event");
    c.values = {{"value", v}};
  }
}

}  // namespace

CapabilityReport probe_capabilities(const std::string& version) {
  CapabilityReport report;
  report.version = version;
  Prober p(report);
  p.system_info();
  p.traced_probes();
  p.counter_csrs();
  p.perf_settings();
  return report;
}

}  // namespace hwslice
