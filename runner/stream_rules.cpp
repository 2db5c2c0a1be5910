// StreamRules: see the header.
#include "runner/stream_rules.hpp"

#include "runner/sync_action.hpp"

#include <algorithm>

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

StreamRules::StreamRules(logging::EventLog& events, const secrets::Masker& masker, StdoutMode mode,
                         logging::KestraResults& results)
    : events_(events),
      masker_(masker),
      mode_(mode),
      results_(results),
      stdout_text_(mode == StdoutMode::live ? kLiveStdoutBytes : kHeldBytes,
                   mode == StdoutMode::live ? kLiveStdoutBytes : kHeldBytes),
      stderr_text_(kHeldBytes, kHeldBytes),
      stdout_(masker, mode == StdoutMode::live,
              [this, mode] {
                OutputPipeline::Callbacks c = protocol_callbacks();
                c.on_text = [this](secrets::MaskedText line, bool continues) {
                  keep_stdout(line, continues);
                };
                // Only live stdout shows a line before its newline.
                if (mode == StdoutMode::live)
                  c.on_partial = [this](secrets::MaskedText text) {
                    events_.show_partial(Level::info, "stdout", text);
                  };
                return c;
              }()),
      stderr_(masker, false, [this] {
        OutputPipeline::Callbacks c = protocol_callbacks();
        c.on_text = [this](secrets::MaskedText line, bool continues) {
          keep_stderr(line, continues);
        };
        return c;
      }()) {}

// Records are built from masked values only (names, values, tags), hence assume_masked.
OutputPipeline::Callbacks StreamRules::protocol_callbacks() {
  OutputPipeline::Callbacks c;
  c.on_log = [this](Level level, secrets::MaskedText message) {
    events_.emit(level, "kestra", message);
  };
  c.on_outputs = [this](const secrets::MaskedJson& outputs) {
    results_.add_outputs(outputs.json());
    for (const auto& [name, value] : outputs.json().items()) {
      members_.clear();
      logging::append_output_members(members_, name, value);
      events_.record("output", secrets::MaskedText::assume_masked(members_));
    }
  };
  c.on_metric = [this](const logging::KestraMetric& metric) {
    results_.add_metric(metric);
    members_.clear();
    logging::append_metric_members(members_, metric);
    events_.record("metric", secrets::MaskedText::assume_masked(members_));
  };
  c.on_asset = [this](const secrets::MaskedJson& asset) { results_.add_asset(asset.json()); };
  c.on_warning = [this](secrets::MaskedText message, secrets::MaskedText line) {
    const nlohmann::json fields = {{"line", std::string(line.view())}};
    events_.emit(Level::warning, "kestra", message.view(), &fields);
  };
  return c;
}

// Live, each part of a long line is an event of its own (the empty part that only closes a line
// is none); the kept text joins the parts as they were written, with no break between them.
void StreamRules::keep_stdout(secrets::MaskedText line, bool continues) {
  const bool closing_part = line.empty() && stdout_in_pieces_;
  stdout_in_pieces_ = continues;
  if (mode_ == StdoutMode::live && !closing_part) events_.emit(Level::info, "stdout", line);
  stdout_text_.append(line.view());
  if (!continues) stdout_text_.append("\n");
}

// The final stderr event keeps the bytes as sent: a line over 64 KiB is not broken where the
// splitter cut it.
void StreamRules::keep_stderr(secrets::MaskedText line, bool continues) {
  stderr_text_.append(line.view());
  if (!continues) stderr_text_.append("\n");
}

void StreamRules::disable_protocol() {
  stdout_.disable_protocol();
  stderr_.disable_protocol();
}

void StreamRules::feed_stdout(std::string_view bytes, Clock::time_point now) {
  if (mode_ == StdoutMode::response) {
    const std::size_t room = kMaxActionResponseBytes - response_.size();
    response_.append(bytes.substr(0, std::min(room, bytes.size())));
    if (bytes.size() > room) response_omitted_ += bytes.size() - room;
    return;
  }
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
  StreamTexts texts{stdout_text_.text(), stderr_text_.text(), stdout_text_.omitted_bytes()};
  if (mode_ == StdoutMode::response) {
    texts.stdout_text = masker_.mask_copy(response_);
    texts.stdout_omitted = response_omitted_;
  }
  // The kept texts are made of masked lines (and the buffers' own omission marker).
  if (mode_ == StdoutMode::held && !trimmed(texts.stdout_text).empty())
    events_.emit(Level::info, "stdout",
                 secrets::MaskedText::assume_masked(trimmed(texts.stdout_text)));
  if (!trimmed(texts.stderr_text).empty())
    events_.emit(Level::error, "stderr",
                 secrets::MaskedText::assume_masked(trimmed(texts.stderr_text)));
  return texts;
}

}  // namespace runner
