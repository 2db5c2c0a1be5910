// EventSpool: event blocks waiting on disk while the store is busy or unreachable (issue 14).
//
// One file per job (RUNNER_HOME/spool/<job id>.spool, mode 0600, created on first use), written
// only when the store cannot keep up: StoreSink keeps its hot path in memory while the store is
// healthy. Blocks are appended in sequence order and read back in the same order, each exactly
// once; the file is removed when everything in it was read and written back (or when the spool
// is dropped). Bounded by `max_bytes`: a block that does not fit, or that the disk refuses
// (full), is refused, and the caller records those events as missing.
//
// Record format (native byte order; the file never leaves the machine):
// first_sequence, last_sequence (u64), min_time, max_time (i64 us), level_mask (u32), a reserved
// u32, event_count (u64), the length of the events text (u64), then the text. Blocks are spooled
// as the job's thread built them, before the writer compresses them (block_codec.hpp). A runner
// killed with events spooled leaves the file: `runner gc` stores them (store_left_over_spool).
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
  // The spool file a killed runner left (`runner gc`): read from its start; a record cut short
  // (the runner died writing it) or larger than what is left of the file ends the reading. An
  // empty spool when the file cannot be opened.
  static EventSpool left_over(std::filesystem::path file);
  EventSpool(EventSpool&& other) noexcept;
  EventSpool& operator=(EventSpool&&) = delete;
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
  // Closes the file and leaves it where it is (a left-over spool the store refused).
  void keep_file();
  const std::filesystem::path& file() const { return file_; }

 private:
  bool open_file(std::string& problem);

  std::filesystem::path file_;
  std::uint64_t max_bytes_;
  int fd_ = -1;
  std::uint64_t read_offset_ = 0;
  std::uint64_t write_offset_ = 0;
};

// Stores the events a killed runner left in the spool `file` for job `job_id`, in order, and
// removes the file; returns the highest sequence stored (0: none). Throws StoreError when the
// store refuses them (the file is kept then, for a later try).
std::uint64_t store_left_over_spool(Store& store, const std::filesystem::path& file,
                                    const std::string& job_id);

}  // namespace runner::store
