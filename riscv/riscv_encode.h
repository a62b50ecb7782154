// Encoders for the few RV64 instructions hwslice emits: the slice writer's
// site rewrites (`addi a0, x0, v`, `jal x0, near`, `ebreak`) and the near
// stub of runtime/slice_abi.h (auipc, sd, ld, jalr, jal, c.nop), and the
// tracer's injection stubs (ptrace/syscall_injector.h: ld, sd, addi, blt,
// beq, jal).
//
// Contract: pure and constexpr; each encoder takes register numbers (0..31)
// and an immediate that the caller has checked with the matching *_fits
// predicate (out-of-range immediates are truncated to their field, never
// diagnosed here). Formats and field layouts: RISC-V unprivileged spec,
// chapter 2 (R/I/S/U/J types) and chapter 16 (C.NOP).
#pragma once

#include <cstdint>

namespace hwslice::riscv {

inline constexpr uint32_t kOpImm = 0x13, kAuipc = 0x17, kLoad = 0x03, kStore = 0x23, kJalr = 0x67, kJal = 0x6f,
                          kBranch = 0x63;
inline constexpr uint16_t kCNop = 0x0001;

// Signed 12-bit immediates (I and S types).
constexpr bool imm12_fits(int64_t v) { return v >= -2048 && v <= 2047; }
// jal's 21-bit signed, even offset: [-1 MiB, 1 MiB - 2].
constexpr bool jal_fits(int64_t offset) { return offset % 2 == 0 && offset >= -(1 << 20) && offset <= (1 << 20) - 2; }
// True when `jal` at `from` can reach `to`.
constexpr bool jal_reaches(uint64_t from, uint64_t to) { return jal_fits(static_cast<int64_t>(to - from)); }

constexpr uint32_t encode_i(uint32_t opcode, unsigned funct3, unsigned rd, unsigned rs1, int64_t imm) {
  return (static_cast<uint32_t>(imm & 0xfff) << 20) | ((rs1 & 31u) << 15) | ((funct3 & 7u) << 12) | ((rd & 31u) << 7) |
         opcode;
}

constexpr uint32_t encode_s(uint32_t opcode, unsigned funct3, unsigned rs1, unsigned rs2, int64_t imm) {
  const uint32_t u = static_cast<uint32_t>(imm & 0xfff);
  return ((u >> 5) << 25) | ((rs2 & 31u) << 20) | ((rs1 & 31u) << 15) | ((funct3 & 7u) << 12) | ((u & 31u) << 7) |
         opcode;
}

// addi rd, rs1, imm
constexpr uint32_t encode_addi(unsigned rd, unsigned rs1, int64_t imm) { return encode_i(kOpImm, 0, rd, rs1, imm); }
// ld rd, imm(rs1)
constexpr uint32_t encode_ld(unsigned rd, unsigned rs1, int64_t imm) { return encode_i(kLoad, 3, rd, rs1, imm); }
// sd rs2, imm(rs1)
constexpr uint32_t encode_sd(unsigned rs2, unsigned rs1, int64_t imm) { return encode_s(kStore, 3, rs1, rs2, imm); }
// jalr rd, imm(rs1)
constexpr uint32_t encode_jalr(unsigned rd, unsigned rs1, int64_t imm) { return encode_i(kJalr, 0, rd, rs1, imm); }
// auipc rd, imm20 (adds imm20 << 12 to the pc)
constexpr uint32_t encode_auipc(unsigned rd, int64_t imm20) {
  return (static_cast<uint32_t>(imm20 & 0xfffff) << 12) | ((rd & 31u) << 7) | kAuipc;
}
// jal rd, offset: imm[20|10:1|11|19:12] in bits 31..12.
constexpr uint32_t encode_jal(unsigned rd, int64_t offset) {
  const uint32_t u = static_cast<uint32_t>(offset) & 0x1fffff;
  return (((u >> 20) & 1u) << 31) | (((u >> 1) & 0x3ffu) << 21) | (((u >> 11) & 1u) << 20) |
         (((u >> 12) & 0xffu) << 12) | ((rd & 31u) << 7) | kJal;
}

// Conditional branch (B type): funct3 0 beq, 1 bne, 4 blt, 5 bge, 6 bltu, 7 bgeu;
// offset even, within [-4 KiB, 4 KiB - 2]: imm[12|10:5] in bits 31..25,
// imm[4:1|11] in bits 11..7.
constexpr uint32_t encode_branch(unsigned funct3, unsigned rs1, unsigned rs2, int64_t offset) {
  const uint32_t u = static_cast<uint32_t>(offset) & 0x1fff;
  return (((u >> 12) & 1u) << 31) | (((u >> 5) & 0x3fu) << 25) | ((rs2 & 31u) << 20) | ((rs1 & 31u) << 15) |
         ((funct3 & 7u) << 12) | (((u >> 1) & 0xfu) << 8) | (((u >> 11) & 1u) << 7) | kBranch;
}
// blt rs1, rs2, offset
constexpr uint32_t encode_blt(unsigned rs1, unsigned rs2, int64_t offset) { return encode_branch(4, rs1, rs2, offset); }
// beq rs1, rs2, offset
constexpr uint32_t encode_beq(unsigned rs1, unsigned rs2, int64_t offset) { return encode_branch(0, rs1, rs2, offset); }

// Known encodings (riscv64-linux-gnu-as -march=rv64g, objdump).
static_assert(encode_addi(10, 0, -1) == 0xfff00513);
static_assert(encode_jal(0, 8) == 0x0080006f);
static_assert(encode_jal(0, -4) == 0xffdff06f);
static_assert(encode_ld(10, 10, 48) == 0x03053503);
static_assert(encode_sd(2, 10, 40) == 0x02253423);
static_assert(encode_beq(10, 0, 8) == 0x00050463);  // beqz a0, .+8

}  // namespace hwslice::riscv
