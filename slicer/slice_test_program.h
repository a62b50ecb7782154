// A hand-made interval for the slice writer's tests (unit and end-to-end):
// a code page of hand-encoded RV64GC instructions, a data page and a stack
// page, with the syscalls, registers, output and memory digest worked out by
// reading the program, not by running it.
//
//   0x10000  addi a0, zero, 1      00100513
//   0x10004  mv   a1, s0           00040593   "hello\n" at 0x20000
//   0x10008  addi a2, zero, 6      00600613
//   0x1000c  addi a7, zero, 64     04000893
//   0x10010  ecall                 write(1, "hello\n", 6) = 6: echo, near stub
//   0x10014  addi a7, zero, 172    0ac00893
//   0x10018  ecall                 getpid() = 1234: in place
//   0x1001c  add  s3, a0, zero     000509b3
//   0x10020  addi a0, zero, 0      00000513
//   0x10024  addi a1, s0, 64       04040593
//   0x10028  addi a2, zero, 8      00800613
//   0x1002c  addi a7, zero, 63     03f00893
//   0x10030  ecall                 read(0, 0x20040, 8) = 8, writes kReadValue
//   0x10034  ld   s4, 64(s0)       04043a03
//   0x10038  sd   s3, -8(sp)       ff313c23   1234 at 0x7ff7f8
//   0x1003c  addi a0, zero, 2      00200513
//   0x10040  addi a1, s0, 8        00840593   "err\n" at 0x20008
//   0x10044  addi a2, zero, 4      00400613
//   0x10048  addi a7, zero, 64     04000893
//   0x1004c  ecall                 write(2, "err\n", 4) = 4: echo
//   0x10050  addi t0, zero, 5      00500293
//   loop (5 times):
//   0x10054  addi s1, s1, 1        00148493
//   0x10058  c.add s2, s4          9952       kLoopAdd: end on the 3rd arrival
//   0x1005a  sd   s2, 16(s0)       01243823   kLoopStore: or here, 3rd arrival
//   0x1005e  blt  s1, t0, loop     fe54cbe3
//   0x10062  addi a0, zero, 0      00000513
//   0x10066  addi a7, zero, 94     05e00893
//   0x1006a  ecall                 exit_group(0): kExit ends here
//   0x1006e  .word 0               (illegal: a missed end faults)
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <vector>

#include "runtime/slice_abi.h"
#include "record/slice_spec.h"

namespace hwslice::test_program {

inline constexpr uint64_t kCode = 0x10000, kData = 0x20000, kStack = 0x7ff000, kSp = 0x7ff800;
inline constexpr uint64_t kSiteWrite1 = 0x10010, kSiteGetpid = 0x10018, kSiteRead = 0x10030, kSiteWrite2 = 0x1004c,
                          kSiteExit = 0x1006a;
inline constexpr uint64_t kLoopAdd = 0x10058, kLoopStore = 0x1005a;
inline constexpr uint64_t kReadValue = 0x0877665544332211, kPid = 1234;
inline constexpr uint64_t kStart = 1000;  // program position of 0x10000

enum class End {
  kLoopAdd,    // the c.add on its 3rd arrival (2-byte end instruction)
  kLoopStore,  // the sd on its 3rd arrival (4-byte end instruction)
  kExit,       // the exit_group ecall after the loop (EndKind::kSyscall)
};

inline const std::vector<uint32_t>& code_words() {
  // The 4-byte instructions before the c.add at 0x10058.
  static const std::vector<uint32_t> words = {
      0x00100513, 0x00040593, 0x00600613, 0x04000893, 0x00000073, 0x0ac00893, 0x00000073, 0x000509b3,
      0x00000513, 0x04040593, 0x00800613, 0x03f00893, 0x00000073, 0x04043a03, 0xff313c23, 0x00200513,
      0x00840593, 0x00400613, 0x04000893, 0x00000073, 0x00500293, 0x00148493};
  return words;
}

inline std::vector<uint8_t> code_page() {
  std::vector<uint8_t> page(4096, 0);
  size_t off = 0;
  for (uint32_t w : code_words()) {
    std::memcpy(&page[off], &w, 4);
    off += 4;
  }
  const uint16_t cadd = 0x9952;
  std::memcpy(&page[off], &cadd, 2);
  off += 2;
  for (uint32_t w : {0x01243823u, 0xfe54cbe3u, 0x00000513u, 0x05e00893u, 0x00000073u, 0x00000000u}) {
    std::memcpy(&page[off], &w, 4);
    off += 4;
  }
  return page;
}

inline std::vector<uint8_t> data_page() {
  std::vector<uint8_t> page(4096, 0);
  std::memcpy(&page[0], "hello\n", 6);
  std::memcpy(&page[8], "err\n", 4);
  for (size_t i = 0x100; i < 4096; ++i) page[i] = static_cast<uint8_t>(i * 7);
  return page;
}

// All zeros at the start: its region shares the slice's zero block.
inline std::vector<uint8_t> stack_page() { return std::vector<uint8_t>(4096, 0); }

inline uint64_t digest(const std::vector<AddressRange>& ranges, const std::map<uint64_t, std::vector<uint8_t>>& pages) {
  uint64_t h = HWS_FNV_OFFSET;
  for (const AddressRange& r : ranges) {
    const uint64_t size = r.end - r.start;
    h = hws_hash(h, reinterpret_cast<const unsigned char*>(&r.start), 8);
    h = hws_hash(h, reinterpret_cast<const unsigned char*>(&size), 8);
    std::vector<unsigned char> content;
    for (uint64_t a = r.start; a < r.end; ++a) content.push_back(pages.at(a & ~0xfffull)[a & 0xfff]);
    h = hws_hash(h, content.data(), content.size());
  }
  return h;
}

// The interval ending at `end`. `final_pages` receives the memory content
// at the end (data and stack pages), derived by reading the program.
inline SliceSpec make_spec(End end, std::map<uint64_t, std::vector<uint8_t>>* final_pages = nullptr) {
  SliceSpec s;
  s.program = "/test/hand-made";
  s.start = kStart;
  s.exact = true;

  RegsRecord& r = s.start_regs;
  r.pc = kCode;
  r.ints[2] = kSp;                      // sp
  r.ints[3] = 0x7777;                   // gp
  r.ints[4] = 0x1234567;                // tp
  r.ints[8] = kData;                    // s0
  r.ints[15] = 0x55;                    // a5
  r.ints[31] = 0xdeadbeefcafef00d;      // t6
  r.fps[1] = 0x400921fb54442d18;        // pi
  r.fps[31] = 0x3ff0000000000000;       // 1.0
  r.fcsr = 0x20;                        // frm = RTZ

  s.pages.push_back({kCode, 5, true, false, true, false, code_page()});
  s.pages.push_back({kData, 3, true, true, false, true, data_page()});
  s.pages.push_back({kStack, 3, false, true, false, false, stack_page()});
  s.mappings = {{kCode, kCode + 0x1000, "/test/hand-made"},
                {kData, kData + 0x1000, "/test/hand-made"},
                {0x7df000, 0x800000, "[stack]"}};

  auto call = [&](long nr, const char* name, std::array<uint64_t, 6> args, uint64_t ret, uint64_t pc) {
    SyscallRecord c;
    c.index = s.syscalls.size();
    c.nr = nr;
    c.name = name;
    c.args = args;
    c.ret = ret;
    c.pc = pc;
    s.syscalls.push_back(c);
    return &s.syscalls.back();
  };
  call(64, "write", {1, kData, 6, 0, 0, 0}, 6, kSiteWrite1);
  call(172, "getpid", {6, kData, 6, 0, 0, 0}, kPid, kSiteGetpid);
  SyscallRecord* rd = call(63, "read", {0, kData + 0x40, 8, 0, 0, 0}, 8, kSiteRead);
  std::vector<uint8_t> value(8);
  std::memcpy(value.data(), &kReadValue, 8);
  rd->writes.push_back({kData + 0x40, value});
  call(64, "write", {2, kData + 8, 4, 0, 0, 0}, 4, kSiteWrite2);

  // Registers at the end: the start registers plus what the code did.
  RegsRecord& e = s.end_regs;
  e = r;
  e.ints[5] = 5;                        // t0
  e.ints[10] = 4;                       // a0 = write's return
  e.ints[11] = kData + 8;               // a1
  e.ints[12] = 4;                       // a2
  e.ints[17] = 64;                      // a7
  e.ints[19] = kPid;                    // s3
  e.ints[20] = kReadValue;              // s4
  uint64_t stored = 0;                  // s2 at 0x20010
  if (end == End::kLoopAdd) {           // 3rd arrival at c.add: s1 = 3, s2 = 2v
    s.end = kStart + 21 + 8 + 1;
    e.pc = kLoopAdd;
    e.ints[9] = 3;
    e.ints[18] = 2 * kReadValue;
    stored = 2 * kReadValue;
  } else if (end == End::kLoopStore) {  // 3rd arrival at sd: s1 = 3, s2 = 3v, stored 2v
    s.end = kStart + 21 + 8 + 2;
    e.pc = kLoopStore;
    e.ints[9] = 3;
    e.ints[18] = 3 * kReadValue;
    stored = 2 * kReadValue;
  } else {                              // at the exit ecall: 5 iterations
    s.end = kStart + 21 + 20 + 2;
    s.end_kind = SliceSpec::EndKind::kSyscall;
    e.pc = kSiteExit;
    e.ints[9] = 5;
    e.ints[18] = 5 * kReadValue;
    e.ints[10] = 0;
    e.ints[17] = 94;
    stored = 5 * kReadValue;
    call(94, "exit_group", {0, kData + 8, 4, 0, 0, 0}, 0, kSiteExit);
  }
  s.stdout_bytes = {'h', 'e', 'l', 'l', 'o', '\n'};
  s.stderr_bytes = {'e', 'r', 'r', '\n'};

  // Written memory: the data page (read's 8 bytes, the loop's store) and the
  // stack page (s3 at sp - 8).
  std::map<uint64_t, std::vector<uint8_t>> fin = {{kData, data_page()}, {kStack, stack_page()}};
  std::memcpy(&fin[kData][0x40], &kReadValue, 8);
  std::memcpy(&fin[kData][0x10], &stored, 8);
  std::memcpy(&fin[kStack][0x7f8], &kPid, 8);
  s.digest_ranges = {{kData, kData + 0x1000, ""}, {kStack, kStack + 0x1000, "[stack]"}};
  s.digest = digest(s.digest_ranges, fin);
  if (final_pages) *final_pages = fin;
  return s;
}

}  // namespace hwslice::test_program
