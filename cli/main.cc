// hwslice: the thin executable. Parses the command line and hands over to
// one subcommand; all work happens in the layer libraries
// (docs/architecture.md).
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "cli/command.h"
#include "doctor/program_check.h"
#include "version.h"

namespace hwslice::cli {

void print_error(const std::string& message) { std::fprintf(stderr, "hwslice: error: %s\n", message.c_str()); }

int check_program_arg(const std::vector<std::string>& argv, const std::string& usage) {
  if (argv.empty()) {
    print_error("no program given (" + usage + ")");
    return 2;
  }
  const char* path = std::getenv("PATH");
  auto resolved = check_program(argv[0], path ? path : "/usr/bin:/bin");
  if (!resolved) {
    print_error(resolved.error().message());
    return 127;
  }
  return 0;
}

namespace {
std::vector<std::string> g_program_args;
}

const std::vector<std::string>& program_args() { return g_program_args; }

}  // namespace hwslice::cli

int main(int argc, char** argv) {
  CLI::App app{"hwslice: native process slicer for RISC-V Linux"};
  bool version = false;
  app.add_flag("--version", version, "Print the version and exit");
  std::function<int()> run;
  hwslice::cli::add_doctor_command(app, run);
  hwslice::cli::add_trace_command(app, run);
  hwslice::cli::add_slice_command(app, run);
  hwslice::cli::add_verify_command(app, run);
  hwslice::cli::add_run_command(app, run);
  auto known = [&app](const std::string& name) {
    for (const CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; }))
      if (sub->get_name() == name) return true;
    return false;
  };
  if (argc > 1 && argv[1][0] != '-' && !known(argv[1])) {
    hwslice::cli::print_error(std::string("unknown command '") + argv[1] + "' (see hwslice --help)");
    return 2;
  }
  // Everything after the first "--" belongs to the traced program: CLI11
  // would otherwise still match some of it against options.
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--") {
      hwslice::cli::g_program_args.assign(argv + i + 1, argv + argc);
      argc = i;
      break;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    hwslice::cli::print_error(std::string(e.what()) + " (see hwslice --help)");
    return 2;
  }
  if (version) {
    std::printf("hwslice %s (%s)\n", HWSLICE_VERSION, HWSLICE_BUILD_TARGET);
    return 0;
  }
  if (!run) {
    hwslice::cli::print_error("no command given (see hwslice --help)");
    return 2;
  }
  return run();
}
