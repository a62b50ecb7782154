// runtime_image.h — the slice runtime as bytes, for the slice writer.
//
// Contract: image() describes one flat riscv64 image linked at 0 (built from
// runtime/entry.S, runtime.c, rt_util.c, runtime.ld; runtime/slice_abi.h is
// the format it reads). The writer puts it in a slice as the first PT_LOAD:
//   p_vaddr   = runtime_base (4 KiB aligned, a hole the program never used:
//               [runtime_base, runtime_base + mem_size) must not meet any
//               region, stub page or the program's mappings)
//   p_offset  = 0: the image's first HWS_HEADER_RESERVE (0x100) bytes are
//               zero and unused by the runtime; the slice's ELF header and
//               program headers are written over them
//   p_filesz  = file_size (bytes), p_memsz = mem_size (the rest is bss)
//   p_flags   = R|W|X (code, data and bss share the segment)
// The config block (struct hws_config) is the second PT_LOAD, 8-byte
// aligned, at or above runtime_base + mem_size (mem_size is page aligned;
// the runtime reads the address from that program header), e_entry =
// runtime_base + entry_offset, and every near stub's far-entry literal
// (near+48) = runtime_base + far_offset. The bytes are position independent
// (the build refuses absolute relocations), so any 4 KiB-aligned base works.
#pragma once

#include <cstddef>
#include <cstdint>

namespace hwslice::runtime {

struct Image {
  const uint8_t* bytes;   // file_size bytes
  size_t file_size;       // text + rodata + data
  uint64_t mem_size;      // + bss, page aligned: the config block lies above
  uint64_t entry_offset;  // ELF entry point (hws_entry)
  uint64_t far_offset;    // replay far entry (hws_far_entry)
};

const Image& image();

}  // namespace hwslice::runtime
