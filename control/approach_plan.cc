#include "control/approach_plan.h"

#include <algorithm>

namespace hwslice {

double ApproachPlan::ceiling() const { return std::max(kRateFloor, 2 * fastest_); }

double ApproachPlan::wait(uint64_t left) const {
  if (left <= step_distance()) return 0.0;
  // At the ceiling, the wait and the latency after it cover half of `left`
  // (at least kMinWait, as left > step_distance()).
  return static_cast<double>(left) / (2 * ceiling()) - latency_;
}

uint64_t ApproachPlan::step_distance() const {
  return static_cast<uint64_t>(2 * ceiling() * (kMinWait + latency_)) + 1;
}

void ApproachPlan::observe(uint64_t instructions, double seconds) {
  if (seconds < kMinSample) return;
  fastest_ = std::max(fastest_, static_cast<double>(instructions) / seconds);
}

void ApproachPlan::observe_latency(double asked, double took) {
  // Twice the lateness seen, held and decaying by a quarter a wait: a late
  // wake-up makes the next waits shorter, a single hiccup does not make every
  // later approach step far more.
  const double late = took > asked ? 2 * (took - asked) : 0.0;
  latency_ = std::clamp(std::max(late, 0.75 * latency_), kWakeLatency, kMaxLatency);
}

}  // namespace hwslice
