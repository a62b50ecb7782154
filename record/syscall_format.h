// Human output of a syscall trace: strace-like lines and a -c style
// summary table (also as JSON).
//
// Contract: pure formatting of records and collected numbers; strings read
// from the tracee at syscall entry are passed in by the caller.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "record/syscall_model.h"
#include "record/trace_record.h"

namespace hwslice {

// Arguments as shown: strings for 's' arguments must be given (already
// quoted and escaped) in `strings`, by argument index.
std::string format_args(long nr, const SyscallArgs& args, const std::map<unsigned, std::string>& strings);
// "= 3", "= 0x3ff7e000", "= -1 ENOENT (No such file or directory)".
// Calls that return addresses (brk, mmap, mremap) are shown in hex.
std::string format_return(long nr, uint64_t ret);
// C-style quoting with at most `max` bytes shown, "..." after when cut.
std::string quote_string(const std::string& s, size_t max = 64);

class SyscallSummary {
 public:
  void add(const SyscallRecord& r, std::chrono::nanoseconds elapsed);
  // strace -c like table: % time, seconds, usecs/call, calls, errors,
  // bytes written by the kernel, syscall; sorted by time, then calls.
  std::string table() const;
  nlohmann::json to_json() const;

 private:
  struct Row {
    uint64_t calls = 0, errors = 0, bytes = 0;
    std::chrono::nanoseconds time{0};
  };
  std::map<std::string, Row> rows_;
};

}  // namespace hwslice
