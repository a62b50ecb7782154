// OutputFile: a file that appears complete or not at all. Writes go to
// "<path>.tmp.<pid>"; commit() flushes, fsyncs and renames it into place;
// destruction without commit removes the temporary. A full disk or any
// write error is reported by commit() with the path and errno.
#pragma once

#include <fstream>
#include <memory>
#include <string>

#include "base/result.h"

namespace hwslice::cli {

class OutputFile {
 public:
  static Result<std::unique_ptr<OutputFile>> create(const std::string& path);
  ~OutputFile();

  std::ostream& stream() { return out_; }
  // The file gets mode 0755 when committed (a slice).
  void set_executable() { executable_ = true; }
  Status commit();

 private:
  OutputFile(std::string path, std::string tmp) : path_(std::move(path)), tmp_(std::move(tmp)) {}
  std::string path_, tmp_;
  std::ofstream out_;
  bool committed_ = false;
  bool executable_ = false;
};

}  // namespace hwslice::cli
