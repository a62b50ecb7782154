#include "control/hop_plan.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace hwslice {

namespace {

// What ends a hop's region at an instruction: the tracer must see it run.
bool ends_hop(const riscv::Instruction& insn) {
  return insn.length == 0 || (insn.flow != riscv::Flow::kBranch && insn.flow != riscv::Flow::kJump);
}

}  // namespace

Result<std::optional<HopPlan>> plan_hop(uint64_t pc, uint64_t budget,
                                        const std::function<Result<const CodeBlock*>(uint64_t)>& block_at) {
  struct Edge {
    uint64_t to_pc;
    int to = -1;  // -1: not explored
    bool back = false;
    bool dead = false;  // no code there
  };
  struct Node {
    const CodeBlock* b;
    std::vector<Edge> edges;
  };
  std::vector<Node> nodes;
  std::unordered_map<uint64_t, int> index;
  bool writable = false;
  // The node of the block at `at`: -1 not explored (the limit), -2 no code
  // there (the CPU would fault: no stop needed).
  auto add = [&](uint64_t at) -> Result<int> {
    if (auto it = index.find(at); it != index.end()) return it->second;
    auto b = block_at(at);
    if (!b) {
      if (nodes.empty()) return b.error();  // the pc's own
      return -2;
    }
    if (*b == nullptr) {  // code that may change
      writable = true;
      return -1;
    }
    if (nodes.size() >= kHopBlocks) return -1;
    Node n{*b, {}};
    const riscv::Instruction& last = n.b->last;
    if (!ends_hop(last)) {
      if (last.flow == riscv::Flow::kBranch) n.edges.push_back({n.b->end + last.length});
      n.edges.push_back({static_cast<uint64_t>(static_cast<int64_t>(n.b->end) + last.offset)});
    }
    nodes.push_back(std::move(n));
    index.emplace(at, static_cast<int>(nodes.size() - 1));
    return static_cast<int>(nodes.size() - 1);
  };
  auto first = add(pc);
  if (!first) return first.error();
  if (writable || *first != 0) return std::optional<HopPlan>();
  // The pc's own instruction is the stepper's: a branch or jump it performs
  // itself without a stop (a loop's hop then ends at its bottom branch and
  // the next starts at its head), or one that ends a region.
  if (nodes[0].b->addrs.empty()) return std::optional<HopPlan>();

  // Depth-first search; post-order gives the topological order of the
  // graph without its back edges.
  std::vector<uint8_t> state(1, 1);  // 0 new, 1 on the search's path, 2 done
  std::vector<std::pair<int, size_t>> stack{{0, 0}};
  std::vector<int> post;
  while (!stack.empty()) {
    auto& [u, i] = stack.back();
    if (i < nodes[u].edges.size()) {
      const size_t e = i++;
      const int from = u;
      auto v = add(nodes[from].edges[e].to_pc);
      if (!v) return v.error();
      if (writable) return std::optional<HopPlan>();
      nodes[from].edges[e].to = *v;
      if (*v == -2) nodes[from].edges[e].dead = true;
      if (*v < 0) continue;
      state.resize(nodes.size(), 0);
      if (state[*v] == 1) nodes[from].edges[e].back = true;
      else if (state[*v] == 0) {
        state[*v] = 1;
        stack.emplace_back(*v, 0);
      }
      continue;
    }
    state[u] = 2;
    post.push_back(u);
    stack.pop_back();
  }

  // Loop heads are stops wherever a path reaches them (a path round the
  // loop stops there the first time it comes by, so nothing after one
  // counts toward the longest path). A loop back to the pc stops at its
  // bottom branch instead (below).
  std::vector<bool> head(nodes.size(), false);
  for (const Node& n : nodes)
    for (const Edge& e : n.edges)
      if (e.back && e.to_pc != pc) head[e.to] = true;

  HopPlan plan;
  std::vector<int64_t> depth(nodes.size(), -1);  // longest path to a block: -1 none
  depth[0] = 0;
  // The address of instruction j of block u (j == addrs.size(): its last).
  auto addr = [&](int u, uint64_t j) {
    const CodeBlock& b = *nodes[u].b;
    return j < b.addrs.size() ? b.addrs[j] : b.end;
  };
  auto stop = [&](uint64_t at, uint64_t reached) { plan.stops.push_back(at); plan.longest = std::max(plan.longest, reached); };
  for (auto it = post.rbegin(); it != post.rend(); ++it) {
    const int u = *it;
    if (depth[u] < 0) continue;  // reached only through stops
    const uint64_t d = static_cast<uint64_t>(depth[u]);
    if (head[u]) {
      stop(nodes[u].b->addrs.empty() ? nodes[u].b->end : nodes[u].b->addrs[0], d);
      continue;
    }
    const CodeBlock& b = *nodes[u].b;
    const uint64_t n = b.addrs.size();
    const bool ends = ends_hop(b.last);
    // Instructions of this block that run before its successors: its
    // straight-line ones and its branch or jump.
    const uint64_t run = n + (ends ? 0 : 1);
    if (d + run > budget) {
      // The budget ends in this block (or at its last instruction): stop at
      // instruction budget - d. Not at the pc: then the one before it.
      uint64_t j = budget - d;
      if (addr(u, j) == pc) --j;  // j >= 1: the pc is no block's first instruction but the first's
      stop(addr(u, j), d + j);
      continue;
    }
    if (ends) {
      if (b.last.length != 0) stop(b.end, d + n);  // before the instruction the tracer must see
      // No instruction at its end (bytes that decode as none, or the scan
      // ran out): before its last one; the CPU faults on the former anyway.
      else if (n > 0 && b.addrs.back() != pc) stop(b.addrs.back(), d + n - 1);
      continue;
    }
    for (const Edge& e : nodes[u].edges) {
      if (e.dead) continue;
      if (e.to >= 0 && !e.back) {
        depth[e.to] = std::max<int64_t>(depth[e.to], static_cast<int64_t>(d + run));
        continue;
      }
      // Into a block not explored, or round a loop (its head is a stop
      // anyway), or back to the pc: there, at the branch or jump that goes
      // there.
      if (e.to_pc != pc) stop(e.to_pc, d + run);
      else if (b.end != pc) stop(b.end, d + n);
      else return std::optional<HopPlan>();  // a jump to itself: the stepper's
    }
  }
  std::sort(plan.stops.begin(), plan.stops.end());
  plan.stops.erase(std::unique(plan.stops.begin(), plan.stops.end()), plan.stops.end());
  if (plan.stops.empty()) return std::optional<HopPlan>();
  return std::optional<HopPlan>(std::move(plan));
}

}  // namespace hwslice
