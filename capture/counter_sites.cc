#include "capture/counter_sites.h"

#include <sys/mman.h>

#include "riscv/address_space.h"
#include "base/file_bytes.h"
#include "riscv/riscv_isa.h"
#include "ptrace/syscall_injector.h"
#include "record/trace_record.h"
#include "ptrace/tracee.h"

namespace hwslice {

Status CounterSites::refresh(const std::function<std::optional<int>(uint64_t)>& program_prot) {
  auto maps = read_maps(tracee_.pid());
  if (!maps) return maps.error();
  auto exec = [&](const Mapping& m) {
    std::optional<int> p = program_prot ? program_prot(m.start) : std::nullopt;
    return p ? (*p & PROT_EXEC) != 0 : m.exec;
  };
  auto code_of = [&](uint64_t pc) -> const Mapping* {
    // The vma holding the site's first byte (page mode splits vmas at
    // pages it opened; a site may straddle two).
    for (const Mapping& m : *maps)
      if (pc >= m.start && pc < m.end) return &m;
    return nullptr;
  };
  // Sites whose mapping changed: gone (nothing to restore), or no longer
  // the executable code of their file (bytes put back if still ours).
  for (auto it = armed_.begin(); it != armed_.end();) {
    const Mapping* m = code_of(it->first);
    if (m && exec(*m) && m->path == it->second.path) {
      ++it;
      continue;
    }
    if (m) HWSLICE_TRY(restore(it->first, it->second.site.word));
    it = armed_.erase(it);
  }
  std::set<std::tuple<uint64_t, uint64_t, uint64_t, std::string>> now;
  for (const Mapping& m : *maps) {
    if (!exec(m) || m.path.empty() || m.path[0] != '/') continue;
    auto key = std::make_tuple(m.start, m.end, m.offset, m.path);
    now.insert(key);
    if (scanned_.count(key)) continue;
    auto cached = file_sites_.find(m.path);
    if (cached == file_sites_.end()) {
      // A file that cannot be read or parsed (deleted since, not ELF) has
      // no known sites.
      std::vector<CounterSite> sites;
      if (auto file = read_file_bytes(m.path); file)
        if (auto s = counter_read_sites(*file, 0, 0, file->size()); s) sites = std::move(*s);
      cached = file_sites_.emplace(m.path, std::move(sites)).first;
    }
    for (const CounterSite& fs : cached->second) {
      if (fs.pc < m.offset || fs.pc >= m.offset + (m.end - m.start)) continue;  // its first byte here
      CounterSite s = fs;
      s.pc = m.start + (fs.pc - m.offset);
      if (armed_.count(s.pc)) continue;
      uint32_t cur = 0;
      // (Forced: page mode may hold the page protected.)
      if (!tracee_.read_forced(RemoteAddr(s.pc), &cur, 4) || cur != s.word) continue;  // not the file's bytes
      HWSLICE_TRY(tracee_.write(RemoteAddr(s.pc), &riscv::kEbreak, 4));
      armed_.emplace(s.pc, Armed{s, m.path});
    }
  }
  scanned_ = std::move(now);
  return ok_status();
}

const CounterSite* CounterSites::at(uint64_t pc) const {
  auto it = armed_.find(pc);
  return it == armed_.end() ? nullptr : &it->second.site;
}

Result<std::optional<uint64_t>> CounterSites::execute(const CounterSite& s, RemoteAddr scratch) {
  const CounterSite site = s;  // `s` lives in armed_, which may change below
  auto v = inject_instruction(tracee_, scratch, site.word, site.insn.rd);
  if (!v) return v.error().wrap(std::string("running the program's ") + site.insn.name + " at " + to_hex(site.pc));
  if (!*v) {
    HWSLICE_TRY(restore(site.pc, site.word));
    armed_.erase(site.pc);
    return v;
  }
  auto regs = tracee_.regs();
  if (!regs) return regs.error();
  regs->set_x(site.insn.rd, **v);
  regs->set_pc(site.pc + 4);
  HWSLICE_TRY(tracee_.set_regs(*regs));
  return v;
}

void CounterSites::unpatch(uint64_t addr, uint8_t* data, size_t len) const {
  for (auto it = armed_.lower_bound(addr >= 3 ? addr - 3 : 0); it != armed_.end() && it->first < addr + len; ++it) {
    for (unsigned i = 0; i < 4; ++i) {
      const uint64_t a = it->first + i;
      if (a >= addr && a < addr + len) data[a - addr] = static_cast<uint8_t>(it->second.site.word >> (8 * i));
    }
  }
}

Status CounterSites::restore(uint64_t pc, uint32_t word) {
  uint32_t cur = 0;
  if (!tracee_.read_forced(RemoteAddr(pc), &cur, 4) || cur != riscv::kEbreak) return ok_status();
  return tracee_.write(RemoteAddr(pc), &word, 4);
}

Status CounterSites::disarm_all() {
  for (const auto& [pc, a] : armed_) HWSLICE_TRY(restore(pc, a.site.word));
  armed_.clear();
  scanned_.clear();
  return ok_status();
}

}  // namespace hwslice
