#include "capture/step_slicer.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

#include "base/page.h"
#include "riscv/address_space.h"
#include "ptrace/breakpoint.h"
#include "riscv/riscv_decoder.h"
#include "riscv/riscv_isa.h"
#include "capture/slice_capture.h"
#include "capture/step_tracer.h"
#include "capture/syscall_tracer.h"
#include "ptrace/tracee.h"
#include "capture/used_bytes.h"

namespace hwslice {
namespace {

using riscv::kSysBrk, riscv::kSysMremap, riscv::kSysMadvise, riscv::kSysRseq, riscv::kMadvDontneed, riscv::kMadvFree;
constexpr uint64_t kPage = kPageSize;
// Progress is reported every this many instructions.
constexpr uint64_t kProgressEvery = 1 << 14;

class StepSlicer final : public StepObserver, public TraceSink {
 public:
  StepSlicer(const IntervalOptions& o, const std::function<Status(SliceSpec&&)>& on_slice,
             const riscv::Decoder& decoder)
      : o_(o), on_slice_(on_slice), decoder_(decoder) {
    summary_.counter = "step";
    next_start_ = first_start(0);
  }

  IntervalSummary summary() const { return summary_; }
  uint64_t slices() const { return slices_; }

  // ---- StepObserver
  Status before_instruction(Tracee& t, uint64_t count) override {
    HWSLICE_TRY(take_error());
    if (o_.progress && count >= next_progress_) {
      o_.progress(count, slices_);
      next_progress_ = count + kProgressEvery;
    }
    if (recording_ && count >= end_target_) {
      auto regs = capture_regs(t, "interval");
      if (!regs) return regs.error();
      if (!can_end_slice_at(t, decoder_, regs->pc)) return ok_status();  // the next instruction will do
      HWSLICE_TRY(finish(t, *regs, count, SliceSpec::EndKind::kCounted));
      recording_ = false;
      next_start_ = o_.wanted.empty() ? count : first_start(count / o_.interval);
    }
    if (!recording_ && count >= next_start_) HWSLICE_TRY(start(t, count));
    return ok_status();
  }

  Status after_call(Tracee& t, SyscallRecord& rec) override {
    const int64_t ret = static_cast<int64_t>(rec.ret);
    const bool failed = ret < 0 && ret > -4096;
    if (rec.nr == kSysRseq && !failed && rec.args[0] != 0 && rec.args[2] == 0) async_.emplace_back(rec.args[0], rec.args[1]);
    if (!recording_ || failed) return ok_status();
    auto echoed = capture_echo(t, rec, spec_);
    if (!echoed) return echoed.error();
    for (auto [addr, len] : *echoed) HWSLICE_TRY(read_used(t, addr, len, 'k'));
    // Memory replaced under bytes the interval used: the slice gets the new
    // content as a write of this call.
    std::optional<std::pair<uint64_t, uint64_t>> replaced;
    if (rec.nr == riscv::kSysMmap) replaced.emplace(rec.ret, rec.args[1]);
    if (rec.nr == kSysMremap) replaced.emplace(rec.ret, rec.args[2]);
    if (rec.nr == kSysMadvise &&
        (static_cast<int>(rec.args[2]) == kMadvDontneed || static_cast<int>(rec.args[2]) == kMadvFree))
      replaced.emplace(rec.args[0], rec.args[1]);
    if (replaced) {
      const uint64_t start = replaced->first & ~(kPage - 1), end = replaced->first + replaced->second;
      for (uint64_t p : used_.pages()) {
        if (p < start || p >= end) continue;
        MemWrite w{p, std::vector<uint8_t>(kPage, 0)};
        (void)t.read(RemoteAddr(p), w.data.data(), kPage);  // a PROT_NONE page reads as zeros in the slice
        rec.writes.push_back(std::move(w));
      }
    }
    if (rec.nr == riscv::kSysMmap || rec.nr == riscv::kSysMunmap || rec.nr == riscv::kSysMprotect ||
        rec.nr == kSysMremap || rec.nr == kSysBrk)
      HWSLICE_TRY(snapshot_maps(t));
    return ok_status();
  }

  Status at_exit_call(Tracee& t, uint64_t count, long nr, const std::array<uint64_t, 6>& args, uint64_t pc) override {
    HWSLICE_TRY(take_error());
    summary_.instructions = count;
    if (!recording_) return ok_status();
    // The last interval ends at the exit call (not replayed; the slice ends
    // where the program would have exited).
    auto regs = capture_regs(t, "interval");
    if (!regs) return regs.error();
    end_at_exit_call(spec_, summary_.syscalls, nr, args, pc, *regs);
    HWSLICE_TRY(finish(t, *regs, count, SliceSpec::EndKind::kSyscall));
    recording_ = false;
    return ok_status();
  }

  Status on_program_signal(Tracee&, uint64_t count, int sig) override {
    return Error("step-mode slicing cannot follow the program's signal handlers: signal " + std::to_string(sig) +
                 " arrived at instruction " + std::to_string(count) + " (slice this program in page mode)");
  }

  // ---- TraceSink: the step trace's records.
  void on_record(const TraceRecord& record) override {
    if (const auto* s = std::get_if<SyscallRecord>(&record)) {
      ++summary_.syscalls;
      if (!recording_) return;
      spec_.syscalls.push_back(*s);
      passes_.clear();
      for (const MemWrite& w : s->writes) used_.write(w.addr, w.data.size(), 'k');
    } else if (const auto* e = std::get_if<ExitRecord>(&record)) {
      summary_.exit = *e;
    } else if (const auto* c = std::get_if<CounterRecord>(&record)) {
      ++summary_.counter_reads;
      if (recording_) spec_.syscalls.push_back(counter_read_call(*c, summary_.syscalls));
      passes_.clear();
    } else if (!recording_) {
      return;
    } else if (const auto* i = std::get_if<InstRecord>(&record)) {
      ++passes_[i->pc];
      uint8_t bytes[4];
      std::memcpy(bytes, &i->word, sizeof bytes);  // little-endian: the encoding's bytes in memory order
      used_.read(i->pc, bytes, i->length, 'x');
    } else if (const auto* a = std::get_if<AccessRecord>(&record)) {
      if (a->write) {
        used_.write(a->addr, a->data.empty() ? 1 : a->data.size(), 'w');
      } else if (a->data.empty()) {
        if (!error_)
          error_ = Error("step-mode slice: a load of memory that cannot be read through ptrace, at 0x" + to_hex(a->addr));
      } else {
        used_.read(a->addr, a->data.data(), a->data.size(), 'r');
      }
    }
  }

 private:
  Status take_error() {
    if (!error_) return ok_status();
    Error e = *error_;
    error_.reset();
    return e;
  }

  // Position where the next wanted interval at or after `index` starts.
  uint64_t first_start(uint64_t index) const {
    if (o_.wanted.empty()) return index * o_.interval;
    for (uint64_t w : o_.wanted)
      if (w >= index) return w * o_.interval > o_.warmup ? w * o_.interval - o_.warmup : 0;
    return UINT64_MAX;
  }

  // Bytes the slice reads that the step trace does not list as loads
  // (echoed buffers, the end instruction): live-in with their content now.
  Status read_used(Tracee& t, uint64_t addr, uint64_t len, char kind) {
    std::vector<uint8_t> buf(len);
    HWSLICE_TRY(t.read(RemoteAddr(addr), buf.data(), len));
    used_.read(addr, buf.data(), len, kind);
    return ok_status();
  }

  Status snapshot_maps(Tracee& t) {
    auto maps = read_maps(t.pid());
    if (!maps) return maps.error();
    for (const Mapping& m : *maps) {
      if (m.path == "[vsyscall]") continue;
      const int prot = (m.read ? PROT_READ : 0) | (m.write ? PROT_WRITE : 0) | (m.exec ? PROT_EXEC : 0);
      seen_.push_back({m.start, m.end, prot, m.path});
    }
    return ok_status();
  }

  Status start(Tracee& t, uint64_t count) {
    spec_ = SliceSpec{};
    spec_.program = o_.argv.empty() ? "" : o_.argv[0];
    spec_.start = count;
    spec_.exact = true;
    auto regs = capture_regs(t, "interval");
    if (!regs) return regs.error();
    regs->icount = count;
    regs->mode = "step";
    spec_.start_regs = *regs;
    used_.clear();
    seen_.clear();
    passes_.clear();
    HWSLICE_TRY(snapshot_maps(t));
    recording_ = true;
    end_target_ = (count / o_.interval + 1) * o_.interval;
    return ok_status();
  }

  Status finish(Tracee& t, RegsRecord end_regs, uint64_t count, SliceSpec::EndKind kind) {
    HWSLICE_TRY(snapshot_maps(t));
    if (kind == SliceSpec::EndKind::kCounted) {
      // The end breakpoint goes over the instruction at the end pc, and the
      // runtime's step over it over the next one's first halfword.
      auto insn = decode_at(t, decoder_, end_regs.pc);
      if (!insn) return insn.error();
      HWSLICE_TRY(read_used(t, end_regs.pc, insn->length, 'x'));
      HWSLICE_TRY(read_used(t, end_regs.pc + insn->length, 2, 'x'));
    }
    std::vector<SlicePage> pages;
    for (uint64_t addr : used_.pages()) {
      SlicePage p;
      p.addr = addr;
      for (const Seen& m : seen_)
        if (addr >= m.start && addr < m.end) p.prot |= m.prot;
      if (p.prot == 0) p.prot = PROT_READ;
      const std::string kinds = used_.kinds(addr);
      p.read = kinds.find('r') != std::string::npos;
      p.write = kinds.find('w') != std::string::npos;
      p.exec = kinds.find('x') != std::string::npos;
      p.kernel = kinds.find('k') != std::string::npos;
      p.data = used_.start_content(addr);
      pages.push_back(std::move(p));
    }
    const MemoryView view = [this](uint64_t addr, uint8_t* bytes, uint64_t len) { used_.end_view(addr, bytes, len); };
    if (kind == SliceSpec::EndKind::kCounted)
      record_end_stack(t, end_regs.ints[2], pages, kEndStackBytes, spec_, view);
    auto digest = digest_pages(t, used_.written_pages(), async_, view);
    if (!digest) return digest.error();
    spec_.digest_ranges = std::move(digest->first);
    spec_.digest = digest->second;
    end_regs.icount = count;
    end_regs.mode = "step";
    spec_.end = count;
    spec_.end_regs = end_regs;
    spec_.end_kind = kind;
    // The end pc's executions since the last event, and this one: the
    // slice's pass stub counts exactly that many (runtime/slice_abi.h).
    if (kind == SliceSpec::EndKind::kCounted) spec_.end_pass = passes_[end_regs.pc] + 1;
    spec_.pages = std::move(pages);
    for (const Seen& m : seen_) {
      const AddressRange r{m.start, m.end, m.path};
      if (std::none_of(spec_.mappings.begin(), spec_.mappings.end(), [&](const AddressRange& x) {
            return x.start == r.start && x.end == r.end;
          }))
        spec_.mappings.push_back(r);
    }
    ++slices_;
    return on_slice_(std::move(spec_));
  }

  struct Seen {
    uint64_t start, end;
    int prot;
    std::string path;
  };

  const IntervalOptions& o_;
  const std::function<Status(SliceSpec&&)>& on_slice_;
  const riscv::Decoder& decoder_;
  IntervalSummary summary_;
  SliceSpec spec_;
  UsedBytes used_;
  std::vector<Seen> seen_;  // every mapping seen in the interval (maps at start, after map changes, at end)
  std::vector<std::pair<uint64_t, uint64_t>> async_;
  std::optional<Error> error_;  // from a record (the sink cannot fail), raised at the next instruction
  std::unordered_map<uint64_t, uint64_t> passes_;  // executions of each pc since the interval's last event
  bool recording_ = false;
  uint64_t next_start_ = 0, end_target_ = 0, slices_ = 0, next_progress_ = 0;
};

}  // namespace

Result<IntervalSummary> trace_step_intervals(const IntervalOptions& options,
                                             const std::function<Status(SliceSpec&&)>& on_slice) {
  if (options.interval == 0) return Error("the interval length must be at least 1");
  auto decoder = riscv::Decoder::create();
  if (!decoder) return decoder.error();
  StepSlicer slicer(options, on_slice, **decoder);
  StepOptions so;
  so.argv = options.argv;
  so.allow_unknown = options.allow_unknown;
  so.no_aslr = options.no_aslr;
  so.interrupted = options.interrupted;
  so.observer = &slicer;
  auto r = trace_steps(so, slicer);
  if (!r) return r.error();
  IntervalSummary s = slicer.summary();
  s.exit = r->exit;
  s.instructions = r->instructions;
  s.exact = r->exact;
  return s;
}

}  // namespace hwslice
