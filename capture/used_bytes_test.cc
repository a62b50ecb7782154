#include "capture/used_bytes.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(UsedBytesTest, FirstReadBeforeAnyWriteIsLiveIn) {
  UsedBytes u;
  const uint8_t insn[4] = {0x13, 0x05, 0x10, 0x00};
  u.read(0x10ffe, insn, 4, 'x');  // an instruction across two pages
  const uint8_t v1[2] = {0xaa, 0xbb}, v2[2] = {0xcc, 0xdd};
  u.write(0x20010, 1, 'w');
  u.read(0x20010, v1, 2, 'r');  // 0x20010 was written first: only 0x20011 is live-in
  u.read(0x20011, v2, 2, 'r');  // 0x20011 already known: only 0x20012 is new
  EXPECT_EQ(u.pages(), (std::vector<uint64_t>{0x10000, 0x11000, 0x20000}));
  EXPECT_EQ(u.written_pages(), std::vector<uint64_t>{0x20000});
  const std::vector<uint8_t> a = u.start_content(0x10000);
  EXPECT_EQ(a[0xffe], 0x13);
  EXPECT_EQ(a[0xfff], 0x05);
  EXPECT_EQ(u.start_content(0x11000)[0], 0x10);
  EXPECT_EQ(u.start_content(0x11000)[1], 0x00);
  const std::vector<uint8_t> b = u.start_content(0x20000);
  EXPECT_EQ(b[0x10], 0);     // written first: no content
  EXPECT_EQ(b[0x11], 0xbb);  // first content seen
  EXPECT_EQ(b[0x12], 0xdd);
  EXPECT_EQ(u.live_in_bytes(), 6u);
  EXPECT_EQ(u.written_bytes(), 1u);
  EXPECT_EQ(u.kinds(0x20000), "rw");
  EXPECT_EQ(u.kinds(0x10000), "x");
  EXPECT_EQ(u.kinds(0x30000), "");
}

TEST(UsedBytesTest, EndViewKeepsOnlyLiveInAndWrittenBytes) {
  UsedBytes u;
  const uint8_t one = 7;
  u.read(0x5008, &one, 1, 'r');
  u.write(0x5100, 4, 'k');
  std::vector<uint8_t> now(4096, 0x55);
  u.end_view(0x5000, now.data(), now.size());
  for (size_t i = 0; i < now.size(); ++i) {
    const bool kept = i == 8 || (i >= 0x100 && i < 0x104);
    EXPECT_EQ(now[i], kept ? 0x55 : 0) << i;
  }
  EXPECT_EQ(u.kinds(0x5000), "rk");
  std::vector<uint8_t> other(4096, 1);
  u.end_view(0x8800, other.data(), other.size());  // across two unused pages
  for (size_t i = 0; i < other.size(); ++i) EXPECT_EQ(other[i], 0) << i;
  std::vector<uint8_t> part(8, 0x66);
  u.end_view(0x5006, part.data(), part.size());  // a range inside a page
  EXPECT_EQ(part, (std::vector<uint8_t>{0, 0, 0x66, 0, 0, 0, 0, 0}));
}

TEST(UsedBytesTest, ClearStartsANewInterval) {
  UsedBytes u;
  const uint8_t v = 1;
  u.read(0x1000, &v, 1, 'r');
  u.clear();
  EXPECT_TRUE(u.pages().empty());
  const uint8_t w = 2;
  u.read(0x1000, &w, 1, 'r');
  EXPECT_EQ(u.start_content(0x1000)[0], 2);
}

}  // namespace
}  // namespace hwslice
