// CronSchedule: the `cron` of a Kestra Schedule trigger, for `runner ship --schedule`.
//
// Kestra's Schedule trigger takes a Unix cron expression: five fields (minute 0-59, hour 0-23,
// day of month 1-31, month 1-12 or JAN-DEC, day of week 0-7 or SUN-SAT, 0 and 7 both Sunday),
// each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of those; and the
// nicknames @yearly (@annually), @monthly, @weekly, @daily (@midnight), @hourly. As in Vixie cron,
// when both day fields are restricted a day matching either one fires. Times are the machine's
// local time (Kestra's default zone is its server's). next() looks at most 366 days ahead,
// minute by minute: bounded work, whatever the expression.
#pragma once

#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace runner::shipper {

class CronSchedule {
 public:
  using TimePoint = std::chrono::system_clock::time_point;

  // nullopt, with `problem` saying which field is wrong and why, for an invalid expression.
  static std::optional<CronSchedule> parse(std::string_view expression, std::string& problem);

  // The first matching minute strictly after `after`; nullopt when none within 366 days (a
  // date that never comes, such as February 30).
  std::optional<TimePoint> next(TimePoint after) const;

 private:
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1-31
  std::bitset<13> months_;   // 1-12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool any_day_ = true;      // day of month is `*`
  bool any_weekday_ = true;  // day of week is `*`
};

}  // namespace runner::shipper
