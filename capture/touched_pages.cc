#include "capture/touched_pages.h"

#include <cstring>

namespace hwslice {

namespace {
constexpr char kKinds[] = "rwxk";
}

std::vector<uint64_t> TouchedPages::touch(uint64_t addr, uint64_t len, char kind) {
  std::vector<uint64_t> fresh;
  const char* k = std::strchr(kKinds, kind);
  if (len == 0 || !k || kind == 0) return fresh;
  const unsigned bit = 1u << (k - kKinds);
  const uint64_t first = addr & ~(kPageSize - 1);
  const uint64_t last = (addr + len - 1) & ~(kPageSize - 1);
  for (uint64_t p = first;; p += kPageSize) {
    auto [it, inserted] = pages_.try_emplace(p);
    it->second.kinds |= bit;
    if (inserted) fresh.push_back(p);
    if (p == last) break;  // also ends at the top of the address space
  }
  return fresh;
}

void TouchedPages::set_digest(uint64_t page, uint64_t digest) {
  auto it = pages_.find(page);
  if (it != pages_.end()) it->second.digest = digest;
}

PagesRecord TouchedPages::take(uint64_t interval, uint64_t start, uint64_t end) {
  PagesRecord r{interval, start, end, {}};
  for (const auto& [addr, e] : pages_) {
    std::string kind;
    for (unsigned i = 0; i < 4; ++i)
      if (e.kinds & (1u << i)) kind += kKinds[i];
    r.pages.push_back(TouchedPage{addr, kind, e.digest});
  }
  pages_.clear();
  return r;
}

}  // namespace hwslice
