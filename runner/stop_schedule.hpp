// StopSchedule: when a running container is told to stop, and how.
//
// Two things end a container early. The job's timeout: SIGKILL at the deadline (Keboola's rule:
// no grace, the component had its time). A stop request (SIGINT/SIGTERM to runner, a cancel, a
// worker handing the job back): SIGTERM at once and SIGKILL after the stop grace period, as
// `docker stop` does; a second request kills at once; once stopping, the timeout no longer
// applies (the grace period ends it). And one thing ends the wait for a container that has
// exited: its attach stream should end with it, so one that is still open 10 s later means a
// stuck engine connection, and the run stops waiting for it.
//
// A pure state machine: time is always given (`now`), never read, so tests drive it through
// hours of a job in microseconds, and the run loop asks next_due() when to wake. JobDeadline is
// the job's timeout, armed when the first container starts and shared by every container run of
// the job, so that the timeout covers the whole job.
#pragma once

#include "runner/stop_request.hpp"

#include <chrono>
#include <optional>

namespace runner {

class JobDeadline {
 public:
  using Clock = std::chrono::steady_clock;
  explicit JobDeadline(std::chrono::seconds timeout) : timeout_(timeout) {}
  std::chrono::seconds timeout() const { return timeout_; }
  // The deadline, set `timeout` after the first call (the first container's start).
  Clock::time_point arm(Clock::time_point now) {
    if (!deadline_) deadline_ = now + timeout_;
    return *deadline_;
  }

 private:
  std::chrono::seconds timeout_;
  std::optional<Clock::time_point> deadline_;
};

class StopSchedule {
 public:
  using Clock = std::chrono::steady_clock;
  enum class Signal { none, terminate, kill };  // nothing, SIGTERM, SIGKILL
  static constexpr std::chrono::seconds kOutputGrace{10};

  StopSchedule(Clock::time_point deadline, std::chrono::seconds stop_grace)
      : deadline_(deadline), stop_grace_(stop_grace) {}

  // A stop request arrived: SIGTERM the first time (SIGKILL due after the grace), SIGKILL after.
  Signal on_stop_request(const StopRequest& request, Clock::time_point now);
  // What the timers say at `now`: SIGKILL at the deadline (timed out) or at the end of the grace.
  Signal on_time(Clock::time_point now);
  // The next time on_time() may have something to do (Clock::time_point::max() for never).
  Clock::time_point next_due() const;
  // The container exited at or before `now` but its output has not ended: true once that has
  // lasted kOutputGrace.
  bool output_overdue(Clock::time_point now);

  bool timed_out() const { return timed_out_; }
  const std::optional<StopRequest>& stop_request() const { return stop_request_; }
  std::chrono::seconds stop_grace() const { return stop_grace_; }

 private:
  static constexpr Clock::time_point kNever = Clock::time_point::max();
  Clock::time_point deadline_;
  std::chrono::seconds stop_grace_;
  Clock::time_point force_kill_at_ = kNever;
  Clock::time_point exited_at_ = kNever;
  bool timed_out_ = false;
  std::optional<StopRequest> stop_request_;
};

}  // namespace runner
