#include "record/syscall_format.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "record/syscall_table.h"

namespace hwslice {

std::string quote_string(const std::string& s, size_t max) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size() && i < max; ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c >= 32 && c < 127) {
          out.push_back(static_cast<char>(c));
        } else {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\%o", c);
          out += buf;
        }
    }
  }
  out += "\"";
  if (s.size() > max) out += "...";
  return out;
}

std::string format_args(long nr, const SyscallArgs& args, const std::map<unsigned, std::string>& strings) {
  const SyscallModel* m = find_model(nr);
  std::string kinds = m ? std::string(m->args) : "xxxxxx";
  std::string out;
  char buf[32];
  for (unsigned i = 0; i < kinds.size() && i < 6; ++i) {
    if (i) out += ", ";
    const uint64_t v = args[i];
    switch (kinds[i]) {
      case 'd': std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(v)); out += buf; break;
      case 'u': std::snprintf(buf, sizeof buf, "%llu", static_cast<unsigned long long>(v)); out += buf; break;
      case 'o': std::snprintf(buf, sizeof buf, "0%llo", static_cast<unsigned long long>(v)); out += buf; break;
      case 'f':
        if (static_cast<int>(v) == -100) out += "AT_FDCWD";
        else { std::snprintf(buf, sizeof buf, "%d", static_cast<int>(v)); out += buf; }
        break;
      case 's': {
        auto it = strings.find(i);
        if (v == 0) out += "NULL";
        else if (it != strings.end()) out += it->second;
        else { std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v)); out += buf; }
        break;
      }
      default:
        if (v == 0) out += "0";
        else { std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v)); out += buf; }
    }
  }
  return out;
}

std::string format_return(long nr, uint64_t ret) {
  const std::string_view name = sys::name(nr);
  const bool address = name == "brk" || name == "mmap" || name == "mremap";
  const int64_t s = static_cast<int64_t>(ret);
  char buf[96];
  if (s < 0 && s >= -4095) {
    int err = static_cast<int>(-s);
    std::string_view name = errno_name(err);
    std::snprintf(buf, sizeof buf, "= -1 %.*s (%s)", static_cast<int>(name.size()), name.data(), std::strerror(err));
  } else if (address || ret > 0xffffffffu) {
    std::snprintf(buf, sizeof buf, "= 0x%llx", static_cast<unsigned long long>(ret));
  } else {
    std::snprintf(buf, sizeof buf, "= %lld", static_cast<long long>(s));
  }
  return buf;
}

void SyscallSummary::add(const SyscallRecord& r, std::chrono::nanoseconds elapsed) {
  Row& row = rows_[r.name];
  ++row.calls;
  const int64_t s = static_cast<int64_t>(r.ret);
  if (s < 0 && s >= -4095) ++row.errors;
  for (const auto& w : r.writes) row.bytes += w.data.size();
  row.time += elapsed;
}

std::string SyscallSummary::table() const {
  std::vector<std::pair<std::string, Row>> sorted(rows_.begin(), rows_.end());
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
    if (a.second.time != b.second.time) return a.second.time > b.second.time;
    if (a.second.calls != b.second.calls) return a.second.calls > b.second.calls;
    return a.first < b.first;
  });
  Row total;
  for (const auto& [name, row] : sorted) {
    total.calls += row.calls;
    total.errors += row.errors;
    total.bytes += row.bytes;
    total.time += row.time;
  }
  std::string out;
  char line[160];
  auto seconds = [](std::chrono::nanoseconds t) { return std::chrono::duration<double>(t).count(); };
  auto print = [&](const std::string& name, const Row& row) {
    double pct = total.time.count() ? 100.0 * row.time.count() / total.time.count() : 0.0;
    double usecs = row.calls ? seconds(row.time) * 1e6 / row.calls : 0.0;
    std::snprintf(line, sizeof line, "%6.2f %11.6f %11.0f %9llu %9s %11llu %s\n", pct, seconds(row.time), usecs,
                  static_cast<unsigned long long>(row.calls),
                  row.errors ? std::to_string(row.errors).c_str() : "",
                  static_cast<unsigned long long>(row.bytes), name.c_str());
    out += line;
  };
  out += "% time     seconds  usecs/call     calls    errors bytes-write syscall\n";
  out += "------ ----------- ----------- --------- --------- ----------- ----------------\n";
  for (const auto& [name, row] : sorted) print(name, row);
  out += "------ ----------- ----------- --------- --------- ----------- ----------------\n";
  print("total", total);
  return out;
}

nlohmann::json SyscallSummary::to_json() const {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& [name, row] : rows_)
    rows.push_back({{"syscall", name}, {"calls", row.calls}, {"errors", row.errors},
                    {"bytes_written", row.bytes}, {"seconds", std::chrono::duration<double>(row.time).count()}});
  return {{"syscalls", rows}};
}

}  // namespace hwslice
