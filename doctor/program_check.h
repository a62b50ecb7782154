// Checks a program before tracing it, so every mistake a user can make is
// one clear error: not found, not executable, not ELF, not riscv64.
//
// Contract: resolves argv[0] like execvp (PATH search when it has no '/');
// accepts riscv64 ELF executables and "#!" scripts; everything else is an
// Error with the program's name. Portable (unit-tested on x86).
#pragma once

#include <string>

#include "base/result.h"

namespace hwslice {

// Returns the resolved path.
Result<std::string> check_program(const std::string& program, const std::string& path_env);

}  // namespace hwslice
