// LogExporter: one destination of the log shipper (`logExporters` entries in shipper.yaml).
//
// The shipper reads a batch of stored events and calls send() on every exporter in turn; it
// advances its offset only when every exporter returned normally, so send() must return only
// once the receiver has confirmed the batch (HTTP 2xx for every request, TCP bytes written and
// the connection still good, file data written and flushed). A failure throws ExportError; the
// shipper retries the same batch with backoff, so exporters must tolerate a batch sent twice:
// every event carries its unique id (`StoredEvent::id()`), which receivers that can deduplicate
// use (Elasticsearch `_id`, ...). Never use the timestamp as an id: equal times are common.
//
// Credentials in an exporter's properties are resolved with resolve_credential(): "${NAME}"
// reads the environment variable NAME, "RUNNER::ENC::..." is decrypted with the runner key.
// Resolved values are never put into messages or logs.
#pragma once

#include "common/error.hpp"

#include "secrets/config_cipher.hpp"
#include "store/store.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace runner::shipper {

// A configuration problem (names the exporter and the property); not retried.
class ExporterConfigError : public Error {
 public:
  explicit ExporterConfigError(const std::string& what) : Error(ErrorKind::invalid_config, what) {}
};

// A failed send (names the exporter and what the receiver said); the shipper retries.
class ExportError : public Error {
 public:
  explicit ExportError(const std::string& what) : Error(ErrorKind::export_failed, what) {}
};

// An event with what the shipper knows about its job.
struct ShippedEvent {
  store::StoredEvent event;
  std::string namespace_name;
  std::string component_id;
};

class LogExporter {
 public:
  virtual ~LogExporter() = default;
  virtual const std::string& id() const = 0;
  virtual const std::string& type() const = 0;
  // Sends one batch (events in (time, id) order); returns once the receiver confirmed it.
  virtual void send(const std::vector<ShippedEvent>& batch) = 0;
  // Called once after the last batch of a pass (close files, connections).
  virtual void close() {}
};

// Supplies the runner key for RUNNER::ENC:: values (nullopt: none found).
using KeyLookup = std::function<std::optional<secrets::EncryptionKey>()>;

// "${NAME}" -> getenv(NAME) (error if unset), "RUNNER::ENC::..." -> decrypted with the key, any
// other string as it is. Errors name `where` (e.g. "logExporters[1].apiKey"), never a value.
std::string resolve_credential(const std::string& value, const std::string& where,
                               const KeyLookup& key);

// Builds an exporter from one `logExporters` entry ({"id": ..., "type": ..., properties...}).
// `where` is its position for messages ("logExporters[0]"). Throws ExporterConfigError.
std::unique_ptr<LogExporter> make_exporter(const nlohmann::json& config, const std::string& where,
                                           const KeyLookup& key);

}  // namespace runner::shipper
