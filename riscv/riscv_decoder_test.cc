#include "riscv/riscv_decoder.h"

#include <gtest/gtest.h>

#include <cstring>

namespace hwslice::riscv {
namespace {

class DecoderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto d = Decoder::create();
    ASSERT_TRUE(d) << d.error().message();
    dec_ = std::move(*d);
  }
  Instruction at(uint32_t word, unsigned len, uint64_t pc = 0x1000) {
    uint8_t b[4];
    std::memcpy(b, &word, 4);
    return dec_->decode(b, len, pc);
  }
  std::unique_ptr<Decoder> dec_;
};

TEST_F(DecoderTest, ConditionalBranchesIncludingAliases) {
  IntRegisters r;
  Instruction beqz = at(0x00050463, 4);  // beqz a0, 8 (Capstone drops the x0 operand)
  EXPECT_EQ(beqz.flow, Flow::kBranch);
  EXPECT_EQ(beqz.rs1, 10u);
  EXPECT_EQ(beqz.rs2, 0u);
  EXPECT_EQ(beqz.offset, 8);
  EXPECT_EQ(next_pc(beqz, r), 0x1008u);
  r.set_x(kA0, 1);
  EXPECT_EQ(next_pc(beqz, r), 0x1004u);

  Instruction bnez = at(0xfe0718e3, 4);  // bnez a4, -16
  EXPECT_EQ(bnez.offset, -16);
  r.set_x(14, 5);
  EXPECT_EQ(next_pc(bnez, r), 0xff0u);

  Instruction bltu = at(0x00b56463, 4);  // bltu a0, a1, 8
  r.set_x(kA0, 1);
  r.set_x(kA1, ~0ull);
  EXPECT_EQ(next_pc(bltu, r), 0x1008u);  // 1 < 0xfff..f unsigned
  Instruction blt = at(0x00b54463, 4);   // blt a0, a1, 8
  EXPECT_EQ(next_pc(blt, r), 0x1004u);   // 1 < -1 is false signed
}

TEST_F(DecoderTest, CompressedBranchesAndJumps) {
  IntRegisters r;
  Instruction cb = at(0xc115, 2);  // c.beqz a0, 36
  EXPECT_EQ(cb.flow, Flow::kBranch);
  EXPECT_EQ(cb.length, 2u);
  EXPECT_EQ(cb.rs1, 10u);
  EXPECT_EQ(cb.offset, 36);
  EXPECT_EQ(next_pc(cb, r), 0x1024u);
  Instruction cj = at(0xa011, 2);  // c.j 4
  EXPECT_EQ(cj.flow, Flow::kJump);
  EXPECT_EQ(next_pc(cj, r), 0x1004u);
  Instruction cjr = at(0x8082, 2);  // c.jr ra (ret)
  r.set_x(kRa, 0x2345);
  EXPECT_EQ(cjr.flow, Flow::kJumpRegister);
  EXPECT_EQ(next_pc(cjr, r), 0x2344u);  // bit 0 cleared
  Instruction cjalr = at(0x9582, 2);  // c.jalr a1
  EXPECT_EQ(cjalr.rd, kRa);
  EXPECT_EQ(cjalr.rs1, 11u);
}

TEST_F(DecoderTest, JumpsAndRegisterJumps) {
  IntRegisters r;
  Instruction jal = at(0x008000ef, 4);  // jal ra, 8 (Capstone prints "jal 8")
  EXPECT_EQ(jal.flow, Flow::kJump);
  EXPECT_EQ(jal.rd, kRa);
  EXPECT_EQ(next_pc(jal, r), 0x1008u);
  Instruction back = at(0xff9ff06f, 4);  // j -8
  EXPECT_EQ(back.offset, -8);
  Instruction ret = at(0x00008067, 4);  // ret = jalr x0, 0(ra): no operands from Capstone
  EXPECT_EQ(ret.flow, Flow::kJumpRegister);
  EXPECT_EQ(ret.rs1, kRa);
  r.set_x(kRa, 0x4000);
  EXPECT_EQ(next_pc(ret, r), 0x4000u);
  Instruction jalr = at(0xff058067, 4);  // jalr x0, -16(a1)
  r.set_x(kA1, 0x5010);
  EXPECT_EQ(next_pc(jalr, r), 0x5000u);
}

TEST_F(DecoderTest, SystemAndAtomics) {
  IntRegisters r;
  EXPECT_EQ(at(0x00000073, 4).flow, Flow::kSyscall);
  EXPECT_EQ(next_pc(at(0x00000073, 4), r), 0x1004u);
  EXPECT_EQ(at(0x00100073, 4).flow, Flow::kBreakpoint);
  EXPECT_EQ(at(kCEbreak, 2).flow, Flow::kBreakpoint);
  EXPECT_EQ(at(0x100527af, 4).flow, Flow::kLoadReserved);     // lr.w a5, (a0)
  EXPECT_EQ(at(0x18b527af, 4).flow, Flow::kStoreConditional); // sc.w a5, a1, (a0)
  EXPECT_EQ(at(0x1e05b7af, 4).flow, Flow::kStoreConditional); // sc.d.aqrl a5, zero, (a1)
  EXPECT_EQ(at(0x1605b7af, 4).flow, Flow::kLoadReserved);     // lr.d.aqrl a5, (a1)
}

TEST_F(DecoderTest, UnknownExtensionsFallThroughByLength) {
  IntRegisters r;
  Instruction sh1add = at(0x20b50533, 4);  // Zba sh1add a0, a0, a1: unknown to Capstone 5
  EXPECT_EQ(sh1add.length, 4u);
  EXPECT_EQ(sh1add.flow, Flow::kNext);
  EXPECT_EQ(next_pc(sh1add, r), 0x1004u);
  Instruction ok = at(0x00b50533, 4);  // add a0, a0, a1
  EXPECT_TRUE(ok.known);
  EXPECT_EQ(ok.text, "add a0, a0, a1");
  EXPECT_EQ(at(0x0505, 2).length, 2u);  // c.addi a0, 1
  EXPECT_EQ(at(0x0505, 1).length, 0u);  // not enough bytes
}

TEST_F(DecoderTest, PerformsTransfersAsTheCpuWould) {
  IntRegisters r;
  r.set_pc(0x1000);
  r.set_x(kA0, 0x2001);
  perform_transfer(at(0x000500e7, 4), r);  // jalr ra, 0(a0): target with bit 0 cleared, ra = return address
  EXPECT_EQ(r.pc(), 0x2000u);
  EXPECT_EQ(r.x(kRa), 0x1004u);
  IntRegisters b;
  b.set_pc(0x1000);
  b.set_x(kRa, 0x77);
  perform_transfer(at(0x00050463, 4), b);  // beqz a0, 8 (taken): a branch writes no register
  EXPECT_EQ(b.pc(), 0x1008u);
  EXPECT_EQ(b.x(kRa), 0x77u);
}

TEST_F(DecoderTest, ScNamesItsResultRegister) {
  Instruction sc = at(0x18d7262f, 4);  // sc.w a2,a3,(a4)
  EXPECT_EQ(sc.flow, Flow::kStoreConditional);
  EXPECT_EQ(sc.rd, 12u);
}

TEST_F(DecoderTest, CarriesTheEncodingAndItsMemoryOperand) {
  Instruction ld = at(0xfe843503, 4);  // ld a0,-24(s0)
  EXPECT_EQ(ld.word, 0xfe843503u);
  EXPECT_EQ(ld.mem.kind, MemAccess::kLoad);
  IntRegisters r;
  r.set_x(8, 0x2000);
  EXPECT_EQ(access_address(ld, r), 0x1fe8u);
  Instruction csd = at(0xe408, 2);  // c.sd a0,8(s0)
  EXPECT_EQ(csd.word, 0xe408u);
  EXPECT_EQ(csd.mem.kind, MemAccess::kStore);
  EXPECT_EQ(access_address(csd, r), 0x2008u);
}

}  // namespace
}  // namespace hwslice::riscv
