// slice_e2e_write DIR: writes the hand-made slices of slicer/slice_test_program.h
// with the real runtime into DIR (NAME.slice, executable, and NAME.digest,
// the digest the memory must have at the end) for slicer/run_slice.cmake.
#include <sys/stat.h>

#include <cinttypes>
#include <cstdio>
#include <fstream>
#include <string>

#include "runtime/runtime_image.h"
#include "slicer/slice_test_program.h"
#include "slicer/slice_writer.h"

namespace {

using namespace hwslice;
using test_program::End;

bool write_file(const std::string& path, const void* data, size_t size, mode_t mode) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
  out.close();
  return out && ::chmod(path.c_str(), mode) == 0;
}

bool emit(const std::string& dir, const std::string& name, End end, bool near_stubs, uint64_t digest_xor) {
  SliceSpec spec = test_program::make_spec(end);
  const uint64_t true_digest = spec.digest;
  spec.digest ^= digest_xor;
  SliceOptions options;
  options.near_stubs = near_stubs;
  auto slice = write_slice(spec, runtime::image(), options);
  if (!slice) {
    std::fprintf(stderr, "slice_e2e_write: %s: %s\n", name.c_str(), slice.error().message().c_str());
    return false;
  }
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016" PRIx64, true_digest);
  const std::string base = dir + "/" + name;
  if (!write_file(base + ".slice", slice->bytes.data(), slice->bytes.size(), 0755) ||
      !write_file(base + ".digest", hex, 16, 0644)) {
    std::fprintf(stderr, "slice_e2e_write: cannot write %s.*\n", base.c_str());
    return false;
  }
  const SliceSummary& s = slice->summary;
  std::printf("%s: %" PRIu64 " bytes, runtime at 0x%" PRIx64 ", %zu in place, %zu near, %zu trap, %zu stub pages, "
              "%zu calls replayed\n",
              name.c_str(), s.file_size, s.runtime_base, s.in_place_sites, s.near_sites, s.trap_sites, s.stub_pages,
              s.replayed_calls);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: slice_e2e_write DIR\n");
    return 2;
  }
  const std::string dir = argv[1];
  ::mkdir(dir.c_str(), 0755);
  bool ok = emit(dir, "loop", End::kLoopAdd, true, 0);
  ok = emit(dir, "loop-traps", End::kLoopStore, false, 0) && ok;
  ok = emit(dir, "exit", End::kExit, true, 0) && ok;
  ok = emit(dir, "bad-digest", End::kLoopAdd, true, 1) && ok;
  return ok ? 0 : 1;
}
