// hwslice slice: trace a program with page tracking (--mode pages) or by
// stepping every instruction (--mode step), cut it into intervals and write
// each (or each SimPoint-chosen one) as a self-executing slice, plus
// P.manifest.json. Files appear complete or not at all: on any error or
// Ctrl-C every slice written by this run is removed and no manifest is
// written.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>

#include "cli/command.h"
#include "cli/output_file.h"
#include "runtime/runtime_image.h"
#include "slicer/manifest.h"
#include "slicer/simpoint.h"
#include "slicer/slice_check.h"
#include "slicer/slice_writer.h"
#include "doctor/program_check.h"
#include "version.h"
#if defined(__riscv)
#include "capture/interval_tracer.h"
#include "capture/step_slicer.h"
#endif

namespace hwslice::cli {
namespace {

struct SliceOptions {
  uint64_t interval = 0;
  std::string prefix;
  std::string mode = "pages";
  std::string simpoints, weights;
  uint64_t warmup = 0;
  unsigned keep_pages = 0;
  unsigned fault_around = 1024;
  bool fault_around_given = false;
  bool allow_unknown = false;
  bool json = false;
  std::vector<std::string> argv;
};

#if defined(__riscv)

std::atomic<bool> g_interrupted{false};
void on_interrupt(int) { g_interrupted = true; }

std::string base_name(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

int run_slice_command(const SliceOptions& o) {
  if (int rc = check_program_arg(o.argv, "hwslice slice --interval N --output-prefix P -- PROG [ARGS...]")) return rc;
  if (o.mode != "pages" && o.mode != "step") {
    print_error("--mode must be pages or step");
    return 2;
  }
  if (o.keep_pages && o.mode == "step") {
    print_error("--keep-pages is for page mode (step mode records only the bytes used)");
    return 2;
  }
  if (o.simpoints.empty() != o.weights.empty()) {
    print_error("--simpoints and --weights go together");
    return 2;
  }
  if (o.keep_pages && !o.simpoints.empty()) {
    print_error("--keep-pages has no effect with --simpoints: every chosen interval starts with all pages protected");
    return 2;
  }
  if (o.fault_around_given && o.mode == "step") {
    print_error("--fault-around is for page mode (step mode records only the bytes used)");
    return 2;
  }
  if (o.fault_around_given && o.fault_around > 1 && !o.simpoints.empty()) {
    print_error("--fault-around has no effect with --simpoints: a chosen interval has no recorded interval before it");
    return 2;
  }
  std::vector<SimPoint> points;
  std::map<uint64_t, double> weight_of;
  IntervalOptions io;
  io.argv = o.argv;
  io.interval = o.interval;
  io.warmup = o.warmup;
  io.keep_pages = o.keep_pages;
  io.fault_around = o.fault_around;
  io.allow_unknown = o.allow_unknown;
  io.interrupted = &g_interrupted;
  if (!o.simpoints.empty()) {
    auto p = read_simpoint_files(o.simpoints, o.weights);
    if (!p) {
      print_error(p.error().message());
      return 2;
    }
    points = *p;
    for (const SimPoint& s : points) {
      io.wanted.insert(s.interval);
      weight_of[s.interval] = s.weight;
    }
  }

  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  Manifest manifest;
  manifest.hwslice_version = HWSLICE_VERSION;
  manifest.program = o.argv[0];
  manifest.interval = o.interval;
  manifest.mode = o.mode;
  manifest.warmup = o.warmup;
  manifest.simpoints = o.simpoints;
  std::vector<std::string> written;
  std::vector<SliceSummary> summaries;
  std::vector<size_t> page_counts;
  auto chosen = io.wanted.begin();
  const bool tty = ::isatty(2);
  io.progress = [tty](uint64_t pos, uint64_t n) {
    if (tty) std::fprintf(stderr, "\rhwslice: slicing: position %.1fM, %llu slices  ", static_cast<double>(pos) / 1e6,
                          static_cast<unsigned long long>(n));
  };
  // Counted ends whose pass a run of the slice measured, and of those the
  // ones that needed every pass checked to learn it (slicer/slice_check.h).
  uint64_t measured = 0, every_pass = 0;
  auto on_slice = [&](SliceSpec&& spec) -> Status {
    const std::string file = o.prefix + std::to_string(spec.start) + "-" + std::to_string(spec.end) + ".exe";
    auto checked = write_slice_checked(spec, runtime::image(), file + ".check");
    if (!checked) return checked.error().wrap("slice " + std::to_string(spec.start) + "-" + std::to_string(spec.end));
    every_pass += checked->every_pass ? 1 : 0;
    measured += checked->end_pass ? 1 : 0;
    SliceFile* slice = &checked->file;
    auto out = OutputFile::create(file);
    if (!out) return out.error();
    (*out)->set_executable();
    (*out)->stream().write(reinterpret_cast<const char*>(slice->bytes.data()),
                           static_cast<std::streamsize>(slice->bytes.size()));
    HWSLICE_TRY((*out)->commit());
    written.push_back(file);
    std::optional<double> weight;
    if (chosen != io.wanted.end()) weight = weight_of[*chosen++];
    manifest.slices.push_back(manifest_slice(spec, *slice, base_name(file), weight));
    summaries.push_back(slice->summary);
    page_counts.push_back(spec.pages.size());
    return ok_status();
  };
  auto remove_written = [&] {
    for (const std::string& f : written) ::unlink(f.c_str());
  };

  auto result = o.mode == "step" ? trace_step_intervals(io, on_slice) : trace_intervals(io, on_slice);
  if (tty) std::fprintf(stderr, "\r%60s\r", "");
  if (!result) {
    remove_written();
    print_error(g_interrupted ? "interrupted: no slices written" : result.error().message());
    return 1;
  }
  if (!io.wanted.empty() && manifest.slices.size() < io.wanted.size()) {
    remove_written();
    auto missing = io.wanted.begin();
    std::advance(missing, static_cast<long>(manifest.slices.size()));
    const uint64_t start = *missing * o.interval;
    const std::string head = "SimPoint interval " + std::to_string(*missing) + " starts at instruction " +
                             std::to_string(start) + ", ";
    const std::string total = " (" + std::to_string(result->instructions) + " instructions)";
    if (result->instructions > start)
      // Reached, but no stop came between its start and the program's end
      // (the tracer did not get the CPU in time: see trace_intervals).
      print_error(head + "and the program ran from before it to its end" + total +
                  " without a stop to start a slice at" +
                  (result->realtime ? "; the tracer did not get the CPU in time, try again"
                                    : "; run hwslice as root (or with an RLIMIT_RTPRIO), so that the tracer can take "
                                      "real-time priority"));
    else
      print_error(head + "past the program's end" + total + ": is " + o.simpoints +
                  " for this program and interval length?");
    return 1;
  }
  const std::string manifest_path = o.prefix + "manifest.json";
  {
    auto out = OutputFile::create(manifest_path);
    Status st = out ? ok_status() : Status(out.error());
    if (st) {
      (*out)->stream() << encode_manifest(manifest);
      st = (*out)->commit();
    }
    if (!st) {
      remove_written();
      print_error(st.error().message());
      return 1;
    }
  }
  if (o.json) {
    std::printf("%s", encode_manifest(manifest).c_str());
  } else {
    std::printf("%-32s %12s %12s %12s %6s %6s %9s\n", "slice", "start", "end", "instructions", "pages", "calls", "bytes");
    for (size_t i = 0; i < manifest.slices.size(); ++i) {
      const ManifestSlice& s = manifest.slices[i];
      std::printf("%-32s %12llu %12llu %12llu %6zu %6llu %9llu\n", s.file.c_str(),
                  static_cast<unsigned long long>(s.start), static_cast<unsigned long long>(s.end),
                  static_cast<unsigned long long>(s.instructions), page_counts[i],
                  static_cast<unsigned long long>(s.replayed_calls), static_cast<unsigned long long>(s.size));
    }
    if (o.mode == "step")
      std::printf("%zu slices, manifest %s; positions exact (every instruction stepped: %llu)\n",
                  manifest.slices.size(), manifest_path.c_str(), static_cast<unsigned long long>(result->instructions));
    else
      std::printf("%zu slices, manifest %s; positions %s (counter: %s); %llu page faults (%llu pages opened "
                  "with them), %llu timer stops\n",
                  manifest.slices.size(), manifest_path.c_str(), result->exact ? "exact" : "estimated",
                  result->counter.c_str(), static_cast<unsigned long long>(result->faults),
                  static_cast<unsigned long long>(result->opened_around),
                  static_cast<unsigned long long>(result->timer_stops));
    if (!io.wanted.empty() && o.mode != "step")
      std::printf("%llu of %zu chosen intervals started at exactly their position (%llu instructions stepped to "
                  "reach them, in %llu counted hops)%s\n",
                  static_cast<unsigned long long>(result->exact_starts), manifest.slices.size(),
                  static_cast<unsigned long long>(result->stepped), static_cast<unsigned long long>(result->hops),
                  result->exact ? "" : "; without user-only counting a start is the first stop at or after it");
    if (result->counter_reads)
      std::printf("%llu counter reads (rdtime/rdcycle/rdinstret) recorded for replay\n",
                  static_cast<unsigned long long>(result->counter_reads));
  }
  if (measured) {
    std::printf("%llu counted ends end at the pass one run of the slice measured",
                static_cast<unsigned long long>(measured));
    if (every_pass)
      std::printf(" (%llu of them learnt it with every pass checked: their program's passes thinned out towards the "
                  "end)",
                  static_cast<unsigned long long>(every_pass));
    std::printf("\n");
  }
  if (result->signals)
    std::printf("%llu signals delivered to the program's handlers\n", static_cast<unsigned long long>(result->signals));
  // The program's own exit status (128 + signal when a signal ended it), as
  // `hwslice trace` and a shell report it.
  if (result->exit.signal) return 128 + result->exit.signal;
  return result->exit.status;
}

#else

int run_slice_command(const SliceOptions&) {
  print_error("slice runs on riscv64 Linux (a board or board/vboard)");
  return 1;
}

#endif

}  // namespace

void add_slice_command(CLI::App& app, std::function<int()>& run) {
  auto o = std::make_shared<SliceOptions>();
  auto* cmd = app.add_subcommand("slice", "Cut a program's execution into self-executing slices");
  cmd->add_option("--interval", o->interval, "Instructions per interval (N)")->required()->check(CLI::PositiveNumber);
  cmd->add_option("--output-prefix", o->prefix, "Slices are written as PREFIX<start>-<end>.exe, plus PREFIXmanifest.json")
      ->required();
  cmd->add_option("--mode", o->mode, "pages (touched pages, default) or step (used bytes)");
  cmd->add_option("--simpoints", o->simpoints, "Slice only the intervals chosen in this SimPoint 3.2 .simpoints file");
  cmd->add_option("--weights", o->weights, "The SimPoint .weights file that goes with --simpoints");
  cmd->add_option("--warmup", o->warmup, "With --simpoints: start each slice this many instructions early");
  cmd->add_option("--keep-pages", o->keep_pages,
                  "Page mode: pages an interval faulted on stay open for N more intervals, N more again while "
                  "they keep changing (faster tracing; a slice may then hold pages it does not use)");
  auto* around = cmd->add_option("--fault-around", o->fault_around,
                                  "Page mode: a data fault also opens the pages of its aligned block of N pages "
                                  "that the interval before used (fewer faults; each such "
                                  "page was touched in its interval or the one before; 0 or 1: off)")
                     ->capture_default_str();
  cmd->add_flag("--allow-unknown", o->allow_unknown, "Record syscalls with unmodeled memory effects instead of failing");
  cmd->add_flag("--json", o->json, "Print the manifest as JSON instead of the table");
  cmd->add_option("program", o->argv, "Program and arguments (after --)");
  cmd->footer("The program and its arguments follow \"--\": hwslice slice [OPTIONS] -- PROG [ARGS...]");
  cmd->callback([&run, o, around] {
    o->fault_around_given = around->count() > 0;
    if (!program_args().empty()) o->argv = program_args();
    run = [o] { return run_slice_command(*o); };
  });
}

}  // namespace hwslice::cli
