#include "tracer/stepper.h"

#include <signal.h>

#include <algorithm>

#include "tracer/breakpoint.h"

namespace hwslice {

namespace {

// Code is decoded from at most this many bytes ahead of the pc (a basic
// block longer than this is simply run in several pieces).
constexpr size_t kScanBytes = 512;
// An LR/SC sequence is at most this many instructions long (the ISA's
// constrained LR/SC loops are 16 instructions).
constexpr unsigned kMaxLrScInstructions = 16;

}  // namespace

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
  return ok_status();
}

Result<uint64_t> Stepper::run_until(const std::vector<uint64_t>& stops) {
  std::vector<uint64_t> unique(stops);
  std::sort(unique.begin(), unique.end());
  unique.erase(std::unique(unique.begin(), unique.end()), unique.end());
  std::vector<ScopedBreakpoint> bps;
  for (uint64_t at : unique) {
    auto bp = ScopedBreakpoint::insert(tracee_, RemoteAddr(at), compressed_);
    if (!bp) return bp.error();
    bps.push_back(std::move(*bp));
  }
  int pending = 0;
  while (true) {
    HWSLICE_TRY(tracee_.cont(pending));
    pending = 0;
    auto st = tracee_.wait();
    if (!st) return st.error();
    if (!tracee_.alive())
      return Error("the program " + st->describe() + " after " + std::to_string(count_) + " instructions");
    if (st->kind() != WaitStatus::Kind::kSignalStop) continue;  // event stops: resume
    if (st->signal() == SIGTRAP) {
      auto regs = tracee_.regs();
      if (!regs) return regs.error();
      if (std::find(stops.begin(), stops.end(), regs->pc()) != stops.end()) {
        ++traps_;
        return regs->pc();
      }
      // A SIGTRAP that is not ours belongs to the program.
    }
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
  ++count_;
  return ok_status();
}

Status Stepper::run_to(uint64_t target) {
  if (target < count_)
    return Error("cannot step backwards: at instruction " + std::to_string(count_) + ", asked for " +
                 std::to_string(target));
  std::vector<uint8_t> code;
  while (count_ < target) {
    auto regs = tracee_.regs();
    if (!regs) return regs.error();
    const uint64_t pc = regs->pc();
    HWSLICE_TRY(read_code(pc, code));
    // Straight-line run from the pc.
    uint64_t addr = pc;
    uint64_t n = 0;
    size_t off = 0;
    riscv::Instruction insn;
    while (count_ + n < target) {
      insn = decoder_.decode(code.data() + off, code.size() - off, addr);
      if (insn.length == 0 || insn.flow != riscv::Flow::kNext) break;
      if (mode_ == Mode::kSingle && n == 1) break;  // one instruction per stop
      addr += insn.length;
      off += insn.length;
      ++n;
    }
    if (n > 0) {
      auto reached = run_until({addr});
      if (!reached) return reached.error();
      count_ += n;
      continue;
    }
    if (insn.length == 0) return Error("no valid instruction at the pc: " + tracee_.state_line());
    if (mode_ == Mode::kBlock && (insn.flow == riscv::Flow::kBranch || insn.flow == riscv::Flow::kJump ||
                                  insn.flow == riscv::Flow::kJumpRegister)) {
      // Control transfers change only the pc and rd: the tracer performs them
      // itself, saving the stop a breakpoint on the successor would cost.
      HWSLICE_TRY(emulate(insn, *regs));
      continue;
    }
    if (insn.flow != riscv::Flow::kLoadReserved) {
      HWSLICE_TRY(step());
      continue;
    }
    // LR/SC: run from the lr to just after the sc in one go. A branch inside
    // the sequence leaves it early: its target is a stop too, reached after
    // the instructions up to and including that branch.
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
    auto reached = run_until(stops);
    if (!reached) return reached.error();
    auto it = std::find(stops.begin(), stops.end(), *reached);
    count_ += counts[it - stops.begin()];
    // The unit may overshoot a target inside the sequence: positions inside
    // an LR/SC sequence cannot be stopped at without breaking it.
    if (count_ > target) {
      exact_ = false;
      return Error("position " + std::to_string(target) + " is inside an LR/SC sequence; the nearest is " +
                   std::to_string(count_));
    }
  }
  return ok_status();
}

}  // namespace hwslice
