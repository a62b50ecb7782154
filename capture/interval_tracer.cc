#include "capture/interval_tracer.h"

#include <signal.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "runtime/slice_abi.h"
#include "base/debug.h"
#include "control/approach_plan.h"
#include "ptrace/breakpoint.h"
#include "control/counter_calibration.h"
#include "riscv/counter_reads.h"
#include "riscv/isa_string.h"
#include "ptrace/schedule_guard.h"
#include "record/signal_rules.h"
#include "control/stepper.h"
#include "capture/counter_sites.h"
#include "capture/page_tracker.h"
#include "control/perf_counter.h"
#include "riscv/riscv_decoder.h"
#include "capture/slice_capture.h"
#include "ptrace/syscall_injector.h"
#include "capture/syscall_tracer.h"
#include "ptrace/tracee.h"
#include "capture/vdso_patch.h"

namespace hwslice {
namespace {

using riscv::kSysExit, riscv::kSysExitGroup;
constexpr int64_t kErestartsys = -512, kErestartnohand = -514, kErestartRestartblock = -516;
// The rate assumed at least, in user instructions per second: measured rates
// include the kernel's work at each stop, and an underestimate makes the
// timer late (intervals much longer than asked).
constexpr double kMinRate = 5e8;
// A signal held for a point a slice finds again (SignalRules) waits at most
// this long; then it is delivered at a timer stop, and its interval cannot
// be sliced.
constexpr double kMaxSignalDelay = 0.02;

// True when the task is running or runnable ("R" in /proc/<pid>/stat): a
// stop requested then never interrupts a blocking call (those sleep, "S" or
// "D"); a non-blocking call completes before the stop is taken.
// (/proc/<pid>/syscall cannot be read while the task runs.)
bool runnable(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  std::getline(in, line);
  const size_t paren = line.rfind(')');
  return paren != std::string::npos && paren + 2 < line.size() && line[paren + 2] == 'R';
}

class IntervalTracer final : public SyscallHooks, public TraceSink {
  // The stop just handled, when a signal may be delivered right after it
  // (a slice finds the point again): after a call, a tracker fault, a
  // delivery; with no program instruction since.
  struct LastEvent {
    enum Kind { kNone, kCall, kFault, kDelivery } kind = kNone;
    uint64_t pc = 0;
    PageTracker::Fault fault{};
  };
 public:
  IntervalTracer(const IntervalOptions& o, const std::function<Status(SliceSpec&&)>& on_slice, Tracee& t,
                 const riscv::Decoder& decoder, bool compressed)
      : o_(o), on_slice_(on_slice), t_(t), decoder_(decoder), compressed_(compressed), pages_(t), sites_(t) {}

  Status init() {
    t_.set_hold_signals(true);  // the tracer works in the tracee until the first wait (wait_stop)
    PerfCounterSpec spec;
    spec.user_only = true;
    spec.start_enabled = true;
    auto c = PerfCounter::open(t_.pid(), spec);
    if (!c && (c.error().err() == EINVAL || c.error().err() == EOPNOTSUPP)) {
      spec.user_only = false;  // no mode filtering (no Sscofpmf): kernel instructions included
      c = PerfCounter::open(t_.pid(), spec);
      summary_.exact = false;
    }
    if (!c) return c.error().wrap("cannot count the program's instructions (perf_event_open)");
    counter_ = std::make_unique<PerfCounter>(std::move(*c));
    summary_.counter = spec.user_only ? "user" : "all";
    pages_.set_injection_guard([this](bool running) {
      if (running) (void)counter_->enable();
      else (void)counter_->disable();
    });
    HWSLICE_TRY(patch_vdso_time(t_));
    pages_.set_keep_open(o_.keep_pages);
    pages_.set_fault_around(o_.fault_around);
    HWSLICE_TRY(pages_.init());
    if (spec.user_only) HWSLICE_TRY(calibrate_trap());
    HWSLICE_TRY(sites_.refresh());
    // With exact user counts, a chosen interval starts at exactly its
    // position: the fast-forward stops short of it and steps the rest.
    exact_starts_ = !o_.wanted.empty() && spec.user_only;
    recording_ = wanted(0);
    if (recording_) HWSLICE_TRY(start_interval(0));
    if (recording_) set_boundaries(0, o_.wanted.empty() ? 0 : o_.warmup);
    else next_boundary_ = first_start(0);
    return ok_status();
  }

  IntervalSummary& summary() {
    summary_.faults = pages_.faults();
    summary_.kept_on = pages_.kept_on();
    summary_.opened_around = pages_.opened_around();
    summary_.injections = pages_.injections();
    return summary_;
  }
  uint64_t slices() const { return slices_; }

  // ---- TraceSink
  void on_record(const TraceRecord& record) override {
    if (const auto* s = std::get_if<SyscallRecord>(&record)) {
      ++summary_.syscalls;
      if (recording_) spec_.syscalls.push_back(*s);
      if (end_after_record_) {
        // The interval ends right after this call (runtime/slice_abi.h,
        // HWS_END_AFTER_CALL): at its exit stop, where the next one starts.
        end_after_record_ = false;
        if (Status st = end_after_call(); !st) error_ = st.error();
      }
    } else if (const auto* e = std::get_if<ExitRecord>(&record)) {
      summary_.exit = *e;
    }
  }

  // ---- SyscallHooks
  Status before_call(long nr, const std::array<uint64_t, 6>& args, uint64_t pc) override {
    HWSLICE_TRY(take_error());
    ++ecall_entries_;
    last_event_ = {};
    collect_held();
    signals_.before_call(nr, args, [this](uint64_t a, void* out, size_t n) {
      return static_cast<bool>(t_.read(RemoteAddr(a), out, n));
    });
    if (nr == kSysExit || nr == kSysExitGroup) {
      if (auto p = position(); p) summary_.instructions = *p - 1;
      if (!recording_) return ok_status();
      // The last interval ends at the exit call (not replayed; the slice
      // ends where the program would have exited).
      auto count = position();
      if (!count) return count.error();
      // The counter has seen the ecall by its entry stop.
      auto regs = position_regs(*count - 1);
      if (!regs) return regs.error();
      end_at_exit_call(spec_, summary_.syscalls, nr, args, pc, *regs);
      return finish_interval(*regs, *count - 1, SliceSpec::EndKind::kSyscall);
    }
    if (recording_) HWSLICE_TRY(pages_.before_call(nr, args));
    else pages_.observe_call(nr, args);
    in_call_ = true;
    return ok_status();
  }

  Result<bool> after_call(SyscallRecord& rec) override {
    in_call_ = false;
    const int64_t ret = static_cast<int64_t>(rec.ret);
    const bool remaps = rec.nr == riscv::kSysMmap || rec.nr == riscv::kSysMprotect || rec.nr == riscv::kSysMunmap ||
                        rec.nr == riscv::kSysMremap;
    if (debug_) {
      auto pos = position();
      std::fprintf(stderr, "hwslice: debug: %s = %lld at pc %llx, position %llu\n", rec.name.c_str(),
                   static_cast<long long>(ret), static_cast<unsigned long long>(rec.pc),
                   static_cast<unsigned long long>(pos ? *pos : 0));
    }
    if ((ret <= kErestartsys && ret >= kErestartnohand) || ret == kErestartRestartblock) {
      // Interrupted by the tracer's stop and restarted by the kernel: the
      // program runs this ecall again and never sees this result.
      ++restarts_;
      return false;
    }
    collect_held();
    signals_.after_call(rec.nr, ret);
    // A signal may be delivered right here: a slice replays this call, then
    // delivers it (SignalRules).
    auto now = t_.regs();
    if (!now) return now.error();
    last_event_ = {LastEvent::kCall, now->pc(), {}};
    if (!deferred_.empty()) redeliver_ = true;
    if (!recording_) {
      if (remaps && ret >= 0) HWSLICE_TRY(sites_.refresh());
      HWSLICE_TRY(near_start(true));
      return true;
    }
    HWSLICE_TRY(pages_.after_call(rec));
    // After the page tracker, which knows the program's own protection of
    // the new or changed mappings.
    if (remaps && ret >= 0) HWSLICE_TRY(sites_.refresh([this](uint64_t a) { return pages_.program_prot(a); }));
    if (auto echoed = capture_echo(t_, rec, spec_); !echoed) return echoed.error();
    // An interval ends at the first event at or after its boundary: here,
    // right after this call (once the sink has it: on_record). Not after
    // rt_sigreturn, which returns into the middle of the program's code.
    if (rec.nr != riscv::kSysRtSigreturn) {
      auto pos = position();
      if (!pos) return pos.error();
      if (*pos >= next_boundary_) end_after_record_ = true;
    }
    return true;
  }

  Result<bool> on_signal(int sig) override {
    HWSLICE_TRY(take_error());
    const LastEvent last = std::exchange(last_event_, LastEvent{});
    collect_held();
    if (debug_ && sig == SIGSTOP)
      std::fprintf(stderr, "hwslice: debug: SIGSTOP stop (requested %d, last %s)\n", t_.stop_requested(),
                   last_.describe().c_str());
    if (sig == SIGSTOP && t_.take_requested_stop(last_)) {
      ++summary_.timer_stops;
      HWSLICE_TRY(deliver_overdue());
      HWSLICE_TRY(at_stop());
      return true;
    }
    if (sig == SIGTRAP) {
      auto regs = t_.regs();
      if (!regs) return regs.error();
      if (const CounterSite* site = sites_.at(regs->pc())) {
        HWSLICE_TRY(counter_read(*site));
        HWSLICE_TRY(at_stop());
        return true;
      }
    }
    if (sig == SIGSEGV && recording_) {
      auto info = t_.siginfo();
      if (!info) return info.error();
      auto regs = t_.regs();
      if (!regs) return regs.error();
      auto fault = pages_.classify_fault(*info, regs->pc());
      if (!fault) return fault.error();
      if (*fault) {
        HWSLICE_TRY(on_tracker_fault(*info, **fault));
        return true;
      }
      if (debug_) {
        std::fprintf(stderr, "hwslice: debug: SIGSEGV passed to the program: addr %p code %d pc %llx\n",
                     info->si_addr, info->si_code, static_cast<unsigned long long>(regs->pc()));
        for (unsigned i = 1; i < 32; ++i)
          std::fprintf(stderr, " x%u=%llx", i, static_cast<unsigned long long>(regs->x(i)));
        std::fprintf(stderr, "\n");
      }
    }
    return program_signal(sig, last);
  }

  int resume_signal() override {
    // A held signal goes back to the program right after a call: resumed
    // from the exit stop with it, the kernel sends it again and the tracee
    // stops for it before its next instruction (program_signal delivers it
    // there, with its own siginfo).
    if (!redeliver_ || deferred_.empty() || redelivering_) {
      redeliver_ = false;
      return 0;
    }
    redeliver_ = false;
    redelivering_ = true;
    return deferred_.front().si_signo;
  }

  Result<WaitStatus> wait_stop(Tracee& t, const std::atomic<bool>* interrupted) override {
    // Without a stop of its own the program may run through many intervals
    // (a loop touching no new page): ask for one when the next boundary
    // should be near, judging by the instruction rate seen so far.
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    auto start_pos = position();
    const auto start_time = std::chrono::steady_clock::now();
    // The first wait's timeout is reckoned from start_pos (the program has
    // barely run): one counter read fewer at every stop.
    bool first = true;
    t.set_hold_signals(false);  // the program's own signals stop the wait (on_signal)
    struct Hold {
      Tracee& t;
      ~Hold() { t.set_hold_signals(true); }  // from here on the tracer works in the tracee
    } hold{t};
    while (true) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(t.pid()), &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
          info.si_pid != 0)
        break;
      if (interrupted && interrupted->load()) break;
      if (t.stop_requested() || (next_boundary_ == UINT64_MAX && deferred_.empty()) || stepping_) {
        timespec ts{0, 20'000'000};
        (void)sigtimedwait(&chld, nullptr, &ts);
        continue;
      }
      auto now = first && start_pos ? start_pos : position();
      first = false;
      const uint64_t pos = now ? *now : 0;
      // Past the boundary without an event to end at, the interval ends at
      // the counted boundary (a timer stop).
      const uint64_t target = recording_ && pos >= next_boundary_ ? counted_boundary_ : next_boundary_;
      uint64_t left = target > pos ? target - pos : 0;
      // Past it, stops come often: each is a chance to find an instruction
      // a pass stub can end at (at_stop).
      if (recording_ && pos >= counted_boundary_) left = std::max<uint64_t>(o_.interval / 64, 1);
      // rate_: instructions per second, from the previous stops.
      // Half the estimated time: stops converge on the boundary instead of
      // overshooting it when the rate estimate is high. Toward an exact
      // start, the plan's wait, which cannot pass it (control/approach_plan.h).
      double secs = left > 0 ? static_cast<double>(left) / rate_ * 0.5 : 0.0;
      secs = std::clamp(secs, 50e-6, 0.2);
      // A held signal waits for a syscall or fault, at most kMaxSignalDelay.
      if (!deferred_.empty()) secs = std::min(secs, kMaxSignalDelay / 2);
      const bool to_start = exact_starts_ && !recording_;
      if (to_start) secs = std::min(std::max(plan_.wait(left), ApproachPlan::kMinWait), 0.2);
      timespec ts{static_cast<time_t>(secs), static_cast<long>((secs - static_cast<double>(static_cast<time_t>(secs))) * 1e9)};
      const int got = sigtimedwait(&chld, nullptr, &ts);
      const bool timed_out = got < 0 && errno == EAGAIN;
      if (debug_ && !timed_out)
        std::fprintf(stderr, "hwslice: debug: wait %.6fs at %llu: %d (%s)\n", secs, static_cast<unsigned long long>(pos),
                     got, got < 0 ? std::strerror(errno) : "signal");
      if (timed_out) {
        if (to_start) plan_.observe_latency(secs, std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count());
        // Not inside a syscall: a stop would interrupt it, and a long one
        // (fork) restarted at every stop might never finish.
        const bool run = !in_call_ && runnable(t.pid());
        if (debug_) std::fprintf(stderr, "hwslice: debug: timer after %.6fs at %llu: %s\n", secs,
                                 static_cast<unsigned long long>(pos), run ? "stop" : "not runnable");
        if (run) HWSLICE_TRY(t.request_stop());
      }
    }
    auto st = t.wait(interrupted);
    if (st) {
      last_ = *st;
      // The rate counts only the time the program ran (from resume to stop),
      // not the tracer's own work at stops. It matters for long runs without
      // a stop (the timer): runs under a millisecond (most, between faults)
      // are not sampled, which saves a counter read at each of those stops.
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_time).count();
      if (dt >= 1e-3) {
        auto end_pos = position();
        if (start_pos && end_pos && *end_pos > *start_pos + 1000) {
          rate_ = std::clamp(0.5 * rate_ + 0.5 * static_cast<double>(*end_pos - *start_pos) / dt, kMinRate, 1e10);
          plan_.observe(*end_pos - *start_pos, dt);
        }
      }
    }
    return st;
  }

  Status finish_at_exit() {
    if (recording_ && !spec_done_) {
      // The program ended without an exit call we saw (e.g. a signal): the
      // last interval has no end point.
      recording_ = false;
    }
    return ok_status();
  }

 private:
  bool wanted(uint64_t index) const { return o_.wanted.empty() || o_.wanted.count(index); }
  // Position where the next wanted interval at or after `index` starts.
  uint64_t first_start(uint64_t index) const {
    for (uint64_t w : o_.wanted)
      if (w >= index) return w * o_.interval > o_.warmup ? w * o_.interval - o_.warmup : 0;
    return UINT64_MAX;
  }

  // Program instructions so far: the counter, less what it counted that
  // the program did not run (the calibration, ecalls run again), plus what
  // it did not count (counter reads the tracer performed, ecalls where the
  // board does not count them), plus the adjustment stepping made.
  Result<uint64_t> position() {
    auto v = counter_->read();
    if (!v) return v.error();
    const uint64_t fix = (ecall_counted_ ? pages_.reexecuted_ecalls() : 0) + restarts_ + calibration_ + tracer_traps_;
    const uint64_t counted = *v + counter_credit_ + (ecall_counted_ ? 0 : ecall_entries_) + adjust_;
    return counted > fix ? counted - fix : 0;
  }

  // The tracee is at exactly `known` (stepped there): position() says so
  // from now on.
  Status rebase(uint64_t known) {
    auto p = position();
    if (!p) return p.error();
    adjust_ += known - *p;  // modulo 2^64: a step back is a wrap-around
    return ok_status();
  }

  // What the board's counter counts besides the program's instructions
  // (control/counter_calibration.h), measured on the tracer's code page.
  Status calibrate_trap() {
    auto c = calibrate_user_counter(t_, *counter_, RemoteAddr(pages_.code_page()));
    if (!c) return c.error();
    calibration_ = c->counted;  // not program instructions
    trap_counted_ = c->trap_counted;
    ecall_counted_ = c->ecall_counted;
    return ok_status();
  }

  // The program's counter read at `site` (its ebreak trapped): run it, and
  // record its value in the interval's replay sequence. The counter is off
  // while it runs on the tracer's page; the program's instruction counts as
  // one, which the trap stands for where the board counts the trap.
  Status counter_read(const CounterSite& site) {
    const CounterSite s = site;
    (void)counter_->disable();
    auto v = sites_.execute(s, RemoteAddr(pages_.code_page()));
    (void)counter_->enable();
    if (!v) return v.error();
    if (!*v) return ok_status();  // the read traps: the program takes the SIGILL at its pc
    if (!trap_counted_ && summary_.counter == "user") ++counter_credit_;
    ++summary_.counter_reads;
    if (recording_) {
      CounterRecord rec{s.pc, s.insn.csr == 0xc00 ? "cycle" : s.insn.csr == 0xc01 ? "time" : "instret", s.insn.rd, **v};
      spec_.syscalls.push_back(counter_read_call(rec, summary_.syscalls));
    }
    return ok_status();
  }


  Status start_interval(uint64_t at) {
    spec_ = SliceSpec{};
    spec_done_ = false;
    marked_pages_.clear();
    spec_.program = o_.argv.empty() ? "" : o_.argv[0];
    spec_.start = at;
    spec_.exact = summary_.exact;
    auto regs = position_regs(at);
    if (!regs) return regs.error();
    spec_.start_regs = *regs;
    return pages_.begin_interval();
  }

  // The registers at a position the counter gave: "count", exact where the
  // counter is user-only.
  Result<RegsRecord> position_regs(uint64_t at) {
    auto regs = capture_regs(t_, "interval");
    if (!regs) return regs.error();
    regs->icount = at;
    regs->mode = "count";
    regs->exact = summary_.exact;
    return regs;
  }

  Status finish_interval(RegsRecord end_regs, uint64_t at, SliceSpec::EndKind kind) {
    if (kind == SliceSpec::EndKind::kCounted) {
      uint8_t b[2];
      HWSLICE_TRY(t_.read(RemoteAddr(end_regs.pc), b, 2));
      const unsigned len = riscv::instruction_length(static_cast<uint16_t>(b[0] | b[1] << 8));
      HWSLICE_TRY(pages_.include(end_regs.pc, len, true));
      HWSLICE_TRY(pages_.include(end_regs.pc + len, 2, true));
    } else if (kind == SliceSpec::EndKind::kSyscall) {
      HWSLICE_TRY(pages_.include(end_regs.pc, 4, true));
    }
    // kFault: the faulting access is the end; its page stays as it was
    // (its fault mark). kAfterCall: the call's site is in the interval.
    // The vDSO's data pages cannot be protected or read through ptrace;
    // when the interval ran vDSO code, the slice gets the copy the tracee
    // made of them at its first vDSO touch (PageTracker::vdso_data), so the
    // vDSO takes the same paths (clock_gettime and riscv_hwprobe answer from
    // the data instead of making a syscall). A page without a copy (it
    // faults for the program too) is zero-filled.
    std::vector<SlicePage> pages = pages_.take_pages();
    // Pages were read with the counter-read breakpoints in them.
    for (SlicePage& p : pages) sites_.unpatch(p.addr, p.data.data(), p.data.size());
    bool vdso = false;
    for (const AddressRange& m : pages_.mappings_seen())
      if (m.name == "[vdso]")
        for (const SlicePage& p : pages)
          if (p.addr >= m.start && p.addr < m.end) vdso = true;
    if (vdso)
      for (const AddressRange& m : pages_.mappings_seen())
        if (m.name.rfind("[vvar", 0) == 0)
          for (uint64_t a = m.start; a < m.end; a += kPageSize) {
            SlicePage z;
            z.addr = a;
            z.prot = PROT_READ;
            z.read = true;
            auto copy = pages_.vdso_data().find(a);
            if (copy != pages_.vdso_data().end()) z.data = copy->second;
            else z.data.assign(kPageSize, 0);
            pages.push_back(std::move(z));
          }
    std::sort(pages.begin(), pages.end(), [](const SlicePage& a, const SlicePage& b) { return a.addr < b.addr; });
    // A loop can repeat its registers at the end pc while its state differs in
    // its stack frames (printf's internals, line after line): the end compares
    // the stack above sp too.
    if (kind == SliceSpec::EndKind::kCounted && o_.end_checks)
      record_end_stack(t_, end_regs.ints[2], pages, kEndStackBytes, spec_);
    end_regs.icount = at;
    spec_.end = at;
    spec_.end_regs = end_regs;
    spec_.end_kind = kind;
    spec_.pages = std::move(pages);
    // The pages read for the digest are offered to the page tracker: kept
    // pages start the next interval with these same bytes. (Without the
    // digest, begin_interval reads the kept pages alone.)
    if (o_.end_checks) {
      auto digest = digest_pages(t_, pages_.written_pages(), pages_.async_areas(),
                                 [this](uint64_t addr, uint8_t* bytes, uint64_t len) { pages_.offer_bytes(addr, bytes, len); });
      if (!digest) return digest.error();
      spec_.digest_ranges = std::move(digest->first);
      spec_.digest = digest->second;
    }
    spec_.mappings = pages_.mappings_seen();
    spec_done_ = true;
    ++slices_;
    HWSLICE_TRY(on_slice_(std::move(spec_)));
    return ok_status();
  }

  // Close to the chosen interval's start (exact_starts_): step the rest,
  // up to the next ecall, which the syscall stops take (so that every call
  // the program makes is seen), or to the start itself. Called at signal
  // stops and (`at_exit_stop`) syscall-exit stops while not recording.
  Status near_start(bool at_exit_stop) {
    if (!exact_starts_ || recording_ || next_boundary_ == UINT64_MAX) return ok_status();
    auto pos = position();
    if (!pos) return pos.error();
    if (*pos >= next_boundary_) {
      // Passed (a signal handler of the program's ran): the start is the
      // first stop from here, as without exact starts.
      stepping_ = false;
      return ok_status();
    }
    if (!stepping_ && next_boundary_ - *pos > plan_.step_distance()) return ok_status();
    if (at_exit_stop && t_.stop_requested()) return ok_status();  // that stop comes first and steps on
    stepping_ = true;
    if (!stepper_) {
      stepper_ = std::make_unique<Stepper>(t_, decoder_, compressed_);
      Stepper::Hooks h;
      h.unpatch = [this](uint64_t addr, uint8_t* data, size_t len) { sites_.unpatch(addr, data, len); };
      h.foreign_stop = [this](const WaitStatus& st) -> Result<bool> {
        if (t_.take_requested_stop(st)) return true;
        if (st.kind() != WaitStatus::Kind::kSignalStop || st.signal() != SIGTRAP) return false;
        auto regs = t_.regs();
        if (!regs) return regs.error();
        const CounterSite* site = sites_.at(regs->pc());
        if (!site) return false;
        HWSLICE_TRY(counter_read(*site));
        return true;
      };
      // The exact count makes the stepping counted hops (control/stepper.h).
      h.counted = [this]() { return position(); };
      h.trap_counted = trap_counted_;
      stepper_->set_hooks(std::move(h));
    }
    stepper_->set_count(*pos);
    const uint64_t hops = stepper_->hops();
    auto reached = stepper_->run_to_ecall(next_boundary_);
    if (!reached) return reached.error();
    HWSLICE_TRY(rebase(stepper_->count()));
    summary_.stepped += stepper_->count() - *pos;
    summary_.hops += stepper_->hops() - hops;
    if (!*reached) return ok_status();  // in front of an ecall
    stepping_ = false;
    if (stepper_->count() == *pos && at_exit_stop) {
      // At the start already, in a syscall stop, where nothing can be
      // injected: a stop of the tracer's comes before the next instruction.
      return t_.request_stop();
    }
    // Exactly at the start (a breakpoint stop).
    return start_chosen(next_boundary_);
  }

  // Start of a chosen interval (its warm-up included).
  Status start_chosen(uint64_t at) {
    recording_ = true;
    if (exact_starts_ && at == next_boundary_) ++summary_.exact_starts;
    HWSLICE_TRY(start_interval(at));
    set_boundaries(at, o_.warmup);
    return ok_status();
  }

  // A timer stop or a counter read: where a chosen interval may start, or an
  // interval that met no event past its boundary ends (a counted end).
  Status at_stop() {
    if (!recording_ && exact_starts_) {
      HWSLICE_TRY(near_start(false));
      if (recording_ || stepping_) return ok_status();
    }
    auto pos = position();
    if (!pos) return pos.error();
    if (o_.progress) o_.progress(*pos, slices_);
    if (*pos < (recording_ ? counted_boundary_ : next_boundary_)) return ok_status();
    if (recording_) {
      // A pass stub needs an instruction that writes a register it does not
      // read: when one follows on the straight line ahead, the program runs
      // to it.
      auto at = advance_to_stub_end(*pos);
      if (!at) return at.error();
      pos = *at;
    }
    auto regs = position_regs(*pos);
    if (!regs) return regs.error();
    if (recording_) {
      if (!can_end_slice_at(t_, decoder_, regs->pc) ||
          (*pos < counted_boundary_ + o_.interval / 4 && !stub_can_end_at(regs->pc))) {  // the next stop will do
        if (debug_) std::fprintf(stderr, "hwslice: debug: pc %llx at %llu cannot end an interval\n",
                                 static_cast<unsigned long long>(regs->pc), static_cast<unsigned long long>(*pos));
        return ok_status();
      }
      HWSLICE_TRY(finish_interval(*regs, *pos, SliceSpec::EndKind::kCounted));
      return after_end(*pos);
    }
    return start_chosen(*pos);
  }

  // At a timer stop at `pos` past the counted boundary: when the
  // instruction at the pc cannot take a pass stub but one of the next
  // instructions the program will run can, runs the program to it with a
  // breakpoint. Returns the position then. The path there is known from
  // the registers now: the instructions are followed while what decides
  // their course reads only registers none of them has written yet
  // (riscv::written_int_regs): branches and register jumps are evaluated,
  // loads and stores must hit a page this interval already has open for
  // them, and the code must be on pages already open for fetching (so
  // nothing can stop on the way: no fault, syscall, trap or counter read). Interpreters and hash chains go a while without an
  // eligible instruction (compute's chain reads every rd for 23 in a row).
  Result<uint64_t> advance_to_stub_end(uint64_t pos) {
    auto regs = t_.regs();
    if (!regs) return regs.error();
    uint64_t pc = regs->pc();
    if (stub_can_end_at(pc)) return pos;
    constexpr unsigned kAhead = 256;
    auto page_of = [](uint64_t a) { return a & ~(kPageSize - 1); };
    uint32_t dirty = 0;  // registers the instructions so far wrote
    auto clean = [&](unsigned r) { return (dirty >> r & 1) == 0; };
    // Code the program may fetch without a fault of the tracker's: a call
    // into a page this interval has not run yet would stop on the way.
    auto fetchable = [&](uint64_t at, unsigned len) {
      return (pages_.granted(at) & PROT_EXEC) && (pages_.granted(at + len - 1) & PROT_EXEC);
    };
    unsigned k = 0;
    for (; k < kAhead; ++k) {
      auto insn = decode_at(t_, decoder_, pc);
      if (!insn || insn->length == 0 || !insn->known || decode_counter_read(insn->word) ||
          !fetchable(pc, insn->length))
        return pos;
      switch (insn->flow) {
        case riscv::Flow::kNext:
        case riscv::Flow::kJump:
          break;
        case riscv::Flow::kBranch:
          if (!clean(insn->rs1) || !clean(insn->rs2)) return pos;
          break;
        case riscv::Flow::kJumpRegister:
          if (!clean(insn->rs1)) return pos;
          break;
        default:
          return pos;  // ecall, ebreak, lr/sc: they stop or must not be split
      }
      if (insn->mem.kind != riscv::MemAccess::kNone) {
        if (insn->mem.kind == riscv::MemAccess::kAtomic || !insn->mem.described || !clean(insn->mem.base)) return pos;
        const uint64_t a = riscv::access_address(*insn, *regs);
        const int need = insn->mem.kind == riscv::MemAccess::kStore ? PROT_WRITE : PROT_READ;
        if (page_of(a) != page_of(a + insn->mem.size - 1) || (pages_.granted(a) & need) != need) return pos;
      }
      const uint64_t next = riscv::next_pc(*insn, *regs);
      dirty |= riscv::written_int_regs(insn->word);
      pc = next;
      if (stub_can_end_at(pc)) {
        if (!fetchable(pc, 4)) return pos;
        break;
      }
    }
    if (k == kAhead) return pos;
    {
      auto bp = ScopedBreakpoint::insert(t_, RemoteAddr(pc), compressed_);
      if (!bp) return bp.error();
      HWSLICE_TRY(t_.cont());
      auto st = t_.wait();
      if (!st) return st.error();
      auto now = t_.regs();
      if (!now) return now.error();
      if (st->kind() != WaitStatus::Kind::kSignalStop || st->signal() != SIGTRAP || now->pc() != pc)
        return Error("running to the end instruction at " + to_hex(pc) + ": " + t_.state_line());
    }
    HWSLICE_TRY(rebase(pos + k + 1));
    return pos + k + 1;
  }

  // The slice can end at `pc` with its pass stub (runtime/slice_abi.h):
  // a 4-byte instruction writing a register it does not read. Timer stops
  // past the counted boundary come every N/64 instructions and wait for one
  // (up to N/4 more instructions), then take any instruction that can carry
  // a breakpoint.
  bool stub_can_end_at(uint64_t pc) {
    uint8_t b[4];
    if (!t_.read(RemoteAddr(pc), b, 2) || riscv::instruction_length(static_cast<uint16_t>(b[0] | b[1] << 8)) != 4 ||
        !t_.read(RemoteAddr(pc), b, 4))
      return false;
    sites_.unpatch(pc, b, 4);
    return riscv::stub_dead_rd(b[0] | b[1] << 8 | b[2] << 16 | static_cast<uint32_t>(b[3]) << 24) != 0;
  }

  // After an interval ended at `pos`: the next one starts there, or (SimPoint)
  // the program runs natively to the next chosen interval.
  Status after_end(uint64_t pos) {
    const uint64_t index = o_.interval ? pos / o_.interval : 0;
    if (o_.wanted.empty()) {
      HWSLICE_TRY(start_interval(pos));
      set_boundaries(pos);
      return ok_status();
    }
    recording_ = false;
    HWSLICE_TRY(pages_.restore_all());
    next_boundary_ = first_start(index + 1);
    if (next_boundary_ > pos) return near_start(false);
    return start_chosen(pos);
  }

  // The interval that starts at `start` ends at its first event (a syscall,
  // a fault of the page tracker's) at or after start + N; with none by
  // start + N + N/8, at a timer stop (a counted end).
  void set_boundaries(uint64_t start, uint64_t extra = 0) {
    next_boundary_ = start + o_.interval + extra;
    counted_boundary_ = next_boundary_ + o_.interval / 8;
  }

  // A fault of the page tracker's, classified: the interval may end right
  // here (the faulting access is then its end), then the page is opened.
  Status on_tracker_fault(const siginfo_t& info, PageTracker::Fault fault) {
    auto pos = position();
    if (!pos) return pos.error();
    if (o_.progress) o_.progress(*pos, slices_);
    // Not a page this interval used before (under a mapping the program has
    // since replaced): the slice holds it open from that earlier touch on.
    if (*pos >= next_boundary_ && !marked_pages_.count(fault.page) && !pages_.recorded(fault.page)) {
      auto regs = position_regs(*pos);
      if (!regs) return regs.error();
      spec_.syscalls.push_back(fault_mark(SIGSEGV, fault.page, fault.granted, fault.addr, fault.pc));
      HWSLICE_TRY(finish_interval(*regs, *pos, SliceSpec::EndKind::kFault));
      HWSLICE_TRY(after_end(*pos));
      if (!recording_) return ok_status();  // SimPoint: the program runs on unprotected
      // Everything is protected again: the same access faults in the new
      // interval, as its first event.
      auto again = pages_.classify_fault(info, fault.pc);
      if (!again) return again.error();
      if (!*again) return ok_status();
      fault = **again;
    }
    HWSLICE_TRY(pages_.open_fault(fault));
    HWSLICE_TRY(repair_segv_action());
    last_event_ = {LastEvent::kFault, fault.pc, fault};
    // A signal held for this moment is delivered here: the slice marks the
    // access, which faults there too.
    return deliver_deferred_here();
  }

  // A fault mark (record/trace_record.h) for the access at `pc`.
  SyscallRecord fault_mark(int sig, uint64_t page, int before, uint64_t addr, uint64_t pc) {
    SyscallRecord m;
    m.index = summary_.syscalls;
    m.nr = kFaultMarkNr;
    m.name = "fault";
    m.pc = pc;
    m.args = {static_cast<uint64_t>(sig), page, kProtFinal, static_cast<uint64_t>(before), addr, 0};
    if (page != kNoPage) marked_pages_.insert(page);
    return m;
  }

  // The interval ends right after the call just recorded (on_record).
  Status end_after_call() {
    if (!recording_) return ok_status();
    auto pos = position();
    if (!pos) return pos.error();
    auto regs = position_regs(*pos);
    if (!regs) return regs.error();
    HWSLICE_TRY(finish_interval(*regs, *pos, SliceSpec::EndKind::kAfterCall));
    return after_end(*pos);
  }

  // ---- the program's signals (record/signal_rules.h)

  // The program's own signal at its delivery stop: delivered now (where a
  // slice finds the point again, with the frame and the handler's
  // registers recorded), held for such a point, or passed through (no
  // handler runs). Returns true when the tracer delivered or held it.
  Result<bool> program_signal(int sig, const LastEvent& last) {
    auto got = t_.siginfo();
    if (!got) return got.error();
    siginfo_t info = *got;
    auto regs = t_.regs();
    if (!regs) return regs.error();
    const uint64_t pc = regs->pc();
    bool after = last.kind != LastEvent::kNone && last.pc == pc;
    if (redelivering_ && !deferred_.empty() && sig == deferred_.front().si_signo) {
      // A held signal back at a point of our choosing: its own siginfo.
      info = deferred_.front();
      deferred_.pop_front();
      redelivering_ = false;
      HWSLICE_TRY(t_.set_siginfo(info));
      after = true;
    }
    if (!recording_) {
      if (signals_.disposition(sig) == SignalRules::Disposition::kHandler) signals_.delivered(sig);
      return false;
    }
    switch (signals_.where(info, after)) {
      case SignalRules::Point::kPassThrough:
        // No handler: ignored, or it ends the program. A fault that ends it
        // ends the last interval too, at the faulting instruction.
        if (SignalRules::synchronous(info) && signals_.disposition(sig) == SignalRules::Disposition::kTerminate)
          HWSLICE_TRY(end_at_fatal_fault(info, pc));
        return false;
      case SignalRules::Point::kDefer:
        if (debug_)
          std::fprintf(stderr, "hwslice: debug: %s held at pc %llx\n", SignalRules::name(sig).c_str(),
                       static_cast<unsigned long long>(pc));
        defer(info);
        return true;
      case SignalRules::Point::kHere:
        break;
    }
    if (SignalRules::synchronous(info)) {
      HWSLICE_TRY(mark_program_fault(info, pc));
    } else if (last.kind == LastEvent::kFault && last.pc == pc) {
      if (marked_pages_.count(last.fault.page)) {  // a page's protection changes once in a slice
        defer(info);
        return true;
      }
      spec_.syscalls.push_back(fault_mark(SIGSEGV, last.fault.page, last.fault.granted, last.fault.addr, pc));
    }
    HWSLICE_TRY(deliver_to_handler(info));
    return true;
  }

  void defer(const siginfo_t& info) {
    if (deferred_.empty()) deferred_since_ = std::chrono::steady_clock::now();
    deferred_.push_back(info);
  }

  // The program's own synchronous signal with a handler: an access fault is
  // marked, so that the slice's access faults too (a page it maps may allow
  // it; its protection changes only at replayed calls); other faults
  // (illegal instruction, ebreak) recur by themselves.
  Status mark_program_fault(const siginfo_t& info, uint64_t pc) {
    if (info.si_signo != SIGSEGV && info.si_signo != SIGBUS) return ok_status();
    const uint64_t addr = reinterpret_cast<uint64_t>(info.si_addr);
    const uint64_t page = addr & ~(kPageSize - 1);
    if (marked_pages_.count(page) || pages_.granted(page) != 0 || pages_.recorded(page)) {
      // The page was accessible earlier in the interval: the slice cannot
      // take its access away at this point.
      if (spec_.unsliceable.empty())
        spec_.unsliceable = SignalRules::name(info.si_signo) + " at pc " + to_hex(pc) + " (address " + to_hex(addr) +
                            ") on a page the program used earlier in interval " + std::to_string(spec_.start) +
                            "-: its protection changed in between, which a slice cannot repeat";
      return ok_status();
    }
    const int before = pages_.program_prot(addr).value_or(0);
    spec_.syscalls.push_back(fault_mark(SIGSEGV, page, before, addr, pc));
    return ok_status();
  }

  // The program dies of its own fault: the last interval ends at it.
  Status end_at_fatal_fault(const siginfo_t& info, uint64_t pc) {
    const uint64_t addr = reinterpret_cast<uint64_t>(info.si_addr);
    const bool access = info.si_signo == SIGSEGV || info.si_signo == SIGBUS;
    const uint64_t page = access ? addr & ~(kPageSize - 1) : kNoPage;
    if (access && (marked_pages_.count(page) || pages_.granted(page) != 0 || pages_.recorded(page)))
      return ok_status();  // no end: see mark_program_fault
    auto pos = position();
    if (!pos) return pos.error();
    auto regs = position_regs(*pos);
    if (!regs) return regs.error();
    const int before = access ? pages_.program_prot(addr).value_or(0) : 0;
    spec_.syscalls.push_back(fault_mark(access ? SIGSEGV : info.si_signo, page, before, addr, pc));
    HWSLICE_TRY(finish_interval(*regs, *pos, SliceSpec::EndKind::kFault));
    recording_ = false;
    summary_.instructions = *pos;
    return pages_.restore_all();
  }

  // Delivers `info` to the program's handler now (at a signal-delivery
  // stop), with a breakpoint at the handler to see what the kernel did: the
  // frame it wrote and the registers it set become the interval's signal
  // delivery (record/trace_record.h).
  Status deliver_to_handler(const siginfo_t& info) {
    const int sig = info.si_signo;
    auto regs = t_.regs();
    if (!regs) return regs.error();
    const uint64_t pc = regs->pc(), sp = regs->x(riscv::kSp);
    const uint64_t handler = signals_.action(sig).handler;
    const uint64_t top = signals_.frame_top(sig, sp);
    if (recording_) HWSLICE_TRY(pages_.open_for_kernel_write(top - riscv::kSignalFrameMax, top));
    uint64_t at_handler_sp = 0;
    riscv::IntRegisters entry;
    {
      auto bp = ScopedBreakpoint::insert(t_, RemoteAddr(handler), compressed_);
      if (!bp) return bp.error().wrap("a breakpoint at the handler of " + SignalRules::name(sig));
      HWSLICE_TRY(t_.set_siginfo(info));
      int deliver = sig;
      while (true) {
        HWSLICE_TRY(t_.cont(deliver));
        deliver = 0;
        auto st = t_.wait();
        if (!st) return st.error();
        if (!t_.alive()) {  // the kernel could not deliver it: the program died of it
          if (debug_)
            std::fprintf(stderr, "hwslice: debug: delivering %s: %s\n", SignalRules::name(sig).c_str(),
                         st->describe().c_str());
          return ok_status();
        }
        if (st->kind() != WaitStatus::Kind::kSignalStop) continue;
        if (t_.take_requested_stop(*st)) continue;
        auto now = t_.regs();
        if (!now) return now.error();
        if (debug_)
          std::fprintf(stderr, "hwslice: debug: delivering %s: %s at pc %llx\n", SignalRules::name(sig).c_str(),
                       st->describe().c_str(), static_cast<unsigned long long>(now->pc()));
        if (st->signal() == SIGTRAP && now->pc() == handler) {
          entry = *now;
          break;
        }
        if (st->signal() == SIGSEGV && recording_) {
          auto si = t_.siginfo();
          if (!si) return si.error();
          auto fault = pages_.classify_fault(*si, now->pc());
          if (!fault) return fault.error();
          if (*fault) {
            HWSLICE_TRY(pages_.open_fault(**fault));
            HWSLICE_TRY(repair_segv_action());
            continue;
          }
        }
        deliver = st->signal();  // e.g. the SIGSEGV of a frame the kernel could not write
      }
      at_handler_sp = entry.x(riscv::kSp);
      if (trap_counted_) ++tracer_traps_;  // the breakpoint's trap is not the program's
      // The handler's page may have been recorded with the breakpoint in it.
      const uint32_t saved = bp->saved();
      uint8_t orig[4];
      std::memcpy(orig, &saved, 4);
      pages_.restore_recorded(handler, orig, bp->length());
    }
    signals_.delivered(sig);
    if (recording_) {
      SyscallRecord d;
      d.index = summary_.syscalls;
      d.nr = kSignalNr;
      d.name = SignalRules::name(sig);
      d.pc = pc;
      d.args = {static_cast<uint64_t>(sig), handler, at_handler_sp, entry.x(riscv::kRa), entry.x(riscv::kA1),
                entry.x(riscv::kA2)};
      MemWrite frame{at_handler_sp, std::vector<uint8_t>(top > at_handler_sp ? top - at_handler_sp : 0)};
      if (frame.data.size() > riscv::kSignalFrameMax) frame.data.resize(riscv::kSignalFrameMax);
      HWSLICE_TRY(t_.read_forced(RemoteAddr(frame.addr), frame.data.data(), frame.data.size()));
      d.writes.push_back(std::move(frame));
      spec_.syscalls.push_back(std::move(d));
    }
    ++summary_.signals;
    last_event_ = {LastEvent::kDelivery, handler, {}};
    return deliver_deferred_here();
  }

  // At a point a slice finds again (right after a tracker fault or a
  // delivery; a signal stop): the held signals, one after another.
  Status deliver_deferred_here() {
    collect_held();
    while (!deferred_.empty() && t_.alive() && last_event_.kind != LastEvent::kNone) {
      const siginfo_t info = deferred_.front();
      if (signals_.disposition(info.si_signo) != SignalRules::Disposition::kHandler) {
        deferred_.pop_front();  // its handler went meanwhile: what it does now (ignore, end) comes with a resend
        if (signals_.disposition(info.si_signo) != SignalRules::Disposition::kIgnore)
          (void)::syscall(SYS_tgkill, t_.pid(), t_.pid(), info.si_signo);
        continue;
      }
      if (last_event_.kind == LastEvent::kFault) {
        if (marked_pages_.count(last_event_.fault.page)) return ok_status();
        spec_.syscalls.push_back(fault_mark(SIGSEGV, last_event_.fault.page, last_event_.fault.granted,
                                            last_event_.fault.addr, last_event_.pc));
      }
      deferred_.pop_front();
      HWSLICE_TRY(deliver_to_handler(info));
    }
    return ok_status();
  }

  // A held signal that found no point in time (the program made no syscall
  // and touched no new page): delivered at this timer stop; no slice can
  // find the point again.
  Status deliver_overdue() {
    collect_held();
    if (deferred_.empty()) return ok_status();
    const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - deferred_since_).count();
    if (waited < kMaxSignalDelay) return ok_status();
    const siginfo_t info = deferred_.front();
    deferred_.pop_front();
    if (!deferred_.empty()) deferred_since_ = std::chrono::steady_clock::now();
    if (recording_ && spec_.unsliceable.empty()) {
      auto pos = position();
      spec_.unsliceable = SignalRules::name(info.si_signo) + " was delivered at instruction " +
                          std::to_string(pos ? *pos : 0) + ", where the program made no syscall and touched no new "
                          "page for " + std::to_string(static_cast<int>(kMaxSignalDelay * 1000)) +
                          " ms after it arrived: no slice can find that point again";
    }
    if (signals_.disposition(info.si_signo) != SignalRules::Disposition::kHandler) {
      (void)::syscall(SYS_tgkill, t_.pid(), t_.pid(), info.si_signo);
      return ok_status();
    }
    return deliver_to_handler(info);
  }

  // Signals the tracee got while the tracer worked in it (Tracee::
  // set_hold_signals): those with a handler wait for a point of ours,
  // those that end or stop the program are sent again, ignored ones go.
  void collect_held() {
    for (const siginfo_t& info : t_.take_held()) {
      switch (signals_.disposition(info.si_signo)) {
        case SignalRules::Disposition::kHandler: defer(info); break;
        case SignalRules::Disposition::kIgnore: break;
        default: (void)::syscall(SYS_tgkill, t_.pid(), t_.pid(), info.si_signo); break;
      }
    }
  }

  // After a tracker fault: where the program blocks or ignores SIGSEGV
  // (in its own SIGSEGV handler, say), raising the fault reset the
  // program's action to the default (PageTracker::restore_signal); the
  // program's action goes back. Only a program with an action of its own
  // for SIGSEGV needs the look at /proc/<pid>/status.
  Status repair_segv_action() {
    const SignalRules::Disposition d = signals_.disposition(SIGSEGV);
    if (d != SignalRules::Disposition::kHandler && d != SignalRules::Disposition::kIgnore) return ok_status();
    std::ifstream in("/proc/" + std::to_string(t_.pid()) + "/status");
    std::string line;
    const uint64_t bit = uint64_t{1} << (SIGSEGV - 1);
    bool kept = true;
    while (std::getline(in, line)) {
      const char* key = d == SignalRules::Disposition::kHandler ? "SigCgt:" : "SigIgn:";
      if (line.rfind(key, 0) == 0) kept = (std::strtoull(line.c_str() + 7, nullptr, 16) & bit) != 0;
    }
    if (kept) return ok_status();
    const KernelSigaction& a = signals_.action(SIGSEGV);
    return pages_.restore_signal(SIGSEGV, {a.handler, a.flags, a.mask}, d == SignalRules::Disposition::kHandler);
  }

  // An Error from on_record (which cannot return one), at the next hook.
  Status take_error() {
    if (!error_) return ok_status();
    Error e = *error_;
    error_.reset();
    return e;
  }

  const bool debug_ = debug_enabled();
  const IntervalOptions& o_;
  const std::function<Status(SliceSpec&&)>& on_slice_;
  Tracee& t_;
  const riscv::Decoder& decoder_;
  const bool compressed_;
  PageTracker pages_;
  CounterSites sites_;
  uint64_t calibration_ = 0;    // counted by calibrate_trap
  bool trap_counted_ = true;    // a trapping ebreak counts as retired
  uint64_t counter_credit_ = 0; // program counter reads the counter did not see
  bool ecall_counted_ = true;   // the board counts an ecall as retired
  uint64_t ecall_entries_ = 0;  // syscall-entry stops (ecalls the program ran)
  uint64_t adjust_ = 0;         // added by rebase() (modulo 2^64)
  bool exact_starts_ = false;   // chosen intervals start exactly (near_start)
  bool stepping_ = false;       // stepping toward a chosen start
  std::unique_ptr<Stepper> stepper_;
  ApproachPlan plan_;
  std::unique_ptr<PerfCounter> counter_;
  IntervalSummary summary_;
  SliceSpec spec_;
  bool spec_done_ = false;
  bool recording_ = false;
  uint64_t next_boundary_ = 0;
  uint64_t slices_ = 0;
  uint64_t restarts_ = 0;
  WaitStatus last_{};
  double rate_ = 1e9;  // QEMU icount shift=0 and real boards: about 1e9 per second
  uint64_t counted_boundary_ = UINT64_MAX;  // set_boundaries
  uint64_t tracer_traps_ = 0;  // trapping ebreaks of the tracer's own that the counter counted
  LastEvent last_event_;
  std::set<uint64_t> marked_pages_;  // pages with a fault mark in this interval
  bool end_after_record_ = false;    // after_call decided: the interval ends after this call
  bool in_call_ = false;             // between a syscall's entry and exit stops
  std::optional<Error> error_;       // from on_record
  SignalRules signals_;
  std::deque<siginfo_t> deferred_;   // held signals, for the next point a slice finds again
  std::chrono::steady_clock::time_point deferred_since_;
  bool redeliver_ = false;           // resume the exit stop with the first held signal
  bool redelivering_ = false;        // ... which is on its way
};

}  // namespace

Result<IntervalSummary> trace_intervals(const IntervalOptions& options,
                                        const std::function<Status(SliceSpec&&)>& on_slice) {
  if (options.interval == 0) return Error("the interval length must be at least 1");
  auto decoder = riscv::Decoder::create();
  if (!decoder) return decoder.error();
  const unsigned ptrace_options = PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL;
  auto tracee = Tracee::spawn(options.argv, ptrace_options, options.no_aslr);
  if (!tracee) return tracee.error();
  // The tracer waits for SIGCHLD with a timeout (sigtimedwait), so it is
  // blocked here, after the program started with the usual mask.
  sigset_t chld, old;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  pthread_sigmask(SIG_BLOCK, &chld, &old);
  struct Unblock {
    sigset_t mask;
    ~Unblock() { pthread_sigmask(SIG_SETMASK, &mask, nullptr); }
  } unblock{old};

  // The woken tracer must stop the program at once, or its timer stops come
  // as late as the scheduler's time slice (intervals far longer than asked,
  // a SimPoint start run past): ptrace/schedule_guard.h.
  ScheduleGuard sched(tracee->pid(), false);
  const bool compressed = machine_has_compressed();  // c.ebreak (stepping to exact starts)
  IntervalTracer it(options, on_slice, *tracee, **decoder, compressed);
  if (auto s = it.init(); !s) {
    tracee->kill();
    return s.error();
  }
  SyscallTracerOptions sopt;
  sopt.hooks = &it;
  sopt.allow_unknown = options.allow_unknown;
  sopt.interrupted = options.interrupted;
  SyscallTracer tracer(*tracee, it, sopt);
  auto r = tracer.run();
  if (!r) return r.error();
  HWSLICE_TRY(it.finish_at_exit());
  IntervalSummary s = it.summary();
  s.exit = *r;
  s.realtime = sched.realtime();
  return s;
}

}  // namespace hwslice
