#include "riscv/riscv_isa.h"

#include <charconv>

namespace hwslice::riscv {

std::optional<unsigned> int_reg_number(std::string_view name) {
  for (unsigned i = 0; i < kIntRegNames.size(); ++i)
    if (kIntRegNames[i] == name) return i;
  if (name == "fp") return 8;
  if (name.size() >= 2 && name[0] == 'x') {
    unsigned n = 0;
    auto [p, ec] = std::from_chars(name.data() + 1, name.data() + name.size(), n);
    if (ec == std::errc() && p == name.data() + name.size() && n < 32) return n;
  }
  return std::nullopt;
}

// Scalar memory formats: ch. 2 loads/stores, A, F/D/Q, the compressed
// quadrants 0 and 2 (C), and Zcb's byte/halfword forms.
namespace {
MemoryOperand with_rd(MemoryOperand m, unsigned rd, bool fp = false) {
  m.rd = rd;
  m.fp = fp;
  return m;
}
}  // namespace

MemoryOperand memory_operand(uint32_t w) {
  using A = MemAccess;
  if ((w & 0x3) == 0x3) {
    const unsigned funct3 = bits(w, 14, 12), rs1 = bits(w, 19, 15);
    switch (w & 0x7f) {
      case 0x03:  // LOAD: lb lh lw ld lbu lhu lwu
        return with_rd({A::kLoad, funct3 != 7, rs1, imm_i(w), 1u << (funct3 & 3)}, bits(w, 11, 7));
      case 0x23:  // STORE: sb sh sw sd
        return {A::kStore, funct3 <= 3, rs1, imm_s(w), 1u << (funct3 & 3)};
      case 0x07:  // LOAD-FP: flh flw fld flq; other widths are vector loads
        return with_rd({A::kLoad, funct3 >= 1 && funct3 <= 4, rs1, imm_i(w), 1u << (funct3 & 7)}, bits(w, 11, 7), true);
      case 0x27:  // STORE-FP: fsh fsw fsd fsq; other widths are vector stores
        return {A::kStore, funct3 >= 1 && funct3 <= 4, rs1, imm_s(w), 1u << (funct3 & 7)};
      case 0x2f:  // AMO: lr, sc, amo*.w/d at x[rs1]
        return {A::kAtomic, funct3 == 2 || funct3 == 3, rs1, 0, 1u << (funct3 & 3)};
      case 0x0f:  // MISC-MEM: fences touch no memory; cbo.* (funct3 2) a whole cache block
        if (funct3 == 2) return {A::kStore, false, rs1, 0, 0};
        return {};
      default: return {};
    }
  }
  const unsigned quadrant = w & 0x3, funct3 = bits(w, 15, 13);
  const unsigned rs1c = 8 + bits(w, 9, 7), rdc = 8 + bits(w, 4, 2), rd = bits(w, 11, 7);
  if (quadrant == 0) {
    // CL/CS offsets: word uimm[5:3|2|6], double uimm[5:3|7:6].
    const int64_t off_w = (bits(w, 12, 10) << 3) | (bits(w, 6, 6) << 2) | (bits(w, 5, 5) << 6);
    const int64_t off_d = (bits(w, 12, 10) << 3) | (bits(w, 6, 5) << 6);
    switch (funct3) {
      case 1: return with_rd({A::kLoad, true, rs1c, off_d, 8}, rdc, true);  // c.fld
      case 2: return with_rd({A::kLoad, true, rs1c, off_w, 4}, rdc);        // c.lw
      case 3: return with_rd({A::kLoad, true, rs1c, off_d, 8}, rdc);        // c.ld
      case 4: {  // Zcb: c.lbu c.lhu/c.lh c.sb c.sh (funct6[11:10] 00 01 10 11)
        const unsigned op = bits(w, 11, 10);
        if (bits(w, 12, 12)) return {A::kNone};  // reserved
        const int64_t byte_off = (bits(w, 5, 5) << 1) | bits(w, 6, 6);
        const int64_t half_off = bits(w, 5, 5) << 1;
        if (op == 0) return with_rd({A::kLoad, true, rs1c, byte_off, 1}, rdc);
        if (op == 1) return with_rd({A::kLoad, true, rs1c, half_off, 2}, rdc);
        if (op == 2) return {A::kStore, true, rs1c, byte_off, 1};
        return {A::kStore, true, rs1c, half_off, 2};
      }
      case 5: return {A::kStore, true, rs1c, off_d, 8};  // c.fsd
      case 6: return {A::kStore, true, rs1c, off_w, 4};  // c.sw
      case 7: return {A::kStore, true, rs1c, off_d, 8};  // c.sd
      default: return {};                                // c.addi4spn
    }
  }
  if (quadrant == 2) {
    const int64_t lwsp = (bits(w, 12, 12) << 5) | (bits(w, 6, 4) << 2) | (bits(w, 3, 2) << 6);
    const int64_t ldsp = (bits(w, 12, 12) << 5) | (bits(w, 6, 5) << 3) | (bits(w, 4, 2) << 6);
    const int64_t swsp = (bits(w, 12, 9) << 2) | (bits(w, 8, 7) << 6);
    const int64_t sdsp = (bits(w, 12, 10) << 3) | (bits(w, 9, 7) << 6);
    switch (funct3) {
      case 1: return with_rd({A::kLoad, true, kSp, ldsp, 8}, rd, true);  // c.fldsp
      case 2: return with_rd({A::kLoad, true, kSp, lwsp, 4}, rd);        // c.lwsp
      case 3: return with_rd({A::kLoad, true, kSp, ldsp, 8}, rd);        // c.ldsp
      case 5: return {A::kStore, true, kSp, sdsp, 8};   // c.fsdsp
      case 6: return {A::kStore, true, kSp, swsp, 4};   // c.swsp
      case 7: return {A::kStore, true, kSp, sdsp, 8};   // c.sdsp
      default: return {};
    }
  }
  return {};
}

uint32_t written_int_regs(uint32_t bits) {
  auto reg = [](unsigned r) -> uint32_t { return r ? 1u << r : 0u; };
  const unsigned f3 = (bits >> 13) & 7;
  switch (bits & 3) {
    case 0:  // c.addi4spn, c.fld, c.lw, c.ld: rd' in bits 4:2; stores write none
      return f3 <= 3 ? reg(8 + ((bits >> 2) & 7)) : 0;
    case 1:  // c.addi, c.addiw, c.li, c.lui/c.addi16sp: rd; the CA/CB ALU group: rd'; c.j and branches: none
      if (f3 <= 3) return reg((bits >> 7) & 31);
      return f3 == 4 ? reg(8 + ((bits >> 7) & 7)) : 0;
    case 2:  // c.slli, c.fldsp, c.lwsp, c.ldsp: rd; c.mv/c.add/c.jalr: rd and ra; stores: none
      if (f3 <= 3) return reg((bits >> 7) & 31);
      return f3 == 4 ? reg((bits >> 7) & 31) | reg(1) : 0;
    default:
      break;
  }
  switch (bits & 0x7f) {
    case 0x23:  // stores
    case 0x27:  // FP stores
    case 0x63:  // branches
      return 0;
    default:
      return reg((bits >> 7) & 31);
  }
}

unsigned stub_dead_rd(uint32_t bits) {
  if ((bits & 3) != 3) return 0;  // compressed
  const unsigned opcode = bits & 0x7f, rd = (bits >> 7) & 31, rs1 = (bits >> 15) & 31, rs2 = (bits >> 20) & 31;
  if (rd == 0) return 0;
  switch (opcode) {
    case 0x37:  // lui
      return rd;
    case 0x03:  // loads
    case 0x13:  // op-imm (the Zbb unary ones encode their function where rs2 would be)
    case 0x1b:  // op-imm-32
      return rd != rs1 ? rd : 0;
    case 0x33:  // op (M, Zba, Zbb included)
    case 0x3b:  // op-32
      return rd != rs1 && rd != rs2 ? rd : 0;
    default:
      return 0;
  }
}

}  // namespace hwslice::riscv
