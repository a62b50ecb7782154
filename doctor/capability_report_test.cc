#include "doctor/capability_report.h"

#include <gtest/gtest.h>

namespace hwslice {
namespace {

CapabilityReport report_with(std::initializer_list<std::pair<const char*, CheckState>> states) {
  CapabilityReport r;
  r.version = "0.1.0";
  r.kernel_release = "6.12.107+deb13-riscv64";
  r.isa = "rv64imafdc_zba_zbb";
  for (auto [id, state] : states) {
    Check c;
    c.id = id;
    c.title = id;
    c.state = state;
    c.detail = "d";
    r.checks.push_back(c);
  }
  return r;
}

TEST(CapabilityReportTest, PositionModeFollowsCounterCapabilities) {
  auto k1 = report_with({{"step.software", CheckState::kOk},
                         {"perf.user_only", CheckState::kOk},
                         {"perf.user_exact", CheckState::kOk},
                         {"perf.overflow", CheckState::kOk}});
  EXPECT_EQ(k1.position_mode(), "overflow+step");
  // The virtual board's k1: exact user counts, no overflow interrupt.
  auto k1_virtual = report_with({{"step.software", CheckState::kOk},
                                 {"perf.user_only", CheckState::kOk},
                                 {"perf.user_exact", CheckState::kOk},
                                 {"perf.overflow", CheckState::kUnavailable}});
  EXPECT_EQ(k1_virtual.position_mode(), "count+step");
  auto vf2 = report_with({{"step.software", CheckState::kOk},
                          {"perf.user_only", CheckState::kUnavailable},
                          {"perf.user_exact", CheckState::kUnavailable},
                          {"perf.overflow", CheckState::kUnavailable}});
  EXPECT_EQ(vf2.position_mode(), "step");
  EXPECT_EQ(report_with({}).position_mode(), "none");
}

TEST(CapabilityReportTest, JsonCarriesChecksAndSummary) {
  auto r = report_with({{"perf.user_only", CheckState::kUnavailable}, {"perf.overflow", CheckState::kOk}});
  r.checks[0].values = {{"errno", 22}};
  auto j = to_json(r);
  EXPECT_EQ(j["kernel"], "6.12.107+deb13-riscv64");
  ASSERT_EQ(j["checks"].size(), 2u);
  EXPECT_EQ(j["checks"][0]["id"], "perf.user_only");
  EXPECT_EQ(j["checks"][0]["state"], "unavailable");
  EXPECT_EQ(j["checks"][0]["values"]["errno"], 22);
  EXPECT_EQ(j["summary"]["user_only_counting"], false);
  EXPECT_EQ(j["summary"]["overflow_signal"], true);
  EXPECT_EQ(j["summary"]["position_mode"], "none");
}

TEST(CapabilityReportTest, TableHasOneLinePerCheckAndConsequences) {
  auto r = report_with({{"a", CheckState::kOk}, {"longer.id", CheckState::kFailed}});
  r.checks[1].consequence = "nothing works";
  std::string t = to_table(r);
  EXPECT_NE(t.find("  a          [ok]          d\n"), std::string::npos) << t;
  EXPECT_NE(t.find("  longer.id  [failed]      d\n"), std::string::npos) << t;
  EXPECT_NE(t.find("-> nothing works\n"), std::string::npos);
  EXPECT_NE(t.find("position mode: none\n"), std::string::npos);
}

}  // namespace
}  // namespace hwslice
