#include "record/syscall_table.h"

#include <gtest/gtest.h>

namespace hwslice::sys {
namespace {

TEST(SyscallTableTest, GenericAndRiscvNumbers) {
  EXPECT_EQ(number("openat"), 56);
  EXPECT_EQ(number("read"), 63);
  EXPECT_EQ(number("write"), 64);
  EXPECT_EQ(number("newfstatat"), 79);
  EXPECT_EQ(number("fstat"), 80);
  EXPECT_EQ(number("exit_group"), 94);
  EXPECT_EQ(number("clone"), 220);
  EXPECT_EQ(number("riscv_hwprobe"), 258);
  EXPECT_EQ(number("riscv_flush_icache"), 259);
  EXPECT_EQ(number("clone3"), 435);
  EXPECT_FALSE(number("open"));  // not in the generic table
  EXPECT_FALSE(number("fork"));
}

TEST(SyscallTableTest, NamesAndDisplay) {
  EXPECT_EQ(name(172), "getpid");
  EXPECT_EQ(name(9999), "");
  EXPECT_EQ(display_name(9999), "syscall_9999");
  EXPECT_EQ(display_name(222), "mmap");
}

TEST(SyscallTableTest, TableIsSortedAndComplete) {
  auto all = all_syscalls();
  ASSERT_GT(all.size(), 300u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_LT(all[i - 1].nr, all[i].nr) << all[i].name;
}

}  // namespace
}  // namespace hwslice::sys
