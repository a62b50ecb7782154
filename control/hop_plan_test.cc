#include "control/hop_plan.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace hwslice {
namespace {

using riscv::Flow;

// Code made of 4-byte instructions: a block at `start` of `n` straight-line
// instructions ended by `flow` (to `target` for branches and jumps).
class Code {
 public:
  Code& block(uint64_t start, unsigned n, Flow flow, uint64_t target = 0) {
    CodeBlock b;
    for (unsigned i = 0; i < n; ++i) b.addrs.push_back(start + 4 * i);
    b.end = start + 4 * n;
    b.last.pc = b.end;
    b.last.length = 4;
    b.last.flow = flow;
    b.last.offset = static_cast<int64_t>(target) - static_cast<int64_t>(b.end);
    blocks_[start] = b;
    return *this;
  }
  Code& no_instruction_at_end(uint64_t start) {
    blocks_[start].last.length = 0;
    return *this;
  }
  Code& writable(uint64_t start) {
    writable_.insert(start);
    return *this;
  }
  Result<std::optional<HopPlan>> plan(uint64_t pc, uint64_t budget) {
    return plan_hop(pc, budget, [this](uint64_t at) -> Result<const CodeBlock*> {
      ++lookups;
      if (writable_.count(at)) return static_cast<const CodeBlock*>(nullptr);
      // A block at an address inside a longer one: its tail.
      for (auto& [start, b] : blocks_)
        if (at >= start && at <= b.end) {
          if (at == start) return &b;
          CodeBlock tail = b;
          tail.addrs.erase(tail.addrs.begin(), tail.addrs.begin() + (at - start) / 4);
          return &tails_.emplace(at, std::move(tail)).first->second;
        }
      return Error("no code at " + std::to_string(at));
    });
  }
  int lookups = 0;

 private:
  std::map<uint64_t, CodeBlock> blocks_;
  std::map<uint64_t, CodeBlock> tails_;
  std::set<uint64_t> writable_;
};

HopPlan must(Result<std::optional<HopPlan>> r) {
  EXPECT_TRUE(r) << (r ? "" : r.error().message());
  if (!r || !*r) {
    ADD_FAILURE() << "no plan";
    return {};
  }
  return **r;
}

TEST(HopPlanTest, StraightLineStopsInFrontOfTheEcall) {
  Code c;
  c.block(0x1000, 5, Flow::kSyscall);
  HopPlan p = must(c.plan(0x1000, 100));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1014}));
  EXPECT_EQ(p.longest, 5u);
}

TEST(HopPlanTest, TheBudgetCutsAStraightLine) {
  Code c;
  c.block(0x1000, 10, Flow::kJumpRegister);
  HopPlan p = must(c.plan(0x1000, 4));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1010}));
  EXPECT_EQ(p.longest, 4u);
  // A budget that ends exactly at the jalr stops in front of it.
  p = must(c.plan(0x1000, 10));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1028}));
  EXPECT_EQ(p.longest, 10u);
}

// 0x1000: 2 + beq -> 0x2000; fall through 0x100c: 3 + ecall;
// 0x2000: 1 + j 0x100c.
Code two_paths() {
  Code c;
  c.block(0x1000, 2, Flow::kBranch, 0x2000).block(0x100c, 3, Flow::kSyscall).block(0x2000, 1, Flow::kJump, 0x100c);
  return c;
}

TEST(HopPlanTest, BranchesRunFreelyToTheRegionsEnds) {
  Code c = two_paths();
  HopPlan p = must(c.plan(0x1000, 1000));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1018}));
  // The longest path: 2 + beq + 1 + j + 3 instructions before the ecall.
  EXPECT_EQ(p.longest, 8u);
}

TEST(HopPlanTest, TheLongestPathDecidesWhereTheBudgetCuts) {
  // Budget 6: on the long path (through 0x2000) the ecall block is entered
  // after 5 instructions, so the cut is its second instruction, 0x1010 (the
  // short path reaches it after 4: earlier, safe).
  Code c = two_paths();
  HopPlan p = must(c.plan(0x1000, 6));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1010}));
  EXPECT_EQ(p.longest, 6u);
}

TEST(HopPlanTest, ALoopBackToThePcStopsAtItsBottomBranch) {
  // 0x1000: 3 + bne -> 0x1000 (the loop), falls to 0x1010: 2 + ecall.
  Code c;
  c.block(0x1000, 3, Flow::kBranch, 0x1000).block(0x1010, 2, Flow::kSyscall);
  HopPlan p = must(c.plan(0x1000, 1000));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x100c, 0x1018}));
  EXPECT_EQ(p.longest, 6u);
  // From the bottom branch itself there is no plan: the stepper performs it.
  auto at_branch = c.plan(0x100c, 1000);
  ASSERT_TRUE(at_branch);
  EXPECT_FALSE(*at_branch);
}

TEST(HopPlanTest, ALoopElsewhereStopsAtItsHead) {
  // 0x1000: 2 + j 0x2000; 0x2000: 3 + blt -> 0x2000 (loop), falls to
  // 0x2010: jalr.
  Code c;
  c.block(0x1000, 2, Flow::kJump, 0x2000).block(0x2000, 3, Flow::kBranch, 0x2000).block(0x2010, 0, Flow::kJumpRegister);
  // The head is reached after 2 + j; nothing after it counts.
  HopPlan p = must(c.plan(0x1000, 1000));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x2000}));
  EXPECT_EQ(p.longest, 3u);
  // From the head: its bottom branch after 3, the jalr after 3 + blt.
  p = must(c.plan(0x2000, 1000));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x200c, 0x2010}));
  EXPECT_EQ(p.longest, 4u);
}

TEST(HopPlanTest, ALoopThroughThePcMidBlockIsCut) {
  // The pc 0x1008 is inside the block at 0x1000 (a timer stop left it
  // there); the loop 0x1000: 4 + bne -> 0x1000 comes back through it. The
  // loop head 0x1000 is the stop; the pc itself never is.
  Code c;
  c.block(0x1000, 4, Flow::kBranch, 0x1000).block(0x1014, 0, Flow::kSyscall);
  HopPlan p = must(c.plan(0x1008, 1000));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1000, 0x1014}));
  EXPECT_EQ(p.longest, 3u);  // 2 + bne to either stop
}

TEST(HopPlanTest, ACutThatWouldBeAtThePcMovesBeforeIt) {
  // From 0x1008 in 0x1000: 4 + bne -> 0x1000, with budget 5: on the path
  // round the loop the head 0x1000 is a stop anyway (reached after 3); the
  // fall-through 0x1014: 6 + ecall is cut at 5 - 3 = its 2nd instruction.
  Code c;
  c.block(0x1000, 4, Flow::kBranch, 0x1000).block(0x1014, 6, Flow::kSyscall);
  HopPlan p = must(c.plan(0x1008, 5));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1000, 0x101c}));
  EXPECT_EQ(p.longest, 5u);
  // Budget 1 from the block's start 0x1000 with a loop of one instruction
  // before the bne: the cut is the bne itself, not 0x1000.
  Code d;
  d.block(0x1000, 1, Flow::kBranch, 0x1000).block(0x1008, 0, Flow::kSyscall);
  p = must(d.plan(0x1000, 1));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1004}));
  EXPECT_EQ(p.longest, 1u);
}

TEST(HopPlanTest, WritableCodeGivesNoPlan) {
  Code c;
  c.block(0x1000, 2, Flow::kBranch, 0x2000).block(0x100c, 1, Flow::kSyscall).block(0x2000, 1, Flow::kSyscall);
  c.writable(0x2000);
  auto p = c.plan(0x1000, 100);
  ASSERT_TRUE(p);
  EXPECT_FALSE(*p);
}

TEST(HopPlanTest, ThePcsOwnTransferOrEcallGivesNoPlan) {
  Code c;
  c.block(0x1000, 0, Flow::kSyscall).block(0x2000, 0, Flow::kJump, 0x2000);
  for (uint64_t pc : {0x1000, 0x2000}) {
    auto p = c.plan(pc, 100);
    ASSERT_TRUE(p);
    EXPECT_FALSE(*p) << pc;
  }
}

TEST(HopPlanTest, ExplorationStopsAtTheBlockLimit) {
  // A chain of kHopBlocks + 10 blocks, each 1 + j to the next: the first
  // block not explored is a stop at its start.
  Code c;
  const size_t n = kHopBlocks + 10;
  for (size_t i = 0; i < n; ++i) c.block(0x10000 + 0x100 * i, 1, Flow::kJump, 0x10000 + 0x100 * (i + 1));
  c.block(0x10000 + 0x100 * n, 0, Flow::kSyscall);
  HopPlan p = must(c.plan(0x10000, 1'000'000));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x10000 + 0x100 * kHopBlocks}));
  EXPECT_EQ(p.longest, 2 * kHopBlocks);
  // The one past the limit is looked up (no stop where there is no code).
  EXPECT_EQ(static_cast<size_t>(c.lookups), kHopBlocks + 1);
}

TEST(HopPlanTest, NoCodeAtThePcIsAnError) {
  Code c;
  auto p = c.plan(0x1000, 100);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().message(), "no code at 4096");
}

TEST(HopPlanTest, APathIntoNoCodeNeedsNoStop) {
  // 0x1000: 2 + beq -> 0x9000 (no code: the CPU would fault there), falls
  // to 0x100c: 1 + ecall.
  Code c;
  c.block(0x1000, 2, Flow::kBranch, 0x9000).block(0x100c, 1, Flow::kSyscall);
  HopPlan p = must(c.plan(0x1000, 100));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1010}));
  EXPECT_EQ(p.longest, 4u);
  // Only a jump into no code: no stop at all, no plan.
  Code d;
  d.block(0x1000, 2, Flow::kJump, 0x9000);
  auto q = d.plan(0x1000, 100);
  ASSERT_TRUE(q);
  EXPECT_FALSE(*q);
}

TEST(HopPlanTest, BytesThatAreNoInstructionStopBeforeTheLastOne) {
  // 0x1000: 3 instructions, then bytes that decode as none (length 0): the
  // stop is the third instruction, not the bytes.
  Code c;
  c.block(0x1000, 3, Flow::kNext);
  c.no_instruction_at_end(0x1000);
  HopPlan p = must(c.plan(0x1000, 100));
  EXPECT_EQ(p.stops, std::vector<uint64_t>({0x1008}));
  EXPECT_EQ(p.longest, 2u);
}

}  // namespace
}  // namespace hwslice
