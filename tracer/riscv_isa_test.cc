#include "tracer/riscv_isa.h"

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

}  // namespace
}  // namespace hwslice::riscv
