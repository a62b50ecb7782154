// kPageSize: the page size hwslice traces and slices with, defined once.
//
// It is the slice ABI's HWS_PAGE (runtime/slice_abi.h), riscv64 Linux's
// 4 KiB base page, which the slice format and the runtime assume; the C++
// side takes it from there so the two cannot differ.
#pragma once

#include <cstdint>

#include "runtime/slice_abi.h"

namespace hwslice {

inline constexpr uint64_t kPageSize = HWS_PAGE;
static_assert(kPageSize == 4096, "riscv64 Linux base pages are 4 KiB");

}  // namespace hwslice
