// The hwslice command line: one file per subcommand, each registering itself
// on the CLI11 app and returning a process exit status when run.
//
// Contract: a command prints its results on stdout, diagnostics on stderr,
// and every user-caused failure as exactly one "hwslice: error: ..." line
// (print_error) with a non-zero exit status.
#pragma once

#include <CLI/CLI.hpp>
#include <functional>
#include <string>
#include <vector>

namespace hwslice::cli {

// Registers a subcommand; `run` is set to the function main() calls when the
// subcommand was chosen.
void add_doctor_command(CLI::App& app, std::function<int()>& run);
void add_trace_command(CLI::App& app, std::function<int()>& run);
void add_slice_command(CLI::App& app, std::function<int()>& run);
void add_verify_command(CLI::App& app, std::function<int()>& run);
void add_run_command(CLI::App& app, std::function<int()>& run);

void print_error(const std::string& message);

// Checks the program a command is to start (argv[0], found on PATH like a
// shell would): 0 when it can run, else the exit status after printing the
// error (2: none given, with `usage`; 127: not runnable, as a shell).
int check_program_arg(const std::vector<std::string>& argv, const std::string& usage);

// The words after the first "--" on the command line (a traced program and
// its arguments), which main() does not give to CLI11.
const std::vector<std::string>& program_args();

}  // namespace hwslice::cli
