#include "tracer/interval_tracer.h"

#include <signal.h>
#include <sys/mman.h>
#include <sched.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "runtime/slice_abi.h"
#include "tracer/approach_plan.h"
#include "tracer/breakpoint.h"
#include "tracer/counter_calibration.h"
#include "tracer/isa_string.h"
#include "tracer/schedule_guard.h"
#include "tracer/stepper.h"
#include "tracer/counter_sites.h"
#include "tracer/page_tracker.h"
#include "tracer/perf_counter.h"
#include "tracer/riscv_decoder.h"
#include "tracer/slice_capture.h"
#include "tracer/syscall_injector.h"
#include "tracer/syscall_tracer.h"
#include "tracer/tracee.h"
#include "tracer/vdso_patch.h"

namespace hwslice {
namespace {

using riscv::kSysExit, riscv::kSysExitGroup;
constexpr int64_t kErestartsys = -512, kErestartnohand = -514, kErestartRestartblock = -516;
// The rate assumed at least, in user instructions per second: measured rates
// include the kernel's work at each stop, and an underestimate makes the
// timer late (intervals much longer than asked).
constexpr double kMinRate = 5e8;
// How much of the stack above sp the end point compares (record_end_stack).
constexpr uint64_t kEndStackBytes = 4096;

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
 public:
  IntervalTracer(const IntervalOptions& o, const std::function<Status(SliceSpec&&)>& on_slice, Tracee& t,
                 const riscv::Decoder& decoder, bool compressed)
      : o_(o), on_slice_(on_slice), t_(t), decoder_(decoder), compressed_(compressed), pages_(t), sites_(t) {}

  Status init() {
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
    next_boundary_ = recording_ ? o_.interval + (o_.wanted.empty() ? 0 : o_.warmup) : first_start(0);
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
    } else if (const auto* e = std::get_if<ExitRecord>(&record)) {
      summary_.exit = *e;
    }
  }

  // ---- SyscallHooks
  Status before_call(long nr, const std::array<uint64_t, 6>& args, uint64_t pc) override {
    ++ecall_entries_;
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
    return ok_status();
  }

  Result<bool> after_call(SyscallRecord& rec) override {
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
    return true;
  }

  Result<bool> on_signal(int sig) override {
    bool candidate = false;
    if (debug_ && sig == SIGSTOP)
      std::fprintf(stderr, "hwslice: debug: SIGSTOP stop (requested %d, last %s)\n", t_.stop_requested(),
                   last_.describe().c_str());
    if (sig == SIGSTOP && t_.take_requested_stop(last_)) {
      ++summary_.timer_stops;
      candidate = true;
    } else if (sig == SIGTRAP) {
      auto regs = t_.regs();
      if (!regs) return regs.error();
      const CounterSite* site = sites_.at(regs->pc());
      if (!site) return false;  // the program's own ebreak
      HWSLICE_TRY(counter_read(*site));
      candidate = true;
    } else if (sig == SIGSEGV && recording_) {
      auto info = t_.siginfo();
      if (!info) return info.error();
      auto regs = t_.regs();
      if (!regs) return regs.error();
      auto mine = pages_.on_fault(*info, regs->pc());
      if (!mine) return mine.error();
      if (!*mine) {
        if (debug_)
        {
          std::fprintf(stderr, "hwslice: debug: SIGSEGV passed to the program: addr %p code %d pc %llx\n",
                       info->si_addr, info->si_code, static_cast<unsigned long long>(regs->pc()));
          for (unsigned i = 1; i < 32; ++i)
            std::fprintf(stderr, " x%u=%llx", i, static_cast<unsigned long long>(regs->x(i)));
          std::fprintf(stderr, "\n");
        }
        return false;
      }
      candidate = true;
    }
    if (!candidate) return false;
    HWSLICE_TRY(at_stop());
    return true;
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
    while (true) {
      siginfo_t info{};
      if (::waitid(P_PID, static_cast<id_t>(t.pid()), &info, WEXITED | WSTOPPED | WNOHANG | WNOWAIT | __WALL) == 0 &&
          info.si_pid != 0)
        break;
      if (interrupted && interrupted->load()) break;
      if (t.stop_requested() || next_boundary_ == UINT64_MAX || stepping_) {
        timespec ts{0, 20'000'000};
        (void)sigtimedwait(&chld, nullptr, &ts);
        continue;
      }
      auto now = first && start_pos ? start_pos : position();
      first = false;
      const uint64_t pos = now ? *now : 0;
      const uint64_t left = next_boundary_ > pos ? next_boundary_ - pos : 0;
      // rate_: instructions per second, from the previous stops.
      // Half the estimated time: stops converge on the boundary instead of
      // overshooting it when the rate estimate is high. Toward an exact
      // start, the plan's wait, which cannot pass it (tracer/approach_plan.h).
      double secs = left > 0 ? static_cast<double>(left) / rate_ * 0.5 : 0.0;
      secs = std::clamp(secs, 50e-6, 0.2);
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
        const bool run = runnable(t.pid());
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
    const uint64_t fix = (ecall_counted_ ? pages_.reexecuted_ecalls() : 0) + restarts_ + calibration_;
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
  // (tracer/counter_calibration.h), measured on the tracer's code page.
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
    if (kind == SliceSpec::EndKind::kPcRegs) {
      uint8_t b[2];
      HWSLICE_TRY(t_.read(RemoteAddr(end_regs.pc), b, 2));
      const unsigned len = riscv::instruction_length(static_cast<uint16_t>(b[0] | b[1] << 8));
      HWSLICE_TRY(pages_.include(end_regs.pc, len, true));
      HWSLICE_TRY(pages_.include(end_regs.pc + len, 2, true));
    } else {
      HWSLICE_TRY(pages_.include(end_regs.pc, 4, true));
    }
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
    if (kind == SliceSpec::EndKind::kPcRegs && o_.end_checks)
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
      // The exact count makes the stepping counted hops (tracer/stepper.h).
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
    next_boundary_ = at + o_.interval + o_.warmup;
    return ok_status();
  }

  // A stop where an interval may end or start.
  Status at_stop() {
    if (!recording_ && exact_starts_) {
      HWSLICE_TRY(near_start(false));
      if (recording_ || stepping_) return ok_status();
    }
    auto pos = position();
    if (!pos) return pos.error();
    if (o_.progress) o_.progress(*pos, slices_);
    if (*pos < next_boundary_) return ok_status();
    auto regs = position_regs(*pos);
    if (!regs) return regs.error();
    if (recording_) {
      if (!can_end_slice_at(t_, decoder_, regs->pc)) {  // the next stop will do
        if (debug_) std::fprintf(stderr, "hwslice: debug: pc %llx at %llu cannot end an interval\n",
                                 static_cast<unsigned long long>(regs->pc), static_cast<unsigned long long>(*pos));
        return ok_status();
      }
      HWSLICE_TRY(finish_interval(*regs, *pos, SliceSpec::EndKind::kPcRegs));
      const uint64_t index = o_.interval ? *pos / o_.interval : 0;
      if (o_.wanted.empty()) {
        HWSLICE_TRY(start_interval(*pos));
        next_boundary_ = *pos + o_.interval;
        return ok_status();
      }
      // SimPoint: run natively (no page tracking) to the next chosen interval.
      recording_ = false;
      HWSLICE_TRY(pages_.restore_all());
      next_boundary_ = first_start(index + 1);
      if (next_boundary_ > *pos) return near_start(false);
    }
    return start_chosen(*pos);
  }

  const bool debug_ = std::getenv("HWSLICE_DEBUG") != nullptr;
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
  // a SimPoint start run past): tracer/schedule_guard.h.
  ScheduleGuard sched(tracee->pid(), false);
  // c.ebreak needs the C extension (stepping to exact starts).
  std::ifstream cpuinfo("/proc/cpuinfo");
  const std::string isa((std::istreambuf_iterator<char>(cpuinfo)), std::istreambuf_iterator<char>());
  const bool compressed = parse_isa_string(cpuinfo_isa_line(isa)).has("c");
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
