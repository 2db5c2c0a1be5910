// EventBlockBuilder and decode_block. The builder appends each event's JSON object straight into
// the block's text with the hot-path escaper; decoding (readers: logs, show, the shipper) uses
// nlohmann, which is fast enough for what a reader does per event.
#include "store/event_block.hpp"

#include "logging/json_reader.hpp"
#include "logging/json_text.hpp"

#include <nlohmann/json.hpp>

#include <charconv>

namespace runner::store {

namespace {

void append_number(std::string& out, std::int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace

void EventBlockBuilder::add(std::uint64_t sequence, EventTime time, logging::Level level,
                            std::string_view source, std::string_view message,
                            std::string_view fields_json) {
  if (count_ == 0) {
    text_.clear();
    text_.push_back('[');
    next_ = EventBlock{};
    next_.job_id = job_id_;
    next_.first_sequence = sequence;
    next_.min_time = time;
    next_.max_time = time;
  } else {
    text_.push_back(',');
  }
  text_.push_back('[');
  append_number(text_, static_cast<std::int64_t>(sequence));
  text_.push_back(',');
  append_number(text_, time.time_since_epoch().count());
  text_.push_back(',');
  logging::append_json_string(text_, message);
  const bool defaults = level == logging::Level::info && source == "stdout";
  if (!defaults || !fields_json.empty()) {
    text_.append(",\"");
    text_.append(logging::level_name(level));
    text_.append("\",");
    logging::append_json_string(text_, source);
    if (!fields_json.empty()) {
      text_.push_back(',');
      text_.append(fields_json);
    }
  }
  text_.push_back(']');
  next_.last_sequence = sequence;
  if (time < next_.min_time) next_.min_time = time;
  if (time > next_.max_time) next_.max_time = time;
  next_.level_mask |= 1u << static_cast<unsigned>(level);
  ++count_;
}

EventBlock EventBlockBuilder::take() {
  EventBlock block = std::move(next_);
  if (count_ > 0) {
    text_.push_back(']');
    // Hand the text over and start the next block with the same capacity, without a copy.
    const std::size_t capacity = text_.capacity();
    block.events = std::move(text_);
    text_ = std::string();
    text_.reserve(capacity);
  }
  count_ = 0;
  next_ = EventBlock{};
  return block;
}

std::vector<StoredEvent> decode_block(const EventBlock& block) {
  std::vector<StoredEvent> events;
  nlohmann::json doc = runner::logging::read_json_or_discarded(block.events);
  auto corrupt = [&](const char* what) {
    return StoreError("event block " + std::to_string(block.row_id) + " of job " + block.job_id +
                      " " + what);
  };
  if (!doc.is_array()) throw corrupt("is not a JSON array");
  events.reserve(doc.size());
  for (auto& item : doc) {
    if (!item.is_array() || item.size() < 3 || !item[0].is_number_unsigned() ||
        !item[1].is_number_integer() || !item[2].is_string())
      throw corrupt("holds an entry that is not [sequence, time, message, ...]");
    StoredEvent e;
    e.job_id = block.job_id;
    e.sequence = item[0].get<std::uint64_t>();
    e.time = EventTime(std::chrono::microseconds(item[1].get<std::int64_t>()));
    e.message = std::move(item[2].get_ref<std::string&>());
    e.source = "stdout";
    if (item.size() > 3 && item[3].is_string())
      e.level = logging::level_from_name(item[3].get<std::string>()).value_or(logging::Level::info);
    if (item.size() > 4 && item[4].is_string())
      e.source = std::move(item[4].get_ref<std::string&>());
    if (item.size() > 5 && !item[5].is_null()) e.fields = item[5].dump();
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace runner::store
