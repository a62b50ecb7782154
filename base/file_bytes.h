// read_file_bytes: a whole file in one vector, read in large blocks.
//
// Why: the ELF files the tracer sweeps for counter reads (libc: 1.7 MB) and
// the slices verify opens are read once each; a byte-wise stream iterator
// costs tens of instructions per byte, which on a board is tens of
// milliseconds per program start.
//
// Contract: the file's bytes as read to its end (a file that grows or
// shrinks meanwhile gives what was read); an error with errno and the path
// when it cannot be opened or read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/result.h"

namespace hwslice {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path);

}  // namespace hwslice
