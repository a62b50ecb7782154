// UniqueFd: owns one file descriptor and closes it exactly once.
//
// Contract: move-only; release() gives up ownership; a default or moved-from
// UniqueFd holds -1. Used for perf_event fds, /proc/<pid>/mem and trace
// files so no error path leaks a descriptor into a tracee or a slice.
#pragma once

#include <unistd.h>

#include <utility>

namespace hwslice {

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  int release() { return std::exchange(fd_, -1); }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

}  // namespace hwslice
