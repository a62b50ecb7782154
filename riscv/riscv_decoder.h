// Decoding for software single-step: what an instruction at a pc does to
// control flow, and where execution goes next given the registers.
//
// Contract:
//  - Capstone 5 (RISC-V, RV64 + compressed) identifies each instruction. It
//    prints aliases (beqz, ret, jal without rd) with operands dropped, so the
//    operands of control-flow instructions are taken from the encoding's
//    fields, which the ISA fixes.
//  - Instructions Capstone does not know (Zba/Zbb on Capstone 5, vendor
//    extensions) are reported with their length (from the low bits) as
//    straight-line code: every control-flow instruction is in the base ISA or
//    C, which Capstone knows.
//  - lr/sc are flagged so a stepper can run an LR/SC sequence as one unit (a
//    breakpoint trap between them would clear the reservation forever).
//  - Memory operands (for step mode's read/write records) come from the
//    encoding too (riscv::memory_operand).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/result.h"
#include "riscv/riscv_isa.h"

namespace hwslice::riscv {

enum class Flow : uint8_t {
  kNext,         // falls through to pc + length
  kBranch,       // conditional: pc + offset or pc + length
  kJump,         // jal, c.j, c.jal: pc + offset
  kJumpRegister, // jalr, c.jr, c.jalr: (rs1 + offset) & ~1
  kSyscall,      // ecall: the kernel runs, then pc + length
  kBreakpoint,   // ebreak, c.ebreak
  kLoadReserved, // lr.w / lr.d
  kStoreConditional,
  kTrapReturn,   // mret/sret/... (never in user code)
};

enum class BranchCond : uint8_t { kEq, kNe, kLt, kGe, kLtu, kGeu };

struct Instruction {
  uint64_t pc = 0;
  unsigned length = 0;  // 2 or 4; 0 when the bytes are no instruction at all
  Flow flow = Flow::kNext;
  bool known = false;   // Capstone decoded it
  std::string text;     // "beq a0, a1, 8", or ".insn 0x20b50533" when unknown
  // Control-flow operands from the encoding (and rd of an sc: its result).
  unsigned rd = 0, rs1 = 0, rs2 = 0;
  int64_t offset = 0;
  BranchCond cond = BranchCond::kEq;
  uint32_t word = 0;    // the encoding (low 16 bits for compressed)
  MemoryOperand mem;    // from the encoding (riscv_isa.h)
};

class Decoder {
 public:
  static Result<std::unique_ptr<Decoder>> create();
  ~Decoder();
  Decoder(const Decoder&) = delete;
  Decoder& operator=(const Decoder&) = delete;

  // Decodes the instruction at `pc` from `bytes` (at least 2, up to 4 valid).
  Instruction decode(const uint8_t* bytes, size_t avail, uint64_t pc) const;

 private:
  explicit Decoder(size_t handle) : handle_(handle) {}
  size_t handle_;
};

// Where execution continues after `insn` runs with registers `regs` (for
// kSyscall: after the kernel returns).
uint64_t next_pc(const Instruction& insn, const IntRegisters& regs);

// Carries out a branch or jump on `regs` as the CPU would: rd (jumps) gets
// the return address, pc the target. Steppers use it to save a stop per
// control transfer (these change nothing else).
void perform_transfer(const Instruction& insn, IntRegisters& regs);

// The address `insn` accesses with registers `regs` (before it runs).
inline uint64_t access_address(const Instruction& insn, const IntRegisters& regs) {
  return regs.x(insn.mem.base) + static_cast<uint64_t>(insn.mem.offset);
}

}  // namespace hwslice::riscv
