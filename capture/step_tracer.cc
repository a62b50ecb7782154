#include "capture/step_tracer.h"

#include <signal.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <memory>

#include "runtime/slice_abi.h"
#include "ptrace/breakpoint.h"
#include "riscv/counter_reads.h"
#include "riscv/isa_string.h"
#include "control/perf_counter.h"
#include "riscv/riscv_decoder.h"
#include "record/signal_rules.h"
#include "record/syscall_table.h"
#include "capture/touched_pages.h"
#include "capture/vdso_patch.h"

namespace hwslice {

namespace {

// Calls step mode refuses before they run (see the header).
constexpr long kSysClone = 220, kSysExecve = 221, kSysExecveat = 281, kSysClone3 = 435;
using riscv::kSysExit, riscv::kSysExitGroup;
// The ISA's constrained LR/SC loops are at most 16 instructions.
constexpr unsigned kMaxLrScInstructions = 16;
// Progress is reported every this many instructions.
constexpr uint64_t kProgressEvery = 1 << 16;

class StepTracer final : public SyscallHooks, public TraceSink {
 public:
  StepTracer(const StepOptions& o, TraceSink& out, Tracee& t, const riscv::Decoder& decoder, bool compressed)
      : o_(o), out_(out), t_(t), decoder_(decoder), compressed_(compressed) {}

  void init() {
    PerfCounterSpec spec;
    spec.user_only = true;
    spec.start_enabled = true;
    auto c = PerfCounter::open(t_.pid(), spec);  // absent without user-only counting: no check
    if (c) counter_ = std::make_unique<PerfCounter>(std::move(*c));
  }

  StepSummary summary() {
    summary_.instructions = count_;
    summary_.traps = traps_;
    summary_.emulated = emulated_;
    if (counter_)
      if (auto v = counter_->read(); v) summary_.hardware = *v;
    return summary_;
  }

  // ---- TraceSink: the syscall tracer's records, passed on in order.
  void on_record(const TraceRecord& record) override {
    if (const auto* s = std::get_if<SyscallRecord>(&record)) {
      ++summary_.syscalls;
      for (const MemWrite& w : s->writes) touch(w.addr, w.data.size(), 'k');
    } else if (const auto* e = std::get_if<ExitRecord>(&record)) {
      summary_.exit = *e;
      if (o_.interval) out_.on_record(pages_.take(interval_index_, interval_start_, count_));
    }
    out_.on_record(record);
  }
  void on_entry(long nr, const std::array<uint64_t, 6>& args) override { out_.on_entry(nr, args); }
  void on_exit_stop() override { out_.on_exit_stop(); }

  // ---- SyscallHooks
  Status before_call(long nr, const std::array<uint64_t, 6>& args, uint64_t pc) override {
    if (step_) emit_early(*step_);  // the ecall runs: its inst record before its syscall's
    signals_.before_call(nr, args, [this](uint64_t a, void* out, size_t n) {
      return static_cast<bool>(t_.read(RemoteAddr(a), out, n));
    });
    if (o_.observer && (nr == kSysExit || nr == kSysExitGroup))
      HWSLICE_TRY(o_.observer->at_exit_call(t_, count_, nr, args, pc));
    if (nr == kSysExecve || nr == kSysExecveat)
      return Error("step mode follows one program image: the program calls " + sys::display_name(nr) + " at " +
                   std::to_string(count_) + " instructions");
    if (nr == kSysClone || nr == kSysClone3)
      return Error("step mode cannot follow " + sys::display_name(nr) +
                   ": the new process would inherit the step's breakpoint");
    return ok_status();
  }

  Result<bool> after_call(SyscallRecord& rec) override {
    signals_.after_call(rec.nr, static_cast<int64_t>(rec.ret));
    if (o_.observer) HWSLICE_TRY(o_.observer->after_call(t_, rec));
    // A call that does not return to the instruction after its ecall
    // (rt_sigreturn) completes its step here: the breakpoint is never hit.
    if (step_ && step_->syscall && rec.pc == step_->insns.front().pc) {
      auto regs = t_.regs();
      if (!regs) return regs.error();
      const uint64_t pc = regs->pc();
      if (pc != rec.pc && pc != rec.pc + 4) HWSLICE_TRY(complete());
    }
    return true;
  }

  Result<bool> on_signal(int sig) override {
    if (sig == SIGTRAP && step_) {
      auto regs = t_.regs();
      if (!regs) return regs.error();
      auto it = std::find(step_->stops.begin(), step_->stops.end(), regs->pc());
      if (it != step_->stops.end()) {
        ++traps_;
        step_->reached = it - step_->stops.begin();
        HWSLICE_TRY(complete());
        regs_ = *regs;
        return true;
      }
    }
    // The program's own signal. A step it interrupted either ran (the
    // tracee is at one of its stops: it completes) or did not start (a
    // single instruction, still at its pc: it is dropped, and stepped again
    // when the program gets there).
    if (o_.observer) HWSLICE_TRY(o_.observer->on_program_signal(t_, count_, sig));
    auto regs = t_.regs();
    if (!regs) return regs.error();
    if (step_) {
      auto it = std::find(step_->stops.begin(), step_->stops.end(), regs->pc());
      if (it != step_->stops.end()) {
        step_->reached = it - step_->stops.begin();
        HWSLICE_TRY(complete());
      } else {
        // Unstarted: a single instruction still at its pc (or an ecall the
        // kernel will run again, interrupted: it counts once, when it
        // completes; its inst record is then written twice).
        const bool unstarted = step_->insns.size() == 1 && regs->pc() == step_->insns[0].pc;
        HWSLICE_TRY(drop_step());
        if (!unstarted) summary_.exact = false;  // inside an LR/SC unit or a syscall step
      }
      regs_.reset();
    }
    if (signals_.disposition(sig) != SignalRules::Disposition::kHandler) return false;
    // A handler runs: stepped from its first instruction, so that
    // positions stay exact.
    HWSLICE_TRY(step_into_handler(sig));
    return true;
  }

  Status before_resume() override {
    if (at_exec_) {
      // The first stop is the exec event, inside execve: the registers are
      // not the program's yet (a0 reads -ENOSYS until the call returns 0).
      // Stepping starts at the execve's exit stop, with the registers the
      // first instruction sees.
      at_exec_ = false;
      return ok_status();
    }
    if (step_ || !t_.alive()) return ok_status();  // a step is under way (syscall or signal stop)
    while (true) {
      if (o_.interrupted && o_.interrupted->load()) return Error("interrupted");
      if (o_.interval && count_ >= next_boundary_) HWSLICE_TRY(boundary());
      if (o_.progress && count_ >= next_progress_) {
        o_.progress(count_);
        next_progress_ = count_ + kProgressEvery;
      }
      if (o_.observer) {
        HWSLICE_TRY(o_.observer->before_instruction(t_, count_));
      }
      if (!regs_) {
        auto r = t_.regs();
        if (!r) return r.error();
        regs_ = *r;
      }
      auto insn = decode(regs_->pc());
      if (!insn) return insn.error();
      switch (insn->flow) {
        case riscv::Flow::kBranch:
        case riscv::Flow::kJump:
        case riscv::Flow::kJumpRegister:
          // Changes only pc and rd: performed here, no stop needed.
          emit_inst(*insn);
          HWSLICE_TRY(emulate(*insn));
          continue;
        case riscv::Flow::kLoadReserved: {
          auto s = start_lr_sc(*insn);
          regs_.reset();
          return s;
        }
        default: {
          auto s = start_one(*insn);
          regs_.reset();
          return s;
        }
      }
    }
  }

 private:
  struct Pending {
    bool write = false;
    uint64_t addr = 0;
    unsigned size = 0;
  };
  // The step under way: its instructions (an LR/SC unit has several), the
  // breakpoints ending it and the instruction count at each.
  struct Step {
    // Records of a single-instruction step, emitted when it completes (a
    // signal may come before the instruction runs).
    std::vector<std::pair<TraceRecord, unsigned>> early;
    std::vector<riscv::Instruction> insns;
    std::vector<ScopedBreakpoint> breakpoints;
    std::vector<uint64_t> stops;
    std::vector<size_t> counts;  // instructions retired when stopping at stops[i]
    size_t reached = 0;
    bool syscall = false;
    std::vector<Pending> stores;           // written bytes to read after the step
    std::vector<AccessRecord> early_reads;  // LR/SC: the lr's read, emitted with the unit
    std::optional<Pending> late_read;      // a load ptrace could not read: from its register
  };

  Result<riscv::Instruction> decode(uint64_t pc) {
    auto decoded = decode_at(t_, decoder_, pc);
    if (!decoded) return decoded.error();
    const riscv::Instruction& insn = *decoded;
    if (insn.length == 0) return Error("no valid instruction at the pc: " + t_.state_line());
    if (insn.flow == riscv::Flow::kBreakpoint)
      return Error("the program executes its own ebreak at the pc: " + t_.state_line());
    if (insn.mem.kind != riscv::MemAccess::kNone && !insn.mem.described)
      return Error("step mode cannot record the memory access of \"" + insn.text + "\" (vector and cache-block "
                   "accesses are not supported): " + t_.state_line());
    return insn;
  }

  void emit_inst(const riscv::Instruction& insn) {
    out_.on_record(InstRecord{insn.pc, insn.word, insn.length});
    touch(insn.pc, insn.length, 'x');
  }

  // Marks pages and takes the digest of each page at its first touch in the
  // interval (unreadable pages, such as [vvar], keep digest 0).
  void touch(uint64_t addr, uint64_t len, char kind) {
    if (!o_.interval) return;
    for (uint64_t page : pages_.touch(addr, len, kind)) {
      page_buf_.resize(TouchedPages::kPageSize);
      if (t_.read(RemoteAddr(page), page_buf_.data(), page_buf_.size()))
        pages_.set_digest(page, hws_hash(HWS_FNV_OFFSET, page_buf_.data(), page_buf_.size()));
    }
  }

  AccessRecord read_access(bool write, uint64_t addr, unsigned size) {
    AccessRecord r{write, addr, std::vector<uint8_t>(size)};
    if (!t_.read(RemoteAddr(addr), r.data.data(), size)) r.data.clear();
    return r;
  }

  void emit_access(AccessRecord&& r, unsigned size) {
    touch(r.addr, size, r.write ? 'w' : 'r');
    out_.on_record(r);
  }

  Status emulate(const riscv::Instruction& insn) {
    riscv::perform_transfer(insn, *regs_);
    HWSLICE_TRY(t_.set_regs(*regs_));
    ++count_;
    ++emulated_;
    return ok_status();
  }

  Status arm(uint64_t at) {
    if (std::find(step_->stops.begin(), step_->stops.end(), at) != step_->stops.end()) return ok_status();
    auto bp = ScopedBreakpoint::insert(t_, RemoteAddr(at), compressed_);
    if (!bp) return bp.error();
    step_->breakpoints.push_back(std::move(*bp));
    return ok_status();
  }

  // One instruction: loads are read now, stores after the step. Its inst
  // and read records wait until it surely runs (a signal may come first):
  // the step's completion, or for an ecall its syscall's entry stop.
  Status start_one(const riscv::Instruction& insn) {
    step_.emplace();
    step_->insns.push_back(insn);
    step_->syscall = insn.flow == riscv::Flow::kSyscall;
    step_->early.emplace_back(InstRecord{insn.pc, insn.word, insn.length}, insn.length);
    const uint64_t addr = riscv::access_address(insn, *regs_);
    // kAtomic here is an AMO (read, then write) or an sc outside a
    // sequence (its lr's pair already broken: written only if it succeeds).
    const riscv::MemAccess kind = insn.mem.kind;
    const bool sc = insn.flow == riscv::Flow::kStoreConditional;
    if (kind == riscv::MemAccess::kLoad || (kind == riscv::MemAccess::kAtomic && !sc)) {
      AccessRecord r = read_access(false, addr, insn.mem.size);
      if (r.data.empty() && kind == riscv::MemAccess::kLoad && insn.mem.rd != 0 && insn.mem.size <= 8)
        step_->late_read = Pending{false, addr, insn.mem.size};
      else
        step_->early.emplace_back(std::move(r), insn.mem.size);
    }
    if (kind == riscv::MemAccess::kStore || kind == riscv::MemAccess::kAtomic)
      step_->stores.push_back({true, addr, insn.mem.size});
    const uint64_t next = insn.pc + insn.length;
    HWSLICE_TRY(arm(next));
    step_->stops.push_back(next);
    step_->counts.push_back(1);
    return ok_status();
  }

  // An LR/SC sequence as one unit: stops after the sc and at the targets of
  // branches leaving the sequence.
  Status start_lr_sc(const riscv::Instruction& lr) {
    step_.emplace();
    step_->early_reads.push_back(read_access(false, riscv::access_address(lr, *regs_), lr.mem.size));
    uint64_t a = lr.pc;
    for (unsigned i = 0; i < kMaxLrScInstructions; ++i) {
      auto in = i == 0 ? Result<riscv::Instruction>(lr) : decode(a);
      if (!in) return in.error();
      step_->insns.push_back(*in);
      if (in->flow == riscv::Flow::kBranch || in->flow == riscv::Flow::kJump) {
        HWSLICE_TRY(arm(in->pc + in->offset));
        step_->stops.push_back(in->pc + in->offset);
        step_->counts.push_back(i + 1);
      }
      a += in->length;
      if (in->flow == riscv::Flow::kStoreConditional) {
        // sc's rs1 is unchanged inside a constrained sequence (no stores,
        // no writes to it): its address is known now.
        const uint64_t sc_addr = regs_->x(in->mem.base);
        step_->stores.push_back({true, sc_addr, in->mem.size});
        // A first write to a page is a fault the kernel handles silently
        // (copy-on-write, zero page); taken by the sc, it clears the
        // reservation and the sequence runs once more. Page mode takes that
        // fault itself when it opens a page (page_tracker.h), and slices
        // never see it: writing the bytes back here keeps step mode on the
        // same path.
        uint64_t word = 0;
        if (t_.read(RemoteAddr(sc_addr), &word, in->mem.size)) (void)t_.write(RemoteAddr(sc_addr), &word, in->mem.size);
        HWSLICE_TRY(arm(a));
        step_->stops.push_back(a);
        step_->counts.push_back(i + 1);
        return ok_status();
      }
    }
    return Error("lr without an sc within 16 instructions: " + t_.state_line());
  }

  // The step's breakpoint was reached: records what it did.
  Status complete() {
    Step s = std::move(*step_);
    step_.reset();
    for (ScopedBreakpoint& bp : s.breakpoints) HWSLICE_TRY(bp.remove());
    emit_early(s);
    const size_t n = s.counts.empty() ? 1 : s.counts[s.reached];
    if (s.insns.size() > 1 || !s.early_reads.empty()) {
      // LR/SC unit: its instructions up to the stop, the lr's read, and the
      // sc's write if the sc ran and succeeded (rd == 0).
      bool sc_ok = false;
      auto regs = t_.regs();
      if (!regs) return regs.error();
      for (size_t i = 0; i < n; ++i) {
        emit_inst(s.insns[i]);
        if (i == 0)
          for (AccessRecord& r : s.early_reads) emit_access(std::move(r), s.insns[0].mem.size);
        if (s.insns[i].flow == riscv::Flow::kStoreConditional) sc_ok = regs->x(s.insns[i].rd) == 0;
      }
      if (!sc_ok) s.stores.clear();
    } else if (s.late_read) {
      // The loaded bytes, from the destination register (little-endian, the
      // low `size` bytes whatever the extension).
      const riscv::MemoryOperand& m = s.insns[0].mem;
      uint64_t value = 0;
      if (m.fp) {
        auto f = t_.fp_regs();
        if (!f) return f.error();
        value = f->f[m.rd];
      } else {
        auto regs = t_.regs();
        if (!regs) return regs.error();
        value = regs->x(m.rd);
      }
      AccessRecord r{false, s.late_read->addr, std::vector<uint8_t>(s.late_read->size)};
      std::memcpy(r.data.data(), &value, r.data.size());
      emit_access(std::move(r), s.late_read->size);
    } else if (s.insns[0].flow == riscv::Flow::kStoreConditional) {
      // An sc on its own (its lr's reservation already gone): a write only
      // if it succeeded.
      auto regs = t_.regs();
      if (!regs) return regs.error();
      if (regs->x(s.insns[0].rd) != 0) s.stores.clear();
    }
    for (const Pending& p : s.stores) emit_access(read_access(true, p.addr, p.size), p.size);
    if (s.insns.size() == 1 && s.insns[0].length == 4) {
      // A counter read (rdtime, ...): the value it got, for replay.
      if (auto c = decode_counter_read(s.insns[0].word)) {
        auto regs = t_.regs();
        if (!regs) return regs.error();
        out_.on_record(CounterRecord{s.insns[0].pc, c->csr == 0xc00 ? "cycle" : c->csr == 0xc01 ? "time" : "instret",
                                     c->rd, regs->x(c->rd)});
      }
    }
    count_ += n;
    return ok_status();
  }

  // The records a step held back (start_one).
  void emit_early(Step& s) {
    for (auto& [record, size] : s.early) {
      if (auto* i = std::get_if<InstRecord>(&record)) {
        touch(i->pc, i->length, 'x');
        out_.on_record(record);
      } else {
        emit_access(std::move(std::get<AccessRecord>(record)), size);
      }
    }
    s.early.clear();
  }

  // A step that did not complete: its breakpoints go, its records with it.
  Status drop_step() {
    Step s = std::move(*step_);
    step_.reset();
    for (ScopedBreakpoint& bp : s.breakpoints) HWSLICE_TRY(bp.remove());
    return ok_status();
  }

  // Delivers the program's signal `sig` (at its delivery stop, no step
  // under way) with a breakpoint at its handler: the next step starts
  // there. Signals that arrive meanwhile are sent again afterwards.
  Status step_into_handler(int sig) {
    auto info = t_.siginfo();
    if (!info) return info.error();
    auto regs = t_.regs();
    if (!regs) return regs.error();
    const uint64_t pc = regs->pc();
    const uint64_t handler = signals_.action(sig).handler;
    const uint64_t top = signals_.frame_top(sig, regs->x(riscv::kSp));
    std::vector<int> later;
    {
      auto bp = ScopedBreakpoint::insert(t_, RemoteAddr(handler), compressed_);
      if (!bp) return bp.error().wrap("a breakpoint at the handler of " + SignalRules::name(sig));
      HWSLICE_TRY(t_.set_siginfo(*info));
      int deliver = sig;
      while (true) {
        HWSLICE_TRY(t_.cont(deliver));
        deliver = 0;
        auto st = t_.wait();
        if (!st) return st.error();
        if (!t_.alive()) return ok_status();  // the kernel could not deliver it: the program died of it
        if (st->kind() != WaitStatus::Kind::kSignalStop) continue;
        auto now = t_.regs();
        if (!now) return now.error();
        if (st->signal() == SIGTRAP && now->pc() == handler) {
          regs_ = *now;
          break;
        }
        auto si = t_.siginfo();
        if (!si) return si.error();
        if (SignalRules::synchronous(*si))
          deliver = st->signal();  // e.g. the SIGSEGV of a frame the kernel could not write
        else
          later.push_back(st->signal());
      }
      ++traps_;
    }
    signals_.delivered(sig);
    const uint64_t sp = regs_->x(riscv::kSp);
    if (top > sp) touch(sp, top - sp, 'k');  // the frame the kernel wrote
    out_.on_record(NoteRecord{"signal", pc, static_cast<uint64_t>(sig),
                              SignalRules::name(sig) + " delivered to its handler at " + to_hex(handler)});
    ++summary_.signals;
    for (int s : later) (void)::syscall(SYS_tgkill, t_.pid(), t_.pid(), s);
    return ok_status();
  }

  // An interval boundary: the registers there and the interval's pages. An
  // LR/SC unit can step over a boundary k * N; the boundary is then where
  // the unit ended, marked not exact, and the next one is still (k + 1) * N.
  Status boundary() {
    auto regs = capture_regs(t_, "interval");
    if (!regs) return regs.error();
    regs->icount = count_;
    regs->mode = "step";
    regs->exact = summary_.exact && count_ == next_boundary_;
    if (count_ > 0) out_.on_record(pages_.take(interval_index_++, interval_start_, count_));
    out_.on_record(*regs);
    interval_start_ = count_;
    while (next_boundary_ <= count_) next_boundary_ += o_.interval;
    return ok_status();
  }

  const StepOptions& o_;
  TraceSink& out_;
  Tracee& t_;
  const riscv::Decoder& decoder_;
  bool compressed_;
  std::unique_ptr<PerfCounter> counter_;
  std::optional<Step> step_;
  bool at_exec_ = true;
  std::optional<riscv::IntRegisters> regs_;  // valid between a trap and the next resume
  TouchedPages pages_;
  std::vector<uint8_t> page_buf_;
  StepSummary summary_;
  uint64_t count_ = 0, traps_ = 0, emulated_ = 0;
  uint64_t next_boundary_ = 0, interval_start_ = 0, interval_index_ = 0;
  uint64_t next_progress_ = kProgressEvery;
  SignalRules signals_;
};

}  // namespace

Result<StepSummary> trace_steps(const StepOptions& options, TraceSink& sink) {
  auto decoder = riscv::Decoder::create();
  if (!decoder) return decoder.error();
  const bool compressed = machine_has_compressed();
  auto tracee = Tracee::spawn(options.argv, PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL, options.no_aslr);
  if (!tracee) return tracee.error();
  // The same run as page mode's: vDSO time functions as syscalls.
  if (auto s = patch_vdso_time(*tracee); !s) {
    tracee->kill();
    return s.error();
  }
  StepTracer st(options, sink, *tracee, **decoder, compressed);
  st.init();
  SyscallTracerOptions sopt;
  sopt.hooks = &st;
  sopt.allow_unknown = options.allow_unknown;
  sopt.interrupted = options.interrupted;
  SyscallTracer tracer(*tracee, st, sopt);
  auto r = tracer.run();
  if (!r) return r.error();
  return st.summary();
}

}  // namespace hwslice
