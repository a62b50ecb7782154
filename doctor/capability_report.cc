#include "doctor/capability_report.h"

#include <algorithm>

namespace hwslice {

std::string_view to_string(CheckState s) {
  switch (s) {
    case CheckState::kOk: return "ok";
    case CheckState::kUnavailable: return "unavailable";
    case CheckState::kFailed: return "failed";
  }
  return "failed";
}

const Check* CapabilityReport::find(std::string_view id) const {
  for (const auto& c : checks)
    if (c.id == id) return &c;
  return nullptr;
}

bool CapabilityReport::ok(std::string_view id) const {
  const Check* c = find(id);
  return c && c->state == CheckState::kOk;
}

std::string CapabilityReport::position_mode() const {
  if (ok("perf.user_only") && ok("perf.user_exact") && ok("perf.overflow") && ok("step.software"))
    return "overflow+step";
  if (ok("perf.user_only") && ok("perf.user_exact") && ok("step.software")) return "count+step";
  if (ok("step.software")) return "step";
  return "none";
}

nlohmann::json to_json(const CapabilityReport& r) {
  nlohmann::json checks = nlohmann::json::array();
  for (const auto& c : r.checks) {
    checks.push_back({{"id", c.id},
                      {"title", c.title},
                      {"state", to_string(c.state)},
                      {"detail", c.detail},
                      {"consequence", c.consequence},
                      {"values", c.values}});
  }
  return {{"hwslice", r.version},
          {"kernel", r.kernel_release},
          {"isa", r.isa},
          {"checks", checks},
          {"summary",
           {{"position_mode", r.position_mode()},
            {"user_only_counting", r.ok("perf.user_only")},
            {"exact_user_counts", r.ok("perf.user_exact")},
            {"overflow_signal", r.ok("perf.overflow")},
            {"syscall_tracing", r.ok("ptrace.syscall_stops") && r.ok("ptrace.syscall_info")},
            {"page_tracking", r.ok("pages.fault_tracking") && r.ok("inject.syscall")}}}};
}

std::string to_table(const CapabilityReport& r) {
  size_t width = 0;
  for (const auto& c : r.checks) width = std::max(width, c.title.size());
  std::string out;
  out += "hwslice " + r.version + " on Linux " + r.kernel_release + "\n";
  out += "ISA " + r.isa + "\n\n";
  for (const auto& c : r.checks) {
    std::string state(to_string(c.state));
    out += "  " + c.title + std::string(width - c.title.size() + 2, ' ') + "[" + state + "]" +
           std::string(12 - state.size(), ' ') + c.detail + "\n";
    if (!c.consequence.empty()) out += std::string(width + 20, ' ') + "-> " + c.consequence + "\n";
  }
  out += "\nposition mode: " + r.position_mode() + "\n";
  return out;
}

}  // namespace hwslice
