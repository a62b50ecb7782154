#include "riscv/counter_reads.h"

#include "riscv/address_space.h"
#include "base/file_bytes.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>

namespace hwslice {
namespace {

void put32(std::vector<uint8_t>& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}
void put16(std::vector<uint8_t>& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v));
  out.push_back(static_cast<uint8_t>(v >> 8));
}

TEST(CounterReadsTest, DecodesOnlyPureReadsOfTheThreeCounters) {
  auto t = decode_counter_read(0xc0102573);  // rdtime a0
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rd, 10u);
  EXPECT_EQ(t->csr, 0xc01);
  EXPECT_STREQ(t->name, "rdtime");
  auto c = decode_counter_read(0xc00027f3);  // rdcycle a5
  ASSERT_TRUE(c);
  EXPECT_EQ(c->rd, 15u);
  EXPECT_STREQ(c->name, "rdcycle");
  auto i = decode_counter_read(0xc0202673);  // rdinstret a2
  ASSERT_TRUE(i);
  EXPECT_EQ(i->rd, 12u);
  EXPECT_EQ(i->csr, 0xc02);
  auto ci = decode_counter_read(0xc01072f3);  // csrrci t0, time, 0
  ASSERT_TRUE(ci);
  EXPECT_EQ(ci->rd, 5u);
  EXPECT_FALSE(decode_counter_read(0xc012a573));  // csrrs a0, time, t0: rs1 != x0
  EXPECT_FALSE(decode_counter_read(0xc0102073));  // rdtime x0: no value read
  EXPECT_FALSE(decode_counter_read(0xc0101573));  // csrrw a0, time, x0: a write
  EXPECT_FALSE(decode_counter_read(0x00302573));  // frcsr a0 (fcsr)
  EXPECT_FALSE(decode_counter_read(0xc0102503));  // not SYSTEM (a load opcode)
}

TEST(CounterReadsTest, SweepKeepsToInstructionBoundaries) {
  std::vector<uint8_t> code;
  put16(code, 0x0001);      // c.nop
  put32(code, 0xc0102573);  // rdtime a0 at +2
  // lui t0, 0x25730 (+6) ends in the halfword 0x2573, and the compressed
  // instruction after it (+10, 0xc010) starts with 0xc010: at +8 the bytes
  // read as rdtime a0, which a 2-byte scan reports and the sweep must not.
  put32(code, 0x257302b7);
  put16(code, 0xc010);
  put16(code, 0x0000);      // +12: a zero halfword (2 bytes)
  put32(code, 0xc00027f3);  // rdcycle a5 at +14
  auto found = sweep_counter_reads(code.data(), code.size(), 0x10000);
  ASSERT_EQ(scan_counter_reads(code, 0x10000).size(), 3u);  // the 2-byte scan: +2, +8, +14
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].pc, 0x10002u);
  EXPECT_EQ(found[0].word, 0xc0102573u);
  EXPECT_STREQ(found[0].insn.name, "rdtime");
  EXPECT_EQ(found[1].pc, 0x1000eu);
  EXPECT_STREQ(found[1].insn.name, "rdcycle");
}

// A minimal ELF64 file: header, one executable section at 0x100 with `code`,
// one data section holding an rdtime pattern that must not count.
std::vector<uint8_t> tiny_elf(const std::vector<uint8_t>& code) {
  std::vector<uint8_t> f(0x100, 0);
  f.insert(f.end(), code.begin(), code.end());
  const uint64_t data_off = f.size();
  put32(f, 0xc0102573);
  const uint64_t sh_off = (f.size() + 7) & ~7ull;
  f.resize(sh_off, 0);
  Elf64_Shdr sh[3]{};
  sh[1].sh_type = SHT_PROGBITS;
  sh[1].sh_flags = SHF_ALLOC | SHF_EXECINSTR;
  sh[1].sh_offset = 0x100;
  sh[1].sh_size = code.size();
  sh[2].sh_type = SHT_PROGBITS;
  sh[2].sh_flags = SHF_ALLOC;
  sh[2].sh_offset = data_off;
  sh[2].sh_size = 4;
  const size_t at = f.size();
  f.resize(at + sizeof sh);
  std::memcpy(f.data() + at, sh, sizeof sh);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_shoff = sh_off;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 3;
  std::memcpy(f.data(), &eh, sizeof eh);
  return f;
}

TEST(CounterReadsTest, ExecSectionsOfAFile) {
  std::vector<uint8_t> code;
  put32(code, 0x00000013);
  auto s = exec_sections(tiny_elf(code));
  ASSERT_TRUE(s) << s.error().message();
  ASSERT_EQ(s->size(), 1u);
  EXPECT_EQ((*s)[0].offset, 0x100u);
  EXPECT_EQ((*s)[0].size, 4u);
  // The test binary itself has at least one (.text).
  auto self = read_file_bytes("/proc/self/exe");
  ASSERT_TRUE(self);
  auto mine = exec_sections(*self);
  ASSERT_TRUE(mine) << mine.error().message();
  EXPECT_FALSE(mine->empty());
  EXPECT_FALSE(exec_sections(std::vector<uint8_t>(64, 0)));
}

TEST(CounterReadsTest, SitesOfAMappingAreItsAddresses) {
  std::vector<uint8_t> code;
  put32(code, 0x00000013);  // file offset 0x100
  put32(code, 0xc0102573);  // 0x104: rdtime a0
  put16(code, 0x0001);
  put32(code, 0xc0202673);  // 0x10a: rdinstret a2
  const auto file = tiny_elf(code);
  // The file's first page mapped at 0x40000: both sites, never the data
  // section's pattern.
  auto all = counter_read_sites(file, 0x40000, 0, 0x1000);
  ASSERT_TRUE(all);
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].pc, 0x40104u);
  EXPECT_EQ((*all)[0].insn.rd, 10u);
  EXPECT_EQ((*all)[1].pc, 0x4010au);
  EXPECT_EQ((*all)[1].insn.csr, 0xc02);
  // A mapping that starts at file offset 0x108 holds only the second.
  auto part = counter_read_sites(file, 0x50000, 0x108, 0x10);
  ASSERT_TRUE(part);
  ASSERT_EQ(part->size(), 1u);
  EXPECT_EQ((*part)[0].pc, 0x50002u);
}

}  // namespace
}  // namespace hwslice
