#include "slicer/slice_verdict.h"

#include <cstdio>
#include <cstdlib>

namespace hwslice {

SliceVerdict judge(const SliceExpectation& e, const SliceRun& r) {
  SliceVerdict v{e, r};
  auto fail = [&](std::string why) {
    v.ok = false;
    v.problems.push_back(std::move(why));
  };
  const SliceStats& s = r.stats;
  if (r.timed_out) fail("did not end within the timeout (killed)");
  else if (r.signal) fail("killed by signal " + std::to_string(r.signal));
  if (!s.present) fail("no statistics (exit status " + std::to_string(r.exit_code) + ")");
  else if (s.status != "ok") fail("status " + s.status + (s.detail.empty() ? "" : ": " + s.detail));
  if (s.present && !s.regs_match) fail("final registers differ");
  if (s.present && !s.digest_match) fail("written-memory digest differs");
  if (s.present && e.digest && std::strtoull(s.digest.c_str(), nullptr, 16) != *e.digest) {
    char want[17];
    std::snprintf(want, sizeof want, "%016llx", static_cast<unsigned long long>(*e.digest));
    fail("digest " + s.digest + " is not the manifest's " + want);
  }
  if (r.exit_code != 0 && !r.signal && v.ok) fail("exit status " + std::to_string(r.exit_code));
  if (e.out && r.out != *e.out)
    fail("stdout: " + std::to_string(r.out.size()) + " bytes, recorded " + std::to_string(e.out->size()));
  if (e.err && r.err != *e.err)
    fail("stderr: " + std::to_string(r.err.size()) + " bytes, recorded " + std::to_string(e.err->size()));
  const uint64_t expected = e.end - e.start;
  if (!s.present) {
    v.counted = "-";
  } else if (s.counters == "user" && e.exact) {
    if (s.instructions == expected) {
      v.counted = "exact";
    } else {
      v.counted = "differs by " + std::to_string(static_cast<int64_t>(s.instructions - expected));
      fail("retired " + std::to_string(s.instructions) + " program instructions, expected " + std::to_string(expected));
    }
  } else {
    v.counted = s.counters == "none" ? "no counters" : s.counters == "all" ? "kernel included" : "positions estimated";
    if (s.counters != "none")
      v.counted += ", differs by " + std::to_string(static_cast<int64_t>(s.instructions - expected));
    // Positions that count the kernel too (page mode without user-only
    // counting): the recorded length counts the tracer's kernel work as
    // well as the program's instructions, the slice's count only the
    // kernel's few interrupts: more than the length means it ran past its
    // end. Exact positions (step mode) count the program alone, which the
    // slice's kernel work adds to: no bound there.
    if (s.counters == "all" && !e.exact && s.instructions > expected)
      fail("retired " + std::to_string(s.instructions) + " instructions (kernel included), more than the interval's " +
           std::to_string(expected) + ": it ran past its end");
  }
  return v;
}

}  // namespace hwslice
