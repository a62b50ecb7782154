// ApproachPlan: how long a tracee may run freely toward a target position
// (a user instruction count) before the tracer must look at its counter
// again, so that a counted fast-forward gets close to the target without
// ever passing it; the last stretch is then stepped (control/stepper.h).
//
// The tracer cannot stop a tracee at a count (that needs a counter-overflow
// interrupt, which not every board has): it lets it run for a time and
// stops it (a timer and a SIGSTOP). What bounds the instructions run in that
// time is the fastest rate the tracee can retire instructions at, which is
// not known in advance. The plan assumes a ceiling: twice the fastest rate
// seen in this run (runs of a millisecond or more, resume to stop), and at
// least kRateFloor; and it lets a wait cover at most half the distance left
// at that ceiling, its wake-up latency included. So a wait passes the target
// only when the tracee runs more than four times faster than it ever did
// and faster than 2 x kRateFloor.
//
// Contract: pure arithmetic, portable (unit-tested on the host). wait()
// returns 0 once the distance left is small enough to be stepped; a
// positive wait is at least kMinWait.
#pragma once

#include <cstdint>

namespace hwslice {

class ApproachPlan {
 public:
  // User instructions per second assumed at least: above the virtual
  // board's 1e9 (QEMU -icount shift=0) and today's riscv64 boards (about
  // 1.5e9 to 3e9: 1.5-2 GHz, in-order dual issue).
  static constexpr double kRateFloor = 2e9;
  // The shortest timer wait worth taking, in seconds. A stop and a resume
  // take tens of microseconds themselves, so a short wait lets the program
  // run little (in the virtual board, 16 us about 3,000 instructions, 55 us
  // about 40,000), but even that is a hundred times what a step gives for
  // one stop.
  static constexpr double kMinWait = 10e-6;
  // Assumed at least between a timer's expiry and the tracee's stop, in
  // seconds; raised to twice any lateness measured (observe_latency), up to
  // kMaxLatency, and decaying by a quarter with each later wait (one hiccup,
  // an interrupt storm say, must not make every later approach step
  // hundreds of thousands of instructions).
  static constexpr double kWakeLatency = 10e-6;
  static constexpr double kMaxLatency = 200e-6;
  // Runs shorter than this (seconds) do not sample the rate: too short for
  // the clock.
  static constexpr double kMinSample = 1e-3;

  // The fastest rate the tracee is assumed able to run at.
  double ceiling() const;
  // Seconds the tracee may run with `left` instructions to go; 0: step the
  // rest (2 x ceiling x (kMinWait + latency) instructions or fewer: 80,000
  // at the floor with the assumed latency, about 136,000 in the virtual
  // board, whose wake-ups are 12 us late).
  double wait(uint64_t left) const;
  // The distance below which wait() returns 0.
  uint64_t step_distance() const;
  // The tracee ran `instructions` in `seconds` (from its resume to its stop).
  void observe(uint64_t instructions, double seconds);
  // A wait of `asked` seconds took `took` seconds until the tracer ran again.
  void observe_latency(double asked, double took);

  double fastest() const { return fastest_; }
  double latency() const { return latency_; }

 private:
  double fastest_ = 0;              // instructions per second, fastest seen
  double latency_ = kWakeLatency;   // seconds
};

}  // namespace hwslice
