#include "riscv/riscv_decoder.h"

#include <capstone/capstone.h>

#include <cstdio>
#include <cstring>

namespace hwslice::riscv {

namespace {

// Immediates of the control-flow formats (RISC-V unprivileged spec, ch. 2
// and 16): B-type, J-type, CB and CJ (I-type is in riscv_isa.h).
int64_t imm_b(uint32_t w) {
  return sign_extend((bits(w, 31, 31) << 12) | (bits(w, 7, 7) << 11) | (bits(w, 30, 25) << 5) | (bits(w, 11, 8) << 1), 13);
}
int64_t imm_j(uint32_t w) {
  return sign_extend((bits(w, 31, 31) << 20) | (bits(w, 19, 12) << 12) | (bits(w, 20, 20) << 11) | (bits(w, 30, 21) << 1), 21);
}
int64_t imm_cb(uint32_t h) {
  return sign_extend((bits(h, 12, 12) << 8) | (bits(h, 6, 5) << 6) | (bits(h, 2, 2) << 5) | (bits(h, 11, 10) << 3) |
                         (bits(h, 4, 3) << 1), 9);
}
int64_t imm_cj(uint32_t h) {
  return sign_extend((bits(h, 12, 12) << 11) | (bits(h, 8, 8) << 10) | (bits(h, 10, 9) << 8) | (bits(h, 6, 6) << 7) |
                         (bits(h, 7, 7) << 6) | (bits(h, 2, 2) << 5) | (bits(h, 11, 11) << 4) | (bits(h, 5, 3) << 1), 12);
}

}  // namespace

Result<std::unique_ptr<Decoder>> Decoder::create() {
  csh h = 0;
  if (cs_open(CS_ARCH_RISCV, static_cast<cs_mode>(CS_MODE_RISCV64 | CS_MODE_RISCVC), &h) != CS_ERR_OK)
    return Error("Capstone has no RISC-V support (Capstone 5 or newer is needed)");
  return std::unique_ptr<Decoder>(new Decoder(h));
}

Decoder::~Decoder() {
  csh h = handle_;
  cs_close(&h);
}

Instruction Decoder::decode(const uint8_t* bytes, size_t avail, uint64_t pc) const {
  Instruction insn;
  insn.pc = pc;
  if (avail < 2) return insn;
  uint16_t lo;
  std::memcpy(&lo, bytes, 2);
  insn.length = instruction_length(lo);
  if (insn.length == 0 || insn.length > avail) {
    insn.length = 0;
    return insn;
  }
  uint32_t w = lo;
  if (insn.length == 4) std::memcpy(&w, bytes, 4);
  insn.word = w;
  insn.mem = memory_operand(w);

  cs_insn* ci = nullptr;
  size_t n = cs_disasm(static_cast<csh>(handle_), bytes, insn.length, pc, 1, &ci);
  if (n == 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, ".insn 0x%x", w);
    insn.text = buf;
    return insn;  // unknown: straight-line by length
  }
  insn.known = true;
  insn.text = std::string(ci->mnemonic) + (ci->op_str[0] ? " " : "") + ci->op_str;
  const unsigned id = ci->id;
  cs_free(ci, n);

  switch (id) {
    case RISCV_INS_BEQ: case RISCV_INS_BNE: case RISCV_INS_BLT:
    case RISCV_INS_BGE: case RISCV_INS_BLTU: case RISCV_INS_BGEU:
      insn.flow = Flow::kBranch;
      insn.rs1 = bits(w, 19, 15);
      insn.rs2 = bits(w, 24, 20);
      insn.offset = imm_b(w);
      insn.cond = id == RISCV_INS_BEQ ? BranchCond::kEq : id == RISCV_INS_BNE ? BranchCond::kNe
                : id == RISCV_INS_BLT ? BranchCond::kLt : id == RISCV_INS_BGE ? BranchCond::kGe
                : id == RISCV_INS_BLTU ? BranchCond::kLtu : BranchCond::kGeu;
      break;
    case RISCV_INS_C_BEQZ: case RISCV_INS_C_BNEZ:
      insn.flow = Flow::kBranch;
      insn.rs1 = 8 + bits(w, 9, 7);
      insn.rs2 = 0;
      insn.offset = imm_cb(w);
      insn.cond = id == RISCV_INS_C_BEQZ ? BranchCond::kEq : BranchCond::kNe;
      break;
    case RISCV_INS_JAL:
      insn.flow = Flow::kJump;
      insn.rd = bits(w, 11, 7);
      insn.offset = imm_j(w);
      break;
    case RISCV_INS_C_J:
      insn.flow = Flow::kJump;
      insn.rd = 0;
      insn.offset = imm_cj(w);
      break;
    case RISCV_INS_C_JAL:  // RV32 only; kept for completeness
      insn.flow = Flow::kJump;
      insn.rd = kRa;
      insn.offset = imm_cj(w);
      break;
    case RISCV_INS_JALR:
      insn.flow = Flow::kJumpRegister;
      insn.rd = bits(w, 11, 7);
      insn.rs1 = bits(w, 19, 15);
      insn.offset = imm_i(w);
      break;
    case RISCV_INS_C_JR: case RISCV_INS_C_JALR:
      insn.flow = Flow::kJumpRegister;
      insn.rd = id == RISCV_INS_C_JALR ? unsigned{kRa} : 0u;
      insn.rs1 = bits(w, 11, 7);
      insn.offset = 0;
      break;
    case RISCV_INS_ECALL: insn.flow = Flow::kSyscall; break;
    case RISCV_INS_EBREAK: case RISCV_INS_C_EBREAK: insn.flow = Flow::kBreakpoint; break;
    case RISCV_INS_LR_W: case RISCV_INS_LR_W_AQ: case RISCV_INS_LR_W_AQ_RL: case RISCV_INS_LR_W_RL:
    case RISCV_INS_LR_D: case RISCV_INS_LR_D_AQ: case RISCV_INS_LR_D_AQ_RL: case RISCV_INS_LR_D_RL:
      insn.flow = Flow::kLoadReserved;
      break;
    case RISCV_INS_SC_W: case RISCV_INS_SC_W_AQ: case RISCV_INS_SC_W_AQ_RL: case RISCV_INS_SC_W_RL:
    case RISCV_INS_SC_D: case RISCV_INS_SC_D_AQ: case RISCV_INS_SC_D_AQ_RL: case RISCV_INS_SC_D_RL:
      insn.flow = Flow::kStoreConditional;
      insn.rd = bits(w, 11, 7);  // 0 when the store succeeded
      break;
    case RISCV_INS_MRET: case RISCV_INS_SRET: case RISCV_INS_URET:
      insn.flow = Flow::kTrapReturn;
      break;
    default: break;
  }
  return insn;
}

uint64_t next_pc(const Instruction& insn, const IntRegisters& regs) {
  const uint64_t fall = insn.pc + insn.length;
  switch (insn.flow) {
    case Flow::kBranch: {
      const uint64_t a = regs.x(insn.rs1), b = regs.x(insn.rs2);
      const int64_t sa = static_cast<int64_t>(a), sb = static_cast<int64_t>(b);
      bool taken = false;
      switch (insn.cond) {
        case BranchCond::kEq: taken = a == b; break;
        case BranchCond::kNe: taken = a != b; break;
        case BranchCond::kLt: taken = sa < sb; break;
        case BranchCond::kGe: taken = sa >= sb; break;
        case BranchCond::kLtu: taken = a < b; break;
        case BranchCond::kGeu: taken = a >= b; break;
      }
      return taken ? insn.pc + insn.offset : fall;
    }
    case Flow::kJump: return insn.pc + insn.offset;
    case Flow::kJumpRegister: return (regs.x(insn.rs1) + insn.offset) & ~uint64_t(1);
    default: return fall;
  }
}

void perform_transfer(const Instruction& insn, IntRegisters& regs) {
  const uint64_t next = next_pc(insn, regs);  // from the registers before rd is written
  if (insn.flow != Flow::kBranch) regs.set_x(insn.rd, insn.pc + insn.length);
  regs.set_pc(next);
}

}  // namespace hwslice::riscv
