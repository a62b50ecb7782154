#include "cli/output_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>

namespace hwslice::cli {

Result<std::unique_ptr<OutputFile>> OutputFile::create(const std::string& path) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  std::unique_ptr<OutputFile> f(new OutputFile(path, tmp));
  f->out_.open(tmp, std::ios::binary | std::ios::trunc);
  if (!f->out_) return Error::from_errno("cannot create " + path);
  return f;
}

OutputFile::~OutputFile() {
  if (!committed_) {
    out_.close();
    ::unlink(tmp_.c_str());
  }
}

Status OutputFile::commit() {
  out_.flush();
  if (!out_) return Error::from_errno("writing " + path_, errno ? errno : EIO);
  out_.close();
  int fd = ::open(tmp_.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0 && executable_ && ::fchmod(fd, 0755) != 0) {
    int err = errno;
    ::close(fd);
    return Error::from_errno("making " + path_ + " executable", err);
  }
  if (fd >= 0) {
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    if (rc != 0) return Error::from_errno("writing " + path_, err);
  }
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) return Error::from_errno("renaming into " + path_);
  committed_ = true;
  return ok_status();
}

}  // namespace hwslice::cli
