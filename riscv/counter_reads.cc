#include "riscv/counter_reads.h"

#include <elf.h>

#include <cstring>

#include "riscv/riscv_isa.h"

namespace hwslice {

std::optional<CounterReadInsn> decode_counter_read(uint32_t word) {
  if ((word & 0x7f) != 0x73) return std::nullopt;  // SYSTEM
  const unsigned funct3 = (word >> 12) & 7, rs1 = (word >> 15) & 31, rd = (word >> 7) & 31;
  // csrrs (2), csrrc (3) with rs1 = x0 and csrrsi (6), csrrci (7) with
  // uimm = 0 read without writing; csrrw/csrrwi would write (and trap on
  // these read-only counters).
  if (funct3 != 2 && funct3 != 3 && funct3 != 6 && funct3 != 7) return std::nullopt;
  if (rs1 != 0 || rd == 0) return std::nullopt;
  switch (word >> 20) {
    case 0xc00: return CounterReadInsn{rd, 0xc00, "rdcycle"};
    case 0xc01: return CounterReadInsn{rd, 0xc01, "rdtime"};
    case 0xc02: return CounterReadInsn{rd, 0xc02, "rdinstret"};
    default: return std::nullopt;
  }
}

std::vector<CounterSite> sweep_counter_reads(const uint8_t* code, size_t n, uint64_t base) {
  std::vector<CounterSite> out;
  for (size_t i = 0; i + 2 <= n;) {
    uint16_t lo;
    std::memcpy(&lo, code + i, 2);
    const unsigned len = riscv::instruction_length(lo);
    if (len == 4 && i + 4 <= n) {
      uint32_t w;
      std::memcpy(&w, code + i, 4);
      if (auto c = decode_counter_read(w)) out.push_back({base + i, w, *c});
    }
    // Reserved longer encodings (length 0) are stepped over a halfword at a
    // time, as the hardware would reject them anyway.
    i += len == 0 ? 2 : len;
  }
  return out;
}

Result<std::vector<FileRange>> exec_sections(const std::vector<uint8_t>& elf) {
  auto bad = [](const char* why) { return Error(std::string("ELF file: ") + why); };
  if (elf.size() < sizeof(Elf64_Ehdr) || std::memcmp(elf.data(), ELFMAG, SELFMAG) != 0) return bad("not an ELF file");
  Elf64_Ehdr eh;
  std::memcpy(&eh, elf.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return bad("not ELF64");
  if (eh.e_shoff == 0 || eh.e_shnum == 0) return std::vector<FileRange>{};  // no section headers: nothing known
  if (eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shoff > elf.size() ||
      uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr) > elf.size() - eh.e_shoff)
    return bad("section headers out of range");
  std::vector<FileRange> out;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, elf.data() + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof sh);
    if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR) || sh.sh_size == 0) continue;
    if (sh.sh_offset > elf.size() || sh.sh_size > elf.size() - sh.sh_offset) return bad("section out of range");
    out.push_back({sh.sh_offset, sh.sh_size});
  }
  return out;
}

Result<std::vector<CounterSite>> counter_read_sites(const std::vector<uint8_t>& file, uint64_t map_start,
                                                    uint64_t map_offset, uint64_t map_size) {
  auto sections = exec_sections(file);
  if (!sections) return sections.error();
  std::vector<CounterSite> out;
  for (const FileRange& s : *sections) {
    // The whole section is swept from its start (the boundary), and only
    // sites inside the mapping are kept.
    for (CounterSite c : sweep_counter_reads(file.data() + s.offset, s.size, s.offset)) {
      const uint64_t fo = c.pc;
      if (fo < map_offset || fo + 4 > map_offset + map_size) continue;
      c.pc = map_start + (fo - map_offset);
      out.push_back(c);
    }
  }
  return out;
}

}  // namespace hwslice
