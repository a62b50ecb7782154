// hwslice doctor: checks, for real, what the tracer can use on this machine.
#include <sys/utsname.h>

#include <cstdio>
#include <iostream>

#include "cli/command.h"
#include "doctor/capability_report.h"
#include "version.h"
#if defined(__riscv) && defined(__linux__)
#include "doctor/capability_probe.h"
#endif

namespace hwslice::cli {

void add_doctor_command(CLI::App& app, std::function<int()>& run) {
  auto* cmd = app.add_subcommand("doctor", "Check what the tracer can use on this board (ptrace, stepping, counters)");
  auto json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *json, "Print the report as JSON");
  cmd->callback([&run, json] {
    run = [json]() -> int {
#if defined(__riscv) && defined(__linux__)
      CapabilityReport report = probe_capabilities(HWSLICE_VERSION);
      if (*json)
        std::cout << to_json(report).dump(2) << "\n";
      else
        std::cout << to_table(report);
      // Failed checks (a probe that broke) make the command fail; a capability
      // that is merely unavailable is an answer, not an error.
      for (const auto& c : report.checks)
        if (c.state == CheckState::kFailed) {
          print_error("check '" + c.id + "' failed: " + c.detail);
          return 1;
        }
      return 0;
#else
      utsname u{};
      ::uname(&u);
      print_error(std::string("doctor checks a riscv64 Linux machine; this is ") + u.machine +
                  " (run it on a board or in board/vboard)");
      (void)json;
      return 1;
#endif
    };
  });
}

}  // namespace hwslice::cli
