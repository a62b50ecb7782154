// Target test (riscv64 only): the doctor's probe code itself. Under
// qemu-riscv64 and on a board the counter CSR probes run in user mode.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>

extern "C" {
uint64_t hwslice_probe_rdtime();
extern char hwslice_probe_page[4096];
}

namespace {

TEST(ProbeTest, ProbePageIsPageAlignedAndMarked) {
  EXPECT_EQ(reinterpret_cast<uintptr_t>(hwslice_probe_page) % 4096, 0u);
  uint64_t marker;
  std::memcpy(&marker, hwslice_probe_page, sizeof marker);
  EXPECT_EQ(marker, 0x6877736c69636521ULL);
}

TEST(ProbeTest, RdtimeAdvances) {
  uint64_t a = hwslice_probe_rdtime();
  volatile uint64_t spin = 0;
  for (int i = 0; i < 1000000; ++i) spin = spin + 1;
  uint64_t b = hwslice_probe_rdtime();
  EXPECT_GT(b, a);
}

}  // namespace
