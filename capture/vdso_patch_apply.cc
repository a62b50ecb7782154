// The riscv64 side of capture/vdso_patch.h: writing the stubs into a tracee.
#include "capture/vdso_patch.h"

#include <vector>

#include "ptrace/tracee.h"

namespace hwslice {

Status patch_vdso_time(Tracee& t) {
  auto maps = read_maps(t.pid());
  if (!maps) return maps.error();
  for (const Mapping& m : *maps) {
    if (m.path != "[vdso]") continue;
    std::vector<uint8_t> image(m.end - m.start);
    HWSLICE_TRY(t.read(RemoteAddr(m.start), image.data(), image.size()));
    auto symbols = vdso_symbols(image);
    if (!symbols) return symbols.error().wrap("cannot read the vDSO's symbols");
    for (const VdsoPatch& p : vdso_time_patches(*symbols, m.start))
      if (auto st = t.write(RemoteAddr(p.addr), p.code.data(), p.code.size()); !st)
        return st.error().wrap("cannot route " + p.symbol + " through a syscall");
  }
  return ok_status();
}

}  // namespace hwslice
