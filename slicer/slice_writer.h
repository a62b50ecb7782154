// The slice writer: turns one SliceSpec (record/slice_spec.h) and the
// runtime image into the bytes of a static riscv64 ELF that replays the
// interval (file format and runtime protocol: runtime/slice_abi.h).
//
// Like llvm-objcopy it works in two steps: layout_slice() decides everything
// (what each ecall site becomes, where near stubs and the runtime go, the
// regions, every offset of the config block and of the file) as a plain
// SliceLayout; serialize_slice() only copies bytes to the places the layout
// names. write_slice() does both and adds a summary.
//
// Layout rules:
//  - Ecall sites are exactly the pcs of the recorded syscalls (never a byte
//    scan); each must hold a 4-byte `ecall` in `pages`.
//  - A site whose every call returns the same v in [-2048, 2047], writes no
//    memory, is not an echo (write/writev to fd 1 or 2) and is not the end
//    call becomes `addi a0, x0, v`; its calls are not replayed. Any other
//    site becomes `jal x0, near` to a near stub, or `ebreak` (a trap site)
//    when no stub fits within jal range (or options.near_stubs is false).
//  - Stubs fill a stub page in order (HWS_NEAR_STUB_SIZE bytes each). A site
//    first reuses an existing stub page within range (the nearest), else
//    takes the free page nearest to it (the higher one on a tie): free means
//    not in `pages`, not a stub page, inside [kMinMapAddr, kUserTop). Stub
//    pages may lie in untouched parts of program mappings.
//  - The runtime image plus config block go at the lowest 4 KiB-aligned
//    address that overlaps no mapping, page or stub page, searching
//    [4 GiB, 128 GiB), then [128 GiB, kRuntimeLimit), then [kMinMapAddr, 4 GiB).
//  - Regions: program pages and stub pages (prot 7) sorted by address,
//    adjacent pages with equal prot merged; pages holding the end
//    instruction or the one after it (kCounted) get PROT_WRITE added so the
//    runtime can move its breakpoint. Pages of zeros are kept apart from
//    pages with content (unless a digest range crosses the boundary: the
//    runtime wants each range inside one region); their regions have no
//    data in the file (data_off HWS_NO_DATA). A sparse page
//    (options.sparse_pages: its nonzero bytes, in runs merged across gaps
//    of fewer than kFillGap zeros, cost at most half a page as fills)
//    counts as a page of zeros, and its runs become fills; a sparse page
//    that ends up in a region with content (a digest range crossing) is
//    stored whole.
//  - Replay table: every call in order except those of in-place sites; with
//    EndKind::kSyscall the end call is its last entry (runtime/slice_abi.h:
//    the slice ends at "the ecall of the last replay-table call").
//  - File: PT_LOAD runtime (RWX, filesz/memsz from the image) at
//    runtime_base from file offset 0, the ELF header and program headers
//    written over the image's first HWS_HEADER_RESERVE bytes (which must be
//    zero); PT_LOAD config block (R) at the next 16-byte file offset after
//    the image and at the first address after runtime_base + mem_size with
//    the same offset in its 4 KiB page (the runtime reads that p_vaddr),
//    page data 16-byte aligned inside it; PT_GNU_STACK (RW); no section
//    headers.
//
// Errors name the syscall, pc, page or range that breaks the SliceSpec
// contract (unsorted pages, a site that is no ecall, an end pc that is a
// control-flow instruction or whose successor is not in `pages`, no room for
// the runtime) or that the runtime would refuse at set-up (a digest range
// not inside one readable region, or covering a rewritten ecall).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "runtime/runtime_image.h"
#include "runtime/slice_abi.h"
#include "record/slice_spec.h"
#include "base/result.h"

namespace hwslice {

inline constexpr uint64_t kSlicePage = HWS_PAGE;
// Zero bytes between two runs of a sparse page below which the runs are
// stored as one fill (a fill's header is 16 bytes).
inline constexpr uint64_t kFillGap = 16;
// Lowest address the writer maps anything at (vm.mmap_min_addr is 4 KiB to
// 64 KiB on common kernels).
inline constexpr uint64_t kMinMapAddr = 0x10000;
// End of the largest (sv57) user address space. Program pages keep their
// addresses, so a slice cut where the stack sits high (sv48/sv57, e.g. the
// virtual board) only runs where those addresses exist; sv39 boards (256 GiB,
// VisionFive 2) produce slices that run everywhere.
inline constexpr uint64_t kUserTop = 0x0100000000000000;
// Where the runtime goes: preferably [4 GiB, 128 GiB), always below
// kRuntimeLimit (on sv39 the slice's own stack and vDSO live near 256 GiB).
inline constexpr uint64_t kRuntimePreferredLow = 0x100000000;
inline constexpr uint64_t kRuntimePreferredHigh = 0x2000000000;
inline constexpr uint64_t kRuntimeLimit = 0x3f00000000;

struct SliceOptions {
  bool near_stubs = true;        // false: every replayed site becomes a trap site
  bool share_zero_pages = true;  // false: every page has its own data
  bool sparse_pages = true;      // false: no fills (every page with content is stored whole); needs share_zero_pages
  bool end_stub = true;          // false: a counted end always uses the breakpoint
  bool every_pass = false;       // a counted end's pass stub checks every pass (HWS_F_EVERY_PASS)
  // A counted end's pass, measured by running this same slice without it
  // (its "end_pass" statistic: passes since the runtime armed the end):
  // the end is then that pass, one check (slicer/slice_check.h). Unlike
  // SliceSpec::end_pass (counted by the tracer from the interval's last
  // event) it changes nothing else in the layout.
  uint64_t measured_end_pass = 0;
};

enum class SiteKind { kInPlace, kNear, kTrap };

// One ecall site and what it becomes.
struct SitePlan {
  uint64_t pc = 0;
  SiteKind kind = SiteKind::kNear;
  int64_t value = 0;      // kInPlace: the a0 value
  uint64_t stub = 0;      // kNear: address of its near stub
  uint32_t insn = 0;      // instruction written over the ecall
  size_t calls = 0;       // executions in the interval
  bool end = false;       // holds the end call (EndKind::kSyscall)
  bool counter = false;   // a counter read (rdtime, ...), not an ecall: always kTrap
};

// A stub page: stubs for `sites` at addr + i * HWS_NEAR_STUB_SIZE.
struct StubPagePlan {
  uint64_t addr = 0;
  std::vector<uint64_t> sites;
};

// One hws_region. Its content is the pages in [addr, addr + size): program
// pages from the spec (with patches applied) or stub pages.
struct RegionPlan {
  uint64_t addr = 0;
  uint64_t size = 0;
  uint64_t prot = 0;
  uint64_t data_off = 0;  // from the config block
  bool zero = false;      // all zero (sparse pages: before their fills): no data, data_off HWS_NO_DATA
};

// A run of a sparse page's content (patches applied), copied in place by
// the runtime (runtime/slice_abi.h, fill table).
struct FillPlan {
  uint64_t addr = 0;
  uint64_t size = 0;
};

// Bytes written over program code: site rewrites and the end breakpoint.
struct CodePatch {
  uint64_t addr = 0;
  uint32_t insn = 0;
  unsigned len = 4;  // 2 or 4
};

struct SliceLayout {
  std::vector<SitePlan> sites;            // sorted by pc
  std::vector<StubPagePlan> stub_pages;   // in allocation order
  std::vector<RegionPlan> regions;        // sorted by addr
  std::vector<CodePatch> patches;         // sorted by addr
  std::vector<size_t> replayed;           // indices into spec.syscalls, in order
  std::vector<uint64_t> trap_sites;       // sorted
  std::vector<FillPlan> fills;            // sorted by addr

  uint64_t end_kind = HWS_END_COUNTED;
  uint64_t end_pc = 0, end_insn = 0, end_insn_len = 0, end_next_pc = 0;
  // A counted end's pass stub (runtime/slice_abi.h): its page (0: none, the
  // breakpoint), the jal written at end_pc, the dead rd and the scratch.
  uint64_t end_stub = 0, end_jal = 0, end_stub_rd = 0, end_stub_scratch = 0;

  uint64_t runtime_base = 0;
  uint64_t config_addr = 0;   // runtime_base + mem_size rounded up + config_file_off % 4 KiB
  uint64_t far_entry = 0;     // runtime_base + far_offset
  uint64_t entry = 0;         // e_entry

  // Config block (offsets from config_addr).
  uint64_t regions_off = 0, replay_off = 0, replay_size = 0, trap_sites_off = 0, digest_off = 0;
  uint64_t fills_off = 0, fills_size = 0;
  uint64_t page_data_off = 0;  // first region's data, 16-byte aligned
  uint64_t config_size = 0;    // block + tables + page data

  // File.
  uint64_t runtime_file_off = 0, config_file_off = 0, file_size = 0;
};

Result<SliceLayout> layout_slice(const SliceSpec& spec, const runtime::Image& rt, const SliceOptions& options = {});

// The config block header for `layout` (every field of struct hws_config).
hws_config make_config(const SliceSpec& spec, const SliceLayout& layout, const SliceOptions& options = {});

// The HWS_NEAR_STUB_SIZE bytes of the near stub at `stub` for the ecall at
// `site` (runtime/slice_abi.h); `stub` and `site` must be within jal range.
std::array<uint8_t, HWS_NEAR_STUB_SIZE> near_stub_bytes(uint64_t stub, uint64_t site, uint64_t far_entry);

// The bytes of the end's pass stub at layout.end_stub.
std::array<uint8_t, HWS_END_STUB_SIZE> end_stub_bytes(const SliceLayout& layout);

// The file bytes for a layout made by layout_slice(spec, rt).
std::vector<uint8_t> serialize_slice(const SliceSpec& spec, const runtime::Image& rt, const SliceLayout& layout,
                                     const SliceOptions& options = {});

struct SliceSummary {
  uint64_t file_size = 0;
  // A counted end with a pass stub whose batches the runtime sizes from the
  // counts (runtime/slice_abi.h), which can run past the end.
  bool counted_batches = false;
  // A counted end with a pass stub and no known pass: what
  // write_slice_checked runs once to learn the pass.
  bool counted_unknown_pass = false;
  uint64_t runtime_base = 0;
  uint64_t config_size = 0;     // config block, tables and page data
  size_t program_pages = 0;
  size_t zero_pages = 0;        // pages without data in the file (sparse ones included)
  size_t sparse_pages = 0;      // pages whose content comes from fills
  uint64_t fill_bytes = 0;      // bytes of content in fills
  size_t regions = 0;
  size_t in_place_sites = 0, near_sites = 0, trap_sites = 0;
  size_t counter_sites = 0;     // trap sites that are counter reads
  size_t counter_reads = 0;     // replay entries that are counter reads
  size_t stub_pages = 0;
  size_t replay_entries = 0;    // replay-table entries (the end call included)
  size_t replayed_calls = 0;    // calls the runtime applies (the end call excluded)
  uint64_t replay_size = 0;     // replay-table bytes
};

struct SliceFile {
  std::vector<uint8_t> bytes;
  SliceSummary summary;
};

Result<SliceFile> write_slice(const SliceSpec& spec, const runtime::Image& rt, const SliceOptions& options = {});

}  // namespace hwslice
