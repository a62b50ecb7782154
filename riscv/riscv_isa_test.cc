#include "riscv/riscv_isa.h"

#include "riscv/riscv_encode.h"

#include <gtest/gtest.h>

namespace hwslice::riscv {
namespace {

TEST(RiscvIsaTest, InstructionLengthFromFirstHalfword) {
  EXPECT_EQ(instruction_length(0x0505), 2u);  // c.addi a0, 1
  EXPECT_EQ(instruction_length(kCEbreak), 2u);
  EXPECT_EQ(instruction_length(kEbreak & 0xffff), 4u);
  EXPECT_EQ(instruction_length(0x0513), 4u);  // addi a0, a0, ...
  EXPECT_EQ(instruction_length(0x003f), 0u);  // 48-bit encoding space
}

TEST(RiscvIsaTest, EncodingsMatchTheSpec) {
  EXPECT_EQ(kEbreak, 0x00100073u);
  EXPECT_EQ(kEcall, 0x00000073u);
  EXPECT_EQ(kCEbreak, 0x9002u);
}

TEST(RiscvIsaTest, RegisterNames) {
  EXPECT_EQ(int_reg_number("a0"), 10u);
  EXPECT_EQ(int_reg_number("a7"), 17u);
  EXPECT_EQ(int_reg_number("fp"), 8u);
  EXPECT_EQ(int_reg_number("s0"), 8u);
  EXPECT_EQ(int_reg_number("x31"), 31u);
  EXPECT_EQ(int_reg_number("t6"), 31u);
  EXPECT_FALSE(int_reg_number("x32"));
  EXPECT_FALSE(int_reg_number("x1a"));
  EXPECT_FALSE(int_reg_number("pc"));
  EXPECT_EQ(kFpRegNames[10], "fa0");
}

TEST(RiscvIsaTest, RegisterSlotsFollowPtraceLayout) {
  IntRegisters r;
  r.set_pc(0x10000);
  r.set_x(0, 5);  // x0 stays zero
  r.set_x(kA0, 42);
  EXPECT_EQ(r.slot[0], 0x10000u);
  EXPECT_EQ(r.x(0), 0u);
  EXPECT_EQ(r.slot[10], 42u);
  FpRegisters f;
  f.fcsr = 0xe0;
  f.pad = 7;
  FpRegisters g = f;
  g.pad = 0;
  EXPECT_EQ(f, g);  // padding does not take part in comparison
}

TEST(RiscvIsaTest, MemoryAccessFromEncoding) {
  EXPECT_EQ(memory_access(0x00053503), MemAccess::kLoad);    // ld a0, 0(a0)
  EXPECT_EQ(memory_access(0x00b53023), MemAccess::kStore);   // sd a1, 0(a0)
  EXPECT_EQ(memory_access(0x00053507), MemAccess::kLoad);    // fld fa0, 0(a0)
  EXPECT_EQ(memory_access(0x00a53027), MemAccess::kStore);   // fsd fa0, 0(a0)
  EXPECT_EQ(memory_access(0x100532af), MemAccess::kAtomic);  // lr.d t0, (a0)
  EXPECT_EQ(memory_access(0x00b5302f), MemAccess::kAtomic);  // amoadd.d zero, a1, (a0)
  EXPECT_EQ(memory_access(0x00a50533), MemAccess::kNone);    // add a0, a0, a0
  EXPECT_EQ(memory_access(0x6108), MemAccess::kLoad);        // c.ld a0, 0(a0)
  EXPECT_EQ(memory_access(0xe10c), MemAccess::kStore);       // c.sd a1, 0(a0)
  EXPECT_EQ(memory_access(0x6502), MemAccess::kLoad);        // c.ldsp a0, 0(sp)
  EXPECT_EQ(memory_access(0xe02a), MemAccess::kStore);       // c.sdsp a0, 0(sp)
  EXPECT_EQ(memory_access(0x0505), MemAccess::kNone);        // c.addi a0, 1
  EXPECT_EQ(memory_access(0x8082), MemAccess::kNone);        // c.jr ra (ret)
}

// Step mode's read/write records rest on these: base register, offset and
// size for every scalar format (encodings from GNU as, -M no-aliases).
TEST(RiscvIsaTest, MemoryOperandsOfEveryScalarFormat) {
  struct Case {
    uint32_t word;
    MemAccess kind;
    unsigned base;
    int64_t offset;
    unsigned size;
  };
  const Case cases[] = {
      {0xfe843503, MemAccess::kLoad, 8, -24, 8},      // ld a0,-24(s0)
      {0x00764583, MemAccess::kLoad, 12, 7, 1},       // lbu a1,7(a2)
      {0x80d12023, MemAccess::kStore, 2, -2048, 4},   // sw a3,-2048(sp)
      {0x7e578fa3, MemAccess::kStore, 15, 2047, 1},   // sb t0,2047(a5)
      {0x01053507, MemAccess::kLoad, 10, 16, 8},      // fld fa0,16(a0)
      {0xfeb5ae27, MemAccess::kStore, 11, -4, 4},     // fsw fa1,-4(a1)
      {0x1005b52f, MemAccess::kAtomic, 11, 0, 8},     // lr.d a0,(a1)
      {0x18d7262f, MemAccess::kAtomic, 14, 0, 4},     // sc.w a2,a3,(a4)
      {0x00b6352f, MemAccess::kAtomic, 12, 0, 8},     // amoadd.d a0,a1,(a2)
      {0x2908, MemAccess::kLoad, 10, 16, 8},          // c.fld fa0,16(a0)
      {0x41a8, MemAccess::kLoad, 11, 64, 4},          // c.lw a0,64(a1)
      {0x7fe4, MemAccess::kLoad, 15, 248, 8},         // c.ld s1,248(a5)
      {0xe408, MemAccess::kStore, 8, 8, 8},           // c.sd a0,8(s0)
      {0xdff8, MemAccess::kStore, 15, 124, 4},        // c.sw a4,124(a5)
      {0x557e, MemAccess::kLoad, 2, 252, 4},          // c.lwsp a0,252(sp)
      {0x70fe, MemAccess::kLoad, 2, 504, 8},          // c.ldsp ra,504(sp)
      {0xffa2, MemAccess::kStore, 2, 504, 8},         // c.sdsp s0,504(sp)
      {0xdfae, MemAccess::kStore, 2, 252, 4},         // c.swsp a1,252(sp)
      {0xa822, MemAccess::kStore, 2, 16, 8},          // c.fsdsp fs0,16(sp)
      {0x81e8, MemAccess::kLoad, 11, 3, 1},           // c.lbu a0,3(a1)   (Zcb)
      {0x8528, MemAccess::kLoad, 10, 2, 2},           // c.lhu a0,2(a0)   (Zcb)
      {0x864c, MemAccess::kLoad, 12, 0, 2},           // c.lh a1,0(a2)    (Zcb)
      {0x8aa8, MemAccess::kStore, 13, 2, 1},          // c.sb a0,2(a3)    (Zcb)
      {0x8fa8, MemAccess::kStore, 15, 2, 2},          // c.sh a0,2(a5)    (Zcb)
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << std::hex << c.word);
    MemoryOperand m = memory_operand(c.word);
    EXPECT_EQ(m.kind, c.kind);
    EXPECT_TRUE(m.described);
    EXPECT_EQ(m.base, c.base);
    EXPECT_EQ(m.offset, c.offset);
    EXPECT_EQ(m.size, c.size);
  }
  EXPECT_EQ(memory_operand(0x0505).kind, MemAccess::kNone);      // c.addi a0,1
  EXPECT_EQ(memory_operand(0x0ff0000f).kind, MemAccess::kNone);  // fence
  // A footprint that is not base + offset and size: the direction only.
  EXPECT_FALSE(memory_operand(0x0045200f).described);            // cbo.zero (a0)
  EXPECT_EQ(memory_operand(0x02057007).kind, MemAccess::kLoad);  // vle64.v v0,(a0)
  EXPECT_FALSE(memory_operand(0x02057007).described);
}

// A load's destination register holds the loaded bytes afterwards (step mode
// reads them there when the memory cannot be read through ptrace).
TEST(RiscvIsaTest, LoadDestinations) {
  struct Case {
    uint32_t word;
    unsigned rd;
    bool fp;
  };
  const Case cases[] = {
      {0xfe843503, 10, false},  // ld a0,-24(s0)
      {0x00764583, 11, false},  // lbu a1,7(a2)
      {0x01053507, 10, true},   // fld fa0,16(a0)
      {0x2908, 10, true},       // c.fld fa0,16(a0)
      {0x41a8, 10, false},      // c.lw a0,64(a1)
      {0x7fe4, 9, false},       // c.ld s1,248(a5)
      {0x557e, 10, false},      // c.lwsp a0,252(sp)
      {0x70fe, 1, false},       // c.ldsp ra,504(sp)
      {0x81e8, 10, false},      // c.lbu a0,3(a1)   (Zcb)
      {0x864c, 11, false},      // c.lh a1,0(a2)    (Zcb)
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(::testing::Message() << std::hex << c.word);
    const MemoryOperand m = memory_operand(c.word);
    EXPECT_EQ(m.kind, MemAccess::kLoad);
    EXPECT_EQ(m.rd, c.rd);
    EXPECT_EQ(m.fp, c.fp);
  }
  EXPECT_EQ(memory_operand(0xe408).rd, 0u);  // c.sd a0,8(s0): a store has none
}

TEST(RiscvIsaTest, StubDeadRegister) {
  auto r_type = [](uint32_t opcode, unsigned rd, unsigned rs1, unsigned rs2, unsigned funct7 = 0) {
    return funct7 << 25 | rs2 << 20 | rs1 << 15 | rd << 7 | opcode;
  };
  EXPECT_EQ(stub_dead_rd(encode_ld(15, 8, 16)), 15u);   // ld a5, 16(s0)
  EXPECT_EQ(written_int_regs(encode_ld(15, 8, 16)), 1u << 15);
  EXPECT_EQ(written_int_regs(encode_sd(5, 20, 128)), 0u);        // stores write none
  EXPECT_EQ(written_int_regs(encode_beq(5, 0, 16)), 0u);
  EXPECT_EQ(written_int_regs(encode_jal(1, 64)), 1u << 1);       // jal ra
  EXPECT_EQ(written_int_regs(encode_addi(0, 0, 0)), 0u);         // nop: x0
  EXPECT_EQ(written_int_regs(0x6398), 1u << 14);                 // c.ld a4, 0(a5)
  EXPECT_EQ(written_int_regs(0x8e39), 1u << 12);                 // c.xor a2, a2, a4
  EXPECT_EQ(written_int_regs(0x8175), 1u << 10);                 // c.srli a0, 29
  EXPECT_EQ(written_int_regs(0x4e01), 1u << 28);                 // c.li t3, 0
  EXPECT_EQ(written_int_regs(0x2e05), 1u << 28);                 // c.addiw t3, 1
  EXPECT_EQ(written_int_regs(0xe398), 0u);                       // c.sd a4, 0(a5)
  EXPECT_EQ(written_int_regs(0x8082), 1u << 1);                  // c.jr ra (conservatively ra)
  EXPECT_EQ(written_int_regs(0x852e), (1u << 10) | (1u << 1));   // c.mv a0, a1 (and ra: the c.jalr group)
  EXPECT_EQ(written_int_regs(0xc11c), 0u);                       // c.sw a5, 0(a0)
  EXPECT_EQ(written_int_regs(0xa001), 0u);                       // c.j
  EXPECT_EQ(stub_dead_rd(encode_ld(15, 15, 16)), 0u);   // ld a5, 16(a5): reads a5
  EXPECT_EQ(stub_dead_rd(encode_addi(10, 11, 1)), 10u);
  EXPECT_EQ(stub_dead_rd(encode_addi(10, 10, 1)), 0u);
  EXPECT_EQ(stub_dead_rd(encode_addi(0, 0, 0)), 0u);    // nop writes nothing
  EXPECT_EQ(stub_dead_rd(r_type(0x33, 12, 13, 14)), 12u);       // add a2, a3, a4
  EXPECT_EQ(stub_dead_rd(r_type(0x33, 12, 13, 12)), 0u);        // add a2, a3, a2
  EXPECT_EQ(stub_dead_rd(r_type(0x33, 5, 6, 7, 1)), 5u);        // mul t0, t1, t2
  EXPECT_EQ(stub_dead_rd(r_type(0x3b, 5, 6, 7)), 5u);           // addw
  EXPECT_EQ(stub_dead_rd(0x000122b7), 5u);                      // lui t0, 0x12
  EXPECT_EQ(stub_dead_rd(encode_auipc(5, 1)), 0u);              // pc-relative
  EXPECT_EQ(stub_dead_rd(encode_sd(10, 2, 8)), 0u);             // a store writes no register
  EXPECT_EQ(stub_dead_rd(encode_jal(1, 8)), 0u);
  EXPECT_EQ(stub_dead_rd(encode_beq(10, 0, 8)), 0u);
  EXPECT_EQ(stub_dead_rd(kEcall), 0u);
  EXPECT_EQ(stub_dead_rd(0x4501), 0u);                          // c.li a0, 0: compressed
  EXPECT_EQ(stub_dead_rd(0x100527af), 0u);                      // lr.w a5, (a0): atomic
  EXPECT_EQ(stub_dead_rd(0xc01027f3), 0u);                      // rdtime a5: system
}

}  // namespace
}  // namespace hwslice::riscv