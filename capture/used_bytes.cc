#include "capture/used_bytes.h"

#include <cstring>
#include <string>

namespace hwslice {

namespace {
constexpr char kKinds[] = "rwxk";
unsigned kind_bit(char kind) {
  const char* k = kind ? std::strchr(kKinds, kind) : nullptr;
  return k ? 1u << (k - kKinds) : 0;
}
}  // namespace

UsedBytes::Page& UsedBytes::page(uint64_t addr) {
  auto& p = pages_[addr & ~(kPageSize - 1)];
  if (!p) p = std::make_unique<Page>();
  return *p;
}

void UsedBytes::read(uint64_t addr, const uint8_t* data, uint64_t n, char kind) {
  for (uint64_t i = 0; i < n; ++i) {
    Page& p = page(addr + i);
    p.kinds |= kind_bit(kind);
    const uint64_t off = (addr + i) & (kPageSize - 1);
    if (p.live_in[off] || p.written[off]) continue;
    p.live_in[off] = true;
    p.data[off] = data[i];
  }
}

void UsedBytes::write(uint64_t addr, uint64_t n, char kind) {
  for (uint64_t i = 0; i < n; ++i) {
    Page& p = page(addr + i);
    p.kinds |= kind_bit(kind);
    p.written[(addr + i) & (kPageSize - 1)] = true;
  }
}

std::vector<uint64_t> UsedBytes::pages() const {
  std::vector<uint64_t> out;
  for (const auto& [a, p] : pages_) out.push_back(a);
  return out;
}

std::vector<uint64_t> UsedBytes::written_pages() const {
  std::vector<uint64_t> out;
  for (const auto& [a, p] : pages_)
    if (p->written.any()) out.push_back(a);
  return out;
}

std::string UsedBytes::kinds(uint64_t page) const {
  std::string out;
  auto it = pages_.find(page);
  if (it == pages_.end()) return out;
  for (unsigned i = 0; i < 4; ++i)
    if (it->second->kinds & (1u << i)) out += kKinds[i];
  return out;
}

std::vector<uint8_t> UsedBytes::start_content(uint64_t page) const {
  std::vector<uint8_t> out(kPageSize, 0);
  auto it = pages_.find(page);
  if (it == pages_.end()) return out;
  const Page& p = *it->second;
  for (uint64_t i = 0; i < kPageSize; ++i)
    if (p.live_in[i]) out[i] = p.data[i];
  return out;
}

void UsedBytes::end_view(uint64_t addr, uint8_t* now, uint64_t len) const {
  auto it = pages_.end();
  for (uint64_t i = 0; i < len; ++i) {
    const uint64_t a = addr + i, page = a & ~(kPageSize - 1), off = a & (kPageSize - 1);
    if (it == pages_.end() || it->first != page) it = pages_.find(page);
    if (it == pages_.end() || !(it->second->live_in[off] || it->second->written[off])) now[i] = 0;
  }
}

uint64_t UsedBytes::live_in_bytes() const {
  uint64_t n = 0;
  for (const auto& [a, p] : pages_) n += p->live_in.count();
  return n;
}

uint64_t UsedBytes::written_bytes() const {
  uint64_t n = 0;
  for (const auto& [a, p] : pages_) n += p->written.count();
  return n;
}

}  // namespace hwslice
