#include "tracer/riscv_isa.h"

#include <charconv>

namespace hwslice::riscv {

std::optional<unsigned> int_reg_number(std::string_view name) {
  for (unsigned i = 0; i < kIntRegNames.size(); ++i)
    if (kIntRegNames[i] == name) return i;
  if (name == "fp") return 8;
  if (name.size() >= 2 && name[0] == 'x') {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
    if (ec == std::errc() && p == name.data() + name.size() && n < 32) return n;
  }
  return std::nullopt;
}

}  // namespace hwslice::riscv
