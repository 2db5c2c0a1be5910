// StoreSink: keeps a job's events, and its final state, in the store.
//
// The job's thread only appends each event's JSON to the current block (EventBlockBuilder) and,
// on flush() (once per read from the engine), hands the block to a writer thread. The writer
// merges what queued up, compresses each merged block (zstd, block_codec.hpp) and inserts them in
// one transaction. The thread is there so that no event
// ever waits on the disk or, with PostgreSQL, on a network round trip: a job that prints a
// million lines a second keeps streaming while the previous blocks are written. Memory is
// bounded: past `max_queued_bytes` the job's thread waits for the writer (nothing is dropped).
//
// A store that fails mid-job does not fail the job: the other sinks still get every event, the
// sink stops writing, and error() says what happened so the caller can warn.
#pragma once

#include "logging/event_sink.hpp"
#include "store/block_codec.hpp"
#include "store/event_block.hpp"
#include "store/store.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace runner::store {

struct StoreSinkOptions {
  bool insert_job = true;  // false: the job row exists already (queued jobs)
  // The writer merges queued blocks up to this size: a component printing in tiny bursts still
  // costs few rows; a flood's blocks (one per 512 KiB read) are stored as they come, uncopied.
  std::size_t merge_bytes = 256 << 10;
  // What the job's thread may run ahead of the writer (block capacity, so memory). The writer
  // compresses and stores block text at 100-300 MB/s on this machine (docs/BENCHMARKS.md), so
  // 2 MiB is 7-20 ms of writing: enough to ride out a commit or a WAL checkpoint, while a store
  // that cannot keep up holds the job back instead of growing the runner's memory (the 64 MiB
  // this was made it 108-162 MiB RSS on a 166 MB flood).
  std::size_t max_queued_bytes = 2 << 20;
  // When this flag is true at finish(), the job's final state is not written (a worker that
  // hands the job back to the queue records that instead).
  const std::atomic<bool>* skip_finish = nullptr;
};

class StoreSink final : public logging::EventSink {
 public:
  // Inserts `job` (status processing) unless options.insert_job is false. Throws StoreError when
  // that first write fails, so a caller can decide before the job starts.
  StoreSink(std::unique_ptr<Store> store, JobRecord job, StoreSinkOptions options = {});
  ~StoreSink() override;
  StoreSink(const StoreSink&) = delete;
  StoreSink& operator=(const StoreSink&) = delete;

  void write(const logging::Event& event) override;
  void finish(const logging::JobSummary& summary) override;
  void flush() override;

  // The first store error, if any (the sink has stopped writing then).
  std::optional<std::string> error() const;

 private:
  void hand_off();
  void writer_loop();
  void stop_writer();

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
  std::optional<std::string> error_;
  std::thread writer_;
};

// The final JobRecord for a summary, in Keboola's statuses: success, error, or terminated (a job
// stopped while running; `cancelled` is for jobs cancelled before they ran, set by the store).
JobRecord finished_record(JobRecord job, const logging::JobSummary& summary);

}  // namespace runner::store
