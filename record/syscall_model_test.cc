#include "record/syscall_model.h"

#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <set>

#include "record/syscall_table.h"

namespace hwslice {
namespace {

// Tracee memory for the model: words at addresses.
class FakeMemory : public MemoryReader {
 public:
  void put(uint64_t addr, const void* data, size_t len) {
    const auto* p = static_cast<const uint8_t*>(data);
    for (size_t i = 0; i < len; ++i) bytes_[addr + i] = p[i];
  }
  template <typename T>
  void put_value(uint64_t addr, T v) { put(addr, &v, sizeof v); }
  Status read(uint64_t addr, void* buf, size_t len) override {
    auto* p = static_cast<uint8_t*>(buf);
    for (size_t i = 0; i < len; ++i) {
      auto it = bytes_.find(addr + i);
      if (it == bytes_.end()) return Error("unmapped", EFAULT);
      p[i] = it->second;
    }
    return ok_status();
  }

 private:
  std::map<uint64_t, uint8_t> bytes_;
};

long nr(const char* name) { return *sys::number(name); }

std::vector<Region> regions(const char* name, SyscallArgs a, int64_t ret, FakeMemory& mem) {
  auto entry = capture_entry(nr(name), a, mem);
  EXPECT_TRUE(entry) << entry.error().message();
  auto r = written_regions(nr(name), a, ret, *entry, mem);
  EXPECT_TRUE(r) << r.error().message();
  return r ? *r : std::vector<Region>{};
}

std::vector<Region> regions(const char* name, SyscallArgs a, int64_t ret) {
  FakeMemory mem;
  return regions(name, a, ret, mem);
}

using R = std::vector<Region>;

TEST(SyscallModelTest, EveryModelNamesARealSyscallOnce) {
  std::set<std::string_view> seen;
  for (const auto& m : model_list()) {
    EXPECT_TRUE(sys::number(m.name)) << m.name << " is not a riscv64 syscall";
    EXPECT_TRUE(seen.insert(m.name).second) << m.name << " is modeled twice";
    EXPECT_LE(m.args.size(), 6u) << m.name;
  }
}

TEST(SyscallModelTest, FixedStructs) {
  EXPECT_EQ(regions("fstat", {3, 0x1000}, 0), (R{{0x1000, 128}}));
  EXPECT_EQ(regions("newfstatat", {0, 0x2000, 0x3000, 0}, 0), (R{{0x3000, 128}}));
  EXPECT_EQ(regions("statx", {0, 0x2000, 0, 0x7ff, 0x4000}, 0), (R{{0x4000, 256}}));
  EXPECT_EQ(regions("uname", {0x5000}, 0), (R{{0x5000, 390}}));
  EXPECT_EQ(regions("clock_gettime", {1, 0x6000}, 0), (R{{0x6000, 16}}));
  EXPECT_EQ(regions("rt_sigaction", {10, 0x100, 0x200, 8}, 0), (R{{0x200, 24}}));
  // A null pointer or a failed call writes nothing.
  EXPECT_EQ(regions("rt_sigaction", {10, 0x100, 0, 8}, 0), R{});
  EXPECT_EQ(regions("fstat", {3, 0x1000}, -9), R{});
  EXPECT_EQ(regions("gettimeofday", {0x10, 0}, 0), (R{{0x10, 16}}));
  EXPECT_EQ(regions("wait4", {5, 0x20, 0, 0x40}, 5), (R{{0x20, 4}, {0x40, 144}}));
}

TEST(SyscallModelTest, SizeFromReturnValue) {
  EXPECT_EQ(regions("read", {0, 0x1000, 4096}, 10), (R{{0x1000, 10}}));
  EXPECT_EQ(regions("read", {0, 0x1000, 4096}, 0), R{});
  EXPECT_EQ(regions("getdents64", {3, 0x1000, 4096}, 312), (R{{0x1000, 312}}));
  EXPECT_EQ(regions("readlinkat", {0, 0x10, 0x2000, 256}, 16), (R{{0x2000, 16}}));
  EXPECT_EQ(regions("getcwd", {0x3000, 256}, 6), (R{{0x3000, 6}}));
  EXPECT_EQ(regions("getrandom", {0x4000, 8, 1}, 8), (R{{0x4000, 8}}));
  EXPECT_EQ(regions("epoll_pwait", {4, 0x5000, 8, 0, 0, 8}, 3), (R{{0x5000, 48}}));
  EXPECT_EQ(regions("getgroups", {4, 0x6000}, 2), (R{{0x6000, 8}}));
}

TEST(SyscallModelTest, SizeFromArguments) {
  EXPECT_EQ(regions("rt_sigprocmask", {0, 0x100, 0x200, 8}, 0), (R{{0x200, 8}}));
  EXPECT_EQ(regions("ppoll", {0x300, 2, 0x400, 0, 8}, 1), (R{{0x300, 16}, {0x400, 16}}));
  EXPECT_EQ(regions("riscv_hwprobe", {0x500, 3, 0, 0, 0}, 0), (R{{0x500, 48}}));
  EXPECT_EQ(regions("mincore", {0x10000, 3 * 4096 + 1, 0x700}, 0), (R{{0x700, 4}}));
  EXPECT_EQ(regions("rseq", {0x800, 32, 0, 0x53053053}, 0), (R{{0x800, 32}}));
}

TEST(SyscallModelTest, InOutLengthWords) {
  FakeMemory mem;
  mem.put_value<uint32_t>(0x900, 110);  // addrlen in
  SyscallArgs a{3, 0x800, 0x900};
  auto entry = capture_entry(nr("getsockname"), a, mem);
  ASSERT_TRUE(entry);
  mem.put_value<uint32_t>(0x900, 2);  // the kernel says 2 bytes
  auto r = written_regions(nr("getsockname"), a, 0, *entry, mem);
  ASSERT_TRUE(r);
  EXPECT_EQ(*r, (R{{0x800, 2}, {0x900, 4}}));
  // accept(fd, NULL, NULL): nothing
  EXPECT_EQ(regions("accept", {3, 0, 0}, 5), R{});
  // The input length is capped by the output length and vice versa.
  mem.put_value<uint32_t>(0xa00, 4);
  SyscallArgs g{3, 1, 3, 0xb00, 0xa00};
  entry = capture_entry(nr("getsockopt"), g, mem);
  mem.put_value<uint32_t>(0xa00, 8);
  r = written_regions(nr("getsockopt"), g, 0, *entry, mem);
  EXPECT_EQ(*r, (R{{0xb00, 4}, {0xa00, 4}}));
}

TEST(SyscallModelTest, IovecsAreFilledInOrder) {
  FakeMemory mem;
  uint64_t iov[6] = {0x1000, 8, 0x2000, 24, 0x3000, 100};
  mem.put(0x500, iov, sizeof iov);
  EXPECT_EQ(regions("readv", {3, 0x500, 3}, 40, mem), (R{{0x1000, 8}, {0x2000, 24}, {0x3000, 8}}));
  EXPECT_EQ(regions("preadv2", {3, 0x500, 3, 0, 0, 0}, 5, mem), (R{{0x1000, 5}}));
  EXPECT_EQ(regions("readv", {3, 0x500, 3}, 0, mem), R{});
}

TEST(SyscallModelTest, RecvmsgWritesNameDataControlAndLengths) {
  FakeMemory mem;
  uint64_t iov[2] = {0x2000, 16};
  mem.put(0x600, iov, sizeof iov);
  uint64_t hdr[7] = {0x1000, 20, 0x600, 1, 0x3000, 24, 0};
  mem.put(0x700, hdr, sizeof hdr);
  SyscallArgs a{3, 0x700, 0};
  auto entry = capture_entry(nr("recvmsg"), a, mem);
  ASSERT_TRUE(entry);
  hdr[1] = 6;   // the kernel shortened the name
  hdr[5] = 20;  // and the control data
  mem.put(0x700, hdr, sizeof hdr);
  auto r = written_regions(nr("recvmsg"), a, 4, *entry, mem);
  ASSERT_TRUE(r) << r.error().message();
  EXPECT_EQ(*r, (R{{0x1000, 6}, {0x2000, 4}, {0x3000, 20}, {0x708, 4}, {0x728, 8}, {0x730, 4}}));
}

TEST(SyscallModelTest, IoctlSizes) {
  EXPECT_EQ(regions("ioctl", {1, 0x5401, 0x100}, 0), (R{{0x100, 36}}));   // TCGETS
  EXPECT_EQ(regions("ioctl", {1, 0x5413, 0x100}, 0), (R{{0x100, 8}}));    // TIOCGWINSZ
  EXPECT_EQ(regions("ioctl", {1, 0x541b, 0x100}, 0), (R{{0x100, 4}}));    // FIONREAD
  EXPECT_EQ(regions("ioctl", {1, 0x5414, 0x100}, 0), R{});                 // TIOCSWINSZ
  EXPECT_EQ(regions("ioctl", {1, 0x80045430, 0x100}, 0), (R{{0x100, 4}})); // TIOCGPTN = _IOR('T', 0x30, int)
  EXPECT_EQ(regions("ioctl", {1, 0x40045431, 0x100}, 0), R{});             // TIOCSPTLCK = _IOW
  EXPECT_EQ(regions("ioctl", {1, 0xc0184800, 0x100}, 0), (R{{0x100, 24}})); // _IOWR: written back
  EXPECT_EQ(regions("ioctl", {1, 0x5401, 0x100}, -25), R{});               // ENOTTY
  FakeMemory mem;
  auto r = written_regions(nr("ioctl"), {1, 0x5499, 0x100}, 0, {}, mem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "syscall ioctl (29): ioctl request 0x5499 is not modeled (its memory effects are unknown)");
}

TEST(SyscallModelTest, FcntlPrctlFutex) {
  EXPECT_EQ(regions("fcntl", {3, 5, 0x100}, 0), (R{{0x100, 32}}));  // F_GETLK
  EXPECT_EQ(regions("fcntl", {3, 3, 0}, 2), R{});                     // F_GETFL
  EXPECT_EQ(regions("prctl", {16, 0x200, 0, 0, 0}, 0), (R{{0x200, 16}}));  // PR_GET_NAME
  EXPECT_EQ(regions("prctl", {15, 0x200, 0, 0, 0}, 0), R{});             // PR_SET_NAME
  EXPECT_EQ(regions("futex", {0x300, 128 | 1, 1, 0, 0, 0}, 0), R{});     // FUTEX_WAKE_PRIVATE
  EXPECT_EQ(regions("futex", {0x300, 5, 1, 0, 0x400, 0}, 1), (R{{0x400, 4}}));  // FUTEX_WAKE_OP
  EXPECT_EQ(regions("futex", {0x300, 6, 0, 0, 0, 0}, 0), (R{{0x300, 4}}));      // FUTEX_LOCK_PI
  FakeMemory mem;
  EXPECT_EQ(written_regions(nr("fcntl"), {3, 999, 0}, 0, {}, mem).error().message(),
            "syscall fcntl (25): fcntl command 999 is not modeled (its memory effects are unknown)");
  EXPECT_FALSE(written_regions(nr("prctl"), {12345, 0, 0, 0, 0}, 0, {}, mem));
  EXPECT_FALSE(written_regions(nr("futex"), {0, 99, 0, 0, 0, 0}, 0, {}, mem));
}

TEST(SyscallModelTest, SelectCloneAndSleep) {
  EXPECT_EQ(regions("pselect6", {65, 0x100, 0, 0x300, 0x400, 0}, 1),
            (R{{0x100, 16}, {0x300, 16}, {0x400, 16}}));
  EXPECT_EQ(regions("clone", {0x00100000 | 17, 0, 0x500, 0, 0}, 42), (R{{0x500, 4}}));  // CLONE_PARENT_SETTID
  EXPECT_EQ(regions("clone", {17, 0, 0x500, 0, 0}, 42), R{});                           // plain fork
  FakeMemory mem;
  uint64_t cargs[8] = {0x1000 | 0x00100000, 0x600, 0, 0x700, 0, 0, 0, 0};  // CLONE_PIDFD|PARENT_SETTID
  mem.put(0x800, cargs, sizeof cargs);
  EXPECT_EQ(regions("clone3", {0x800, 64}, 42, mem), (R{{0x600, 4}, {0x700, 4}}));
  EXPECT_EQ(regions("nanosleep", {0x100, 0x200}, 0), R{});
  EXPECT_EQ(regions("nanosleep", {0x100, 0x200}, -4), (R{{0x200, 16}}));  // EINTR: the remainder
}

TEST(SyscallModelTest, UnknownSyscallsAreErrorsNamingThem) {
  FakeMemory mem;
  auto r = written_regions(nr("io_uring_setup"), {}, 3, {}, mem);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(),
            "syscall io_uring_setup (425): this syscall is not modeled (its memory effects are unknown)");
  EXPECT_FALSE(capture_entry(9999, {}, mem));
  EXPECT_EQ(find_model(9999), nullptr);
}

TEST(SyscallModelTest, ImplausibleSizesAreRefused) {
  FakeMemory mem;
  EXPECT_FALSE(written_regions(nr("rt_sigprocmask"), {0, 0, 0x100, 1ull << 40}, 0, {}, mem));
  EXPECT_FALSE(written_regions(nr("ppoll"), {0x100, 1ull << 30, 0, 0, 8}, 0, {}, mem));
  uint64_t iov[2] = {0x1000, 8};
  mem.put(0x500, iov, sizeof iov);
  EXPECT_FALSE(written_regions(nr("readv"), {3, 0x500, 5000}, 8, {}, mem));
}

TEST(SyscallModelTest, ThreadCreationIsDetected) {
  FakeMemory mem;
  EXPECT_TRUE(*creates_thread(nr("clone"), {0x3d0f00, 0, 0, 0, 0, 0}, mem));  // pthread_create's flags
  EXPECT_FALSE(*creates_thread(nr("clone"), {0x1200011, 0, 0, 0, 0, 0}, mem));  // fork
  mem.put_value<uint64_t>(0x100, 0x00010000 | 0x100);
  EXPECT_TRUE(*creates_thread(nr("clone3"), {0x100, 88, 0, 0, 0, 0}, mem));
  mem.put_value<uint64_t>(0x100, 0x100);
  EXPECT_FALSE(*creates_thread(nr("clone3"), {0x100, 88, 0, 0, 0, 0}, mem));
  EXPECT_FALSE(*creates_thread(nr("getpid"), {}, mem));
}

TEST(SyscallModelTest, ErrnoNames) {
  EXPECT_EQ(errno_name(2), "ENOENT");
  EXPECT_EQ(errno_name(25), "ENOTTY");
}

}  // namespace
}  // namespace hwslice
