// StopSchedule and JobDeadline: the timeout, stop-grace and force-kill rules, driven by a clock
// the test owns (no sleeping, no Docker).
#include "runner/stop_schedule.hpp"

#include <catch2/catch.hpp>

using runner::JobDeadline;
using runner::StopRequest;
using runner::StopSchedule;
using Signal = StopSchedule::Signal;
using namespace std::chrono_literals;

namespace {
const StopSchedule::Clock::time_point t0{};  // the container's start
const StopRequest sigterm{143, "SIGTERM"};
const StopRequest sigint{130, "SIGINT"};
}  // namespace

TEST_CASE("the timeout kills at once at the deadline, and only once", "[runner][stop]") {
  StopSchedule schedule(t0 + 60s, 2s);
  CHECK(schedule.next_due() == t0 + 60s);
  CHECK(schedule.on_time(t0) == Signal::none);
  CHECK(schedule.on_time(t0 + 59s + 999ms) == Signal::none);
  CHECK_FALSE(schedule.timed_out());
  CHECK(schedule.on_time(t0 + 60s) == Signal::kill);
  CHECK(schedule.timed_out());
  CHECK_FALSE(schedule.stop_request().has_value());
  // Killed once; nothing more is due.
  CHECK(schedule.on_time(t0 + 61s) == Signal::none);
  CHECK(schedule.next_due() == StopSchedule::Clock::time_point::max());
}

TEST_CASE("a stop request terminates, then kills after the grace period", "[runner][stop]") {
  StopSchedule schedule(t0 + 3600s, 2s);
  CHECK(schedule.on_stop_request(sigterm, t0 + 10s) == Signal::terminate);
  REQUIRE(schedule.stop_request().has_value());
  CHECK(schedule.stop_request()->exit_code == 143);
  CHECK(schedule.next_due() == t0 + 12s);
  CHECK(schedule.on_time(t0 + 11s) == Signal::none);
  CHECK(schedule.on_time(t0 + 12s) == Signal::kill);
  CHECK(schedule.next_due() == StopSchedule::Clock::time_point::max());
  CHECK(schedule.on_time(t0 + 13s) == Signal::none);
  CHECK_FALSE(schedule.timed_out());
}

TEST_CASE("a second stop request kills at once, the first one's reason stays", "[runner][stop]") {
  StopSchedule schedule(t0 + 3600s, 30s);
  CHECK(schedule.on_stop_request(sigint, t0 + 5s) == Signal::terminate);
  CHECK(schedule.on_stop_request(sigterm, t0 + 6s) == Signal::kill);
  CHECK(std::string(schedule.stop_request()->reason) == "SIGINT");
  // The kill already happened: the grace period's kill is not due any more.
  CHECK(schedule.on_time(t0 + 40s) == Signal::none);
}

TEST_CASE("once stopping, the timeout no longer applies", "[runner][stop]") {
  StopSchedule schedule(t0 + 10s, 5s);
  CHECK(schedule.on_stop_request(sigterm, t0 + 8s) == Signal::terminate);
  CHECK(schedule.next_due() == t0 + 13s);  // the grace's end, not the deadline
  CHECK(schedule.on_time(t0 + 10s) == Signal::none);
  CHECK(schedule.on_time(t0 + 13s) == Signal::kill);
  CHECK_FALSE(schedule.timed_out());
}

TEST_CASE("after a timeout a stop request still terminates and kills", "[runner][stop]") {
  StopSchedule schedule(t0 + 1s, 2s);
  CHECK(schedule.on_time(t0 + 1s) == Signal::kill);
  CHECK(schedule.on_stop_request(sigint, t0 + 2s) == Signal::terminate);
  CHECK(schedule.on_time(t0 + 4s) == Signal::kill);
  CHECK(schedule.timed_out());
}

TEST_CASE("an exited container's open output is given up after 10 s", "[runner][stop]") {
  StopSchedule schedule(t0 + 3600s, 2s);
  CHECK_FALSE(schedule.output_overdue(t0 + 100s));  // first seen exited here
  CHECK_FALSE(schedule.output_overdue(t0 + 105s));
  CHECK_FALSE(schedule.output_overdue(t0 + 110s));
  CHECK(schedule.output_overdue(t0 + 110s + 1ms));
}

TEST_CASE("the job's deadline is armed once and shared by later runs", "[runner][stop]") {
  JobDeadline deadline(600s);
  CHECK(deadline.timeout() == 600s);
  CHECK(deadline.arm(t0 + 5s) == t0 + 605s);
  // A second container of the same job (a processor, a row) gets what is left.
  CHECK(deadline.arm(t0 + 300s) == t0 + 605s);
}
