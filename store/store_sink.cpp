// StoreSink: see store_sink.hpp. One writer thread per job; blocks of the same job that queued up
// while the previous transaction ran are merged (append_block, event_block.hpp) so that a
// component printing in tiny bursts still costs few rows. The writer takes from memory first and
// then from the spool: the job's thread spools only while memory is full or the spool is not empty,
// so the two together stay in sequence order.
#include "store/store_sink.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace runner::store {

namespace {

using Clock = std::chrono::steady_clock;

// How long a full memory queue may stay full before blocks go to the spool instead.
constexpr auto kStallWait = std::chrono::seconds(1);
// How long the writer lets blocks gather before a transaction that is not full (half the memory
// queue): every SQLite commit rewrites its pages (blocks, index, the job's events_stored) in the
// WAL, so a commit per engine read (thousands per 166 MB flood, 16 KiB pages each) cost more CPU
// than compressing the events did (perf, docs/BENCHMARKS.md). 100 ms is what `--follow` and the
// shipper may lag behind at most, for the price of ~10 commits a second.
constexpr auto kGatherWait = std::chrono::milliseconds(100);
// Retries of a busy or unreachable store: 100 ms, doubling, at most 2 s apart.
constexpr auto kFirstBackoff = std::chrono::milliseconds(100);
constexpr auto kMaxBackoff = std::chrono::milliseconds(2000);
// A call's wait for another process's lock before it fails and is retried (the first insert
// waits less: the job must not start late).
constexpr auto kWriterBusyTimeout = std::chrono::milliseconds(2000);
constexpr auto kFirstInsertBusyTimeout = std::chrono::milliseconds(200);

// Moves `blocks` into `batch`, merging neighbours up to `merge_bytes`; returns the capacity moved
// (what queued_bytes_ counted for them).
std::size_t merge_all(std::deque<EventBlock>& blocks, std::vector<EventBlock>& batch,
                      std::size_t merge_bytes) {
  std::size_t bytes = 0;
  while (!blocks.empty()) {
    EventBlock& next = blocks.front();
    bytes += next.events.capacity();
    if (batch.empty() || batch.back().events.size() + next.events.size() > merge_bytes)
      batch.push_back(std::move(next));
    else
      append_block(batch.back(), std::move(next));
    blocks.pop_front();
  }
  return bytes;
}

}  // namespace

// Ranges come from two threads (the writer's failed batches, the job's blocks refused once the
// store was given up), so not always in order: inserted in place, joined with the neighbours
// they touch.
void MissingEvents::add(std::uint64_t first, std::uint64_t last, const std::string& why) {
  if (first == 0 || first > last) return;
  auto at = std::lower_bound(ranges.begin(), ranges.end(), std::make_pair(first, last));
  at = ranges.insert(at, {first, last});
  if (at != ranges.begin() && std::prev(at)->second + 1 >= at->first) {
    std::prev(at)->second = std::max(std::prev(at)->second, at->second);
    at = std::prev(ranges.erase(at));
  }
  while (std::next(at) != ranges.end() && at->second + 1 >= std::next(at)->first) {
    at->second = std::max(at->second, std::next(at)->second);
    ranges.erase(std::next(at));
  }
  if (reason.empty()) reason = why;
}

std::uint64_t MissingEvents::count() const {
  std::uint64_t n = 0;
  for (const auto& [first, last] : ranges) n += last - first + 1;
  return n;
}

std::string MissingEvents::text() const {
  std::string out;
  for (const auto& [first, last] : ranges) {
    if (!out.empty()) out += ',';
    out += first == last ? std::to_string(first) : fmt::format("{}-{}", first, last);
  }
  return out;
}

StoreSink::StoreSink(std::unique_ptr<Store> store, JobRecord job, StoreSinkOptions options)
    : store_(std::move(store)),
      job_(std::move(job)),
      options_(std::move(options)),
      builder_(job_.id) {
  job_row_written_ = !options_.insert_job;
  if (!job_row_written_) {
    // At once when the store is free, so that the job is listed while it runs; a store that is
    // busy now gets the row from the writer thread, which retries.
    store_->set_busy_timeout(kFirstInsertBusyTimeout);
    try {
      store_->insert_job(job_);
      job_row_written_ = true;
    } catch (const StoreError& e) {
      if (!e.transient()) throw;
    }
  }
  store_->set_busy_timeout(kWriterBusyTimeout);
  if (const auto file = store_->local_file(); file && options_.disk_reserve_bytes > 0)
    reserve_ =
        std::make_unique<DiskReserve>(reserve_file(*file, job_.id), options_.disk_reserve_bytes);
  writer_ = std::thread([this] { writer_loop(); });
}

StoreSink::~StoreSink() {
  stop_writer();
  remove_spool_job();  // the runner ends: it is not dead, whatever the store recorded
}

void StoreSink::write(const logging::Event& event) {
  fields_text_.clear();
  if (event.fields != nullptr && !event.fields->is_null()) fields_text_ = event.fields->dump();
  builder_.add(event.sequence, event.time, event.level, event.source, event.message, fields_text_);
  // One engine poll can deliver many reads before the next flush(): a block never grows past
  // merge_bytes, so the job thread holds at most that much besides the bounded queue.
  if (builder_.bytes() >= options_.merge_bytes) hand_off();
}

void StoreSink::flush() {
  if (!builder_.empty()) hand_off();
}

void StoreSink::hand_off() {
  EventBlock block = builder_.take();
  std::unique_lock lock(mutex_);
  if (given_up_) {
    missing_.add(block.first_sequence, block.last_sequence, missing_.reason);
    return;
  }
  // Behind blocks waiting on disk: on disk too, so that they are written back in order.
  if (spool_ && !spool_->empty()) return spool_block(std::move(block));
  const auto room = [&] { return queued_bytes_ < options_.max_queued_bytes || given_up_; };
  if (!room()) {
    const bool freed = changed_.wait_for(lock, kStallWait, room);
    if (!freed && !options_.spool_dir.empty()) return spool_block(std::move(block));
    changed_.wait(lock, room);
    if (given_up_) {
      missing_.add(block.first_sequence, block.last_sequence, missing_.reason);
      return;
    }
  }
  // Capacity, not size: what the queue bounds is memory.
  const bool was_empty = queue_.empty();
  queued_bytes_ += block.events.capacity();
  queue_.push_back(std::move(block));
  // The writer waits for the first block, then for half the queue (or kGatherWait): waking it
  // for every engine read in between would cost a context switch each, for nothing.
  if (was_empty || queued_bytes_ >= options_.max_queued_bytes / 2) changed_.notify_all();
}

void StoreSink::spool_block(EventBlock&& block) {
  if (!spool_)
    spool_ = std::make_unique<EventSpool>(spool_file(options_.spool_dir, job_.id),
                                          options_.max_spool_bytes);
  std::string problem;
  if (!spool_->append(block, problem)) {
    missing_.add(block.first_sequence, block.last_sequence, problem);
  } else if (!job_row_written_ && !spool_job_written_) {
    // A runner killed now would leave events of a job no store row names: the record lets
    // `runner gc` insert the row (record_spooled_jobs) and store them.
    spool_job_written_ = write_spool_job(spool_->file(), job_, store_->describe());
  }
  changed_.notify_all();
}

std::vector<EventBlock> StoreSink::next_batch(std::unique_lock<std::mutex>& lock) {
  (void)lock;  // held by the caller
  std::vector<EventBlock> batch;
  if (!queue_.empty()) {
    const std::size_t bytes = merge_all(queue_, batch, options_.merge_bytes);
    queued_bytes_ = queued_bytes_ > bytes ? queued_bytes_ - bytes : 0;
    return batch;
  }
  if (spool_ && !spool_->empty()) {
    std::deque<EventBlock> read;
    for (auto& b : spool_->read(options_.merge_bytes)) {
      b.job_id = job_.id;
      read.push_back(std::move(b));
    }
    merge_all(read, batch, options_.merge_bytes);
    if (spool_->empty()) spool_->reset();  // every block is out of the file now
  }
  return batch;
}

void StoreSink::writer_loop() {
  if (!job_row_written_) {
    std::vector<EventBlock> none;  // only the job row, retried like events
    std::string problem;
    if (!write_batch(none, problem)) {
      std::lock_guard lock(mutex_);
      if (!error_) error_ = "the job was not recorded in the store: " + problem;
    }
  }
  for (;;) {
    std::vector<EventBlock> batch;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock,
                    [&] { return !queue_.empty() || (spool_ && !spool_->empty()) || stopping_; });
      const auto gathered = [&] {
        return stopping_ || queued_bytes_ >= options_.max_queued_bytes / 2 ||
               (spool_ && !spool_->empty()) || given_up_;
      };
      if (!gathered()) changed_.wait_for(lock, kGatherWait, gathered);
      batch = next_batch(lock);
      if (batch.empty()) return;  // stopping and drained
      writing_ = true;
      changed_.notify_all();  // memory was freed
    }
    std::string problem;
    const bool stored = write_batch(batch, problem);
    std::lock_guard lock(mutex_);
    writing_ = false;
    if (!stored) missing_.add(batch.front().first_sequence, batch.back().last_sequence, problem);
    changed_.notify_all();
  }
}

void StoreSink::ensure_job_row() {
  if (job_row_written_) return;
  // A retry after an unclear failure (a connection lost during COMMIT) must not insert twice.
  if (!store_->find_job(job_.id)) store_->insert_job(job_);
  job_row_written_ = true;
  remove_spool_job();
}

void StoreSink::remove_spool_job() {
  std::lock_guard lock(mutex_);
  if (!spool_job_written_) return;
  std::error_code ignored;
  std::filesystem::remove(spool_job_file(spool_file(options_.spool_dir, job_.id)), ignored);
  spool_job_written_ = false;
}

bool StoreSink::already_stored(std::vector<EventBlock>& batch) {
  const auto row = store_->find_job(job_.id);
  if (!row) return false;
  const auto stored = row->events_stored;
  std::erase_if(batch, [&](const EventBlock& b) { return b.last_sequence <= stored; });
  return batch.empty();
}

bool StoreSink::write_batch(std::vector<EventBlock>& batch, std::string& problem) {
  if (given_up_) {
    problem = missing_.reason;
    return false;
  }
  auto backoff = kFirstBackoff;
  bool retrying = false;
  for (;;) {
    try {
      ensure_job_row();
      if (retrying && already_stored(batch)) return true;
      // Compressed once, just before the first try (a retry sends the same frames).
      for (auto& b : batch)
        if (b.packed.empty() && !b.events.empty()) compressor_.pack(b);
      store_->append_blocks(batch);
      failing_since_.reset();
      return true;
    } catch (const StoreError& e) {
      if (e.disk_full()) return give_up_on_full_disk(e, problem);
      if (!e.transient()) {
        problem = e.what();
        return false;
      }
      const auto now = Clock::now();
      if (!failing_since_) failing_since_ = now;
      if (now - *failing_since_ >= options_.retry_window) {
        problem = fmt::format(
            "the store was busy or unreachable for more than {} s (RUNNER_STORE_RETRY_SECONDS): {}",
            options_.retry_window.count() / 1000, e.what());
        std::lock_guard lock(mutex_);
        given_up_ = true;
        changed_.notify_all();
        return false;
      }
    } catch (const std::exception& e) {
      problem = e.what();
      return false;
    }
    retrying = true;
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

// Later events are not tried (each try would take more of what little room is left): the job's
// record and the note of what was lost get the reserve instead.
bool StoreSink::give_up_on_full_disk(const StoreError& e, std::string& problem) {
  problem = e.what();
  std::lock_guard lock(mutex_);
  if (reserve_ && reserve_->release())
    problem +=
        " (the events after these were not written either: the room left is kept for "
        "the job's record)";
  given_up_ = true;
  changed_.notify_all();
  return false;
}

void StoreSink::stop_writer() {
  {
    std::lock_guard lock(mutex_);
    if (!writer_.joinable()) return;
    stopping_ = true;
    changed_.notify_all();
  }
  writer_.join();
}

std::string StoreSink::loss_warning() const {
  return fmt::format("{} event(s) of job {} were not stored in {} (sequences {}): {}",
                     missing_.count(), job_.id, store_->describe(), missing_.text(),
                     missing_.reason);
}

void StoreSink::settle(logging::JobSummary& summary) {
  flush();
  stop_writer();  // writes back what waited, within the retry window
  std::lock_guard lock(mutex_);
  if (missing_.empty()) return;
  const std::string warning = loss_warning();
  // The result record (--events, the store) says so, in its message.
  summary.message =
      summary.message.empty() ? "Warning: " + warning : summary.message + "; warning: " + warning;
  if (options_.require_store) {
    summary.status = logging::JobStatus::error;
    summary.error_type = logging::ErrorType::internal;
    summary.exit_code = kExitStoreUnavailable;
    summary.message = "--require-store: " + warning;
  }
}

void StoreSink::finish(const logging::JobSummary& summary) {
  flush();
  stop_writer();
  if (options_.skip_finish != nullptr && options_.skip_finish->load()) return;
  JobRecord record = finished_record(job_, summary);
  {
    std::lock_guard lock(mutex_);
    record.events_missing = missing_.text();
    record.events_missing_reason = missing_.reason;
  }
  auto backoff = kFirstBackoff;
  const auto since = Clock::now();
  for (;;) {
    try {
      ensure_job_row();
      store_->finish_job(record);
      if (summary.usage) store_->put_usage(job_.id, summary.usage->dump());
      if (!summary.rows.empty() || !summary.stages.empty())
        store_->put_job_runs(
            job_.id, nlohmann::json{{"rows", summary.rows}, {"stages", summary.stages}}.dump(
                         -1, ' ', false, nlohmann::json::error_handler_t::replace));
      return;
    } catch (const StoreError& e) {
      if (!e.transient() || given_up_ || Clock::now() - since >= options_.retry_window) {
        std::lock_guard lock(mutex_);
        if (!error_)
          error_ =
              "the store (" + store_->describe() + ") failed to record the result: " + e.what();
        return;
      }
    } catch (const std::exception& e) {
      std::lock_guard lock(mutex_);
      if (!error_)
        error_ = "the store (" + store_->describe() + ") failed to record the result: " + e.what();
      return;
    }
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, kMaxBackoff);
  }
}

std::optional<std::string> StoreSink::error() const {
  std::lock_guard lock(mutex_);
  if (!missing_.empty()) return error_ ? loss_warning() + "; " + *error_ : loss_warning();
  return error_;
}

MissingEvents StoreSink::missing() const {
  std::lock_guard lock(mutex_);
  return missing_;
}

JobRecord finished_record(JobRecord job, const logging::JobSummary& summary) {
  if (summary.status == logging::JobStatus::success)
    job.status = std::string(kStatusSuccess);
  else if (summary.status == logging::JobStatus::terminated)
    job.status = std::string(kStatusTerminated);
  else
    job.status = std::string(kStatusError);
  job.error_type = std::string(logging::error_type_name(summary.error_type));
  job.message = summary.message;
  job.exit_code = summary.exit_code;
  job.container_exit_code = summary.container_exit_code;
  job.finished_at = logging::now_utc();
  job.outputs = summary.outputs.dump();
  job.metrics = summary.metrics.dump();
  job.lease_until.reset();
  return job;
}

}  // namespace runner::store
