#include "capture/slice_capture.h"

#include <sys/uio.h>

#include <algorithm>

#include "runtime/slice_abi.h"
#include "base/page.h"
#include "riscv/riscv_isa.h"
#include "ptrace/tracee.h"

namespace hwslice {

namespace {
constexpr long kSysWrite = 64, kSysWritev = 66;
constexpr uint64_t kPage = kPageSize;
// A writev's iovec array is read up to this many entries (IOV_MAX).
constexpr uint64_t kMaxIov = 1024;
}  // namespace

void end_at_exit_call(SliceSpec& spec, uint64_t index, long nr, const std::array<uint64_t, 6>& args, uint64_t pc,
                      RegsRecord& regs) {
  SyscallRecord end;
  end.index = index;
  end.nr = nr;
  end.name = nr == riscv::kSysExit ? "exit" : "exit_group";
  end.args = args;
  end.pc = pc;
  spec.syscalls.push_back(end);
  regs.pc = pc;
  regs.ints[10] = args[0];
}

bool is_echoed_output(const SyscallRecord& rec) {
  return (rec.nr == kSysWrite || rec.nr == kSysWritev) && (rec.args[0] == 1 || rec.args[0] == 2) &&
         static_cast<int64_t>(rec.ret) > 0;
}

Result<std::vector<std::pair<uint64_t, uint64_t>>> capture_echo(Tracee& t, const SyscallRecord& rec, SliceSpec& spec) {
  std::vector<std::pair<uint64_t, uint64_t>> read;
  if (!is_echoed_output(rec)) return read;
  std::vector<uint8_t>& out = rec.args[0] == 1 ? spec.stdout_bytes : spec.stderr_bytes;
  auto append = [&](uint64_t addr, uint64_t n) -> Status {
    const size_t at = out.size();
    out.resize(at + n);
    HWSLICE_TRY(t.read(RemoteAddr(addr), out.data() + at, n));
    if (n) read.emplace_back(addr, n);
    return ok_status();
  };
  const uint64_t ret = rec.ret;
  if (rec.nr == kSysWrite) {
    HWSLICE_TRY(append(rec.args[1], ret));
    return read;
  }
  std::vector<iovec> iov(std::min<uint64_t>(rec.args[2], kMaxIov));
  HWSLICE_TRY(t.read(RemoteAddr(rec.args[1]), iov.data(), iov.size() * sizeof(iovec)));
  read.emplace_back(rec.args[1], iov.size() * sizeof(iovec));
  uint64_t left = ret;
  for (const iovec& v : iov) {
    const uint64_t n = std::min<uint64_t>(left, v.iov_len);
    HWSLICE_TRY(append(reinterpret_cast<uint64_t>(v.iov_base), n));
    left -= n;
  }
  return read;
}

Result<std::pair<std::vector<AddressRange>, uint64_t>> digest_pages(
    Tracee& t, const std::vector<uint64_t>& pages, const std::vector<std::pair<uint64_t, uint64_t>>& async,
    const MemoryView& view) {
  // One range per page: a range never spans pages of different protections
  // (the slice maps those as separate regions).
  std::vector<AddressRange> ranges;
  for (uint64_t p : pages) {
    uint64_t at = p;
    for (auto [a, len] : async)
      if (a < p + kPage && a + len > at) {
        if (a > at) ranges.push_back(AddressRange{at, a, ""});
        at = std::max(at, a + len);
      }
    if (at < p + kPage) ranges.push_back(AddressRange{at, p + kPage, ""});
  }
  // All ranges in one batch read (page mode may have hundreds).
  std::vector<Tracee::Range> reads;
  size_t total = 0;
  for (const AddressRange& r : ranges) {
    reads.push_back(Tracee::Range{r.start, r.end - r.start});
    total += r.end - r.start;
  }
  std::vector<uint8_t> buf(total);
  const std::vector<bool> read = t.read_ranges(reads, buf.data());
  uint64_t h = HWS_FNV_OFFSET;
  std::vector<AddressRange> kept;
  size_t offset = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const AddressRange& r = ranges[i];
    const uint64_t size = r.end - r.start;
    uint8_t* data = buf.data() + offset;
    offset += size;
    if (!read[i]) continue;
    if (view) view(r.start, data, size);
    h = hws_hash_word(h, r.start);
    h = hws_hash_word(h, size);
    h = hws_hash(h, data, size);
    kept.push_back(r);
  }
  return std::make_pair(std::move(kept), h);
}

void record_end_stack(Tracee& t, uint64_t sp, const std::vector<SlicePage>& pages, uint64_t max_len, SliceSpec& spec,
                      const MemoryView& view) {
  auto in_slice = [&](uint64_t page) {
    auto it = std::lower_bound(pages.begin(), pages.end(), page,
                               [](const SlicePage& p, uint64_t a) { return p.addr < a; });
    return it != pages.end() && it->addr == page;
  };
  uint64_t len = 0;
  while (len < max_len && in_slice((sp + len) & ~(kPage - 1)))
    len = std::min<uint64_t>(max_len, ((sp + len) & ~(kPage - 1)) + kPage - sp);
  std::vector<uint8_t> bytes(len);
  if (len && !t.read(RemoteAddr(sp), bytes.data(), len)) len = 0;
  if (len && view) view(sp, bytes.data(), len);
  spec.end_stack_len = len;
  spec.end_stack_hash = len ? hws_hash(HWS_FNV_OFFSET, bytes.data(), len) : 0;
}

}  // namespace hwslice
