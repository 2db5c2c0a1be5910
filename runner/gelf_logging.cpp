// GELF logging mode: see the header.
#include "runner/gelf_logging.hpp"

#include <fmt/format.h>

namespace runner {
namespace gelf = logging::gelf;

std::optional<GelfLogPolicy::Shown> GelfLogPolicy::apply(const gelf::GelfMessage& m) const {
  const logging::Level level = gelf::event_level_from_syslog(m.level);
  const Visibility visibility = verbosity_[static_cast<std::size_t>(level)];
  if (visibility == Visibility::none) return std::nullopt;
  Shown shown{level, m.short_message, {{"type", std::string(gelf::keboola_event_type(m.level))}}};
  nlohmann::json all = m.additional;
  if (!m.full_message.empty()) all["full_message"] = m.full_message;
  if (!m.host.empty()) all["host"] = m.host;
  if (m.timestamp) all["timestamp"] = *m.timestamp;
  if (visibility == Visibility::camouflage) {
    shown.message = "Application error";
    all["short_message"] = m.short_message;
    shown.fields["internal"] = std::move(all);
  } else if (visibility == Visibility::verbose) {
    for (auto& [key, value] : all.items())
      if (key != "type") shown.fields[key] = value;
  }
  return shown;
}

GelfJobServer::GelfJobServer(const LoggingSettings& settings, logging::EventLog& events)
    : policy_(settings.verbosity),
      events_(events),
      transport_(settings.gelf_server_type),
      server_(
          [&] {
            gelf::GelfServerOptions options;
            options.transport = *gelf::parse_gelf_transport(settings.gelf_server_type);
            // HTTP clients may send up to the 200 KB message limit (Graylog's 64 KiB is lower).
            options.max_http_body_bytes = options.max_message_bytes + 1024;
            // The address is where the engine's network reaches this host; Podman brings it up
            // only with the first container on its network, i.e. after this server must listen.
            options.free_bind = true;
            return options;
          }(),
          gelf::GelfServerCallbacks{[this](const gelf::GelfMessage& m) { on_message(m); },
                                    [this](const std::string& reason) {
                                      events_.emit(logging::Level::warning, "gelf", reason);
                                    },
                                    [this](const std::string& reason) {
                                      if (!oversize_) oversize_ = events_.mask(reason);
                                    }}) {}

void GelfJobServer::listen(const std::string& address) {
  server_.bind(address, 0);
  address_ = address;
}

// The event log masks the shown message and every field (names and values) with the job's
// secrets; the policy only moves them around.
void GelfJobServer::on_message(const gelf::GelfMessage& message) {
  const auto shown = policy_.apply(message);
  if (!shown) {
    ++hidden_;
    return;
  }
  if (shown->level >= logging::Level::error) last_error_ = events_.mask(message.short_message);
  events_.emit(shown->level, "gelf", shown->message, &shown->fields);
}

void GelfJobServer::finish() {
  server_.drain();
  const gelf::GelfServerCounters c = server_.counters();
  nlohmann::json fields = {{"received", c.received},
                           {"invalid", c.invalid},
                           {"dropped", c.dropped},
                           {"bytes", c.bytes},
                           {"oversize", c.oversize},
                           {"hidden", hidden_},
                           {"chunks_expired", c.chunks.expired},
                           {"transport", transport_}};
  if (transport_ == "udp") {
    fields["udp_receive_buffer"] = server_.udp_receive_buffer_bytes();
    // Malformed chunk sets (over 128 chunks, sequence >= count, count 0, a count that changes)
    // are counted, as the standalone server counts them.
    fields["chunks_completed"] = c.chunks.completed;
    fields["chunks_rejected"] = c.chunks.rejected;
    fields["chunks_evicted"] = c.chunks.evicted;
    fields["chunks_duplicates"] = c.chunks.duplicates;
  }
  // The counters are the fields; the text says only what went wrong, if anything did: a job that
  // lost nothing gets a debug event, one that lost messages a warning naming what was lost.
  std::string lost;
  for (const char* name :
       {"invalid", "dropped", "oversize", "chunks_rejected", "chunks_expired", "chunks_evicted"}) {
    if (fields.contains(name) && fields[name].get<std::uint64_t>() > 0)
      lost += (lost.empty() ? "" : ", ") + std::string(name);
  }
  const std::string server =
      fmt::format("GELF server ({} on {}:{})", transport_, address_, server_.port());
  if (lost.empty())
    events_.emit(logging::Level::debug, "runner", server + ": closed", &fields);
  else
    events_.emit(logging::Level::warning, "runner",
                 server + ": some messages were not logged (" + lost + ")", &fields);
}

}  // namespace runner
