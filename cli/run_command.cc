// hwslice run: run one slice, show its counter report, check its end state.
#include <cstdio>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/command.h"
#include "slicer/slice_runner.h"

namespace hwslice::cli {
namespace {

struct RunOptions {
  std::string slice;
  bool json = false;
  std::string runner;
  double timeout = 300;
};

int run_one(const RunOptions& o) {
  auto config = read_slice_config(o.slice);
  if (!config) {
    print_error(config.error().message());
    return 2;
  }
  // The slice's own report goes to stderr as it runs (unless --json).
  auto r = run_slice(o.slice, runner_words(o.runner), o.json, o.timeout);
  if (!r) {
    print_error(r.error().message());
    return 1;
  }
  (void)!std::fwrite(r->out.data(), 1, r->out.size(), stdout);
  const SliceStats& s = r->stats;
  const uint64_t expected = config->end - config->start;
  const bool ok = s.present && s.status == "ok" && r->exit_code == 0;
  if (o.json) {
    nlohmann::json j = {{"slice", o.slice},         {"ok", ok},
                        {"start", config->start},   {"end", config->end},
                        {"expected_instructions", expected},
                        {"instructions", s.instructions}, {"cycles", s.cycles},
                        {"counters", s.counters},   {"runtime_instructions", s.overhead_instructions},
                        {"status", s.status},       {"regs_match", s.regs_match},
                        {"digest_match", s.digest_match}, {"exit_code", r->exit_code}, {"timed_out", r->timed_out}};
    std::printf("%s\n", j.dump(2).c_str());
  } else if (!s.present && !r->timed_out) {
    std::fprintf(stderr, "hwslice: %s reported nothing (exit status %d, signal %d)\n", o.slice.c_str(), r->exit_code,
                 r->signal);
  }
  if (!ok && !o.json) {
    char timeout[64];
    std::snprintf(timeout, sizeof timeout, "did not end within %g s (killed)", o.timeout);
    print_error(o.slice + ": " +
                (r->timed_out ? std::string(timeout)
                 : s.present  ? s.status + (s.detail.empty() ? "" : " (" + s.detail + ")")
                              : "no report"));
  }
  return ok ? 0 : 1;
}

}  // namespace

void add_run_command(CLI::App& app, std::function<int()>& run) {
  auto o = std::make_shared<RunOptions>();
  auto* cmd = app.add_subcommand("run", "Run one slice and report its counters and end state");
  cmd->add_option("slice", o->slice, "The slice file")->required();
  cmd->add_flag("--json", o->json, "Print the result as JSON (the slice's own report is silenced)");
  cmd->add_option("--runner", o->runner, "Run the slice through this command (e.g. qemu-riscv64)");
  cmd->add_option("--timeout", o->timeout, "Kill the slice if still running after SECONDS (default 300)")
      ->check(CLI::PositiveNumber);
  cmd->callback([&run, o] { run = [o] { return run_one(*o); }; });
}

}  // namespace hwslice::cli
