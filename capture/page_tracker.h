// PageTracker: learns which pages an interval touches, with ptrace and
// protection faults (the design brief's page mode).
//
// At an interval start every mapping of the tracee is mprotect'ed PROT_NONE
// (by syscall injection from a private code page). Each first access faults;
// the tracer records the page (kind: exec/read/write, content before the
// access), gives back just the access the instruction needs (never more than
// the mapping's own protection) and lets the instruction run again.
// Syscall buffers are opened before the call runs, so the kernel never sees
// a protected buffer (a PROT_NONE buffer makes a syscall fail with EFAULT or
// return short): for each argument that points into a protected page, the
// range it may cover (the buffer and its size argument for read/write-like
// calls, else 512 bytes; iovec arrays are followed; memory-management calls
// have no buffers) is opened for the call and closed again after it. Pages
// the kernel wrote join the interval (replay writes into them), and so do
// the pages of writes to stdout/stderr (the slice performs those). Mappings
// the program creates or changes (brk, mmap, mremap, mprotect, munmap) are
// tracked from the calls' own arguments and kept protected.
//
// Contract:
//  - All calls are made while the tracee is stopped. Injections need a
//    signal, breakpoint or syscall-exit stop; before_call, at a syscall-entry
//    stop, therefore turns the call into a no-op (a7 = -1), injects at its
//    exit stop, puts the registers back to the ecall and runs to the entry
//    stop of the same call again: the program executes that ecall twice,
//    which reexecuted_ecalls() counts for the owner's instruction count.
//    A fork (clone without CLONE_THREAD) runs the same way with every
//    mapping given the program's own protection, so the new process, which
//    no tracer follows, inherits the program's protections; the tracker's
//    come back at its exit stop.
//  - restore_all() gives every mapping its own protection back; the
//    destructor does not (the tracee may be gone): the owner calls it before
//    detaching, so no protection is ever left behind.
//  - Injected syscalls are not program instructions: the owner's counter
//    must not count them (see set_injection_guard).
#pragma once

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "riscv/address_space.h"
#include "base/result.h"
#include "ptrace/syscall_injector.h"
#include "ptrace/tracee.h"
#include "base/debug.h"
#include "base/page.h"
#include "record/slice_spec.h"

namespace hwslice {

class PageTracker {
 public:
  explicit PageTracker(Tracee& tracee) : tracee_(tracee) {}

  // Allocates the private injection page (at the tracee's current pc first)
  // and reads the mappings. The tracee must be stopped at its exec event or
  // a signal stop.
  Status init();
  // Called around every injected syscall (e.g. to pause a counter).
  void set_injection_guard(std::function<void(bool running)> guard) { guard_ = std::move(guard); }

  // Pages the program faulted on stay open for this many more intervals
  // (0: every interval starts with everything protected). A kept page is
  // part of those intervals, with the access it was given and its content
  // at their start, whether or not they use it: fewer faults and
  // injections for a program that keeps using the same pages, at the cost
  // of pages an interval may not need (still a superset of what it touched).
  // A kept writable page whose content changed while it was open was
  // touched then, as surely as a fault would have shown: its keeping starts
  // over. One that did not change is protected again when its keeping ends.
  // vDSO pages are never kept (their first touch copies the vDSO's data).
  void set_keep_open(unsigned intervals) { keep_open_ = intervals; }

  // Fault-around (like the kernel's fault_around_bytes for file pages): a
  // data fault also opens the pages of its mapping within its aligned block
  // of this many pages that the interval before used, in one injection
  // however many runs they form, recorded as read (and as possibly written
  // on writable memory). "Used" means a fault or a syscall
  // opened the page, or it was opened around a fault and its content
  // changed; a page merely opened around a fault is not evidence for the
  // next interval, so an interval's pages stay a superset of what it
  // touched, each extra one touched in the interval before. Programs
  // mostly touch the same pages from one interval to the next, clustered
  // in runs with gaps: with blocks of 1024 pages (the CLI's default) xz -9
  // at 10 M-instruction intervals faults a quarter as often as without,
  // for about 5% more pages than it touched. 0 or 1: off.
  void set_fault_around(unsigned pages) { around_ = pages; }

  // The bytes of a page as they are now (a whole page at a page address),
  // read by the owner at the end of an interval (the written-memory
  // digest): the next begin_interval takes kept pages' bytes from here
  // instead of reading them again, as long as the tracee has neither run
  // nor been written since (Tracee::epoch). Other ranges are ignored.
  void offer_bytes(uint64_t addr, const uint8_t* data, uint64_t size);

  // Starts an interval: forgets the touched pages and protects everything
  // except the pages kept open (set_keep_open), which it records as touched.
  Status begin_interval();
  // A SIGSEGV stop the tracker caused: where, and what the instruction
  // needs.
  struct Fault {
    uint64_t addr = 0, page = 0, pc = 0;
    int granted = 0;    // the access the page had in this interval (the access faulted under it)
    int want = 0;       // the access it gets
    char kind = 'r';    // 'x', 'r', 'w'
    bool fetch = false;
    uint32_t bits = 0;  // the instruction (0 for a fetch)
  };
  // Classifies a SIGSEGV stop: the tracker's fault, or nullopt for the
  // program's own. Changes nothing but the maps it reads.
  Result<std::optional<Fault>> classify_fault(const siginfo_t& info, uint64_t pc);
  // Opens and records the page of a fault classify_fault found in this
  // interval (and the pages fault-around opens with it).
  Status open_fault(const Fault& fault);
  // Both: when the SIGSEGV stop is one of ours, records and opens the page
  // and returns true; false means it is the program's own fault.
  Result<bool> on_fault(const siginfo_t& info, uint64_t pc);
  // The access `addr`'s page has in this interval (0: none yet).
  int granted(uint64_t addr) const;
  // Whether `addr`'s page is already among this interval's pages (recorded
  // at an earlier touch, possibly under a mapping since replaced).
  bool recorded(uint64_t addr) const { return touched_.count(addr & ~(kPageSize - 1)) != 0; }
  // Memory the kernel is about to write for the program outside a syscall
  // (a signal frame): its writable pages are opened and join the interval
  // as written by the kernel, content recorded before the write.
  Status open_for_kernel_write(uint64_t start, uint64_t end);
  // A tracker fault is a SIGSEGV: when the program had SIGSEGV blocked or
  // ignored, the kernel reset its action to the default (and unblocked it)
  // as it raised the fault. This puts the action (handler, flags, mask of
  // the kernel's struct sigaction) back and, with `block`, blocks it again.
  Status restore_signal(int sig, const std::array<uint64_t, 3>& action, bool block);
  // Puts the program's own bytes back into this interval's page records
  // where the tracer had a breakpoint while a page was recorded.
  void restore_recorded(uint64_t addr, const uint8_t* bytes, size_t len);
  // At a syscall-entry stop: opens (and records) the pages the call's
  // arguments may point to; returns at the entry stop of the same call.
  Status before_call(long nr, const std::array<uint64_t, 6>& args);
  // Every syscall entry, tracked or not (fast-forward): notes what must
  // never be protected (the rseq area).
  void observe_call(long nr, const std::array<uint64_t, 6>& args);
  // Pages the program touched that could not be read (not in any slice).
  const std::set<uint64_t>& unreadable() const { return unreadable_; }
  // At a syscall-exit stop: pages the kernel wrote, and mapping changes; a
  // call that replaced the content of pages already touched (mmap over them,
  // madvise DONTNEED) gets that content added to its writes.
  Status after_call(SyscallRecord& rec);
  // Makes sure the page holding [addr, addr+len) is in the interval (e.g. the
  // code page of the end point), recording its current content.
  Status include(uint64_t addr, uint64_t len, bool exec);
  // Pages of the interval, sorted; content as at the interval start. Called
  // once, at the interval's end: the records' bytes move out, except where
  // the next begin_interval compares a page with its record.
  std::vector<SlicePage> take_pages();
  // Pages written by the program or the kernel during the interval.
  std::vector<uint64_t> written_pages() const;
  // Gives every mapping its own protection back.
  Status restore_all();
  // Union of all mappings seen (without the tracer's own page).
  const std::vector<AddressRange>& mappings_seen() const { return seen_; }
  uint64_t injections() const { return injections_; }
  uint64_t faults() const { return faults_; }
  // Pages opened with a faulting page (set_fault_around).
  uint64_t opened_around() const { return opened_around_; }
  // Kept pages kept on for another stretch because their content changed
  // while they were open (set_keep_open).
  uint64_t kept_on() const { return kept_on_; }
  uint64_t reexecuted_ecalls() const { return reexecuted_; }
  // Memory the kernel rewrites without a syscall (registered rseq areas).
  const std::vector<std::pair<uint64_t, uint64_t>>& async_areas() const { return async_; }
  // The program's own protection of `addr` while the tracker holds the
  // address space protected (what /proc/<pid>/maps shows is then the
  // tracker's); nullopt when maps shows the program's own, or for an
  // address in no known mapping.
  std::optional<int> program_prot(uint64_t addr) const {
    if (!armed_) return std::nullopt;
    const Range* r = find(addr);
    if (!r) return std::nullopt;
    return r->prot;
  }
  // The tracer's code page in the tracee (r-x, never protected).
  uint64_t code_page() const { return scratch_; }
  bool is_tracer_page(uint64_t addr) const { return addr >= scratch_ && addr < scratch_ + kScratchPages * kPageSize; }
  // The vDSO data pages ([vvar]) as the program saw them when it first
  // touched the vDSO in this interval (address -> page content). They can be
  // neither protected nor read through ptrace, so the tracee copies them
  // itself (process_vm_writev from its own memory into the tracer's page).
  // Empty when the interval did not touch the vDSO; pages that fault even
  // for the program (e.g. the time-namespace page outside one) are absent.
  const std::map<uint64_t, std::vector<uint8_t>>& vdso_data() const { return vdso_data_; }

 private:
  struct Range {
    uint64_t start, end;
    int prot;  // the program's protection
    std::string path;
  };
  Result<int64_t> inject(long nr, const std::array<uint64_t, 6>& args);
  Status refresh_maps();
  Status load_maps();
  const Range* find(uint64_t addr) const;
  // Opens `page` for `want` (PROT_* bits, limited to the mapping's own) and
  // records it at its first touch.
  Status open_page(uint64_t page, int want, char kind);
  // Sets a record's kind flags for an access of `kind` given `want`.
  static void mark(SlicePage& p, int want, char kind);
  // Gives a page `prot`, which adds write access, and takes
  // its first-write fault (copy-on-write, zero page) at once: mprotect and
  // madvise(MADV_POPULATE_WRITE) in one injection, or a word written back
  // through ptrace where the madvise fails.
  Status open_for_write(uint64_t start, uint64_t end, int prot);
  // on_fault's opening with fault-around: the run of pages around `page`
  // that set_fault_around allows, or `page` alone through open_page.
  Status open_around(uint64_t page, int want, char kind);
  // Records `page` with its current content; false when it cannot be read.
  bool record_page(uint64_t page);
  // Puts a page into touched_ (no access flags yet) with its mapping's
  // protection and these kPageSize bytes; returns it.
  SlicePage& store_page(uint64_t page, const uint8_t* bytes);
  // Copies n bytes at addr from this interval's page records when every
  // page they span was recorded and cannot have changed since (never given
  // write access, not the vDSO); false otherwise.
  bool recorded_bytes(uint64_t addr, uint8_t* out, size_t n) const;
  // The last bytes of a code page hold an lr instruction.
  bool ends_with_lr(uint64_t page);
  Status protect_range(uint64_t start, uint64_t end, int prot);
  // Several protect_range calls as one batch injection (one tracee stop).
  struct Protect {
    uint64_t start, end;
    int prot;
  };
  Status protect_ranges(const std::vector<Protect>& ranges);
  // Runs `calls` in batch injections (one tracee stop per kBatchMax calls)
  // and leaves each call's result in it; an Error only when injecting fails.
  Status inject_batch(std::vector<InjectedCall>& calls);
  // After a fork the pages the program may write are shared copy-on-write:
  // the next write to each is a fault the kernel takes, which clears an
  // lr's reservation (an sc fails once, which no slice repeats). Takes
  // those faults now for every page open for writing
  // (MADV_POPULATE_WRITE in one batch).
  Status populate_writable();
  // At a syscall-entry stop: turns the call into a no-op, runs `work` at
  // its exit stop (where injections work), then runs the ecall again up to
  // its entry stop (counted in reexecuted_ecalls()).
  Status at_skipped_call(long nr, const std::array<uint64_t, 6>& args, const std::function<Status()>& work);
  // After a fork's call (its mappings opened for the child): every mapping
  // protected again, the pages given back their access.
  Status protect_after_fork();
  // Takes the first-write faults of [start, end) by writing a word of each
  // page back through ptrace (where MADV_POPULATE_WRITE fails).
  void write_back_words(uint64_t start, uint64_t end);
  // The error of an injected mprotect of [start, end) that returned
  // `result` (a negative errno).
  Error mprotect_failed(uint64_t start, uint64_t end, int64_t result) const;
  // Fills vdso_data_ (see vdso_data()).
  Status capture_vdso_data();
  void note_seen(const Range& r);

  Tracee& tracee_;
  // HWSLICE_DEBUG: each fault and re-run syscall on stderr (read once, not
  // on every fault).
  const bool debug_ = debug_enabled();
  std::function<void(bool)> guard_;
  // The tracer's pages in the tracee: code (r-x: injected instructions at
  // its start, a permanent ecall/ebreak at kSyscallStubOffset, the pair
  // stub at kPairStubOffset, the batch stub at kBatchStubOffset), then two
  // read-write
  // pages (iovecs and, from kBatchTableOffset, the batch table; a
  // page-sized copy buffer).
  static constexpr uint64_t kScratchPages = 3;
  static constexpr uint64_t kSyscallStubOffset = 64;  // kSyscallStub, for inject()
  static constexpr uint64_t kPairStubOffset = 128;    // pair_stub(), for open_for_write()
  static constexpr uint64_t kBatchStubOffset = 256;
  static constexpr uint64_t kBatchTableOffset = kPageSize + 512;
  // 64 GiB: above static programs and their heap, below PIE load addresses
  // (2/3 of the address space) and the top-down mmap region (Sv39 and up).
  static constexpr uint64_t kScratchAddress = 0x1000000000;
  uint64_t scratch_ = 0;
  std::map<uint64_t, std::vector<uint8_t>> vdso_data_;
  bool vdso_captured_ = false;  // in this interval
  bool armed_ = false;  // every mapping was protected once
  std::vector<Range> ranges_;
  std::map<uint64_t, int> granted_;       // page -> protection given back
  unsigned keep_open_ = 0;
  std::map<uint64_t, unsigned> hot_;      // faulted page -> intervals it stays open
  unsigned around_ = 0;                   // set_fault_around
  // Pages used (a fault or syscall opened them, or opened around a fault
  // they changed), this interval and the last (less those a fault in this
  // interval has already considered for opening around); pages opened
  // around faults in this interval.
  std::set<uint64_t> used_now_, used_last_;
  std::vector<uint64_t> around_now_;
  std::map<uint64_t, SlicePage> touched_; // page -> first-touch record
  std::set<uint64_t> pinned_;             // never protected (rseq area)
  std::set<uint64_t> unreadable_;
  std::vector<std::pair<uint64_t, uint64_t>> async_;
  std::vector<std::pair<uint64_t, int>> opened_;  // opened for the current call: page, access before
  bool forking_ = false;  // a fork's call runs with every mapping open (before_call)
  std::vector<AddressRange> seen_;
  uint64_t injections_ = 0, faults_ = 0, reexecuted_ = 0, opened_around_ = 0;
  uint64_t kept_on_ = 0;  // keepings renewed because the page changed (see begin_interval)
  std::map<uint64_t, std::vector<uint8_t>> offered_;  // offer_bytes, at offered_epoch_
  uint64_t offered_epoch_ = 0;                        // the tracee's epoch when offered_ was filled
};

}  // namespace hwslice
