// The `syslog` exporter: RFC 5424 messages over TCP with octet-counting framing (RFC 6587
// 3.4.1: "<length> <message>"). Properties: `host` (required), `port` (default 514), `appName`
// (default "runner"), `facility` (0-23 or a name: kern, user, mail, daemon, auth, syslog, lpr,
// news, uucp, cron, authpriv, ftp, local0-local7; default 1, user), `sourceHost` (HOSTNAME,
// default this machine's name), `timeout` (default 30 s; connecting waits at most 5 s).
//
// One message per event:
//   <PRI>1 2026-11-21T11:54:14.123456Z HOSTNAME APP-NAME - MSGID [runner@32473 id="<event id>"
//   job="<job id>" namespace="..." component="..." sequence="7" fields="{...}"] MESSAGE
// PRI = facility * 8 + severity (emergency 0 ... debug 7). MSGID is the event's source (1-32
// printable ASCII characters, others become '_'); PROCID is "-". Parameter values escape '"',
// '\' and ']' with a backslash; `fields` (the event's fields as JSON) only when it has some.
// The message follows as UTF-8 without a BOM (left out when empty). 32473 is the enterprise
// number RFC 5612 reserves for documentation and examples.
// send() writes the batch on one kept connection and returns once every byte was written and
// the connection is still up; a write error or a closed connection is an ExportError.
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>
#include <string>
#include <string_view>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_syslog_exporter(ExporterProperties& properties);

// Appends an RFC 5424 PARAM-VALUE's content: '"', '\' and ']' escaped with a backslash.
void append_sd_param_value(std::string& out, std::string_view value);

}  // namespace runner::shipper
