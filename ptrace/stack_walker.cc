#include "ptrace/stack_walker.h"

#include <libunwind-ptrace.h>

#include <cstdio>

namespace hwslice {

std::vector<std::string> walk_stack(pid_t pid, unsigned max_frames) {
  std::vector<std::string> out;
  // One address space per process: libunwind caches unwind info in it.
  static unw_addr_space_t as = unw_create_addr_space(&_UPT_accessors, 0);
  if (!as) return {"(unwinding stopped: no libunwind address space)"};
  void* ctx = _UPT_create(pid);
  if (!ctx) return {"(unwinding stopped: _UPT_create failed)"};
  unw_flush_cache(as, 0, 0);
  unw_cursor_t cursor;
  int rc = unw_init_remote(&cursor, as, ctx);
  for (unsigned i = 0; rc >= 0 && i < max_frames; ++i) {
    unw_word_t ip = 0, off = 0;
    unw_get_reg(&cursor, UNW_REG_IP, &ip);
    char name[256];
    char line[320];
    if (unw_get_proc_name(&cursor, name, sizeof name, &off) == 0)
      std::snprintf(line, sizeof line, "0x%llx %s+0x%llx", static_cast<unsigned long long>(ip), name,
                    static_cast<unsigned long long>(off));
    else
      std::snprintf(line, sizeof line, "0x%llx", static_cast<unsigned long long>(ip));
    out.push_back(line);
    rc = unw_step(&cursor);
    if (rc == 0) break;
  }
  if (rc < 0) out.push_back(std::string("(unwinding stopped: ") + unw_strerror(rc) + ")");
  _UPT_destroy(ctx);
  return out;
}

}  // namespace hwslice
