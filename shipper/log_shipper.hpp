// LogShipper: one pass of `runner ship`. Reads stored events in (time, id) order after the stored
// offset (or from now minus the lookback), batchSize at a time, sends each batch through every
// exporter, and stores the new offset only once every exporter confirmed: at-least-once, no
// gaps. A failed send is retried with doubling delays; when an exporter keeps failing, the pass
// stops with ShipError naming it, and the offset stays after the last batch every exporter took
// (so the next pass resends only the failed batch).
//
// EventMergeReader turns the store's event blocks (each a run of one job's events, time-ordered)
// into one (time, id)-ordered stream with bounded memory: blocks are loaded in min_time order,
// and an event is released only once no unloaded block can hold an earlier one (the next
// block's min_time is past it). Memory is the overlapping blocks plus one batch, whatever the
// backlog.
#pragma once

#include "common/error.hpp"

#include "shipper/log_exporter.hpp"
#include "shipper/shipper_config.hpp"
#include "store/store.hpp"

#include <functional>
#include <map>
#include <memory>
#include <queue>
#include <stdexcept>
#include <string>
#include <vector>

namespace runner::shipper {

class ShipError : public Error {
 public:
  explicit ShipError(const std::string& what) : Error(ErrorKind::export_failed, what) {}
};

class EventMergeReader {
 public:
  EventMergeReader(store::Store& store, store::EventCursor after, logging::EventTime until,
                   std::optional<std::string> namespace_name, logging::Level min_level);
  // Up to `max` next events (fewer only at the end).
  std::vector<ShippedEvent> next_batch(std::size_t max);

 private:
  struct Pending {
    store::StoredEvent event;
    std::string id;
  };
  struct Later {
    bool operator()(const Pending& a, const Pending& b) const {
      if (a.event.time != b.event.time) return a.event.time > b.event.time;
      return a.id > b.id;
    }
  };
  bool load_page();
  const store::JobRecord* job_info(const std::string& job_id);

  store::Store& store_;
  store::EventCursor after_;
  logging::EventTime until_;
  std::optional<std::string> namespace_name_;
  logging::Level min_level_;
  store::Store::BlockPage page_;
  bool exhausted_ = false;
  std::priority_queue<Pending, std::vector<Pending>, Later> heap_;
  std::map<std::string, store::JobRecord> jobs_;  // cleared when it grows past 10,000
};

struct ShipStats {
  std::uint64_t events = 0;
  std::uint64_t batches = 0;
  std::uint64_t retries = 0;
  std::uint64_t deleted = 0;
  std::optional<store::EventCursor> offset;  // after the pass
};

struct ShipOptions {
  // Called before each retry with the exporter id, the attempt (1-based) and the error text.
  std::function<void(const std::string&, int, const std::string&)> on_retry;
  // Sleeps between retries; returns false to abandon the pass (a stop was requested).
  std::function<bool(std::chrono::microseconds)> sleep;
};

// The offset as stored in the key-value table: {"time":"...","time_us":N,"id":"..."}.
std::string encode_offset(const store::EventCursor& cursor);
std::optional<store::EventCursor> decode_offset(const std::string& text);

// One pass. Throws ShipError when an exporter keeps failing (after retries).
ShipStats ship_once(store::Store& store, const ShipperConfig& config,
                    std::vector<std::unique_ptr<LogExporter>>& exporters,
                    const ShipOptions& options = {});

}  // namespace runner::shipper
