#include "doctor/program_check.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <sstream>

#include "base/unique_fd.h"

namespace hwslice {

namespace {

std::string machine_name(uint16_t m) {
  switch (m) {
    case EM_X86_64: return "an x86-64";
    case EM_AARCH64: return "an aarch64";
    case EM_386: return "an i386";
    case EM_ARM: return "an arm";
    default: return "a machine " + std::to_string(m);
  }
}

}  // namespace

Result<std::string> check_program(const std::string& program, const std::string& path_env) {
  if (program.empty()) return Error("no program given");
  std::string path = program;
  if (program.find('/') == std::string::npos) {
    path.clear();
    std::stringstream dirs(path_env);
    for (std::string dir; std::getline(dirs, dir, ':');) {
      std::string candidate = (dir.empty() ? "." : dir) + "/" + program;
      if (::access(candidate.c_str(), X_OK) == 0) {
        path = candidate;
        break;
      }
    }
    if (path.empty()) return Error(program + ": command not found", ENOENT);
  }
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return Error::from_errno(program);
  if (S_ISDIR(st.st_mode)) return Error(program + ": is a directory", EISDIR);
  if (::access(path.c_str(), X_OK) != 0) return Error::from_errno(program + ": not executable");
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno(program);
  Elf64_Ehdr eh{};
  ssize_t n = ::read(fd.get(), &eh, sizeof eh);
  if (n >= 2 && std::memcmp(&eh, "#!", 2) == 0) return path;
  if (n < static_cast<ssize_t>(EI_NIDENT) || std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
    return Error(program + ": not an ELF executable", ENOEXEC);
  if (n < static_cast<ssize_t>(sizeof eh) || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_RISCV)
    return Error(program + ": " + (eh.e_ident[EI_CLASS] == ELFCLASS64 ? machine_name(eh.e_machine) : "a 32-bit") +
                     " program, not riscv64", ENOEXEC);
  if (eh.e_type != ET_EXEC && eh.e_type != ET_DYN) return Error(program + ": not an executable ELF file", ENOEXEC);
  return path;
}

}  // namespace hwslice
