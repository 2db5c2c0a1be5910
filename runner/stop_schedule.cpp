// StopSchedule: see the header.
#include "runner/stop_schedule.hpp"

#include <algorithm>

namespace runner {

StopSchedule::Signal StopSchedule::on_stop_request(const StopRequest& request,
                                                   Clock::time_point now) {
  if (stop_request_) {
    force_kill_at_ = kNever;
    return Signal::kill;
  }
  stop_request_ = request;
  force_kill_at_ = now + stop_grace_;
  return Signal::terminate;
}

StopSchedule::Signal StopSchedule::on_time(Clock::time_point now) {
  if (now >= force_kill_at_) {
    force_kill_at_ = kNever;
    return Signal::kill;
  }
  if (!timed_out_ && !stop_request_ && now >= deadline_) {
    timed_out_ = true;
    return Signal::kill;
  }
  return Signal::none;
}

StopSchedule::Clock::time_point StopSchedule::next_due() const {
  const Clock::time_point deadline = timed_out_ || stop_request_ ? kNever : deadline_;
  return std::min(deadline, force_kill_at_);
}

bool StopSchedule::output_overdue(Clock::time_point now) {
  if (exited_at_ == kNever) exited_at_ = now;
  return now - exited_at_ > kOutputGrace;
}

}  // namespace runner
