// Target test: hand-assembled slices (a few encoded instructions, a config
// block, the real runtime image) run as processes, checked by exit status,
// stdout, the report on stderr and the stats JSON. Independent of the slice
// writer: its own minimal ELF and config layout, straight from slice_abi.h.
//
// In a cross build this binary runs under qemu-riscv64 and starts each
// slice with HWSLICE_SLICE_RUNNER (qemu-riscv64 again); natively it execs
// the slice. The environment variable HWSLICE_SLICE_RUNNER overrides that
// (set it empty to run a cross-built copy on a board). qemu-user has no perf_event_open, so there the counters are
// "none"; on a board with user-only counters the program instruction count
// must equal end - start exactly.
#include <elf.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "runtime/runtime_image.h"
#include "runtime/slice_abi.h"

namespace {

using hwslice::runtime::image;

constexpr uint64_t kCode = 0x200000, kData = 0x201000, kStubs = 0x202000;
constexpr uint64_t kBase = 0x10000000;
constexpr uint64_t kStart = 100;

// ---- instruction encoding -------------------------------------------------
enum : uint32_t { zero = 0, sp = 2, t0 = 5, t1 = 6, t2 = 7, s1 = 9, a0 = 10, a1 = 11, a2 = 12, a7 = 17,
                  t3 = 28, t4 = 29, t5 = 30, t6 = 31 };
uint32_t itype(uint32_t op, uint32_t f3, uint32_t rd, uint32_t rs1, int32_t imm) {
  return (uint32_t(imm) & 0xfff) << 20 | rs1 << 15 | f3 << 12 | rd << 7 | op;
}
uint32_t addi(uint32_t rd, uint32_t rs1, int32_t imm) { return itype(0x13, 0, rd, rs1, imm); }
uint32_t ld(uint32_t rd, uint32_t rs1, int32_t imm) { return itype(0x03, 3, rd, rs1, imm); }
uint32_t jalr(uint32_t rd, uint32_t rs1, int32_t imm) { return itype(0x67, 0, rd, rs1, imm); }
uint32_t sd(uint32_t rs2, uint32_t rs1, int32_t imm) {
  const uint32_t u = uint32_t(imm) & 0xfff;
  return (u >> 5) << 25 | rs2 << 20 | rs1 << 15 | 3 << 12 | (u & 0x1f) << 7 | 0x23;
}
uint32_t add(uint32_t rd, uint32_t rs1, uint32_t rs2) { return rs2 << 20 | rs1 << 15 | rd << 7 | 0x33; }
uint32_t bne(uint32_t rs1, uint32_t rs2, int32_t off) {
  const uint32_t u = uint32_t(off);
  return ((u >> 12) & 1) << 31 | ((u >> 5) & 0x3f) << 25 | rs2 << 20 | rs1 << 15 | 1 << 12 |
         ((u >> 1) & 0xf) << 8 | ((u >> 11) & 1) << 7 | 0x63;
}
uint32_t jal(uint32_t rd, int32_t off) {
  const uint32_t u = uint32_t(off);
  return ((u >> 20) & 1) << 31 | ((u >> 1) & 0x3ff) << 21 | ((u >> 11) & 1) << 20 | ((u >> 12) & 0xff) << 12 |
         rd << 7 | 0x6f;
}
uint32_t auipc(uint32_t rd, int32_t imm20) { return (uint32_t(imm20) & 0xfffff) << 12 | rd << 7 | 0x17; }
uint32_t fmv_x_d(uint32_t rd, uint32_t fs1) { return 0x71u << 25 | fs1 << 15 | rd << 7 | 0x53; }
uint32_t frcsr(uint32_t rd) { return itype(0x73, 2, rd, 0, 3); }  // csrrs rd, fcsr, x0
uint16_t c_add(uint32_t rd, uint32_t rs2) { return uint16_t(0x9002 | rd << 7 | rs2 << 2); }
uint16_t c_addi(uint32_t rd, int32_t imm) {
  return uint16_t(0x0001 | ((uint32_t(imm) >> 5) & 1) << 12 | rd << 7 | (uint32_t(imm) & 0x1f) << 2);
}
constexpr uint32_t kEbreak = 0x00100073;
constexpr uint16_t kCEbreak = 0x9002;
constexpr uint16_t kCNop = 0x0001;

void put16(std::vector<uint8_t>& v, size_t off, uint16_t x) {
  v[off] = uint8_t(x);
  v[off + 1] = uint8_t(x >> 8);
}
void put32(std::vector<uint8_t>& v, size_t off, uint32_t x) {
  for (int i = 0; i < 4; i++) v[off + i] = uint8_t(x >> (8 * i));
}
void put64(std::vector<uint8_t>& v, size_t off, uint64_t x) {
  for (int i = 0; i < 8; i++) v[off + i] = uint8_t(x >> (8 * i));
}

struct Code {
  std::vector<uint8_t> bytes = std::vector<uint8_t>(4096, 0);
  size_t off = 0;
  uint64_t pc() const { return kCode + off; }
  uint64_t i(uint32_t insn) {
    put32(bytes, off, insn);
    off += 4;
    return pc() - 4;
  }
  uint64_t c(uint16_t insn) {
    put16(bytes, off, insn);
    off += 2;
    return pc() - 2;
  }
};

// The slice_abi.h near stub for `site`, at `near`.
void write_stub(std::vector<uint8_t>& page, uint64_t page_addr, uint64_t near, uint64_t site, uint64_t far) {
  const size_t o = near - page_addr;
  put32(page, o + 0, auipc(a0, 0));
  put32(page, o + 4, sd(sp, a0, 40));
  put32(page, o + 8, ld(a0, a0, 48));
  put32(page, o + 12, jalr(a0, a0, 0));
  put32(page, o + 16, auipc(sp, 0));
  put32(page, o + 20, ld(sp, sp, 24));
  put32(page, o + 24, jal(zero, int32_t(site + 4 - (near + 24))));
  put16(page, o + 28, kCNop);
  put16(page, o + 30, kCNop);
  put64(page, o + 32, site);
  put64(page, o + 40, 0);
  put64(page, o + 48, far);
}

// ---- the test program -------------------------------------------------------
//   write(1, data+0x100, 6) through a near stub ("hello\n", echoed)
//   store its result; read(0, data+16, 8) through an ebreak trap site (the
//   replay writes "ABCDEFGH"); store the result, f5's bits and fcsr;
//   loop: t0 += 1; t2 += t0 (the end instruction); t3 += 1; until t0 == t1 (10)
//   exit_group(7) at `exit_site` (near stub, trap site or a plain nop)
//   ld t6, 0(zero): running past the end faults at address 0.
enum class ExitSite { kNear, kTrap, kNop };

struct Program {
  Code code;
  uint64_t site_write = 0, site_read = 0, end_pc = 0, exit_site = 0, fault_pc = 0;
  unsigned end_len = 0;
  uint32_t end_insn = 0;
};

Program make_program(bool compressed_end, ExitSite exit) {
  Program p;
  Code& c = p.code;
  c.i(addi(a7, zero, 64));
  c.i(addi(a0, zero, 1));
  c.i(addi(a1, s1, 0x100));
  c.i(addi(a2, zero, 6));
  p.site_write = c.i(jal(zero, int32_t(kStubs - c.pc())));
  c.i(sd(a0, s1, 0));
  c.i(addi(a7, zero, 63));
  c.i(addi(a0, zero, 0));
  c.i(addi(a1, s1, 16));
  c.i(addi(a2, zero, 8));
  p.site_read = c.i(kEbreak);
  c.i(sd(a0, s1, 8));
  c.i(fmv_x_d(t4, 5));
  c.i(sd(t4, s1, 24));
  c.i(frcsr(t5));
  c.i(sd(t5, s1, 32));
  const uint64_t loop = c.i(addi(t0, t0, 1));
  if (compressed_end) {
    p.end_insn = c_add(t2, t0);
    p.end_pc = c.c(uint16_t(p.end_insn));
    p.end_len = 2;
    c.i(addi(t3, t3, 1));
  } else {
    p.end_insn = add(t2, t2, t0);
    p.end_pc = c.i(p.end_insn);
    p.end_len = 4;
    c.c(c_addi(t3, 1));
  }
  c.i(bne(t0, t1, int32_t(loop - c.pc())));
  c.i(addi(a7, zero, 94));
  c.i(addi(a0, zero, 7));
  switch (exit) {
    case ExitSite::kNear: p.exit_site = c.i(jal(zero, int32_t(kStubs + HWS_NEAR_STUB_SIZE - c.pc()))); break;
    case ExitSite::kTrap: p.exit_site = c.i(kEbreak); break;
    case ExitSite::kNop: p.exit_site = c.i(addi(zero, zero, 0)); break;
  }
  p.fault_pc = c.i(ld(t6, zero, 0));
  return p;
}

// Instructions before the loop, and per iteration.
constexpr uint64_t kPrologue = 16, kPerIteration = 4;

hws_regs start_regs() {
  hws_regs r{};
  r.pc = kCode;
  for (int i = 1; i < 32; i++) r.x[i] = 0x1000 + 0x111 * uint64_t(i);
  r.x[s1] = kData;
  r.x[t0] = 0;
  r.x[t1] = 10;
  r.x[t2] = 0;
  r.x[t3] = 0;
  for (int i = 0; i < 32; i++) r.f[i] = 0x3ff0000000000000ULL + 0x10001ULL * uint64_t(i);
  r.f[5] = 0x400921fb54442d18ULL;  // pi
  r.fcsr = 0x41;                   // frm = RDN, fflags = NX
  return r;
}

// Registers after the two calls and the stores, with t0 = k loop entries
// done up to (not including) the end instruction of entry k.
hws_regs regs_in_loop(const Program& p, uint64_t k) {
  hws_regs r = start_regs();
  r.pc = p.end_pc;
  r.x[a7] = 63;
  r.x[a0] = 8;
  r.x[a1] = kData + 16;
  r.x[a2] = 8;
  r.x[t4] = r.f[5];
  r.x[t5] = 0x41;
  r.x[t0] = k;
  r.x[t2] = k * (k - 1) / 2;
  r.x[t3] = k - 1;
  return r;
}

hws_regs regs_at_exit(const Program& p) {
  hws_regs r = regs_in_loop(p, 10);
  r.pc = p.exit_site;
  r.x[t2] = 55;
  r.x[t3] = 10;
  r.x[a7] = 94;
  r.x[a0] = 7;
  return r;
}

std::vector<uint8_t> initial_data() {
  std::vector<uint8_t> d(4096);
  for (size_t i = 0; i < d.size(); i++) d[i] = uint8_t(i * 13 + 5);
  std::memcpy(d.data() + 0x100, "hello\n", 6);
  return d;
}

std::vector<uint8_t> final_data() {
  std::vector<uint8_t> d = initial_data();
  put64(d, 0, 6);
  put64(d, 8, 8);
  std::memcpy(d.data() + 16, "ABCDEFGH", 8);
  put64(d, 24, start_regs().f[5]);
  put64(d, 32, 0x41);
  return d;
}

// slice_abi.h digest of ranges given as (address, content), in order.
uint64_t digest_of(const std::vector<std::pair<uint64_t, std::vector<uint8_t>>>& ranges) {
  uint64_t h = HWS_FNV_OFFSET;
  for (const auto& [addr, content] : ranges) {
    std::vector<uint8_t> head(16);
    put64(head, 0, addr);
    put64(head, 8, content.size());
    h = hws_hash(h, head.data(), head.size());
    h = hws_hash(h, content.data(), content.size());
  }
  return h;
}

// ---- slices -----------------------------------------------------------------
struct Call {
  uint64_t nr = 0, site = 0;
  std::vector<uint64_t> args;
  uint64_t ret = 0, flags = 0;
  std::vector<std::pair<uint64_t, std::string>> writes;
};

struct Region {
  uint64_t addr, prot;
  std::vector<uint8_t> data;
  bool no_data = false;  // written with data_off HWS_NO_DATA (data gives only the size)
};

struct Slice {
  uint64_t base = kBase;
  hws_config cfg{};
  std::vector<Region> regions;
  std::vector<Call> calls;
  std::vector<uint64_t> trap_sites;
  std::vector<hws_range> digest;
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> fills;  // sorted by address
  bool config_header = true;  // false: no program header for the config block
};

uint64_t align_up(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// build_elf's layout, as the slice writer's: the config block right after
// the runtime's bytes (16-byte aligned) in the file, and in memory above the
// runtime's memory for a runtime at `base`, at that offset within its page.
uint64_t config_file_offset() { return align_up(image().file_size, 16); }
uint64_t config_address(uint64_t base) { return base + image().mem_size + config_file_offset() % 4096; }

// The ELF: runtime image (RWX, memsz with bss) with the headers over its
// reserved first bytes, then the config block.
std::vector<uint8_t> build_elf(const Slice& s) {
  const auto& im = image();
  hws_config cfg = s.cfg;
  std::vector<uint8_t> blob(align_up(sizeof cfg, 8), 0);
  auto append = [&](const void* p, size_t n) {
    const auto* b = static_cast<const uint8_t*>(p);
    blob.insert(blob.end(), b, b + n);
    blob.resize(align_up(blob.size(), 8), 0);
  };
  cfg.regions_off = blob.size();
  cfg.regions_count = s.regions.size();
  blob.resize(blob.size() + s.regions.size() * sizeof(hws_region), 0);
  cfg.replay_off = blob.size();
  for (const Call& c : s.calls) {
    hws_call hc{};
    hc.nr = c.nr;
    hc.site = c.site;
    for (size_t i = 0; i < c.args.size(); i++) hc.args[i] = c.args[i];
    hc.ret = c.ret;
    hc.flags = c.flags;
    hc.nwrites = c.writes.size();
    append(&hc, sizeof hc);
    for (const auto& [addr, bytes] : c.writes) {
      const hws_write w{addr, bytes.size()};
      append(&w, sizeof w);
      append(bytes.data(), bytes.size());
    }
  }
  cfg.replay_size = blob.size() - cfg.replay_off;
  cfg.calls_count = s.calls.size();
  cfg.trap_sites_off = blob.size();
  cfg.trap_sites_count = s.trap_sites.size();
  append(s.trap_sites.data(), s.trap_sites.size() * 8);
  cfg.digest_off = blob.size();
  cfg.digest_count = s.digest.size();
  append(s.digest.data(), s.digest.size() * sizeof(hws_range));
  cfg.fills_off = blob.size();
  cfg.fills_count = s.fills.size();
  for (const auto& [addr, bytes] : s.fills) {
    const hws_write w{addr, bytes.size()};
    append(&w, sizeof w);
    append(bytes.data(), bytes.size());
  }
  std::vector<hws_region> regions;
  for (const Region& r : s.regions) {
    if (r.no_data) {
      regions.push_back({r.addr, r.data.size(), r.prot, HWS_NO_DATA});
      continue;
    }
    blob.resize(align_up(blob.size(), 4096), 0);
    regions.push_back({r.addr, r.data.size(), r.prot, blob.size()});
    blob.insert(blob.end(), r.data.begin(), r.data.end());
  }
  std::memcpy(blob.data() + cfg.regions_off, regions.data(), regions.size() * sizeof(hws_region));
  std::memcpy(blob.data(), &cfg, sizeof cfg);

  // As the slice writer lays it out: the runtime at file offset 0 with the
  // ELF headers over its reserved first bytes, the config right after the
  // runtime's bytes, at the same offset in its page in memory, found by the
  // runtime through the second program header.
  const uint64_t rt_off = 0, cfg_off = config_file_offset();
  const uint64_t cfg_addr = config_address(s.base);
  std::vector<uint8_t> elf(cfg_off + blob.size(), 0);
  Elf64_Ehdr eh{};
  std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
  eh.e_ident[EI_CLASS] = ELFCLASS64;
  eh.e_ident[EI_DATA] = ELFDATA2LSB;
  eh.e_ident[EI_VERSION] = EV_CURRENT;
  eh.e_type = ET_EXEC;
  eh.e_machine = EM_RISCV;
  eh.e_version = EV_CURRENT;
  eh.e_entry = s.base + im.entry_offset;
  eh.e_phoff = sizeof eh;
  eh.e_flags = 1;  // EF_RISCV_RVC
  eh.e_ehsize = sizeof eh;
  eh.e_phentsize = sizeof(Elf64_Phdr);
  eh.e_phnum = s.config_header ? 2 : 1;
  Elf64_Phdr ph[2]{};
  ph[0] = {PT_LOAD, PF_R | PF_W | PF_X, rt_off, s.base, s.base, im.file_size, im.mem_size, 4096};
  ph[1] = {PT_LOAD, PF_R, cfg_off, cfg_addr, cfg_addr, blob.size(), blob.size(), 4096};
  std::memcpy(elf.data() + rt_off, im.bytes, im.file_size);
  std::memcpy(elf.data(), &eh, sizeof eh);
  std::memcpy(elf.data() + sizeof eh, ph, sizeof ph);
  std::memcpy(elf.data() + cfg_off, blob.data(), blob.size());
  return elf;
}

struct SliceOptions {
  bool compressed_end = false;
  ExitSite exit = ExitSite::kNear;
  bool end_at_syscall = false;
  uint64_t end_iteration = 5;  // counted end: the loop entry the slice ends in
  uint64_t base = kBase;       // runtime base
};

// The well-formed slice of the test program; tests then break one thing.
struct Built {
  Program program;
  Slice slice;
  uint64_t expected_instructions = 0;
};

Built make_slice(const SliceOptions& o) {
  Built b;
  b.program = make_program(o.compressed_end, o.exit);
  const Program& p = b.program;
  Slice& s = b.slice;
  s.base = o.base;
  hws_config& c = s.cfg;
  c.magic = HWS_MAGIC;
  c.version = HWS_VERSION;
  c.flags = HWS_F_EXACT;
  c.start = kStart;
  c.start_regs = start_regs();
  std::vector<uint8_t> code = p.code.bytes;
  if (o.end_at_syscall) {
    b.expected_instructions = kPrologue + 10 * kPerIteration + 2;
    c.end_kind = HWS_END_SYSCALL;
    c.end_regs = regs_at_exit(p);
  } else {
    b.expected_instructions = kPrologue + (o.end_iteration - 1) * kPerIteration + 1;
    c.end_kind = HWS_END_COUNTED;
    c.end_pc = p.end_pc;
    c.end_insn = p.end_insn;
    c.end_insn_len = p.end_len;
    c.end_next_pc = p.end_pc + p.end_len;
    c.end_regs = regs_in_loop(p, o.end_iteration);
    // The runtime arms the end itself, after the last event.
  }
  c.end = kStart + b.expected_instructions;
  const std::string name = "P" + std::to_string(c.start) + "-" + std::to_string(c.end);
  std::memcpy(c.name, name.c_str(), name.size() + 1);

  std::vector<uint8_t> stubs(4096, 0);
  const uint64_t far = s.base + image().far_offset;
  write_stub(stubs, kStubs, kStubs, p.site_write, far);
  if (o.exit == ExitSite::kNear) write_stub(stubs, kStubs, kStubs + HWS_NEAR_STUB_SIZE, p.exit_site, far);

  s.regions = {{kCode, 5, code}, {kData, 3, initial_data()}, {kStubs, 7, stubs}};
  s.calls.push_back({64, p.site_write, {1, kData + 0x100, 6}, 6, HWS_CALL_ECHO, {}});
  s.calls.push_back({63, p.site_read, {0, kData + 16, 8}, 8, 0, {{kData + 16, "ABCDEFGH"}}});
  if (o.end_at_syscall) s.calls.push_back({94, p.exit_site, {7}, 0, 0, {}});
  s.trap_sites = {p.site_read};
  if (o.exit == ExitSite::kTrap) s.trap_sites.push_back(p.exit_site);
  s.digest = {{kData, 4096}};
  c.expected_digest = digest_of({{kData, final_data()}});
  return b;
}

// ---- running ----------------------------------------------------------------
struct SliceRun {
  int exit_code = -1;  // -1: killed by a signal
  int signal = 0;
  std::string out, err, stats;
  std::string dir;
};

std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

SliceRun run(const Slice& s, std::vector<std::string> env = {}, bool stats = true) {
  SliceRun r;
  const char* tmp = std::getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/hwslice-rt-XXXXXX";
  if (!mkdtemp(tmpl.data())) {
    ADD_FAILURE() << "mkdtemp: " << std::strerror(errno);
    return r;
  }
  r.dir = tmpl;
  const std::string path = r.dir + "/slice", out = r.dir + "/out", err = r.dir + "/err",
                    st = r.dir + "/stats";
  {
    const std::vector<uint8_t> elf = build_elf(s);
    std::ofstream f(path, std::ios::binary);
    f.write(reinterpret_cast<const char*>(elf.data()), std::streamsize(elf.size()));
  }
  chmod(path.c_str(), 0755);
  if (stats) env.push_back("HWSLICE_STATS_FD=7");
  // The environment overrides the build's choice (empty: exec the slice
  // directly, e.g. a cross-built test binary copied onto a board).
  const char* env_runner = std::getenv("HWSLICE_SLICE_RUNNER");
  const std::string runner = env_runner ? env_runner : HWSLICE_SLICE_RUNNER;
  std::vector<std::string> argv;
  if (!runner.empty()) argv.push_back(runner);
  argv.push_back(path);

  const pid_t pid = fork();
  if (pid == 0) {
    const int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int j = open(st.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (o < 0 || e < 0 || j < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0 || dup2(j, 7) < 0) _exit(120);
    std::vector<char*> av, ev;
    for (auto& a : argv) av.push_back(a.data());
    av.push_back(nullptr);
    for (auto& v : env) ev.push_back(v.data());
    ev.push_back(nullptr);
    execve(av[0], av.data(), ev.data());
    _exit(121);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      ADD_FAILURE() << "slice did not finish within 60 s";
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.signal = WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  r.stats = slurp(st);
  return r;
}

std::string hex16(uint64_t v) {
  char s[17];
  std::snprintf(s, sizeof s, "%016llx", static_cast<unsigned long long>(v));
  return s;
}

// The stats line: one JSON object with exactly the slice_abi.h keys.
nlohmann::json stats_of(const SliceRun& r) {
  EXPECT_FALSE(r.stats.empty()) << r.err;
  EXPECT_EQ(std::count(r.stats.begin(), r.stats.end(), '\n'), 1) << r.stats;
  nlohmann::json j = nlohmann::json::parse(r.stats, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.stats;
  if (j.is_discarded()) return nlohmann::json::object();
  std::vector<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"calls_replayed", "counters", "cycles", "detail", "digest",
                                            "digest_match", "end", "end_pass", "end_traps", "hits", "instructions", "name",
                                            "overhead_cycles", "overhead_instructions", "region_ns",
                                            "regs_match", "status", "traps"}));
  return j;
}

// Counter fields: zero without counters; with user-only counters the
// program count is exact.
void expect_counts(const nlohmann::json& j, uint64_t expected_instructions) {
  const std::string counters = j.value("counters", "");
  if (counters == "none") {
    EXPECT_EQ(j["instructions"], 0);
    EXPECT_EQ(j["cycles"], 0);
    EXPECT_EQ(j["overhead_instructions"], 0);
    EXPECT_EQ(j["overhead_cycles"], 0);
  } else if (counters == "user") {
    EXPECT_EQ(j["instructions"], expected_instructions);
    EXPECT_GT(j["overhead_instructions"].get<uint64_t>(), 0u);
  } else {
    EXPECT_EQ(counters, "all");
    EXPECT_GT(j["cycles"].get<uint64_t>(), 0u);
  }
}

class SliceTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure() && !last_.dir.empty()) std::fprintf(stderr, "slice files kept in %s\n", last_.dir.c_str());
    else if (!last_.dir.empty()) std::system(("rm -rf '" + last_.dir + "'").c_str());
  }
  SliceRun go(const Slice& s, std::vector<std::string> env = {}, bool stats = true) {
    if (!last_.dir.empty()) std::system(("rm -rf '" + last_.dir + "'").c_str());
    last_ = run(s, std::move(env), stats);
    if (std::getenv("HWSLICE_TEST_SHOW"))  // see a board's numbers
      std::printf("exit %d\n%s%s", last_.exit_code, last_.err.c_str(), last_.stats.c_str());
    return last_;
  }
  SliceRun last_;
};

// ---- tests ------------------------------------------------------------------
TEST_F(SliceTest, EndsAtThePcWhenTheRegistersMatchOnTheFifthHit) {
  const Built b = make_slice({});
  ASSERT_EQ(b.expected_instructions, 33u);
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["name"], "P100-133");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["end"], "counted");
  EXPECT_EQ(j["hits"], 5);
  EXPECT_EQ(j["end_pass"], 5);  // the pass a later run can be told (slicer/slice_check.h)
  EXPECT_EQ(j["regs_match"], true);
  EXPECT_EQ(j["digest"], hex16(b.slice.cfg.expected_digest));
  EXPECT_EQ(j["digest_match"], true);
  EXPECT_EQ(j["calls_replayed"], 2);
  EXPECT_EQ(j["detail"], "");
  expect_counts(j, 33);
  if (j["counters"] == "none") {
    EXPECT_EQ(r.err,
              " hwslice slice P100-133 (positions 100..133): ended at pc 0x200044 (counted end, 5 hits)\n"
              "             -  program instructions (expected 33; no hardware counters)\n"
              "            10  kernel traps of the runtime's (9 for the end)\n"
              "             2  events replayed (of 2)\n"
              " state: registers match, memory digest match\n");
  } else {
    EXPECT_NE(r.err.find(" hwslice slice P100-133 (positions 100..133): ended at pc 0x200044 (counted end, 5 hits)\n"),
              std::string::npos) << r.err;
  }
}

// The data page as a region without data plus fills (a sparse page): the
// same run, the same digest.
TEST_F(SliceTest, SparseDataPageFromFillsRunsTheSame) {
  Built b = make_slice({});
  Region& data = b.slice.regions[1];
  ASSERT_EQ(data.addr, kData);
  // Its nonzero runs as fills, in address order.
  for (size_t i = 0; i < data.data.size();) {
    if (data.data[i] == 0) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < data.data.size() && data.data[j] != 0) ++j;
    b.slice.fills.push_back({kData + i, std::vector<uint8_t>(data.data.begin() + static_cast<long>(i),
                                                             data.data.begin() + static_cast<long>(j))});
    i = j;
  }
  ASSERT_FALSE(b.slice.fills.empty());
  data.no_data = true;
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["digest_match"], true);
  EXPECT_EQ(j["hits"], 5);
  // Without the fills the program reads zeros and never prints "hello".
  b.slice.fills.clear();
  const SliceRun z = go(b.slice);
  EXPECT_NE(z.exit_code, 0);
  EXPECT_NE(z.out, "hello\n");
}

TEST_F(SliceTest, CompressedEndInstructionUsesCEbreakAndA4ByteSuccessor) {
  const Built b = make_slice({.compressed_end = true});
  EXPECT_EQ(b.program.end_len, 2u);
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["hits"], 5);
  EXPECT_EQ(j["digest_match"], true);
  expect_counts(j, 33);
}

TEST_F(SliceTest, EndOnTheFirstArrivalIsOneHit) {
  const Built b = make_slice({.end_iteration = 1});
  ASSERT_EQ(b.expected_instructions, 17u);
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["hits"], 1);
  EXPECT_NE(r.err.find("ended at pc 0x200044 (counted end, 1 hit)\n"), std::string::npos) << r.err;
  expect_counts(j, 17);
}

TEST_F(SliceTest, RunsAtAnyPageAlignedBase) {
  for (uint64_t base : {0x7654321000ULL, 0x40000000ULL}) {
    const Built b = make_slice({.base = base});
    const SliceRun r = go(b.slice);
    EXPECT_EQ(r.exit_code, 0) << std::hex << base << ": " << r.err;
    EXPECT_EQ(r.out, "hello\n");
    EXPECT_EQ(stats_of(r)["status"], "ok");
  }
}

TEST_F(SliceTest, EndsAtTheExitSyscallOfANearStubSite) {
  const Built b = make_slice({.end_at_syscall = true});
  ASSERT_EQ(b.expected_instructions, 58u);
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "hello\n");
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["name"], "P100-158");
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["end"], "syscall");
  EXPECT_EQ(j["hits"], 1);
  EXPECT_EQ(j["regs_match"], true);
  EXPECT_EQ(j["digest_match"], true);
  EXPECT_EQ(j["calls_replayed"], 2);
  expect_counts(j, 58);
  if (j["counters"] == "none") {
    EXPECT_EQ(r.err,
              " hwslice slice P100-158 (positions 100..158): ended at pc 0x200056 (syscall end)\n"
              "             -  program instructions (expected 58; no hardware counters)\n"
              "             1  kernel traps of the runtime's (0 for the end)\n"
              "             2  events replayed (of 2)\n"
              " state: registers match, memory digest match\n");
  }
}

TEST_F(SliceTest, EndsAtTheExitSyscallOfATrapSiteComparingA0) {
  Built b = make_slice({.exit = ExitSite::kTrap, .end_at_syscall = true});
  SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["end"], "syscall");
  expect_counts(j, 58);
  // a0 is known at a trap site, so it is compared.
  b.slice.cfg.end_regs.x[a0] = 8;
  r = go(b.slice);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  j = stats_of(r);
  EXPECT_EQ(j["status"], "state_mismatch");
  EXPECT_EQ(j["regs_match"], false);
  EXPECT_EQ(j["digest_match"], true);
  EXPECT_EQ(j["detail"], "register a0 is 0x7, expected 0x8");
}

// The program's `frcsr t5` (t5 = 0x41, then stored) becomes a counter read
// site: an ebreak in the trap-site table whose replay-table entry gives t5
// its value. With the recorded value the run is the same as before (same
// registers, memory and count: the ebreak stands for the program's
// instruction); with another value the run is another one.
TEST_F(SliceTest, CounterReadSiteGetsTheRecordedValue) {
  Built b = make_slice({});
  const uint64_t site = b.program.site_read + 16;  // after sd a0, fmv.x.d t4, sd t4
  ASSERT_EQ(b.program.code.bytes[site - kCode], frcsr(t5) & 0xff);
  put32(b.slice.regions[0].data, site - kCode, kEbreak);
  b.slice.trap_sites.push_back(site);
  b.slice.calls.push_back({0xc01, site, {t5, 0xc01}, 0x41, HWS_CALL_COUNTER, {}});
  SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["regs_match"], true);
  EXPECT_EQ(j["digest_match"], true);
  EXPECT_EQ(j["calls_replayed"], 3);
  expect_counts(j, 33);

  // Another value: t5 differs at every arrival at the end pc, so the end is
  // never recognized and the program runs on to its exit call.
  b.slice.calls.back().ret = 0x1234;
  r = go(b.slice);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  j = stats_of(r);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_EQ(j["detail"], "replay table exhausted after 3 events: the program made syscall 94 at pc 0x" +
                             hex16(b.program.exit_site).substr(10));
}

// A counter-read entry reached by an ecall (or the other way round) is a
// divergence naming both.
TEST_F(SliceTest, SyscallWhereACounterReadWasRecordedDiverges) {
  Built b = make_slice({});
  b.slice.calls.insert(b.slice.calls.begin() + 1, {0xc01, b.program.site_read + 16, {t5, 0xc01}, 0x41,
                                                   HWS_CALL_COUNTER, {}});
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_EQ(j["detail"], "entry #2 of the replay table is a read of counter 0xc01 at pc " +
                             ("0x" + hex16(b.program.site_read + 16).substr(10)) +
                             ", but the program made syscall 63 at pc 0x" +
                             hex16(b.program.site_read).substr(10));
}

TEST_F(SliceTest, NearStubSyscallEndIgnoresA0ButNotOtherRegisters) {
  Built b = make_slice({.end_at_syscall = true});
  b.slice.cfg.end_regs.x[a0] = 12345;  // lost at a near stub: not compared
  SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  b.slice.cfg.end_regs.x[t2] = 54;
  r = go(b.slice);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "state_mismatch");
  EXPECT_EQ(j["regs_match"], false);
  EXPECT_EQ(j["detail"], "register t2 is 0x37, expected 0x36");
  EXPECT_NE(r.err.find(" state: registers differ, memory digest match\n   register t2 is 0x37, expected 0x36\n"),
            std::string::npos) << r.err;
}

TEST_F(SliceTest, FpRegistersAndFcsrAreRestoredAndCompared) {
  Built b = make_slice({});
  b.slice.cfg.end_regs.f[31] ^= 1;  // the end never matches: runs off the loop
  EXPECT_EQ(go(b.slice).exit_code, 2);  // the exit call is not in the table
  // With the right f31 but a wrong fcsr the end never matches either.
  b = make_slice({});
  b.slice.cfg.end_regs.fcsr = 0x40;
  EXPECT_EQ(go(b.slice).exit_code, 2);
  b = make_slice({});
  EXPECT_EQ(go(b.slice).exit_code, 0);
}

// A hit of the end pc with the recorded registers is not the end while
// recorded calls are still to come (a loop can repeat its register file):
// the program runs on, and the call it makes next does not match the table.
TEST_F(SliceTest, EndRegistersWithCallsStillToComeAreNotTheEnd) {
  Built b = make_slice({});
  b.slice.calls.push_back({172, b.program.exit_site, {}, 1, 0, {}});
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_EQ(j["calls_replayed"], 2);
  EXPECT_EQ(j["detail"], "entry #3 of the replay table is syscall 172 at pc 0x200056, but the program made syscall 94 at pc "
                         "0x200056");
}

TEST_F(SliceTest, WrongDigestIsAStateMismatch) {
  Built b = make_slice({});
  b.slice.cfg.expected_digest ^= 1;
  const SliceRun r = go(b.slice);
  const nlohmann::json j = stats_of(r);
  if (j["counters"] != "user") {
    // Without exact counts the whole state decides which hit is the end: no
    // hit has the recorded digest, so the slice runs on past it, into the
    // program's exit, and says why no hit was the end.
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(j["status"], "diverged");
    EXPECT_EQ(j["detail"], "replay table exhausted after 2 events: the program made syscall 94 at pc 0x" +
                               hex16(b.program.exit_site).substr(10) +
                               "; the end registers and stack matched at 1 hit, the written-memory digest did not");
    return;
  }
  // With exact counts the count finds the end, and the digest differs.
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_EQ(j["status"], "state_mismatch");
  EXPECT_EQ(j["regs_match"], true);
  EXPECT_EQ(j["digest_match"], false);
  EXPECT_EQ(j["digest"], hex16(b.slice.cfg.expected_digest ^ 1));
  EXPECT_NE(r.err.find(" state: registers match, memory digest differs (" + hex16(b.slice.cfg.expected_digest ^ 1) +
                       ", expected " + hex16(b.slice.cfg.expected_digest) + ")\n"),
            std::string::npos) << r.err;
}

TEST_F(SliceTest, EndNeverMatchingRunsIntoTheProgramsFault) {
  Built b = make_slice({.exit = ExitSite::kNop});
  b.slice.cfg.end_regs.x[t2] = 11;
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "fault");
  EXPECT_EQ(j["hits"], 10);
  EXPECT_EQ(j["regs_match"], false);
  EXPECT_EQ(j["calls_replayed"], 2);
  EXPECT_EQ(j["detail"], "SIGSEGV (11) at pc 0x20005a, address 0x0");
  EXPECT_NE(r.err.find("): program fault\n   SIGSEGV (11) at pc 0x20005a, address 0x0\n"), std::string::npos)
      << r.err;
}

// The end also compares the stack above sp (a loop can repeat its registers
// while its frames differ). Here sp points into the data page, which the
// program does not use as a stack.
Built with_end_stack(SliceOptions o, uint64_t hash_flip) {
  Built b = make_slice(o);
  b.slice.cfg.start_regs.x[sp] = kData + 0x800;
  b.slice.cfg.end_regs.x[sp] = kData + 0x800;
  const std::vector<uint8_t> d = final_data();
  b.slice.cfg.end_stack_len = 64;
  b.slice.cfg.end_stack_hash = hws_hash(HWS_FNV_OFFSET, d.data() + 0x800, 64) ^ hash_flip;
  return b;
}

TEST_F(SliceTest, EndWithTheRecordedStackBytesEndsAsUsual) {
  const Built b = with_end_stack({}, 0);
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["hits"], 5);
  expect_counts(j, 33);
}

TEST_F(SliceTest, EndWithOtherStackBytesIsNotTheEnd) {
  const Built b = with_end_stack({.exit = ExitSite::kNop}, 1);
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 3) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "fault");
  EXPECT_EQ(j["hits"], 10);
  EXPECT_EQ(j["detail"],
            "SIGSEGV (11) at pc 0x20005a, address 0x0; the end registers matched at 1 hit, the stack above sp did not");
}

TEST_F(SliceTest, ExhaustedReplayTableDiverges) {
  Built b = make_slice({});
  b.slice.cfg.end_regs.x[t2] = 11;  // never ends: reaches the exit stub
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_EQ(j["calls_replayed"], 2);
  EXPECT_EQ(j["detail"], "replay table exhausted after 2 events: the program made syscall 94 at pc 0x200056");
}

TEST_F(SliceTest, CallFromAnotherSiteDiverges) {
  Built b = make_slice({});
  b.slice.calls[1].site += 0x100;
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "hello\n");  // the first call was replayed (and echoed)
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "diverged");
  EXPECT_EQ(j["calls_replayed"], 1);
  EXPECT_EQ(j["detail"],
            "entry #2 of the replay table is syscall 63 at pc 0x200128, but the program made syscall 63 at pc 0x200028");
}

TEST_F(SliceTest, OtherSyscallNumberDiverges) {
  Built b = make_slice({});
  b.slice.calls[0].nr = 65;
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(stats_of(r)["detail"],
            "entry #1 of the replay table is syscall 65 at pc 0x200010, but the program made syscall 64 at pc 0x200010");
}

TEST_F(SliceTest, ReplayWritesIntoAReadOnlyPage) {
  constexpr uint64_t kRo = 0x204000;
  Built b = make_slice({});
  b.slice.regions.push_back({kRo, 1, std::vector<uint8_t>(4096, 0xee)});
  b.slice.calls[1].writes = {{kRo + 8, "ABCDEFGH"}};
  b.slice.digest.push_back({kRo, 4096});
  std::vector<uint8_t> data = final_data(), ro(4096, 0xee);
  std::memcpy(data.data() + 16, initial_data().data() + 16, 8);  // not written there now
  std::memcpy(ro.data() + 8, "ABCDEFGH", 8);
  b.slice.cfg.expected_digest = digest_of({{kData, data}, {kRo, ro}});
  const SliceRun r = go(b.slice);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "ok");
  EXPECT_EQ(j["digest_match"], true);
}

TEST_F(SliceTest, QuietSlicePrintsNoReport) {
  const Built b = make_slice({});
  const SliceRun r = go(b.slice, {"HWSLICE_QUIET=1"});
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.err, "");
  EXPECT_EQ(r.out, "hello\n");
  EXPECT_EQ(stats_of(r)["status"], "ok");
}

TEST_F(SliceTest, WithoutAStatsFdOnlyTheReport) {
  const Built b = make_slice({});
  const SliceRun r = go(b.slice, {}, false);
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.stats, "");
  EXPECT_NE(r.err.find("ended at pc 0x200044 (counted end, 5 hits)"), std::string::npos) << r.err;
}

TEST_F(SliceTest, BadMagicIsASetupErrorWithOneLine) {
  Built b = make_slice({});
  b.slice.cfg.magic = 0;
  const SliceRun r = go(b.slice, {"HWSLICE_QUIET=1"});
  EXPECT_EQ(r.exit_code, 4);
  char want[128];
  std::snprintf(want, sizeof want, "hwslice-slice: error: no slice configuration (bad magic) at 0x%llx\n",
                static_cast<unsigned long long>(config_address(kBase)));
  EXPECT_EQ(r.err, want);
  EXPECT_EQ(r.out, "");
  const nlohmann::json j = stats_of(r);
  EXPECT_EQ(j["status"], "setup");
  EXPECT_EQ(j["name"], "");
  EXPECT_EQ(j["detail"], std::string(want).substr(22, std::strlen(want) - 23));
}

TEST_F(SliceTest, SetupErrorsNameWhatIsWrong) {
  struct Case {
    std::function<void(Slice&)> breaks;
    std::string message;
  };
  const std::vector<Case> cases = {
      {[](Slice& s) { s.cfg.version = HWS_VERSION + 1; }, "unsupported slice format version 6"},
      {[](Slice& s) { s.regions[2].addr = kBase + 0x3000; }, "region overlaps the slice runtime or its data: 0x10003000"},
      {[](Slice& s) { s.digest[0].addr = kStubs + 0x1000; }, "digest range not inside one readable region: 0x203000"},
      {[](Slice& s) { s.cfg.end_pc += 4; s.cfg.end_next_pc += 4; }, "the instruction at the end pc is not the recorded one: 0x200048"},
      {[](Slice& s) { s.cfg.end_kind = 7; }, "unknown end kind 7"},
      {[](Slice& s) { s.fills.push_back({0x300000, {1}}); }, "fill outside the slice's regions: 0x300000"},
      {[](Slice& s) { s.fills.push_back({kData + 0xfff, {1, 2}}); }, "fill crosses the end of its region: 0x201fff"},
      {[](Slice& s) { s.calls[1].writes[0].first = 0x300000; }, "replay write outside the slice's regions: 0x300000"},
      // A write may span regions, but each of its pages must be in one:
      // the stub page's end runs into 0x203000, which is in none.
      {[](Slice& s) { s.calls[1].writes[0].first = kStubs + 4092; }, "replay write outside the slice's regions: 0x202ffc"},
  };
  for (const Case& c : cases) {
    Built b = make_slice({});
    c.breaks(b.slice);
    const SliceRun r = go(b.slice);
    EXPECT_EQ(r.exit_code, 4) << c.message;
    EXPECT_EQ(r.err, "hwslice-slice: error: " + c.message + "\n");
    const nlohmann::json j = stats_of(r);
    EXPECT_EQ(j["status"], "setup");
    EXPECT_EQ(j["name"], "P100-133");
    EXPECT_EQ(j["detail"], c.message);
  }
}

TEST_F(SliceTest, NoConfigProgramHeaderIsASetupError) {
  Built b = make_slice({});
  b.slice.config_header = false;
  const SliceRun r = go(b.slice, {"HWSLICE_QUIET=1"});
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err, "hwslice-slice: error: no config segment (second PT_LOAD) in the slice\n");
  EXPECT_EQ(r.out, "");
}

TEST_F(SliceTest, BadStatsFdIsASetupError) {
  const Built b = make_slice({});
  const SliceRun r = go(b.slice, {"HWSLICE_STATS_FD=x"}, false);
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_EQ(r.err, "hwslice-slice: error: HWSLICE_STATS_FD is not a file descriptor number\n");
}

}  // namespace
