// The `syslog` exporter: see the header.
#include "shipper/syslog_exporter.hpp"

#include "common/host_name.hpp"
#include "shipper/exporter_io.hpp"

#include <fmt/format.h>

#include <array>
#include <optional>

namespace runner::shipper {

namespace {

constexpr std::array<std::string_view, 24> kFacilityNames = {
    "kern",   "user",   "mail",     "daemon", "auth",   "syslog",   "lpr",     "news",
    "uucp",   "cron",   "authpriv", "ftp",    "ntp",    "security", "console", "solaris-cron",
    "local0", "local1", "local2",   "local3", "local4", "local5",   "local6",  "local7"};

struct SyslogSettings {
  std::string host;
  std::uint16_t port = 514;
  std::string app_name;
  int facility = 1;
  std::string hostname;
  std::chrono::milliseconds timeout{30000};
};

bool is_print_ascii(char c) {
  return c >= 33 && c <= 126;
}

// A header field: printable ASCII (others become '_'), at most `max` characters, "-" if empty.
std::string header_field(std::string_view text, std::size_t max) {
  std::string out;
  for (char c : text.substr(0, max)) out += is_print_ascii(c) ? c : '_';
  return out.empty() ? std::string("-") : out;
}

class SyslogExporter final : public ExporterBase {
 public:
  SyslogExporter(std::string id, std::string type, SyslogSettings settings)
      : ExporterBase(std::move(id), std::move(type)),
        settings_(std::move(settings)),
        connection_(settings_.host, settings_.port,
                    std::min<std::chrono::milliseconds>(std::chrono::seconds(5), settings_.timeout),
                    settings_.timeout) {
    // " HOSTNAME APP-NAME PROCID " after the timestamp.
    middle_ = fmt::format(" {} {} - ", header_field(settings_.hostname, 255),
                          header_field(settings_.app_name, 48));
  }

  void send(const std::vector<ShippedEvent>& batch) override {
    if (batch.empty()) return;
    buffer_.clear();
    for (const ShippedEvent& shipped : batch) {
      build_message(shipped);
      append_uint(buffer_, message_.size());
      buffer_ += ' ';
      buffer_ += message_;
    }
    try {
      connection_.ensure_connected();
      connection_.send_all(buffer_);
      if (connection_.peer_closed()) {
        connection_.disconnect();
        throw SocketError(
            fmt::format("the receiver at {} closed the connection", connection_.endpoint()));
      }
    } catch (const SocketError& e) {
      throw ExportError(error_prefix() + e.what());
    }
  }

  void close() override { connection_.disconnect(); }

 private:
  void build_message(const ShippedEvent& shipped) {
    const store::StoredEvent& e = shipped.event;
    message_ = '<';
    append_int(message_, settings_.facility * 8 + syslog_severity(e.level));
    message_ += ">1 ";
    time_.append(message_, e.time);
    message_ += middle_;
    message_ += header_field(e.source, 32);
    message_ += R"( [runner@32473 id=")";
    append_sd_param_value(message_, e.id());
    message_ += R"(" job=")";
    append_sd_param_value(message_, e.job_id);
    message_ += R"(" namespace=")";
    append_sd_param_value(message_, shipped.namespace_name);
    message_ += R"(" component=")";
    append_sd_param_value(message_, shipped.component_id);
    message_ += R"(" sequence=")";
    append_uint(message_, e.sequence);
    if (auto fields = parse_fields(e.fields)) {
      message_ += R"(" fields=")";
      append_sd_param_value(message_,
                            fields->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
    }
    message_ += "\"]";
    if (!e.message.empty()) {
      message_ += ' ';
      message_ += e.message;
    }
  }

  SyslogSettings settings_;
  TcpConnection connection_;
  std::string middle_;
  std::string message_;
  std::string buffer_;
  TimeFormatter time_;
};

}  // namespace

void append_sd_param_value(std::string& out, std::string_view value) {
  for (char c : value) {
    if (c == '"' || c == '\\' || c == ']') out += '\\';
    out += c;
  }
}

std::unique_ptr<LogExporter> make_syslog_exporter(ExporterProperties& properties) {
  SyslogSettings settings;
  settings.host = properties.required_string("host");
  settings.port = static_cast<std::uint16_t>(properties.integer("port", 1, 65535).value_or(514));
  settings.app_name = properties.string_or("appName", "runner");
  if (settings.app_name.size() > 48 ||
      !std::all_of(settings.app_name.begin(), settings.app_name.end(), is_print_ascii)) {
    properties.fail("appName", fmt::format("expected 1-48 printable ASCII characters without "
                                           "spaces (RFC 5424 APP-NAME), got \"{}\"",
                                           settings.app_name));
  }
  if (const nlohmann::json* facility = properties.raw("facility")) {
    const std::string expected =
        "a syslog facility: 0-23 or kern, user, mail, daemon, auth, syslog, lpr, news, uucp, "
        "cron, authpriv, ftp, ntp, security, console, solaris-cron, local0-local7";
    std::optional<int> number;
    if (facility->is_number_integer()) {
      const auto n = facility->get<std::int64_t>();
      if (n >= 0 && n <= 23) number = static_cast<int>(n);
    } else if (facility->is_string()) {
      const std::string& text = facility->get_ref<const std::string&>();
      for (std::size_t i = 0; i < kFacilityNames.size(); ++i)
        if (text == kFacilityNames[i]) number = static_cast<int>(i);
      if (!number && !text.empty() && text.size() <= 2 &&
          std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
        const int n = std::stoi(text);
        if (n <= 23) number = n;
      }
    }
    if (!number) {
      properties.fail(
          "facility",
          fmt::format("expected {}, got {}", expected,
                      facility->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)));
    }
    settings.facility = *number;
  }
  settings.hostname = properties.string_or("sourceHost", host_name());
  settings.timeout = properties.timeout("timeout", std::chrono::seconds(30));
  return std::make_unique<SyslogExporter>(properties.id(), properties.type(), std::move(settings));
}

}  // namespace runner::shipper
