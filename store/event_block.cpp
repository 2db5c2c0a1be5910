// EventBlockBuilder and decode_block. The builder appends each event's JSON object straight into
// the block's text with the hot-path escaper; decoding (readers: logs, show, the shipper) uses
// nlohmann, which is fast enough for what a reader does per event.
#include "store/event_block.hpp"

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
  text_.append("{\"seq\":");
  append_number(text_, static_cast<std::int64_t>(sequence));
  text_.append(",\"time\":");
  append_number(text_, time.time_since_epoch().count());
  text_.append(",\"level\":\"");
  text_.append(logging::level_name(level));
  text_.append("\",\"source\":");
  logging::append_json_string(text_, source);
  text_.append(",\"message\":");
  logging::append_json_string(text_, message);
  if (!fields_json.empty()) {
    text_.append(",\"fields\":");
    text_.append(fields_json);
  }
  text_.push_back('}');
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
    block.events = text_;  // copy: text_ keeps its capacity for the next block
  }
  count_ = 0;
  next_ = EventBlock{};
  return block;
}

std::vector<StoredEvent> decode_block(const EventBlock& block) {
  std::vector<StoredEvent> events;
  nlohmann::json doc = nlohmann::json::parse(block.events, nullptr, false);
  if (!doc.is_array())
    throw StoreError("event block " + std::to_string(block.row_id) + " of job " + block.job_id +
                     " is not a JSON array");
  events.reserve(doc.size());
  for (auto& item : doc) {
    if (!item.is_object())
      throw StoreError("event block " + std::to_string(block.row_id) + " holds a non-object");
    StoredEvent e;
    e.job_id = block.job_id;
    e.sequence = item.value("seq", std::uint64_t{0});
    e.time = EventTime(std::chrono::microseconds(item.value("time", std::int64_t{0})));
    e.level = logging::level_from_name(item.value("level", std::string("info"))).value_or(logging::Level::info);
    if (auto it = item.find("source"); it != item.end() && it->is_string())
      e.source = std::move(it->get_ref<std::string&>());
    if (auto it = item.find("message"); it != item.end() && it->is_string())
      e.message = std::move(it->get_ref<std::string&>());
    if (auto it = item.find("fields"); it != item.end() && !it->is_null()) e.fields = it->dump();
    events.push_back(std::move(e));
  }
  return events;
}

}  // namespace runner::store
