#include "record/syscall_model.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <string.h>

#include "record/syscall_table.h"

namespace hwslice {

namespace {

// riscv64 LP64 sizes of the structures the kernel writes.
constexpr uint32_t kStat = 128, kStatx = 256, kStatfs = 120, kUtsname = 390, kTimespec = 16, kTimeval = 16,
                   kTimezone = 8, kSigaction = 24, kStackT = 24, kRusage = 144, kTms = 32, kRlimit = 16,
                   kSysinfo = 112, kSiginfo = 128, kItimerval = 32, kItimerspec = 32, kTermios = 36,
                   kWinsize = 8, kFlock = 32, kEpollEvent = 16, kHwprobePair = 16, kIovecSize = 16,
                   kMsghdrSize = 56, kCloneArgsMin = 64;

EffectSpec fixed(uint8_t ptr, uint32_t size) { return {Effect::kFixed, ptr, 0, size}; }
EffectSpec ret_bytes(uint8_t ptr) { return {Effect::kRetBytes, ptr, 0, 0}; }
EffectSpec arg_bytes(uint8_t ptr, uint8_t len) { return {Effect::kArgBytes, ptr, len, 0}; }
EffectSpec ret_elems(uint8_t ptr, uint32_t size) { return {Effect::kRetElems, ptr, 0, size}; }
EffectSpec arg_elems(uint8_t ptr, uint8_t len, uint32_t size) { return {Effect::kArgElems, ptr, len, size}; }
EffectSpec in_out_len(uint8_t ptr, uint8_t len) { return {Effect::kInOutLen, ptr, len, 0}; }
EffectSpec iovec(uint8_t ptr, uint8_t len) { return {Effect::kIovec, ptr, len, 0}; }
EffectSpec special(Effect e, uint8_t ptr = 0) { return {e, ptr, 0, 0}; }

}  // namespace

// The model table, by name; numbers come from the generated syscall table.
// Syscalls absent from this table are not modeled and make tracing fail.
const std::vector<SyscallModel>& model_list() {
  static const std::vector<SyscallModel> list = {
        // --- files and descriptors -------------------------------------------
        {"openat", "fsxo", {}},
        {"openat2", "fsxu", {}},
        {"close", "f", {}},
        {"close_range", "uux", {}},
        {"read", "fxu", {ret_bytes(1)}},
        {"pread64", "fxud", {ret_bytes(1)}},
        {"readv", "fxu", {iovec(1, 2)}},
        {"preadv", "fxudd", {iovec(1, 2)}},
        {"preadv2", "fxuddx", {iovec(1, 2)}},
        {"write", "fxu", {}},
        {"pwrite64", "fxud", {}},
        {"writev", "fxu", {}},
        {"pwritev", "fxudd", {}},
        {"pwritev2", "fxuddx", {}},
        {"lseek", "fdd", {}},
        {"dup", "f", {}},
        {"dup3", "ffx", {}},
        {"fcntl", "fdx", {special(Effect::kFcntl)}},
        {"ioctl", "fxx", {special(Effect::kIoctl)}},
        {"flock", "fd", {}},
        {"fsync", "f", {}},
        {"fdatasync", "f", {}},
        {"sync", "", {}},
        {"syncfs", "f", {}},
        {"ftruncate", "fd", {}},
        {"truncate", "sd", {}},
        {"fallocate", "fddd", {}},
        {"fadvise64", "fddd", {}},
        {"readahead", "fdu", {}},
        {"newfstatat", "fsxx", {fixed(2, kStat)}},
        {"fstat", "fx", {fixed(1, kStat)}},
        {"statx", "fsxxx", {fixed(4, kStatx)}},
        {"statfs", "sx", {fixed(1, kStatfs)}},
        {"fstatfs", "fx", {fixed(1, kStatfs)}},
        {"getdents64", "fxu", {ret_bytes(1)}},
        {"readlinkat", "fsxu", {ret_bytes(2)}},
        {"getcwd", "xu", {ret_bytes(0)}},
        {"chdir", "s", {}},
        {"fchdir", "f", {}},
        {"chroot", "s", {}},
        {"faccessat", "fso", {}},
        {"faccessat2", "fsox", {}},
        {"mkdirat", "fso", {}},
        {"mknodat", "fsox", {}},
        {"unlinkat", "fsx", {}},
        {"renameat2", "fsfsx", {}},
        {"linkat", "fsfsx", {}},
        {"symlinkat", "sfs", {}},
        {"fchmod", "fo", {}},
        {"fchmodat", "fso", {}},
        {"fchmodat2", "fsox", {}},
        {"fchown", "fdd", {}},
        {"fchownat", "fsddx", {}},
        {"utimensat", "fsxx", {}},
        {"umask", "o", {}},
        {"pipe2", "xx", {fixed(0, 8)}},
        {"copy_file_range", "fxfxux", {fixed(1, 8), fixed(3, 8)}},
        {"sendfile", "ffxu", {fixed(2, 8)}},
        {"splice", "fxfxux", {fixed(1, 8), fixed(3, 8)}},
        {"getxattr", "ssxu", {ret_bytes(2)}},
        {"lgetxattr", "ssxu", {ret_bytes(2)}},
        {"fgetxattr", "fsxu", {ret_bytes(2)}},
        {"listxattr", "sxu", {ret_bytes(1)}},
        {"llistxattr", "sxu", {ret_bytes(1)}},
        {"flistxattr", "fxu", {ret_bytes(1)}},
        {"memfd_create", "sx", {}},
        {"eventfd2", "ux", {}},
        {"inotify_init1", "x", {}},
        {"inotify_add_watch", "fsx", {}},
        {"inotify_rm_watch", "fd", {}},
        {"signalfd4", "fxux", {}},
        {"timerfd_create", "dx", {}},
        {"timerfd_settime", "fxxx", {fixed(3, kItimerspec)}},
        {"timerfd_gettime", "fx", {fixed(1, kItimerspec)}},
        {"epoll_create1", "x", {}},
        {"epoll_ctl", "fdfx", {}},
        {"epoll_pwait", "fxddxu", {ret_elems(1, kEpollEvent)}},
        {"ppoll", "xuxxu", {arg_elems(0, 1, 8), fixed(2, kTimespec)}},
        {"pselect6", "dxxxxx", {special(Effect::kFdSets)}},
        // --- memory --------------------------------------------------------------
        {"brk", "x", {}},
        {"mmap", "xuxxfd", {}},
        {"munmap", "xu", {}},
        {"mprotect", "xux", {}},
        {"mremap", "xuuxx", {}},
        {"madvise", "xud", {}},
        {"msync", "xux", {}},
        {"mlock", "xu", {}},
        {"munlock", "xu", {}},
        {"mincore", "xux", {{Effect::kPageVector, 2, 1, 0}}},
        {"membarrier", "dxd", {}},
        // --- process, identity, limits ----------------------------------------
        {"exit", "d", {}},
        {"exit_group", "d", {}},
        {"getpid", "", {}},
        {"getppid", "", {}},
        {"gettid", "", {}},
        {"getuid", "", {}},
        {"geteuid", "", {}},
        {"getgid", "", {}},
        {"getegid", "", {}},
        {"getresuid", "xxx", {fixed(0, 4), fixed(1, 4), fixed(2, 4)}},
        {"getresgid", "xxx", {fixed(0, 4), fixed(1, 4), fixed(2, 4)}},
        {"getgroups", "dx", {ret_elems(1, 4)}},
        {"getpgid", "d", {}},
        {"getsid", "d", {}},
        {"setsid", "", {}},
        {"setpgid", "dd", {}},
        {"setuid", "d", {}},
        {"setgid", "d", {}},
        {"getpriority", "dd", {}},
        {"setpriority", "ddd", {}},
        {"uname", "x", {fixed(0, kUtsname)}},
        {"sysinfo", "x", {fixed(0, kSysinfo)}},
        {"getrusage", "dx", {fixed(1, kRusage)}},
        {"times", "x", {fixed(0, kTms)}},
        {"getrlimit", "dx", {fixed(1, kRlimit)}},
        {"setrlimit", "dx", {}},
        {"prlimit64", "ddxx", {fixed(3, kRlimit)}},
        {"personality", "x", {}},
        {"prctl", "dxxxx", {special(Effect::kPrctl)}},
        {"set_tid_address", "x", {}},
        {"set_robust_list", "xu", {}},
        {"get_robust_list", "dxx", {fixed(1, 8), fixed(2, 8)}},
        {"rseq", "xuxx", {arg_bytes(0, 1)}},
        {"futex", "xxdxxd", {special(Effect::kFutex)}},
        {"clone", "xxxxx", {special(Effect::kClone)}},
        {"clone3", "xu", {special(Effect::kClone3)}},
        {"execve", "sxx", {}},
        {"execveat", "fsxxx", {}},
        {"wait4", "dxxx", {fixed(1, 4), fixed(3, kRusage)}},
        {"waitid", "ddxxx", {fixed(2, kSiginfo), fixed(4, kRusage)}},
        {"kill", "dd", {}},
        {"tkill", "dd", {}},
        {"tgkill", "ddd", {}},
        {"sched_yield", "", {}},
        {"sched_getaffinity", "dux", {ret_bytes(2)}},
        {"sched_setaffinity", "dux", {}},
        {"sched_getparam", "dx", {fixed(1, 4)}},
        {"sched_getscheduler", "d", {}},
        {"getcpu", "xxx", {fixed(0, 4), fixed(1, 4)}},
        {"capget", "xx", {}},
        {"landlock_create_ruleset", "xux", {}},
        {"landlock_add_rule", "fdxx", {}},
        {"landlock_restrict_self", "fx", {}},
        {"pidfd_open", "dx", {}},
        {"pidfd_send_signal", "fdxx", {}},
        {"sched_setscheduler", "ddx", {}},
        {"sched_setparam", "dx", {}},
        {"sched_get_priority_max", "d", {}},
        {"sched_get_priority_min", "d", {}},
        {"setresuid", "ddd", {}},
        {"setresgid", "ddd", {}},
        {"setgroups", "dx", {}},
        {"sethostname", "su", {}},
        {"mount", "sssxx", {}},
        {"umount2", "sx", {}},
        {"pivot_root", "ss", {}},
        {"reboot", "xxxx", {}},
        {"acct", "s", {}},
        {"swapon", "sx", {}},
        {"swapoff", "s", {}},
        {"getrandom", "xux", {ret_bytes(0)}},
        // --- signals ---------------------------------------------------------------
        {"rt_sigaction", "dxxu", {fixed(2, kSigaction)}},
        {"rt_sigprocmask", "dxxu", {arg_bytes(2, 3)}},
        {"rt_sigpending", "xu", {arg_bytes(0, 1)}},
        {"rt_sigsuspend", "xu", {}},
        {"rt_sigreturn", "", {}},
        // restart_syscall: the tracer models it as the call it continues.
        {"restart_syscall", "", {}},
        {"rt_sigtimedwait", "xxxu", {fixed(1, kSiginfo)}},
        {"rt_sigqueueinfo", "ddx", {}},
        {"sigaltstack", "xx", {fixed(1, kStackT)}},
        // --- time ------------------------------------------------------------------------
        {"clock_gettime", "dx", {fixed(1, kTimespec)}},
        {"clock_getres", "dx", {fixed(1, kTimespec)}},
        {"clock_nanosleep", "dxxx", {{Effect::kOnEintr, 3, 0, kTimespec}}},
        {"nanosleep", "xx", {{Effect::kOnEintr, 1, 0, kTimespec}}},
        {"gettimeofday", "xx", {fixed(0, kTimeval), fixed(1, kTimezone)}},
        {"getitimer", "dx", {fixed(1, kItimerval)}},
        {"setitimer", "dxx", {fixed(2, kItimerval)}},
        {"timer_create", "dxx", {fixed(2, 4)}},
        {"timer_settime", "dxxx", {fixed(3, kItimerspec)}},
        {"timer_gettime", "dx", {fixed(1, kItimerspec)}},
        {"timer_delete", "d", {}},
        // --- sockets -----------------------------------------------------------------------
        {"socket", "ddd", {}},
        {"socketpair", "dddx", {fixed(3, 8)}},
        {"bind", "fxu", {}},
        {"connect", "fxu", {}},
        {"listen", "fd", {}},
        {"accept", "fxx", {in_out_len(1, 2)}},
        {"accept4", "fxxx", {in_out_len(1, 2)}},
        {"getsockname", "fxx", {in_out_len(1, 2)}},
        {"getpeername", "fxx", {in_out_len(1, 2)}},
        {"sendto", "fxuxxu", {}},
        {"sendmsg", "fxx", {}},
        {"recvfrom", "fxuxxx", {ret_bytes(1), in_out_len(4, 5)}},
        {"recvmsg", "fxx", {special(Effect::kMsghdr, 1)}},
        {"setsockopt", "fddxu", {}},
        {"getsockopt", "fddxx", {in_out_len(3, 4)}},
        {"shutdown", "fd", {}},
        // --- riscv-specific ------------------------------------------------------------
        {"riscv_hwprobe", "xuuxx", {arg_elems(0, 1, kHwprobePair)}},
        {"riscv_flush_icache", "xxx", {}},
  };
  return list;
}

namespace {

const std::map<long, const SyscallModel*>& models() {
  static const std::map<long, const SyscallModel*> table = [] {
    std::map<long, const SyscallModel*> m;
    for (const auto& model : model_list())
      if (auto nr = sys::number(model.name)) m.emplace(*nr, &model);
    return m;
  }();
  return table;
}

Error unmodeled(long nr, const std::string& what) {
  return Error("syscall " + sys::display_name(nr) + " (" + std::to_string(nr) + "): " + what +
               " is not modeled (its memory effects are unknown)");
}

// Appends a region, refusing sizes no real syscall produces (a bad argument
// must not make the tracer read gigabytes).
Status add(std::vector<Region>& out, uint64_t addr, uint64_t len) {
  constexpr uint64_t kMaxRegion = 1ull << 30;
  if (addr == 0 || len == 0) return ok_status();
  if (len > kMaxRegion) return Error("implausible write of " + std::to_string(len) + " bytes");
  out.push_back({addr, len});
  return ok_status();
}

template <typename T>
Result<T> read_value(MemoryReader& mem, uint64_t addr) {
  T v{};
  HWSLICE_TRY(mem.read(addr, &v, sizeof v));
  return v;
}

// Spreads `total` bytes over an iovec array in the tracee.
Status add_iovecs(std::vector<Region>& out, MemoryReader& mem, uint64_t iov, uint64_t count, uint64_t total) {
  if (count > 1024) return Error("iovec count " + std::to_string(count) + " exceeds IOV_MAX");
  for (uint64_t i = 0; i < count && total > 0; ++i) {
    uint64_t pair[2];
    HWSLICE_TRY(mem.read(iov + i * kIovecSize, pair, sizeof pair));
    uint64_t n = std::min(pair[1], total);
    HWSLICE_TRY(add(out, pair[0], n));
    total -= n;
  }
  return ok_status();
}

// Appends the regions of one ioctl variant to `out`.
Status ioctl_regions(long nr, const SyscallArgs& a, std::vector<Region>& out) {
  const uint64_t req = a[1] & 0xffffffff;
  // Old-style terminal ioctls ('T', 0x54xx) carry no size: listed one by one.
  if ((req >> 8 & 0xff) == 'T' && (req >> 30) == 0) {
    switch (req) {
      case 0x5401: HWSLICE_TRY(add(out, a[2], kTermios)); return ok_status();   // TCGETS
      case 0x5413: HWSLICE_TRY(add(out, a[2], kWinsize)); return ok_status();   // TIOCGWINSZ
      case 0x541b:                                                    // FIONREAD
      case 0x540f:                                                    // TIOCGPGRP
      case 0x5429: HWSLICE_TRY(add(out, a[2], 4)); return ok_status();          // TIOCGSID
      case 0x5402: case 0x5403: case 0x5404:                          // TCSETS*
      case 0x5414: case 0x5410: case 0x5421:                          // TIOCSWINSZ TIOCSPGRP FIONBIO
      case 0x540b: case 0x540a: case 0x5409:                          // TCFLSH TCXONC TCSBRK
      case 0x5450: case 0x5451: case 0x540e: case 0x5422:             // FIONCLEX FIOCLEX TIOCSCTTY TIOCNOTTY
        return ok_status();
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, "ioctl request 0x%llx", static_cast<unsigned long long>(req));
    return unmodeled(nr, buf);
  }
  // _IOC encoding: direction in bits 30-31 (_IOC_READ = 2: the kernel writes
  // _IOC_SIZE bytes), size in bits 16-29.
  const uint64_t dir = req >> 30, size = (req >> 16) & 0x3fff;
  if (dir & 2) HWSLICE_TRY(add(out, a[2], size));
  return ok_status();
}

// Appends the regions of one fcntl variant to `out`.
Status fcntl_regions(long nr, const SyscallArgs& a, std::vector<Region>& out) {
  switch (static_cast<int>(a[1])) {
    case 5: case 36: HWSLICE_TRY(add(out, a[2], kFlock)); return ok_status();  // F_GETLK F_OFD_GETLK
    case 16: HWSLICE_TRY(add(out, a[2], 8)); return ok_status();              // F_GETOWN_EX
    case 0: case 1: case 2: case 3: case 4: case 6: case 7: case 8: case 9: case 10: case 11:
    case 15: case 37: case 38: case 1024: case 1025: case 1026: case 1030: case 1031: case 1032:
    case 1033: case 1034:
      return ok_status();
  }
  return unmodeled(nr, "fcntl command " + std::to_string(a[1]));
}

// Appends the regions of one prctl variant to `out`.
Status prctl_regions(long nr, const SyscallArgs& a, std::vector<Region>& out) {
  switch (a[0]) {
    case 16: HWSLICE_TRY(add(out, a[1], 16)); return ok_status();  // PR_GET_NAME
    case 2: case 37: HWSLICE_TRY(add(out, a[1], 4)); return ok_status();  // PR_GET_PDEATHSIG, PR_GET_CHILD_SUBREAPER
    case 40: HWSLICE_TRY(add(out, a[1], 8)); return ok_status();  // PR_GET_TID_ADDRESS
    case 1: case 3: case 4: case 15: case 22: case 23: case 29: case 30: case 35: case 36: case 38: case 39:
    case 41: case 42: case 69: case 70: case 0x53564d41:
      return ok_status();
  }
  return unmodeled(nr, "prctl option " + std::to_string(a[0]));
}

// Appends the regions of one futex variant to `out`.
Status futex_regions(long nr, const SyscallArgs& a, std::vector<Region>& out) {
  const uint64_t op = a[1] & ~uint64_t(128 | 256);  // FUTEX_PRIVATE_FLAG, FUTEX_CLOCK_REALTIME
  switch (op) {
    case 0: case 1: case 3: case 4: case 9: case 10: return ok_status();  // WAIT WAKE REQUEUE CMP_REQUEUE *_BITSET
    case 5: HWSLICE_TRY(add(out, a[4], 4)); return ok_status();            // WAKE_OP writes uaddr2
    case 6: case 7: case 8: case 13: HWSLICE_TRY(add(out, a[0], 4)); return ok_status();  // PI lock ops
    case 11: case 12:
      HWSLICE_TRY(add(out, a[0], 4));
      HWSLICE_TRY(add(out, a[4], 4));
      return ok_status();
  }
  return unmodeled(nr, "futex op " + std::to_string(op));
}

}  // namespace

const SyscallModel* find_model(long nr) {
  auto it = models().find(nr);
  return it == models().end() ? nullptr : it->second;
}

Result<EntryState> capture_entry(long nr, const SyscallArgs& a, MemoryReader& mem) {
  EntryState st;
  const SyscallModel* m = find_model(nr);
  if (!m) return unmodeled(nr, "this syscall");
  unsigned slot = 0;
  for (const EffectSpec& e : m->effects) {
    if (e.kind == Effect::kInOutLen && a[e.len] != 0 && slot < st.saved.size()) {
      auto len = read_value<uint32_t>(mem, a[e.len]);
      if (!len) return len.error().wrap(sys::display_name(nr) + " length argument");
      st.saved[slot++] = *len;
    } else if (e.kind == Effect::kMsghdr) {
      uint64_t hdr[7];
      HWSLICE_TRY(mem.read(a[e.ptr], hdr, sizeof hdr));
      st.saved[0] = static_cast<uint32_t>(hdr[1]);  // msg_namelen
      st.saved[1] = hdr[5];                         // msg_controllen
    }
  }
  return st;
}

Result<std::vector<Region>> written_regions(long nr, const SyscallArgs& a, int64_t ret, const EntryState& entry,
                                            MemoryReader& mem) {
  const SyscallModel* m = find_model(nr);
  if (!m) return unmodeled(nr, "this syscall");
  std::vector<Region> out;
  const bool failed = ret < 0 && ret >= -4095;
  unsigned slot = 0;
  for (const EffectSpec& e : m->effects) {
    if (e.kind == Effect::kOnEintr) {
      if (ret == -EINTR) HWSLICE_TRY(add(out, a[e.ptr], e.size));
      continue;
    }
    if (failed) continue;  // a failing syscall writes nothing we rely on
    switch (e.kind) {
      case Effect::kFixed: HWSLICE_TRY(add(out, a[e.ptr], e.size)); break;
      case Effect::kPageVector: HWSLICE_TRY(add(out, a[e.ptr], (a[e.len] + 4095) / 4096)); break;
      case Effect::kRetBytes:
        if (ret > 0) HWSLICE_TRY(add(out, a[e.ptr], static_cast<uint64_t>(ret)));
        break;
      case Effect::kArgBytes: HWSLICE_TRY(add(out, a[e.ptr], a[e.len])); break;
      case Effect::kRetElems:
        if (ret > 0) HWSLICE_TRY(add(out, a[e.ptr], static_cast<uint64_t>(ret) * e.size));
        break;
      case Effect::kArgElems:
        if (a[e.len] > (1u << 20)) return Error(sys::display_name(nr) + ": element count " + std::to_string(a[e.len]) + " too large");
        HWSLICE_TRY(add(out, a[e.ptr], a[e.len] * e.size));
        break;
      case Effect::kInOutLen: {
        if (a[e.len] == 0) break;
        uint64_t in = entry.saved[slot++];
        auto now = read_value<uint32_t>(mem, a[e.len]);
        if (!now) return now.error();
        HWSLICE_TRY(add(out, a[e.ptr], std::min<uint64_t>(in, *now)));
        HWSLICE_TRY(add(out, a[e.len], 4));
        break;
      }
      case Effect::kIovec:
        if (ret > 0) HWSLICE_TRY(add_iovecs(out, mem, a[e.ptr], a[e.len], static_cast<uint64_t>(ret)));
        break;
      case Effect::kMsghdr: {
        uint64_t hdr[7];
        HWSLICE_TRY(mem.read(a[e.ptr], hdr, sizeof hdr));
        const uint64_t name_len = std::min<uint64_t>(entry.saved[0], static_cast<uint32_t>(hdr[1]));
        HWSLICE_TRY(add(out, hdr[0], name_len));
        HWSLICE_TRY(add_iovecs(out, mem, hdr[2], hdr[3], static_cast<uint64_t>(ret)));
        HWSLICE_TRY(add(out, hdr[4], std::min(entry.saved[1], hdr[5])));
        HWSLICE_TRY(add(out, a[e.ptr] + 8, 4));   // msg_namelen
        HWSLICE_TRY(add(out, a[e.ptr] + 40, 8));  // msg_controllen
        HWSLICE_TRY(add(out, a[e.ptr] + 48, 4));  // msg_flags
        break;
      }
      case Effect::kIoctl: HWSLICE_TRY(ioctl_regions(nr, a, out)); break;
      case Effect::kFcntl: HWSLICE_TRY(fcntl_regions(nr, a, out)); break;
      case Effect::kPrctl: HWSLICE_TRY(prctl_regions(nr, a, out)); break;
      case Effect::kFutex: HWSLICE_TRY(futex_regions(nr, a, out)); break;
      case Effect::kFdSets: {
        const uint64_t bytes = (a[0] + 63) / 64 * 8;
        for (unsigned i = 1; i <= 3; ++i) HWSLICE_TRY(add(out, a[i], bytes));
        HWSLICE_TRY(add(out, a[4], kTimespec));
        break;
      }
      case Effect::kClone:
        // CLONE_PARENT_SETTID (0x00100000) and CLONE_PIDFD (0x1000) write an
        // int through parent_tid in the parent.
        if (a[0] & (0x00100000 | 0x1000)) HWSLICE_TRY(add(out, a[2], 4));
        break;
      case Effect::kClone3: {
        if (a[1] < kCloneArgsMin) break;
        uint64_t args[4];  // flags, pidfd, child_tid, parent_tid
        HWSLICE_TRY(mem.read(a[0], args, sizeof args));
        if (args[0] & 0x1000) HWSLICE_TRY(add(out, args[1], 4));
        if (args[0] & 0x00100000) HWSLICE_TRY(add(out, args[3], 4));
        break;
      }
      case Effect::kOnEintr: break;
    }
  }
  return out;
}

Result<bool> creates_thread(long nr, const SyscallArgs& a, MemoryReader& mem) {
  constexpr uint64_t kCloneThread = 0x00010000;
  std::string_view n = sys::name(nr);
  if (n == "clone") return (a[0] & kCloneThread) != 0;
  if (n == "clone3") {
    auto flags = read_value<uint64_t>(mem, a[0]);
    if (!flags) return flags.error();
    return (*flags & kCloneThread) != 0;
  }
  return false;
}

std::string_view errno_name(int err) {
  const char* n = strerrorname_np(err);
  return n ? std::string_view(n) : std::string_view();
}

}  // namespace hwslice
