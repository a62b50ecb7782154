// Parsing of the RISC-V ISA string Linux prints in /proc/cpuinfo
// ("rv64imafdc_zicntr_zicsr_zba_zbb_sscofpmf") and of kernel release strings.
//
// Contract: pure parsing, no I/O, except machine_has_compressed(), which
// reads /proc/cpuinfo. Unknown or malformed input yields an empty or zero
// result rather than an exception; callers report it as "unknown".
#pragma once

#include <set>
#include <string>
#include <string_view>

namespace hwslice {

struct IsaInfo {
  unsigned xlen = 0;              // 32 or 64; 0 when the string is not an ISA string
  std::set<std::string> extensions;  // lower case: "i", "m", "c", "zba", "sscofpmf", ...

  bool has(std::string_view ext) const { return extensions.count(std::string(ext)) != 0; }
  // Canonical text: "rv64" + single letters + "_"-joined multi-letter names.
  std::string to_string() const;
};

IsaInfo parse_isa_string(std::string_view isa);

// The first "isa" line of a /proc/cpuinfo text ("isa\t\t: rv64imafdc_..."),
// or "" when there is none.
std::string cpuinfo_isa_line(std::string_view cpuinfo);

// Whether this machine's ISA (/proc/cpuinfo) has the C extension: c.ebreak
// works as a 2-byte breakpoint; without it every instruction is 4-aligned.
// False when /proc/cpuinfo cannot be read.
bool machine_has_compressed();

struct KernelVersion {
  unsigned major = 0, minor = 0, patch = 0;
  auto operator<=>(const KernelVersion&) const = default;
};

// "6.12.57+deb13-riscv64" -> {6, 12, 57}; missing parts are 0.
KernelVersion parse_kernel_release(std::string_view release);

}  // namespace hwslice
