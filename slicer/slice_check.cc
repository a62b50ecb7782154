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

// Writes and runs the slice once; the run's statistics.
Result<SliceStats> run_once(const SliceFile& file, const std::string& scratch) {
  Status st = write_file(scratch, file.bytes);
  Result<SliceRun> run = st ? run_slice(scratch, {}, true, 600) : Result<SliceRun>(st.error());
  ::unlink(scratch.c_str());
  if (!run) return run.error().wrap("running the slice once to find the pass its end is at");
  return run->stats;
}

bool ended_well(const SliceStats& s) { return s.present && s.status == "ok" && s.end_pass > 0; }

}  // namespace

Result<CheckedSlice> write_slice_checked(const SliceSpec& spec, const runtime::Image& rt, const std::string& scratch,
                                         const SliceOptions& options) {
  auto first = write_slice(spec, rt, options);
  if (!first) return first.error();
  CheckedSlice out{std::move(*first)};
  if (!out.file.summary.counted_unknown_pass) return out;
  auto stats = run_once(out.file, scratch);
  if (!stats) return stats.error();
  ++out.runs;
  SliceOptions next = options;
  if (stats->present && stats->status == "diverged" && stats->detail.find("ran past its end") != std::string::npos &&
      out.file.summary.counted_batches) {
    next.every_pass = true;
    auto every = write_slice(spec, rt, next);
    if (!every) return every.error();
    out.file = std::move(*every);
    out.every_pass = true;
    stats = run_once(out.file, scratch);
    if (!stats) return stats.error();
    ++out.runs;
  }
  if (!ended_well(*stats)) return out;
  next.measured_end_pass = stats->end_pass;
  next.every_pass = false;  // one check, at that pass
  auto known = write_slice(spec, rt, next);
  if (!known) return known.error();
  out.file = std::move(*known);
  out.end_pass = stats->end_pass;
  return out;
}

}  // namespace hwslice
