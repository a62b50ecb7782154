#include "doctor/program_check.h"

#include <elf.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>

namespace hwslice {
namespace {

class ProgramCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/hwslice-progcheck.XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string file(const std::string& name, const std::string& content, mode_t mode) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << content;
    chmod(path.c_str(), mode);
    return path;
  }
  std::string elf(const std::string& name, uint16_t machine, unsigned char cls = ELFCLASS64) {
    Elf64_Ehdr eh{};
    std::memcpy(eh.e_ident, ELFMAG, SELFMAG);
    eh.e_ident[EI_CLASS] = cls;
    eh.e_type = ET_DYN;
    eh.e_machine = machine;
    return file(name, std::string(reinterpret_cast<char*>(&eh), sizeof eh), 0755);
  }
  std::string dir_;
};

TEST_F(ProgramCheckTest, AcceptsRiscv64ElfAndScripts) {
  std::string p = elf("rv", EM_RISCV);
  EXPECT_EQ(*check_program(p, ""), p);
  EXPECT_EQ(*check_program("rv", dir_), dir_ + "/rv");  // PATH search
  std::string s = file("script", "#!/bin/sh\necho hi\n", 0755);
  EXPECT_TRUE(check_program(s, ""));
}

TEST_F(ProgramCheckTest, EveryUserMistakeIsOneClearError) {
  auto msg = [&](const std::string& prog) {
    auto r = check_program(prog, dir_);
    return r ? std::string("accepted") : r.error().message();
  };
  EXPECT_EQ(msg(elf("x86", EM_X86_64)), dir_ + "/x86: an x86-64 program, not riscv64");
  EXPECT_EQ(msg(elf("arm32", EM_ARM, ELFCLASS32)), dir_ + "/arm32: a 32-bit program, not riscv64");
  EXPECT_EQ(msg(file("text", "hello world\n", 0755)), dir_ + "/text: not an ELF executable");
  EXPECT_EQ(msg(file("noexec", "#!/bin/sh\n", 0644)), dir_ + "/noexec: not executable: Permission denied");
  EXPECT_EQ(msg("missing-program"), "missing-program: command not found");
  EXPECT_EQ(msg(dir_ + "/nope"), dir_ + "/nope: No such file or directory");
  EXPECT_EQ(msg(dir_), dir_ + ": is a directory");
  EXPECT_EQ(msg(""), "no program given");
}

}  // namespace
}  // namespace hwslice
