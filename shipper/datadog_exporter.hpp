// The `datadog` exporter: Datadog's HTTP logs intake (v2). Properties: `apiKey` (required,
// through resolve_credential; sent as header DD-API-KEY), `site` (default datadoghq.com: the
// intake is https://http-intake.logs.<site>/api/v2/logs) or `url` (an intake URL of your own; a
// URL without a path gets /api/v2/logs), `service` (default "runner"), `ddsource` (default
// "runner"), `ddtags` (optional, "env:prod,team:data"), `hostname` (default this machine's
// name), `chunk` (logs per request, at most 1000), `timeout`. Kestra's `basePath` is `url`.
//
// POST application/json, a JSON array of logs:
//   [{"ddsource":"runner","ddtags":"...","hostname":"...","service":"runner","message":"...",
//     "status":"info","timestamp":1763726054123,
//     "runner":{"event_id":"...","job_id":"...","sequence":7,"namespace":"...",
//               "component_id":"...","source":"stdout","time":"2026-11-21T11:54:14.123456Z"},
//     "fields":{...}}, ...]
// `timestamp` (milliseconds since the epoch) is one of Datadog's default date attributes;
// `status` is the level name, which Datadog's status remapper understands. Datadog's limits per
// request are kept: at most 1000 logs, 5 MB of payload, 1 MB per log (a longer message is cut
// and the log gets "runner":{"truncated":true}); a batch that exceeds them goes in several
// requests, each of which must be answered 2xx (Datadog answers 202).
#pragma once

#include "shipper/exporter_common.hpp"

#include <memory>

namespace runner::shipper {

std::unique_ptr<LogExporter> make_datadog_exporter(ExporterProperties& properties);

}  // namespace runner::shipper
