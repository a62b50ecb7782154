#include "capture/page_tracker.h"

#include <signal.h>
#include <sys/mman.h>
#include <sys/uio.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <tuple>

#include "riscv/riscv_isa.h"
#include "ptrace/syscall_injector.h"

namespace hwslice {
namespace {

constexpr uint64_t page_down(uint64_t a) { return a & ~(kPageSize - 1); }
constexpr uint64_t page_up(uint64_t a) { return (a + kPageSize - 1) & ~(kPageSize - 1); }
constexpr long kSysProcessVmWritev = 271;
using riscv::kSysBrk, riscv::kSysMremap, riscv::kSysMadvise, riscv::kMadvDontneed, riscv::kMadvFree;
constexpr long kSysReadv = 65, kSysWritev = 66, kSysPreadv = 69, kSysPwritev = 70, kSysPreadv2 = 286,
               kSysPwritev2 = 287;
constexpr uint64_t kMaxBuffer = 64ull << 20;  // larger "sizes" are not sizes
constexpr uint64_t kMinSpan = 512;            // strings and structs behind a pointer
// Calls per batch injection: the table fills the rest of its page, and one
// entry ends it.
constexpr size_t kBatchMax = (kPageSize - 512) / kBatchEntryBytes - 1;


// Calls whose pointer arguments name address ranges, not buffers the kernel
// reads or writes.
bool is_memory_call(long nr) {
  switch (nr) {
    case 214: case 215: case 216: case 222: case 226: case 227: case 228: case 229: case 230: case 231:
    case 232: case 233: case 283: case 284: return true;  // brk munmap mremap mmap mprotect msync mlock... madvise
    default: return false;
  }
}

// The argument holding a buffer whose size is the next argument, or -1.
int sized_buffer_arg(long nr) {
  switch (nr) {
    case 63: case 64: case 67: case 68: case 61: case 206: case 207: return 1;  // read write pread pwrite getdents64 sendto recvfrom
    case 17: case 278: return 0;                                               // getcwd getrandom
    case 78: return 2;                                                         // readlinkat
    default: return -1;
  }
}

int prot_of(const Mapping& m) {
  return (m.read ? PROT_READ : 0) | (m.write ? PROT_WRITE : 0) | (m.exec ? PROT_EXEC : 0);
}

}  // namespace

Result<int64_t> PageTracker::inject(long nr, const std::array<uint64_t, 6>& args) {
  if (guard_) guard_(false);
  auto r = inject_syscall_at_stub(tracee_, RemoteAddr(scratch_ + kSyscallStubOffset), nr, args);
  if (guard_) guard_(true);
  ++injections_;
  if (!r && debug_) {
    std::ifstream maps("/proc/" + std::to_string(tracee_.pid()) + "/maps");
    std::string line, all;
    while (std::getline(maps, line)) all += "\n  " + line;
    return Error(r.error().message() + " (syscall " + std::to_string(nr) + " " + hex_addr(args[0]) + " " +
                 hex_addr(args[1]) + " " + std::to_string(args[2]) + "; tracer page " + hex_addr(scratch_) +
                 "; maps:" + all + ")");
  }
  return r;
}

Status PageTracker::init() {
  auto regs = tracee_.regs();
  if (!regs) return regs.error();
  if (guard_) guard_(false);
  // At a fixed address away from where the program's own mappings go: an
  // area in the mmap region would move every later mmap of the program
  // (ld.so's libraries included) by its size, so the traced run's layout
  // would differ from the untraced one and from step mode's. Anywhere else
  // if that address is taken.
  auto page = inject_syscall(tracee_, RemoteAddr(regs->pc()), riscv::kSysMmap,
                             {kScratchAddress, kScratchPages * kPageSize, PROT_READ | PROT_EXEC,
                              MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, static_cast<uint64_t>(-1), 0});
  if (page && (*page < 0 && *page > -4096)) {
    page = inject_syscall(tracee_, RemoteAddr(regs->pc()), riscv::kSysMmap,
                          {0, kScratchPages * kPageSize, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS,
                           static_cast<uint64_t>(-1), 0});
  }
  if (guard_) guard_(true);
  if (!page) return page.error().wrap("making the tracer's code page");
  if (*page < 0 && *page > -4096)
    return Error("making the tracer's code page in pid " + std::to_string(tracee_.pid()) + " failed", -*page);
  scratch_ = static_cast<uint64_t>(*page);
  const auto stub = batch_stub();
  HWSLICE_TRY(tracee_.write(RemoteAddr(scratch_ + kBatchStubOffset), stub.data(), sizeof stub));
  HWSLICE_TRY(tracee_.write(RemoteAddr(scratch_ + kSyscallStubOffset), kSyscallStub.data(), sizeof kSyscallStub));
  const auto pair = pair_stub();
  HWSLICE_TRY(tracee_.write(RemoteAddr(scratch_ + kPairStubOffset), pair.data(), sizeof pair));
  // At the exec stop execve has not returned yet: the injection let it
  // return (into the injected code), so its result, 0, which the program
  // sees in a0 at entry (rtld_fini for _start), is put in place here.
  auto after = tracee_.regs();
  if (!after) return after.error();
  after->set_x(riscv::kA0, 0);
  HWSLICE_TRY(tracee_.set_regs(*after));
  auto rw = inject(riscv::kSysMprotect,
                   {scratch_ + kPageSize, (kScratchPages - 1) * kPageSize, PROT_READ | PROT_WRITE, 0, 0, 0});
  if (!rw) return rw.error().wrap("making the tracer's data pages");
  if (*rw < 0) return Error("making the tracer's data pages in pid " + std::to_string(tracee_.pid()), -*rw);
  return load_maps();
}

Status PageTracker::load_maps() {
  auto maps = read_maps(tracee_.pid());
  if (!maps) return maps.error();
  ranges_.clear();
  for (const Mapping& m : *maps) {
    if (is_tracer_page(m.start)) continue;
    note_seen(Range{m.start, m.end, prot_of(m), m.path});
    // The vDSO's data pages can be neither protected nor read by ptrace;
    // they are not tracked (see IntervalTracer for how slices get them).
    if (m.path.rfind("[vvar", 0) == 0 || m.path == "[vsyscall]") continue;
    ranges_.push_back(Range{m.start, m.end, prot_of(m), m.path});
  }
  return ok_status();
}

void PageTracker::note_seen(const Range& r) {
  for (AddressRange& s : seen_)
    if (s.start <= r.start && r.end <= s.end) return;
  seen_.push_back(AddressRange{r.start, r.end, r.path});
}

const PageTracker::Range* PageTracker::find(uint64_t addr) const {
  for (const Range& r : ranges_)
    if (addr >= r.start && addr < r.end) return &r;
  return nullptr;
}

Status PageTracker::protect_range(uint64_t start, uint64_t end, int prot) {
  return protect_ranges({Protect{start, end, prot}});
}

Status PageTracker::protect_ranges(const std::vector<Protect>& ranges) {
  // Pinned pages (the rseq area) keep their access even for an instant: the
  // kernel updates them on the return from every injected syscall. They
  // split a range.
  std::vector<InjectedCall> calls;
  for (Protect r : ranges) {
    while (r.start < r.end) {
      uint64_t end = r.end;
      auto pin = pinned_.lower_bound(r.start);
      const bool split = pin != pinned_.end() && *pin < r.end &&
                         (r.prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE);
      if (split) end = *pin;
      if (r.start < end)
        calls.push_back(InjectedCall{riscv::kSysMprotect, {r.start, end - r.start, static_cast<uint64_t>(r.prot), 0, 0, 0}});
      r.start = split ? *pin + kPageSize : end;
    }
  }
  auto failed = [&](const InjectedCall& c) { return mprotect_failed(c.args[0], c.args[0] + c.args[1], c.result); };
  if (calls.size() == 1) {
    // One call (most faults): the plain injection, without a table to
    // write and read back.
    auto r = inject(calls[0].nr, calls[0].args);
    if (!r) return r.error();
    calls[0].result = *r;
    if (*r < 0) return failed(calls[0]);
    return ok_status();
  }
  HWSLICE_TRY(inject_batch(calls));
  for (const InjectedCall& c : calls)
    if (c.result < 0) return failed(c);
  return ok_status();
}

Status PageTracker::inject_batch(std::vector<InjectedCall>& calls) {
  for (size_t i = 0; i < calls.size(); i += kBatchMax) {
    std::span<InjectedCall> batch(calls.data() + i, std::min(kBatchMax, calls.size() - i));
    if (guard_) guard_(false);
    Status st = inject_syscalls(tracee_, RemoteAddr(scratch_ + kBatchStubOffset), RemoteAddr(scratch_ + kBatchTableOffset),
                                batch);
    if (guard_) guard_(true);
    injections_ += batch.size();
    if (!st) return st;
  }
  return ok_status();
}

Status PageTracker::capture_vdso_data() {
  vdso_captured_ = true;
  vdso_data_.clear();
  const uint64_t iov = scratch_ + kPageSize, buffer = scratch_ + 2 * kPageSize;
  for (const AddressRange& m : seen_) {
    if (m.name.rfind("[vvar", 0) != 0) continue;
    for (uint64_t page = m.start; page < m.end && page - m.start < 16 * kPageSize; page += kPageSize) {
      // process_vm_writev(self, {page}, {buffer}): the kernel reads `page`
      // as the program would (a page that faults for it gives EFAULT, not a
      // signal) and writes the buffer through the page tables.
      const uint64_t vecs[4] = {page, kPageSize, buffer, kPageSize};
      HWSLICE_TRY(tracee_.write(RemoteAddr(iov), vecs, sizeof vecs));
      std::vector<uint8_t> data(kPageSize);
      // The kernel updates the time data under a sequence count (odd while
      // it writes): a copy taken mid-update is taken again.
      for (int attempt = 0; attempt < 8; ++attempt) {
        auto n = inject(kSysProcessVmWritev, {static_cast<uint64_t>(tracee_.pid()), iov, 1, iov + 16, 1, 0});
        if (!n) return n.error();
        if (*n != static_cast<int64_t>(kPageSize)) {
          data.clear();
          break;
        }
        HWSLICE_TRY(tracee_.read(RemoteAddr(buffer), data.data(), data.size()));
        const uint32_t seq = data[0] | data[1] << 8 | data[2] << 16 | static_cast<uint32_t>(data[3]) << 24;
        if (page != m.start || seq % 2 == 0) break;
      }
      if (!data.empty()) vdso_data_[page] = std::move(data);
    }
  }
  if (debug_) std::fprintf(stderr, "hwslice: debug: vdso data: %zu pages copied\n", vdso_data_.size());
  return ok_status();
}

void PageTracker::offer_bytes(uint64_t addr, const uint8_t* data, uint64_t size) {
  if (size != kPageSize || addr % kPageSize != 0 || !granted_.count(addr)) return;
  if (offered_epoch_ != tracee_.epoch()) {
    offered_.clear();
    offered_epoch_ = tracee_.epoch();
  }
  offered_[addr].assign(data, data + size);
}

Status PageTracker::begin_interval() {
  // touched_ still holds the last interval's records (kept pages are
  // compared with them below); cleared once that is done.
  vdso_data_.clear();
  vdso_captured_ = false;
  // Only pages given back need protecting again; at the first interval,
  // every mapping.
  std::vector<Protect> calls;
  if (!armed_) {
    // Everything has the program's own protection now (first interval, or
    // after restore_all): the mappings are read afresh.
    HWSLICE_TRY(load_maps());
    armed_ = true;
    // (load_maps leaves the vDSO's data pages out of ranges_.)
    for (const Range& r : ranges_)
      if (r.prot != 0) calls.push_back(Protect{r.start, r.end, PROT_NONE});
    granted_.clear();
    hot_.clear();
    touched_.clear();
  } else {
    // Pages kept open join the interval with the access they have; the
    // others are protected again, runs of consecutive pages with one call.
    // A page whose keeping ends now but which was open and writable through
    // the interval just finished is kept on when its content changed in it
    // (it was certainly touched, as a faulting page would have been); one
    // that did not change may only have been read, which no fault showed,
    // so it is protected again and its next touch is seen.
    // Its record from the interval just finished holds the whole page.
    auto recorded = [this](uint64_t page) {
      auto t = touched_.find(page);
      return t != touched_.end() && t->second.data.size() == kPageSize;
    };
    struct Kept {
      uint64_t page;
      unsigned left;  // intervals it stays open after this one
    };
    std::vector<Kept> keep;
    std::vector<uint64_t> back, check;
    for (const auto& [page, given] : granted_) {
      auto h = hot_.find(page);
      if (h != hot_.end() && h->second > 0) {
        keep.push_back(Kept{page, h->second - 1});
      } else if (h != hot_.end() && keep_open_ > 0 && (given & PROT_WRITE) && recorded(page)) {
        check.push_back(page);
      } else {
        back.push_back(page);
      }
    }
    // A writable page opened around a fault whose content changed was
    // touched as surely as a faulting page: it counts as used, so the next
    // interval may open it around a fault again (else a page used in every
    // interval would fault every other one). Such pages are never hot, so
    // they are neither kept nor checked above.
    std::vector<uint64_t> probe;
    for (uint64_t q : around_now_) {
      auto g = granted_.find(q);
      if (g != granted_.end() && (g->second & PROT_WRITE) && recorded(q) && !used_now_.count(q)) probe.push_back(q);
    }
    // Kept pages (and those checked or probed) are read now, with their
    // content at this interval's start: the bytes offered at the end of the
    // last interval where there are (the same moment), the others in one
    // batch read; a page that cannot be read is protected again (its touch
    // is then seen).
    if (offered_epoch_ != tracee_.epoch()) offered_.clear();
    std::vector<uint64_t> wanted;
    for (const Kept& k : keep) wanted.push_back(k.page);
    wanted.insert(wanted.end(), check.begin(), check.end());
    wanted.insert(wanted.end(), probe.begin(), probe.end());
    std::vector<const uint8_t*> bytes(wanted.size(), nullptr);  // nullptr: unreadable
    std::vector<Tracee::Range> reads;
    std::vector<size_t> read_for;  // reads[j] is for wanted[read_for[j]]
    for (size_t i = 0; i < wanted.size(); ++i) {
      auto o = offered_.find(wanted[i]);
      if (o != offered_.end()) {
        bytes[i] = o->second.data();
      } else {
        reads.push_back(Tracee::Range{wanted[i], kPageSize});
        read_for.push_back(i);
      }
    }
    // Not value-initialized, as in open_around: a page not read is not used.
    const auto data = std::make_unique_for_overwrite<uint8_t[]>(reads.size() * kPageSize);
    const std::vector<bool> read = tracee_.read_ranges(reads, data.get());
    for (size_t j = 0; j < reads.size(); ++j)
      if (read[j]) bytes[read_for[j]] = data.get() + j * kPageSize;
    // Changed since its record in the interval just finished.
    auto changed = [this](uint64_t page, const uint8_t* now) {
      return now && std::memcmp(touched_.at(page).data.data(), now, kPageSize) != 0;
    };
    std::vector<const uint8_t*> kept_bytes(bytes.begin(), bytes.begin() + static_cast<ptrdiff_t>(keep.size()));
    const size_t kept_first = keep.size();
    const size_t probe_first = kept_first + check.size();
    for (size_t i = 0; i < check.size(); ++i) {
      const uint8_t* now = bytes[kept_first + i];
      if (changed(check[i], now)) {
        keep.push_back(Kept{check[i], keep_open_ - 1});
        kept_bytes.push_back(now);
        ++kept_on_;
      } else {
        back.push_back(check[i]);
      }
    }
    for (size_t i = 0; i < probe.size(); ++i)
      if (changed(probe[i], bytes[probe_first + i])) used_now_.insert(probe[i]);
    around_now_.clear();
    touched_.clear();
    std::map<uint64_t, unsigned> hot;
    for (size_t i = 0; i < keep.size(); ++i) {
      const uint64_t page = keep[i].page;
      if (!kept_bytes[i]) {
        back.push_back(page);
        continue;
      }
      const int given = granted_[page];
      hot[page] = keep[i].left;
      SlicePage& p = store_page(page, kept_bytes[i]);
      p.exec = given & PROT_EXEC;
      p.read = given & PROT_READ;
      p.write = given & PROT_WRITE;
    }
    std::sort(back.begin(), back.end());
    for (size_t i = 0; i < back.size();) {
      size_t j = i + 1;
      while (j < back.size() && back[j] == back[j - 1] + kPageSize) ++j;
      calls.push_back(Protect{back[i], back[j - 1] + kPageSize, PROT_NONE});
      i = j;
    }
    for (uint64_t page : back) granted_.erase(page);
    hot_ = std::move(hot);
    offered_.clear();
    used_last_ = std::move(used_now_);
    used_now_.clear();
  }
  HWSLICE_TRY(protect_ranges(calls));
  // Pages the kernel writes on its own on every return to user mode (the
  // rseq area) must never be protected: a failed rseq update kills the
  // program with SIGSEGV.
  for (uint64_t p : pinned_)
    if (find(p)) HWSLICE_TRY(open_page(p, find(p)->prot, 'k'));
  return ok_status();
}

Status PageTracker::open_page(uint64_t page, int want, char kind) {
  const Range* r = find(page);
  if (!r) return Error("page " + hex_addr(page) + " is not mapped in pid " + std::to_string(tracee_.pid()));
  int& given = granted_[page];
  const int next = (given | want) & r->prot;
  if (next != given) {
    if ((next & PROT_WRITE) && !(given & PROT_WRITE)) {
      // The first write to a page not written yet (copy-on-write, or the
      // shared zero page) is a fault the kernel handles on its own. When
      // that write is an sc, the trap clears the reservation and the sc
      // fails once: instructions the slice, whose pages are all written at
      // set-up, never runs (seen as 4). That fault is taken now, while the
      // program is stopped: madvise(MADV_POPULATE_WRITE) right after the
      // mprotect, in the same injection.
      HWSLICE_TRY(open_for_write(page, page + kPageSize, next));
    } else {
      HWSLICE_TRY(protect_range(page, page + kPageSize, next));
    }
    given = next;
  }
  used_now_.insert(page);
  if (!touched_.count(page) && !record_page(page)) {
    // Unreadable through ptrace (e.g. a device or special mapping): the
    // program may use it, but it cannot be part of a slice.
    unreadable_.insert(page);
    return ok_status();
  }
  mark(touched_[page], want, kind);
  return ok_status();
}

void PageTracker::mark(SlicePage& p, int want, char kind) {
  switch (kind) {
    case 'x': p.exec = true; break;
    case 'r':
      p.read = true;
      if (want & PROT_WRITE) p.write = true;  // may be written from now on without a fault
      break;
    case 'w': p.read = p.write = true; break;
    default: p.kernel = true; break;
  }
}

Status PageTracker::open_around(uint64_t page, int want, char kind) {
  const Range* r = find(page);
  if (around_ <= 1 || !r || granted_.count(page) || touched_.count(page)) return open_page(page, want, kind);
  // The pages: those of the same mapping and aligned block that the last
  // interval used, none open or recorded yet (pinned and the tracer's pages
  // are always open), and the faulting page. A block is where a program's
  // data clusters (a heap arena, a buffer, a table): within it xz touches
  // the same pages from one interval to the next, in runs with gaps.
  const uint64_t block = around_ * kPageSize;
  const uint64_t first = std::max(r->start, page - page % block);
  const uint64_t last = std::min(r->end, page - page % block + block);
  auto joins = [&](uint64_t q) {
    return !granted_.count(q) && !touched_.count(q) && !unreadable_.count(q) && !pinned_.count(q) &&
           !is_tracer_page(q);
  };
  std::vector<uint64_t> pages{page};
  const auto from = used_last_.lower_bound(first), to = used_last_.lower_bound(last);
  for (auto it = from; it != to; ++it)
    if (*it != page && joins(*it)) pages.push_back(*it);
  // Every candidate of this stretch is now open or stays out for the rest
  // of the interval (what stops a page joining lasts until the interval
  // ends): later faults in the block need not look at them again, which
  // had cost xz more in lookups than the opening itself.
  used_last_.erase(from, to);
  std::sort(pages.begin(), pages.end());
  if (pages.size() == 1) return open_page(page, want, kind);
  // Runs of consecutive pages: one mprotect each (and one populate for
  // writing), all in one injection.
  struct Run {
    uint64_t start, end;
  };
  std::vector<Run> runs;
  for (uint64_t q : pages) {
    if (!runs.empty() && runs.back().end == q) runs.back().end += kPageSize;
    else runs.push_back(Run{q, q + kPageSize});
  }
  const int next = want & r->prot;
  if (runs.size() == 1) {
    if (next & PROT_WRITE) HWSLICE_TRY(open_for_write(runs[0].start, runs[0].end, next));
    else HWSLICE_TRY(protect_range(runs[0].start, runs[0].end, next));
  } else {
    std::vector<InjectedCall> calls;
    for (const Run& run : runs) {
      calls.push_back(InjectedCall{riscv::kSysMprotect, {run.start, run.end - run.start, static_cast<uint64_t>(next), 0, 0, 0}});
      if (next & PROT_WRITE)
        calls.push_back(InjectedCall{kSysMadvise, {run.start, run.end - run.start, MADV_POPULATE_WRITE, 0, 0, 0}});
    }
    HWSLICE_TRY(inject_batch(calls));
    for (const InjectedCall& c : calls) {
      if (c.nr == riscv::kSysMprotect && c.result < 0) return mprotect_failed(c.args[0], c.args[0] + c.args[1], c.result);
      // No MADV_POPULATE_WRITE (before 5.14), or a page past the end of its
      // file: the first-write fault taken by writing words back, as
      // open_for_write does.
      if (c.nr == kSysMadvise && c.result < 0) write_back_words(c.args[0], c.args[0] + c.args[1]);
    }
  }
  for (uint64_t q : pages) granted_[q] = next;
  used_now_.insert(page);
  opened_around_ += pages.size() - 1;
  for (uint64_t q : pages)
    if (q != page) around_now_.push_back(q);
  // Their content now is their content at the interval start (they were
  // protected until now): one read for all the runs, page by page where a
  // run cannot be read (a page past the end of its file).
  std::vector<Tracee::Range> ranges;
  size_t bytes = 0;
  for (const Run& run : runs) {
    ranges.push_back(Tracee::Range{run.start, static_cast<size_t>(run.end - run.start)});
    bytes += run.end - run.start;
  }
  // Not value-initialized: every byte is read over or left unused.
  const auto data = std::make_unique_for_overwrite<uint8_t[]>(bytes);
  const std::vector<bool> read = (next & PROT_READ) ? tracee_.read_ranges(ranges, data.get()) : std::vector<bool>(runs.size(), false);
  size_t offset = 0;
  for (size_t i = 0; i < runs.size(); ++i) {
    for (uint64_t q = runs[i].start; q < runs[i].end; q += kPageSize) {
      if (read[i]) store_page(q, data.get() + offset + (q - runs[i].start));
      else if (!record_page(q)) {
        unreadable_.insert(q);
        continue;
      }
      mark(touched_[q], want, q == page ? kind : 'r');
    }
    offset += runs[i].end - runs[i].start;
  }
  return ok_status();
}

Error PageTracker::mprotect_failed(uint64_t start, uint64_t end, int64_t result) const {
  return Error("mprotect " + hex_addr(start) + "-" + hex_addr(end) + " in pid " + std::to_string(tracee_.pid()),
               static_cast<int>(-result));
}

void PageTracker::write_back_words(uint64_t start, uint64_t end) {
  for (uint64_t page = start; page < end; page += kPageSize) {
    uint64_t word = 0;
    if (tracee_.read(RemoteAddr(page), &word, sizeof word)) (void)tracee_.write(RemoteAddr(page), &word, sizeof word);
  }
}

Status PageTracker::open_for_write(uint64_t start, uint64_t end, int prot) {
  if (guard_) guard_(false);
  auto r = inject_syscall_pair(tracee_, RemoteAddr(scratch_ + kPairStubOffset), riscv::kSysMprotect,
                               {start, end - start, static_cast<uint64_t>(prot), 0, 0, 0}, riscv::kSysMadvise,
                               {start, end - start, MADV_POPULATE_WRITE});
  if (guard_) guard_(true);
  if (!r) return r.error();
  injections_ += r->second ? 2 : 1;
  if (r->first < 0) return mprotect_failed(start, end, r->first);
  if (!r->second || *r->second < 0) {
    // Kernels before 5.14 have no MADV_POPULATE_WRITE (EINVAL); a page past
    // the end of its file cannot be populated (EFAULT). Writing a word of
    // each page back through ptrace takes the same fault where there is one.
    write_back_words(start, end);
  }
  return ok_status();
}

Status PageTracker::populate_writable() {
  std::vector<InjectedCall> calls;
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  for (auto [page, prot] : granted_) {
    if (!(prot & PROT_WRITE)) continue;
    if (!runs.empty() && runs.back().second == page)
      runs.back().second += kPageSize;
    else
      runs.emplace_back(page, page + kPageSize);
  }
  for (auto [start, end] : runs) calls.push_back({riscv::kSysMadvise, {start, end - start, MADV_POPULATE_WRITE}});
  HWSLICE_TRY(inject_batch(calls));
  for (size_t i = 0; i < calls.size(); ++i)
    if (calls[i].result < 0) write_back_words(runs[i].first, runs[i].second);
  return ok_status();
}

Status PageTracker::restore_signal(int sig, const std::array<uint64_t, 3>& action, bool block) {
  // In the tracer's iovec page, after the iovecs capture_vdso_data uses.
  const uint64_t at = scratch_ + kPageSize + 256;
  const uint64_t words[4] = {action[0], action[1], action[2], uint64_t{1} << (sig - 1)};
  HWSLICE_TRY(tracee_.write(RemoteAddr(at), words, sizeof words));
  constexpr long kSysRtSigprocmask = 135;
  std::vector<InjectedCall> calls = {{riscv::kSysRtSigaction, {static_cast<uint64_t>(sig), at, 0, 8}}};
  if (block) calls.push_back({kSysRtSigprocmask, {SIG_BLOCK, at + 24, 0, 8}});
  HWSLICE_TRY(inject_batch(calls));
  for (const InjectedCall& c : calls)
    if (c.result < 0)
      return Error("restoring the program's handling of signal " + std::to_string(sig) + " in pid " +
                   std::to_string(tracee_.pid()) + ": call " + std::to_string(c.nr) + " failed: " +
                   std::strerror(static_cast<int>(-c.result)));
  return ok_status();
}

void PageTracker::restore_recorded(uint64_t addr, const uint8_t* bytes, size_t len) {
  for (size_t i = 0; i < len; ++i) {
    auto t = touched_.find(page_down(addr + i));
    if (t != touched_.end() && t->second.data.size() == kPageSize) t->second.data[addr + i - t->first] = bytes[i];
  }
}

bool PageTracker::recorded_bytes(uint64_t addr, uint8_t* out, size_t n) const {
  while (n > 0) {
    const uint64_t page = page_down(addr);
    const auto t = touched_.find(page);
    const auto g = granted_.find(page);
    // Written since it was recorded, or possibly so: write access given
    // (the kernel's writes for syscalls need it too), or the vDSO, which the
    // tracer may have patched.
    if (t == touched_.end() || t->second.data.size() != kPageSize || g == granted_.end() || (g->second & PROT_WRITE))
      return false;
    const Range* r = find(page);
    if (!r || r->path == "[vdso]") return false;
    const size_t k = std::min<uint64_t>(n, page + kPageSize - addr);
    std::memcpy(out, t->second.data.data() + (addr - page), k);
    out += k;
    addr += k;
    n -= k;
  }
  return true;
}

bool PageTracker::ends_with_lr(uint64_t page) {
  uint8_t tail[32];
  if (!tracee_.read_forced(RemoteAddr(page + kPageSize - sizeof tail), tail, sizeof tail)) return false;
  // Any 2-byte-aligned word that encodes lr.w/lr.d (AMO opcode, funct5 00010).
  for (size_t i = 0; i + 4 <= sizeof tail; i += 2) {
    const uint32_t w = tail[i] | tail[i + 1] << 8 | tail[i + 2] << 16 | static_cast<uint32_t>(tail[i + 3]) << 24;
    if ((w & 0x7f) == 0x2f && (w >> 27) == 0x2 && ((w >> 12) & 0x7) >= 2) return true;
  }
  return false;
}

bool PageTracker::record_page(uint64_t page) {
  // A page past the end of a mapped file cannot be read (EIO): not recorded.
  // One not readable for the program now (execute-only, or still
  // protected) is read through /proc/<pid>/mem at once, without first
  // trying process_vm_readv, which refuses it.
  uint8_t bytes[kPageSize];
  const auto given = granted_.find(page);
  const bool readable = given != granted_.end() && (given->second & PROT_READ);
  if (!(readable ? tracee_.read(RemoteAddr(page), bytes, sizeof bytes)
                 : tracee_.read_forced(RemoteAddr(page), bytes, sizeof bytes)))
    return false;
  store_page(page, bytes);
  return true;
}

SlicePage& PageTracker::store_page(uint64_t page, const uint8_t* bytes) {
  const Range* r = find(page);
  SlicePage& p = touched_[page];
  p = SlicePage{};
  p.addr = page;
  p.prot = r ? r->prot : PROT_READ;
  p.data.assign(bytes, bytes + kPageSize);
  return p;
}

Result<std::optional<PageTracker::Fault>> PageTracker::classify_fault(const siginfo_t& info, uint64_t pc) {
  const std::optional<Fault> program;  // the program's own fault
  if (info.si_signo != SIGSEGV || info.si_code != SEGV_ACCERR) return program;
  const uint64_t addr = reinterpret_cast<uint64_t>(info.si_addr);
  if (!find(addr)) HWSLICE_TRY(refresh_maps());  // e.g. the stack grew into a new, protected page
  const Range* r = find(addr);
  if (!r || r->prot == 0) return program;
  const uint64_t page = page_down(addr);

  const auto given = granted_.find(page);
  const bool can_exec = given != granted_.end() && (given->second & PROT_EXEC);
  const bool fetch = (page == page_down(pc) || page == page_down(pc + 2)) && !can_exec;
  // The access the instruction at pc needs: the page's own mapping limits
  // it; a fetch needs exec, a store or AMO write, a load read (and write
  // too on writable memory, see below).
  auto access = [&](uint32_t bits) -> std::pair<int, char> {
    if (fetch) return {PROT_EXEC, 'x'};
    switch (riscv::memory_access(bits)) {
      // LR/SC and AMOs get write access at once: a second fault between an
      // lr and its sc would clear the reservation and change the path.
      case riscv::MemAccess::kStore:
      case riscv::MemAccess::kAtomic: return {PROT_READ | PROT_WRITE, 'w'};
      // A read of writable memory gets write access too: a later write to
      // the page (e.g. the sc of an lr/sc pair after a plain load) must not
      // fault again, and the page is counted as possibly written.
      default: return {(r->prot & PROT_WRITE) ? PROT_READ | PROT_WRITE : PROT_READ, 'r'};
    }
  };
  // The program's own fault (e.g. a write to text, or to a page it made
  // read-only), not one of the tracker's.
  auto own = [&](int want) {
    return (want & r->prot) != want || (given != granted_.end() && (given->second & want) == want);
  };
  // The instruction: from this interval's record of its page where that
  // still holds the page's bytes (no fault, no read), else through
  // /proc/<pid>/mem: the code page may be execute-only or protected now,
  // which process_vm_readv refuses. Four bytes at once; two where the next
  // page is not mapped (a compressed instruction at the end).
  auto bits_of = [](uint8_t (&code)[4]) -> uint32_t {
    if (riscv::instruction_length(static_cast<uint16_t>(code[0] | code[1] << 8)) != 4) code[2] = code[3] = 0;
    return code[0] | code[1] << 8 | code[2] << 16 | static_cast<uint32_t>(code[3]) << 24;
  };
  auto recorded_bits = [&]() -> std::optional<uint32_t> {
    uint8_t code[4] = {};
    if (!recorded_bytes(pc, code, 4) && !recorded_bytes(pc, code, 2)) return std::nullopt;
    return bits_of(code);
  };
  auto memory_bits = [&]() -> uint32_t {
    uint8_t code[4] = {};
    if (!tracee_.read_forced(RemoteAddr(pc), code, 4) && !tracee_.read_forced(RemoteAddr(pc), code, 2)) return 0;
    return bits_of(code);
  };
  std::optional<uint32_t> recorded = fetch ? std::optional<uint32_t>(0) : recorded_bits();
  uint32_t bits = recorded ? *recorded : memory_bits();
  auto [want, kind] = access(bits);
  if (own(want) && !fetch && recorded) {
    // Decided from a record: confirmed from memory before the program is
    // given the signal (another mapping of the same file may have changed
    // the code since it was recorded).
    bits = memory_bits();
    std::tie(want, kind) = access(bits);
  }
  if (own(want)) return program;
  Fault f;
  f.addr = addr;
  f.page = page;
  f.pc = pc;
  f.granted = given != granted_.end() ? given->second : 0;
  f.want = want;
  f.kind = kind;
  f.fetch = fetch;
  f.bits = bits;
  return std::optional<Fault>(f);
}

Result<bool> PageTracker::on_fault(const siginfo_t& info, uint64_t pc) {
  auto f = classify_fault(info, pc);
  if (!f) return f.error();
  if (!*f) return false;
  HWSLICE_TRY(open_fault(**f));
  return true;
}

Status PageTracker::open_fault(const Fault& f) {
  const uint64_t page = f.page, addr = f.addr, pc = f.pc;
  const int want = f.want;
  const char kind = f.kind;
  const bool fetch = f.fetch;
  const uint32_t bits = f.bits;
  const Range* r = find(page);
  if (!r) return Error("page " + hex_addr(page) + " is not mapped in pid " + std::to_string(tracee_.pid()));
  ++faults_;
  // An lr/sc sequence running off the end of this code page would fault
  // between its lr and its sc, and the lost reservation makes the sc fail
  // once (extra instructions the slice does not have): the next page gets
  // exec access with this one.
  if (fetch && ends_with_lr(page)) {
    const Range* next = find(page + kPageSize);
    if (next && (next->prot & PROT_EXEC)) HWSLICE_TRY(open_page(page + kPageSize, PROT_EXEC, 'x'));
  }
  if (debug_)
    std::fprintf(stderr, "hwslice: debug: fault %c at %llx pc %llx insn %08x\n", kind,
                 static_cast<unsigned long long>(addr), static_cast<unsigned long long>(pc), bits);
  const bool vdso = r->path == "[vdso]";
  if (fetch || vdso) HWSLICE_TRY(open_page(page, want, kind));
  else HWSLICE_TRY(open_around(page, want, kind));
  if (keep_open_ && !vdso) hot_[page] = keep_open_;
  // The vDSO reads its data pages: they are copied while the program is
  // stopped at its first touch of the vDSO (a signal stop, where the tracer
  // can inject).
  if (vdso && !vdso_captured_) HWSLICE_TRY(capture_vdso_data());
  return ok_status();
}

int PageTracker::granted(uint64_t page) const {
  auto g = granted_.find(page_down(page));
  return g == granted_.end() ? 0 : g->second;
}

Status PageTracker::open_for_kernel_write(uint64_t start, uint64_t end) {
  for (uint64_t p = page_down(start); p < end && p >= page_down(start); p += kPageSize) {
    const Range* r = find(p);
    if (!r || !(r->prot & PROT_WRITE) || is_tracer_page(p)) continue;
    HWSLICE_TRY(open_page(p, PROT_READ | PROT_WRITE, 'k'));
    touched_[p].write = true;
  }
  return ok_status();
}

Status PageTracker::before_call(long nr, const std::array<uint64_t, 6>& args) {
  std::vector<std::pair<uint64_t, uint64_t>> spans;  // [start, end)
  if (nr == kSysReadv || nr == kSysWritev || nr == kSysPreadv || nr == kSysPwritev || nr == kSysPreadv2 ||
      nr == kSysPwritev2) {
    const uint64_t count = std::min<uint64_t>(args[2], 1024);
    spans.emplace_back(args[1], args[1] + count * sizeof(iovec));
    std::vector<iovec> iov(count);
    if (count && tracee_.read(RemoteAddr(args[1]), iov.data(), count * sizeof(iovec)))
      for (const iovec& v : iov)
        if (v.iov_len) spans.emplace_back(reinterpret_cast<uint64_t>(v.iov_base),
                                          reinterpret_cast<uint64_t>(v.iov_base) + v.iov_len);
  } else if (nr == riscv::kSysRtSigreturn) {
    // The kernel reads the signal frame at sp (siginfo, then the ucontext).
    auto regs = tracee_.regs();
    if (!regs) return regs.error();
    spans.emplace_back(regs->x(riscv::kSp), regs->x(riscv::kSp) + riscv::kSignalFrameMax);
  } else if (!is_memory_call(nr)) {
    const int sized = sized_buffer_arg(nr);
    for (int i = 0; i < 6; ++i) {
      if (!find(args[i])) continue;
      uint64_t len = kMinSpan;
      if (i == sized && args[i + 1] <= kMaxBuffer) len = std::max(len, args[i + 1]);
      spans.emplace_back(args[i], args[i] + len);
    }
  }
  std::set<uint64_t> pages;
  for (auto [start, end] : spans) {
    for (uint64_t p = page_down(start); p < end && p >= page_down(start); p += kPageSize) {
      const Range* r = find(p);
      if (!r || r->prot == 0 || is_tracer_page(p)) continue;
      auto g = granted_.find(p);
      if (g == granted_.end() || g->second != r->prot) pages.insert(p);
    }
  }
  observe_call(nr, args);
  // A new process (fork, or clone without CLONE_THREAD: the tracer refuses
  // threads) would inherit the tracker's protections, and no tracer opens
  // its pages: every mapping gets the program's own protection for the
  // call, and the tracker's back in after_call (the parent's exit stop).
  constexpr long kSysClone = 220, kSysClone3 = 435;
  if (nr == kSysClone || nr == kSysClone3) {
    return at_skipped_call(nr, args, [this]() -> Status {
      std::vector<Protect> calls;
      for (const Range& r : ranges_)
        if (r.prot != 0) calls.push_back(Protect{r.start, r.end, r.prot});
      HWSLICE_TRY(protect_ranges(calls));
      forking_ = true;
      return ok_status();
    });
  }
  if (pages.empty()) return ok_status();
  // Opened for the kernel only: after the call they get their previous
  // access back, so the program's own first touch is still seen.
  return at_skipped_call(nr, args, [&]() -> Status {
    for (uint64_t p : pages) {
      auto g = granted_.find(p);
      opened_.emplace_back(p, g == granted_.end() ? 0 : g->second);
      const int prot = find(p)->prot;
      HWSLICE_TRY(protect_range(p, p + kPageSize, prot));
      granted_[p] = prot;
    }
    return ok_status();
  });
}

Status PageTracker::at_skipped_call(long nr, const std::array<uint64_t, 6>& args, const std::function<Status()>& work) {
  // Turn the call into a no-op, do the work at its exit stop (where the
  // tracer can inject), then run the ecall again up to its entry stop.
  auto regs = tracee_.regs();
  if (!regs) return regs.error();
  const riscv::IntRegisters at_entry = *regs;
  auto skip = at_entry;
  skip.set_x(riscv::kA7, static_cast<uint64_t>(-1));
  HWSLICE_TRY(tracee_.set_regs(skip));
  HWSLICE_TRY(tracee_.syscall());
  auto st = tracee_.wait();
  if (!st) return st.error();
  if (st->kind() != WaitStatus::Kind::kSyscallStop)
    return Error("expected the exit of a skipped syscall, but tracee " + tracee_.state_line());
  HWSLICE_TRY(work());
  auto again = at_entry;
  again.set_pc(at_entry.pc() - 4);
  again.set_x(riscv::kA0, args[0]);
  again.set_x(riscv::kA7, static_cast<uint64_t>(nr));
  HWSLICE_TRY(tracee_.set_regs(again));
  while (true) {
    HWSLICE_TRY(tracee_.syscall());
    st = tracee_.wait();
    if (!st) return st.error();
    if (tracee_.take_requested_stop(*st)) continue;
    break;
  }
  if (st->kind() != WaitStatus::Kind::kSyscallStop)
    return Error("expected the repeated syscall's entry, but tracee " + tracee_.state_line());
  if (debug_) {
    auto now = tracee_.regs();
    auto info = tracee_.syscall_info();
    std::fprintf(stderr, "hwslice: debug: re-ran syscall %ld at %llx: now pc %llx a0 %llx a7 %llx op %d nr %lld\n", nr,
                 static_cast<unsigned long long>(at_entry.pc() - 4),
                 static_cast<unsigned long long>(now ? now->pc() : 0), static_cast<unsigned long long>(now ? now->x(10) : 0),
                 static_cast<unsigned long long>(now ? now->x(17) : 0), info ? info->op : -1,
                 info ? static_cast<long long>(info->entry.nr) : -1);
  }
  ++reexecuted_;
  return ok_status();
}

Status PageTracker::protect_after_fork() {
  forking_ = false;
  std::vector<Protect> calls;
  for (const Range& r : ranges_)
    if (r.prot != 0) calls.push_back(Protect{r.start, r.end, PROT_NONE});
  for (auto [page, prot] : granted_)
    if (!calls.empty() && calls.back().prot == prot && calls.back().end == page)
      calls.back().end += kPageSize;
    else
      calls.push_back(Protect{page, page + kPageSize, prot});
  return protect_ranges(calls);
}

void PageTracker::observe_call(long nr, const std::array<uint64_t, 6>& args) {
  if (nr == riscv::kSysRseq && args[0] != 0 && args[2] == 0) {
    for (uint64_t p = page_down(args[0]); p < args[0] + args[1]; p += kPageSize) pinned_.insert(p);
    async_.emplace_back(args[0], args[1]);
  }
}

Status PageTracker::refresh_maps() {
  auto maps = read_maps(tracee_.pid());
  if (!maps) return maps.error();
  // Growth of an existing mapping (the stack): a vma that overlaps a known
  // range but starts lower extends it with the same protection.
  for (const Mapping& m : *maps) {
    if (is_tracer_page(m.start)) continue;
    for (Range& r : ranges_)
      if (m.start < r.start && m.end > r.start && m.end <= r.end) {
        r.start = m.start;
        note_seen(r);
      }
  }
  return ok_status();
}

Status PageTracker::after_call(SyscallRecord& rec) {
  // Pages the kernel wrote are in the slice (the replay writes into them);
  // their content is taken after the write, which replay repeats exactly.
  for (const MemWrite& w : rec.writes)
    for (uint64_t p = page_down(w.addr); p < w.addr + w.data.size(); p += kPageSize)
      if (find(p)) {
        if (!touched_.count(p) && !record_page(p)) continue;
        touched_[p].kernel = true;
        touched_[p].write = true;
      }
  // The slice performs writes to stdout/stderr for real (echo): the pages
  // they read are in it too.
  const bool echo = (rec.nr == 64 || rec.nr == 66) && (rec.args[0] == 1 || rec.args[0] == 2);
  for (auto [p, before] : opened_) {
    if (!find(p)) continue;
    if (echo && (touched_.count(p) || record_page(p))) touched_[p].kernel = true;
    HWSLICE_TRY(protect_range(p, p + kPageSize, before & find(p)->prot));
    if (before) granted_[p] = before;
    else granted_.erase(p);
  }
  opened_.clear();
  if (forking_) HWSLICE_TRY(protect_after_fork());
  const int64_t ret = static_cast<int64_t>(rec.ret);
  if (ret < 0 && ret > -4096) return ok_status();
  constexpr long kSysClone = 220, kSysClone3 = 435;
  constexpr uint64_t kCloneVm = 0x100;
  if (((rec.nr == kSysClone && !(rec.args[0] & kCloneVm)) || rec.nr == kSysClone3) && ret > 0)
    HWSLICE_TRY(populate_writable());

  // Keeps the model of the program's own protections and protects what is
  // new. `replace` pages already touched get their new content as a write.
  auto set_range = [&](uint64_t start, uint64_t end, int prot, const std::string& path, bool replaced) -> Status {
    start = page_down(start);
    end = page_up(end);
    if (start >= end) return ok_status();
    std::vector<Range> next;
    for (const Range& r : ranges_) {
      if (r.end <= start || r.start >= end) {
        next.push_back(r);
        continue;
      }
      if (r.start < start) next.push_back(Range{r.start, start, r.prot, r.path});
      if (r.end > end) next.push_back(Range{end, r.end, r.prot, r.path});
    }
    if (prot >= 0) next.push_back(Range{start, end, prot, path});
    std::sort(next.begin(), next.end(), [](const Range& a, const Range& b) { return a.start < b.start; });
    ranges_ = std::move(next);
    if (prot >= 0) note_seen(Range{start, end, prot, path});
    // Given-back pages keep what they were given, within the new protection.
    std::vector<std::pair<uint64_t, int>> keep;
    for (auto it = granted_.lower_bound(start); it != granted_.end() && it->first < end;) {
      if (prot > 0) keep.emplace_back(it->first, it->second & prot);
      it = granted_.erase(it);
    }
    if (prot > 0) {
      HWSLICE_TRY(protect_range(start, end, PROT_NONE));
      for (auto [p, g] : keep)
        if (g) {
          HWSLICE_TRY(protect_range(p, p + kPageSize, g));
          granted_[p] = g;
        }
    }
    if (replaced) {
      for (auto it = touched_.lower_bound(start); it != touched_.end() && it->first < end; ++it) {
        MemWrite w{it->first, std::vector<uint8_t>(kPageSize)};
        if (prot > 0 && !tracee_.read(RemoteAddr(it->first), w.data.data(), kPageSize)) continue;
        rec.writes.push_back(std::move(w));
      }
    }
    return ok_status();
  };

  switch (rec.nr) {
    case riscv::kSysMmap:
      return set_range(rec.ret, rec.ret + rec.args[1], static_cast<int>(rec.args[2] & 7), "", true);
    case riscv::kSysMprotect: return set_range(rec.args[0], rec.args[0] + rec.args[1], static_cast<int>(rec.args[2] & 7),
                                               find(rec.args[0]) ? find(rec.args[0])->path : "", false);
    case riscv::kSysMunmap: return set_range(rec.args[0], rec.args[0] + rec.args[1], -1, "", false);
    case kSysMremap: {
      const Range* old = find(rec.args[0]);
      const int prot = old ? old->prot : PROT_READ | PROT_WRITE;
      const std::string path = old ? old->path : "";
      HWSLICE_TRY(set_range(rec.args[0], rec.args[0] + rec.args[1], -1, "", false));
      return set_range(rec.ret, rec.ret + rec.args[2], prot, path, true);
    }
    case kSysBrk: {
      // The heap is [start, brk): find the range ending at the old break.
      const uint64_t brk = page_up(rec.ret);
      for (const Range& r : ranges_)
        if (r.path == "[heap]") {
          if (brk > r.end) return set_range(r.end, brk, PROT_READ | PROT_WRITE, "[heap]", false);
          if (brk < r.end) return set_range(brk, r.end, -1, "", false);
          return ok_status();
        }
      // No heap yet: the first growth creates it right at the initial break.
      if (rec.args[0] != 0) {
        auto maps = read_maps(tracee_.pid());
        if (!maps) return maps.error();
        for (const Mapping& m : *maps)
          if (m.path == "[heap]") return set_range(m.start, m.end, PROT_READ | PROT_WRITE, "[heap]", false);
      }
      return ok_status();
    }
    case kSysMadvise:
      if (static_cast<int>(rec.args[2]) == kMadvDontneed || static_cast<int>(rec.args[2]) == kMadvFree) {
        // The pages read back as zeros (private anonymous memory).
        for (auto it = touched_.lower_bound(page_down(rec.args[0]));
             it != touched_.end() && it->first < rec.args[0] + rec.args[1]; ++it)
          rec.writes.push_back(MemWrite{it->first, std::vector<uint8_t>(kPageSize)});
      }
      return ok_status();
    default: return ok_status();
  }
}

Status PageTracker::include(uint64_t addr, uint64_t len, bool exec) {
  for (uint64_t p = page_down(addr); p < addr + len; p += kPageSize) {
    if (!touched_.count(p) && !record_page(p))
      return Error("cannot read page " + hex_addr(p) + " of pid " + std::to_string(tracee_.pid()));
    if (exec) touched_[p].exec = true;
  }
  return ok_status();
}

std::vector<SlicePage> PageTracker::take_pages() {
  std::vector<SlicePage> out;
  out.reserve(touched_.size());
  for (auto& [addr, p] : touched_) {
    // begin_interval compares a page given write access (kept, or opened
    // around a fault) with its record: that record keeps its bytes. The
    // others' bytes move out (a copy of every page cost xz's trace about
    // as much as hashing them).
    const auto g = granted_.find(addr);
    if (g != granted_.end() && (g->second & PROT_WRITE)) {
      out.push_back(p);
    } else {
      out.push_back(std::move(p));  // how it was touched stays (written_pages)
      p.data.clear();
    }
    // The protection the slice gives the page: what the program had at the
    // first touch and has now (a mapping replaced by mmap or changed by
    // mprotect during the interval), and what it was seen doing.
    SlicePage& q = out.back();
    if (const Range* r = find(addr)) q.prot |= r->prot;
    q.prot |= PROT_READ | (q.exec ? PROT_EXEC : 0) | (q.write && !q.kernel ? PROT_WRITE : 0);
  }
  return out;
}

std::vector<uint64_t> PageTracker::written_pages() const {
  std::vector<uint64_t> out;
  for (const auto& [addr, p] : touched_)
    if (p.write || p.kernel) out.push_back(addr);
  return out;
}

Status PageTracker::restore_all() {
  std::vector<Protect> calls;
  for (const Range& r : ranges_)
    if (r.prot != 0) calls.push_back(Protect{r.start, r.end, r.prot});
  HWSLICE_TRY(protect_ranges(calls));
  granted_.clear();
  hot_.clear();
  touched_.clear();
  offered_.clear();
  used_now_.clear();
  used_last_.clear();
  around_now_.clear();
  armed_ = false;
  return ok_status();
}

}  // namespace hwslice
