#include "control/position_mode.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(PositionModeTest, ParsesEveryNameAndRoundTrips) {
  for (const char* name : {"auto", "overflow", "count", "block", "single"}) {
    auto m = parse_position_mode(name);
    ASSERT_TRUE(m) << name;
    EXPECT_EQ(to_string(*m), name);
  }
  EXPECT_FALSE(parse_position_mode("step"));
  EXPECT_FALSE(parse_position_mode(""));
}

TEST(PositionModeTest, AutoTakesTheBestMechanismTheCountersAllow) {
  // k1 in the virtual board: user-only counts, sampling opens.
  EXPECT_EQ(*resolve(PositionMode::kAuto, {true, true}), PositionMode::kOverflow);
  EXPECT_EQ(*resolve(PositionMode::kAuto, {true, false}), PositionMode::kCount);
  // vf2 / VisionFive 2: no mode filter at all.
  EXPECT_EQ(*resolve(PositionMode::kAuto, {false, false}), PositionMode::kBlock);
}

TEST(PositionModeTest, ForcedModesNameWhatTheBoardLacks) {
  auto no_user = resolve(PositionMode::kCount, {false, false});
  ASSERT_FALSE(no_user);
  EXPECT_EQ(no_user.error().message(),
            "--position-mode count needs a user-only instruction counter (Sscofpmf), which this board lacks; "
            "--position-mode block steps all the way");
  auto no_overflow = resolve(PositionMode::kOverflow, {true, false});
  ASSERT_FALSE(no_overflow);
  EXPECT_EQ(no_overflow.error().message(),
            "--position-mode overflow needs counter-overflow signals, which this board's counters do not give; "
            "--position-mode count uses timer stops instead");
  EXPECT_FALSE(resolve(PositionMode::kOverflow, {false, true}));
  EXPECT_EQ(*resolve(PositionMode::kBlock, {false, false}), PositionMode::kBlock);
  EXPECT_EQ(*resolve(PositionMode::kSingle, {true, true}), PositionMode::kSingle);
  EXPECT_EQ(*resolve(PositionMode::kCount, {true, true}), PositionMode::kCount);
}

TEST(PositionModeTest, RecordedNameSaysWhatHappened) {
  EXPECT_EQ(recorded_name(PositionMode::kOverflow, true), "overflow+step");
  EXPECT_EQ(recorded_name(PositionMode::kOverflow, false), "count+step");
  EXPECT_EQ(recorded_name(PositionMode::kCount, false), "count+step");
  EXPECT_EQ(recorded_name(PositionMode::kBlock, false), "block-step");
  EXPECT_EQ(recorded_name(PositionMode::kSingle, false), "single-step");
}

}  // namespace
}  // namespace hwslice
