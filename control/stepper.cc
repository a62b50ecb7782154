#include "control/stepper.h"

#include <signal.h>

#include <algorithm>
#include <cstring>

#include "riscv/address_space.h"
#include "record/trace_record.h"

namespace hwslice {

namespace {

// Code is decoded from at most this many bytes ahead of the pc (a basic
// block longer than this is simply run in several pieces).
constexpr size_t kScanBytes = 512;
// An LR/SC sequence is at most this many instructions long (the ISA's
// constrained LR/SC loops are 16 instructions).
constexpr unsigned kMaxLrScInstructions = 16;

}  // namespace

Status Stepper::Session::load_writable_code(pid_t pid) {
  writable_code.clear();
  code.clear();
  auto maps = read_maps(pid);
  if (!maps) return maps.error();
  for (const Mapping& m : *maps) {
    if (m.exec && m.write) writable_code.emplace_back(m.start, m.end);
    if (m.exec) code.emplace_back(m.start, m.end);
  }
  return ok_status();
}

bool Stepper::Session::executable(uint64_t addr) const {
  for (const auto& [lo, hi] : code)
    if (addr >= lo && addr < hi) return true;
  return false;
}

bool Stepper::Session::cacheable(uint64_t start, uint64_t end) const {
  for (const auto& [lo, hi] : writable_code)
    if (start < hi && end > lo) return false;
  return true;
}

Status Stepper::read_code(uint64_t pc, std::vector<uint8_t>& out) {
  // Read up to the end of the page first: the next page may be unmapped.
  const uint64_t page_end = (pc | 4095) + 1;
  size_t len = std::min<uint64_t>(kScanBytes, page_end - pc);
  out.resize(len);
  HWSLICE_TRY(tracee_.read(RemoteAddr(pc), out.data(), len));
  if (len < kScanBytes) {
    std::vector<uint8_t> more(kScanBytes - len);
    if (tracee_.read(RemoteAddr(page_end), more.data(), more.size())) out.insert(out.end(), more.begin(), more.end());
  }
  // The original bytes under the stepper's own breakpoints, then under the
  // owner's.
  if (session_)
    for (auto it = session_->bps.lower_bound(pc > 2 ? pc - 2 : 0); it != session_->bps.end(); ++it) {
      const uint64_t at = it->first;
      if (at >= pc + out.size()) break;
      const uint32_t saved = it->second.saved();
      for (unsigned i = 0; i < it->second.length(); ++i)
        if (at + i >= pc && at + i < pc + out.size()) out[at + i - pc] = static_cast<uint8_t>(saved >> (8 * i));
    }
  if (hooks_.unpatch) hooks_.unpatch(pc, out.data(), out.size());
  return ok_status();
}

Result<const Stepper::Block*> Stepper::block_at(uint64_t pc) {
  if (session_) {
    auto it = session_->blocks.find(pc);
    if (it != session_->blocks.end()) return &it->second;
  }
  std::vector<uint8_t> code;
  HWSLICE_TRY(read_code(pc, code));
  Block b;
  uint64_t addr = pc;
  size_t off = 0;
  while (true) {
    riscv::Instruction insn = decoder_.decode(code.data() + off, code.size() - off, addr);
    if (insn.length == 0 || insn.flow != riscv::Flow::kNext) {
      b.last = insn;
      break;
    }
    b.addrs.push_back(addr);
    addr += insn.length;
    off += insn.length;
  }
  b.end = addr;
  if (!session_) {
    scratch_ = std::move(b);
    return &scratch_;
  }
  const uint64_t code_end = b.end + (b.last.length ? b.last.length : 0);
  if (!session_->cacheable(pc, code_end)) {
    scratch_ = std::move(b);
    return &scratch_;
  }
  return &session_->blocks.emplace(pc, std::move(b)).first->second;
}

Result<uint64_t> Stepper::run_until(const std::vector<uint64_t>& stops) {
  // Breakpoints stay in place for the rest of the session: loops come back
  // to the same block ends (a write and a put-back fewer per block).
  Session local;
  Session& s = session_ ? *session_ : local;
  counted_here_.reset();  // the tracee runs
  for (uint64_t at : stops) {
    if (s.bps.count(at)) continue;
    auto bp = ScopedBreakpoint::insert(tracee_, RemoteAddr(at), compressed_);
    if (!bp) return bp.error();
    s.bps.emplace(at, std::move(*bp));
  }
  auto regs = tracee_.regs();
  if (!regs) return regs.error();
  // One at the pc itself would trap before the instruction runs.
  if (auto here = s.bps.find(regs->pc()); here != s.bps.end() &&
                                           std::find(stops.begin(), stops.end(), regs->pc()) == stops.end()) {
    HWSLICE_TRY(here->second.remove());
    s.bps.erase(here);
  }
  int pending = 0;
  while (true) {
    HWSLICE_TRY(tracee_.cont(pending));
    pending = 0;
    auto st = tracee_.wait();
    if (!st) return st.error();
    if (!tracee_.alive())
      return Error("the program " + st->describe() + " after " + std::to_string(count_) + " instructions");
    if (st->kind() == WaitStatus::Kind::kSignalStop && st->signal() == SIGTRAP) {
      auto at = tracee_.regs();
      if (!at) return at.error();
      // Any breakpoint of the session: one left at an earlier block's end
      // may come before the one asked for.
      if (s.bps.count(at->pc())) {
        ++traps_;
        return at->pc();
      }
    }
    if (hooks_.foreign_stop) {
      auto mine = hooks_.foreign_stop(*st);
      if (!mine) return mine.error();
      if (*mine) continue;
    }
    if (st->kind() != WaitStatus::Kind::kSignalStop) continue;  // event stops: resume
    // A SIGTRAP that is not ours belongs to the program.
    pending = st->signal();
    exact_ = false;  // the signal's handler (if any) runs uncounted
  }
}

Status Stepper::emulate(const riscv::Instruction& insn, riscv::IntRegisters regs) {
  riscv::perform_transfer(insn, regs);
  HWSLICE_TRY(tracee_.set_regs(regs));
  ++count_;
  ++emulated_;
  return ok_status();
}

Status Stepper::step() {
  auto regs = tracee_.regs();
  if (!regs) return regs.error();
  std::vector<uint8_t> code;
  HWSLICE_TRY(read_code(regs->pc(), code));
  riscv::Instruction insn = decoder_.decode(code.data(), code.size(), regs->pc());
  if (insn.length == 0) return Error("no valid instruction at the pc: " + tracee_.state_line());
  if (insn.flow == riscv::Flow::kBreakpoint)
    return Error("the program executes its own ebreak at the pc: " + tracee_.state_line());
  const uint64_t next = riscv::next_pc(insn, *regs);
  if (next == insn.pc) {
    // A jump or branch to itself changes nothing but the count.
    ++count_;
    return ok_status();
  }
  auto reached = run_until({next});
  if (!reached) return reached.error();
  if (*reached != next)
    return Error("one instruction at " + to_hex(insn.pc) + " stopped at " + to_hex(*reached) + ", not at " +
                 to_hex(next) + ": " + tracee_.state_line());
  ++count_;
  if (session_ && insn.flow == riscv::Flow::kSyscall) {
    // The call may have changed the code or its mappings.
    session_->blocks.clear();
    session_->hops.clear();
    session_->bps.clear();
    HWSLICE_TRY(session_->load_writable_code(tracee_.pid()));
  }
  return ok_status();
}

Result<std::optional<HopPlan>> Stepper::plan_hop(uint64_t pc, uint64_t budget) {
  // Only executable mappings are code: the CPU faults (a signal stop)
  // before it runs anything elsewhere, and a breakpoint written into data
  // the program reads (a read-only mapping beside the code) would change
  // what it computes.
  auto lookup = [&](uint64_t at) -> Result<const CodeBlock*> {
    if (!session_->executable(at)) return Error("no code at " + to_hex(at));
    auto b = block_at(at);
    if (!b) return b.error();
    if (*b == &scratch_) return static_cast<const CodeBlock*>(nullptr);  // not cached: code that can change
    return *b;
  };
  auto plan = hwslice::plan_hop(pc, budget, lookup);
  if (!plan || !*plan) return plan;
  // A block decoded across the end of its mapping: no stops beyond it.
  std::vector<uint64_t>& stops = (*plan)->stops;
  stops.erase(std::remove_if(stops.begin(), stops.end(), [&](uint64_t at) { return !session_->executable(at); }),
              stops.end());
  if (stops.empty()) return std::optional<HopPlan>();
  return plan;
}

Result<bool> Stepper::hop(uint64_t pc, uint64_t target) {
  const uint64_t budget = target - count_;
  const HopPlan* plan = nullptr;
  if (auto it = session_->hops.find(pc); it != session_->hops.end() && it->second.longest <= budget)
    plan = &it->second;
  if (!plan) {
    auto made = plan_hop(pc, budget);
    if (!made) return made.error();
    if (!*made) return false;
    session_->hops.erase(pc);
    plan = &session_->hops.emplace(pc, std::move(**made)).first->second;
  }
  const uint64_t longest = plan->longest;
  // The count at this stop: the last hop's, where the tracee has not run
  // since (a control transfer the stepper performed runs nothing).
  Result<uint64_t> before = counted_here_ ? Result<uint64_t>(*counted_here_) : hooks_.counted();
  if (!before) return before.error();
  const bool was_exact = exact_;
  // Other breakpoints of the session stay: lifting them costs more than the
  // earlier stops they make (a loop's hops come back to the same ones).
  // (Measured on xz in the k1 board: lifting them made its 148,000-
  // instruction tail 0.07 s slower.)
  auto reached = run_until(plan->stops);
  if (!reached) return reached.error();
  auto after = hooks_.counted();
  if (!after) return after.error();
  counted_here_ = *after;
  const uint64_t trap = hooks_.trap_counted ? 1 : 0;
  if (*after < *before + trap)
    return Error("a counted hop from " + to_hex(pc) + " to " + to_hex(*reached) + ": the count went from " +
                 std::to_string(*before) + " to " + std::to_string(*after) + ": " + tracee_.state_line());
  const uint64_t ran = *after - *before - trap;
  if (exact_ && (ran == 0 || ran > longest))
    return Error("a counted hop from " + to_hex(pc) + " to " + to_hex(*reached) + " ran " + std::to_string(ran) +
                 " instructions, its plan allows 1 to " + std::to_string(longest) +
                 " (the instruction count is not exact): " + tracee_.state_line());
  count_ += ran;
  ++hops_;
  if (count_ > target)  // only where a signal handler of the program's ran (was_exact, exact_ differ)
    return Error("position " + std::to_string(target) + " was passed while a signal handler of the program's ran" +
                 (was_exact ? "" : " (already inexact)") + ": at " + std::to_string(count_));
  return true;
}

Status Stepper::run_to(uint64_t target) {
  auto r = run(target, false);
  if (!r) return r.error();
  return ok_status();
}

Result<bool> Stepper::run_to_ecall(uint64_t target) { return run(target, true); }

Result<bool> Stepper::run(uint64_t target, bool stop_at_ecall) {
  if (target < count_)
    return Error("cannot step backwards: at instruction " + std::to_string(count_) + ", asked for " +
                 std::to_string(target));
  if (count_ == target) return true;
  counted_here_.reset();  // the owner may have run the tracee since
  // Decoded blocks and breakpoints last while this call does; every
  // breakpoint is gone when it returns.
  Session session;
  session_ = &session;
  struct Reset {
    Session*& s;
    ~Reset() { s = nullptr; }
  } reset{session_};
  HWSLICE_TRY(session.load_writable_code(tracee_.pid()));
  while (count_ < target) {
    auto regs = tracee_.regs();
    if (!regs) return regs.error();
    const uint64_t pc = regs->pc();
    if (hooks_.counted && mode_ == Mode::kBlock) {
      auto hopped = hop(pc, target);
      if (!hopped) return hopped.error();
      if (*hopped) continue;
    }
    auto block = block_at(pc);
    if (!block) return block.error();
    const Block& b = **block;
    // Straight-line run from the pc, up to the target.
    uint64_t n = std::min<uint64_t>(b.addrs.size(), target - count_);
    if (mode_ == Mode::kSingle) n = std::min<uint64_t>(n, 1);
    if (n > 0) {
      const uint64_t stop = n < b.addrs.size() ? b.addrs[n] : b.end;
      auto reached = run_until({stop});
      if (!reached) return reached.error();
      // An earlier breakpoint of the session inside the run: fewer ran.
      uint64_t ran = n;
      if (*reached != stop) {
        auto it = std::find(b.addrs.begin() + 1, b.addrs.begin() + static_cast<ptrdiff_t>(n), *reached);
        if (it == b.addrs.begin() + static_cast<ptrdiff_t>(n))
          return Error("a straight-line run from " + to_hex(pc) + " stopped at " + to_hex(*reached) + ": " +
                       tracee_.state_line());
        ran = static_cast<uint64_t>(it - b.addrs.begin());
      }
      count_ += ran;
      continue;
    }
    const riscv::Instruction insn = b.last;
    if (insn.length == 0) return Error("no valid instruction at the pc: " + tracee_.state_line());
    if (mode_ == Mode::kBlock && (insn.flow == riscv::Flow::kBranch || insn.flow == riscv::Flow::kJump ||
                                  insn.flow == riscv::Flow::kJumpRegister)) {
      // Control transfers change only the pc and rd: the tracer performs them
      // itself, saving the stop a breakpoint on the successor would cost.
      HWSLICE_TRY(emulate(insn, *regs));
      continue;
    }
    if (stop_at_ecall && insn.flow == riscv::Flow::kSyscall) return false;
    if (insn.flow != riscv::Flow::kLoadReserved) {
      HWSLICE_TRY(step());
      continue;
    }
    // LR/SC: run from the lr to just after the sc in one go. A branch inside
    // the sequence leaves it early: its target is a stop too, reached after
    // the instructions up to and including that branch.
    std::vector<uint8_t> code;
    HWSLICE_TRY(read_code(pc, code));
    std::vector<uint64_t> stops;
    std::vector<uint64_t> counts;
    uint64_t a = pc;
    size_t o = 0;
    bool found_sc = false;
    for (unsigned i = 0; i < kMaxLrScInstructions; ++i) {
      riscv::Instruction in = decoder_.decode(code.data() + o, code.size() - o, a);
      if (in.length == 0) break;
      if (in.flow == riscv::Flow::kBranch || in.flow == riscv::Flow::kJump) {
        stops.push_back(in.pc + in.offset);
        counts.push_back(i + 1);
      }
      a += in.length;
      o += in.length;
      if (in.flow == riscv::Flow::kStoreConditional) {
        stops.push_back(a);
        counts.push_back(i + 1);
        found_sc = true;
        break;
      }
    }
    if (!found_sc) return Error("lr without an sc within 16 instructions: " + tracee_.state_line());
    // No breakpoint of the session may sit inside the sequence: its trap
    // would clear the reservation and the sc would fail every time.
    for (auto it = session.bps.upper_bound(pc); it != session.bps.end() && it->first < a;) {
      if (std::find(stops.begin(), stops.end(), it->first) != stops.end()) {
        ++it;
        continue;
      }
      HWSLICE_TRY(it->second.remove());
      it = session.bps.erase(it);
    }
    auto reached = run_until(stops);
    if (!reached) return reached.error();
    auto it = std::find(stops.begin(), stops.end(), *reached);
    if (it == stops.end())
      return Error("an LR/SC sequence at " + to_hex(pc) + " stopped at " + to_hex(*reached) + ": " +
                   tracee_.state_line());
    count_ += counts[it - stops.begin()];
    // The unit may overshoot a target inside the sequence: positions inside
    // an LR/SC sequence cannot be stopped at without breaking it.
    if (count_ > target) {
      exact_ = false;
      return Error("position " + std::to_string(target) + " is inside an LR/SC sequence; the nearest is " +
                   std::to_string(count_));
    }
  }
  return true;
}

}  // namespace hwslice
