// HttpClient: one libcurl easy handle kept for the exporter's life, so consecutive requests
// reuse the connection (HTTP/1.1 keep-alive). Blocking, no threads, no signals (CURLOPT_NOSIGNAL);
// connect timeout 5 s (or the request timeout when shorter), request timeout from the exporter's
// `timeout` property (default 30 s).
#pragma once

#include "common/error.hpp"

#include "shipper/exporter_common.hpp"

#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace runner::shipper {

struct HttpResponse {
  long status = 0;
  std::string body;  // at most the first 16 MB
  std::string content_type;
};

// The request could not be made or got no answer (DNS, connect, TLS, timeout); what() is
// libcurl's description. Never holds a credential: URLs in it carry no user information.
class HttpTransportError : public Error {
 public:
  explicit HttpTransportError(const std::string& what) : Error(ErrorKind::export_failed, what) {}
};

struct BasicAuth {
  std::string username;
  std::string password;
};

class HttpClient {
 public:
  explicit HttpClient(std::chrono::milliseconds request_timeout,
                      std::chrono::milliseconds connect_timeout = std::chrono::seconds(5));
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // POSTs `body` to `url` with the headers ("Name: value") and optional basic auth.
  HttpResponse post(const std::string& url, const std::vector<std::string>& headers,
                    std::string_view body, const std::optional<BasicAuth>& auth);
  // Closes the kept connection.
  void reset();

 private:
  struct Handle;
  std::unique_ptr<Handle> handle_;
  std::chrono::milliseconds request_timeout_;
  std::chrono::milliseconds connect_timeout_;
};

// Base of the HTTP exporters: a client, the credential values to hide from every message, and
// post(), which turns anything but a 2xx answer into an ExportError.
class HttpExporterBase : public ExporterBase {
 public:
  void close() override { client_.reset(); }

 protected:
  HttpExporterBase(std::string id, std::string type, std::chrono::milliseconds timeout,
                   std::vector<std::string> secrets)
      : ExporterBase(std::move(id), std::move(type)),
        client_(timeout),
        secrets_(std::move(secrets)) {}

  // POSTs and returns a 2xx response; throws ExportError "<type> exporter "<id>": POST <url>:
  // HTTP <status>: <body excerpt>" or the transport error otherwise. `what` describes the part
  // of the batch ("events 1-1000 of 2500") when a batch takes several requests, else "".
  HttpResponse post(const std::string& url, const std::vector<std::string>& headers,
                    std::string_view body, const std::optional<BasicAuth>& auth,
                    std::string_view what = {});
  // Throws ExportError with the prefix, credential values hidden.
  [[noreturn]] void fail(const std::string& message) const;

 private:
  HttpClient client_;
  std::vector<std::string> secrets_;
};

// The URL without user information or query (for messages): "http://host:9200/_bulk".
std::string display_url(const std::string& url);

// True when the URL has a path other than "/" (a full OTLP endpoint rather than a base one).
bool url_has_path(const std::string& url);

// Header names are HTTP tokens; values have no CR, LF or NUL. Returns the problem, or "".
std::string header_problem(std::string_view name, std::string_view value);

// A response body for an error message: at most ~300 bytes, control characters as spaces.
std::string body_excerpt(std::string_view body);

}  // namespace runner::shipper
