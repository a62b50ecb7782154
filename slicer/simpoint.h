// SimPoint 3.2 file formats: reading the chosen intervals (.simpoints and
// .weights) and writing basic-block vectors (.bb).
//
//  .simpoints  "<interval_index> <cluster_id>" per line (0-based index; the
//              interval starts at index * interval length)
//  .weights    "<weight> <cluster_id>" per line
//  .bb         one "T" line per interval of ":<id>:<count>" pairs, ids >= 1,
//              count = executions * instructions in the block. A "T" line
//              without pairs ends SimPoint's loading, so empty intervals are
//              refused rather than written.
//
// Contract: parsing never throws; a malformed line is an Error naming the
// file and line number.
#pragma once

#include <cstdint>
#include <istream>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "base/result.h"

namespace hwslice {

struct SimPoint {
  uint64_t interval = 0;  // 0-based interval index
  uint64_t cluster = 0;
  double weight = 0;      // from .weights; 0 until joined
};

// Reads .simpoints and .weights and joins them by cluster id. Every cluster
// in one file must appear exactly once in the other. Result is sorted by
// interval index (the order a single pass over the program meets them).
Result<std::vector<SimPoint>> read_simpoints(std::istream& simpoints, const std::string& simpoints_name,
                                             std::istream& weights, const std::string& weights_name);

// Same, opening the two files.
Result<std::vector<SimPoint>> read_simpoint_files(const std::string& simpoints_path,
                                                  const std::string& weights_path);

// One interval of a basic-block vector: block id (>= 1) -> count.
using BasicBlockVector = std::map<uint32_t, uint64_t>;

// Writes one "T:id:count :id:count ..." line. Refuses an empty vector or an
// id of 0 (SimPoint would stop reading or misread the file).
Status write_bb_interval(std::ostream& out, const BasicBlockVector& bbv);

}  // namespace hwslice
