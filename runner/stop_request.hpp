// StopRequest: how a running job is asked to stop from outside its loop.
//
// The job loop polls file descriptors, so a stop source is a readable fd plus a way to read
// what was asked. Two sources exist: SignalStopSource (SIGINT/SIGTERM through signalfd, for the
// CLI: no handler, no global state) and EventStopSource (an eventfd another thread triggers,
// for embedding).
#pragma once

#include <csignal>
#include <optional>

namespace runner {

struct StopRequest {
  int exit_code;       // 130 for SIGINT, 143 for SIGTERM (or as the requester asks)
  const char* reason;  // "SIGINT", "SIGTERM", "a stop request" (EventStopSource)
};

class StopSource {
 public:
  virtual ~StopSource() = default;
  virtual int fd() const = 0;
  // Reads a pending request, if any. Never blocks.
  virtual std::optional<StopRequest> take() = 0;
};

// Blocks SIGINT and SIGTERM for the process and delivers them through a signalfd. The previous
// signal mask is restored on destruction.
class SignalStopSource final : public StopSource {
 public:
  SignalStopSource();
  ~SignalStopSource() override;
  SignalStopSource(const SignalStopSource&) = delete;
  SignalStopSource& operator=(const SignalStopSource&) = delete;
  int fd() const override { return fd_; }
  std::optional<StopRequest> take() override;

 private:
  int fd_ = -1;
  sigset_t previous_{};
};

// Triggered by request_stop(), safe from any thread.
class EventStopSource final : public StopSource {
 public:
  EventStopSource();
  ~EventStopSource() override;
  EventStopSource(const EventStopSource&) = delete;
  EventStopSource& operator=(const EventStopSource&) = delete;
  void request_stop();
  int fd() const override { return fd_; }
  std::optional<StopRequest> take() override;

 private:
  int fd_ = -1;
};

}  // namespace runner
