// The `gelf` exporter: see the header.
#include "shipper/gelf_exporter.hpp"

#include "common/host_name.hpp"
#include "logging/gelf/chunk_assembler.hpp"
#include "logging/gelf/payload_encoder.hpp"
#include "logging/json_text.hpp"
#include "shipper/exporter_io.hpp"

#include <fmt/format.h>

#include <cmath>
#include <optional>
#include <random>
#include <set>

namespace runner::shipper {

namespace {

constexpr std::size_t kChunkHeaderBytes = logging::gelf::GelfChunkAssembler::kHeaderSize;
constexpr std::size_t kMaxChunks = logging::gelf::GelfChunkAssembler::kMaxChunks;
constexpr std::size_t kShortMessageBytes = 250;

constexpr std::string_view kOwnFields[] = {"event_id",     "job_id", "seq",       "namespace",
                                           "component_id", "source", "truncated", "id"};

struct GelfSettings {
  std::string host;
  std::uint16_t port = 12201;
  bool tcp = false;
  std::string source_host;
  std::size_t chunk_size = 8192;
  std::chrono::milliseconds timeout{30000};
};

// The additional field name for a field: GELF allows ^[\w.\-]+$ and reserves _id.
std::string gelf_field_name(const std::string& name, std::set<std::string>& used) {
  std::string out;
  out.reserve(name.size() + 6);
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    out += (std::isalnum(u) != 0 || c == '_' || c == '.' || c == '-') ? c : '_';
  }
  if (out.empty()) out = "field";
  for (std::string_view own : kOwnFields) {
    if (out == own) {
      out = "field_" + out;
      break;
    }
  }
  std::string unique = out;
  for (int n = 2; !used.insert(unique).second; ++n) unique = fmt::format("{}_{}", out, n);
  return unique;
}

class GelfExporter final : public ExporterBase {
 public:
  GelfExporter(std::string id, std::string type, GelfSettings settings)
      : ExporterBase(std::move(id), std::move(type)), settings_(std::move(settings)) {
    if (settings_.tcp) {
      tcp_.emplace(settings_.host, settings_.port,
                   std::min<std::chrono::milliseconds>(std::chrono::seconds(5), settings_.timeout),
                   settings_.timeout);
    } else {
      udp_.emplace(settings_.host, settings_.port);
    }
    std::random_device seed;
    message_id_ = (static_cast<std::uint64_t>(seed()) << 32) ^ seed();
  }

  void send(const std::vector<ShippedEvent>& batch) override {
    if (batch.empty()) return;
    try {
      if (settings_.tcp) {
        send_tcp(batch);
      } else {
        send_udp(batch);
      }
    } catch (const SocketError& e) {
      throw ExportError(error_prefix() + e.what());
    }
  }

  void close() override {
    if (tcp_) tcp_->disconnect();
    if (udp_) udp_->disconnect();
  }

 private:
  void send_tcp(const std::vector<ShippedEvent>& batch) {
    buffer_.clear();
    for (const ShippedEvent& shipped : batch) {
      build_message(shipped, std::string::npos);
      buffer_ += message_;
      buffer_ += '\0';
    }
    tcp_->ensure_connected();
    tcp_->send_all(buffer_);
    if (tcp_->peer_closed()) {
      tcp_->disconnect();
      throw SocketError(fmt::format("the receiver at {} closed the connection", tcp_->endpoint()));
    }
  }

  void send_udp(const std::vector<ShippedEvent>& batch) {
    const std::size_t per_chunk = settings_.chunk_size - kChunkHeaderBytes;
    const std::size_t max_message = per_chunk * kMaxChunks;
    for (const ShippedEvent& shipped : batch) {
      build_message(shipped, std::string::npos);
      if (message_.size() > max_message) fit_message(shipped, max_message);
      if (message_.size() <= settings_.chunk_size) {
        udp_->send(message_);
        continue;
      }
      // The one GELF chunker (logging/gelf), the one the server's tests check the assembler with.
      for (const std::string& chunk :
           logging::gelf::make_gelf_chunks(message_, message_id_++, settings_.chunk_size))
        udp_->send(chunk);
    }
  }

  // Cuts the message's text until the JSON fits `max_bytes` (cutting n bytes of text removes
  // at least n bytes of JSON); drops the fields if the text alone cannot make it fit.
  void fit_message(const ShippedEvent& shipped, std::size_t max_bytes) {
    std::size_t text = shipped.event.message.size();
    bool with_fields = true;
    while (message_.size() > max_bytes) {
      const std::size_t over = message_.size() - max_bytes;
      if (text > over) {
        text -= over;
      } else if (with_fields) {
        with_fields = false;
      } else if (text > 0) {
        text = 0;
      } else {
        return;  // only with absurd ids; the receiver drops what it cannot reassemble
      }
      build_message(shipped, text, with_fields);
    }
  }

  // message_ = the GELF JSON of one event, its text cut to `max_text` bytes (npos: whole).
  void build_message(const ShippedEvent& shipped, std::size_t max_text, bool with_fields = true) {
    const store::StoredEvent& e = shipped.event;
    const bool truncated = max_text != std::string::npos && max_text < e.message.size();
    const std::string_view text =
        truncated ? utf8_prefix(e.message, max_text) : std::string_view(e.message);
    const std::size_t newline = text.find('\n');
    message_ = R"({"version":"1.1","host":)";
    logging::append_json_string(message_, settings_.source_host);
    message_ += R"(,"short_message":)";
    if (newline == std::string_view::npos && text.size() <= kShortMessageBytes) {
      logging::append_json_string(message_, text);
    } else {
      std::string_view first_line = text.substr(0, newline);
      if (!first_line.empty() && first_line.back() == '\r') first_line.remove_suffix(1);
      logging::append_json_string(message_, utf8_prefix(first_line, kShortMessageBytes));
      message_ += R"(,"full_message":)";
      logging::append_json_string(message_, text);
    }
    const std::int64_t us = epoch_micros(e.time);
    message_ += R"(,"timestamp":)";
    append_int(message_, us / 1000000);
    message_ += '.';
    char frac[6];
    auto rest = static_cast<unsigned>(((us % 1000000) + 1000000) % 1000000);
    for (int i = 5; i >= 0; --i) {
      frac[i] = static_cast<char>('0' + rest % 10);
      rest /= 10;
    }
    message_.append(frac, 6);
    message_ += R"(,"level":)";
    append_int(message_, syslog_severity(e.level));
    message_ += R"(,"_event_id":)";
    logging::append_json_string(message_, e.id());
    append_job_members(message_, shipped, "_");
    message_ += R"(,"_source":)";
    logging::append_json_string(message_, e.source);
    if (truncated || !with_fields) message_ += R"(,"_truncated":true)";
    if (with_fields) append_fields(e.fields);
    message_ += '}';
  }

  void append_fields(const std::string& fields_text) {
    const std::optional<nlohmann::json> fields = parse_fields(fields_text);
    if (!fields) return;
    std::set<std::string> used;
    for (const auto& [name, value] : fields->items()) {
      if (value.is_null()) continue;
      message_ += ",\"_";
      const std::string field = gelf_field_name(name, used);
      message_ += field;  // only [A-Za-z0-9_.-]: nothing to escape
      message_ += "\":";
      if (value.is_string()) {
        logging::append_json_string(message_, value.get_ref<const std::string&>());
      } else if (value.is_boolean()) {
        message_ += value.get<bool>() ? R"("true")" : R"("false")";
      } else if (value.is_number_float() && !std::isfinite(value.get<double>())) {
        logging::append_json_string(message_, value.dump());
      } else if (value.is_number()) {
        message_ += value.dump();
      } else {
        logging::append_json_string(
            message_, value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      }
    }
  }

  GelfSettings settings_;
  std::optional<TcpConnection> tcp_;
  std::optional<UdpSocket> udp_;
  std::uint64_t message_id_ = 0;
  std::string message_;
  std::string buffer_;
};

}  // namespace

std::unique_ptr<LogExporter> make_gelf_exporter(ExporterProperties& properties) {
  GelfSettings settings;
  settings.host = properties.required_string("host");
  settings.port = static_cast<std::uint16_t>(properties.integer("port", 1, 65535).value_or(12201));
  const std::string transport = properties.string_or("transport", "udp");
  if (transport != "udp" && transport != "tcp") {
    properties.fail("transport", fmt::format("expected udp or tcp, got \"{}\"", transport));
  }
  settings.tcp = transport == "tcp";
  settings.source_host = properties.string_or("sourceHost", host_name());
  settings.chunk_size =
      static_cast<std::size_t>(properties.integer("chunkSize", 512, 65000).value_or(8192));
  settings.timeout = properties.timeout("timeout", std::chrono::seconds(30));
  return std::make_unique<GelfExporter>(properties.id(), properties.type(), std::move(settings));
}

}  // namespace runner::shipper
