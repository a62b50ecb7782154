// UsedBytes: the bytes one interval uses, at byte granularity, as step mode
// learns them from every instruction fetch, load, store and syscall; the
// source of step-mode slices, which hold only these bytes.
//
// A byte is live-in when the interval reads it (fetch, load, a buffer the
// slice echoes) before anything in the interval writes it: its content at
// the first read is its content at the interval start, and the slice must
// bring it along. A byte written first needs no content (the slice writes
// it itself) but its page must be mapped. Every other byte of a used page is
// zero in the slice.
//
// Contract:
//  - read(addr, data, kind) records live-in bytes (the first content seen
//    wins; bytes already live-in or written are left alone); write(addr, n,
//    kind) marks bytes written. Kinds are letters of "rwxk" (read, write,
//    execute, touched by the kernel), kept per page for SlicePage's flags.
//  - start_content(page) is the slice's page at the start: live-in bytes
//    with their content, zero elsewhere. end_view(addr, now, len) turns the
//    traced program's bytes at the end into what the slice holds there at
//    its end: `now` where the byte is live-in or written, zero elsewhere
//    (the written-memory digest and the end stack are taken over this view).
//  - Pure bookkeeping (no tracee access); clear() starts a new interval.
#pragma once

#include <bitset>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "base/page.h"

namespace hwslice {

class UsedBytes {
 public:
  static constexpr uint64_t kPageSize = hwslice::kPageSize;

  void read(uint64_t addr, const uint8_t* data, uint64_t n, char kind);
  void write(uint64_t addr, uint64_t n, char kind);
  void clear() { pages_.clear(); }

  // Pages with any live-in or written byte, in address order.
  std::vector<uint64_t> pages() const;
  // Pages with a written byte, in address order.
  std::vector<uint64_t> written_pages() const;
  // "rwxk" letters the page was touched with, in that order ("" if unused).
  std::string kinds(uint64_t page) const;
  std::vector<uint8_t> start_content(uint64_t page) const;
  void end_view(uint64_t addr, uint8_t* now, uint64_t len) const;

  uint64_t live_in_bytes() const;
  uint64_t written_bytes() const;

 private:
  struct Page {
    std::bitset<kPageSize> live_in, written;
    unsigned kinds = 0;
    uint8_t data[kPageSize] = {};
  };
  Page& page(uint64_t addr);
  std::map<uint64_t, std::unique_ptr<Page>> pages_;
};

}  // namespace hwslice
