// Small pieces shared by the GELF benchmark programs: an owning file descriptor (RAII), the
// clock, the process's CPU time, "--name value" argument lookup, and the one-line "key=value"
// report format run.sh parses. Kept here so gelf_load, gelf_sink and recvmmsg_floor measure and
// print the same way.
#pragma once

#include <sys/resource.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace bench {

// Owns one file descriptor and closes it on destruction.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) {
      reset();
      fd_ = std::exchange(other.fd_, -1);
    }
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

using Clock = std::chrono::steady_clock;

inline double seconds_between(Clock::time_point from, Clock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

// CPU time (user + system, all threads) this process has used so far, in seconds.
inline double process_cpu_seconds() {
  rusage usage{};
  ::getrusage(RUSAGE_SELF, &usage);
  const auto seconds = [](const timeval& value) {
    return static_cast<double>(value.tv_sec) + static_cast<double>(value.tv_usec) / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Looks up "--name value" in argv; returns `fallback` when absent.
class Args {
 public:
  Args(int argc, char** argv) : argc_(argc), argv_(argv) {}

  std::string text(std::string_view name, std::string fallback) const {
    for (int i = 1; i + 1 < argc_; ++i) {
      if (name == argv_[i]) return argv_[i + 1];
    }
    return fallback;
  }
  double number(std::string_view name, double fallback) const {
    const std::string value = text(name, "");
    if (value.empty()) return fallback;
    char* end = nullptr;
    const double parsed = std::strtod(value.c_str(), &end);
    if (end == value.c_str() || *end != '\0') {
      throw std::invalid_argument("not a number for " + std::string(name) + ": " + value);
    }
    return parsed;
  }

 private:
  int argc_;
  char** argv_;
};

}  // namespace bench
