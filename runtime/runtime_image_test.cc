// Tests of the embedded runtime image (runtime_image.h): its sizes and that
// the entry and far-entry offsets point at the code entry.S puts there.
#include "runtime/runtime_image.h"
#include "runtime/slice_abi.h"

#include <gtest/gtest.h>

namespace {

using hwslice::runtime::image;

uint32_t insn_at(uint64_t offset) {
  const uint8_t* p = image().bytes + offset;
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}

int64_t sext(uint64_t v, unsigned bits) {
  return static_cast<int64_t>(v << (64 - bits)) >> (64 - bits);
}

TEST(RuntimeImage, SizesArePageAlignedAndSmall) {
  const auto& im = image();
  ASSERT_NE(im.bytes, nullptr);
  EXPECT_EQ(im.mem_size % 4096, 0u);
  EXPECT_GT(im.mem_size, im.file_size);  // bss (stacks) follows the file part
  EXPECT_GT(im.file_size, 4096u);
  EXPECT_LT(im.file_size, 24u * 1024);   // keeps slices small
  EXPECT_EQ(im.file_size % 4, 0u);
}

TEST(RuntimeImage, EntryIsFirstAndStartsBySavingTheInitialSp) {
  // The image starts with the bytes reserved for the slice's ELF headers.
  EXPECT_EQ(image().entry_offset, uint64_t{HWS_HEADER_RESERVE});
  for (unsigned i = 0; i < HWS_HEADER_RESERVE; ++i) EXPECT_EQ(image().bytes[i], 0) << i;
  EXPECT_EQ(insn_at(HWS_HEADER_RESERVE), 0x00010513u);  // addi a0, sp, 0 (mv a0, sp)
}

TEST(RuntimeImage, FarEntryPointsSpAtItsFrameInBss) {
  const auto& im = image();
  ASSERT_LT(im.far_offset + 8, im.file_size);
  ASSERT_EQ(im.far_offset % 4, 0u);
  const uint32_t auipc = insn_at(im.far_offset), addi = insn_at(im.far_offset + 4);
  ASSERT_EQ(auipc & 0xfff, 0x117u);      // auipc sp, hi
  ASSERT_EQ(addi & 0xfffff, 0x10113u);   // addi sp, sp, lo
  const int64_t target = static_cast<int64_t>(im.far_offset) + sext(auipc & 0xfffff000u, 32) +
                         sext(addi >> 20, 12);
  // The save area is hws_far_frame, in bss: past the file part, inside memsz.
  EXPECT_GE(target, static_cast<int64_t>(im.file_size));
  EXPECT_LT(target + 536, static_cast<int64_t>(im.mem_size));
  EXPECT_EQ(target % 8, 0);
}

}  // namespace
