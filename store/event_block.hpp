// EventBlockBuilder / decode_block: the format of EventBlock::events.
//
// A block is a JSON array with one array per event, in sequence order:
//   [[1,1763726054123456,"a stdout line"],
//    [2,1763726054123470,"a warning","warning","gelf",{"field":1}], ...]
// that is [sequence, time, message] followed, only when they differ from the defaults "info" and
// "stdout" or when there are fields, by level, source and the fields object. time is
// microseconds since the Unix epoch (UTC). Positional arrays because a busy job stores millions
// of events: named keys made every 83-byte line 157 bytes, and the bytes written are what the
// store costs; this way a line carries about 30 bytes of framing. Plain JSON, compressed as a
// whole by the store's writer (block_codec.hpp); blocks stored before that are expanded in SQL by
// the `events` view.
// Built by hand with the hot-path escaper (logging/json_text.hpp): the builder sees every line.
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
