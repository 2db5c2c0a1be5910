// CronSchedule: see the header.
#include "shipper/cron_schedule.hpp"

#include <array>
#include <cctype>
#include <charconv>
#include <ctime>
#include <vector>

namespace runner::shipper {
namespace {

struct FieldRule {
  const char* name;
  int low;
  int high;
  std::array<std::string_view, 13> names;  // names[i] is value low + i ("" when none)
};

constexpr FieldRule kMinute{"minute", 0, 59, {}};
constexpr FieldRule kHour{"hour", 0, 23, {}};
constexpr FieldRule kDay{"day of month", 1, 31, {}};
constexpr FieldRule kMonth{
    "month",
    1,
    12,
    {"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}};
constexpr FieldRule kWeekday{
    "day of week", 0, 7, {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}};

std::optional<int> read_value(std::string_view text, const FieldRule& rule) {
  for (std::size_t i = 0; i < rule.names.size(); ++i) {
    const std::string_view name = rule.names[i];
    if (name.empty() || text.size() != name.size()) continue;
    bool same = true;
    for (std::size_t k = 0; k < name.size(); ++k)
      same = same && std::toupper(static_cast<unsigned char>(text[k])) == name[k];
    if (same) return rule.low + static_cast<int>(i);
  }
  int value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < rule.low || value > rule.high) return std::nullopt;
  return value;
}

// One field into `bits` (indexed by value); `star` tells whether it was `*`.
template <std::size_t N>
bool read_field(std::string_view text, const FieldRule& rule, std::bitset<N>& bits, bool& star,
                std::string& problem) {
  star = text == "*";
  auto fail = [&](std::string_view part) {
    problem = std::string(rule.name) + ": \"" + std::string(part) + "\" is not " +
              std::to_string(rule.low) + "-" + std::to_string(rule.high) +
              ", *, a range a-b or a step */n";
    return false;
  };
  std::size_t start = 0;
  while (start <= text.size()) {
    const std::size_t comma = text.find(',', start);
    const std::string_view part = text.substr(
        start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::string_view range = part;
    int step = 1;
    if (const std::size_t slash = part.find('/'); slash != std::string_view::npos) {
      range = part.substr(0, slash);
      const std::string_view step_text = part.substr(slash + 1);
      const auto [end, ec] =
          std::from_chars(step_text.data(), step_text.data() + step_text.size(), step);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step < 1)
        return fail(part);
    }
    int low = rule.low, high = rule.high;
    if (range != "*") {
      const std::size_t dash = range.find('-');
      const auto a = read_value(range.substr(0, dash), rule);
      const auto b = dash == std::string_view::npos ? a : read_value(range.substr(dash + 1), rule);
      if (!a || !b || *a > *b) return fail(part);
      low = *a;
      high = dash == std::string_view::npos && step > 1 ? rule.high : *b;
    }
    for (int v = low; v <= high; v += step) bits.set(static_cast<std::size_t>(v) % N);
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return true;
}

std::string_view nickname(std::string_view expression) {
  if (expression == "@yearly" || expression == "@annually") return "0 0 1 1 *";
  if (expression == "@monthly") return "0 0 1 * *";
  if (expression == "@weekly") return "0 0 * * 0";
  if (expression == "@daily" || expression == "@midnight") return "0 0 * * *";
  if (expression == "@hourly") return "0 * * * *";
  return expression;
}

}  // namespace

std::optional<CronSchedule> CronSchedule::parse(std::string_view expression, std::string& problem) {
  expression = nickname(expression);
  std::vector<std::string_view> fields;
  std::size_t i = 0;
  while (i < expression.size()) {
    while (i < expression.size() && expression[i] == ' ') ++i;
    const std::size_t start = i;
    while (i < expression.size() && expression[i] != ' ') ++i;
    if (i > start) fields.push_back(expression.substr(start, i - start));
  }
  if (fields.size() != 5) {
    problem =
        "expected 5 fields (minute hour day-of-month month day-of-week) or @hourly, "
        "@daily, @weekly, @monthly, @yearly; got " +
        std::to_string(fields.size()) + " fields";
    return std::nullopt;
  }
  CronSchedule s;
  bool star = false;
  // Day of week 7 is Sunday too: bitset<7> takes it modulo 7.
  if (!read_field(fields[0], kMinute, s.minutes_, star, problem) ||
      !read_field(fields[1], kHour, s.hours_, star, problem) ||
      !read_field(fields[2], kDay, s.days_, s.any_day_, problem) ||
      !read_field(fields[3], kMonth, s.months_, star, problem) ||
      !read_field(fields[4], kWeekday, s.weekdays_, s.any_weekday_, problem))
    return std::nullopt;
  return s;
}

std::optional<CronSchedule::TimePoint> CronSchedule::next(TimePoint after) const {
  using std::chrono::minutes;
  auto t = std::chrono::floor<minutes>(after) + minutes(1);
  const auto limit = t + std::chrono::hours(24 * 366);
  for (; t < limit; t += minutes(1)) {
    const std::time_t when = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    localtime_r(&when, &tm);
    if (!months_.test(static_cast<std::size_t>(tm.tm_mon) + 1)) continue;
    const bool day = days_.test(static_cast<std::size_t>(tm.tm_mday));
    const bool weekday = weekdays_.test(static_cast<std::size_t>(tm.tm_wday));
    const bool day_ok = any_day_ && any_weekday_ ? true
                        : any_day_               ? weekday
                        : any_weekday_           ? day
                                                 : day || weekday;
    if (!day_ok) continue;
    if (hours_.test(static_cast<std::size_t>(tm.tm_hour)) &&
        minutes_.test(static_cast<std::size_t>(tm.tm_min)))
      return t;
  }
  return std::nullopt;
}

}  // namespace runner::shipper
