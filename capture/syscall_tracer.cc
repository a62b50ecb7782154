#include "capture/syscall_tracer.h"

#include <signal.h>
#include <sys/ptrace.h>

#include "riscv/address_space.h"
#include "record/syscall_table.h"

namespace hwslice {

namespace {

class TraceeMemory : public MemoryReader {
 public:
  explicit TraceeMemory(Tracee& t) : t_(t) {}
  Status read(uint64_t addr, void* buf, size_t len) override { return t_.read(RemoteAddr(addr), buf, len); }

 private:
  Tracee& t_;
};

}  // namespace

Result<RegsRecord> capture_regs(Tracee& tracee, std::string at) {
  auto r = tracee.regs();
  if (!r) return r.error();
  auto f = tracee.fp_regs();
  if (!f) return f.error();
  RegsRecord rec;
  rec.at = std::move(at);
  rec.pc = r->pc();
  for (unsigned i = 1; i < 32; ++i) rec.ints[i] = r->x(i);
  rec.fps = f->f;
  rec.fcsr = f->fcsr;
  return rec;
}

ExitRecord exit_record(const WaitStatus& status) {
  if (status.kind() == WaitStatus::Kind::kSignaled) return ExitRecord{0, status.signal(), status.core_dumped()};
  return ExitRecord{status.exit_code(), 0, false};
}

Status SyscallTracer::emit_regs(const char* why) {
  auto rec = capture_regs(tracee_, why);
  if (!rec) return rec.error();
  sink_.on_record(*rec);
  return ok_status();
}

// Records what a slice needs to know about the address space at the start:
// where the vDSO is and which functions it exports (calls to them never
// reach an ecall).
Status SyscallTracer::emit_start_records(const char* why) {
  HWSLICE_TRY(emit_regs(why));
  auto maps = read_maps(tracee_.pid());
  if (!maps) return maps.error();
  for (const Mapping& m : *maps) {
    if (m.path != "[vdso]") continue;
    std::vector<uint8_t> image(m.end - m.start);
    HWSLICE_TRY(tracee_.read(RemoteAddr(m.start), image.data(), image.size()));
    std::string names;
    if (auto syms = vdso_symbols(image)) {
      for (const auto& s : *syms) {
        sink_.on_record(NoteRecord{"vdso_symbol", m.start + s.offset, s.size, s.name});
        names += (names.empty() ? "" : " ") + s.name;
      }
    }
    sink_.on_record(NoteRecord{"vdso", m.start, m.end - m.start,
                               "calls to these functions never reach an ecall: " + names});
  }
  return ok_status();
}

// At the program's last syscall the address space is complete: every
// executable mapping is scanned for instructions that read time or counters
// directly, nondeterministic inputs a slice must replay.
Status SyscallTracer::emit_end_notes() {
  auto maps = read_maps(tracee_.pid());
  if (!maps) return maps.error();
  for (const Mapping& m : *maps) {
    if (!m.exec || m.path == "[vdso]") continue;
    std::vector<uint8_t> code(m.end - m.start);
    if (!tracee_.read(RemoteAddr(m.start), code.data(), code.size())) continue;  // unreadable: skip
    uint64_t page = UINT64_MAX;
    std::string detail;
    auto flush = [&] {
      if (page != UINT64_MAX) sink_.on_record(NoteRecord{"nondet", page, 4096, detail});
    };
    for (const CounterRead& c : scan_counter_reads(code, m.start)) {
      uint64_t p = c.pc & ~uint64_t(4095);
      if (p != page) {
        flush();
        page = p;
        detail = (m.path.empty() ? std::string("anonymous") : m.path) + ":";
      }
      detail += std::string(" rd") + c.csr + "@" + to_hex(c.pc);
    }
    flush();
  }
  // The vDSO's own counter reads are expected; it is reported at the start.
  return ok_status();
}

Status SyscallTracer::on_entry(const __ptrace_syscall_info& info) {
  nr_ = static_cast<long>(info.entry.nr);
  for (unsigned i = 0; i < 6; ++i) args_[i] = info.entry.args[i];
  pc_ = info.instruction_pointer - 4;  // the ecall; the kernel reports the pc after it
  in_call_ = true;
  TraceeMemory mem(tracee_);
  const std::string name = sys::display_name(nr_);

  if (name == "exit_group" || name == "exit") HWSLICE_TRY(emit_end_notes());
  auto thread = creates_thread(nr_, args_, mem);
  if (!thread) return thread.error();
  if (*thread)
    return Error("the program creates a thread (" + name +
                 " with CLONE_THREAD): multithreaded programs are not supported yet");
  if (name == "clone" || name == "clone3" || name == "vfork")
    sink_.on_record(NoteRecord{"fork", pc_, 0, name + ": the child process is not traced"});
  if (name == "execve" || name == "execveat") {
    // The exec'd image is traced like the first one; the call itself is
    // reported as a note, not replayable.
    skip_exit_ = true;
  }
  if (name == "rseq" && args_[0] != 0)
    sink_.on_record(NoteRecord{"async_write", args_[0], args_[1],
                               "rseq area: the kernel rewrites cpu_id fields on every return to user mode"});

  model_nr_ = nr_;
  model_args_ = args_;
  if (name == "restart_syscall") {
    if (!interrupted_)
      return Error("restart_syscall of a call hwslice did not see start: its memory effects are unknown");
    model_nr_ = interrupted_->first;
    model_args_ = interrupted_->second;
  }
  entry_ok_ = true;
  auto entry = capture_entry(model_nr_, model_args_, mem);
  if (!entry) {
    if (!options_.allow_unknown) return entry.error();
    entry_ok_ = false;
  } else {
    entry_ = *entry;
  }
  if (options_.hooks) HWSLICE_TRY(options_.hooks->before_call(nr_, args_, pc_));
  sink_.on_entry(nr_, args_);
  if (options_.stack && options_.on_stack) options_.on_stack(options_.stack(tracee_.pid()));
  return ok_status();
}

Status SyscallTracer::on_exit(const __ptrace_syscall_info& info) {
  in_call_ = false;
  sink_.on_exit_stop();
  if (skip_exit_) {
    skip_exit_ = false;
    return ok_status();
  }
  SyscallRecord rec;
  rec.index = index_++;
  rec.nr = nr_;
  rec.name = sys::display_name(nr_);
  rec.args = args_;
  rec.ret = static_cast<uint64_t>(info.exit.rval);
  rec.pc = pc_;
  TraceeMemory mem(tracee_);
  // A call stopped by a signal with -ERESTART_RESTARTBLOCK is continued
  // later by restart_syscall.
  constexpr int64_t kErestartRestartblock = -516;
  if (info.exit.rval == kErestartRestartblock) interrupted_ = std::make_pair(model_nr_, model_args_);
  else if (sys::name(nr_) == "restart_syscall") interrupted_.reset();
  Result<std::vector<Region>> regions = entry_ok_ ? written_regions(model_nr_, model_args_, info.exit.rval, entry_, mem)
                                                  : Result<std::vector<Region>>(Error(""));
  if (!regions) {
    if (!options_.allow_unknown) return regions.error();
    sink_.on_record(NoteRecord{"unknown_effects", pc_, 0,
                               rec.name + ": memory effects not modeled; nothing recorded"});
  } else {
    for (const Region& r : *regions) {
      MemWrite w{r.addr, std::vector<uint8_t>(r.len)};
      HWSLICE_TRY(tracee_.read(RemoteAddr(r.addr), w.data.data(), w.data.size()));
      rec.writes.push_back(std::move(w));
    }
  }
  if (options_.hooks) {
    auto keep = options_.hooks->after_call(rec);
    if (!keep) return keep.error();
    if (!*keep) {
      --index_;
      return ok_status();
    }
  }
  sink_.on_record(rec);
  return ok_status();
}

Status SyscallTracer::on_syscall_stop() {
  auto info = tracee_.syscall_info();
  if (!info) return info.error();
  switch (info->op) {
    case PTRACE_SYSCALL_INFO_ENTRY: return on_entry(*info);
    case PTRACE_SYSCALL_INFO_EXIT:
      if (!in_call_) return ok_status();  // the exit of the execve that started the program
      return on_exit(*info);
    default: return ok_status();
  }
}

Result<ExitRecord> SyscallTracer::run() {
  const bool attached = tracee_.ownership() == Tracee::Ownership::kAttached;
  HWSLICE_TRY(emit_start_records(attached ? "attach" : "entry"));
  if (const auto& b = tracee_.blocked_syscall()) interrupted_ = std::make_pair(b->nr, b->args);
  int pending = 0;  // signal to deliver when resuming
  auto fail = [&](const Error& e) -> Error {
    if (!tracee_.alive()) return e;
    if (attached) {
      // Leave the program running as if we had never been there: at a
      // syscall-entry stop the call simply runs after the detach.
      (void)tracee_.detach(pending);
      return Error(e.message() + " (detached from pid " + std::to_string(tracee_.pid()) + ", which keeps running)",
                   e.err());
    }
    tracee_.kill();
    return e;
  };
  while (true) {
    if (options_.interrupted && options_.interrupted->load()) return fail(Error("interrupted"));
    if (options_.hooks) {
      if (auto s = options_.hooks->before_resume(); !s) return fail(s.error());
      if (pending == 0) pending = options_.hooks->resume_signal();
    }
    if (auto st = tracee_.syscall(pending); !st) return fail(st.error());
    pending = 0;
    auto st = options_.hooks ? options_.hooks->wait_stop(tracee_, options_.interrupted)
                             : tracee_.wait(options_.interrupted);
    if (!st) {
      if (st.error().err() == EINTR && attached) {
        // Interrupted while the tracee runs: stop it first, then detach.
        if (auto s = tracee_.interrupt_and_wait(); s) pending = *s;
      }
      return fail(st.error().err() == EINTR ? Error("interrupted") : st.error());
    }
    switch (st->kind()) {
      case WaitStatus::Kind::kExited:
      case WaitStatus::Kind::kSignaled: {
        ExitRecord r = exit_record(*st);
        sink_.on_record(r);
        return r;
      }
      case WaitStatus::Kind::kSyscallStop:
        if (auto s = on_syscall_stop(); !s) return fail(s.error());
        break;
      case WaitStatus::Kind::kEventStop:
        if (st->ptrace_event() == PTRACE_EVENT_EXEC) {
          sink_.on_record(NoteRecord{"exec", 0, 0, "the program executed a new image; tracing continues in it"});
          if (auto s = emit_start_records("exec"); !s) return fail(s.error());
        }
        break;
      case WaitStatus::Kind::kGroupStop:
        break;  // resume; the stop is the tracer's own (attach) or a job-control stop
      case WaitStatus::Kind::kSignalStop:
        if (options_.hooks) {
          auto mine = options_.hooks->on_signal(st->signal());
          if (!mine) return fail(mine.error());
          if (*mine) break;
        }
        pending = st->signal();  // the program's own signal: delivered unchanged
        break;
    }
  }
}

}  // namespace hwslice
