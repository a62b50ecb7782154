#include "ptrace/remote_ptr.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

TEST(RemotePtrTest, ArithmeticIsInUnitsOfThePointee) {
  RemotePtr<uint64_t> p(0x1000);
  EXPECT_EQ((p + 2).as_int(), 0x1010u);
  EXPECT_EQ((p - 1).as_int(), 0xff8u);
  RemoteAddr v(0x1000);
  EXPECT_EQ((v + 3).as_int(), 0x1003u);
  EXPECT_EQ(p.cast<uint16_t>().operator+(1).as_int(), 0x1002u);
  EXPECT_TRUE(RemoteAddr().is_null());
  EXPECT_LT(RemoteAddr(1), RemoteAddr(2));
}

}  // namespace
}  // namespace hwslice
