// hwslice trace: runs a program (or attaches to one) under ptrace and
// records every syscall with the exact memory the kernel wrote.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <algorithm>
#include <map>

#include "cli/command.h"
#include "cli/output_file.h"
#include "record/syscall_format.h"
#include "record/trace_record.h"
#if defined(__riscv) && defined(__linux__)
#include <sys/ptrace.h>

#include "doctor/program_check.h"
#include "riscv/isa_string.h"
#include "control/perf_counter.h"
#include "ptrace/stack_walker.h"
#include "control/fast_forward.h"
#include "control/position_mode.h"
#include "control/stepper.h"
#include "record/syscall_table.h"
#include "capture/syscall_tracer.h"
#include "capture/interval_tracer.h"
#include "capture/step_tracer.h"
#include "capture/vdso_patch.h"
#include "runtime/slice_abi.h"
#endif

namespace hwslice::cli {

namespace {

struct TraceOptions {
  std::string output;
  bool syscalls = false;
  bool summary = false;
  std::string summary_json;
  bool stack = false;
  bool allow_unknown = false;
  int pid = 0;
  std::vector<uint64_t> at;
  bool no_aslr = false;
  unsigned keep_pages = 0;
  unsigned fault_around = 1024;
  bool fault_around_given = false;
  std::string position_mode = "auto";
  uint64_t interval = 0;
  std::string mode = "pages";
  std::vector<std::string> argv;
};

#if defined(__riscv) && defined(__linux__)

std::atomic<bool> g_interrupted{false};

void on_interrupt(int) { g_interrupted = true; }

// Writes JSONL, prints strace-like lines, collects the summary.
class CliSink : public TraceSink {
 public:
  CliSink(Tracee& tracee, const TraceOptions& o, std::ostream* jsonl)
      : tracee_(tracee), options_(o), jsonl_(jsonl) {}

  void on_entry(long nr, const std::array<uint64_t, 6>& args) override {
    entry_time_ = std::chrono::steady_clock::now();
    if (!options_.syscalls) return;
    strings_.clear();
    const SyscallModel* m = find_model(nr);
    if (!m) return;
    for (unsigned i = 0; i < m->args.size(); ++i) {
      if (m->args[i] != 's' || args[i] == 0) continue;
      std::string s;
      char c;
      for (uint64_t a = args[i]; s.size() < 256; ++a) {
        if (!tracee_.read(RemoteAddr(a), &c, 1) || c == 0) break;
        s.push_back(c);
      }
      strings_[i] = quote_string(s);
    }
  }

  void on_exit_stop() override { exit_time_ = std::chrono::steady_clock::now(); }

  void on_record(const TraceRecord& record) override {
    if (jsonl_) *jsonl_ << encode(record) << '\n';
    if (const auto* s = std::get_if<SyscallRecord>(&record)) {
      if (options_.summary || !options_.summary_json.empty())
        summary_.add(*s, exit_time_ - entry_time_);
      if (options_.syscalls)
        std::fprintf(stderr, "%s(%s) %s\n", s->name.c_str(), format_args(s->nr, s->args, strings_).c_str(),
                     format_return(s->nr, s->ret).c_str());
      // The stack was taken at the call's entry; it is shown under its line.
      for (const auto& f : stack_) std::fprintf(stderr, "    > %s\n", f.c_str());
      stack_.clear();
    }
  }

  void set_stack(std::vector<std::string> frames) { stack_ = std::move(frames); }

  const SyscallSummary& summary() const { return summary_; }

 private:
  Tracee& tracee_;
  const TraceOptions& options_;
  std::ostream* jsonl_;
  std::map<unsigned, std::string> strings_;
  std::chrono::steady_clock::time_point entry_time_, exit_time_;
  SyscallSummary summary_;
  std::vector<std::string> stack_;
};

// Prints one register file as a table on stderr.
void print_regs(const RegsRecord& r) {
  std::fprintf(stderr, "position %llu (%s%s): pc %s\n", static_cast<unsigned long long>(*r.icount), r.mode.c_str(),
               r.exact ? ", exact" : ", NOT exact", to_hex(r.pc).c_str());
  for (unsigned i = 1; i < 32; ++i)
    std::fprintf(stderr, "  %-4s %16s%s", std::string(riscv::kIntRegNames[i]).c_str(), to_hex(r.ints[i]).c_str(),
                 i % 4 == 3 ? "\n" : "");
  std::fprintf(stderr, "  fcsr %16s\n", to_hex(r.fcsr).c_str());
}

// --at: brings the program to each position (user instructions counted from
// its first instruction), records and prints the registers there, then lets
// it run to its end. How (control/position_mode.h): with an exact user-only
// counter a counted fast-forward runs most of the way at full speed and
// stepping does the rest; otherwise it is stepped all the way. The hardware
// check: where stepping goes all the way and user-only counting works, an
// instruction counter runs alongside and is reported next to the position.
// The vDSO's time functions are routed through syscalls first, as slice and
// --interval do (capture/vdso_patch.h). Left native, their instruction count
// depends on the time itself (a seqlock retry, a carry into the seconds),
// so K would name different instructions in two runs of a program that
// reads the clock.
int run_positions(Tracee& t, const TraceOptions& o, TraceSink& sink) {
  auto asked = parse_position_mode(o.position_mode);
  if (!asked) {
    print_error("--position-mode must be auto, overflow, count, block or single");
    return 2;
  }
  if (auto st = patch_vdso_time(t); !st) {
    print_error(st.error().message());
    return 1;
  }
  auto decoder = riscv::Decoder::create();
  if (!decoder) {
    print_error(decoder.error().message());
    return 1;
  }
  // What the counters allow, asked of the program's own task.
  PerfCounterSpec spec;
  spec.user_only = true;
  spec.start_enabled = true;
  auto counter = PerfCounter::open(t.pid(), spec);  // absent without Sscofpmf
  CounterAbility ability;
  ability.user_exact = static_cast<bool>(counter);
  if (ability.user_exact)
    ability.overflow_opens = static_cast<bool>(PerfCounter::open(t.pid(), FastForward::overflow_probe_spec()));
  auto mode = resolve(*asked, ability);
  if (!mode) {
    print_error(mode.error().message());
    return 2;
  }
  std::unique_ptr<FastForward> ff;
  if (*mode == PositionMode::kOverflow || *mode == PositionMode::kCount) {
    counter = Error("not used");  // the fast-forward counts with its own
    FastForward::Options fo;
    fo.overflow = *mode == PositionMode::kOverflow;
    fo.require_overflow = *asked == PositionMode::kOverflow;
    fo.overflow_opens = ability.overflow_opens;
    auto made = FastForward::create(t, fo);
    if (!made) {
      print_error(made.error().message());
      return 1;
    }
    ff = std::move(*made);
  }
  const bool compressed = machine_has_compressed();
  Stepper stepper(t, **decoder, compressed, *mode == PositionMode::kSingle ? Stepper::Mode::kSingle : Stepper::Mode::kBlock);
  // A late timer stop or overflow signal of the fast-forward's is its own.
  auto own = [&ff](const WaitStatus& st) -> Result<bool> { return ff ? ff->own_stop(st) : Result<bool>(false); };
  if (ff) {
    // With the fast-forward's exact count the tail is stepped in counted
    // hops (control/stepper.h).
    Stepper::Hooks hooks;
    hooks.foreign_stop = own;
    hooks.counted = [&ff]() { return ff->position(); };
    hooks.trap_counted = ff->trap_counted();
    stepper.set_hooks(std::move(hooks));
  }
  std::vector<uint64_t> at = o.at;
  std::sort(at.begin(), at.end());
  for (uint64_t k : at) {
    uint64_t approached = stepper.count();
    // What the approach to this position did (none for a position given
    // twice: the program is there already).
    FastForward::Stats approach;
    const uint64_t hops_before = stepper.hops();
    if (ff && k > stepper.count()) {
      if (auto st = ff->approach(k); !st) {
        print_error(st.error().message());
        return 1;
      }
      auto pos = ff->position();
      if (!pos) {
        print_error(pos.error().message());
        return 1;
      }
      approached = *pos;
      approach = ff->stats();
      stepper.set_count(approached);
    }
    if (auto st = stepper.run_to(k); !st) {
      print_error(st.error().message());
      return 1;
    }
    if (ff)
      if (auto st = ff->rebase(k); !st) {
        print_error(st.error().message());
        return 1;
      }
    auto captured = capture_regs(t, "position");
    if (!captured) {
      print_error(captured.error().message());
      return 1;
    }
    RegsRecord& rec = *captured;
    rec.icount = k;
    rec.mode = recorded_name(*mode, approach.by_overflow);
    rec.exact = stepper.exact();
    sink.on_record(rec);
    print_regs(rec);
    if (ff) {
      const FastForward::Stats& s = approach;
      const std::string detail = "timer_stops=" + std::to_string(s.timer_stops) + " syscall_stops=" +
                                 std::to_string(s.syscall_stops) + " overflow_stops=" +
                                 std::to_string(s.overflow_stops) + " restarts=" + std::to_string(s.restarts) +
                                 " approached=" + std::to_string(approached) + " stepped=" +
                                 std::to_string(k - approached) + " hops=" +
                                 std::to_string(stepper.hops() - hops_before) + " position=" + std::to_string(k);
      sink.on_record(NoteRecord{"position_approach", rec.pc, k - approached, detail});
      std::fprintf(stderr,
                   "  fast-forward to %llu (%llu timer, %llu syscall, %llu overflow stops), %llu stepped (%llu counted "
                   "hops)\n",
                   static_cast<unsigned long long>(approached), static_cast<unsigned long long>(s.timer_stops),
                   static_cast<unsigned long long>(s.syscall_stops), static_cast<unsigned long long>(s.overflow_stops),
                   static_cast<unsigned long long>(k - approached),
                   static_cast<unsigned long long>(stepper.hops() - hops_before));
    } else if (counter) {
      auto v = counter->read();
      if (v) {
        sink.on_record(NoteRecord{"position_check", rec.pc, *v,
                                  "perf instructions:u=" + std::to_string(*v) + " breakpoint_traps=" +
                                      std::to_string(stepper.traps()) + " emulated=" +
                                      std::to_string(stepper.emulated()) + " position=" + std::to_string(k)});
        std::fprintf(stderr, "  hardware count (instructions:u) %llu, breakpoint traps %llu, emulated jumps %llu\n",
                     static_cast<unsigned long long>(*v), static_cast<unsigned long long>(stepper.traps()),
                     static_cast<unsigned long long>(stepper.emulated()));
      }
    }
  }
  // The rest of the run is not traced: the program continues to its end.
  int pending = 0;
  while (true) {
    if (auto st = t.cont(pending); !st) {
      print_error(st.error().message());
      return 1;
    }
    pending = 0;
    auto st = t.wait();
    if (!st) {
      print_error(st.error().message());
      return 1;
    }
    if (!t.alive()) {
      sink.on_record(exit_record(*st));
      return st->shell_status();
    }
    auto mine = own(*st);
    if (!mine) {
      print_error(mine.error().message());
      return 1;
    }
    if (*mine) continue;
    if (st->kind() == WaitStatus::Kind::kSignalStop) pending = st->signal();
  }
}

// SIGINT/SIGTERM end tracing cleanly (detach or kill), without SA_RESTART
// so a blocked waitpid returns.
void catch_interrupts() {
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
}

// The -o file, written atomically; null without -o. False (after printing
// the error) when it cannot be created.
bool open_output(const TraceOptions& o, std::unique_ptr<OutputFile>& out) {
  if (o.output.empty()) return true;
  auto f = OutputFile::create(o.output);
  if (!f) {
    print_error(f.error().message());
    return false;
  }
  out = std::move(*f);
  return true;
}

// --interval: the program runs under page tracking; each interval's
// syscalls, touched pages and the registers at both ends are recorded.
int run_interval_trace(const TraceOptions& o) {
  if (o.pid) {
    print_error("--interval counts from the program's first instruction: it cannot be used with -p");
    return 2;
  }
  std::unique_ptr<OutputFile> out;
  if (!open_output(o, out)) return 1;
  catch_interrupts();
  IntervalOptions io;
  io.argv = o.argv;
  io.interval = o.interval;
  io.allow_unknown = o.allow_unknown;
  io.no_aslr = o.no_aslr;
  io.keep_pages = o.keep_pages;
  io.fault_around = o.fault_around;
  io.end_checks = false;  // the trace records neither the digest nor the end stack
  io.interrupted = &g_interrupted;
  uint64_t index = 0;
  auto emit = [&](const TraceRecord& r) {
    if (out) out->stream() << encode(r) << '\n';
  };
  auto on_interval = [&](SliceSpec&& spec) -> Status {
    emit(spec.start_regs);
    for (const SyscallRecord& s : spec.syscalls) {
      // Fault marks are the slices' business; a signal delivery is a note.
      if (is_fault_mark(s)) continue;
      if (is_signal_delivery(s))
        emit(NoteRecord{"signal", s.pc, s.args[0], s.name + " delivered to its handler at " + to_hex(s.args[1])});
      else
        emit(s);
    }
    PagesRecord pages{index++, spec.start, spec.end, {}};
    for (const SlicePage& p : spec.pages) {
      std::string kind;
      if (p.read) kind += 'r';
      if (p.write) kind += 'w';
      if (p.exec) kind += 'x';
      if (p.kernel || kind.empty()) kind += 'k';
      pages.pages.push_back(TouchedPage{p.addr, kind, hws_hash(HWS_FNV_OFFSET, p.data.data(), p.data.size())});
    }
    emit(pages);
    emit(spec.end_regs);
    std::fprintf(stderr, "interval %llu: %llu-%llu, %zu pages, %zu syscalls\n",
                 static_cast<unsigned long long>(pages.interval), static_cast<unsigned long long>(spec.start),
                 static_cast<unsigned long long>(spec.end), spec.pages.size(), spec.syscalls.size());
    return ok_status();
  };
  auto result = trace_intervals(io, on_interval);
  if (!result) {
    print_error(result.error().message());
    return 1;
  }
  emit(result->exit);
  std::string more = " (" + std::to_string(result->opened_around) + " pages opened with them";
  if (o.keep_pages > 0) more += ", " + std::to_string(result->kept_on) + " kept pages kept longer: they changed";
  more += ")";
  std::fprintf(stderr, "hwslice: %llu intervals; %llu page faults%s, %llu injected syscalls, %llu timer stops\n",
               static_cast<unsigned long long>(index), static_cast<unsigned long long>(result->faults), more.c_str(),
               static_cast<unsigned long long>(result->injections), static_cast<unsigned long long>(result->timer_stops));
  if (out)
    if (auto st = out->commit(); !st) {
      print_error(st.error().message());
      return 1;
    }
  if (result->exit.signal) return 128 + result->exit.signal;
  return result->exit.status;
}

// Step mode: every instruction stepped and recorded with its memory
// accesses; with --interval also the boundaries' registers and each
// interval's pages.
class JsonlSink : public TraceSink {
 public:
  explicit JsonlSink(std::ostream* out) : out_(out) {}
  void on_record(const TraceRecord& r) override {
    if (out_) *out_ << encode(r) << '\n';
  }

 private:
  std::ostream* out_;
};

int run_step_trace(const TraceOptions& o) {
  if (o.pid) {
    print_error("--mode step counts from the program's first instruction: it cannot be used with -p");
    return 2;
  }
  if (!o.at.empty()) {
    print_error("--at and --mode step cannot be combined (step mode records every position)");
    return 2;
  }
  std::unique_ptr<OutputFile> out;
  if (!open_output(o, out)) return 1;
  catch_interrupts();
  JsonlSink sink(out ? &out->stream() : nullptr);
  StepOptions so;
  so.argv = o.argv;
  so.interval = o.interval;
  so.allow_unknown = o.allow_unknown;
  so.no_aslr = o.no_aslr;
  so.interrupted = &g_interrupted;
  const bool tty = isatty(STDERR_FILENO);
  if (tty)
    so.progress = [](uint64_t n) {
      std::fprintf(stderr, "\rstepping: %llu instructions", static_cast<unsigned long long>(n));
    };
  auto result = trace_steps(so, sink);
  if (tty) std::fputs("\r\033[K", stderr);
  if (!result) {
    print_error(result.error().message());
    return 1;
  }
  if (out)
    if (auto st = out->commit(); !st) {
      print_error(st.error().message());
      return 1;
    }
  std::fprintf(stderr, "hwslice: stepped %llu instructions (%s), %llu syscalls; %llu breakpoint traps, %llu emulated "
               "jumps",
               static_cast<unsigned long long>(result->instructions), result->exact ? "exact" : "NOT exact: a signal "
               "came inside an LR/SC sequence or a syscall's step", static_cast<unsigned long long>(result->syscalls),
               static_cast<unsigned long long>(result->traps), static_cast<unsigned long long>(result->emulated));
  if (result->hardware)
    std::fprintf(stderr, "; hardware instructions:u %llu", static_cast<unsigned long long>(*result->hardware));
  if (result->signals)
    std::fprintf(stderr, "; %llu signals stepped into their handlers", static_cast<unsigned long long>(result->signals));
  std::fputc('\n', stderr);
  if (result->exit.signal) return 128 + result->exit.signal;
  return result->exit.status;
}

int run_trace(const TraceOptions& o) {
  if (o.mode != "pages" && o.mode != "step") {
    print_error("--mode must be pages or step");
    return 2;
  }
  if (o.keep_pages && (o.mode == "step" || !o.interval)) {
    print_error("--keep-pages is for page tracking: use it with --interval N in page mode");
    return 2;
  }
  if (o.fault_around_given && (o.mode == "step" || !o.interval)) {
    print_error("--fault-around is for page tracking: use it with --interval N in page mode");
    return 2;
  }
  if (o.mode == "step") {
    if (int rc = check_program_arg(o.argv, "hwslice trace --mode step [--interval N] -- PROG [ARGS...]")) return rc;
    return run_step_trace(o);
  }
  if (o.interval) {
    if (int rc = check_program_arg(o.argv, "hwslice trace --interval N -- PROG [ARGS...]")) return rc;
    if (!o.at.empty()) {
      print_error("--at and --interval cannot be combined");
      return 2;
    }
    return run_interval_trace(o);
  }
  if (o.pid == 0 && o.argv.empty()) {
    print_error("no program given (hwslice trace [OPTIONS] -- PROG [ARGS...] or -p PID)");
    return 2;
  }
  const unsigned options = PTRACE_O_TRACESYSGOOD | (o.pid ? 0 : PTRACE_O_EXITKILL);
  if (!o.pid)
    if (int rc = check_program_arg(o.argv, "hwslice trace [OPTIONS] -- PROG [ARGS...]")) return rc;
  if (o.pid && !o.at.empty()) {
    print_error("--at counts from the program's first instruction: it cannot be used with -p");
    return 2;
  }
  Result<Tracee> tracee = o.pid ? Tracee::attach(o.pid, options) : Tracee::spawn(o.argv, options, o.no_aslr);
  if (!tracee) {
    print_error(tracee.error().message());
    return 1;
  }

  catch_interrupts();
  std::unique_ptr<OutputFile> out;
  if (!open_output(o, out)) return 1;
  CliSink sink(*tracee, o, out ? &out->stream() : nullptr);
  if (!o.at.empty()) {
    int rc = run_positions(*tracee, o, sink);
    if (out && tracee->alive() == false) {
      if (auto st = out->commit(); !st) {
        print_error(st.error().message());
        return 1;
      }
    }
    return rc;
  }
  SyscallTracerOptions topt;
  topt.allow_unknown = o.allow_unknown;
  topt.interrupted = &g_interrupted;
  if (o.stack) {
    topt.stack = [](pid_t pid) { return walk_stack(pid); };
    topt.on_stack = [&sink](const std::vector<std::string>& frames) { sink.set_stack(frames); };
  }
  SyscallTracer tracer(*tracee, sink, topt);
  auto result = tracer.run();
  if (!result) {
    print_error(result.error().message());
    return 1;  // the partial output file is removed by ~OutputFile
  }
  if (out) {
    if (auto st = out->commit(); !st) {
      print_error(st.error().message());
      return 1;
    }
  }
  if (o.summary) std::fputs(sink.summary().table().c_str(), stderr);
  if (!o.summary_json.empty()) {
    auto f = OutputFile::create(o.summary_json);
    if (!f) {
      print_error(f.error().message());
      return 1;
    }
    (*f)->stream() << sink.summary().to_json().dump(2) << "\n";
    if (auto st = (*f)->commit(); !st) {
      print_error(st.error().message());
      return 1;
    }
  }
  // Report the end like a shell: the exit code, or the fatal signal.
  if (result->signal) {
    std::fprintf(stderr, "hwslice: %s killed by %s%s\n", o.pid ? std::to_string(o.pid).c_str() : o.argv[0].c_str(),
                 signal_name(result->signal).c_str(), result->core ? " (core dumped)" : "");
    return 128 + result->signal;
  }
  return result->status;
}

#else

int run_trace(const TraceOptions&) {
  print_error("trace runs on riscv64 Linux (a board or board/vboard)");
  return 1;
}

#endif

}  // namespace

void add_trace_command(CLI::App& app, std::function<int()>& run) {
  auto o = std::make_shared<TraceOptions>();
  auto* cmd = app.add_subcommand("trace", "Run a program under trace and record every syscall with its memory effects");
  cmd->add_option("-o,--output", o->output, "Write the trace as JSON Lines to FILE (written atomically)");
  cmd->add_flag("--syscalls", o->syscalls, "Print an strace-like line per syscall on stderr");
  cmd->add_flag("--summary", o->summary, "Print a table of calls, errors, time and bytes written on stderr");
  cmd->add_option("--summary-json", o->summary_json, "Write the summary as JSON to FILE");
  cmd->add_flag("--stack", o->stack, "Print the call stack at every syscall (with --syscalls)");
  cmd->add_flag("--allow-unknown", o->allow_unknown,
                "Record syscalls with unmodeled memory effects as notes instead of failing");
  cmd->add_option("-p,--pid", o->pid, "Attach to a running process instead of starting one");
  // One value per --at, so "--at K PROG" does not read PROG as a number.
  cmd->add_option("--at", o->at,
                  "Stop at user instruction K (counted from the first instruction; repeatable), print and record "
                  "the registers, then let the program finish untraced")
      ->expected(1)
      ->take_all();
  cmd->add_flag("--no-aslr", o->no_aslr, "Run the program without address space randomization");
  cmd->add_option("--position-mode", o->position_mode,
                  "How --at positions are reached: auto (default: the best this board allows), overflow (counted "
                  "fast-forward with counter-overflow stops, then stepping), count (counted fast-forward with "
                  "timer stops, then stepping), block (stepped all the way, straight-line runs at a time) or "
                  "single (every instruction stepped on its own)")
      ->capture_default_str();
  cmd->add_option("--interval", o->interval,
                  "Track touched pages per interval of N instructions: records the registers at every boundary "
                  "and each interval's pages (kind and content digest)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--keep-pages", o->keep_pages,
                  "With --interval: pages an interval faulted on stay open for N more intervals and are reported "
                  "in those too, N more again while they keep changing (fewer faults; the reported pages are then "
                  "a superset: each was touched in its interval or the N before)");
  auto* around = cmd->add_option("--fault-around", o->fault_around,
                                  "With --interval: a data fault also opens the pages of its aligned block of N "
                                  "pages that the interval before used, and they are reported "
                                  "(fewer faults; each reported page was touched in its interval or the one before; "
                                  "0 or 1: off)")
                     ->capture_default_str();
  cmd->add_option("--mode", o->mode,
                  "pages (default: syscalls, and with --interval the pages each interval touches) or step (every "
                  "instruction stepped and recorded with the bytes it read and wrote: exact and slow)");
  cmd->add_option("program", o->argv, "Program and arguments (after --; see below)");
  cmd->footer("The program and its arguments follow \"--\": hwslice trace [OPTIONS] -- PROG [ARGS...]");
  cmd->callback([&run, o, around] {
    o->fault_around_given = around->count() > 0;
    // Arguments after "--" are the program's own; main() keeps them away
    // from CLI11 so none is mistaken for an option of hwslice.
    if (!program_args().empty()) o->argv = program_args();
    run = [o] { return run_trace(*o); };
  });
}

}  // namespace hwslice::cli
