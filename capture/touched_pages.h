// TouchedPages: the pages one interval touched, as step mode learns them
// from every instruction's fetch, load and store and every syscall's writes.
// It yields the same `pages` record page mode writes, so the two modes can be
// compared page by page (page mode must see a superset).
//
// Contract:
//  - touch() marks every 4 KiB page of [addr, addr + len) with a kind letter
//    ('r' read, 'w' write, 'x' execute, 'k' written by the kernel) and
//    returns the pages this interval had not touched before, in address
//    order, so the caller can take their content digest at first touch.
//  - take() returns the interval's record (pages in address order, kinds in
//    "rwxk" order) and starts an empty interval.
//  - Pure bookkeeping: no tracee access, no I/O.
#pragma once

#include <cstdint>
#include <map>
#include <vector>

#include "base/page.h"
#include "record/trace_record.h"

namespace hwslice {

class TouchedPages {
 public:
  static constexpr uint64_t kPageSize = hwslice::kPageSize;

  std::vector<uint64_t> touch(uint64_t addr, uint64_t len, char kind);
  void set_digest(uint64_t page, uint64_t digest);
  size_t size() const { return pages_.size(); }
  PagesRecord take(uint64_t interval, uint64_t start, uint64_t end);

 private:
  struct Entry {
    unsigned kinds = 0;  // bit per letter of "rwxk"
    uint64_t digest = 0;
  };
  std::map<uint64_t, Entry> pages_;
};

}  // namespace hwslice
