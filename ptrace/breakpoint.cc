#include "ptrace/breakpoint.h"

#include <signal.h>

#include <cstring>

namespace hwslice {

Result<ScopedBreakpoint> ScopedBreakpoint::insert(Tracee& tracee, RemoteAddr at, bool compressed) {
  unsigned len = compressed ? 2 : 4;
  uint32_t saved = 0;
  HWSLICE_TRY(tracee.read(at, &saved, len));
  uint32_t code = compressed ? riscv::kCEbreak : riscv::kEbreak;
  HWSLICE_TRY(tracee.write(at, &code, len));
  return ScopedBreakpoint(&tracee, at, saved, len);
}

ScopedBreakpoint::ScopedBreakpoint(ScopedBreakpoint&& o) noexcept
    : tracee_(o.tracee_), at_(o.at_), saved_(o.saved_), len_(o.len_) {
  o.tracee_ = nullptr;
}

Status ScopedBreakpoint::remove() {
  if (!tracee_ || !tracee_->alive()) return ok_status();
  Tracee* t = tracee_;
  tracee_ = nullptr;
  return t->write(at_, &saved_, len_);
}

Result<unsigned> instruction_length_at(Tracee& tracee, RemoteAddr pc) {
  auto lo = tracee.read_value(pc.cast<uint16_t>());
  if (!lo) return lo.error();
  unsigned len = riscv::instruction_length(*lo);
  if (len == 0) return Error("unsupported instruction length at pc " + std::to_string(pc.as_int()));
  return len;
}

Result<riscv::Instruction> decode_at(Tracee& tracee, const riscv::Decoder& decoder, uint64_t pc) {
  uint8_t b[4] = {};
  HWSLICE_TRY(tracee.read(RemoteAddr(pc), b, 2));
  if (riscv::instruction_length(static_cast<uint16_t>(b[0] | b[1] << 8)) == 4)
    HWSLICE_TRY(tracee.read(RemoteAddr(pc + 2), b + 2, 2));
  return decoder.decode(b, 4, pc);
}

bool can_end_slice_at(Tracee& tracee, const riscv::Decoder& decoder, uint64_t pc) {
  uint64_t at = pc;
  for (int i = 0; i < 16; ++i) {
    auto decoded = decode_at(tracee, decoder, at);
    if (!decoded || decoded->length == 0) return false;
    if (decoded->flow == riscv::Flow::kStoreConditional) return false;
    if (i == 0 && decoded->flow != riscv::Flow::kNext) return false;
    if (decoded->flow != riscv::Flow::kNext) return true;
    at += decoded->length;
  }
  return true;
}

Status step_straight_line(Tracee& tracee, bool compressed) {
  auto regs = tracee.regs();
  if (!regs) return regs.error();
  RemoteAddr pc(regs->pc());
  auto len = instruction_length_at(tracee, pc);
  if (!len) return len.error();
  RemoteAddr next = pc + *len;
  auto bp = ScopedBreakpoint::insert(tracee, next, compressed);
  if (!bp) return bp.error();
  HWSLICE_TRY(tracee.cont_until_signal(SIGTRAP));
  HWSLICE_TRY(bp->remove());
  auto after = tracee.regs();
  if (!after) return after.error();
  if (after->pc() != next.as_int())
    return Error("software step stopped at the wrong place: " + tracee.state_line());
  return ok_status();
}

}  // namespace hwslice
