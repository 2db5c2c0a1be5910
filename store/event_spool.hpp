// EventSpool: event blocks waiting on disk while the store is busy or unreachable (issue 14).
//
// One file per job (RUNNER_HOME/spool/<job id>.spool, mode 0600, created on first use), written
// only when the store cannot keep up: StoreSink keeps its hot path in memory while the store is
// healthy. Blocks are appended in sequence order and read back in the same order, each exactly
// once; the file is removed when everything in it was read and written back (or when the spool
// is dropped). Bounded by `max_bytes`: a block that does not fit, or that the disk refuses
// (full), is refused, and the caller records those events as missing.
//
// Record format (native byte order; the file never leaves the machine, nor outlives the job):
// first_sequence, last_sequence (u64), min_time, max_time (i64 us), level_mask (u32), a reserved
// u32, event_count (u64), the length of the events text (u64), then the text. Blocks are spooled
// as the job's thread built them, before the writer compresses them (block_codec.hpp).
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace runner::store {

class EventSpool {
 public:
  EventSpool(std::filesystem::path file, std::uint64_t max_bytes);
  ~EventSpool();
  EventSpool(const EventSpool&) = delete;
  EventSpool& operator=(const EventSpool&) = delete;

  // Appends a block; false (and why in `problem`) when the spool is full or the write failed,
  // in which case nothing of the block was kept.
  bool append(const EventBlock& block, std::string& problem);
  // Reads the next blocks, in order, up to about `max_bytes` of events text (at least one
  // block when there is one); they are consumed: the next read starts after them.
  std::vector<EventBlock> read(std::size_t max_bytes);
  // Nothing written that was not read yet.
  bool empty() const { return read_offset_ == write_offset_; }
  // Bytes written and not read yet.
  std::uint64_t pending_bytes() const { return write_offset_ - read_offset_; }
  // Removes the file (when empty, or when the rest is given up) and starts over.
  void reset();
  const std::filesystem::path& file() const { return file_; }

 private:
  bool open_file(std::string& problem);

  std::filesystem::path file_;
  std::uint64_t max_bytes_;
  int fd_ = -1;
  std::uint64_t read_offset_ = 0;
  std::uint64_t write_offset_ = 0;
};

}  // namespace runner::store
