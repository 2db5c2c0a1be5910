// StreamRules: see the header.
#include "runner/stream_rules.hpp"

namespace runner {
namespace {

using logging::Level;

constexpr std::size_t kHeldBytes = 1024 * 1024;      // head and tail of stderr, held stdout
constexpr std::size_t kLiveStdoutBytes = 16 * 1024;  // enough for a 4000-character message

std::string_view trimmed(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.remove_suffix(1);
  return text;
}

}  // namespace

StreamRules::StreamRules(logging::EventLog& events,
                         std::shared_ptr<const secrets::SecretMatcher> matcher, StdoutMode mode,
                         logging::KestraResults& results)
    : events_(events),
      mode_(mode),
      results_(results),
      stdout_text_(mode == StdoutMode::held ? kHeldBytes : kLiveStdoutBytes,
                   mode == StdoutMode::held ? kHeldBytes : kLiveStdoutBytes),
      stderr_text_(kHeldBytes, kHeldBytes),
      stdout_(matcher, mode == StdoutMode::live,
              [this] {
                logging::KestraCallbacks c = protocol_callbacks();
                c.on_text = [this](std::string_view line) { keep_stdout(line); };
                return c;
              }()),
      stderr_(matcher, false, [this] {
        logging::KestraCallbacks c = protocol_callbacks();
        c.on_text = [this](std::string_view line) { keep_stderr(line); };
        return c;
      }()) {
  // Only live stdout shows a line before its newline; held streams are made of whole lines.
  if (mode == StdoutMode::live)
    stdout_.show_partial_lines(
        [this](std::string_view text) { events_.show_partial(Level::info, "stdout", text); });
}

logging::KestraCallbacks StreamRules::protocol_callbacks() {
  logging::KestraCallbacks c;
  c.on_log = [this](Level level, std::string_view message) {
    events_.emit_scrubbed(level, "kestra", message);
  };
  c.on_outputs = [this](const nlohmann::json& outputs) {
    results_.add_outputs(outputs);
    for (const auto& [name, value] : outputs.items()) {
      members_.clear();
      logging::append_output_members(members_, name, value);
      events_.record_scrubbed("output", members_);
    }
  };
  c.on_metric = [this](const logging::KestraMetric& metric) {
    results_.add_metric(metric);
    members_.clear();
    logging::append_metric_members(members_, metric);
    events_.record_scrubbed("metric", members_);
  };
  c.on_warning = [this](const std::string& message, std::string_view line) {
    const nlohmann::json fields = {{"line", std::string(line)}};
    events_.emit_scrubbed(Level::warning, "kestra", message, &fields);
  };
  return c;
}

void StreamRules::keep_stdout(std::string_view line) {
  if (mode_ == StdoutMode::live) events_.emit_scrubbed(Level::info, "stdout", line);
  stdout_text_.append(line);
  stdout_text_.append("\n");
}

void StreamRules::keep_stderr(std::string_view line) {
  stderr_text_.append(line);
  stderr_text_.append("\n");
}

void StreamRules::feed_stdout(std::string_view bytes, Clock::time_point now) {
  stdout_.feed(bytes, now);
}

void StreamRules::feed_stderr(std::string_view bytes, Clock::time_point now) {
  stderr_.feed(bytes, now);
}

void StreamRules::flush_if_due(Clock::time_point now) {
  stdout_.flush_if_due(now);
  stderr_.flush_if_due(now);
}

void StreamRules::end_streams() {
  stdout_.finish();
  stderr_.finish();
}

StreamTexts StreamRules::report_held() {
  StreamTexts texts{stdout_text_.text(), stderr_text_.text()};
  if (mode_ == StdoutMode::held && !trimmed(texts.stdout_text).empty())
    events_.emit_scrubbed(Level::info, "stdout", trimmed(texts.stdout_text));
  if (!trimmed(texts.stderr_text).empty())
    events_.emit_scrubbed(Level::error, "stderr", trimmed(texts.stderr_text));
  return texts;
}

}  // namespace runner
