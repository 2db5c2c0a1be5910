// EventBlockBuilder and decode_block. The builder appends each event's JSON object straight into
// the block's text with the hot-path escaper; decoding (readers: logs, show, the shipper) uses
// simdjson's on-demand parser (below).
#include "store/event_block.hpp"

#include "logging/json_text.hpp"
#include "store/block_codec.hpp"

#include <simdjson.h>

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
  next_.event_count = count_;
}

EventBlock EventBlockBuilder::take() {
  EventBlock block = std::move(next_);
  if (count_ > 0) {
    text_.push_back(']');
    // Hand the text over without a copy, and size the next block like this one. Not like its
    // capacity: a component printing one line per read would otherwise queue a 1 MiB buffer per
    // line (the writer's queue bounds bytes held, and counts capacity).
    const std::size_t size = text_.size();
    block.events = std::move(text_);
    text_ = std::string();
    text_.reserve(size + size / 4);
  }
  count_ = 0;
  next_ = EventBlock{};
  return block;
}

namespace {

namespace ondemand = simdjson::ondemand;

// One [sequence, time, message, level?, source?, fields?] entry into `e`; false when it is not.
bool read_entry(ondemand::value item, StoredEvent& e) {
  ondemand::array entry;
  if (item.get_array().get(entry)) return false;
  std::size_t index = 0;
  for (auto element : entry) {
    ondemand::value value;
    if (element.get(value)) return false;
    std::string_view text;
    switch (index++) {
      case 0:
        if (value.get_uint64().get(e.sequence)) return false;
        break;
      case 1: {
        std::int64_t us = 0;
        if (value.get_int64().get(us)) return false;
        e.time = EventTime(std::chrono::microseconds(us));
        break;
      }
      case 2:
        if (value.get_string().get(text)) return false;
        e.message = text;
        break;
      case 3:
        if (!value.get_string().get(text))
          e.level = logging::level_from_name(text).value_or(logging::Level::info);
        break;
      case 4:
        if (!value.get_string().get(text)) e.source = text;
        break;
      case 5: {
        ondemand::json_type type;
        if (value.type().get(type)) return false;
        if (type == ondemand::json_type::object) {
          ondemand::object object;
          if (value.get_object().get(object) || object.raw_json().get(text)) return false;
          e.fields = text;
        } else if (type != ondemand::json_type::null) {
          return false;
        }
        break;
      }
      default:
        return false;  // more than six: not an entry this runner wrote
    }
  }
  return index >= 3;
}

}  // namespace

// simdjson's on-demand parser: no DOM, strings unescaped straight into the events (readers expand
// millions of events: `runner logs`, the shipper). Its depth is bounded (its own limit) and it
// does not recurse on the data.
std::vector<StoredEvent> decode_block(const EventBlock& block) {
  auto corrupt = [&](const char* what) {
    return StoreError("event block " + std::to_string(block.row_id) + " of job " + block.job_id +
                      " " + what);
  };
  std::string text = block.packed.empty() ? block.events : expand_block_text(block);
  const std::size_t size = text.size();
  text.append(simdjson::SIMDJSON_PADDING, ' ');
  ondemand::parser parser;
  ondemand::document doc;
  ondemand::array items;
  if (parser.iterate(text.data(), size, text.size()).get(doc) || doc.get_array().get(items))
    throw corrupt("is not a JSON array");
  std::vector<StoredEvent> events;
  events.reserve(block.event_count > 0 ? block.event_count : 1024);
  for (auto item : items) {
    ondemand::value value;
    StoredEvent e;
    e.job_id = block.job_id;
    e.source = "stdout";
    if (item.get(value) || !read_entry(value, e))
      throw corrupt("holds an entry that is not [sequence, time, message, ...]");
    events.push_back(std::move(e));
  }
  if (doc.current_location().error() != simdjson::OUT_OF_BOUNDS)
    throw corrupt("has text after its array");
  return events;
}

}  // namespace runner::store
