#include "capture/touched_pages.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(TouchedPagesTest, FirstTouchesAreReportedOncePerInterval) {
  TouchedPages p;
  EXPECT_EQ(p.touch(0x10ffe, 4, 'x'), (std::vector<uint64_t>{0x10000, 0x11000}));  // an instruction across pages
  EXPECT_EQ(p.touch(0x10000, 8, 'r'), std::vector<uint64_t>{});
  EXPECT_EQ(p.touch(0x7fff0ff8, 8, 'w'), std::vector<uint64_t>{0x7fff0000});
  p.set_digest(0x10000, 0xabc);
  PagesRecord r = p.take(3, 100, 200);
  EXPECT_EQ(r.interval, 3u);
  EXPECT_EQ(r.start, 100u);
  EXPECT_EQ(r.end, 200u);
  EXPECT_EQ(r.pages, (std::vector<TouchedPage>{{0x10000, "rx", 0xabc}, {0x11000, "x", 0}, {0x7fff0000, "w", 0}}));
  // The next interval starts empty: the same page is new again.
  EXPECT_EQ(p.touch(0x10004, 4, 'x'), std::vector<uint64_t>{0x10000});
  EXPECT_EQ(p.size(), 1u);
}

TEST(TouchedPagesTest, KindsAreWrittenInRwxkOrder) {
  TouchedPages p;
  p.touch(0x2000, 1, 'k');
  p.touch(0x2000, 1, 'w');
  p.touch(0x2000, 1, 'r');
  p.touch(0x5000, 0x2001, 'k');  // a syscall buffer over three pages
  EXPECT_EQ(p.take(0, 0, 1).pages, (std::vector<TouchedPage>{{0x2000, "rwk", 0},
                                                             {0x5000, "k", 0},
                                                             {0x6000, "k", 0},
                                                             {0x7000, "k", 0}}));
}

TEST(TouchedPagesTest, EmptyRangesAndUnknownKindsTouchNothing) {
  TouchedPages p;
  EXPECT_TRUE(p.touch(0x1000, 0, 'r').empty());
  EXPECT_TRUE(p.touch(0x1000, 4, 'q').empty());
  EXPECT_EQ(p.touch(0xfffffffffffff000, 4096, 'r'), std::vector<uint64_t>{0xfffffffffffff000});
  EXPECT_EQ(p.size(), 1u);
}

}  // namespace
}  // namespace hwslice
