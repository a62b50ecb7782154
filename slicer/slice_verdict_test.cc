#include "slicer/slice_verdict.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

SliceExpectation expect(bool exact) {
  SliceExpectation e;
  e.label = "s1000-6000.exe";
  e.start = 1000;
  e.end = 6000;
  e.exact = exact;
  e.digest = 0x0123456789abcdefULL;
  e.out = std::vector<uint8_t>{'h', 'i', '\n'};
  e.err = std::vector<uint8_t>{};
  return e;
}

SliceRun ran(const char* counters, uint64_t instructions) {
  SliceRun r;
  r.exit_code = 0;
  r.out = {'h', 'i', '\n'};
  r.stats.present = true;
  r.stats.status = "ok";
  r.stats.end = "counted";
  r.stats.counters = counters;
  r.stats.instructions = instructions;
  r.stats.regs_match = true;
  r.stats.digest_match = true;
  r.stats.digest = "0123456789abcdef";
  return r;
}

TEST(SliceVerdict, ExactCountsMustMatchExactly) {
  SliceVerdict v = judge(expect(true), ran("user", 5000));
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.counted, "exact");
  v = judge(expect(true), ran("user", 4999));
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.counted, "differs by -1");
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0], "retired 4999 program instructions, expected 5000");
}

TEST(SliceVerdict, KernelInclusiveCountsBoundPageModeSlices) {
  // Page mode without user-only counts: the length counts the tracer's
  // kernel work, so the slice's count stays below it.
  SliceVerdict v = judge(expect(false), ran("all", 4800));
  EXPECT_TRUE(v.ok);
  EXPECT_EQ(v.counted, "kernel included, differs by -200");
  v = judge(expect(false), ran("all", 5001));
  EXPECT_FALSE(v.ok);
  ASSERT_EQ(v.problems.size(), 1u);
  EXPECT_EQ(v.problems[0], "retired 5001 instructions (kernel included), more than the interval's 5000: it ran past its end");
}

TEST(SliceVerdict, ExactPositionsGiveNoBoundToKernelInclusiveCounts) {
  // Step mode on a board without user-only counting: the positions count
  // the program alone; the slice's kernel work adds to its count.
  SliceVerdict v = judge(expect(true), ran("all", 7915));
  EXPECT_TRUE(v.ok) << (v.problems.empty() ? "" : v.problems[0]);
  EXPECT_EQ(v.counted, "kernel included, differs by 2915");
}

TEST(SliceVerdict, EveryStateDifferenceIsNamed) {
  SliceRun r = ran("user", 5000);
  r.stats.status = "diverged";
  r.stats.detail = "ran past its end";
  r.stats.regs_match = false;
  r.stats.digest_match = false;
  r.stats.digest = "1111111111111111";
  r.out = {'h'};
  SliceVerdict v = judge(expect(true), r);
  EXPECT_FALSE(v.ok);
  const std::vector<std::string> want = {"status diverged: ran past its end", "final registers differ",
                                         "written-memory digest differs",
                                         "digest 1111111111111111 is not the manifest's 0123456789abcdef",
                                         "stdout: 1 bytes, recorded 3"};
  EXPECT_EQ(v.problems, want);
}

TEST(SliceVerdict, NoStatisticsAndTimeouts) {
  SliceRun r;
  r.exit_code = 139;
  SliceVerdict v = judge(expect(true), r);
  EXPECT_FALSE(v.ok);
  EXPECT_EQ(v.counted, "-");
  ASSERT_FALSE(v.problems.empty());
  EXPECT_EQ(v.problems[0], "no statistics (exit status 139)");
  r.timed_out = true;
  r.signal = 9;
  v = judge(expect(true), r);
  EXPECT_EQ(v.problems[0], "did not end within the timeout (killed)");
}

}  // namespace
}  // namespace hwslice
