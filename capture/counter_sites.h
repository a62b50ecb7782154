// CounterSites: breakpoints on the program's counter reads (rdtime, rdcycle,
// rdinstret) while page mode slices it, so each value the program reads can
// be recorded and replayed by the slice (riscv/counter_reads.h says why and
// how the sites are found).
//
// Every executable mapping of an ELF file (the program, ld.so, libraries;
// not the vDSO, whose time functions are patched into syscalls, nor
// anonymous code) has its sites armed with an ebreak. At a site's SIGTRAP
// the owner calls execute(): the original instruction runs in the tracee on
// the tracer's code page (so the value comes from the program's own hart),
// rd gets the value and pc moves past the site. A read the kernel refuses
// (SIGILL: rdcycle/rdinstret without perf_user_access=2) disarms the site
// and leaves pc on it, so the program takes that SIGILL itself, as it would
// untraced.
//
// Contract:
//  - refresh() after the program starts and after every call that changes
//    mappings: arms new mappings' sites (only where the tracee's bytes equal
//    the file's), forgets sites whose mapping went away, and puts the
//    original bytes back where a site's memory is no longer executable code
//    of its file.
//  - Memory the tracer reads while sites are armed holds ebreaks at them:
//    unpatch() gives any copy its original bytes (slice pages are recorded
//    through it).
//  - disarm_all() removes every breakpoint (the owner calls it before the
//    program runs on untraced, e.g. detach); a killed tracee needs none.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "riscv/counter_reads.h"
#include "ptrace/remote_ptr.h"
#include "base/result.h"

namespace hwslice {

class Tracee;

class CounterSites {
 public:
  explicit CounterSites(Tracee& tracee) : tracee_(tracee) {}

  // `program_prot(addr)`: the program's own protection of addr where it
  // differs from what /proc/<pid>/maps shows (page mode keeps pages
  // protected), else nullopt.
  Status refresh(const std::function<std::optional<int>(uint64_t)>& program_prot = {});
  // The armed site at `pc`, or null.
  const CounterSite* at(uint64_t pc) const;
  // At the SIGTRAP of site `s`: runs its read on the code page `scratch`,
  // sets rd and pc = s.pc + 4; returns the value. nullopt: the read traps
  // (see above), the site is disarmed and pc stays on it.
  Result<std::optional<uint64_t>> execute(const CounterSite& s, RemoteAddr scratch);
  // Writes the original bytes of armed sites into `data`, a copy of the
  // tracee's [addr, addr + len).
  void unpatch(uint64_t addr, uint8_t* data, size_t len) const;
  Status disarm_all();
  size_t armed() const { return armed_.size(); }

 private:
  struct Armed {
    CounterSite site;
    std::string path;
  };
  Status restore(uint64_t pc, uint32_t word);

  Tracee& tracee_;
  std::map<uint64_t, Armed> armed_;
  // Mappings already scanned: start, end, file offset, path.
  std::set<std::tuple<uint64_t, uint64_t, uint64_t, std::string>> scanned_;
  // Sites of each file read so far, pc = file offset.
  std::map<std::string, std::vector<CounterSite>> file_sites_;
};

}  // namespace hwslice
