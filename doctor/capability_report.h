// CapabilityReport: what the tracer can use on this machine, each item
// measured by a real check (see capability_probe.h), and what follows for
// slicing. `hwslice doctor` prints it; the tracer chooses its mechanisms
// (position mode, counters) from the same report.
//
// Contract: plain data plus formatting; portable and unit-tested on x86.
// Check ids are stable strings ("perf.user_only"); the JSON form is the
// machine-readable contract (documented in docs/doctor.md).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace hwslice {

enum class CheckState { kOk, kUnavailable, kFailed };

std::string_view to_string(CheckState s);

struct Check {
  std::string id;           // stable identifier, e.g. "ptrace.syscall_info"
  std::string title;        // short human name
  CheckState state = CheckState::kFailed;
  std::string detail;       // what was observed or measured
  std::string consequence;  // what follows for slicing
  nlohmann::json values = nlohmann::json::object();  // measured numbers
};

struct CapabilityReport {
  std::string version;         // hwslice version
  std::string kernel_release;  // uname -r
  std::string isa;             // /proc/cpuinfo isa line
  std::vector<Check> checks;

  const Check* find(std::string_view id) const;
  bool ok(std::string_view id) const;

  // How the tracer will reach exact instruction positions, derived from the
  // checks: "overflow+step" (user-only exact counts with overflow signals),
  // "count+step" (user-only exact counts: a fast-forward with timer stops,
  // then stepping) or "step" (software stepping all the way); "none".
  std::string position_mode() const;
};

nlohmann::json to_json(const CapabilityReport& report);
// Aligned text table, one line per check plus an indented consequence.
std::string to_table(const CapabilityReport& report);

}  // namespace hwslice
