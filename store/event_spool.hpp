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
//
// A spool started while the store has no row for the job yet (the store was locked or down
// when the job began) gets the job's record next to it, <job id>.job (JSON, mode 0600), removed
// once the row is written. A runner killed before that leaves both files: `runner gc` inserts the
// row from the record (record_spooled_jobs), then stores the events and ends the job as any
// other job of a dead runner: without the record, nothing would know the job existed.
#pragma once

#include "store/store.hpp"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
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

// Where job `job_id`'s spool lives in `spool_dir`: <dir>/<job id>.spool.
std::filesystem::path spool_file(const std::filesystem::path& spool_dir, const std::string& job_id);
// The record file next to spool `file` (<job id>.job), and its contents: the job's id, component,
// namespace, times, the runner's host and pid, and the store the job was for (its describe(),
// which holds no password), the fields `runner gc` needs.
std::filesystem::path spool_job_file(const std::filesystem::path& spool_file);
// Writes `job`'s record next to spool `file`; false when it cannot (the disk is full, say).
bool write_spool_job(const std::filesystem::path& spool_file, const JobRecord& job,
                     const std::string& store);

struct SpooledJob {
  std::filesystem::path record_file;
  std::string job_id;
  std::string outcome;  // what was done, for `runner gc`'s report
};
// For each <job id>.job record in `spool_dir` whose runner is gone (on `host`, `alive(pid)` is
// false): inserts the job's row (status processing) when the store has none, then removes the
// record; a record that cannot be read (damaged, not a record of this job, larger than 64 KiB)
// or that is for another store (a `runner run --store` elsewhere) is reported and left alone.
// Records of runners still alive, or of another host, are skipped.
// Run it before end_jobs_of_dead_runners, which then stores the spool and ends the job.
std::vector<SpooledJob> record_spooled_jobs(Store& store, const std::filesystem::path& spool_dir,
                                            std::string_view host,
                                            const std::function<bool(std::int64_t)>& alive);

// What store_left_over_spool stored: the first and last sequence (0: none), and the ranges
// between its blocks that the file did not hold (blocks the spool refused while it ran).
struct SpoolSalvage {
  std::uint64_t first = 0;
  std::uint64_t last = 0;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> gaps;
};

// Stores the events a killed runner left in the spool `file` for job `job_id`, in order, and
// removes the file. Throws StoreError when the store refuses them (the file is kept then, for a
// later try).
SpoolSalvage store_left_over_spool(Store& store, const std::filesystem::path& file,
                                   const std::string& job_id);

}  // namespace runner::store
