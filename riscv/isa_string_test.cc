#include "riscv/isa_string.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(IsaStringTest, ParsesVisionFive2StyleString) {
  IsaInfo isa = parse_isa_string("rv64imafdc_zicntr_zicsr_zifencei_zihpm_zba_zbb");
  EXPECT_EQ(isa.xlen, 64u);
  for (const char* e : {"i", "m", "a", "f", "d", "c", "zicntr", "zicsr", "zifencei", "zihpm", "zba", "zbb"})
    EXPECT_TRUE(isa.has(e)) << e;
  EXPECT_FALSE(isa.has("sscofpmf"));
  EXPECT_FALSE(isa.has("v"));
  EXPECT_EQ(isa.extensions.size(), 12u);
}

TEST(IsaStringTest, FindsSscofpmfAmongMultiLetterExtensions) {
  IsaInfo isa = parse_isa_string("rv64imafdc_zicntr_zicsr_zifencei_zihintntl_zihintpause_zihpm_zca_zcd_zba_zbb_sscofpmf_svvptc");
  EXPECT_TRUE(isa.has("sscofpmf"));
  EXPECT_TRUE(isa.has("svvptc"));
  EXPECT_EQ(isa.to_string(), "rv64imafdc_sscofpmf_svvptc_zba_zbb_zca_zcd_zicntr_zicsr_zifencei_zihintntl_zihintpause_zihpm");
}

TEST(IsaStringTest, ExpandsGAndIgnoresVersionNumbers) {
  IsaInfo isa = parse_isa_string("RV64GC2p0");
  EXPECT_EQ(isa.xlen, 64u);
  for (const char* e : {"i", "m", "a", "f", "d", "c", "zicsr", "zifencei"}) EXPECT_TRUE(isa.has(e)) << e;
  EXPECT_FALSE(isa.has("p"));
}

TEST(IsaStringTest, RejectsNonIsaText) {
  EXPECT_EQ(parse_isa_string("x86_64").xlen, 0u);
  EXPECT_TRUE(parse_isa_string("").extensions.empty());
  EXPECT_EQ(parse_isa_string("rv32imac").xlen, 32u);
}

TEST(IsaStringTest, TakesTheFirstIsaLineOfCpuinfo) {
  const char* cpuinfo =
      "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc_zba\nmmu\t\t: sv39\n"
      "hart isa\t: rv64imafdc_zba_zbb\n\nprocessor\t: 1\nisa\t\t: rv64gc\n";
  EXPECT_EQ(cpuinfo_isa_line(cpuinfo), "rv64imafdc_zba");
  EXPECT_EQ(cpuinfo_isa_line("processor : 0\n"), "");
}

TEST(KernelReleaseTest, ParsesDebianRelease) {
  KernelVersion v = parse_kernel_release("6.12.107+deb13-riscv64");
  EXPECT_EQ(v.major, 6u);
  EXPECT_EQ(v.minor, 12u);
  EXPECT_EQ(v.patch, 107u);
  EXPECT_TRUE(v >= (KernelVersion{6, 6, 0}));
  EXPECT_TRUE(parse_kernel_release("5.2") < (KernelVersion{5, 3, 0}));
  EXPECT_EQ(parse_kernel_release("garbage").major, 0u);
}

}  // namespace
}  // namespace hwslice
