// OutputPipeline: see the header.
#include "runner/output_pipeline.hpp"

namespace runner {
namespace {
// Text that may be the start of a Kestra protocol line (or of JSON) waits for its newline: it is
// neither shown nor delivered in parts.
bool may_show_partial(std::string_view pending) {
  return pending.empty() || (pending[0] != ':' && pending[0] != '{');
}
}  // namespace

OutputPipeline::OutputPipeline(std::shared_ptr<const secrets::SecretMatcher> matcher, bool live,
                               logging::KestraCallbacks callbacks)
    : parser_(std::move(callbacks)),
      splitter_([this](std::string_view line) { parser_.line(line); }, 64 * 1024) {
  if (matcher) scrubber_.emplace(std::move(matcher));
  if (live) splitter_.make_live();
  // Inside an open multi-line protocol block every line is protocol until the block closes.
  splitter_.set_partial_filter([this](std::string_view pending) {
    return !parser_.holding_block() && may_show_partial(pending);
  });
}

void OutputPipeline::feed(std::string_view raw, Clock::time_point now) {
  if (scrubber_) {
    scrubbed_.clear();
    scrubber_->write(raw, scrubbed_);
    raw = scrubbed_;
  }
  splitter_.feed(raw, now);
  last_feed_ = now;
}

void OutputPipeline::flush_if_due(Clock::time_point now) {
  if (parser_.holding_block() && now - last_feed_ > std::chrono::seconds(1)) parser_.flush_block();
  splitter_.flush_if_due(now);
}

void OutputPipeline::finish() {
  if (scrubber_) {
    scrubbed_.clear();
    scrubber_->flush(scrubbed_);
    splitter_.feed(scrubbed_);
  }
  splitter_.finish();
  parser_.finish();
}

}  // namespace runner
