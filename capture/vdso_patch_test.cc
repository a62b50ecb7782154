#include "capture/vdso_patch.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

uint32_t word(const VdsoPatch& p, unsigned i) {
  return p.code[4 * i] | p.code[4 * i + 1] << 8 | p.code[4 * i + 2] << 16 | static_cast<uint32_t>(p.code[4 * i + 3]) << 24;
}

TEST(VdsoPatchTest, TimeFunctionsBecomeTheirSyscalls) {
  const std::vector<ElfSymbol> syms = {{"__vdso_rt_sigreturn", 0x800, 8},   {"__vdso_clock_gettime", 0x900, 400},
                                       {"__vdso_gettimeofday", 0xa90, 300}, {"__vdso_clock_getres", 0xbc0, 120},
                                       {"__vdso_riscv_hwprobe", 0xc40, 200}, {"__vdso_getcpu", 0xd10, 16}};
  auto patches = vdso_time_patches(syms, 0x3ff7fff000);
  ASSERT_EQ(patches.size(), 3u);
  EXPECT_EQ(patches[0].symbol, "__vdso_clock_gettime");
  EXPECT_EQ(patches[0].addr, 0x3ff7fff900u);
  // li a7, 113 (addi a7, zero, 113); ecall; ret (jalr zero, 0(ra)): GNU as's encodings.
  EXPECT_EQ(word(patches[0], 0), 0x07100893u);
  EXPECT_EQ(word(patches[0], 1), 0x00000073u);
  EXPECT_EQ(word(patches[0], 2), 0x00008067u);
  EXPECT_EQ(patches[1].symbol, "__vdso_gettimeofday");
  EXPECT_EQ(word(patches[1], 0), 0x0a900893u);  // li a7, 169
  EXPECT_EQ(patches[2].symbol, "__vdso_clock_getres");
  EXPECT_EQ(word(patches[2], 0), 0x07200893u);  // li a7, 114
}

TEST(VdsoPatchTest, AFunctionTooShortForTheStubIsLeftAlone) {
  EXPECT_TRUE(vdso_time_patches({{"__vdso_clock_gettime", 0x900, 10}}, 0x1000).empty());
  EXPECT_TRUE(vdso_time_patches({}, 0x1000).empty());
}

}  // namespace
}  // namespace hwslice
