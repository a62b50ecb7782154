#include "slicer/simpoint.h"

#include <gtest/gtest.h>

#include <sstream>

namespace hwslice {
namespace {

Result<std::vector<SimPoint>> parse(const std::string& sp, const std::string& w) {
  std::istringstream a(sp), b(w);
  return read_simpoints(a, "t.simpoints", b, "t.weights");
}

TEST(SimPointTest, JoinsByClusterAndSortsByInterval) {
  auto r = parse("17 0\n3 1\n\n42 2\n", "0.5 0\n0.25 1\n0.25 2\n");
  ASSERT_TRUE(r) << r.error().message();
  ASSERT_EQ(r->size(), 3u);
  EXPECT_EQ((*r)[0].interval, 3u);
  EXPECT_EQ((*r)[0].cluster, 1u);
  EXPECT_DOUBLE_EQ((*r)[0].weight, 0.25);
  EXPECT_EQ((*r)[1].interval, 17u);
  EXPECT_DOUBLE_EQ((*r)[1].weight, 0.5);
  EXPECT_EQ((*r)[2].interval, 42u);
}

TEST(SimPointTest, ReportsBadLinesWithFileAndLine) {
  EXPECT_EQ(parse("1 0\nx 1\n", "1 0\n").error().message(),
            "t.simpoints:2: expected '<interval_index> <cluster_id>', got 'x 1'");
  EXPECT_EQ(parse("1 0\n", "1.5 0\n").error().message(),
            "t.weights:1: expected '<weight 0..1> <cluster_id>', got '1.5 0'");
  EXPECT_EQ(parse("1 0\n2 0\n", "1 0\n").error().message(), "t.simpoints:2: cluster 0 appears twice");
  EXPECT_EQ(parse("1 0\n1 1\n", "1 0\n").error().message(), "t.simpoints:2: interval 1 appears twice");
  EXPECT_EQ(parse("1 0\n2 1\n", "1 0\n").error().message(), "t.weights: no weight for cluster 1 (from t.simpoints)");
  EXPECT_EQ(parse("1 0\n", "0.5 0\n0.5 3\n").error().message(), "t.weights: cluster 3 has no simulation point in t.simpoints");
  EXPECT_EQ(parse("", "").error().message(), "t.simpoints: no simulation points");
}

TEST(SimPointTest, MissingFileIsAnError) {
  auto r = read_simpoint_files("/nonexistent/x.simpoints", "/nonexistent/x.weights");
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message(), "cannot open /nonexistent/x.simpoints: No such file or directory");
}

TEST(SimPointTest, WritesBasicBlockVectorLines) {
  std::ostringstream out;
  ASSERT_TRUE(write_bb_interval(out, {{1, 100}, {7, 35}, {3, 0}}));
  EXPECT_EQ(out.str(), "T:1:100 :7:35\n");
  EXPECT_FALSE(write_bb_interval(out, {}));
  EXPECT_FALSE(write_bb_interval(out, {{0, 5}}));
  EXPECT_FALSE(write_bb_interval(out, {{2, 0}}));
  EXPECT_EQ(out.str(), "T:1:100 :7:35\n");
}

}  // namespace
}  // namespace hwslice
