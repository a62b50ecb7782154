#include "slicer/slice_writer.h"

#include <elf.h>
#include <sys/mman.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <optional>
#include <set>

#include "riscv/riscv_encode.h"
#include "riscv/counter_reads.h"
#include "riscv/riscv_decoder.h"
#include "riscv/riscv_isa.h"
#include "record/trace_record.h"

namespace hwslice {

namespace {

static_assert(sizeof(hws_config) % 8 == 0);
static_assert(sizeof(hws_call) == 88 && sizeof(hws_write) == 16 && sizeof(hws_region) == 32);
static_assert(sizeof(hws_range) == 16 && sizeof(hws_regs) == 66 * 8);

constexpr long kSysWrite = 64, kSysWritev = 66;
constexpr uint64_t kStubsPerPage = kSlicePage / HWS_NEAR_STUB_SIZE;
// The ELF header and program headers go into the runtime image's first
// HWS_HEADER_RESERVE bytes, which the runtime leaves unused.
constexpr uint64_t kElfHeadersSize = HWS_HEADER_RESERVE;

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }
uint64_t page_of(uint64_t addr) { return addr & ~(kSlicePage - 1); }

bool is_echo(const SyscallRecord& c) { return (c.nr == kSysWrite || c.nr == kSysWritev) && (c.args[0] == 1 || c.args[0] == 2); }

std::string call_name(const SyscallRecord& c, size_t i) {
  return "syscall " + std::to_string(i) + " (" + (c.name.empty() ? "nr " + std::to_string(c.nr) : c.name) + ")";
}

// Fault marks and signal deliveries happen at a pc but not at an ecall or
// counter read: they are no sites.
bool is_event(const SyscallRecord& c) { return is_fault_mark(c) || is_signal_delivery(c); }

constexpr long kSysRtSigreturn = 139;

uint64_t call_entry_size(const SyscallRecord& c) {
  uint64_t n = sizeof(hws_call);
  for (const MemWrite& w : c.writes) n += sizeof(hws_write) + align_up(w.data.size(), 8);
  return n;
}

// The spec's pages by address (validated sorted and unique).
class PageMap {
 public:
  explicit PageMap(const std::vector<SlicePage>& pages) : pages_(pages) {}

  const SlicePage* find(uint64_t page) const {
    auto it = std::lower_bound(pages_.begin(), pages_.end(), page,
                               [](const SlicePage& p, uint64_t a) { return p.addr < a; });
    return it != pages_.end() && it->addr == page ? &*it : nullptr;
  }
  bool contains(uint64_t page) const { return find(page) != nullptr; }

  // Copies n bytes at addr (possibly across pages); false if a page is missing.
  bool read(uint64_t addr, uint8_t* out, size_t n) const {
    for (size_t i = 0; i < n; ++i) {
      const SlicePage* p = find(page_of(addr + i));
      if (!p) return false;
      out[i] = p->data[(addr + i) - p->addr];
    }
    return true;
  }

 private:
  const std::vector<SlicePage>& pages_;
};

// A page's bytes with the layout's patches over them.
std::vector<uint8_t> patched_page(const SlicePage& p, const std::vector<CodePatch>& patches) {
  std::vector<uint8_t> d = p.data;
  for (const CodePatch& c : patches)
    for (unsigned k = 0; k < c.len; ++k)
      if (page_of(c.addr + k) == p.addr) d[c.addr + k - p.addr] = static_cast<uint8_t>(c.insn >> (8 * k));
  return d;
}

// The runs of nonzero bytes of a page (offset, length), merged across gaps
// of fewer than kFillGap zeros.
std::vector<std::pair<uint64_t, uint64_t>> content_runs(const std::vector<uint8_t>& d) {
  std::vector<std::pair<uint64_t, uint64_t>> runs;
  for (uint64_t i = 0; i < d.size(); ++i) {
    if (d[i] == 0) continue;
    if (!runs.empty() && i - (runs.back().first + runs.back().second) < kFillGap)
      runs.back().second = i + 1 - runs.back().first;
    else
      runs.emplace_back(i, 1);
  }
  return runs;
}

uint64_t fill_cost(const std::vector<std::pair<uint64_t, uint64_t>>& runs) {
  uint64_t n = 0;
  for (auto [off, len] : runs) n += sizeof(hws_write) + align_up(len, 8);
  return n;
}

Status check_pages(const SliceSpec& spec) {
  if (spec.pages.empty()) return Error("the slice has no pages");
  for (size_t i = 0; i < spec.pages.size(); ++i) {
    const SlicePage& p = spec.pages[i];
    if (p.addr % kSlicePage) return Error("page " + hex_addr(p.addr) + " is not 4 KiB aligned");
    if (p.data.size() != kSlicePage)
      return Error("page " + hex_addr(p.addr) + " has " + std::to_string(p.data.size()) + " bytes of content, not 4096");
    if (i > 0 && p.addr <= spec.pages[i - 1].addr)
      return Error("pages are not sorted and unique: " + hex_addr(p.addr) + " follows " + hex_addr(spec.pages[i - 1].addr));
    if (p.addr < kMinMapAddr || p.addr + kSlicePage > kUserTop)
      return Error("page " + hex_addr(p.addr) + " is outside the mappable user address space");
  }
  for (const AddressRange& r : spec.digest_ranges)
    if (r.end < r.start) return Error("digest range " + hex_addr(r.start) + "-" + hex_addr(r.end) + " ends before it starts");
  return ok_status();
}

Status check_image(const runtime::Image& rt) {
  for (uint64_t i = 0; i < kElfHeadersSize && i < rt.file_size; ++i)
    if (rt.bytes[i] != 0) return Error("the runtime image does not start with its reserved header area");
  // The headers must lie inside the image's file bytes: with fewer, the config
  // block (at file_size rounded up to a page) could start at offset 0 too.
  if (rt.file_size < kElfHeadersSize || rt.file_size > rt.mem_size || rt.entry_offset >= rt.mem_size ||
      rt.far_offset >= rt.mem_size || rt.entry_offset < kElfHeadersSize || rt.far_offset < kElfHeadersSize)
    return Error("the runtime image is inconsistent: file size " + std::to_string(rt.file_size) + ", memory size " +
                 std::to_string(rt.mem_size) + ", entry " + hex_addr(rt.entry_offset) + ", far entry " + hex_addr(rt.far_offset));
  return ok_status();
}

// Near stub placement: reuse a stub page within range, else the free page
// nearest to the site.
class StubAllocator {
 public:
  StubAllocator(const PageMap& pages, std::vector<StubPagePlan>& out, const std::set<uint64_t>& avoid)
      : pages_(pages), out_(out), used_(avoid) {}

  // A whole free page for the end's pass stub (slice_abi.h): within jal
  // range of the end pc, and its jal back (at +32) within range of end + 4.
  std::optional<uint64_t> take_page(uint64_t end_pc) {
    const uint64_t home = page_of(end_pc);
    const uint64_t max_k = (1u << 20) / kSlicePage + 1;
    for (uint64_t k = 1; k <= max_k; ++k) {
      for (int dir : {+1, -1}) {
        const uint64_t delta = k * kSlicePage;
        if (dir < 0 && delta > home) continue;
        const uint64_t cand = dir > 0 ? home + delta : home - delta;
        if (!free_page(cand) || !riscv::jal_reaches(end_pc, cand) || !riscv::jal_reaches(cand + 32, end_pc + 4)) continue;
        used_.insert(cand);
        return cand;
      }
    }
    return std::nullopt;
  }

  std::optional<uint64_t> place(uint64_t site) {
    std::optional<size_t> best;
    uint64_t best_dist = 0;
    for (size_t i = 0; i < out_.size(); ++i) {
      if (out_[i].sites.size() >= kStubsPerPage) continue;
      const uint64_t stub = slot(out_[i]);
      if (!reaches(site, stub)) continue;
      const uint64_t dist = stub > site ? stub - site : site - stub;
      if (!best || dist < best_dist) best = i, best_dist = dist;
    }
    if (best) return take(out_[*best], site);

    const uint64_t home = page_of(site);
    const uint64_t max_k = (1u << 20) / kSlicePage + 1;
    for (uint64_t k = 1; k <= max_k; ++k) {
      const uint64_t delta = k * kSlicePage;
      for (int dir : {+1, -1}) {
        if (dir < 0 && delta > home) continue;
        const uint64_t cand = dir > 0 ? home + delta : home - delta;
        if (!free_page(cand) || !reaches(site, cand)) continue;
        out_.push_back({cand, {}});
        used_.insert(cand);
        return take(out_.back(), site);
      }
    }
    return std::nullopt;
  }

 private:
  static uint64_t slot(const StubPagePlan& p) { return p.addr + p.sites.size() * HWS_NEAR_STUB_SIZE; }
  static uint64_t take(StubPagePlan& p, uint64_t site) {
    const uint64_t stub = slot(p);
    p.sites.push_back(site);
    return stub;
  }
  // The site's jal reaches the stub and the stub's jal (near+24) reaches site+4.
  static bool reaches(uint64_t site, uint64_t stub) {
    return riscv::jal_reaches(site, stub) && riscv::jal_reaches(stub + 24, site + 4);
  }
  bool free_page(uint64_t page) const {
    return page >= kMinMapAddr && page + kSlicePage <= kUserTop && !pages_.contains(page) && !used_.count(page);
  }

  const PageMap& pages_;
  std::vector<StubPagePlan>& out_;
  std::set<uint64_t> used_;
};

// Lowest page-aligned start in [lo, hi) for `size` bytes that overlaps no
// interval of `busy` (sorted by start).
std::optional<uint64_t> find_gap(const std::vector<std::pair<uint64_t, uint64_t>>& busy, uint64_t lo, uint64_t hi,
                                 uint64_t size) {
  uint64_t cand = align_up(lo, kSlicePage);
  for (const auto& [b, e] : busy) {
    if (cand + size > hi || cand + size < cand) return std::nullopt;
    if (e <= cand) continue;
    if (b >= cand + size) break;
    cand = align_up(e, kSlicePage);
  }
  if (cand + size > hi || cand + size < cand) return std::nullopt;
  return cand;
}

void put64(std::vector<uint8_t>& buf, size_t off, uint64_t v) { std::memcpy(&buf[off], &v, 8); }

hws_regs to_hws_regs(const RegsRecord& r) {
  hws_regs out{};
  out.pc = r.pc;
  for (size_t i = 0; i < 32; ++i) out.x[i] = i == 0 ? 0 : r.ints[i];
  for (size_t i = 0; i < 32; ++i) out.f[i] = r.fps[i];
  out.fcsr = r.fcsr;
  return out;
}

}  // namespace

std::array<uint8_t, HWS_END_STUB_SIZE> end_stub_bytes(const SliceLayout& L) {
  using namespace riscv;
  const unsigned rd = static_cast<unsigned>(L.end_stub_rd), s = static_cast<unsigned>(L.end_stub_scratch);
  const uint32_t words[10] = {
      encode_auipc(rd, 0),                                                        // S+0
      encode_sd(s, rd, HWS_END_STUB_SAVE),                                        // S+4
      encode_ld(s, rd, HWS_END_STUB_LEFT),                                        // S+8
      encode_addi(s, s, -1),                                                      // S+12
      encode_sd(s, rd, HWS_END_STUB_LEFT),                                        // S+16
      encode_beq(s, 0, HWS_END_STUB_CHECK - 20),                                  // S+20
      encode_ld(s, rd, HWS_END_STUB_SAVE),                                        // S+24
      static_cast<uint32_t>(L.end_insn),                                          // S+28
      encode_jal(0, static_cast<int64_t>((L.end_pc + 4) - (L.end_stub + 32))),    // S+32
      kEbreak,                                                                    // S+36
  };
  static_assert(sizeof words == HWS_END_STUB_CHECK + 4);
  std::array<uint8_t, HWS_END_STUB_SIZE> out{};
  std::memcpy(out.data(), words, sizeof words);
  return out;
}

std::array<uint8_t, HWS_NEAR_STUB_SIZE> near_stub_bytes(uint64_t stub, uint64_t site, uint64_t far_entry) {
  using namespace riscv;
  const uint32_t words[7] = {
      encode_auipc(kA0, 0),                                             // near+0
      encode_sd(kSp, kA0, 40),                                          // near+4
      encode_ld(kA0, kA0, 48),                                          // near+8
      encode_jalr(kA0, kA0, 0),                                         // near+12
      encode_auipc(kSp, 0),                                             // near+16
      encode_ld(kSp, kSp, 24),                                          // near+20
      encode_jal(0, static_cast<int64_t>((site + 4) - (stub + 24))),    // near+24
  };
  std::array<uint8_t, HWS_NEAR_STUB_SIZE> out{};
  std::memcpy(out.data(), words, sizeof words);
  const uint16_t nops[2] = {kCNop, kCNop};
  std::memcpy(out.data() + 28, nops, 4);
  const uint64_t tail[3] = {site, 0, far_entry};
  std::memcpy(out.data() + 32, tail, sizeof tail);
  return out;
}

Result<SliceLayout> layout_slice(const SliceSpec& spec, const runtime::Image& rt, const SliceOptions& options) {
  HWSLICE_TRY(check_pages(spec));
  HWSLICE_TRY(check_image(rt));
  const PageMap pages(spec.pages);
  if (!pages.contains(page_of(spec.start_regs.pc)))
    return Error("the start pc " + hex_addr(spec.start_regs.pc) + " is not in the slice's pages");
  auto decoder = riscv::Decoder::create();
  if (!decoder) return decoder.error();
  SliceLayout L;

  if (!spec.unsliceable.empty()) return Error(spec.unsliceable);
  // Sites: exactly the recorded ecall pcs.
  const SliceSpec::EndKind kind = spec.end_kind;
  const bool event_end = kind != SliceSpec::EndKind::kCounted;
  if (event_end && spec.syscalls.empty()) return Error("the slice ends at an event but has none");
  const size_t end_call = event_end ? spec.syscalls.size() - 1 : spec.syscalls.size();
  if (event_end) {
    const SyscallRecord& last = spec.syscalls.back();
    const bool fits = kind == SliceSpec::EndKind::kFault ? is_fault_mark(last) : is_syscall(last);
    if (!fits)
      return Error("the slice's last event (" + call_name(last, end_call) + ") is not the kind of event it ends at");
  }
  // Sites whose call the runtime must see with the whole register file (a
  // trap site): rt_sigreturn (it sets every register), a call after which a
  // signal is delivered, the call after which the slice ends.
  std::set<uint64_t> must_trap;
  for (size_t i = 0; i < spec.syscalls.size(); ++i) {
    const SyscallRecord& c = spec.syscalls[i];
    if (!is_syscall(c)) continue;
    if (c.nr == kSysRtSigreturn) must_trap.insert(c.pc);
    if (i + 1 < spec.syscalls.size() && is_signal_delivery(spec.syscalls[i + 1])) must_trap.insert(c.pc);
  }
  // A counted end with a known pass arms after the interval's last event,
  // whose passes the tracer counted from: that call must be replayed.
  std::set<uint64_t> replayed_site;
  if (kind == SliceSpec::EndKind::kCounted && spec.end_pass && !spec.syscalls.empty() &&
      is_syscall(spec.syscalls.back()))
    replayed_site.insert(spec.syscalls.back().pc);
  std::map<uint64_t, std::vector<size_t>> calls_by_site;
  for (size_t i = 0; i < spec.syscalls.size(); ++i)
    if (!is_event(spec.syscalls[i])) calls_by_site[spec.syscalls[i].pc].push_back(i);
  for (const auto& [pc, calls] : calls_by_site) {
    const SyscallRecord& first = spec.syscalls[calls.front()];
    uint8_t b[4];
    if (!pages.read(pc, b, 4))
      return Error(call_name(first, calls.front()) + " at pc " + hex_addr(pc) + ": the " +
                   (is_counter_read(first) ? "instruction" : "ecall") + " is not in the slice's pages");
    for (size_t i : calls)
      if (is_counter_read(spec.syscalls[i]) != is_counter_read(first))
        return Error("pc " + hex_addr(pc) + " holds both a counter read and a syscall");
    if (is_counter_read(first)) {
      // A counter read: always an ebreak replayed by the SIGTRAP handler,
      // which can set any rd (a near stub uses a0 as its scratch).
      uint32_t w;
      std::memcpy(&w, b, 4);
      const auto c = decode_counter_read(w);
      if (!c || c->rd != first.args[0] || c->csr != first.args[1])
        return Error(first.name + " at pc " + hex_addr(pc) + ": the instruction there is not that read into x" +
                     std::to_string(first.args[0]));
      if (std::find(calls.begin(), calls.end(), end_call) != calls.end())
        return Error(first.name + " at pc " + hex_addr(pc) + ": a slice cannot end at a counter read");
      SitePlan s;
      s.pc = pc;
      s.calls = calls.size();
      s.counter = true;
      L.sites.push_back(s);
      continue;
    }
    const riscv::Instruction insn = (*decoder)->decode(b, 4, pc);
    if (insn.length != 4 || insn.flow != riscv::Flow::kSyscall)
      return Error(call_name(first, calls.front()) + " at pc " + hex_addr(pc) + ": the instruction there is '" +
                   (insn.text.empty() ? "(none)" : insn.text) + "', not ecall");

    SitePlan s;
    s.pc = pc;
    s.calls = calls.size();
    s.end = std::find(calls.begin(), calls.end(), end_call) != calls.end();
    const int64_t v = static_cast<int64_t>(first.ret);
    bool in_place = !s.end && riscv::imm12_fits(v) && !must_trap.count(pc) && !replayed_site.count(pc);
    for (size_t i : calls) {
      const SyscallRecord& c = spec.syscalls[i];
      if (c.ret != first.ret || !c.writes.empty() || is_echo(c)) in_place = false;
    }
    if (in_place) {
      s.kind = SiteKind::kInPlace;
      s.value = v;
      s.insn = riscv::encode_addi(riscv::kA0, 0, v);
    }
    L.sites.push_back(s);
  }

  // Fault marks: the marked page is its own region, with the protection the
  // access faults under until the mark (slice_abi.h).
  std::map<uint64_t, uint64_t> marked;  // page -> protection before its mark
  for (size_t i = 0; i < spec.syscalls.size(); ++i) {
    const SyscallRecord& c = spec.syscalls[i];
    if (!is_fault_mark(c) || c.args[1] == kNoPage) continue;
    if (c.args[1] % kSlicePage) return Error("fault mark at pc " + hex_addr(c.pc) + " on an unaligned page");
    if (!marked.emplace(c.args[1], c.args[3] & 7).second)
      return Error("two fault marks on page " + hex_addr(c.args[1]) + " in one interval (the second at pc " + hex_addr(c.pc) +
                   "): a page's protection can change only once");
  }
  if (marked.size() > HWS_MAX_MARKS)
    return Error(std::to_string(marked.size()) + " pages with fault marks: a slice holds at most " +
                 std::to_string(HWS_MAX_MARKS));

  std::set<uint64_t> no_stubs;
  for (const auto& [page, prot] : marked) no_stubs.insert(page);
  StubAllocator stubs(pages, L.stub_pages, no_stubs);

  // End.
  if (kind == SliceSpec::EndKind::kSyscall || kind == SliceSpec::EndKind::kAfterCall ||
      kind == SliceSpec::EndKind::kFault) {
    const SyscallRecord& last = spec.syscalls.back();
    L.end_kind = kind == SliceSpec::EndKind::kSyscall  ? HWS_END_SYSCALL
                 : kind == SliceSpec::EndKind::kFault ? HWS_END_FAULT
                                                      : HWS_END_AFTER_CALL;
    L.end_pc = last.pc;
    const uint64_t want_pc = kind == SliceSpec::EndKind::kAfterCall ? last.pc + 4 : last.pc;
    if (kind == SliceSpec::EndKind::kAfterCall && last.nr == kSysRtSigreturn)
      return Error("a slice cannot end right after rt_sigreturn");
    if (spec.end_regs.pc != want_pc)
      return Error("the end registers' pc " + hex_addr(spec.end_regs.pc) + " is not where the end event leaves it, " +
                   hex_addr(want_pc));
    L.end_insn = kind == SliceSpec::EndKind::kFault ? 0 : riscv::kEcall;
    L.end_insn_len = kind == SliceSpec::EndKind::kFault ? 0 : 4;
    L.end_next_pc = L.end_pc + L.end_insn_len;
  } else {
    L.end_kind = HWS_END_COUNTED;
    L.end_pc = spec.end_regs.pc;
    uint8_t b[4] = {};
    if (!pages.read(L.end_pc, b, 2)) return Error("the end pc " + hex_addr(L.end_pc) + " is not in the slice's pages");
    uint16_t lo;
    std::memcpy(&lo, b, 2);
    const unsigned len = riscv::instruction_length(lo);
    if (len == 0) return Error("the end pc " + hex_addr(L.end_pc) + " holds no 2- or 4-byte instruction");
    if (len == 4 && !pages.read(L.end_pc, b, 4))
      return Error("the end instruction at " + hex_addr(L.end_pc) + " crosses into a page that is not in the slice");
    const riscv::Instruction insn = (*decoder)->decode(b, len, L.end_pc);
    if (insn.flow != riscv::Flow::kNext)
      return Error("the end pc " + hex_addr(L.end_pc) + " holds '" + insn.text +
                   "': the end must be a straight-line instruction (not a jump, branch, ecall or ebreak)");
    uint32_t w = 0;
    std::memcpy(&w, b, len);
    L.end_insn = w;
    L.end_insn_len = len;
    L.end_next_pc = L.end_pc + len;
    // No patch: the runtime arms its end once every event happened. With a
    // pass stub when the instruction allows one and a page is free in reach.
    const unsigned rd = len == 4 && options.end_stub ? riscv::stub_dead_rd(w) : 0;
    if (rd) {
      if (auto page = stubs.take_page(L.end_pc)) {
        L.end_stub = *page;
        L.end_stub_rd = rd;
        L.end_stub_scratch = rd == 5 ? 6 : 5;
        L.end_jal = riscv::encode_jal(rd, static_cast<int64_t>(*page - L.end_pc));
      }
    }
    // The runtime hashes the end stack in place: it must be mapped.
    std::vector<uint8_t> stack(spec.end_stack_len);
    if (!stack.empty() && !pages.read(spec.end_regs.ints[2], stack.data(), stack.size()))
      return Error("the end stack " + hex_addr(spec.end_regs.ints[2]) + " (" + std::to_string(stack.size()) +
                   " bytes) is not in the slice's pages");
  }

  // Near stubs, else trap sites.
  for (SitePlan& s : L.sites) {
    if (s.kind == SiteKind::kInPlace) continue;
    std::optional<uint64_t> stub;
    if (options.near_stubs && !s.counter && !must_trap.count(s.pc)) stub = stubs.place(s.pc);
    if (stub) {
      s.kind = SiteKind::kNear;
      s.stub = *stub;
      s.insn = riscv::encode_jal(0, static_cast<int64_t>(*stub - s.pc));
    } else {
      s.kind = SiteKind::kTrap;
      s.insn = riscv::kEbreak;
      L.trap_sites.push_back(s.pc);
    }
  }
  for (const SitePlan& s : L.sites) L.patches.push_back({s.pc, s.insn, 4});
  std::sort(L.patches.begin(), L.patches.end(), [](const CodePatch& a, const CodePatch& b) { return a.addr < b.addr; });

  // Replay table: every event except the calls of in-place sites.
  std::set<uint64_t> in_place_pcs;
  for (const SitePlan& s : L.sites)
    if (s.kind == SiteKind::kInPlace) in_place_pcs.insert(s.pc);
  for (size_t i = 0; i < spec.syscalls.size(); ++i) {
    if (!is_event(spec.syscalls[i]) && in_place_pcs.count(spec.syscalls[i].pc)) continue;
    L.replayed.push_back(i);
    L.replay_size += call_entry_size(spec.syscalls[i]);
  }

  // Regions: program pages and stub pages by address, equal prot merged.
  std::set<uint64_t> writable_code;
  if (L.end_kind == HWS_END_COUNTED) {
    for (uint64_t a : {L.end_pc, L.end_pc + L.end_insn_len - 1, L.end_next_pc, L.end_next_pc + 3})
      if (pages.contains(page_of(a)) && !marked.count(page_of(a))) writable_code.insert(page_of(a));
  }
  // A page of zeros has no data in the file. A zero page merges with
  // content pages only where a digest range crosses the boundary: the
  // runtime wants each digest range inside one region.
  auto crossed = [&](uint64_t boundary) {
    for (const AddressRange& r : spec.digest_ranges)
      if (r.start < boundary && r.end > boundary) return true;
    return false;
  };
  struct PageKind {
    uint64_t addr, prot;
    bool zero;
    bool marked;  // a region of its own
    bool operator<(const PageKind& o) const { return addr < o.addr; }
  };
  std::vector<PageKind> kinds;
  std::map<uint64_t, std::vector<std::pair<uint64_t, uint64_t>>> sparse;  // page -> its runs
  for (const SlicePage& p : spec.pages) {
    bool zero = false;
    if (options.share_zero_pages) {
      const std::vector<uint8_t> d = patched_page(p, L.patches);
      auto runs = content_runs(d);
      zero = runs.empty();
      if (!zero && options.sparse_pages && fill_cost(runs) <= kSlicePage / 2) {
        zero = true;
        sparse[p.addr] = std::move(runs);
      }
    }
    auto mark = marked.find(p.addr);
    const uint64_t prot = mark != marked.end() ? mark->second
                                               : static_cast<uint64_t>(p.prot & 7) | (writable_code.count(p.addr) ? PROT_WRITE : 0);
    kinds.push_back({p.addr, prot, zero, mark != marked.end()});
  }
  for (const StubPagePlan& sp : L.stub_pages) kinds.push_back({sp.addr, PROT_READ | PROT_WRITE | PROT_EXEC, false, false});
  if (L.end_stub) {
    // The end stub's page is zeros but for the stub: a fill where pages
    // may be sparse, not a page of data in the file.
    const bool fill = options.share_zero_pages && options.sparse_pages;
    kinds.push_back({L.end_stub, PROT_READ | PROT_WRITE | PROT_EXEC, fill, false});
    if (fill) sparse[L.end_stub] = {{0, HWS_END_STUB_SIZE}};
  }
  std::sort(kinds.begin(), kinds.end());
  bool last_marked = false;
  for (const PageKind& k : kinds) {
    RegionPlan* last = L.regions.empty() ? nullptr : &L.regions.back();
    const bool joins = last && !k.marked && !last_marked && last->addr + last->size == k.addr && last->prot == k.prot;
    last_marked = k.marked;
    if (joins && (last->zero == k.zero || crossed(k.addr))) {
      last->size += kSlicePage;
      last->zero = last->zero && k.zero;
    } else {
      L.regions.push_back({k.addr, kSlicePage, k.prot, 0, k.zero});
    }
  }
  // Sparse pages in regions of zeros get their content as fills.
  for (const RegionPlan& r : L.regions) {
    if (!r.zero) continue;
    for (auto it = sparse.lower_bound(r.addr); it != sparse.end() && it->first < r.addr + r.size; ++it)
      for (auto [off, len] : it->second) {
        L.fills.push_back({it->first + off, len});
        L.fills_size += sizeof(hws_write) + align_up(len, 8);
      }
  }

  // What the runtime checks at set-up, checked here so a bad slice is never
  // written: each digest range lies inside one readable region of program
  // pages and covers no rewritten code (the runtime digests memory as the
  // slice left it, with the site rewrites in place); the end's successor is
  // mapped.
  for (const AddressRange& r : spec.digest_ranges) {
    const std::string what = "digest range " + hex_addr(r.start) + "-" + hex_addr(r.end);
    if (r.end == r.start) continue;
    bool in_one = false;
    for (const RegionPlan& reg : L.regions)
      in_one |= r.start >= reg.addr && r.end <= reg.addr + reg.size &&
                ((reg.prot & PROT_READ) || (reg.size == kSlicePage && marked.count(reg.addr)));
    if (!in_one)
      return Error(what + " is not inside one readable region (pages of different protections must be separate "
                          "ranges)");
    for (uint64_t p = page_of(r.start); p < r.end; p += kSlicePage)
      if (!pages.contains(p)) return Error(what + " covers page " + hex_addr(p) + ", which is not in the slice's pages");
    for (const CodePatch& p : L.patches) {
      if (p.addr < r.end && r.start < p.addr + p.len)
        return Error(what + " covers the rewritten ecall at " + hex_addr(p.addr) + ": its digest could never match");
    }
  }
  if (L.end_kind == HWS_END_COUNTED && !L.end_stub && !pages.contains(page_of(L.end_next_pc)))
    return Error("the instruction after the end pc, at " + hex_addr(L.end_next_pc) +
                 ", is on a page that is not in the slice's pages (the runtime needs it for its breakpoint)");

  // Config block.
  L.regions_off = align_up(sizeof(hws_config), 8);
  L.replay_off = L.regions_off + L.regions.size() * sizeof(hws_region);
  L.trap_sites_off = L.replay_off + L.replay_size;
  L.digest_off = L.trap_sites_off + L.trap_sites.size() * 8;
  // Page data is copied by the runtime, not mapped: 16-byte alignment is
  // enough, and the tables share the first page with it.
  L.fills_off = L.digest_off + spec.digest_ranges.size() * sizeof(hws_range);
  L.page_data_off = align_up(L.fills_off + L.fills_size, 16);
  uint64_t off = L.page_data_off;
  for (RegionPlan& r : L.regions) {
    if (r.zero) {
      r.data_off = HWS_NO_DATA;  // the fresh anonymous mapping is all zero already
      continue;
    }
    r.data_off = off;
    off += r.size;
  }
  L.config_size = off;

  // File: runtime image (its first bytes hold the ELF headers) at offset 0,
  // then the config block right after it, 16-byte aligned: the runtime finds
  // the config through the second PT_LOAD's p_vaddr, so no page of padding.
  // Memory: the config follows the runtime's bss, at the same offset within
  // its page as in the file (mmap maps whole pages).
  L.runtime_file_off = 0;
  L.config_file_off = align_up(L.runtime_file_off + rt.file_size, 16);
  L.file_size = L.config_file_off + L.config_size;

  // Runtime base: the image and the config block in a hole of the program.
  const uint64_t rt_span = align_up(rt.mem_size, kSlicePage);
  const uint64_t config_delta = rt_span + L.config_file_off % kSlicePage;
  const uint64_t need = config_delta + L.config_size;
  std::vector<std::pair<uint64_t, uint64_t>> busy;
  for (const AddressRange& m : spec.mappings)
    if (m.end > m.start) busy.push_back({page_of(m.start), align_up(m.end, kSlicePage)});
  for (const SlicePage& p : spec.pages) busy.push_back({p.addr, p.addr + kSlicePage});
  for (const StubPagePlan& sp : L.stub_pages) busy.push_back({sp.addr, sp.addr + kSlicePage});
  if (L.end_stub) busy.push_back({L.end_stub, L.end_stub + kSlicePage});
  std::sort(busy.begin(), busy.end());
  std::optional<uint64_t> base = find_gap(busy, kRuntimePreferredLow, kRuntimePreferredHigh, need);
  if (!base) base = find_gap(busy, kRuntimePreferredHigh, kRuntimeLimit, need);
  if (!base) base = find_gap(busy, kMinMapAddr, kRuntimePreferredLow, need);
  if (!base)
    return Error("no hole of " + std::to_string(need) + " bytes below " + hex_addr(kRuntimeLimit) +
                 " for the runtime and config block");
  L.runtime_base = *base;
  L.config_addr = L.runtime_base + config_delta;
  L.far_entry = L.runtime_base + rt.far_offset;
  L.entry = L.runtime_base + rt.entry_offset;
  return L;
}

hws_config make_config(const SliceSpec& spec, const SliceLayout& L, const SliceOptions& options) {
  hws_config c{};
  c.magic = HWS_MAGIC;
  c.version = HWS_VERSION;
  c.flags = (spec.exact ? HWS_F_EXACT : 0) | (options.every_pass ? HWS_F_EVERY_PASS : 0);
  c.start = spec.start;
  c.end = spec.end;
  c.regions_off = L.regions_off;
  c.regions_count = L.regions.size();
  c.replay_off = L.replay_off;
  c.replay_size = L.replay_size;
  c.calls_count = L.replayed.size();
  c.trap_sites_off = L.trap_sites_off;
  c.trap_sites_count = L.trap_sites.size();
  c.digest_off = L.digest_off;
  c.digest_count = spec.digest_ranges.size();
  c.expected_digest = spec.digest;
  c.fills_off = L.fills_off;
  c.fills_count = L.fills.size();
  c.end_kind = L.end_kind;
  c.end_pc = L.end_pc;
  c.end_insn = L.end_insn;
  c.end_insn_len = L.end_insn_len;
  c.end_next_pc = L.end_next_pc;
  c.start_regs = to_hws_regs(spec.start_regs);
  c.end_regs = to_hws_regs(spec.end_regs);
  if (L.end_kind == HWS_END_COUNTED) {
    c.end_stack_len = spec.end_stack_len;
    c.end_stack_hash = spec.end_stack_hash;
    c.end_pass = spec.end_pass ? spec.end_pass : options.measured_end_pass;
    c.end_stub = L.end_stub;
    c.end_jal = L.end_jal;
    c.end_stub_rd = L.end_stub_rd;
    c.end_stub_scratch = L.end_stub_scratch;
  }
  const std::string name = std::to_string(spec.start) + "-" + std::to_string(spec.end);
  std::snprintf(c.name, sizeof c.name, "%s", name.c_str());
  return c;
}

std::vector<uint8_t> serialize_slice(const SliceSpec& spec, const runtime::Image& rt, const SliceLayout& L,
                                     const SliceOptions& options) {
  std::vector<uint8_t> file(L.file_size, 0);

  // ELF header and program headers.
  constexpr size_t kPhnum = 3;
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_ident[EI_OSABI] = ELFOSABI_SYSV;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_RISCV;
  eh.e_version = EV_CURRENT;
  eh.e_entry = L.entry;
  eh.e_phoff = sizeof(Elf64_Ehdr);
  eh.e_shoff = 0;
  eh.e_flags = 0x5;  // EF_RISCV_RVC | EF_RISCV_FLOAT_ABI_DOUBLE
  eh.e_ehsize = sizeof(Elf64_Ehdr);
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = kPhnum;
  eh.e_shentsize = sizeof(Elf64_Shdr);
  eh.e_shnum = 0;
  eh.e_shstrndx = SHN_UNDEF;
  // Runtime image first: the headers are written over its reserved start.
  std::memcpy(file.data() + L.runtime_file_off, rt.bytes, rt.file_size);
  std::memcpy(file.data(), &eh, sizeof eh);
  const Elf64_Phdr ph[kPhnum] = {
      {PT_LOAD, PF_R | PF_W | PF_X, L.runtime_file_off, L.runtime_base, L.runtime_base, rt.file_size, rt.mem_size,
       kSlicePage},
      {PT_LOAD, PF_R, L.config_file_off, L.config_addr, L.config_addr, L.config_size, L.config_size, kSlicePage},
      {PT_GNU_STACK, PF_R | PF_W, 0, 0, 0, 0, 0, 16},
  };
  static_assert(sizeof(Elf64_Ehdr) + sizeof ph <= kElfHeadersSize);
  std::memcpy(file.data() + sizeof eh, ph, sizeof ph);


  // Config block and tables.
  const size_t cfg = L.config_file_off;
  const hws_config c = make_config(spec, L, options);
  std::memcpy(file.data() + cfg, &c, sizeof c);
  for (size_t i = 0; i < L.regions.size(); ++i) {
    const RegionPlan& r = L.regions[i];
    const hws_region hr{r.addr, r.size, r.prot, r.data_off};
    std::memcpy(file.data() + cfg + L.regions_off + i * sizeof hr, &hr, sizeof hr);
  }
  const PageMap pages(spec.pages);
  size_t off = cfg + L.replay_off;
  for (size_t i : L.replayed) {
    const SyscallRecord& s = spec.syscalls[i];
    hws_call hc{};
    hc.nr = is_counter_read(s) ? s.args[1] : static_cast<uint64_t>(s.nr);  // counter reads: the CSR number
    hc.site = s.pc;
    for (size_t a = 0; a < 6; ++a) hc.args[a] = s.args[a];
    hc.ret = s.ret;
    hc.flags = is_counter_read(s) ? HWS_CALL_COUNTER : is_echo(s) ? HWS_CALL_ECHO : 0;
    if (is_fault_mark(s)) {
      hc.nr = s.args[0];
      hc.args[0] = s.args[1] == kNoPage ? HWS_NO_PAGE : s.args[1];
      uint64_t after = s.args[2];
      if (after == kProtFinal) {
        const SlicePage* p = s.args[1] == kNoPage ? nullptr : pages.find(s.args[1]);
        after = p ? static_cast<uint64_t>(p->prot & 7) : 0;
      }
      hc.args[1] = after;
      hc.args[2] = s.args[4];
      hc.args[3] = hc.args[4] = hc.args[5] = 0;
      hc.flags = HWS_CALL_FAULT;
    } else if (is_signal_delivery(s)) {
      hc.nr = s.args[0];
      for (size_t a = 0; a < 5; ++a) hc.args[a] = s.args[a + 1];
      hc.args[5] = 0;
      hc.flags = HWS_CALL_SIGNAL;
    }
    hc.nwrites = s.writes.size();
    std::memcpy(file.data() + off, &hc, sizeof hc);
    off += sizeof hc;
    for (const MemWrite& w : s.writes) {
      const hws_write hw{w.addr, w.data.size()};
      std::memcpy(file.data() + off, &hw, sizeof hw);
      off += sizeof hw;
      if (!w.data.empty()) std::memcpy(file.data() + off, w.data.data(), w.data.size());
      off += align_up(w.data.size(), 8);
    }
  }
  for (size_t i = 0; i < L.trap_sites.size(); ++i) put64(file, cfg + L.trap_sites_off + 8 * i, L.trap_sites[i]);
  std::vector<AddressRange> ranges = spec.digest_ranges;
  std::stable_sort(ranges.begin(), ranges.end(), [](const AddressRange& a, const AddressRange& b) { return a.start < b.start; });
  for (size_t i = 0; i < ranges.size(); ++i) {
    const hws_range hr{ranges[i].start, ranges[i].end - ranges[i].start};
    std::memcpy(file.data() + cfg + L.digest_off + i * sizeof hr, &hr, sizeof hr);
  }

  // Page data: each region's pages in address order.
  std::map<uint64_t, const StubPagePlan*> stub_pages;
  for (const StubPagePlan& sp : L.stub_pages) stub_pages[sp.addr] = &sp;
  std::map<uint64_t, size_t> page_file_off;
  for (const RegionPlan& r : L.regions) {
    if (r.zero) continue;  // no data: zeros (and fills)
    for (uint64_t a = r.addr; a < r.addr + r.size; a += kSlicePage) {
      const size_t dst = cfg + r.data_off + (a - r.addr);
      page_file_off[a] = dst;
      if (const SlicePage* p = pages.find(a)) {
        std::memcpy(file.data() + dst, p->data.data(), kSlicePage);
      } else if (L.end_stub && a == L.end_stub) {
        const auto bytes = end_stub_bytes(L);
        std::memcpy(file.data() + dst, bytes.data(), bytes.size());
      } else if (auto it = stub_pages.find(a); it != stub_pages.end()) {
        for (size_t k = 0; k < it->second->sites.size(); ++k) {
          const uint64_t stub = a + k * HWS_NEAR_STUB_SIZE;
          const auto bytes = near_stub_bytes(stub, it->second->sites[k], L.far_entry);
          std::memcpy(file.data() + dst + k * HWS_NEAR_STUB_SIZE, bytes.data(), bytes.size());
        }
      }
    }
  }
  for (const CodePatch& p : L.patches) {
    for (unsigned k = 0; k < p.len; ++k) {
      const uint64_t a = p.addr + k;
      auto at = page_file_off.find(page_of(a));
      if (at == page_file_off.end()) continue;  // a sparse page: its fills carry the patch
      file[at->second + (a - page_of(a))] = static_cast<uint8_t>(p.insn >> (8 * k));
    }
  }
  // Fills: runs of the sparse pages, patches applied.
  off = cfg + L.fills_off;
  uint64_t cached_page = UINT64_MAX;
  std::vector<uint8_t> image;
  for (const FillPlan& f : L.fills) {
    if (page_of(f.addr) != cached_page) {
      cached_page = page_of(f.addr);
      if (const SlicePage* p = pages.find(cached_page)) {
        image = patched_page(*p, L.patches);
      } else {  // the end stub's page (the only sparse page that is not the program's)
        image.assign(kSlicePage, 0);
        const auto bytes = end_stub_bytes(L);
        std::memcpy(image.data(), bytes.data(), bytes.size());
      }
    }
    const hws_write hw{f.addr, f.size};
    std::memcpy(file.data() + off, &hw, sizeof hw);
    std::memcpy(file.data() + off + sizeof hw, image.data() + (f.addr - cached_page), f.size);
    off += sizeof hw + align_up(f.size, 8);
  }
  return file;
}

Result<SliceFile> write_slice(const SliceSpec& spec, const runtime::Image& rt, const SliceOptions& options) {
  auto layout = layout_slice(spec, rt, options);
  if (!layout) return layout.error();
  const SliceLayout& L = *layout;
  SliceFile out;
  out.bytes = serialize_slice(spec, rt, L, options);
  SliceSummary& s = out.summary;
  s.file_size = out.bytes.size();
  s.runtime_base = L.runtime_base;
  s.config_size = L.config_size;
  s.program_pages = spec.pages.size();
  s.regions = L.regions.size();
  for (const RegionPlan& r : L.regions)
    if (r.zero) s.zero_pages += r.size / kSlicePage;
  std::set<uint64_t> sparse;
  for (const FillPlan& f : L.fills) {
    sparse.insert(page_of(f.addr));
    s.fill_bytes += f.size;
  }
  s.sparse_pages = sparse.size();
  for (const SitePlan& site : L.sites) {
    if (site.kind == SiteKind::kInPlace) ++s.in_place_sites;
    if (site.kind == SiteKind::kNear) ++s.near_sites;
    if (site.kind == SiteKind::kTrap) ++s.trap_sites;
    if (site.counter) ++s.counter_sites;
  }
  for (size_t i : L.replayed)
    if (is_counter_read(spec.syscalls[i])) ++s.counter_reads;
  s.stub_pages = L.stub_pages.size();
  s.replay_entries = L.replayed.size();
  s.replayed_calls = L.replayed.size() - (L.end_kind == HWS_END_SYSCALL || L.end_kind == HWS_END_FAULT ? 1 : 0);
  s.replay_size = L.replay_size;
  const bool unknown_pass = L.end_kind == HWS_END_COUNTED && L.end_stub && !spec.end_pass && !options.measured_end_pass;
  s.counted_batches = unknown_pass && spec.exact && !options.every_pass;
  s.counted_unknown_pass = unknown_pass;
  return out;
}

}  // namespace hwslice
