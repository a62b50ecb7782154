#include "record/syscall_format.h"

#include <gtest/gtest.h>

#include "record/syscall_table.h"

namespace hwslice {
namespace {

long nr(const char* n) { return *sys::number(n); }

TEST(SyscallFormatTest, ArgumentsByKind) {
  EXPECT_EQ(format_args(nr("openat"), {static_cast<uint64_t>(-100), 0x1000, 0x80000, 0644},
                        {{1, quote_string("/etc/passwd")}}),
            "AT_FDCWD, \"/etc/passwd\", 0x80000, 0644");
  EXPECT_EQ(format_args(nr("read"), {3, 0x7fff0000, 832}, {}), "3, 0x7fff0000, 832");
  EXPECT_EQ(format_args(nr("lseek"), {3, static_cast<uint64_t>(-5), 2}, {}), "3, -5, 2");
  EXPECT_EQ(format_args(nr("getpid"), {}, {}), "");
  EXPECT_EQ(format_args(nr("faccessat"), {static_cast<uint64_t>(-100), 0, 4}, {}), "AT_FDCWD, NULL, 04");
}

TEST(SyscallFormatTest, ReturnValues) {
  EXPECT_EQ(format_return(nr("openat"), 3), "= 3");
  EXPECT_EQ(format_return(nr("openat"), static_cast<uint64_t>(-2)), "= -1 ENOENT (No such file or directory)");
  EXPECT_EQ(format_return(nr("brk"), 0x12514b40), "= 0x12514b40");
  EXPECT_EQ(format_return(nr("mmap"), 0x7fff9d6e1000), "= 0x7fff9d6e1000");
}

TEST(SyscallFormatTest, QuotesStrings) {
  EXPECT_EQ(quote_string("a\"b\\c\n\x01"), "\"a\\\"b\\\\c\\n\\1\"");
  EXPECT_EQ(quote_string("abcdef", 3), "\"abc\"...");
}

TEST(SyscallFormatTest, SummaryTableAndJson) {
  SyscallSummary s;
  SyscallRecord r;
  r.name = "read";
  r.ret = 10;
  r.writes = {{0x1000, std::vector<uint8_t>(10)}};
  s.add(r, std::chrono::microseconds(30));
  s.add(r, std::chrono::microseconds(10));
  SyscallRecord e;
  e.name = "openat";
  e.ret = static_cast<uint64_t>(-2);
  s.add(e, std::chrono::microseconds(10));
  std::string t = s.table();
  EXPECT_NE(t.find(" 80.00    0.000040          20         2                    20 read\n"), std::string::npos) << t;
  EXPECT_NE(t.find(" 20.00    0.000010          10         1         1           0 openat\n"), std::string::npos) << t;
  EXPECT_NE(t.find("100.00    0.000050          17         3         1          20 total\n"), std::string::npos) << t;
  auto j = s.to_json();
  EXPECT_EQ(j["syscalls"].size(), 2u);
  EXPECT_EQ(j["syscalls"][1]["syscall"], "read");
  EXPECT_EQ(j["syscalls"][1]["bytes_written"], 20);
  EXPECT_EQ(j["syscalls"][0]["errors"], 1);
}

}  // namespace
}  // namespace hwslice
