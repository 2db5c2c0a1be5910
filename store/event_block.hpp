// EventBlockBuilder / decode_block: the format of EventBlock::events.
//
// A block is a JSON array of event objects, in sequence order:
//   [{"seq":1,"time":1763726054123456,"level":"info","source":"stdout","message":"...",
//     "fields":{...}}, ...]
// time is microseconds since the Unix epoch (UTC); "fields" is present only when the event has
// fields. Plain JSON so both backends can expand it in SQL (the `events` view) and people can
// read it; built by hand with the hot-path escaper (logging/json_text.hpp) because the builder
// sees every line a job prints.
#pragma once

#include "store/store.hpp"

#include <string>
#include <vector>

namespace runner::store {

class EventBlockBuilder {
 public:
  explicit EventBlockBuilder(std::string job_id) : job_id_(std::move(job_id)) {}
  // The event's job_id is not repeated inside the block; it is the block's.
  void add(std::uint64_t sequence, EventTime time, logging::Level level, std::string_view source,
           std::string_view message, std::string_view fields_json);
  bool empty() const { return count_ == 0; }
  std::size_t count() const { return count_; }
  std::size_t bytes() const { return text_.size(); }
  // Closes the block and starts a new, empty one.
  EventBlock take();

 private:
  std::string job_id_;
  std::string text_;
  std::size_t count_ = 0;
  EventBlock next_;
};

// Expands a block into its events (throws StoreError when the text is not a block).
std::vector<StoredEvent> decode_block(const EventBlock& block);

}  // namespace runner::store
