#include "slicer/simpoint.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace hwslice {

namespace {

// Splits a line into whitespace-separated fields.
std::vector<std::string> fields(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string f; in >> f;) out.push_back(f);
  return out;
}

bool parse_u64(const std::string& s, uint64_t& v) {
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return ec == std::errc() && p == s.data() + s.size();
}

bool parse_weight(const std::string& s, double& v) {
  try {
    size_t used = 0;
    v = std::stod(s, &used);
    return used == s.size() && v >= 0 && v <= 1;
  } catch (...) {
    return false;
  }
}

}  // namespace

Result<std::vector<SimPoint>> read_simpoints(std::istream& simpoints, const std::string& sp_name,
                                             std::istream& weights, const std::string& w_name) {
  std::vector<SimPoint> points;
  std::set<uint64_t> clusters, intervals;
  std::string line;
  for (int n = 1; std::getline(simpoints, line); ++n) {
    auto f = fields(line);
    if (f.empty()) continue;
    SimPoint p;
    if (f.size() != 2 || !parse_u64(f[0], p.interval) || !parse_u64(f[1], p.cluster))
      return Error(sp_name + ":" + std::to_string(n) + ": expected '<interval_index> <cluster_id>', got '" + line + "'");
    if (!clusters.insert(p.cluster).second)
      return Error(sp_name + ":" + std::to_string(n) + ": cluster " + std::to_string(p.cluster) + " appears twice");
    if (!intervals.insert(p.interval).second)
      return Error(sp_name + ":" + std::to_string(n) + ": interval " + std::to_string(p.interval) + " appears twice");
    points.push_back(p);
  }
  if (points.empty()) return Error(sp_name + ": no simulation points");

  std::map<uint64_t, double> by_cluster;
  for (int n = 1; std::getline(weights, line); ++n) {
    auto f = fields(line);
    if (f.empty()) continue;
    double w = 0;
    uint64_t cluster = 0;
    if (f.size() != 2 || !parse_weight(f[0], w) || !parse_u64(f[1], cluster))
      return Error(w_name + ":" + std::to_string(n) + ": expected '<weight 0..1> <cluster_id>', got '" + line + "'");
    if (!by_cluster.emplace(cluster, w).second)
      return Error(w_name + ":" + std::to_string(n) + ": cluster " + std::to_string(cluster) + " appears twice");
  }
  for (auto& p : points) {
    auto it = by_cluster.find(p.cluster);
    if (it == by_cluster.end())
      return Error(w_name + ": no weight for cluster " + std::to_string(p.cluster) + " (from " + sp_name + ")");
    p.weight = it->second;
    by_cluster.erase(it);
  }
  if (!by_cluster.empty())
    return Error(w_name + ": cluster " + std::to_string(by_cluster.begin()->first) + " has no simulation point in " +
                 sp_name);
  std::sort(points.begin(), points.end(), [](const SimPoint& a, const SimPoint& b) { return a.interval < b.interval; });
  return points;
}

Result<std::vector<SimPoint>> read_simpoint_files(const std::string& simpoints_path, const std::string& weights_path) {
  std::ifstream sp(simpoints_path);
  if (!sp) return Error::from_errno("cannot open " + simpoints_path);
  std::ifstream w(weights_path);
  if (!w) return Error::from_errno("cannot open " + weights_path);
  return read_simpoints(sp, simpoints_path, w, weights_path);
}

Status write_bb_interval(std::ostream& out, const BasicBlockVector& bbv) {
  if (bbv.empty()) return Error("refusing to write an empty basic-block vector (it would end SimPoint's input)");
  std::string line = "T";
  for (const auto& [id, count] : bbv) {
    if (id == 0) return Error("basic-block id 0 is not allowed (SimPoint ids start at 1)");
    if (count == 0) continue;
    line += ":" + std::to_string(id) + ":" + std::to_string(count) + " ";
  }
  if (line == "T") return Error("refusing to write a basic-block vector whose counts are all zero");
  line.back() = '\n';
  out << line;
  if (!out) return Error("writing the basic-block vector failed");
  return ok_status();
}

}  // namespace hwslice
