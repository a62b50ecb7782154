// RISC-V facts the tracer needs, described as data: register names and
// ptrace layouts, the few encodings it writes into a tracee (ebreak,
// c.ebreak, ecall), and instruction length from the first halfword.
//
// Contract: pure, portable (compiles and is unit-tested on x86); nothing here
// touches a process. The ptrace register layouts mirror the kernel's
// user_regs_struct (pc, x1..x31) and __riscv_d_ext_state (f0..f31, fcsr).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace hwslice::riscv {

inline constexpr uint32_t kEbreak = 0x00100073;   // ebreak
inline constexpr uint16_t kCEbreak = 0x9002;      // c.ebreak
inline constexpr uint32_t kEcall = 0x00000073;    // ecall
inline constexpr uint32_t kNop = 0x00000013;      // addi x0, x0, 0

// Linux generic syscall numbers used by the tracer itself.
inline constexpr long kSysGetpid = 172;
inline constexpr long kSysMmap = 222;
inline constexpr long kSysMprotect = 226;
inline constexpr long kSysMunmap = 215;
inline constexpr long kSysBrk = 214;
inline constexpr long kSysMremap = 216;
inline constexpr long kSysMadvise = 233;
inline constexpr long kSysRseq = 293;
inline constexpr long kSysExit = 93;
inline constexpr long kSysExitGroup = 94;
inline constexpr long kSysKill = 129;
inline constexpr long kSysTkill = 130;
inline constexpr long kSysTgkill = 131;
inline constexpr long kSysSigaltstack = 132;
inline constexpr long kSysRtSigaction = 134;
inline constexpr long kSysRtSigreturn = 139;
inline constexpr long kSysExecve = 221;
// The most a signal frame takes on the stack (struct rt_sigframe: siginfo,
// ucontext with the integer, FP and, with V, vector state for VLEN up to
// 1024 bits): what the tracer opens for the kernel to write or read one.
inline constexpr uint64_t kSignalFrameMax = 8192;
// madvise advice after which private anonymous pages read back as zeros.
inline constexpr int kMadvDontneed = 4;
inline constexpr int kMadvFree = 8;

// Length in bytes of the instruction whose first halfword is `lo`: 2 for the
// compressed quadrants (low bits != 11), 4 otherwise. Longer encodings
// (48/64-bit) are reserved and not produced by any toolchain; they return 0.
constexpr unsigned instruction_length(uint16_t lo) {
  if ((lo & 0x3) != 0x3) return 2;
  if ((lo & 0x1c) != 0x1c) return 4;
  return 0;
}

// Encoding fields (unprivileged spec, ch. 2): bits hi..lo of `v`, and the
// sign extension of a `width`-bit immediate.
constexpr uint32_t bits(uint32_t v, unsigned hi, unsigned lo) { return (v >> lo) & ((1u << (hi - lo + 1)) - 1); }
constexpr int64_t sign_extend(uint64_t v, unsigned width) {
  const uint64_t m = 1ull << (width - 1);
  return static_cast<int64_t>((v ^ m) - m);
}
constexpr int64_t imm_i(uint32_t w) { return sign_extend(bits(w, 31, 20), 12); }
constexpr int64_t imm_s(uint32_t w) { return sign_extend((bits(w, 31, 25) << 5) | bits(w, 11, 7), 12); }

// How an instruction touches data memory, from its encoding (`bits`: the
// instruction, low halfword first; compressed ones use the low 16 bits).
// The page tracker uses the kind to tell a read fault from a write fault
// (the kernel's SIGSEGV does not say which); step mode uses the operand to
// record each access. LR/SC and AMOs are kAtomic (an lr and its sc must not
// fault apart). `described` is false where base + offset and size do not
// give the footprint (vector and cache-block accesses): kind is then only
// the direction.
enum class MemAccess : uint8_t { kNone, kLoad, kStore, kAtomic };
struct MemoryOperand {
  MemAccess kind = MemAccess::kNone;
  bool described = true;
  unsigned base = 0;   // register holding the base address
  int64_t offset = 0;
  unsigned size = 0;   // bytes: 1, 2, 4, 8 or 16
  // Loads: the destination register (integer, or FP when fp), which holds
  // the loaded bytes afterwards (x0: discarded).
  unsigned rd = 0;
  bool fp = false;
};
MemoryOperand memory_operand(uint32_t bits);
inline MemAccess memory_access(uint32_t bits) { return memory_operand(bits).kind; }

// The integer registers an instruction may write (bit i: x[i]; x0 never),
// from its encoding (`bits`, low halfword first; compressed ones use the low
// 16 bits). Conservative: an instruction that writes an FP register or a
// CSR counts as writing the integer register its rd field names, jumps
// that link as writing their link register; stores and branches write none.
// For reasoning about the registers of straight-line code ahead of the pc.
uint32_t written_int_regs(uint32_t bits);

// The integer register a 4-byte instruction writes without reading it, when
// it is one a slice's end can move into its pass stub (runtime/slice_abi.h,
// HWS_END_COUNTED): a load, an integer register-register or register-
// immediate operation, or lui, that writes rd != x0 and reads only other
// registers, and does not depend on its own pc. rd is then dead at the
// instruction: the stub's jal may write it. 0 for any other instruction
// (compressed, pc-relative, stores, branches, FP, atomics, system).
unsigned stub_dead_rd(uint32_t bits);

// Integer register ABI names, indexed by register number x0..x31.
inline constexpr std::array<std::string_view, 32> kIntRegNames = {
    "zero", "ra", "sp", "gp", "tp", "t0", "t1", "t2", "s0", "s1", "a0",
    "a1",   "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5",
    "s6",   "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6"};

inline constexpr std::array<std::string_view, 32> kFpRegNames = {
    "ft0", "ft1", "ft2",  "ft3",  "ft4", "ft5", "ft6",  "ft7",
    "fs0", "fs1", "fa0",  "fa1",  "fa2", "fa3", "fa4",  "fa5",
    "fa6", "fa7", "fs2",  "fs3",  "fs4", "fs5", "fs6",  "fs7",
    "fs8", "fs9", "fs10", "fs11", "ft8", "ft9", "ft10", "ft11"};

// Register number of an ABI name ("a0" -> 10) or of "xN"; nullopt if unknown.
std::optional<unsigned> int_reg_number(std::string_view name);

enum IntReg : unsigned { kRa = 1, kSp = 2, kA0 = 10, kA1, kA2, kA3, kA4, kA5, kA6, kA7 };

// All user integer registers as ptrace's NT_PRSTATUS returns them: slot 0 is
// the pc (x0 is hard-wired zero and not stored), slots 1..31 are x1..x31.
struct IntRegisters {
  std::array<uint64_t, 32> slot{};

  uint64_t pc() const { return slot[0]; }
  void set_pc(uint64_t v) { slot[0] = v; }
  uint64_t x(unsigned n) const { return n == 0 ? 0 : slot[n]; }
  void set_x(unsigned n, uint64_t v) {
    if (n != 0) slot[n] = v;
  }
  bool operator==(const IntRegisters&) const = default;
};

// NT_PRFPREG for the D extension: f0..f31 then fcsr (padded to 8 bytes).
struct FpRegisters {
  std::array<uint64_t, 32> f{};
  uint32_t fcsr = 0;
  uint32_t pad = 0;
  bool operator==(const FpRegisters& o) const { return f == o.f && fcsr == o.fcsr; }
};

static_assert(sizeof(IntRegisters) == 32 * 8);
static_assert(sizeof(FpRegisters) == 33 * 8);

}  // namespace hwslice::riscv
