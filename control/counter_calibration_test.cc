#include "control/counter_calibration.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(CounterCalibrationTest, EachValidCombination) {
  struct Case {
    const char* board;
    uint64_t with_nop, with_ecall;
    bool trap_counted, ecall_counted;
    uint64_t counted;
  };
  for (const Case& t : {Case{"QEMU: both counted", 2, 2, true, true, 4},
                        Case{"the ISA: neither trapping instruction", 1, 0, false, false, 1},
                        Case{"the ecall counted, the ebreak not", 1, 1, false, true, 2},
                        Case{"the ebreak counted, the ecall not", 2, 1, true, false, 3}}) {
    auto c = interpret_calibration(t.with_nop, t.with_ecall);
    ASSERT_TRUE(c) << t.board << ": " << c.error().message();
    EXPECT_EQ(c->trap_counted, t.trap_counted) << t.board;
    EXPECT_EQ(c->ecall_counted, t.ecall_counted) << t.board;
    EXPECT_EQ(c->counted, t.counted) << t.board;
  }
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
