// OutputPipeline: see the header. on_line() routes each line the splitter cuts: pieces of a
// protocol-looking line are gathered, continuations of a text line go straight to text, and
// every other line goes to the parser, whose text lines come back through to_text().
#include "runner/output_pipeline.hpp"

#include "logging/carriage_return.hpp"
#include "logging/kestra_results.hpp"

namespace runner {
namespace {

using logging::LineEnd;

// Text that may be the start of a Kestra protocol line (or of JSON) waits for its newline: it is
// neither shown nor delivered in parts.
bool may_show_partial(std::string_view pending) {
  return pending.empty() || (pending[0] != ':' && pending[0] != '{');
}

bool looks_like_protocol(std::string_view line) {
  return !line.empty() && (line[0] == ':' || line[0] == '{');
}

}  // namespace

OutputPipeline::OutputPipeline(secrets::Masker masker, bool live, Callbacks callbacks)
    : masker_(std::move(masker)),
      callbacks_(std::move(callbacks)),
      parser_(parser_callbacks()),
      splitter_([this](std::string_view line) { on_line(line); }, 64 * 1024) {
  if (!masker_.empty()) {
    text_.emplace(masker_.matcher(), [this](MaskedText line, bool continues) {
      if (callbacks_.on_text) callbacks_.on_text(line, continues);
    });
    parser_.set_payload_filter([this](std::string_view payload, std::string& masked) {
      return masker_.mask_payload(payload, masked);
    });
  }
  if (live) splitter_.make_live();
  // Inside an open multi-line protocol block every line is protocol until the block closes.
  splitter_.set_partial_filter([this](std::string_view pending) {
    return !parser_.enabled() ||
           (!assembling_ && !parser_.holding_block() && may_show_partial(pending));
  });
  splitter_.set_close_view([this] { on_close(); });
  if (live && callbacks_.on_partial)
    splitter_.set_partial_view([this](std::string_view pending) { show(pending); });
}

logging::KestraCallbacks OutputPipeline::parser_callbacks() {
  logging::KestraCallbacks c;
  c.on_text = [this](std::string_view line) {
    LineEnd end = current_end_;
    if (!block_ends_.empty()) {  // a line of an abandoned block, given back
      end = block_ends_.front();
      block_ends_.pop_front();
    }
    to_text(line, end);
  };
  // Text lines before a protocol line are handed on first, so the order stays the stream's.
  c.on_log = [this](logging::Level level, std::string_view message) {
    drain_text();
    if (callbacks_.on_log) callbacks_.on_log(level, masker_.mask(message, scratch_));
  };
  c.on_outputs = [this](const nlohmann::json& outputs) {
    drain_text();
    if (callbacks_.on_outputs) callbacks_.on_outputs(masker_.mask(outputs, json_scratch_));
  };
  c.on_metric = [this](const logging::KestraMetric& metric) {
    drain_text();
    if (callbacks_.on_metric) masked_metric(metric);
  };
  c.on_asset = [this](const nlohmann::json& asset) {
    drain_text();
    if (callbacks_.on_asset) callbacks_.on_asset(masker_.mask(asset, json_scratch_));
  };
  // The message quotes values the payload filter masked; the line is raw, and a secret may be
  // spelt in it with an escape.
  c.on_warning = [this](const std::string& message, std::string_view line) {
    drain_text();
    if (!callbacks_.on_warning) return;
    if (!masker_.empty() && masker_.may_hold_secret(line)) {
      scratch2_ = masker_.mask_json_text(line);
      line = scratch2_;
    }
    callbacks_.on_warning(masker_.mask(message, scratch_),
                          secrets::MaskedText::assume_masked(line));
  };
  return c;
}

// The payload filter masked what the parser read; this catches what reading a number may have
// changed (a metric value is a number, so one whose text holds a secret is dropped).
void OutputPipeline::masked_metric(const logging::KestraMetric& metric) {
  if (masker_.empty()) {
    callbacks_.on_metric(metric);
    return;
  }
  const std::string value = logging::metric_to_json(metric)["value"].dump();
  if (masker_.mask_copy(value) != value) {
    if (callbacks_.on_warning)
      callbacks_.on_warning(
          secrets::MaskedText::assume_masked(
              "Invalid Kestra protocol line: a metric's value is hidden (it holds a secret)"),
          secrets::MaskedText());
    return;
  }
  metric_ = metric;
  metric_.name = masker_.mask_copy(metric.name);
  metric_.description = masker_.mask_copy(metric.description);
  masker_.mask_in_place(metric_.tags);
  callbacks_.on_metric(metric_);
}

void OutputPipeline::on_line(std::string_view line) {
  const LineEnd end = splitter_.line_end();
  if (assembling_) {
    assembly_.append(line);
    if (end != LineEnd::piece) {
      finish_assembly(end);
    } else if (assembly_.size() > logging::KestraLineParser::kMaxBlockBytes) {
      spill_assembly();
    }
    return;
  }
  if (text_continues_) {
    text_continues_ = end == LineEnd::piece;
    to_text(line, end);
    return;
  }
  if (end == LineEnd::piece) {
    if (parser_.enabled() && (parser_.holding_block() || looks_like_protocol(line))) {
      assembling_ = true;
      assembly_.assign(line);
      return;
    }
    text_continues_ = true;
  }
  route(line, end);
}

// A line handed on in pieces was closed by its newline alone.
void OutputPipeline::on_close() {
  if (assembling_) {
    finish_assembly(LineEnd::newline);
  } else if (text_continues_) {
    text_continues_ = false;
    if (text_)
      text_->close_line();
    else if (callbacks_.on_text)
      callbacks_.on_text(MaskedText(), false);  // the line's (empty) last part
  }
}

void OutputPipeline::route(std::string_view line, LineEnd end) {
  current_end_ = end;
  parser_.line(line);
  if (parser_.holding_block()) {
    block_ends_.push_back(end);  // the line is part of the (possibly new) block
  } else {
    block_ends_.clear();
  }
}

void OutputPipeline::finish_assembly(LineEnd end) {
  assembling_ = false;
  const std::string line = std::move(assembly_);
  assembly_.clear();
  route(line, end);
}

// Over the parser's limit: the gathered pieces were text after all (and so were the lines of a
// block they were to continue).
void OutputPipeline::spill_assembly() {
  assembling_ = false;
  parser_.flush_block();
  block_ends_.clear();
  to_text(assembly_, LineEnd::piece);
  assembly_.clear();
  text_continues_ = true;
}

// A line redrawn with '\r' (a progress bar) is text in its final state (carriage_return.hpp):
// one event per line, not one per redraw. Raw text is redrawn, then masked.
void OutputPipeline::to_text(std::string_view line, LineEnd end) {
  line = logging::redrawn_line(line, redrawn_);
  if (!text_) {
    if (callbacks_.on_text) callbacks_.on_text(masker_.mask(line, scratch_), end == LineEnd::piece);
    return;
  }
  if (end == LineEnd::piece) {
    text_->piece(line);
  } else {
    text_->line(line, end == LineEnd::crlf);
  }
}

// The live view draws the line's current state: a progress bar moves in place after runner's
// prefix (the terminal never gets the '\r').
void OutputPipeline::show(std::string_view pending) {
  pending = logging::redrawn_line(pending, redrawn_);
  if (pending.empty() || !text_) {
    callbacks_.on_partial(masker_.mask(pending, scratch_));
    return;
  }
  // While the beginning of a secret may be held back, the line after it is not shown alone.
  if (text_->holding()) return;
  const MaskedText shown = masker_.mask_prefix(pending, scratch_);
  if (!shown.empty()) callbacks_.on_partial(shown);
}

void OutputPipeline::disable_protocol() {
  parser_.set_enabled(false);
}

void OutputPipeline::feed(std::string_view raw, Clock::time_point now) {
  splitter_.feed(raw, now);
  drain_text();
  last_feed_ = now;
}

void OutputPipeline::flush_if_due(Clock::time_point now) {
  if (parser_.holding_block() && now - last_feed_ > std::chrono::seconds(1)) parser_.flush_block();
  splitter_.flush_if_due(now);
  drain_text();
}

void OutputPipeline::finish() {
  splitter_.finish();
  if (assembling_) finish_assembly(LineEnd::end);
  if (text_continues_) on_close();  // the stream ended right after a piece
  parser_.finish();
  if (text_) text_->finish();
}

}  // namespace runner
