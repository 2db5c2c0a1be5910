// EventBlockBuilder / decode_block: the format of EventBlock::events.
//
// Blocks the runner writes now (format 2) are compact binary, built with one copy of each
// message and no escaping, because the builder runs on the job's thread and sees every line of a
// flood:
//   byte 0: kBinaryBlockFormat (2); then per event, in sequence order:
//     flags      1 byte: kAbsolute (sequence and time are absolute, not deltas from the previous
//                event: a block's first event, so blocks can be joined by appending), kGap (the
//                sequence is not the previous + 1), kLevelSource, kFields
//     sequence   varint, only with kAbsolute (the sequence) or kGap (the step from the previous)
//     time       zigzag varint: microseconds since the Unix epoch (UTC), or the difference from
//                the previous event's time
//     level, source   only with kLevelSource (when not "info" and "stdout"): 1 byte (Level),
//                then a varint length and the bytes
//     message    varint length, then the bytes (the scrubbed line as it was, no escaping)
//     fields     only with kFields: varint length, then a JSON object's text
// A varint is LEB128 (7 bits a byte, low first, at most 10 bytes). The binary text is always
// stored compressed (block_codec.hpp, the `packed` column): the SQL `events` view expands only
// older blocks.
// Format 1 (blocks stored before this runner, still read): a JSON array with one array per event,
//   [[1,1763726054123456,"a stdout line"],
//    [2,1763726054123470,"a warning","warning","gelf",{"field":1}], ...]
// [sequence, time, message] followed, only when they differ from "info" and "stdout" or when there
// are fields, by level, source and the fields object.
// Measured on a 166 MB flood (docs/BENCHMARKS.md): building format 1 (number formatting and JSON
// escaping per line) and compressing its ~30 bytes of framing per line were most of the store's
// CPU on the job's side.
#pragma once

#include "store/store.hpp"

#include <string>
#include <vector>

namespace runner::store {

class EventBlockBuilder {
 public:
  explicit EventBlockBuilder(std::string job_id) : job_id_(std::move(job_id)) {}
  // The event's job_id is not repeated inside the block; it is the block's. `fields_json` is a
  // JSON object's text or empty.
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
  std::uint64_t previous_sequence_ = 0;
  std::int64_t previous_time_ = 0;
  EventBlock next_;
};

// The first byte of a format 2 block's text (a format 1 block starts with '[').
inline constexpr char kBinaryBlockFormat = 2;

// Appends block `b` (same job, following sequences, same format) to `a`; `a` empty: becomes `b`.
void append_block(EventBlock& a, EventBlock&& b);

// Expands a block into its events (throws StoreError when the text is not a block).
std::vector<StoredEvent> decode_block(const EventBlock& block);

}  // namespace runner::store
