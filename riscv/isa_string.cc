#include "riscv/isa_string.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <iterator>

namespace hwslice {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

}  // namespace

IsaInfo parse_isa_string(std::string_view text) {
  IsaInfo info;
  std::string isa = lower(trim(text));
  if (isa.rfind("rv32", 0) == 0) info.xlen = 32;
  else if (isa.rfind("rv64", 0) == 0) info.xlen = 64;
  else return info;

  std::string_view rest(isa);
  rest.remove_prefix(4);
  // Single-letter extensions run until the first '_' or the first letter that
  // starts a multi-letter name (z*, s*, x*, h*).
  size_t i = 0;
  for (; i < rest.size(); ++i) {
    char c = rest[i];
    if (c == '_' || c == 'z' || c == 's' || c == 'x' || c == 'h') break;
    if (std::isdigit(static_cast<unsigned char>(c)) || c == 'p') continue;  // version numbers
    if (std::isalpha(static_cast<unsigned char>(c))) {
      info.extensions.insert(std::string(1, c));
      if (c == 'g')
        for (const char* e : {"i", "m", "a", "f", "d", "zicsr", "zifencei"}) info.extensions.insert(e);
    }
  }
  rest.remove_prefix(i);
  while (!rest.empty()) {
    size_t end = rest.find('_');
    std::string_view name = rest.substr(0, end);
    if (!name.empty()) info.extensions.insert(std::string(name));
    if (end == std::string_view::npos) break;
    rest.remove_prefix(end + 1);
  }
  return info;
}

std::string IsaInfo::to_string() const {
  if (xlen == 0) return "";
  std::string out = "rv" + std::to_string(xlen);
  for (const char* e : {"i", "m", "a", "f", "d", "q", "c", "b", "v", "h"})
    if (has(e)) out += e;
  for (const auto& e : extensions)
    if (e.size() > 1) out += "_" + e;
  return out;
}

std::string cpuinfo_isa_line(std::string_view cpuinfo) {
  while (!cpuinfo.empty()) {
    size_t nl = cpuinfo.find('\n');
    std::string_view line = cpuinfo.substr(0, nl);
    size_t colon = line.find(':');
    if (colon != std::string_view::npos && trim(line.substr(0, colon)) == "isa")
      return std::string(trim(line.substr(colon + 1)));
    if (nl == std::string_view::npos) break;
    cpuinfo.remove_prefix(nl + 1);
  }
  return "";
}

KernelVersion parse_kernel_release(std::string_view release) {
  KernelVersion v;
  unsigned* parts[] = {&v.major, &v.minor, &v.patch};
  const char* p = release.data();
  const char* end = release.data() + release.size();
  for (unsigned* part : parts) {
    auto [next, ec] = std::from_chars(p, end, *part);
    if (ec != std::errc()) break;
    p = next;
    if (p == end || *p != '.') break;
    ++p;
  }
  return v;
}

bool machine_has_compressed() {
  std::ifstream cpuinfo("/proc/cpuinfo");
  const std::string text((std::istreambuf_iterator<char>(cpuinfo)), std::istreambuf_iterator<char>());
  return parse_isa_string(cpuinfo_isa_line(text)).has("c");
}

}  // namespace hwslice
