#include "slicer/slice_writer.h"

#include <elf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "riscv/riscv_encode.h"
#include "slicer/slice_test_program.h"
#include "riscv/riscv_decoder.h"

namespace hwslice {
namespace {

using test_program::End;
using test_program::make_spec;

// A stand-in runtime image: 0x1800 bytes of code/data (the first
// HWS_HEADER_RESERVE zero, as the real image's), 0x3000 in memory.
struct FakeRuntime {
  std::vector<uint8_t> bytes;
  runtime::Image image;
  FakeRuntime() : bytes(0x1800) {
    for (size_t i = HWS_HEADER_RESERVE; i < bytes.size(); ++i) bytes[i] = static_cast<uint8_t>(i * 13 + 1);
    image = {bytes.data(), bytes.size(), 0x3000, 0x110, 0x200};
  }
};

const runtime::Image& fake_rt() {
  static FakeRuntime rt;
  return rt.image;
}

template <typename T>
T read_at(const std::vector<uint8_t>& b, uint64_t off) {
  T v;
  EXPECT_LE(off + sizeof(T), b.size());
  std::memcpy(&v, b.data() + off, sizeof(T));
  return v;
}

// The layout tests below predate sparse pages and check whole pages; sparse
// pages have tests of their own (SparsePages*).
constexpr SliceOptions kWholePages{.sparse_pages = false};

SliceLayout layout_ok(const SliceSpec& spec, SliceOptions options = kWholePages) {
  auto l = layout_slice(spec, fake_rt(), options);
  EXPECT_TRUE(l) << l.error().message();
  return l ? *l : SliceLayout{};
}

std::string layout_error(const SliceSpec& spec) {
  auto l = layout_slice(spec, fake_rt(), kWholePages);
  EXPECT_FALSE(l);
  return l ? "" : l.error().message();
}

const SitePlan* site_at(const SliceLayout& l, uint64_t pc) {
  for (const SitePlan& s : l.sites)
    if (s.pc == pc) return &s;
  return nullptr;
}

// A spec with a code page at 0x10000 holding ecalls at the given offsets and
// one call per entry of `calls` (pc, nr, a0, ret).
struct Call {
  uint64_t pc;
  long nr;
  uint64_t a0;
  uint64_t ret;
};
SliceSpec ecall_spec(const std::vector<Call>& calls, uint64_t code = 0x10000) {
  SliceSpec s;
  std::vector<uint8_t> page(4096, 0);
  for (size_t off = 0; off < 4096; off += 4) {  // addi x0, x0, 0 everywhere
    const uint32_t nop = 0x00000013;
    std::memcpy(&page[off], &nop, 4);
  }
  for (const Call& c : calls) {
    const uint32_t ecall = 0x00000073;
    std::memcpy(&page[c.pc - code], &ecall, 4);
  }
  s.pages.push_back({code, 5, true, false, true, false, page});
  s.start_regs.pc = code;
  s.end_regs.pc = code + 0xff8;  // a nop
  for (const Call& c : calls) {
    SyscallRecord r;
    r.nr = c.nr;
    r.args[0] = c.a0;
    r.ret = c.ret;
    r.pc = c.pc;
    s.syscalls.push_back(r);
  }
  return s;
}

// --- Encodings ------------------------------------------------------------
// Expected words: riscv64-linux-gnu-as -march=rv64g, then objdump.

TEST(RiscvEncode, JalMatchesTheAssembler) {
  EXPECT_EQ(riscv::encode_jal(0, 8), 0x0080006fu);
  EXPECT_EQ(riscv::encode_jal(0, -4), 0xffdff06fu);
  EXPECT_EQ(riscv::encode_jal(0, 2048), 0x0010006fu);
  EXPECT_EQ(riscv::encode_jal(0, 0xff0), 0x7f10006fu);
  EXPECT_EQ(riscv::encode_jal(0, -0x1004), 0xffdfe06fu);
  EXPECT_EQ(riscv::encode_jal(0, 0x7f0), 0x7f00006fu);
  EXPECT_EQ(riscv::encode_jal(0, -0x800), 0x801ff06fu);
  EXPECT_EQ(riscv::encode_jal(0, 0xfffe0), 0x7e1ff06fu);
  EXPECT_EQ(riscv::encode_jal(0, -0xffff4), 0x80c0006fu);
  EXPECT_EQ(riscv::encode_jal(0, 0xffffe), 0x7ffff06fu);
  EXPECT_EQ(riscv::encode_jal(0, -0x100000), 0x8000006fu);
  EXPECT_EQ(riscv::encode_jal(1, 0x12344), 0x344120efu);
}

TEST(RiscvEncode, JalRange) {
  EXPECT_TRUE(riscv::jal_fits(0xffffe));
  EXPECT_FALSE(riscv::jal_fits(0x100000));
  EXPECT_TRUE(riscv::jal_fits(-0x100000));
  EXPECT_FALSE(riscv::jal_fits(-0x100002));
  EXPECT_FALSE(riscv::jal_fits(3));
  EXPECT_TRUE(riscv::jal_reaches(0x200000, 0x100000));
  EXPECT_FALSE(riscv::jal_reaches(0x200002, 0x100000));
}

TEST(RiscvEncode, JalRoundTripsThroughTheDecoder) {
  auto dec = riscv::Decoder::create();
  ASSERT_TRUE(dec) << dec.error().message();
  for (int64_t off : {-0x100000L, -0xffff4L, -0x1004L, -2L, 2L, 0x7f0L, 0xff0L, 0x12344L, 0xffffeL}) {
    const uint32_t w = riscv::encode_jal(0, off);
    uint8_t b[4];
    std::memcpy(b, &w, 4);
    const riscv::Instruction insn = (*dec)->decode(b, 4, 0x400000);
    EXPECT_EQ(insn.flow, riscv::Flow::kJump) << off;
    EXPECT_EQ(insn.rd, 0u);
    EXPECT_EQ(insn.offset, off);
  }
}

TEST(RiscvEncode, ImmediateFormatsMatchTheAssembler) {
  using namespace riscv;
  EXPECT_EQ(encode_addi(kA0, 0, -1), 0xfff00513u);
  EXPECT_EQ(encode_addi(kA0, 0, 2047), 0x7ff00513u);
  EXPECT_EQ(encode_addi(kA0, 0, -2048), 0x80000513u);
  EXPECT_EQ(encode_addi(kA0, 0, 1234), 0x4d200513u);
  EXPECT_EQ(encode_addi(kA0, 0, 5), 0x00500513u);
  EXPECT_EQ(encode_addi(5, 5, 1), 0x00128293u);  // addi t0, t0, 1
  EXPECT_EQ(encode_auipc(kA0, 0), 0x00000517u);
  EXPECT_EQ(encode_auipc(kSp, 0), 0x00000117u);
  EXPECT_EQ(encode_auipc(kA0, 0x12345), 0x12345517u);
  EXPECT_EQ(encode_sd(kSp, kA0, 40), 0x02253423u);
  EXPECT_EQ(encode_sd(19, kSp, -8), 0xff313c23u);  // sd s3, -8(sp)
  EXPECT_EQ(encode_ld(kA0, kA0, 48), 0x03053503u);
  EXPECT_EQ(encode_ld(kSp, kSp, 24), 0x01813103u);
  EXPECT_EQ(encode_ld(20, 8, 64), 0x04043a03u);    // ld s4, 64(s0)
  EXPECT_EQ(encode_jalr(kA0, kA0, 0), 0x00050567u);
  EXPECT_EQ(encode_jalr(0, kRa, 16), 0x01008067u);
  EXPECT_TRUE(imm12_fits(-2048));
  EXPECT_FALSE(imm12_fits(2048));
}

TEST(NearStub, ExactBytes) {
  // Stub at 0x11000 for the ecall at 0x10010, far entry 0x100000200.
  const auto b = near_stub_bytes(0x11000, 0x10010, 0x100000200);
  const uint32_t want[7] = {0x00000517, 0x02253423, 0x03053503, 0x00050567, 0x00000117, 0x01813103,
                            0xffdfe06f /* jal x0, -0x1004: 0x11018 -> 0x10014 */};
  for (size_t i = 0; i < 7; ++i) EXPECT_EQ(read_at<uint32_t>({b.begin(), b.end()}, 4 * i), want[i]) << i;
  EXPECT_EQ(read_at<uint16_t>({b.begin(), b.end()}, 28), 0x0001);
  EXPECT_EQ(read_at<uint16_t>({b.begin(), b.end()}, 30), 0x0001);
  EXPECT_EQ(read_at<uint64_t>({b.begin(), b.end()}, 32), 0x10010u);
  EXPECT_EQ(read_at<uint64_t>({b.begin(), b.end()}, 40), 0u);
  EXPECT_EQ(read_at<uint64_t>({b.begin(), b.end()}, 48), 0x100000200u);
}

// --- Layout of the hand-made program ---------------------------------------

TEST(SliceLayout, HandMadeProgramSitesStubsRegions) {
  const SliceSpec spec = make_spec(End::kLoopAdd);
  const SliceLayout l = layout_ok(spec);

  ASSERT_EQ(l.sites.size(), 4u);
  const SitePlan* w1 = site_at(l, test_program::kSiteWrite1);
  const SitePlan* pid = site_at(l, test_program::kSiteGetpid);
  const SitePlan* rd = site_at(l, test_program::kSiteRead);
  const SitePlan* w2 = site_at(l, test_program::kSiteWrite2);
  ASSERT_TRUE(w1 && pid && rd && w2);
  EXPECT_EQ(pid->kind, SiteKind::kInPlace);
  EXPECT_EQ(pid->value, 1234);
  EXPECT_EQ(pid->insn, 0x4d200513u);  // addi a0, x0, 1234
  // Near stubs share the nearest free page above the code page.
  EXPECT_EQ(w1->kind, SiteKind::kNear);
  EXPECT_EQ(w1->stub, 0x11000u);
  EXPECT_EQ(w1->insn, 0x7f10006fu);  // jal x0, +0xff0
  EXPECT_EQ(rd->kind, SiteKind::kNear);
  EXPECT_EQ(rd->stub, 0x11038u);
  EXPECT_EQ(rd->insn, riscv::encode_jal(0, 0x11038 - 0x10030));
  EXPECT_EQ(w2->kind, SiteKind::kNear);
  EXPECT_EQ(w2->stub, 0x11070u);
  ASSERT_EQ(l.stub_pages.size(), 1u);
  EXPECT_EQ(l.stub_pages[0].addr, 0x11000u);
  EXPECT_EQ(l.stub_pages[0].sites, (std::vector<uint64_t>{0x10010, 0x10030, 0x1004c}));
  EXPECT_TRUE(l.trap_sites.empty());

  // getpid is not replayed.
  EXPECT_EQ(l.replayed, (std::vector<size_t>{0, 2, 3}));
  EXPECT_EQ(l.replay_size, 3 * 88u + 16 + 8);

  // End: c.add at 0x10058, a counted end. The file keeps the instruction
  // (the runtime arms its breakpoint after the last event); a compressed
  // instruction takes no pass stub.
  EXPECT_EQ(l.end_kind, HWS_END_COUNTED);
  EXPECT_EQ(l.end_pc, 0x10058u);
  EXPECT_EQ(l.end_insn, 0x9952u);
  EXPECT_EQ(l.end_insn_len, 2u);
  EXPECT_EQ(l.end_next_pc, 0x1005au);
  EXPECT_EQ(l.end_stub, 0u);
  ASSERT_EQ(l.patches.size(), 4u);
  for (const CodePatch& c : l.patches) EXPECT_NE(c.addr, 0x10058u);

  // Code page (r-x + w for the end breakpoint) and the stub page (rwx) merge.
  ASSERT_EQ(l.regions.size(), 3u);
  EXPECT_EQ(l.regions[0].addr, 0x10000u);
  EXPECT_EQ(l.regions[0].size, 0x2000u);
  EXPECT_EQ(l.regions[0].prot, 7u);
  EXPECT_EQ(l.regions[1].addr, 0x20000u);
  EXPECT_EQ(l.regions[1].size, 0x1000u);
  EXPECT_EQ(l.regions[1].prot, 3u);
  EXPECT_EQ(l.regions[2].addr, 0x7ff000u);
  EXPECT_EQ(l.regions[2].prot, 3u);
  EXPECT_TRUE(l.regions[2].zero);  // zeros at the start: the shared zero block

  // Runtime at 4 GiB, config block above its memory image (0x3000), at
  // its file offset's place in a page (0x1800 % 0x1000).
  EXPECT_EQ(l.runtime_base, 0x100000000u);
  EXPECT_EQ(l.config_addr, 0x100003800u);
  EXPECT_EQ(l.far_entry, 0x100000200u);
  EXPECT_EQ(l.entry, 0x100000110u);

  // Config block: header (sizeof(hws_config) = 27 * 8 + 2 * 66 * 8 + 64 =
  // 0x538), 3 regions (3 * 32 = 0x60), the replay table (3 * 88 + 16 + 8 =
  // 0x120), no trap sites, 2 ranges (2 * 16 = 0x20): 0x538 + 0x60 + 0x120 +
  // 0x20 = 0x6d8, 16-byte aligned 0x6e0, where page data starts (inside
  // the block's first page, not on a page of its own).
  EXPECT_EQ(sizeof(hws_config), 0x538u);
  EXPECT_EQ(l.regions_off, 0x538u);
  EXPECT_EQ(l.replay_off, 0x598u);
  EXPECT_EQ(l.trap_sites_off, 0x6b8u);
  EXPECT_EQ(l.digest_off, 0x6b8u);
  EXPECT_EQ(l.page_data_off, 0x6e0u);
  // Code + stub region (2 pages), then the data page; the stack page is all
  // zero: no data.
  EXPECT_EQ(l.regions[0].data_off, 0x6e0u);
  EXPECT_EQ(l.regions[1].data_off, 0x26e0u);  // 0x6e0 + 0x2000
  EXPECT_EQ(l.regions[2].data_off, HWS_NO_DATA);
  EXPECT_EQ(l.config_size, 0x36e0u);

  // File: the runtime (0x1800 bytes) at offset 0, its first
  // HWS_HEADER_RESERVE bytes holding the ELF headers; the config block
  // right after it at 0x1800 (no padding to a page); 0x1800 + 0x36e0 bytes
  // in all.
  EXPECT_EQ(l.runtime_file_off, 0x0u);
  EXPECT_EQ(l.config_file_off, 0x1800u);
  EXPECT_EQ(l.file_size, 0x4ee0u);
}

TEST(SliceLayout, FourByteEndAndTrapSites) {
  const SliceLayout l = layout_ok(make_spec(End::kLoopStore), SliceOptions{.near_stubs = false, .sparse_pages = false});
  EXPECT_EQ(l.end_pc, 0x1005au);
  EXPECT_EQ(l.end_insn, 0x01243823u);
  EXPECT_EQ(l.end_insn_len, 4u);
  EXPECT_EQ(l.end_next_pc, 0x1005eu);
  EXPECT_TRUE(l.stub_pages.empty());
  EXPECT_EQ(l.trap_sites, (std::vector<uint64_t>{0x10010, 0x10030, 0x1004c}));
  for (const SitePlan& s : l.sites)
    EXPECT_EQ(s.insn, s.kind == SiteKind::kInPlace ? 0x4d200513u : riscv::kEbreak) << std::hex << s.pc;
  ASSERT_EQ(l.regions.size(), 3u);
  EXPECT_EQ(l.regions[0].size, 0x1000u);
  EXPECT_EQ(l.regions[0].prot, 7u);
  EXPECT_EQ(l.trap_sites_off, l.replay_off + l.replay_size);
  EXPECT_EQ(l.digest_off, l.trap_sites_off + 3 * 8);
}

TEST(SliceLayout, SyscallEnd) {
  const SliceSpec spec = make_spec(End::kExit);
  const SliceLayout l = layout_ok(spec);
  EXPECT_EQ(l.end_kind, HWS_END_SYSCALL);
  EXPECT_EQ(l.end_pc, test_program::kSiteExit);
  const SitePlan* exit = site_at(l, test_program::kSiteExit);
  ASSERT_TRUE(exit);
  EXPECT_TRUE(exit->end);
  EXPECT_EQ(exit->kind, SiteKind::kNear);
  // The exit call would fit in place (ret 0, no writes) but ends the slice:
  // it is the last replay-table entry.
  EXPECT_EQ(l.replayed, (std::vector<size_t>{0, 2, 3, 4}));
  // No breakpoint is patched for a syscall end: the code page stays r-x and
  // does not merge with the stub page.
  ASSERT_EQ(l.regions.size(), 4u);
  EXPECT_EQ(l.regions[0].prot, 5u);
  EXPECT_EQ(l.regions[1].addr, 0x11000u);
  EXPECT_EQ(l.regions[1].prot, 7u);
  EXPECT_EQ(l.patches.size(), 5u);
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->summary.replay_entries, 4u);
  EXPECT_EQ(f->summary.replayed_calls, 3u);  // the exit is reached, not applied
}

// --- Site decisions ----------------------------------------------------------

TEST(SliceLayout, InPlaceOnlyForOneSmallResultWithoutEffects) {
  SliceSpec s = ecall_spec({
      {0x10100, 172, 0, 7},                 // A: same ret twice -> in place
      {0x10100, 172, 0, 7},
      {0x10200, 172, 0, 7},                 // B: rets differ -> near
      {0x10200, 172, 0, 8},
      {0x10300, 57, 0, 2047},               // C: 2047 -> in place
      {0x10400, 57, 0, 2048},               // D: 2048 -> near
      {0x10500, 57, 0, uint64_t(-2048)},    // E: -2048 -> in place
      {0x10600, 57, 0, uint64_t(-2049)},    // F: -2049 -> near
      {0x10700, 64, 1, 3},                  // G: write to stdout: echo -> near
      {0x10800, 66, 2, 3},                  // H: writev to stderr: echo -> near
      {0x10900, 64, 3, 3},                  // I: write to fd 3 -> in place
      {0x10a00, 63, 0, 4},                  // J: read with a write -> near
  });
  s.syscalls.back().writes.push_back({0x10f00, {1, 2, 3, 4}});
  const SliceLayout l = layout_ok(s);
  auto kind = [&](uint64_t pc) { return site_at(l, pc)->kind; };
  EXPECT_EQ(kind(0x10100), SiteKind::kInPlace);
  EXPECT_EQ(site_at(l, 0x10100)->calls, 2u);
  EXPECT_EQ(site_at(l, 0x10100)->insn, 0x00700513u);
  EXPECT_EQ(kind(0x10200), SiteKind::kNear);
  EXPECT_EQ(kind(0x10300), SiteKind::kInPlace);
  EXPECT_EQ(site_at(l, 0x10300)->insn, 0x7ff00513u);
  EXPECT_EQ(kind(0x10400), SiteKind::kNear);
  EXPECT_EQ(kind(0x10500), SiteKind::kInPlace);
  EXPECT_EQ(site_at(l, 0x10500)->value, -2048);
  EXPECT_EQ(site_at(l, 0x10500)->insn, 0x80000513u);
  EXPECT_EQ(kind(0x10600), SiteKind::kNear);
  EXPECT_EQ(kind(0x10700), SiteKind::kNear);
  EXPECT_EQ(kind(0x10800), SiteKind::kNear);
  EXPECT_EQ(kind(0x10900), SiteKind::kInPlace);
  EXPECT_EQ(kind(0x10a00), SiteKind::kNear);
  EXPECT_EQ(l.replayed, (std::vector<size_t>{2, 3, 5, 7, 8, 9, 11}));
  EXPECT_EQ(l.replay_size, 7 * 88u + 16 + 8);  // 4 bytes padded to 8
}

TEST(SliceLayout, EndCallSiteIsNeverInPlace) {
  // exit at a site that also made an earlier in-place-able call.
  SliceSpec s = ecall_spec({{0x10100, 57, 0, 0}, {0x10100, 94, 0, 0}});
  s.end_kind = SliceSpec::EndKind::kSyscall;
  s.end_regs.pc = 0x10100;
  const SliceLayout l = layout_ok(s);
  ASSERT_EQ(l.sites.size(), 1u);
  EXPECT_TRUE(l.sites[0].end);
  EXPECT_EQ(l.sites[0].kind, SiteKind::kNear);
  EXPECT_EQ(l.replayed, (std::vector<size_t>{0, 1}));
}

// --- Stub pages --------------------------------------------------------------

TEST(SliceLayout, StubGoesToTheNearestFreePage) {
  // Pages at 0x10000..0x12000 (code in the middle one), 0x14000: the nearest
  // free pages are 0x13000 above and 0x10000-... below is taken, so 0x13000.
  SliceSpec s = ecall_spec({{0x11100, 57, 0, 5000}}, 0x11000);
  s.pages.insert(s.pages.begin(), {0x10000, 3, true, false, false, false, std::vector<uint8_t>(4096)});
  s.pages.push_back({0x12000, 3, true, false, false, false, std::vector<uint8_t>(4096)});
  s.pages.push_back({0x14000, 3, true, false, false, false, std::vector<uint8_t>(4096)});
  EXPECT_EQ(layout_ok(s).sites[0].stub, 0x13000u);
  // With 0x13000 taken too, the page below the lowest one wins over 0x15000
  // only if nearer: 0x0f000 is below kMinMapAddr, so 0x15000.
  s.pages.insert(s.pages.begin() + 3, {0x13000, 3, true, false, false, false, std::vector<uint8_t>(4096)});
  EXPECT_EQ(layout_ok(s).sites[0].stub, 0x15000u);
}

TEST(SliceLayout, StubTieGoesAboveAndMappingsDoNotBlockStubs) {
  SliceSpec s = ecall_spec({{0x40100, 57, 0, 5000}}, 0x40000);
  s.mappings = {{0x30000, 0x50000, "/bin/prog"}};  // untouched parts are usable
  EXPECT_EQ(layout_ok(s).sites[0].stub, 0x41000u);
  s.pages.push_back({0x41000, 3, true, false, false, false, std::vector<uint8_t>(4096)});
  EXPECT_EQ(layout_ok(s).sites[0].stub, 0x3f000u);
}

TEST(SliceLayout, SeventyThreeStubsPerPage) {
  std::vector<Call> calls;
  for (uint64_t i = 0; i < 74; ++i) calls.push_back({0x10000 + 8 * i, 57, 0, 5000});
  const SliceLayout l = layout_ok(ecall_spec(calls));
  ASSERT_EQ(l.stub_pages.size(), 2u);
  EXPECT_EQ(l.stub_pages[0].addr, 0x11000u);
  EXPECT_EQ(l.stub_pages[0].sites.size(), 73u);
  EXPECT_EQ(l.stub_pages[1].addr, 0x12000u);
  EXPECT_EQ(site_at(l, 0x10000 + 8 * 72)->stub, 0x11000u + 72 * 56);
  EXPECT_EQ(site_at(l, 0x10000 + 8 * 73)->stub, 0x12000u);
  ASSERT_EQ(l.regions.size(), 1u);  // code page r-x + w (end), stubs rwx: all 7
  EXPECT_EQ(l.regions[0].size, 0x3000u);
}

TEST(SliceLayout, NoFreePageInJalRangeMakesATrapSite) {
  // Pages fill [0x10000, 0x110000); below is under kMinMapAddr. The first
  // free page is 0x110000: from 0x10010 the stub's jal back to 0x10014 is
  // -0x100004, out of range; from 0x10020 both jumps fit.
  SliceSpec s = ecall_spec({{0x10010, 57, 0, 5000}, {0x10020, 57, 0, 5000}});
  for (uint64_t a = 0x11000; a < 0x110000; a += 0x1000)
    s.pages.push_back({a, 3, true, false, false, false, std::vector<uint8_t>(4096)});
  const SliceLayout l = layout_ok(s);
  EXPECT_EQ(site_at(l, 0x10010)->kind, SiteKind::kTrap);
  EXPECT_EQ(site_at(l, 0x10010)->insn, 0x00100073u);
  EXPECT_EQ(site_at(l, 0x10020)->kind, SiteKind::kNear);
  EXPECT_EQ(site_at(l, 0x10020)->stub, 0x110000u);
  EXPECT_EQ(site_at(l, 0x10020)->insn, 0x7e1ff06fu);  // jal x0, +0xfffe0
  EXPECT_EQ(l.trap_sites, (std::vector<uint64_t>{0x10010}));
  EXPECT_EQ(l.replayed.size(), 2u);
}

// --- Counter reads ------------------------------------------------------------

// ecall_spec with an rdtime t0 (csrrs x5, time, x0) at 0x10040, read twice
// between the calls.
SliceSpec counter_spec() {
  SliceSpec s = ecall_spec({{0x10010, 172, 0, 77}, {0x10020, 64, 1, 5}});
  const uint32_t rdtime_t0 = 0xc01022f3;
  std::memcpy(&s.pages[0].data[0x40], &rdtime_t0, 4);
  SyscallRecord first = counter_read_call(CounterRecord{0x10040, "time", 5, 0x123456789}, 1);
  SyscallRecord second = counter_read_call(CounterRecord{0x10040, "time", 5, 0x12345678a}, 1);
  s.syscalls.insert(s.syscalls.begin() + 1, first);
  s.syscalls.push_back(second);
  return s;
}

TEST(SliceLayout, CounterReadSitesAreAlwaysTrapSites) {
  const SliceLayout l = layout_ok(counter_spec());
  ASSERT_NE(site_at(l, 0x10040), nullptr);
  EXPECT_EQ(site_at(l, 0x10040)->kind, SiteKind::kTrap);
  EXPECT_TRUE(site_at(l, 0x10040)->counter);
  EXPECT_EQ(site_at(l, 0x10040)->insn, 0x00100073u);
  EXPECT_EQ(site_at(l, 0x10040)->calls, 2u);
  EXPECT_EQ(site_at(l, 0x10010)->kind, SiteKind::kInPlace);  // getpid, 77 each time
  EXPECT_EQ(site_at(l, 0x10020)->kind, SiteKind::kNear);
  EXPECT_EQ(l.trap_sites, (std::vector<uint64_t>{0x10040}));
  EXPECT_EQ(l.replayed, (std::vector<size_t>{1, 2, 3}));  // the in-place getpid has no entry
}

TEST(SliceFileBytes, CounterReadEntriesInTheReplayTable) {
  auto f = write_slice(counter_spec(), fake_rt(), kWholePages);
  ASSERT_TRUE(f) << f.error().message();
  const std::vector<uint8_t>& b = f->bytes;
  const uint64_t cfg = 0x1800;
  const auto c = read_at<hws_config>(b, cfg);
  ASSERT_EQ(c.calls_count, 3u);
  const auto e1 = read_at<hws_call>(b, cfg + c.replay_off);
  EXPECT_EQ(e1.flags, HWS_CALL_COUNTER);
  EXPECT_EQ(e1.nr, 0xc01u);
  EXPECT_EQ(e1.site, 0x10040u);
  EXPECT_EQ(e1.args[0], 5u);
  EXPECT_EQ(e1.ret, 0x123456789u);
  EXPECT_EQ(e1.nwrites, 0u);
  const auto e2 = read_at<hws_call>(b, cfg + c.replay_off + sizeof(hws_call));
  EXPECT_EQ(e2.flags, HWS_CALL_ECHO);  // write(1, ...)
  EXPECT_EQ(e2.nr, 64u);
  const auto e3 = read_at<hws_call>(b, cfg + c.replay_off + 2 * sizeof(hws_call));
  EXPECT_EQ(e3.flags, HWS_CALL_COUNTER);
  EXPECT_EQ(e3.ret, 0x12345678au);
  EXPECT_EQ(f->summary.counter_sites, 1u);
  EXPECT_EQ(f->summary.counter_reads, 2u);
  EXPECT_EQ(f->summary.trap_sites, 1u);
}

TEST(SliceLayout, CounterReadMustMatchTheInstruction) {
  SliceSpec wrong_rd = counter_spec();
  wrong_rd.syscalls[1].args[0] = 6;
  EXPECT_EQ(layout_error(wrong_rd), "rdtime at pc 0x10040: the instruction there is not that read into x6");
  SliceSpec on_nop = counter_spec();
  for (SyscallRecord& r : on_nop.syscalls)
    if (is_counter_read(r)) r.pc = 0x10044;
  EXPECT_EQ(layout_error(on_nop), "rdtime at pc 0x10044: the instruction there is not that read into x5");
  SliceSpec mixed = counter_spec();
  mixed.syscalls[1].pc = 0x10020;  // the write's ecall
  EXPECT_NE(layout_error(mixed).find("holds both a counter read and a syscall"), std::string::npos)
      << layout_error(mixed);
}

// --- Zero pages -----------------------------------------------------------------

SliceSpec zero_pages_spec() {
  SliceSpec s = ecall_spec({});
  auto page = [&](uint64_t addr, bool zero) {
    std::vector<uint8_t> data(4096, 0);
    if (!zero) data[100] = static_cast<uint8_t>(addr >> 12);
    s.pages.push_back({addr, 3, true, true, false, false, data});
  };
  page(0x20000, false);
  page(0x21000, true);
  page(0x22000, true);
  page(0x23000, false);
  page(0x30000, true);
  return s;
}

TEST(SliceLayout, ZeroPagesHaveNoData) {
  const SliceLayout l = layout_ok(zero_pages_spec());
  ASSERT_EQ(l.regions.size(), 5u);
  // Code page (r-x + w for the end) first.
  EXPECT_EQ(l.regions[0].addr, 0x10000u);
  EXPECT_EQ(l.regions[0].prot, 7u);
  EXPECT_EQ(l.regions[1].addr, 0x20000u);
  EXPECT_FALSE(l.regions[1].zero);
  EXPECT_EQ(l.regions[2].addr, 0x21000u);
  EXPECT_EQ(l.regions[2].size, 0x2000u);
  EXPECT_TRUE(l.regions[2].zero);
  EXPECT_EQ(l.regions[3].addr, 0x23000u);
  EXPECT_FALSE(l.regions[3].zero);
  EXPECT_EQ(l.regions[4].addr, 0x30000u);
  EXPECT_TRUE(l.regions[4].zero);
  // Page data after the header (0x538) and 5 regions (5 * 32 = 0xa0); no
  // calls, trap sites or digest ranges: 0x5d8, 16-byte aligned 0x5e0.
  // Content: code, 0x20000, 0x23000; the zero regions have none.
  EXPECT_EQ(l.page_data_off, 0x5e0u);
  EXPECT_EQ(l.regions[0].data_off, 0x5e0u);
  EXPECT_EQ(l.regions[1].data_off, 0x15e0u);
  EXPECT_EQ(l.regions[3].data_off, 0x25e0u);
  EXPECT_EQ(l.regions[2].data_off, HWS_NO_DATA);
  EXPECT_EQ(l.regions[4].data_off, HWS_NO_DATA);
  EXPECT_EQ(l.config_size, 0x35e0u);

  auto f = write_slice(zero_pages_spec(), fake_rt(), kWholePages);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->summary.zero_pages, 3u);
  EXPECT_EQ(l.config_file_off, 0x1800u);
  EXPECT_EQ(l.file_size, 0x4de0u);  // 0x1800 + 0x35e0
  EXPECT_EQ(f->bytes.size(), l.file_size);
  const uint64_t cfg = l.config_file_off;
  EXPECT_EQ(f->bytes[cfg + 0x15e0 + 100], 0x20);
  EXPECT_EQ(f->bytes[cfg + 0x25e0 + 100], 0x23);
}

TEST(SliceLayout, ZeroPagesStayWithContentInsideADigestRange) {
  SliceSpec s = zero_pages_spec();
  s.digest_ranges = {{0x21000, 0x23000, ""}};  // only zero pages: still split at 0x21000 and 0x23000
  EXPECT_EQ(layout_ok(s).regions.size(), 5u);
  s.digest_ranges = {{0x20800, 0x21800, ""}};  // crosses 0x21000: 0x20000-0x22000 is one content region
  SliceLayout l = layout_ok(s);
  ASSERT_EQ(l.regions.size(), 5u);
  EXPECT_EQ(l.regions[1].addr, 0x20000u);
  EXPECT_EQ(l.regions[1].size, 0x2000u);
  EXPECT_FALSE(l.regions[1].zero);
  EXPECT_EQ(l.regions[2].addr, 0x22000u);
  EXPECT_TRUE(l.regions[2].zero);
  s.digest_ranges = {{0x20000, 0x24000, ""}};  // across all four: one region
  l = layout_ok(s);
  ASSERT_EQ(l.regions.size(), 3u);
  EXPECT_EQ(l.regions[1].size, 0x4000u);
  EXPECT_FALSE(l.regions[1].zero);
  SliceOptions plain = kWholePages;
  plain.share_zero_pages = false;
  l = layout_ok(zero_pages_spec(), plain);
  ASSERT_EQ(l.regions.size(), 3u);
  EXPECT_EQ(l.regions[1].size, 0x4000u);
  // Header 0x538, 3 regions 0x60 (0x598, 16-byte aligned 0x5a0), then 6
  // pages of data: 0x5a0 + 0x6000.
  EXPECT_EQ(l.page_data_off, 0x5a0u);
  EXPECT_EQ(l.config_size, 0x65a0u);
}

// --- Sparse pages --------------------------------------------------------------

// Program memory as the runtime sets it up from a slice file: every region's
// data copied in place, then the fills (runtime.c map_regions).
std::map<uint64_t, std::vector<uint8_t>> loaded_pages(const std::vector<uint8_t>& b) {
  const uint64_t cfg = read_at<Elf64_Phdr>(b, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr)).p_offset;
  const auto c = read_at<hws_config>(b, cfg);
  std::map<uint64_t, std::vector<uint8_t>> mem;
  for (uint64_t i = 0; i < c.regions_count; ++i) {
    const auto r = read_at<hws_region>(b, cfg + c.regions_off + i * sizeof(hws_region));
    for (uint64_t a = 0; a < r.size; a += 4096) {
      if (r.data_off == HWS_NO_DATA) {
        mem[r.addr + a].assign(4096, 0);
        continue;
      }
      mem[r.addr + a].assign(b.begin() + static_cast<long>(cfg + r.data_off + a),
                             b.begin() + static_cast<long>(cfg + r.data_off + a + 4096));
    }
  }
  uint64_t off = cfg + c.fills_off;
  for (uint64_t i = 0; i < c.fills_count; ++i) {
    const auto w = read_at<hws_write>(b, off);
    for (uint64_t k = 0; k < w.size; ++k) mem.at((w.addr + k) & ~4095ull)[(w.addr + k) & 4095] = b[off + 16 + k];
    off += 16 + (w.size + 7) / 8 * 8;
  }
  return mem;
}

TEST(SliceLayout, SparsePagesBecomeFillsOverTheZeroBlock) {
  SliceSpec s = zero_pages_spec();
  SlicePage dense{0x40000, 3, true, true, false, false, std::vector<uint8_t>(4096, 0x5a)};
  s.pages.push_back(dense);
  SlicePage runs{0x41000, 3, true, true, false, false, std::vector<uint8_t>(4096, 0)};
  runs.data[0] = 1;
  runs.data[15] = 2;  // 14 zeros between: one run 0..15
  runs.data[40] = 3;  // 24 zeros after 15: a run of its own
  s.pages.push_back(runs);
  const SliceLayout l = layout_ok(s, SliceOptions{});
  // 0x20000..0x24000: two pages of zeros and two with one byte each, one
  // region of zeros. The code page (nops throughout) stays whole.
  bool found_20 = false;
  for (const RegionPlan& r : l.regions) {
    if (r.addr == 0x20000) {
      found_20 = true;
      EXPECT_EQ(r.size, 0x4000u);
      EXPECT_TRUE(r.zero);
    }
    if (r.addr == 0x40000) {
      EXPECT_EQ(r.size, 0x1000u);  // the dense page: whole, not merged with 0x41000
      EXPECT_FALSE(r.zero);
    }
  }
  EXPECT_TRUE(found_20);
  std::vector<std::pair<uint64_t, uint64_t>> fills;
  for (const FillPlan& f : l.fills) fills.emplace_back(f.addr, f.size);
  EXPECT_EQ(fills, (std::vector<std::pair<uint64_t, uint64_t>>{{0x20064, 1}, {0x23064, 1}, {0x41000, 16}, {0x41028, 1}}));
  EXPECT_EQ(l.fills_off, l.digest_off);  // no digest ranges
  EXPECT_EQ(l.page_data_off, (l.fills_off + l.fills_size + 15) / 16 * 16);

  // The memory the runtime builds is the same with and without fills, the
  // site rewrites and end breakpoint included; the file is smaller.
  auto sparse = write_slice(s, fake_rt());
  auto whole = write_slice(s, fake_rt(), kWholePages);
  ASSERT_TRUE(sparse && whole);
  EXPECT_EQ(loaded_pages(sparse->bytes), loaded_pages(whole->bytes));
  // Three pages of data fewer and one region fewer (0x20000..0x24000 is
  // one region of zeros), 104 bytes of fills (3 one-byte runs of 16 + 8,
  // one 16-byte run of 16 + 16); page data 16-byte aligned after the
  // header (0x538): 8 bytes of padding in the whole file, none in the
  // sparse one (0x538 + 104 = 0x5a0).
  EXPECT_EQ(l.fills_size, 104u);
  EXPECT_EQ(sparse->summary.regions + 1, whole->summary.regions);
  EXPECT_EQ(whole->bytes.size() - sparse->bytes.size(), 3 * 4096u + 32 - 104 + 8);
  EXPECT_EQ(sparse->summary.sparse_pages, 3u);  // 0x20000, 0x23000, 0x41000
  EXPECT_EQ(sparse->summary.fill_bytes, 19u);
}

TEST(SliceLayout, SparsePageCrossedByADigestRangeIsStoredWhole) {
  SliceSpec s = zero_pages_spec();
  SlicePage dense{0x24000, 3, true, true, false, false, std::vector<uint8_t>(4096, 0x5a)};
  s.pages.insert(s.pages.begin() + 5, dense);  // after 0x23000, before 0x30000
  // 0x20000..0x24000 is a zero region with fills; a digest range across
  // 0x24000 puts it and the dense page in one region with content.
  SliceLayout l = layout_ok(s, SliceOptions{});
  EXPECT_EQ(l.fills.size(), 2u);
  s.digest_ranges = {{0x23800, 0x24800, ""}};
  l = layout_ok(s, SliceOptions{});
  EXPECT_TRUE(l.fills.empty());
  bool found = false;
  for (const RegionPlan& r : l.regions)
    if (r.addr == 0x20000) {
      found = true;
      EXPECT_EQ(r.size, 0x5000u);
      EXPECT_FALSE(r.zero);
    }
  EXPECT_TRUE(found);
  auto f = write_slice(s, fake_rt());
  auto w = write_slice(s, fake_rt(), kWholePages);
  ASSERT_TRUE(f && w);
  EXPECT_EQ(loaded_pages(f->bytes), loaded_pages(w->bytes));
}

// --- Runtime base ------------------------------------------------------------

TEST(SliceLayout, RuntimeBaseAvoidsMappingsPagesAndStubs) {
  SliceSpec s = make_spec(End::kLoopAdd);
  // Runtime memory (0x3000) + config block (0x36e0, see
  // HandMadeProgramSitesStubsRegions): 0x66e0 bytes, 7 pages once mapped.
  const uint64_t need = 0x3000 + 0x36e0;
  const uint64_t need_pages = 0x7000;
  s.mappings.push_back({0x100000000, 0x100004800, "/lib/x.so"});  // end rounds up to 0x100005000
  EXPECT_EQ(layout_ok(s).runtime_base, 0x100005000u);
  // A gap of exactly the pages `need` takes is used; one page less is not.
  s.mappings.push_back({0x100005000 + need_pages, 0x100020000, "[heap]"});
  EXPECT_EQ(layout_ok(s).runtime_base, 0x100005000u);
  s.mappings.back().start -= 0x1000;
  EXPECT_EQ(layout_ok(s).runtime_base, 0x100020000u);
  // ... and a mapping starting inside need's last page (0x10000b6e0 rounds
  // down to 0x10000b000) blocks it too.
  s.mappings.back().start = 0x100005000 + need;
  EXPECT_EQ(layout_ok(s).runtime_base, 0x100020000u);
  // Preferred window full: above 128 GiB next.
  s.mappings = {{0x100000000, 0x2000000000, "big"}};
  EXPECT_EQ(layout_ok(s).runtime_base, 0x2000000000u);
  // Everything up to the limit taken: the lowest hole (after the stub page
  // at 0x11000) below 4 GiB.
  s.mappings = {{0x100000000, 0x3f00000000, "huge"}};
  EXPECT_EQ(layout_ok(s).runtime_base, 0x12000u);
  s.mappings.push_back({0x12000, 0x100000000, "low"});
  const std::string err = layout_error(s);
  // need = 0x3000 (runtime) + 0x800 (the config's offset in its page) +
  // 0x36e0 (config block) = 0x6ee0 = 28384 bytes.
  EXPECT_EQ(err, "no hole of 28384 bytes below 0x3f00000000 for the runtime and config block");
}

// --- Errors --------------------------------------------------------------------

TEST(SliceLayout, ContractViolationsAreErrors) {
  SliceSpec s = make_spec(End::kLoopAdd);
  s.syscalls[2].pc = 0x10034;
  EXPECT_EQ(layout_error(s), "syscall 2 (read) at pc 0x10034: the instruction there is 'ld s4, 0x40(s0)', not ecall");

  s = make_spec(End::kLoopAdd);
  s.syscalls[0].pc = 0x30000;
  EXPECT_EQ(layout_error(s), "syscall 0 (write) at pc 0x30000: the ecall is not in the slice's pages");

  s = make_spec(End::kLoopAdd);
  s.end_regs.pc = 0x1005e;
  EXPECT_EQ(layout_error(s).substr(0, 31), "the end pc 0x1005e holds 'blt s");

  s = make_spec(End::kLoopAdd);
  s.end_regs.pc = test_program::kSiteRead;
  EXPECT_EQ(layout_error(s),
            "the end pc 0x10030 holds 'ecall': the end must be a straight-line instruction (not a jump, branch, "
            "ecall or ebreak)");

  s = make_spec(End::kLoopAdd);
  s.end_regs.pc = 0x50000;
  EXPECT_EQ(layout_error(s), "the end pc 0x50000 is not in the slice's pages");

  s = make_spec(End::kLoopAdd);
  std::swap(s.pages[0], s.pages[1]);
  EXPECT_EQ(layout_error(s), "pages are not sorted and unique: 0x10000 follows 0x20000");

  s = make_spec(End::kLoopAdd);
  s.pages[1].data.resize(100);
  EXPECT_EQ(layout_error(s), "page 0x20000 has 100 bytes of content, not 4096");

  s = make_spec(End::kLoopAdd);
  s.start_regs.pc = 0x90000;
  EXPECT_EQ(layout_error(s), "the start pc 0x90000 is not in the slice's pages");

  s = make_spec(End::kExit);
  s.end_regs.pc += 4;
  EXPECT_EQ(layout_error(s), "the end registers' pc 0x1006e is not where the end event leaves it, 0x1006a");

  s = make_spec(End::kLoopAdd);
  s.end_stack_len = 0x801;  // one byte past the stack page
  s.end_stack_hash = 1;
  EXPECT_EQ(layout_error(s), "the end stack 0x7ff800 (2049 bytes) is not in the slice's pages");

  s = make_spec(End::kExit);
  s.syscalls.clear();
  EXPECT_EQ(layout_error(s), "the slice ends at an event but has none");
}

TEST(SliceLayout, RuntimeSetUpChecksAreWriterErrors) {
  // A digest range across pages of different protections (two regions).
  SliceSpec s = make_spec(End::kLoopAdd);
  s.pages.insert(s.pages.begin() + 2, {0x21000, 1, true, false, false, false, std::vector<uint8_t>(4096)});
  s.digest_ranges[0].end = 0x22000;
  EXPECT_EQ(layout_error(s),
            "digest range 0x20000-0x22000 is not inside one readable region (pages of different protections must "
            "be separate ranges)");
  s.pages[2].prot = 3;  // same protection: one region, fine
  EXPECT_TRUE(layout_slice(s, fake_rt()));

  // A digest range over rewritten code.
  s = make_spec(End::kLoopAdd);
  s.digest_ranges.insert(s.digest_ranges.begin(), {0x10000, 0x10020, ""});
  EXPECT_EQ(layout_error(s), "digest range 0x10000-0x10020 covers the rewritten ecall at 0x10010: its digest could "
                             "never match");
  // ... but the end, which the runtime arms itself and removes before it
  // digests, is no rewrite in the file.
  s.digest_ranges[0] = {0x10050, 0x10060, ""};
  EXPECT_TRUE(layout_slice(s, fake_rt()));

  // The end's successor must be mapped: end at the last halfword of a page.
  s = make_spec(End::kLoopAdd);
  const uint16_t cnop = 0x0001;
  std::memcpy(&s.pages[0].data[0xffe], &cnop, 2);
  s.end_regs.pc = 0x10ffe;
  EXPECT_EQ(layout_error(s), "the instruction after the end pc, at 0x11000, is on a page that is not in the slice's "
                             "pages (the runtime needs it for its breakpoint)");
}

TEST(SliceLayout, RuntimeImageMustLeaveItsHeaderAreaFree) {
  // The ELF headers are written over the image's first HWS_HEADER_RESERVE
  // bytes: they must be zero, inside the file bytes, and hold no entry.
  const SliceSpec spec = make_spec(End::kLoopAdd);
  std::vector<uint8_t> bytes(fake_rt().bytes, fake_rt().bytes + fake_rt().file_size);
  runtime::Image rt = fake_rt();
  rt.bytes = bytes.data();
  ASSERT_TRUE(layout_slice(spec, rt));

  bytes[HWS_HEADER_RESERVE - 1] = 1;
  auto l = layout_slice(spec, rt);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message(), "the runtime image does not start with its reserved header area");
  bytes[HWS_HEADER_RESERVE - 1] = 0;

  rt.entry_offset = 0x10;
  l = layout_slice(spec, rt);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message(),
            "the runtime image is inconsistent: file size 6144, memory size 12288, entry 0x10, far entry 0x200");
  rt.entry_offset = 0x110;
  rt.far_offset = HWS_HEADER_RESERVE - 8;
  EXPECT_FALSE(layout_slice(spec, rt));
  rt.far_offset = 0x200;

  // Fewer file bytes than the header area: the config block would start at
  // file offset 0 (0 rounded up to a page) on top of the headers.
  rt.file_size = 0;
  l = layout_slice(spec, rt);
  ASSERT_FALSE(l);
  EXPECT_EQ(l.error().message(),
            "the runtime image is inconsistent: file size 0, memory size 12288, entry 0x110, far entry 0x200");
  rt.file_size = HWS_HEADER_RESERVE - 1;
  EXPECT_FALSE(layout_slice(spec, rt));
  rt.file_size = HWS_HEADER_RESERVE;
  EXPECT_TRUE(layout_slice(spec, rt));
}

// --- Config block and file -------------------------------------------------------

TEST(SliceConfig, EveryField) {
  const SliceSpec spec = make_spec(End::kLoopAdd);
  const SliceLayout l = layout_ok(spec);
  const hws_config c = make_config(spec, l);
  EXPECT_EQ(c.magic, HWS_MAGIC);
  EXPECT_EQ(c.version, 5u);
  EXPECT_EQ(c.flags, HWS_F_EXACT);
  EXPECT_EQ(c.start, 1000u);
  EXPECT_EQ(c.end, 1030u);
  EXPECT_EQ(c.regions_off, l.regions_off);
  EXPECT_EQ(c.regions_count, 3u);
  EXPECT_EQ(c.replay_off, l.replay_off);
  EXPECT_EQ(c.replay_size, l.replay_size);
  EXPECT_EQ(c.calls_count, 3u);
  EXPECT_EQ(c.trap_sites_off, l.trap_sites_off);
  EXPECT_EQ(c.trap_sites_count, 0u);
  EXPECT_EQ(c.digest_off, l.digest_off);
  EXPECT_EQ(c.digest_count, 2u);
  EXPECT_EQ(c.expected_digest, spec.digest);
  EXPECT_EQ(c.fills_off, l.fills_off);
  EXPECT_EQ(c.fills_count, 0u);  // whole pages
  EXPECT_EQ(c.end_kind, HWS_END_COUNTED);
  EXPECT_EQ(c.end_pc, 0x10058u);
  EXPECT_EQ(c.end_insn, 0x9952u);
  EXPECT_EQ(c.end_insn_len, 2u);
  EXPECT_EQ(c.end_next_pc, 0x1005au);
  EXPECT_EQ(c.end_pass, 0u);
  EXPECT_EQ(c.end_stub, 0u);  // a compressed end instruction: the breakpoint
  EXPECT_EQ(c.start_regs.pc, 0x10000u);
  EXPECT_EQ(c.start_regs.x[0], 0u);
  EXPECT_EQ(c.start_regs.x[2], test_program::kSp);
  EXPECT_EQ(c.start_regs.x[31], 0xdeadbeefcafef00du);
  EXPECT_EQ(c.start_regs.f[1], 0x400921fb54442d18u);
  EXPECT_EQ(c.start_regs.fcsr, 0x20u);
  EXPECT_EQ(c.end_regs.pc, 0x10058u);
  EXPECT_EQ(c.end_regs.x[9], 3u);
  EXPECT_EQ(c.end_regs.x[18], 2 * test_program::kReadValue);
  EXPECT_EQ(c.end_regs.x[10], 4u);
  EXPECT_STREQ(c.name, "1000-1030");

  EXPECT_EQ(c.end_stack_len, 0u);
  EXPECT_EQ(c.end_stack_hash, 0u);

  SliceSpec inexact = spec;
  inexact.exact = false;
  EXPECT_EQ(make_config(inexact, l).flags, 0u);

  // The end stack: up to the end of the stack page, with its hash.
  SliceSpec stack = spec;
  stack.end_stack_len = 0x800;
  stack.end_stack_hash = 0x1234abcd;
  const hws_config cs = make_config(stack, layout_ok(stack));
  EXPECT_EQ(cs.end_stack_len, 0x800u);
  EXPECT_EQ(cs.end_stack_hash, 0x1234abcdu);
  // A syscall end has no stack check.
  SliceSpec exit_end = make_spec(End::kExit);
  exit_end.end_stack_len = 16;
  exit_end.end_stack_hash = 1;
  EXPECT_EQ(make_config(exit_end, layout_ok(exit_end)).end_stack_len, 0u);
}

TEST(SliceFileBytes, ElfHeadersAndSegments) {
  // Layout worked out in HandMadeProgramSitesStubsRegions: the runtime
  // (0x1800 bytes) at file offset 0, the config block (0x36e0 bytes) right
  // after it at 0x1800.
  const SliceSpec spec = make_spec(End::kLoopAdd);
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f) << f.error().message();
  const std::vector<uint8_t>& b = f->bytes;
  ASSERT_EQ(b.size(), 0x4ee0u);
  const auto eh = read_at<Elf64_Ehdr>(b, 0);
  EXPECT_EQ(std::memcmp(eh.e_ident, "\x7f" "ELF\x02\x01\x01\x00", 8), 0);
  EXPECT_EQ(eh.e_type, ET_EXEC);
  EXPECT_EQ(eh.e_machine, 243);
  EXPECT_EQ(eh.e_flags, 5u);
  EXPECT_EQ(eh.e_entry, 0x100000110u);  // runtime_base + entry offset 0x110
  EXPECT_EQ(eh.e_phoff, 64u);
  EXPECT_EQ(eh.e_phnum, 3);
  EXPECT_EQ(eh.e_shnum, 0);
  const auto rt = read_at<Elf64_Phdr>(b, 64);
  EXPECT_EQ(rt.p_type, PT_LOAD);
  EXPECT_EQ(rt.p_flags, PF_R | PF_W | PF_X);
  EXPECT_EQ(rt.p_offset, 0u);
  EXPECT_EQ(rt.p_vaddr, 0x100000000u);
  EXPECT_EQ(rt.p_filesz, 0x1800u);
  EXPECT_EQ(rt.p_memsz, 0x3000u);
  EXPECT_EQ(rt.p_align, 0x1000u);
  const auto cfg = read_at<Elf64_Phdr>(b, 64 + 56);
  EXPECT_EQ(cfg.p_type, PT_LOAD);
  EXPECT_EQ(cfg.p_flags, PF_R);
  EXPECT_EQ(cfg.p_offset, 0x1800u);      // right after the runtime's bytes
  EXPECT_EQ(cfg.p_vaddr, 0x100003800u);  // same offset in its page
  EXPECT_EQ(cfg.p_filesz, 0x36e0u);
  EXPECT_EQ(cfg.p_memsz, 0x36e0u);
  EXPECT_EQ(cfg.p_align, 0x1000u);
  const auto stack = read_at<Elf64_Phdr>(b, 64 + 112);
  EXPECT_EQ(stack.p_type, PT_GNU_STACK);
  EXPECT_EQ(stack.p_flags, PF_R | PF_W);

  // No page of headers: the runtime segment starts at file offset 0, so the
  // ELF header and the program headers (64 + 3 * 56 = 0xe8 bytes) lie inside
  // it, in the image's reserved first HWS_HEADER_RESERVE bytes, and are
  // mapped at runtime_base. Each segment's offset and address agree modulo
  // the page, as the kernel requires.
  EXPECT_EQ(rt.p_offset, 0u);
  EXPECT_LE(sizeof(Elf64_Ehdr) + eh.e_phnum * sizeof(Elf64_Phdr), uint64_t{HWS_HEADER_RESERVE});
  EXPECT_LE(eh.e_phoff + eh.e_phnum * sizeof(Elf64_Phdr), rt.p_offset + rt.p_filesz);
  EXPECT_EQ(rt.p_offset % 0x1000, rt.p_vaddr % 0x1000);
  EXPECT_EQ(cfg.p_offset % 0x1000, cfg.p_vaddr % 0x1000);
  // The rest of the reserved area stays zero, the runtime's own bytes follow
  // unchanged, and the config block starts right after them.
  for (size_t i = 0xe8; i < HWS_HEADER_RESERVE; ++i) ASSERT_EQ(b[i], 0) << i;
  EXPECT_EQ(std::memcmp(b.data() + HWS_HEADER_RESERVE, fake_rt().bytes + HWS_HEADER_RESERVE,
                        0x1800 - HWS_HEADER_RESERVE),
            0);
  EXPECT_EQ(read_at<hws_config>(b, 0x1800).magic, HWS_MAGIC);

  const SliceSummary& s = f->summary;
  EXPECT_EQ(s.file_size, 0x4ee0u);
  EXPECT_EQ(s.runtime_base, 0x100000000u);
  EXPECT_EQ(s.config_size, 0x36e0u);
  EXPECT_EQ(s.program_pages, 3u);
  EXPECT_EQ(s.regions, 3u);
  EXPECT_EQ(s.in_place_sites, 1u);
  EXPECT_EQ(s.near_sites, 3u);
  EXPECT_EQ(s.trap_sites, 0u);
  EXPECT_EQ(s.stub_pages, 1u);
  EXPECT_EQ(s.replay_entries, 3u);
  EXPECT_EQ(s.replayed_calls, 3u);
  EXPECT_EQ(s.zero_pages, 1u);  // the stack page
  EXPECT_EQ(s.replay_size, 3 * 88u + 24);
}

TEST(SliceFileBytes, ConfigTablesAndPageData) {
  const SliceSpec spec = make_spec(End::kLoopAdd);
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f) << f.error().message();
  const std::vector<uint8_t>& b = f->bytes;
  const uint64_t cfg = 0x1800;  // right after the runtime's 0x1800 file bytes
  const auto c = read_at<hws_config>(b, cfg);
  EXPECT_EQ(c.magic, HWS_MAGIC);
  EXPECT_STREQ(c.name, "1000-1030");

  const auto r0 = read_at<hws_region>(b, cfg + c.regions_off);
  EXPECT_EQ(r0.addr, 0x10000u);
  EXPECT_EQ(r0.size, 0x2000u);
  EXPECT_EQ(r0.prot, 7u);
  // Page data after the digest table (0x6d8), 16-byte aligned (0x6e0, see
  // HandMadeProgramSitesStubsRegions), not page aligned.
  EXPECT_EQ(r0.data_off, 0x6e0u);
  const auto r1 = read_at<hws_region>(b, cfg + c.regions_off + 32);
  EXPECT_EQ(r1.addr, 0x20000u);
  EXPECT_EQ(r1.data_off, 0x26e0u);
  const auto r2 = read_at<hws_region>(b, cfg + c.regions_off + 64);
  EXPECT_EQ(r2.addr, 0x7ff000u);
  EXPECT_EQ(r2.data_off, HWS_NO_DATA);  // the stack page: all zero
  for (const hws_region& r : {r0, r1}) {
    EXPECT_EQ(r.data_off % 16, 0u) << std::hex << r.addr;
    EXPECT_NE(r.data_off % 0x1000, 0u) << std::hex << r.addr;
  }
  EXPECT_EQ(r0.data_off, c.digest_off + c.digest_count * sizeof(hws_range) + 8);  // 8 bytes of padding

  // Replay table: write(1) echo, read with its 8 bytes, write(2) echo.
  uint64_t off = cfg + c.replay_off;
  auto call0 = read_at<hws_call>(b, off);
  EXPECT_EQ(call0.nr, 64u);
  EXPECT_EQ(call0.site, 0x10010u);
  EXPECT_EQ(call0.args[0], 1u);
  EXPECT_EQ(call0.args[1], 0x20000u);
  EXPECT_EQ(call0.args[2], 6u);
  EXPECT_EQ(call0.ret, 6u);
  EXPECT_EQ(call0.flags, HWS_CALL_ECHO);
  EXPECT_EQ(call0.nwrites, 0u);
  off += 88;
  auto call1 = read_at<hws_call>(b, off);
  EXPECT_EQ(call1.nr, 63u);
  EXPECT_EQ(call1.site, 0x10030u);
  EXPECT_EQ(call1.ret, 8u);
  EXPECT_EQ(call1.flags, 0u);
  EXPECT_EQ(call1.nwrites, 1u);
  off += 88;
  auto w = read_at<hws_write>(b, off);
  EXPECT_EQ(w.addr, 0x20040u);
  EXPECT_EQ(w.size, 8u);
  EXPECT_EQ(read_at<uint64_t>(b, off + 16), test_program::kReadValue);
  off += 24;
  auto call2 = read_at<hws_call>(b, off);
  EXPECT_EQ(call2.nr, 64u);
  EXPECT_EQ(call2.site, 0x1004cu);
  EXPECT_EQ(call2.args[0], 2u);
  EXPECT_EQ(call2.flags, HWS_CALL_ECHO);
  off += 88;
  EXPECT_EQ(off, cfg + c.trap_sites_off);

  const auto d0 = read_at<hws_range>(b, cfg + c.digest_off);
  const auto d1 = read_at<hws_range>(b, cfg + c.digest_off + 16);
  EXPECT_EQ(d0.addr, 0x20000u);
  EXPECT_EQ(d0.size, 0x1000u);
  EXPECT_EQ(d1.addr, 0x7ff000u);
  EXPECT_EQ(d1.size, 0x1000u);

  // Code page: patched sites, the rest unchanged (the end's breakpoint is
  // the runtime's to arm).
  const uint64_t code = cfg + r0.data_off;
  std::vector<uint8_t> want = test_program::code_page();
  auto put32 = [&](uint64_t pc, uint32_t v) { std::memcpy(&want[pc - 0x10000], &v, 4); };
  put32(0x10010, 0x7f10006f);                                   // jal x0, 0x11000
  put32(0x10018, 0x4d200513);                                   // addi a0, x0, 1234
  put32(0x10030, riscv::encode_jal(0, 0x11038 - 0x10030));
  put32(0x1004c, riscv::encode_jal(0, 0x11070 - 0x1004c));
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + code, b.begin() + code + 4096), want);

  // Stub page: three stubs with the far entry, then zeros.
  const uint64_t stubs = code + 0x1000;
  const uint64_t sites[3] = {0x10010, 0x10030, 0x1004c};
  for (size_t k = 0; k < 3; ++k) {
    const auto stub = near_stub_bytes(0x11000 + 56 * k, sites[k], 0x100000200);
    EXPECT_EQ(std::memcmp(b.data() + stubs + 56 * k, stub.data(), 56), 0) << k;
  }
  for (size_t i = 3 * 56; i < 4096; ++i) ASSERT_EQ(b[stubs + i], 0) << i;

  // The data page as recorded at the start, which ends the file; the stack
  // page (zeros) has no data.
  EXPECT_EQ(std::vector<uint8_t>(b.begin() + cfg + 0x26e0, b.begin() + cfg + 0x36e0), test_program::data_page());
  EXPECT_EQ(test_program::stack_page(), std::vector<uint8_t>(4096, 0));
  EXPECT_EQ(b.size(), cfg + 0x36e0);
}

TEST(SliceFileBytes, TrapSiteTableAndFourByteEnd) {
  const SliceSpec spec = make_spec(End::kLoopStore);
  auto f = write_slice(spec, fake_rt(), SliceOptions{.near_stubs = false, .sparse_pages = false});
  ASSERT_TRUE(f) << f.error().message();
  const std::vector<uint8_t>& b = f->bytes;
  const uint64_t cfg = 0x1800;  // right after the runtime's 0x1800 file bytes
  const auto c = read_at<hws_config>(b, cfg);
  ASSERT_EQ(c.trap_sites_count, 3u);
  EXPECT_EQ(read_at<uint64_t>(b, cfg + c.trap_sites_off), 0x10010u);
  EXPECT_EQ(read_at<uint64_t>(b, cfg + c.trap_sites_off + 8), 0x10030u);
  EXPECT_EQ(read_at<uint64_t>(b, cfg + c.trap_sites_off + 16), 0x1004cu);
  // Header 0x538, 3 regions (code r-x+w, data, stack; no stub page) 0x60,
  // replay table 0x120, 3 trap sites 0x18, 2 ranges 0x20: 0x6f0, 16-byte
  // aligned already: page data at 0x6f0.
  EXPECT_EQ(c.trap_sites_off, 0x6b8u);
  EXPECT_EQ(c.digest_off, 0x6d0u);
  const uint64_t code_off = read_at<hws_region>(b, cfg + c.regions_off).data_off;
  EXPECT_EQ(code_off, 0x6f0u);
  const uint64_t code = cfg + code_off;
  EXPECT_EQ(read_at<uint32_t>(b, code + 0x10), 0x00100073u);
  // The 4-byte end (a store: no pass stub) keeps its instruction in the file.
  EXPECT_EQ(read_at<uint32_t>(b, code + 0x5a), 0x01243823u);
  EXPECT_EQ(c.end_insn, 0x01243823u);
  EXPECT_EQ(c.end_stub, 0u);
  EXPECT_EQ(f->summary.trap_sites, 3u);
  EXPECT_EQ(f->summary.near_sites, 0u);
  EXPECT_EQ(f->summary.stub_pages, 0u);
}

// --- Ends at events, fault marks, signals, the pass stub ---------------------

// A fault mark (record/trace_record.h) at `pc` on `page`.
SyscallRecord mark(uint64_t pc, uint64_t page, uint64_t before, uint64_t after = kProtFinal) {
  SyscallRecord m;
  m.nr = kFaultMarkNr;
  m.name = "fault";
  m.pc = pc;
  m.args = {11, page, after, before, page + 0x40, 0};
  return m;
}

TEST(SliceEvents, CountedEndWithAPassStub) {
  // End at `ld s4, 64(s0)` (0x10034): it writes s4 without reading it.
  SliceSpec spec = make_spec(End::kLoopAdd);
  spec.end_regs.pc = 0x10034;
  const SliceLayout l = layout_ok(spec);
  EXPECT_EQ(l.end_kind, HWS_END_COUNTED);
  EXPECT_EQ(l.end_insn, 0x04043a03u);
  // The nearest free page above the code page (the near stubs take the next).
  EXPECT_EQ(l.end_stub, 0x11000u);
  EXPECT_EQ(l.stub_pages.at(0).addr, 0x12000u);
  EXPECT_EQ(l.end_stub_rd, 20u);
  EXPECT_EQ(l.end_stub_scratch, 5u);
  EXPECT_EQ(l.end_jal, riscv::encode_jal(20, 0x11000 - 0x10034));
  bool region = false;
  for (const RegionPlan& r : l.regions)
    if (r.addr <= 0x11000 && 0x11000 < r.addr + r.size) region = r.prot == 7;
  EXPECT_TRUE(region);
  // The stub's bytes (runtime/slice_abi.h, HWS_END_COUNTED).
  const auto b = end_stub_bytes(l);
  const std::vector<uint8_t> v(b.begin(), b.end());
  using namespace riscv;
  const uint32_t want[10] = {encode_auipc(20, 0),      encode_sd(5, 20, 128), encode_ld(5, 20, 136),
                             encode_addi(5, 5, -1),    encode_sd(5, 20, 136), encode_beq(5, 0, 16),
                             encode_ld(5, 20, 128),    0x04043a03u,
                             encode_jal(0, 0x10038 - 0x11020), kEbreak};
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(read_at<uint32_t>(v, 4 * i), want[i]) << i;
  for (size_t i = 40; i < v.size(); ++i) ASSERT_EQ(v[i], 0) << i;
  const hws_config c = make_config(spec, l);
  EXPECT_EQ(c.end_stub, 0x11000u);
  EXPECT_EQ(c.end_jal, l.end_jal);
  EXPECT_EQ(c.end_stub_rd, 20u);
  EXPECT_EQ(c.end_stub_scratch, 5u);
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f);
  EXPECT_TRUE(f->summary.counted_batches);
  // Every pass checked: the flag, and no batches for write_slice_checked.
  auto every = write_slice(spec, fake_rt(), SliceOptions{.sparse_pages = false, .every_pass = true});
  ASSERT_TRUE(every);
  EXPECT_FALSE(every->summary.counted_batches);
  EXPECT_TRUE(every->summary.counted_unknown_pass);
  EXPECT_EQ(read_at<hws_config>(every->bytes, 0x1800).flags, HWS_F_EXACT | HWS_F_EVERY_PASS);
  // A measured pass (slicer/slice_check.h): the config says it, nothing else
  // in the file changes, and nothing is left to measure.
  EXPECT_TRUE(f->summary.counted_unknown_pass);
  auto known = write_slice(spec, fake_rt(), SliceOptions{.sparse_pages = false, .measured_end_pass = 5123});
  ASSERT_TRUE(known);
  EXPECT_FALSE(known->summary.counted_batches);
  EXPECT_FALSE(known->summary.counted_unknown_pass);
  const hws_config kc = read_at<hws_config>(known->bytes, 0x1800);
  EXPECT_EQ(kc.end_pass, 5123u);
  EXPECT_EQ(read_at<hws_config>(f->bytes, 0x1800).end_pass, 0u);
  ASSERT_EQ(known->bytes.size(), f->bytes.size());
  size_t differing = 0;
  for (size_t i = 0; i < f->bytes.size(); ++i) differing += known->bytes[i] != f->bytes[i];
  EXPECT_GE(differing, 1u);
  EXPECT_LE(differing, 8u);  // the end_pass word only
  // Sparse pages: the stub's page is a zero region with the stub as a fill.
  const SliceLayout sl = layout_ok(spec, SliceOptions{});
  bool filled = false;
  for (const FillPlan& fp : sl.fills) filled |= fp.addr == 0x11000 && fp.size == HWS_END_STUB_SIZE;
  EXPECT_TRUE(filled);
  for (const RegionPlan& r : sl.regions)
    if (r.addr <= 0x11000 && 0x11000 < r.addr + r.size) {
      EXPECT_TRUE(r.zero);
    }
  // Without a pass stub (the option off): the breakpoint.
  EXPECT_EQ(layout_ok(spec, SliceOptions{.sparse_pages = false, .end_stub = false}).end_stub, 0u);
}

TEST(SliceEvents, FaultMarkPagesAreRegionsOfTheirOwn) {
  SliceSpec spec = make_spec(End::kLoopAdd);
  // The data page faults for reading at 0x10034 (ld s4): until then the
  // slice maps it without access.
  spec.syscalls.insert(spec.syscalls.begin() + 3, mark(0x10034, 0x20000, 0));
  const SliceLayout l = layout_ok(spec);
  bool found = false;
  for (const RegionPlan& r : l.regions)
    if (r.addr == 0x20000) {
      found = true;
      EXPECT_EQ(r.size, 0x1000u);
      EXPECT_EQ(r.prot, 0u);
    }
  EXPECT_TRUE(found);
  EXPECT_EQ(l.replayed, (std::vector<size_t>{0, 2, 3, 4}));  // the mark is replayed in order
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f) << f.error().message();
  const auto c = read_at<hws_config>(f->bytes, 0x1800);
  uint64_t off = 0x1800 + c.replay_off + 88 + 88 + 24;  // after write(1), read and its write
  const auto m = read_at<hws_call>(f->bytes, off);
  EXPECT_EQ(m.flags, HWS_CALL_FAULT);
  EXPECT_EQ(m.nr, 11u);
  EXPECT_EQ(m.site, 0x10034u);
  EXPECT_EQ(m.args[0], 0x20000u);
  EXPECT_EQ(m.args[1], 3u);  // kProtFinal: the page's own protection
  EXPECT_EQ(m.args[2], 0x20040u);
  // A second mark on the same page is refused.
  spec.syscalls.insert(spec.syscalls.begin() + 4, mark(0x10038, 0x20000, 1));
  EXPECT_EQ(layout_error(spec),
            "two fault marks on page 0x20000 in one interval (the second at pc 0x10038): a page's protection can "
            "change only once");
}

TEST(SliceEvents, FaultEndAndAfterCallEnd) {
  // The slice ends at the read fault of ld s4 (0x10034) on the data page.
  SliceSpec spec = make_spec(End::kLoopAdd);
  spec.syscalls.resize(3);  // write(1), getpid, read
  spec.syscalls.push_back(mark(0x10034, 0x20000, 0));
  spec.end_kind = SliceSpec::EndKind::kFault;
  spec.end_regs.pc = 0x10034;
  SliceLayout l = layout_ok(spec);
  EXPECT_EQ(l.end_kind, HWS_END_FAULT);
  EXPECT_EQ(l.end_pc, 0x10034u);
  EXPECT_EQ(l.end_insn_len, 0u);
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f);
  EXPECT_EQ(f->summary.replay_entries, 3u);  // write, read, the mark (getpid in place)
  EXPECT_EQ(f->summary.replayed_calls, 2u);   // the mark ends the slice, not applied
  spec.end_regs.pc = 0x10038;
  EXPECT_EQ(layout_error(spec), "the end registers' pc 0x10038 is not where the end event leaves it, 0x10034");

  // Right after the read: pc after its ecall; the read's site is then no
  // in-place site (the runtime ends the slice there).
  spec = make_spec(End::kLoopAdd);
  spec.syscalls.resize(3);
  spec.end_kind = SliceSpec::EndKind::kAfterCall;
  spec.end_regs.pc = test_program::kSiteRead + 4;
  l = layout_ok(spec);
  EXPECT_EQ(l.end_kind, HWS_END_AFTER_CALL);
  EXPECT_EQ(l.end_pc, test_program::kSiteRead);
  EXPECT_NE(site_at(l, test_program::kSiteRead)->kind, SiteKind::kInPlace);
  spec.end_kind = SliceSpec::EndKind::kFault;  // the last event is a syscall
  EXPECT_EQ(layout_error(spec), "the slice's last event (syscall 2 (read)) is not the kind of event it ends at");
}

TEST(SliceEvents, SignalDeliveriesAndSigreturnNeedTrapSites) {
  SliceSpec spec = make_spec(End::kLoopAdd);
  // SIGALRM delivered right after read (0x10030): its handler at 0x10050.
  SyscallRecord d;
  d.nr = kSignalNr;
  d.name = "SIGALRM";
  d.pc = test_program::kSiteRead + 4;
  d.args = {14, 0x10050, 0x7ff400, 0x3ff000800, 0x7ff480, 0x7ff500};
  d.writes.push_back({0x7ff400, std::vector<uint8_t>(0x400, 0xab)});
  spec.syscalls.insert(spec.syscalls.begin() + 3, d);
  const SliceLayout l = layout_ok(spec);
  EXPECT_EQ(site_at(l, test_program::kSiteRead)->kind, SiteKind::kTrap);
  EXPECT_EQ(site_at(l, test_program::kSiteWrite1)->kind, SiteKind::kNear);
  auto f = write_slice(spec, fake_rt(), kWholePages);
  ASSERT_TRUE(f) << f.error().message();
  const auto c = read_at<hws_config>(f->bytes, 0x1800);
  const uint64_t off = 0x1800 + c.replay_off + 88 + 88 + 24;
  const auto e = read_at<hws_call>(f->bytes, off);
  EXPECT_EQ(e.flags, HWS_CALL_SIGNAL);
  EXPECT_EQ(e.nr, 14u);
  EXPECT_EQ(e.site, test_program::kSiteRead + 4);
  EXPECT_EQ(e.args[0], 0x10050u);  // handler
  EXPECT_EQ(e.args[1], 0x7ff400u); // sp
  EXPECT_EQ(e.args[2], 0x3ff000800u);
  EXPECT_EQ(e.args[3], 0x7ff480u);
  EXPECT_EQ(e.args[4], 0x7ff500u);
  EXPECT_EQ(e.nwrites, 1u);
  // rt_sigreturn restores every register: always a trap site.
  spec = make_spec(End::kLoopAdd);
  spec.syscalls[2].nr = 139;
  spec.syscalls[2].name = "rt_sigreturn";
  EXPECT_EQ(site_at(layout_ok(spec), test_program::kSiteRead)->kind, SiteKind::kTrap);
}

TEST(SliceEvents, AnUnsliceableIntervalIsRefusedWithItsReason) {
  SliceSpec spec = make_spec(End::kLoopAdd);
  spec.unsliceable = "SIGALRM was delivered at instruction 1017, where ...";
  EXPECT_EQ(layout_error(spec), "SIGALRM was delivered at instruction 1017, where ...");
}

TEST(SliceFileBytes, HandMadeDigestIsTheReasonedOne) {
  // The digest of the final memory worked out in slice_test_program.h, as
  // hws_hash over (addr, size, bytes) per range (values checked with an
  // independent Python implementation of the rule); pinned so a change in the
  // rule or the program shows.
  std::map<uint64_t, std::vector<uint8_t>> fin;
  const SliceSpec spec = make_spec(End::kLoopAdd, &fin);
  EXPECT_EQ(fin.at(0x20000)[0x40], 0x11);
  EXPECT_EQ(fin.at(0x20000)[0x47], 0x08);
  EXPECT_EQ(read_at<uint64_t>(fin.at(0x20000), 0x10), 2 * test_program::kReadValue);
  EXPECT_EQ(read_at<uint64_t>(fin.at(0x7ff000), 0x7f8), 1234u);
  EXPECT_EQ(spec.digest, 0x8dbd20d5c1ef80d1u);
  EXPECT_EQ(make_spec(End::kLoopStore).digest, spec.digest);  // the 3rd store has not run yet
  EXPECT_EQ(make_spec(End::kExit).digest, 0x9ebf03e6efb594deu);
}

}  // namespace
}  // namespace hwslice
