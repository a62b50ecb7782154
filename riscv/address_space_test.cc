#include "riscv/address_space.h"

#include <gtest/gtest.h>
#include <sys/auxv.h>

#include <algorithm>
#include <cstring>

namespace hwslice {
namespace {

TEST(AddressSpaceTest, ParsesMaps) {
  const char* text =
      "00010000-00191000 r-xp 00000000 00:0e 1234        /usr/lib/hwslice/tests/syscall_families\n"
      "7fff9d6a7000-7fff9d6ac000 rw-p 00154000 00:0e 99  /lib/riscv64-linux-gnu/libc.so.6\n"
      "7fffa0000000-7fffa0002000 r-xp 00000000 00:00 0   [vdso]\n"
      "7fffa0010000-7fffa0011000 rw-s 00000000 00:05 7\n";
  auto maps = parse_maps(text);
  ASSERT_TRUE(maps) << maps.error().message();
  ASSERT_EQ(maps->size(), 4u);
  EXPECT_EQ((*maps)[0].start, 0x10000u);
  EXPECT_EQ((*maps)[0].end, 0x191000u);
  EXPECT_TRUE((*maps)[0].exec);
  EXPECT_FALSE((*maps)[0].write);
  EXPECT_EQ((*maps)[0].path, "/usr/lib/hwslice/tests/syscall_families");
  EXPECT_EQ((*maps)[1].offset, 0x154000u);
  EXPECT_EQ((*maps)[2].path, "[vdso]");
  EXPECT_TRUE((*maps)[3].shared);
  EXPECT_EQ((*maps)[3].path, "");
  auto bad = parse_maps("zzz r-xp 0 0 0\n");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message(), "maps line 1 is malformed: 'zzz r-xp 0 0 0'");
}

TEST(AddressSpaceTest, ReadsTheVdsoSymbolsOfThisProcess) {
  // This process's own vDSO is a real image to parse (x86_64 on the host,
  // riscv64 in target tests); both export clock_gettime.
  auto base = getauxval(AT_SYSINFO_EHDR);
  if (base == 0) GTEST_SKIP() << "no vDSO in this process (qemu-user)";
  auto maps = read_maps(getpid());
  ASSERT_TRUE(maps);
  auto it = std::find_if(maps->begin(), maps->end(), [](const Mapping& m) { return m.path == "[vdso]"; });
  ASSERT_NE(it, maps->end());
  std::vector<uint8_t> image(it->end - it->start);
  std::memcpy(image.data(), reinterpret_cast<const void*>(it->start), image.size());
  auto syms = vdso_symbols(image);
  ASSERT_TRUE(syms) << syms.error().message();
  bool found = std::any_of(syms->begin(), syms->end(),
                           [](const ElfSymbol& s) { return s.name == "__vdso_clock_gettime" && s.size > 0; });
  EXPECT_TRUE(found);
  EXPECT_FALSE(vdso_symbols(std::vector<uint8_t>(64, 0)));
}

TEST(AddressSpaceTest, FindsCounterReads) {
  auto word = [](uint32_t v, std::vector<uint8_t>& out) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
  };
  std::vector<uint8_t> code;
  word(0x00000013, code);  // nop
  word(0xc0102573, code);  // rdtime a0
  code.push_back(0x01);    // a compressed nop (c.nop = 0x0001)
  code.push_back(0x00);
  word(0xc00027f3, code);  // rdcycle a5 (2-byte aligned only)
  word(0xc0202673, code);  // rdinstret a2
  word(0xc012a573, code);  // csrrs a0, time, t0: rs1 != 0, not a plain read
  auto found = scan_counter_reads(code, 0x10000);
  ASSERT_EQ(found.size(), 3u);
  EXPECT_EQ(found[0].pc, 0x10004u);
  EXPECT_STREQ(found[0].csr, "time");
  EXPECT_EQ(found[1].pc, 0x1000au);
  EXPECT_STREQ(found[1].csr, "cycle");
  EXPECT_EQ(found[2].pc, 0x1000eu);
  EXPECT_STREQ(found[2].csr, "instret");
}

}  // namespace
}  // namespace hwslice
