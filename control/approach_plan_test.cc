#include "control/approach_plan.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(ApproachPlanTest, CeilingIsTheFloorUntilAFasterRunIsSeen) {
  ApproachPlan p;
  EXPECT_DOUBLE_EQ(p.ceiling(), 2e9);
  p.observe(1'000'000, 1e-3);  // 1e9 a second: twice that is the floor
  EXPECT_DOUBLE_EQ(p.ceiling(), 2e9);
  p.observe(3'000'000, 1e-3);  // 3e9 a second
  EXPECT_DOUBLE_EQ(p.ceiling(), 6e9);
  p.observe(1'000'000, 1e-3);  // slower runs do not lower it
  EXPECT_DOUBLE_EQ(p.ceiling(), 6e9);
}

TEST(ApproachPlanTest, ShortRunsDoNotSampleTheRate) {
  ApproachPlan p;
  p.observe(100'000'000, 0.5e-3);  // 2e11 a second in half a millisecond: clock noise
  EXPECT_DOUBLE_EQ(p.ceiling(), 2e9);
}

TEST(ApproachPlanTest, AWaitCoversAtMostHalfTheDistanceAtTheCeiling) {
  ApproachPlan p;
  // 10^8 left at 2e9 a second: half of it takes 25 ms, less the 10 us latency.
  EXPECT_DOUBLE_EQ(p.wait(100'000'000), 100'000'000 / 4e9 - 10e-6);
  // Whatever the distance, wait + latency at the ceiling stays within half of it.
  for (uint64_t left : {200'000ull, 1'000'000ull, 123'456'789ull}) {
    const double w = p.wait(left);
    if (w > 0) {
      EXPECT_LE((w + p.latency()) * p.ceiling(), left / 2.0 + 1e-6) << left;
    }
  }
}

TEST(ApproachPlanTest, TheLastStretchIsStepped) {
  ApproachPlan p;
  // 2 x 2e9 x (10 us + 10 us) = 80,000 instructions.
  EXPECT_NEAR(static_cast<double>(p.step_distance()), 80'001, 1);
  EXPECT_EQ(p.wait(p.step_distance()), 0.0);
  EXPECT_GE(p.wait(p.step_distance() + 1), ApproachPlan::kMinWait);
  EXPECT_EQ(p.wait(0), 0.0);
}

TEST(ApproachPlanTest, MeasuredLatencyWidensTheWaitsMarginUpToItsCapThenDecays) {
  ApproachPlan p;
  p.observe_latency(100e-6, 104e-6);  // 4 us late: 10 us assumed already
  EXPECT_DOUBLE_EQ(p.latency(), 10e-6);
  p.observe_latency(100e-6, 150e-6);  // 50 us late: twice that
  EXPECT_DOUBLE_EQ(p.latency(), 100e-6);
  EXPECT_NEAR(static_cast<double>(p.step_distance()), 2 * 2e9 * 110e-6, 2);
  p.observe_latency(100e-6, 0.1);  // a 100 ms hiccup
  EXPECT_DOUBLE_EQ(p.latency(), ApproachPlan::kMaxLatency);
  p.observe_latency(100e-6, 90e-6);  // on time: it decays by a quarter
  EXPECT_DOUBLE_EQ(p.latency(), 0.75 * ApproachPlan::kMaxLatency);
  for (int i = 0; i < 20; ++i) p.observe_latency(100e-6, 100e-6);
  EXPECT_DOUBLE_EQ(p.latency(), ApproachPlan::kWakeLatency);  // and not below the assumption
}

}  // namespace
}  // namespace hwslice
