#include "tracer/counter_calibration.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(CounterCalibrationTest, QemuCountsTheEbreakAndTheEcall) {
  auto c = interpret_calibration(2, 2);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->trap_counted);
  EXPECT_TRUE(c->ecall_counted);
  EXPECT_EQ(c->counted, 4u);
}

TEST(CounterCalibrationTest, TheIsaCountsNeitherTrappingInstruction) {
  auto c = interpret_calibration(1, 0);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->trap_counted);
  EXPECT_FALSE(c->ecall_counted);
  EXPECT_EQ(c->counted, 1u);
}

TEST(CounterCalibrationTest, EcallCountedEbreakNot) {
  auto c = interpret_calibration(1, 1);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_FALSE(c->trap_counted);
  EXPECT_TRUE(c->ecall_counted);
  EXPECT_EQ(c->counted, 2u);
}

TEST(CounterCalibrationTest, EbreakCountedEcallNot) {
  auto c = interpret_calibration(2, 1);
  ASSERT_TRUE(c) << c.error().message();
  EXPECT_TRUE(c->trap_counted);
  EXPECT_FALSE(c->ecall_counted);
}

TEST(CounterCalibrationTest, CountsNoExactCounterGivesAreErrors) {
  // The nop not counted at all, kernel instructions in the count, an ebreak
  // counted in one injection and not in the other.
  for (auto [nop, ecall] : {std::pair<uint64_t, uint64_t>{0, 0}, {3, 2}, {2, 40}, {2, 0}, {1, 2}}) {
    auto c = interpret_calibration(nop, ecall);
    ASSERT_FALSE(c) << nop << " " << ecall;
    EXPECT_EQ(c.error().message(), "the user-only instruction counter is not exact: it counted " + std::to_string(nop) +
                                       " for a nop and an ebreak, " + std::to_string(ecall) +
                                       " for an ecall and an ebreak");
  }
}

}  // namespace
}  // namespace hwslice
