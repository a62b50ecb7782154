#include "slicer/slice_runner.h"

#include <elf.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>

#include "base/file_bytes.h"

namespace hwslice {

Result<SliceStats> parse_slice_stats(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error("the slice's statistics are not a JSON object: " + text);
  SliceStats s;
  s.present = true;
  auto str = [&](const char* key, std::string& out) {
    if (j.contains(key) && j[key].is_string()) out = j[key].get<std::string>();
  };
  auto num = [&](const char* key, uint64_t& out) {
    if (j.contains(key) && j[key].is_number_integer()) out = j[key].get<uint64_t>();
  };
  auto flag = [&](const char* key, bool& out) {
    if (j.contains(key) && j[key].is_boolean()) out = j[key].get<bool>();
  };
  str("name", s.name);
  str("status", s.status);
  str("end", s.end);
  str("counters", s.counters);
  str("detail", s.detail);
  str("digest", s.digest);
  num("hits", s.hits);
  num("traps", s.traps);
  num("end_traps", s.end_traps);
  num("region_ns", s.region_ns);
  num("end_pass", s.end_pass);
  num("instructions", s.instructions);
  num("cycles", s.cycles);
  num("overhead_instructions", s.overhead_instructions);
  num("overhead_cycles", s.overhead_cycles);
  num("calls_replayed", s.calls_replayed);
  flag("regs_match", s.regs_match);
  flag("digest_match", s.digest_match);
  if (s.status.empty()) return Error("the slice's statistics have no status: " + text);
  return s;
}

std::vector<std::string> runner_words(const std::string& runner) {
  std::vector<std::string> words;
  std::string w;
  for (char c : runner + " ") {
    if (c != ' ') {
      w += c;
    } else if (!w.empty()) {
      words.push_back(w);
      w.clear();
    }
  }
  return words;
}

namespace {

struct Pipe {
  int fd[2] = {-1, -1};
  ~Pipe() {
    for (int f : fd)
      if (f >= 0) ::close(f);
  }
};

}  // namespace

Result<SliceRun> run_slice(const std::string& path, const std::vector<std::string>& runner, bool quiet,
                           double timeout_seconds) {
  if (::access(path.c_str(), F_OK) != 0) return Error::from_errno("slice " + path);
  Pipe out, err, stats;
  if (::pipe2(out.fd, O_CLOEXEC) || ::pipe2(err.fd, O_CLOEXEC) || ::pipe2(stats.fd, O_CLOEXEC))
    return Error::from_errno("pipe");
  std::vector<std::string> words = runner;
  words.push_back(path);
  std::vector<char*> argv;
  for (std::string& w : words) argv.push_back(w.data());
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) return Error::from_errno("fork");
  if (pid == 0) {
    ::dup2(out.fd[1], 1);
    ::dup2(err.fd[1], 2);
    ::dup2(stats.fd[1], 3);
    ::setenv("HWSLICE_STATS_FD", "3", 1);
    if (quiet) ::setenv("HWSLICE_QUIET", "1", 1);
    else ::unsetenv("HWSLICE_QUIET");
    ::execvp(argv[0], argv.data());
    std::fprintf(stderr, "hwslice: error: cannot run %s: %s\n", argv[0], std::strerror(errno));
    ::_exit(127);
  }
  ::close(out.fd[1]);
  ::close(err.fd[1]);
  ::close(stats.fd[1]);
  out.fd[1] = err.fd[1] = stats.fd[1] = -1;
  SliceRun run;
  std::string stats_text;
  pollfd fds[3] = {{out.fd[0], POLLIN, 0}, {err.fd[0], POLLIN, 0}, {stats.fd[0], POLLIN, 0}};
  int open = 3;
  char buf[65536];
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(timeout_seconds > 0 ? timeout_seconds : 0));
  while (open > 0) {
    int wait_ms = -1;
    if (timeout_seconds > 0) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
      if (left <= 0) {
        // Its pipes may stay open (a child it started); stop reading them.
        ::kill(pid, SIGKILL);
        run.timed_out = true;
        break;
      }
      wait_ms = static_cast<int>(std::min<long long>(left, 1000));
    }
    const int ready = ::poll(fds, 3, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (ready == 0) continue;
    for (int i = 0; i < 3; ++i) {
      if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        fds[i].fd = -1;
        --open;
        continue;
      }
      if (i == 0) run.out.insert(run.out.end(), buf, buf + n);
      if (i == 1) {
        run.err.insert(run.err.end(), buf, buf + n);
        if (!quiet) (void)!::write(2, buf, static_cast<size_t>(n));
      }
      if (i == 2) stats_text.append(buf, static_cast<size_t>(n));
    }
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) run.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  while (!stats_text.empty() && (stats_text.back() == '\n' || stats_text.back() == '\0')) stats_text.pop_back();
  if (!stats_text.empty()) {
    auto s = parse_slice_stats(stats_text);
    if (!s) return s.error();
    run.stats = *s;
  }
  return run;
}

Result<hws_config> read_slice_config(const std::string& path) {
  auto file = read_file_bytes(path);
  if (!file) return file.error();
  const std::vector<uint8_t>& bytes = *file;
  const std::string what = path + " is not a hwslice slice";
  if (bytes.size() < sizeof(Elf64_Ehdr)) return Error(what + " (too short)");
  Elf64_Ehdr eh;
  std::memcpy(&eh, bytes.data(), sizeof eh);
  if (std::memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 || eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_machine != EM_RISCV)
    return Error(what + " (not a 64-bit RISC-V ELF)");
  int loads = 0;
  for (unsigned i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    const uint64_t at = eh.e_phoff + uint64_t{i} * sizeof ph;
    if (at + sizeof ph > bytes.size()) return Error(what + " (truncated program headers)");
    std::memcpy(&ph, bytes.data() + at, sizeof ph);
    if (ph.p_type != PT_LOAD || ++loads != 2) continue;
    if (ph.p_offset + sizeof(hws_config) > bytes.size()) return Error(what + " (truncated config)");
    hws_config c;
    std::memcpy(&c, bytes.data() + ph.p_offset, sizeof c);
    if (c.magic != HWS_MAGIC) return Error(what + " (no config block)");
    if (c.version != HWS_VERSION)
      return Error(path + " was written by another hwslice version (slice format " + std::to_string(c.version) +
                   ", this hwslice reads " + std::to_string(HWS_VERSION) + ")");
    c.name[sizeof c.name - 1] = 0;
    return c;
  }
  return Error(what + " (no config segment)");
}

}  // namespace hwslice
