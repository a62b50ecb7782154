#include "slicer/slice_runner.h"

#include <gtest/gtest.h>

#include <csignal>

namespace hwslice {
namespace {

TEST(SliceRunner, RunnerWords) {
  EXPECT_EQ(runner_words(""), std::vector<std::string>{});
  EXPECT_EQ(runner_words("qemu-riscv64"), std::vector<std::string>{"qemu-riscv64"});
  EXPECT_EQ(runner_words("  qemu-riscv64  -L /usr/riscv64-linux-gnu "),
            (std::vector<std::string>{"qemu-riscv64", "-L", "/usr/riscv64-linux-gnu"}));
}

// A slice that never ends is killed at the timeout, not waited for.
TEST(SliceRunner, KillsASliceAtItsTimeout) {
  // The runner words come first: sh -c "sleep 30" sh <path>.
  auto r = run_slice("/bin/sh", {"/bin/sh", "-c", "sleep 30", "sh"}, true, 0.3);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->signal, SIGKILL);
  auto quick = run_slice("/bin/sh", {"/bin/sh", "-c", "exit 3", "sh"}, true, 30);
  ASSERT_TRUE(quick) << quick.error().message();
  EXPECT_FALSE(quick->timed_out);
  EXPECT_EQ(quick->exit_code, 3);
}

TEST(SliceRunner, ParsesTheRuntimesStats) {
  auto s = parse_slice_stats(
      R"({"name":"0-100","status":"ok","end":"counted","hits":3,"instructions":100,"cycles":250,)"
      R"("overhead_instructions":812,"overhead_cycles":900,"counters":"user","regs_match":true,)"
      R"("digest":"0123456789abcdef","digest_match":true,"calls_replayed":2,"detail":""})");
  ASSERT_TRUE(s) << s.error().message();
  EXPECT_TRUE(s->present);
  EXPECT_EQ(s->status, "ok");
  EXPECT_EQ(s->hits, 3u);
  EXPECT_EQ(s->instructions, 100u);
  EXPECT_EQ(s->cycles, 250u);
  EXPECT_EQ(s->overhead_instructions, 812u);
  EXPECT_EQ(s->counters, "user");
  EXPECT_TRUE(s->regs_match);
  EXPECT_EQ(s->digest, "0123456789abcdef");
  EXPECT_EQ(s->calls_replayed, 2u);
}

TEST(SliceRunner, RejectsWhatIsNotItsStats) {
  EXPECT_FALSE(parse_slice_stats("not json"));
  EXPECT_FALSE(parse_slice_stats("[1]"));
  auto s = parse_slice_stats(R"({"instructions":1})");
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message().find("no status"), std::string::npos);
}

TEST(SliceRunner, ReadSliceConfigNamesWhatIsWrong) {
  auto missing = read_slice_config("/nonexistent/slice.exe");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("cannot open /nonexistent/slice.exe"), std::string::npos);
}

}  // namespace
}  // namespace hwslice
