// Trace records: what `hwslice trace` writes (JSON Lines, one record per
// line) and what the slicer reads back. The format extends the seed's records
// and is specified in docs/trace-format.md.
//
// Contract: encode() produces one line without the newline; decode() accepts
// exactly what encode() produces plus any field order, and rejects anything
// else with an Error naming the line and the field. Numbers that are
// addresses, register values or raw syscall values are lower-case hex
// strings without "0x"; memory data is hex in memory order (two digits per
// byte).
#pragma once

#include <array>
#include <cstdint>
#include <istream>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/result.h"

namespace hwslice {

struct MemWrite {
  uint64_t addr = 0;
  std::vector<uint8_t> data;
  bool operator==(const MemWrite&) const = default;
};

// One completed system call and the exact bytes the kernel wrote.
struct SyscallRecord {
  uint64_t index = 0;  // 0-based position among the program's syscalls
  long nr = 0;
  std::string name;
  std::array<uint64_t, 6> args{};
  uint64_t ret = 0;    // a0 after the call (negative errno as two's complement)
  uint64_t pc = 0;     // address of the ecall
  std::vector<MemWrite> writes;
  bool operator==(const SyscallRecord&) const = default;
};

// All user registers at one point of the execution.
struct RegsRecord {
  uint64_t pc = 0;
  std::array<uint64_t, 32> ints{};  // x0..x31 (x0 always 0)
  std::array<uint64_t, 32> fps{};   // f0..f31 raw bits
  uint32_t fcsr = 0;
  std::optional<uint64_t> icount;   // user instructions retired before this point, when known
  std::string at;                   // why: "entry", "attach", "exec", "position", "interval"
  std::string mode;                 // how the position was reached ("step"), "" when not a position
  bool exact = true;                // false when the position may be off (e.g. a signal handler ran)
  bool operator==(const RegsRecord&) const = default;
};

// Something a slice must know that is not a syscall: the vDSO and its
// symbols, code pages with rdtime/rdcycle/rdinstret, an exec, a fork whose
// child was not followed, kernel writes outside syscalls (rseq).
struct NoteRecord {
  std::string kind;   // "vdso", "nondet", "exec", "fork", "async_write", "unknown_effects", "signal" (size: its number)
  uint64_t addr = 0;  // where (page, symbol or area address), 0 if none
  uint64_t size = 0;
  std::string detail;
  bool operator==(const NoteRecord&) const = default;
};

// How the program ended.
struct ExitRecord {
  int status = 0;     // exit code, when signal == 0
  int signal = 0;     // fatal signal, 0 for a normal exit
  bool core = false;
  bool operator==(const ExitRecord&) const = default;
};

// The pages one interval touched (page mode, hwslice trace --interval).
struct TouchedPage {
  uint64_t addr = 0;
  std::string kind;     // letters of "rwxk": read, write, exec, by the kernel (syscall buffer)
  uint64_t digest = 0;  // hws_hash (runtime/slice_abi.h) of the page's content at its first touch
  bool operator==(const TouchedPage&) const = default;
};
struct PagesRecord {
  uint64_t interval = 0;     // 0-based interval number
  uint64_t start = 0, end = 0;
  std::vector<TouchedPage> pages;
  bool operator==(const PagesRecord&) const = default;
};

// Step mode (hwslice trace --mode step): one record per instruction run, in
// order, followed by the memory it read or wrote.
struct InstRecord {
  uint64_t pc = 0;
  uint32_t word = 0;    // the encoding (16 bits when compressed)
  unsigned length = 4;  // 2 or 4
  bool operator==(const InstRecord&) const = default;
};
struct AccessRecord {
  bool write = false;         // "write": bytes after the store; "read": bytes the load saw
  uint64_t addr = 0;
  std::vector<uint8_t> data;  // empty when the tracer cannot read the address ([vvar])
  bool operator==(const AccessRecord&) const = default;
};

// A read of cycle, time or instret by the program's own code (rdcycle,
// rdtime, rdinstret at `pc`, into integer register `rd`) and the value it
// got: an input no syscall carries, which slices replay at the same site.
struct CounterRecord {
  uint64_t pc = 0;
  std::string csr;  // "cycle", "time", "instret"
  unsigned rd = 0;
  uint64_t value = 0;
  bool operator==(const CounterRecord&) const = default;
};

using TraceRecord = std::variant<SyscallRecord, RegsRecord, NoteRecord, ExitRecord, PagesRecord, InstRecord,
                                 AccessRecord, CounterRecord>;

// In a slice's replay sequence (SliceSpec::syscalls), a counter read is an
// entry with this `nr`, its name ("rdtime", ...), args[0] = rd, args[1] =
// the CSR number, ret = the value and pc = the site; never a syscall number.
inline constexpr long kCounterReadNr = -0x100;
SyscallRecord counter_read_call(const CounterRecord& r, uint64_t index);
inline bool is_counter_read(const SyscallRecord& r) { return r.nr == kCounterReadNr; }

// The other two events of a replay sequence (runtime/slice_abi.h, "Events"):
//  - a fault mark: the program's instruction at `pc` faults there (a page's
//    first touch that a slice must see happen, or the program's own fault):
//    name "fault", args[0] = the signal, args[1] = the page (kNoPage: none),
//    args[2] = the page's protection from the mark on (kProtFinal: its
//    protection in the slice), args[3] = its protection before the mark
//    (the access faults under it), args[4] = the fault address;
//  - a signal delivery: the kernel delivered a signal to the program's
//    handler at `pc` (the pc it interrupted): name = the signal's name,
//    args[0] = the signal, args[1] = handler pc, args[2] = sp, args[3] = ra,
//    args[4] = a1 (&siginfo), args[5] = a2 (&ucontext); writes = the frame.
inline constexpr long kFaultMarkNr = -0x101;
inline constexpr long kSignalNr = -0x102;
inline constexpr uint64_t kNoPage = ~uint64_t{0};
inline constexpr uint64_t kProtFinal = ~uint64_t{0};
inline bool is_fault_mark(const SyscallRecord& r) { return r.nr == kFaultMarkNr; }
inline bool is_signal_delivery(const SyscallRecord& r) { return r.nr == kSignalNr; }
// A real syscall (not a counter read, fault mark or signal delivery).
inline bool is_syscall(const SyscallRecord& r) { return r.nr >= 0; }

std::string encode(const TraceRecord& record);
// `line_number` is used in error messages ("line 12: ...").
Result<TraceRecord> decode(const std::string& line, size_t line_number);

// Reads a whole JSONL stream; the first bad line is the error. Blank lines
// are allowed.
Result<std::vector<TraceRecord>> read_trace(std::istream& in);

std::string to_hex(uint64_t v);
// "0x" + to_hex(v): addresses and values in messages.
std::string hex_addr(uint64_t v);
std::string bytes_to_hex(const std::vector<uint8_t>& data);

}  // namespace hwslice
