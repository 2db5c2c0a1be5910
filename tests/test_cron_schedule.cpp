// CronSchedule: the cron of a Kestra Schedule trigger (`runner ship --schedule`): fields,
// ranges, steps, lists, names, nicknames, Vixie cron's either-day rule, and bad expressions
// named by field. Times are local: the cases set TZ=UTC so they read the same everywhere.
#include "shipper/cron_schedule.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <ctime>

using runner::shipper::CronSchedule;

namespace {

class UtcZone {
 public:
  UtcZone() {
    const char* tz = std::getenv("TZ");
    if (tz != nullptr) saved_ = tz;
    had_ = tz != nullptr;
    ::setenv("TZ", "UTC", 1);
    ::tzset();
  }
  ~UtcZone() {
    if (had_)
      ::setenv("TZ", saved_.c_str(), 1);
    else
      ::unsetenv("TZ");
    ::tzset();
  }
  UtcZone(const UtcZone&) = delete;
  UtcZone& operator=(const UtcZone&) = delete;

 private:
  std::string saved_;
  bool had_ = false;
};

// 2026-12-02T04:13:30Z, a Wednesday.
const CronSchedule::TimePoint kNow = std::chrono::system_clock::from_time_t(1796184810);

std::string next_after(const std::string& expression, CronSchedule::TimePoint from = kNow) {
  std::string problem;
  const auto schedule = CronSchedule::parse(expression, problem);
  REQUIRE(schedule);
  const auto next = schedule->next(from);
  if (!next) return "none";
  const std::time_t t = std::chrono::system_clock::to_time_t(*next);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M %a", &tm);
  return text;
}

}  // namespace

TEST_CASE("cron: the next minute each kind of field names", "[shipper][cron]") {
  const UtcZone utc;
  CHECK(next_after("* * * * *") == "2026-12-02T04:14 Wed");
  CHECK(next_after("0 * * * *") == "2026-12-02T05:00 Wed");
  CHECK(next_after("*/15 * * * *") == "2026-12-02T04:15 Wed");
  CHECK(next_after("5/20 * * * *") == "2026-12-02T04:25 Wed");
  CHECK(next_after("30 2 * * *") == "2026-12-03T02:30 Thu");
  CHECK(next_after("0 9-17/4 * * MON-FRI") == "2026-12-02T09:00 Wed");
  CHECK(next_after("0 0 * * SUN") == "2026-12-06T00:00 Sun");
  CHECK(next_after("0 0 * * 7") == "2026-12-06T00:00 Sun");  // 7 is Sunday too
  CHECK(next_after("0 0 1 JAN *") == "2027-01-01T00:00 Fri");
  CHECK(next_after("0 12 1,15 * *") == "2026-12-15T12:00 Tue");
  CHECK(next_after("@hourly") == "2026-12-02T05:00 Wed");
  CHECK(next_after("@daily") == "2026-12-03T00:00 Thu");
  CHECK(next_after("@weekly") == "2026-12-06T00:00 Sun");
  CHECK(next_after("@monthly") == "2027-01-01T00:00 Fri");
  CHECK(next_after("@yearly") == "2027-01-01T00:00 Fri");
  // Both day fields restricted: either one fires (Vixie cron).
  CHECK(next_after("0 0 13 * FRI") == "2026-12-04T00:00 Fri");
  // A date that never comes.
  CHECK(next_after("0 0 30 2 *") == "none");
}

TEST_CASE("cron: bad expressions name the field", "[shipper][cron]") {
  for (const auto& [expression, wanted] :
       std::vector<std::pair<std::string, std::string>>{{"* * * *", "expected 5 fields"},
                                                        {"61 * * * *", "minute: \"61\""},
                                                        {"* 24 * * *", "hour: \"24\""},
                                                        {"* * 0 * *", "day of month: \"0\""},
                                                        {"* * * 13 *", "month: \"13\""},
                                                        {"* * * * 8", "day of week: \"8\""},
                                                        {"*/0 * * * *", "minute: \"*/0\""},
                                                        {"5-1 * * * *", "minute: \"5-1\""},
                                                        {"x * * * *", "minute: \"x\""},
                                                        {"@often", "expected 5 fields"}}) {
    INFO(expression);
    std::string problem;
    CHECK_FALSE(CronSchedule::parse(expression, problem));
    CHECK_THAT(problem, Catch::Contains(wanted));
  }
}
