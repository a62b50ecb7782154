#include "slicer/slice_check.h"

#include <fcntl.h>
#include <unistd.h>

#include "slicer/slice_runner.h"

namespace hwslice {

namespace {

Status write_file(const std::string& path, const std::vector<uint8_t>& bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0700);
  if (fd < 0) return Error::from_errno("cannot create " + path);
  size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      const Error e = Error::from_errno("writing " + path);
      ::close(fd);
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Error::from_errno("writing " + path);
  return ok_status();
}

}  // namespace

Result<CheckedSlice> write_slice_checked(const SliceSpec& spec, const runtime::Image& rt, const std::string& scratch,
                                         const SliceOptions& options) {
  auto first = write_slice(spec, rt, options);
  if (!first) return first.error();
  CheckedSlice out{std::move(*first)};
  if (!out.file.summary.counted_batches) return out;
  Status st = write_file(scratch, out.file.bytes);
  Result<SliceRun> run = st ? run_slice(scratch, {}, true, 600) : Result<SliceRun>(st.error());
  ::unlink(scratch.c_str());
  if (!run) return run.error().wrap("running the slice once to check its end");
  out.ran = true;
  const SliceStats& s = run->stats;
  if (!(s.present && s.status == "diverged" && s.detail.find("ran past its end") != std::string::npos)) return out;
  SliceOptions every = options;
  every.every_pass = true;
  auto again = write_slice(spec, rt, every);
  if (!again) return again.error();
  out.file = std::move(*again);
  out.every_pass = true;
  return out;
}

}  // namespace hwslice
