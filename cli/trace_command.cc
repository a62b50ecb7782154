// hwslice trace: runs a program (or attaches to one) under ptrace and
// records every syscall with the exact memory the kernel wrote.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "cli/command.h"
#include "cli/output_file.h"
#include "tracer/syscall_format.h"
#include "tracer/trace_record.h"
#if defined(__riscv) && defined(__linux__)
#include <sys/ptrace.h>

#include "tracer/program_check.h"
#include "tracer/stack_walker.h"
#include "tracer/syscall_table.h"
#include "tracer/syscall_tracer.h"
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

int run_trace(const TraceOptions& o) {
  if (o.pid == 0 && o.argv.empty()) {
    print_error("no program given (hwslice trace [OPTIONS] -- PROG [ARGS...] or -p PID)");
    return 2;
  }
  const unsigned options = PTRACE_O_TRACESYSGOOD | (o.pid ? 0 : PTRACE_O_EXITKILL);
  if (!o.pid) {
    const char* path = std::getenv("PATH");
    auto resolved = check_program(o.argv[0], path ? path : "/usr/bin:/bin");
    if (!resolved) {
      print_error(resolved.error().message());
      return 127;
    }
  }
  Result<Tracee> tracee = o.pid ? Tracee::attach(o.pid, options) : Tracee::spawn(o.argv, options);
  if (!tracee) {
    print_error(tracee.error().message());
    return 1;
  }

  // SIGINT/SIGTERM end tracing cleanly (detach or kill), without SA_RESTART
  // so a blocked waitpid returns.
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  std::unique_ptr<OutputFile> out;
  if (!o.output.empty()) {
    auto f = OutputFile::create(o.output);
    if (!f) {
      print_error(f.error().message());
      return 1;
    }
    out = std::move(*f);
  }
  CliSink sink(*tracee, o, out ? &out->stream() : nullptr);
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
  cmd->add_option("program", o->argv, "Program and arguments (after --)");
  cmd->callback([&run, o] { run = [o] { return run_trace(*o); }; });
}

}  // namespace hwslice::cli
