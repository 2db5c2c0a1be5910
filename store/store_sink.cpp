// StoreSink: see store_sink.hpp. One writer thread per job; blocks of the same job that queued up
// while the previous transaction ran are merged (their JSON arrays joined) so that a component
// printing in tiny bursts still costs few rows.
#include "store/store_sink.hpp"

namespace runner::store {

namespace {

// Appends block `b` (same job, following sequences) to `a`.
void merge_into(EventBlock& a, EventBlock&& b) {
  if (a.events.empty()) {
    a = std::move(b);
    return;
  }
  a.events.pop_back();  // ']'
  a.events.push_back(',');
  a.events.append(b.events, 1, std::string::npos);  // without '['
  a.last_sequence = b.last_sequence;
  if (b.min_time < a.min_time) a.min_time = b.min_time;
  if (b.max_time > a.max_time) a.max_time = b.max_time;
  a.level_mask |= b.level_mask;
  a.event_count += b.event_count;
}

}  // namespace

StoreSink::StoreSink(std::unique_ptr<Store> store, JobRecord job, StoreSinkOptions options)
    : store_(std::move(store)), job_(std::move(job)), options_(options), builder_(job_.id) {
  if (options_.insert_job) store_->insert_job(job_);
  writer_ = std::thread([this] { writer_loop(); });
}

StoreSink::~StoreSink() {
  stop_writer();
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
  if (error_) return;  // the store failed: the other sinks carry on without it
  changed_.wait(lock, [&] { return queued_bytes_ < options_.max_queued_bytes || error_; });
  if (error_) return;
  // Capacity, not size: what the queue bounds is memory.
  queued_bytes_ += block.events.capacity();
  queue_.push_back(std::move(block));
  changed_.notify_all();
}

void StoreSink::writer_loop() {
  std::vector<EventBlock> batch;
  for (;;) {
    std::size_t taken = 0;  // what the blocks counted in queued_bytes_
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return !queue_.empty() || stopping_; });
      if (queue_.empty()) return;  // stopping and drained
      batch.clear();
      while (!queue_.empty()) {
        EventBlock& next = queue_.front();
        taken += next.events.capacity();
        if (batch.empty() || batch.back().events.size() + next.events.size() > options_.merge_bytes)
          batch.push_back(std::move(next));
        else
          merge_into(batch.back(), std::move(next));
        queue_.pop_front();
      }
      writing_ = true;
    }
    std::optional<std::string> failure;
    try {
      for (auto& b : batch) compressor_.pack(b);
      store_->append_blocks(batch);
    } catch (const std::exception& e) {
      failure = e.what();
    }
    std::lock_guard lock(mutex_);
    writing_ = false;
    queued_bytes_ = queued_bytes_ > taken ? queued_bytes_ - taken : 0;
    if (failure && !error_) {
      error_ = "the store (" + store_->describe() + ") failed; events after sequence " +
               std::to_string(batch.front().first_sequence - 1) + " were not stored: " + *failure;
      queue_.clear();
      queued_bytes_ = 0;
    }
    changed_.notify_all();
  }
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

void StoreSink::finish(const logging::JobSummary& summary) {
  flush();
  stop_writer();
  std::lock_guard lock(mutex_);
  if (options_.skip_finish != nullptr && options_.skip_finish->load()) return;
  try {
    store_->finish_job(finished_record(job_, summary));
  } catch (const std::exception& e) {
    if (!error_)
      error_ = "the store (" + store_->describe() + ") failed to record the result: " + e.what();
  }
}

std::optional<std::string> StoreSink::error() const {
  std::lock_guard lock(mutex_);
  return error_;
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
