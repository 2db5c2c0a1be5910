// EventBlockBuilder, append_block and decode_block. The builder appends each event's binary
// entry (event_block.hpp) straight into the block's text: a few bytes of framing and one copy of
// the message. Decoding (readers: logs, show, the shipper) reads format 2 with bounds checks on
// every length, and format 1 (JSON, older blocks) with simdjson's on-demand parser.
#include "store/event_block.hpp"

#include "store/block_codec.hpp"

#include <simdjson.h>

#include <functional>

namespace runner::store {

namespace {

enum EntryFlag : unsigned char {
  kAbsolute = 1,
  kGap = 2,
  kLevelSource = 4,
  kFields = 8,
};
constexpr unsigned char kKnownFlags = kAbsolute | kGap | kLevelSource | kFields;

void put_varint(std::string& out, std::uint64_t v) {
  char buffer[10];
  std::size_t n = 0;
  while (v >= 0x80) {
    buffer[n++] = static_cast<char>((v & 0x7f) | 0x80);
    v >>= 7;
  }
  buffer[n++] = static_cast<char>(v);
  out.append(buffer, n);
}

std::uint64_t zigzag(std::int64_t v) {
  return (static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63);
}

std::int64_t unzigzag(std::uint64_t v) {
  return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
}

void put_bytes(std::string& out, std::string_view bytes) {
  put_varint(out, bytes.size());
  out.append(bytes);
}

}  // namespace

void EventBlockBuilder::add(std::uint64_t sequence, EventTime time, logging::Level level,
                            std::string_view source, std::string_view message,
                            std::string_view fields_json) {
  const std::int64_t us = time.time_since_epoch().count();
  unsigned char flags = 0;
  if (count_ == 0) {
    text_.clear();
    text_.push_back(kBinaryBlockFormat);
    next_ = EventBlock{};
    next_.job_id = job_id_;
    next_.first_sequence = sequence;
    next_.min_time = time;
    next_.max_time = time;
    flags = kAbsolute;
  } else if (sequence != previous_sequence_ + 1) {
    flags = kGap;
  }
  const bool defaults = level == logging::Level::info && source == "stdout";
  if (!defaults) flags |= kLevelSource;
  if (!fields_json.empty()) flags |= kFields;
  text_.push_back(static_cast<char>(flags));
  if ((flags & kAbsolute) != 0) {
    put_varint(text_, sequence);
    put_varint(text_, zigzag(us));
  } else {
    if ((flags & kGap) != 0) put_varint(text_, sequence - previous_sequence_);
    put_varint(text_, zigzag(us - previous_time_));
  }
  if (!defaults) {
    text_.push_back(static_cast<char>(level));
    put_bytes(text_, source);
  }
  put_bytes(text_, message);
  if (!fields_json.empty()) put_bytes(text_, fields_json);
  previous_sequence_ = sequence;
  previous_time_ = us;
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

void append_block(EventBlock& a, EventBlock&& b) {
  if (a.events.empty()) {
    a = std::move(b);
    return;
  }
  if (b.events.empty()) return;
  if (a.events.front() == kBinaryBlockFormat) {
    // b's first entry is absolute: the bytes after its format byte follow a's as they are.
    a.events.append(b.events, 1, std::string::npos);
  } else {
    a.events.pop_back();  // ']'
    a.events.push_back(',');
    a.events.append(b.events, 1, std::string::npos);  // without '['
  }
  a.last_sequence = b.last_sequence;
  if (b.min_time < a.min_time) a.min_time = b.min_time;
  if (b.max_time > a.max_time) a.max_time = b.max_time;
  a.level_mask |= b.level_mask;
  a.event_count += b.event_count;
}

namespace {

// Reads format 2 entries; every length and varint is checked against the end of the text.
class BinaryReader {
 public:
  explicit BinaryReader(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}
  bool done() const { return p_ == end_; }
  bool byte(unsigned char& out) {
    if (p_ == end_) return false;
    out = static_cast<unsigned char>(*p_++);
    return true;
  }
  bool varint(std::uint64_t& out) {
    out = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
      unsigned char b = 0;
      if (!byte(b)) return false;
      out |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return true;
    }
    return false;  // more than 10 bytes
  }
  bool bytes(std::string& out) {
    std::uint64_t n = 0;
    if (!varint(n) || n > static_cast<std::uint64_t>(end_ - p_)) return false;
    out.assign(p_, static_cast<std::size_t>(n));
    p_ += n;
    return true;
  }

 private:
  const char* p_;
  const char* end_;
};

bool read_binary_entry(BinaryReader& in, bool first, std::uint64_t& sequence, std::int64_t& time,
                       StoredEvent& e) {
  unsigned char flags = 0;
  if (!in.byte(flags) || (flags & ~kKnownFlags) != 0) return false;
  if (first && (flags & kAbsolute) == 0) return false;
  std::uint64_t v = 0;
  if ((flags & kAbsolute) != 0) {
    if (!in.varint(sequence) || !in.varint(v)) return false;
    time = unzigzag(v);
  } else {
    std::uint64_t step = 1;
    if ((flags & kGap) != 0 && !in.varint(step)) return false;
    sequence += step;
    if (!in.varint(v)) return false;
    time += unzigzag(v);
  }
  e.sequence = sequence;
  e.time = EventTime(std::chrono::microseconds(time));
  if ((flags & kLevelSource) != 0) {
    unsigned char level = 0;
    if (!in.byte(level) || level > static_cast<unsigned char>(logging::Level::emergency) ||
        !in.bytes(e.source))
      return false;
    e.level = static_cast<logging::Level>(level);
  }
  if (!in.bytes(e.message)) return false;
  return (flags & kFields) == 0 || in.bytes(e.fields);
}

std::vector<StoredEvent> decode_binary(const EventBlock& block, std::string_view text,
                                       const std::function<StoreError(const char*)>& corrupt) {
  BinaryReader in(text.substr(1));
  std::vector<StoredEvent> events;
  events.reserve(block.event_count > 0 ? block.event_count : 1024);
  std::uint64_t sequence = 0;
  std::int64_t time = 0;
  while (!in.done()) {
    StoredEvent& e = events.emplace_back();
    e.job_id = block.job_id;
    e.source = "stdout";
    if (!read_binary_entry(in, events.size() == 1, sequence, time, e))
      throw corrupt("holds an entry that is cut short or not in the block format");
  }
  return events;
}

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

// Format 1 on simdjson's on-demand parser: no DOM, strings unescaped straight into the events.
// Its depth is bounded (its own limit) and it does not recurse on the data.
std::vector<StoredEvent> decode_json(const EventBlock& block, std::string text,
                                     const std::function<StoreError(const char*)>& corrupt) {
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

}  // namespace

std::vector<StoredEvent> decode_block(const EventBlock& block) {
  const std::function<StoreError(const char*)> corrupt = [&](const char* what) {
    return StoreError("event block " + std::to_string(block.row_id) + " of job " + block.job_id +
                      " " + what);
  };
  std::string text = block.packed.empty() ? block.events : expand_block_text(block);
  if (!text.empty() && text.front() == kBinaryBlockFormat)
    return decode_binary(block, text, corrupt);
  return decode_json(block, std::move(text), corrupt);
}

}  // namespace runner::store
