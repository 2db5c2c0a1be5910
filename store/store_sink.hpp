// StoreSink: keeps a job's events, and its final state, in the store.
//
// The job's thread only appends each event's entry to the current block (EventBlockBuilder, a
// compact binary form: a few bytes of framing and one copy of the message) and,
// on flush() (once per read from the engine), hands the block to a writer thread. The writer
// merges what queued up, compresses each merged block (zstd, block_codec.hpp) and inserts them in
// one transaction. The thread is there so that no event
// ever waits on the disk or, with PostgreSQL, on a network round trip: a job that prints a
// million lines a second keeps streaming while the previous blocks are written. Memory is
// bounded: past `max_queued_bytes` the job's thread waits for the writer.
//
// Nothing is dropped silently (issue 14). A busy store (SQLite locked by another process) or an
// unreachable one (PostgreSQL down) is retried with backoff for `retry_window` (default 5
// minutes); the job row itself is inserted by the writer too, so a store locked at the start
// delays nothing. Meanwhile, once the memory queue stays full for a second, blocks wait on disk
// in an EventSpool (`spool_dir`), and are written back in order, exactly once (a retry after an
// unclear failure first reads how far the job's events got), when the store answers again. At
// the end (settle) the sink waits for that, within the window. Events that are lost anyway (the
// window passed, the spool or the store's disk is full, the store refused them) are recorded: the
// job row's events_missing names the sequence ranges and why, the job's summary gets a warning,
// and with `require_store` the job fails instead (exit 74). When the healthy store keeps up,
// nothing here touches the disk on the job's thread.
#pragma once

#include "logging/event_sink.hpp"
#include "store/block_codec.hpp"
#include "store/disk_reserve.hpp"
#include "store/event_block.hpp"
#include "store/event_spool.hpp"
#include "store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace runner::store {

struct StoreSinkOptions {
  bool insert_job = true;  // false: the job row exists already (queued jobs)
  // The writer merges queued blocks up to this size: a component printing in tiny bursts still
  // costs few rows; a flood's blocks (one per 512 KiB read) are stored as they come, uncopied.
  std::size_t merge_bytes = 256 << 10;
  // What the job's thread may run ahead of the writer (block capacity, so memory). The writer
  // compresses and stores block text at 100-300 MB/s on this machine (docs/BENCHMARKS.md), so
  // 2 MiB is 7-20 ms of writing: enough to ride out a commit or a WAL checkpoint, while a store
  // that cannot keep up holds the job back (or, once that lasts, sends blocks to the spool)
  // instead of growing the runner's memory (the 64 MiB this was made it 108-162 MiB RSS on a
  // 166 MB flood).
  std::size_t max_queued_bytes = 2 << 20;
  // How long a busy or unreachable store is retried before its events count as lost.
  std::chrono::milliseconds retry_window{std::chrono::minutes(5)};
  // Where blocks wait on disk while the store does not take them (<dir>/<job id>.spool); empty:
  // no spool, the job's thread waits for the store instead.
  std::filesystem::path spool_dir;
  std::uint64_t max_spool_bytes = std::uint64_t{1} << 30;
  // Space kept on an SQLite store's disk while the job runs (disk_reserve.hpp), given back when
  // that disk is full so the job's record and its loss still fit; 0: none.
  std::size_t disk_reserve_bytes = 256 << 10;
  // A job that lost events fails (status error, exit 74) instead of only carrying a warning.
  bool require_store = false;
  // When this flag is true at finish(), the job's final state is not written (a worker that
  // hands the job back to the queue records that instead).
  const std::atomic<bool>* skip_finish = nullptr;
};

// Sequence ranges of lost events, in order.
struct MissingEvents {
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  std::string reason;  // the first cause
  void add(std::uint64_t first, std::uint64_t last, const std::string& why);
  bool empty() const { return ranges.empty(); }
  std::uint64_t count() const;
  std::string text() const;  // "41-52,90"
};

class StoreSink final : public logging::EventSink {
 public:
  // Inserts `job` (status processing) from the writer thread unless options.insert_job is false.
  StoreSink(std::unique_ptr<Store> store, JobRecord job, StoreSinkOptions options = {});
  ~StoreSink() override;
  StoreSink(const StoreSink&) = delete;
  StoreSink& operator=(const StoreSink&) = delete;

  void write(const logging::Event& event) override;
  // Writes back what waits (within the retry window) and adds the warning about lost events.
  void settle(logging::JobSummary& summary) override;
  void finish(const logging::JobSummary& summary) override;
  void flush() override;

  // What went wrong with the store, if anything: lost events or a result not recorded.
  std::optional<std::string> error() const;
  MissingEvents missing() const;

 private:
  void hand_off();
  void writer_loop();
  std::vector<EventBlock> next_batch(std::unique_lock<std::mutex>& lock);
  // Writes `batch` (retrying a busy or unreachable store); false when its events were lost.
  bool write_batch(std::vector<EventBlock>& batch, std::string& problem);
  void ensure_job_row();
  bool already_stored(std::vector<EventBlock>& batch);
  bool give_up_on_full_disk(const StoreError& e, std::string& problem);
  void spool_block(EventBlock&& block);
  void remove_spool_job();
  void stop_writer();
  std::string loss_warning() const;

  std::unique_ptr<Store> store_;
  JobRecord job_;
  StoreSinkOptions options_;
  EventBlockBuilder builder_;
  std::string fields_text_;
  BlockCompressor compressor_;  // used by the writer thread only

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<EventBlock> queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
  bool stopping_ = false;
  // Written by the writer thread (or the constructor), read by the job's thread when it starts
  // a spool: a spool of a job the store has no row for gets the job's record next to it.
  std::atomic<bool> job_row_written_ = false;
  bool spool_job_written_ = false;  // under mutex_
  bool given_up_ = false;           // the retry window passed: the store is not tried again
  std::optional<std::chrono::steady_clock::time_point> failing_since_;
  std::unique_ptr<EventSpool> spool_;  // created when first needed
  std::unique_ptr<DiskReserve> reserve_;
  MissingEvents missing_;
  std::optional<std::string> error_;
  std::thread writer_;
};

// The final JobRecord for a summary, in Keboola's statuses: success, error, or terminated (a job
// stopped while running; `cancelled` is for jobs cancelled before they ran, set by the store).
JobRecord finished_record(JobRecord job, const logging::JobSummary& summary);

}  // namespace runner::store
