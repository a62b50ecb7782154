#include "base/file_bytes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include "base/unique_fd.h"

namespace hwslice {

Result<std::vector<uint8_t>> read_file_bytes(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return Error::from_errno("cannot open " + path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return Error::from_errno("cannot stat " + path);
  // The size is a hint (files in /proc say 0): read until end of file.
  std::vector<uint8_t> bytes(st.st_size > 0 ? static_cast<size_t>(st.st_size) : 0);
  size_t used = 0;
  while (true) {
    if (used == bytes.size()) bytes.resize(bytes.size() + 65536);
    const ssize_t n = ::read(fd.get(), bytes.data() + used, bytes.size() - used);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::from_errno("cannot read " + path);
    }
    if (n == 0) break;
    used += static_cast<size_t>(n);
  }
  bytes.resize(used);
  return bytes;
}

}  // namespace hwslice
