// hwslice verify: run every slice of a manifest (or the slices given) and
// check each against what the trace recorded: it ends by its end mechanism,
// retires exactly end - start program instructions where the counters are
// user-only and exact, ends with the recorded registers and written-memory
// digest, and writes the recorded stdout/stderr bytes.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "slicer/manifest.h"
#include "slicer/slice_runner.h"
#include "slicer/slice_verdict.h"
#include "record/trace_record.h"

namespace hwslice::cli {
namespace {

struct VerifyOptions {
  std::vector<std::string> inputs;
  bool json = false;
  unsigned repeat = 1;
  std::string runner;
  double timeout = 300;
};

int run_verify(const VerifyOptions& o) {
  if (o.inputs.empty()) {
    print_error("nothing to verify (hwslice verify P.manifest.json | SLICE...)");
    return 2;
  }
  std::vector<SliceExpectation> todo;
  const bool manifest_given = o.inputs.size() == 1 && o.inputs[0].size() > 5 &&
                              o.inputs[0].compare(o.inputs[0].size() - 5, 5, ".json") == 0;
  if (manifest_given) {
    auto m = read_manifest_file(o.inputs[0]);
    if (!m) {
      print_error(m.error().message());
      return 2;
    }
    const size_t slash = o.inputs[0].rfind('/');
    const std::string dir = slash == std::string::npos ? "" : o.inputs[0].substr(0, slash + 1);
    for (const ManifestSlice& s : m->slices) {
      SliceExpectation e;
      e.path = s.file.find('/') == 0 ? s.file : dir + s.file;
      e.label = s.file;
      e.start = s.start;
      e.end = s.end;
      e.exact = s.exact;
      e.digest = s.digest;
      e.out = s.stdout_bytes;
      e.err = s.stderr_bytes;
      e.size = s.size;
      todo.push_back(e);
    }
  } else {
    for (const std::string& p : o.inputs) {
      SliceExpectation e;
      e.path = p;
      e.label = p;
      todo.push_back(e);
    }
  }
  // Check every file before running any: a stale or foreign slice is an
  // input error, not a failed verification.
  for (SliceExpectation& e : todo) {
    auto c = read_slice_config(e.path);
    if (!c) {
      print_error(c.error().message());
      return 2;
    }
    if (manifest_given) {
      if (c->start != e.start || c->end != e.end) {
        print_error(e.path + " covers instructions " + std::to_string(c->start) + "-" + std::to_string(c->end) +
                    " but the manifest says " + std::to_string(e.start) + "-" + std::to_string(e.end) +
                    ": slice and manifest are from different runs");
        return 2;
      }
      if (c->expected_digest != *e.digest) {
        print_error(e.path + " is not the slice the manifest describes (its memory digest differs): slice and "
                    "manifest are from different runs or programs");
        return 2;
      }
    } else {
      e.start = c->start;
      e.end = c->end;
      e.exact = c->flags & HWS_F_EXACT;
      e.digest = c->expected_digest;
    }
  }

  const std::vector<std::string> runner = runner_words(o.runner);
  std::vector<SliceVerdict> verdicts;
  bool all_ok = true;
  for (const SliceExpectation& e : todo) {
    SliceVerdict last;
    for (unsigned k = 0; k < std::max(1u, o.repeat); ++k) {
      auto r = run_slice(e.path, runner, true, o.timeout);
      if (!r) {
        print_error(r.error().message());
        return 1;
      }
      SliceVerdict v = judge(e, *r);
      if (k > 0 && v.run.stats.instructions != last.run.stats.instructions && v.run.stats.counters == "user") {
        v.ok = false;
        v.problems.push_back("run " + std::to_string(k + 1) + " retired " + std::to_string(v.run.stats.instructions) +
                             " instructions, run 1 " + std::to_string(last.run.stats.instructions));
      }
      const bool was_ok = k == 0 || last.ok;
      last = v;
      last.ok = last.ok && was_ok;
      if (!last.ok) break;
    }
    all_ok = all_ok && last.ok;
    verdicts.push_back(last);
  }

  if (o.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const SliceVerdict& v : verdicts) {
      const SliceStats& s = v.run.stats;
      out.push_back({{"slice", v.e.label},
                     {"ok", v.ok},
                     {"start", v.e.start},
                     {"end", v.e.end},
                     {"expected_instructions", v.e.end - v.e.start},
                     {"instructions", s.instructions},
                     {"cycles", s.cycles},
                     {"ipc", s.cycles ? static_cast<double>(s.instructions) / static_cast<double>(s.cycles) : 0.0},
                     {"counters", s.counters},
                     {"count_check", v.counted},
                     {"end_kind", s.end},
                     {"hits", s.hits},
                     {"traps", s.traps},
                     {"end_traps", s.end_traps},
                     {"region_ns", s.region_ns},
                     {"runtime_instructions", s.overhead_instructions},
                     {"regs_match", s.regs_match},
                     {"digest_match", s.digest_match},
                     {"problems", v.problems}});
    }
    std::printf("%s\n", out.dump(2).c_str());
  } else {
    std::printf("%-32s %12s %12s %-22s %6s %-8s %6s %-6s %9s\n", "slice", "instructions", "expected", "count", "IPC",
                "end", "traps", "state", "bytes");
    for (const SliceVerdict& v : verdicts) {
      const SliceStats& s = v.run.stats;
      char ipc[16] = "-";
      if (s.cycles) std::snprintf(ipc, sizeof ipc, "%.2f", static_cast<double>(s.instructions) / static_cast<double>(s.cycles));
      std::string size = v.e.size ? std::to_string(*v.e.size) : "-";
      // Traps: the end's / all the runtime took (a counted end's hits trap
      // twice: the hit and the re-arm after it).
      const std::string traps = std::to_string(s.end_traps) + "/" + std::to_string(s.traps);
      std::printf("%-32s %12llu %12llu %-22s %6s %-8s %6s %-6s %9s\n", v.e.label.c_str(),
                  static_cast<unsigned long long>(s.instructions), static_cast<unsigned long long>(v.e.end - v.e.start),
                  v.counted.c_str(), ipc, s.end.empty() ? "-" : s.end.c_str(), traps.c_str(), v.ok ? "ok" : "FAIL",
                  size.c_str());
      for (const std::string& p : v.problems) std::printf("    %s\n", p.c_str());
    }
    size_t bad = 0;
    std::vector<uint64_t> end_traps;
    for (const SliceVerdict& v : verdicts) {
      bad += v.ok ? 0 : 1;
      if (v.run.stats.present) end_traps.push_back(v.run.stats.end_traps);
    }
    std::string traps;
    if (!end_traps.empty()) {
      std::sort(end_traps.begin(), end_traps.end());
      traps = "; kernel traps for the end: median " + std::to_string(end_traps[end_traps.size() / 2]) + ", max " +
              std::to_string(end_traps.back());
    }
    std::printf("%zu slices, %zu passed, %zu failed%s\n", verdicts.size(), verdicts.size() - bad, bad, traps.c_str());
  }
  return all_ok ? 0 : 1;
}

}  // namespace

void add_verify_command(CLI::App& app, std::function<int()>& run) {
  auto o = std::make_shared<VerifyOptions>();
  auto* cmd = app.add_subcommand("verify", "Run slices and check them against the recorded trace and the counters");
  cmd->add_option("inputs", o->inputs, "P.manifest.json, or slice files")->required();
  cmd->add_flag("--json", o->json, "Print the results as JSON");
  cmd->add_option("--repeat", o->repeat, "Run every slice K times (counts must repeat)")->check(CLI::PositiveNumber);
  cmd->add_option("--runner", o->runner, "Run slices through this command (e.g. qemu-riscv64)");
  cmd->add_option("--timeout", o->timeout, "Kill a slice still running after SECONDS and count it as failed (default 300)")
      ->check(CLI::PositiveNumber);
  cmd->callback([&run, o] { run = [o] { return run_verify(*o); }; });
}

}  // namespace hwslice::cli
