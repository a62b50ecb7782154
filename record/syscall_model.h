// The syscall model: for each riscv64 Linux syscall, how to show its
// arguments and exactly which user memory the kernel writes, so a trace can
// record those bytes and a slice can replay them.
//
// Contract:
//  - Table-driven: one SyscallModel per syscall, the effects described as
//    data (fixed struct, size from an argument, size from the return value,
//    in/out length words, iovecs, msghdr, ioctl sizes from _IOC, ...).
//  - A syscall with no model, or a model whose variant (ioctl request, fcntl
//    command, prctl option) is not known, is an Error naming it: the tracer
//    never records a silent gap. Syscalls known to write nothing have an
//    empty effect list.
//  - Sizes that need tracee memory (in/out lengths, iovec arrays, msghdr)
//    are read through MemoryReader, so unit tests use a fake memory.
//  - Layouts are riscv64 LP64 (struct stat 128 bytes, termios 36, ...).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace hwslice {

using SyscallArgs = std::array<uint64_t, 6>;

class MemoryReader {
 public:
  virtual ~MemoryReader() = default;
  virtual Status read(uint64_t addr, void* buf, size_t len) = 0;
};

enum class Effect : uint8_t {
  kFixed,      // `size` bytes at arg[ptr] when it is non-null and ret >= 0
  kOnEintr,    // `size` bytes at arg[ptr] only when ret == -EINTR (nanosleep's remainder)
  kRetBytes,   // ret bytes at arg[ptr] when ret > 0
  kArgBytes,   // arg[len] bytes at arg[ptr] when ret >= 0
  kRetElems,   // ret * size bytes at arg[ptr] when ret > 0
  kArgElems,   // arg[len] * size bytes at arg[ptr] when ret >= 0
  kInOutLen,   // buffer arg[ptr] with socklen_t* arg[len]: min(in, out) bytes, and the 4-byte length
  kIovec,      // iovec array arg[ptr] of arg[len] entries, filled with ret bytes in order
  kMsghdr,     // struct msghdr at arg[ptr] (recvmsg): name, iovecs, control, and its length fields
  kIoctl,      // request arg[1], data arg[2]
  kFcntl,      // command arg[1], data arg[2]
  kPrctl,      // option arg[0], data arg[1]
  kFutex,      // op arg[1]: PI operations write the futex word(s)
  kFdSets,     // pselect6: three fd_sets of arg[0] bits, timeout
  kClone,      // CLONE_PARENT_SETTID / CLONE_PIDFD write the parent's tid word
  kClone3,     // struct clone_args at arg[0]
  kPageVector, // one byte per page of arg[len] bytes at arg[ptr] (mincore)
};

struct EffectSpec {
  Effect kind;
  uint8_t ptr = 0;   // argument holding the address
  uint8_t len = 0;   // argument holding a length or count (when used)
  uint32_t size = 0; // fixed or element size in bytes
};

struct SyscallModel {
  std::string_view name;
  // One letter per argument, for strace-like display: d signed, u unsigned,
  // x hex (pointers, flags), o octal, s C string in the tracee, f fd
  // (AT_FDCWD shown by name).
  std::string_view args;
  std::vector<EffectSpec> effects;
};

// The model of a syscall number, or nullptr when the syscall is not modeled.
const SyscallModel* find_model(long nr);
// Every model (for tests: names must exist in the syscall table, once each).
const std::vector<SyscallModel>& model_list();

// Values that must be read before the kernel runs (input lengths).
struct EntryState {
  std::array<uint64_t, 4> saved{};
};

// A region of tracee memory the kernel wrote.
struct Region {
  uint64_t addr;
  uint64_t len;
  bool operator==(const Region&) const = default;
};

// Captures what written_regions() needs from before the call. Errors name
// the syscall.
Result<EntryState> capture_entry(long nr, const SyscallArgs& args, MemoryReader& mem);

// The regions the kernel wrote for a completed call, in the order the
// kernel writes them; empty for calls that write nothing or failed.
Result<std::vector<Region>> written_regions(long nr, const SyscallArgs& args, int64_t ret,
                                            const EntryState& entry, MemoryReader& mem);

// True for calls that create a thread (clone/clone3 with CLONE_THREAD).
Result<bool> creates_thread(long nr, const SyscallArgs& args, MemoryReader& mem);

// Linux errno name for a value in [1, 4095] ("ENOENT"), or "" when unknown.
std::string_view errno_name(int err);

}  // namespace hwslice
