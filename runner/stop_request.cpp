// Stop sources: see the header.
#include "runner/stop_request.hpp"

#include "runner/errors.hpp"

#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>

namespace runner {

SignalStopSource::SignalStopSource() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  if (sigprocmask(SIG_BLOCK, &set, &previous_) != 0)
    throw InternalError(std::string("cannot block signals: ") + std::strerror(errno));
  fd_ = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
  if (fd_ < 0) {
    sigprocmask(SIG_SETMASK, &previous_, nullptr);
    throw InternalError(std::string("cannot create signalfd: ") + std::strerror(errno));
  }
}

SignalStopSource::~SignalStopSource() {
  ::close(fd_);
  sigprocmask(SIG_SETMASK, &previous_, nullptr);
}

std::optional<StopRequest> SignalStopSource::take() {
  signalfd_siginfo info{};
  const ssize_t n = ::read(fd_, &info, sizeof info);
  if (n != static_cast<ssize_t>(sizeof info)) return std::nullopt;
  if (info.ssi_signo == SIGINT) return StopRequest{kExitInterrupted, "SIGINT"};
  return StopRequest{kExitTerminated, "SIGTERM"};
}

EventStopSource::EventStopSource() : fd_(eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  if (fd_ < 0) throw InternalError(std::string("cannot create eventfd: ") + std::strerror(errno));
}

EventStopSource::~EventStopSource() {
  ::close(fd_);
}

void EventStopSource::request_stop() {
  const std::uint64_t one = 1;
  [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

std::optional<StopRequest> EventStopSource::take() {
  std::uint64_t value = 0;
  if (::read(fd_, &value, sizeof value) != static_cast<ssize_t>(sizeof value) || value == 0)
    return std::nullopt;
  return StopRequest{kExitTerminated, "a stop request"};
}

}  // namespace runner
