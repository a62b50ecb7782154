#include "base/file_bytes.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

namespace hwslice {
namespace {

std::string temp_file(const std::vector<uint8_t>& bytes) {
  char name[] = "/tmp/hwslice_file_bytes_XXXXXX";
  const int fd = ::mkstemp(name);
  EXPECT_GE(fd, 0);
  EXPECT_EQ(::write(fd, bytes.data(), bytes.size()), static_cast<ssize_t>(bytes.size()));
  ::close(fd);
  return name;
}

TEST(FileBytes, ReadsEveryByteOfAFileLargerThanOneBlock) {
  std::vector<uint8_t> want(200000);
  for (size_t i = 0; i < want.size(); ++i) want[i] = static_cast<uint8_t>(i * 7 + (i >> 9));
  const std::string path = temp_file(want);
  auto got = read_file_bytes(path);
  ASSERT_TRUE(got) << got.error().message();
  EXPECT_EQ(*got, want);
  std::remove(path.c_str());
}

TEST(FileBytes, EmptyFileIsEmpty) {
  const std::string path = temp_file({});
  auto got = read_file_bytes(path);
  ASSERT_TRUE(got);
  EXPECT_TRUE(got->empty());
  std::remove(path.c_str());
}

TEST(FileBytes, ProcFilesWithSizeZeroAreReadToTheirEnd) {
  auto got = read_file_bytes("/proc/self/stat");
  ASSERT_TRUE(got);
  EXPECT_GT(got->size(), 20u);
  EXPECT_EQ(got->back(), '\n');
}

TEST(FileBytes, MissingFileIsAnErrorWithErrno) {
  auto got = read_file_bytes("/nonexistent/hwslice");
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().err(), ENOENT);
  EXPECT_NE(got.error().message().find("cannot open /nonexistent/hwslice"), std::string::npos);
}

}  // namespace
}  // namespace hwslice
