// The slice manifest: one JSON file (P.manifest.json) that lists the slices
// written for one program, with what each must reproduce (end registers,
// memory digest, output bytes) and how it was built.
//
// Format (field order free; every field required unless marked optional):
//   {"hwslice_version": "0.1.0", "program": "/usr/bin/xz",
//    "interval": 100000000,          instructions per interval
//    "mode": "pages" | "step",       how positions were reached
//    "warmup": 0,                    warm-up instructions before each slice
//    "simpoints": "xz.simpoints",    "" when slices were not chosen by SimPoint
//    "slices": [
//      {"file": "xz.3.slice", "start": 300, "end": 400, "instructions": 100,
//       "exact": true, "weight": 0.25 (optional),
//       "end_kind": "counted" | "syscall" | "fault" | "after_call", "end_pc": "10abc",
//       "end_regs": {"pc": "10abc", "ints": [32 hex], "fps": [32 hex], "fcsr": "0"},
//       "digest": "0123456789abcdef", "digest_ranges": 3,
//       "replayed_calls": 5, "in_place_sites": 2, "near_stubs": 3, "trap_sites": 0,
//       "counter_reads": 0 (optional, 0 when absent: replayed_calls that are
//         rdcycle/rdtime/rdinstret values, not syscalls),
//       "size": 123456,
//       "stdout": "68690a", "stdout_length": 3, "stderr": "", "stderr_length": 0}]}
// Machine values (pcs, registers) are lower-case hex strings without "0x"
// as in the trace format; the digest always has 16 digits; output bytes are
// hex in order, two digits per byte; counts are JSON integers.
//
// Contract: encode_manifest() output is accepted by parse_manifest() and
// reads back equal. parse_manifest() never throws: the first problem is an
// Error "NAME: slice I: what" (I is the 0-based index in "slices"), e.g.
// "xz.manifest.json: slice 3: missing field 'end'". Consistency is checked:
// instructions == end - start and each *_length matches its bytes.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "record/slice_spec.h"
#include "slicer/slice_writer.h"
#include "base/result.h"

namespace hwslice {

// Registers as the manifest records them.
struct ManifestRegs {
  uint64_t pc = 0;
  std::array<uint64_t, 32> ints{};  // x0..x31
  std::array<uint64_t, 32> fps{};   // f0..f31 raw bits
  uint32_t fcsr = 0;
  bool operator==(const ManifestRegs&) const = default;
};

struct ManifestSlice {
  std::string file;
  uint64_t start = 0, end = 0;
  uint64_t instructions = 0;  // end - start
  bool exact = true;
  std::optional<double> weight;
  SliceSpec::EndKind end_kind = SliceSpec::EndKind::kCounted;
  uint64_t end_pc = 0;
  ManifestRegs end_regs;
  uint64_t digest = 0;
  uint64_t digest_ranges = 0;
  uint64_t replayed_calls = 0;  // calls the runtime applies (its stats' calls_replayed)
  uint64_t in_place_sites = 0, near_stubs = 0, trap_sites = 0;
  uint64_t counter_reads = 0;   // of replayed_calls: counter reads (rdtime, ...)
  uint64_t size = 0;
  std::vector<uint8_t> stdout_bytes, stderr_bytes;
  bool operator==(const ManifestSlice&) const = default;
};

struct Manifest {
  std::string hwslice_version;
  std::string program;
  uint64_t interval = 0;
  std::string mode = "pages";  // "pages" or "step"
  uint64_t warmup = 0;
  std::string simpoints;       // "" when none
  std::vector<ManifestSlice> slices;
  bool operator==(const Manifest&) const = default;
};

// The manifest entry for a slice written from `spec` (file is the slice's
// file name as it should appear in the manifest).
ManifestSlice manifest_slice(const SliceSpec& spec, const SliceFile& slice, std::string file,
                             std::optional<double> weight = std::nullopt);

// Pretty-printed JSON, ending with a newline.
std::string encode_manifest(const Manifest& m);

// `name` is the file name used in error messages.
Result<Manifest> parse_manifest(std::string_view text, const std::string& name);
Result<Manifest> read_manifest_file(const std::string& path);

}  // namespace hwslice
