#include "riscv/address_space.h"

#include <elf.h>

#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>

namespace hwslice {

Result<std::vector<Mapping>> parse_maps(std::string_view text) {
  std::vector<Mapping> out;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t nl = text.find('\n');
    std::string line(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    std::istringstream in(line);
    std::string range, perms, offset, dev, inode;
    in >> range >> perms >> offset >> dev >> inode;
    size_t dash = range.find('-');
    Mapping m;
    auto hex = [](const std::string& s, uint64_t& v) {
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 16);
      return ec == std::errc() && p == s.data() + s.size() && !s.empty();
    };
    if (dash == std::string::npos || perms.size() != 4 || !hex(range.substr(0, dash), m.start) ||
        !hex(range.substr(dash + 1), m.end) || !hex(offset, m.offset))
      return Error("maps line " + std::to_string(line_no) + " is malformed: '" + line + "'");
    m.read = perms[0] == 'r';
    m.write = perms[1] == 'w';
    m.exec = perms[2] == 'x';
    m.shared = perms[3] == 's';
    std::getline(in >> std::ws, m.path);
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<Mapping>> read_maps(int pid) {
  std::string path = "/proc/" + std::to_string(pid) + "/maps";
  std::ifstream f(path);
  if (!f) return Error::from_errno("opening " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return parse_maps(ss.str());
}

Result<std::vector<ElfSymbol>> vdso_symbols(const std::vector<uint8_t>& image) {
  auto bad = [](const char* why) { return Error(std::string("vDSO image: ") + why); };
  if (image.size() < sizeof(Elf64_Ehdr) || std::memcmp(image.data(), ELFMAG, SELFMAG) != 0)
    return bad("not an ELF image");
  Elf64_Ehdr eh;
  std::memcpy(&eh, image.data(), sizeof eh);
  if (eh.e_ident[EI_CLASS] != ELFCLASS64) return bad("not ELF64");
  if (eh.e_shoff == 0 || eh.e_shentsize != sizeof(Elf64_Shdr) ||
      eh.e_shoff + uint64_t(eh.e_shnum) * sizeof(Elf64_Shdr) > image.size())
    return bad("section headers out of range");
  auto section = [&](unsigned i) {
    Elf64_Shdr sh;
    std::memcpy(&sh, image.data() + eh.e_shoff + i * sizeof(Elf64_Shdr), sizeof sh);
    return sh;
  };
  std::vector<ElfSymbol> out;
  for (unsigned i = 0; i < eh.e_shnum; ++i) {
    Elf64_Shdr sh = section(i);
    if (sh.sh_type != SHT_DYNSYM) continue;
    if (sh.sh_link >= eh.e_shnum) return bad("dynsym has no string table");
    Elf64_Shdr str = section(sh.sh_link);
    if (sh.sh_offset + sh.sh_size > image.size() || str.sh_offset + str.sh_size > image.size())
      return bad("symbol table out of range");
    for (uint64_t off = 0; off + sizeof(Elf64_Sym) <= sh.sh_size; off += sizeof(Elf64_Sym)) {
      Elf64_Sym sym;
      std::memcpy(&sym, image.data() + sh.sh_offset + off, sizeof sym);
      if (ELF64_ST_TYPE(sym.st_info) != STT_FUNC || sym.st_shndx == SHN_UNDEF) continue;
      if (sym.st_name >= str.sh_size) return bad("symbol name out of range");
      const char* name = reinterpret_cast<const char*>(image.data() + str.sh_offset + sym.st_name);
      size_t max = str.sh_size - sym.st_name;
      out.push_back({std::string(name, strnlen(name, max)), sym.st_value, sym.st_size});
    }
  }
  return out;
}

std::vector<CounterRead> scan_counter_reads(const std::vector<uint8_t>& code, uint64_t base) {
  std::vector<CounterRead> out;
  for (size_t i = 0; i + 4 <= code.size(); i += 2) {
    uint32_t insn;
    std::memcpy(&insn, code.data() + i, 4);
    // csrrs rd, csr, x0: funct3 = 010, rs1 = 0, opcode = SYSTEM.
    if ((insn & 0x000ff07f) != 0x00002073) continue;
    switch (insn >> 20) {
      case 0xc00: out.push_back({base + i, "cycle"}); break;
      case 0xc01: out.push_back({base + i, "time"}); break;
      case 0xc02: out.push_back({base + i, "instret"}); break;
    }
  }
  return out;
}

}  // namespace hwslice
