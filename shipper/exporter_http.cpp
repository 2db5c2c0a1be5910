// HttpClient: see the header.
#include "shipper/exporter_http.hpp"

#include "shipper/exporter_common.hpp"

#include <curl/curl.h>
#include <fmt/format.h>

#include <mutex>

namespace runner::shipper {

namespace {

constexpr std::size_t kMaxResponseBytes = 16 * 1024 * 1024;

struct CurlEasyDeleter {
  void operator()(CURL* h) const { curl_easy_cleanup(h); }
};
struct CurlSlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CurlUrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using CurlSlist = std::unique_ptr<curl_slist, CurlSlistDeleter>;

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

size_t on_body(char* data, size_t size, size_t count, void* user) {
  auto* response = static_cast<HttpResponse*>(user);
  const size_t bytes = size * count;
  if (response->body.size() < kMaxResponseBytes) {
    response->body.append(data, std::min(bytes, kMaxResponseBytes - response->body.size()));
  }
  return bytes;
}

}  // namespace

struct HttpClient::Handle {
  std::unique_ptr<CURL, CurlEasyDeleter> easy;
  char error[CURL_ERROR_SIZE] = {};
};

HttpClient::HttpClient(std::chrono::milliseconds request_timeout,
                       std::chrono::milliseconds connect_timeout)
    : request_timeout_(request_timeout),
      connect_timeout_(std::min(connect_timeout, request_timeout)) {
  global_init();
}

HttpClient::~HttpClient() = default;

void HttpClient::reset() {
  handle_.reset();
}

HttpResponse HttpClient::post(const std::string& url, const std::vector<std::string>& headers,
                              std::string_view body, const std::optional<BasicAuth>& auth) {
  if (!handle_) {
    handle_ = std::make_unique<Handle>();
    handle_->easy.reset(curl_easy_init());
    if (!handle_->easy) {
      handle_.reset();
      throw HttpTransportError("cannot create a libcurl handle");
    }
  }
  CURL* h = handle_->easy.get();
  // Options that stay the same between requests are set again anyway: cheap, and a handle that
  // was used for another URL keeps nothing surprising. The connection cache survives this.
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, handle_->error);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(connect_timeout_.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(request_timeout_.count()));
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");  // accept gzip/deflate answers
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));

  std::vector<std::string> all = headers;
  all.emplace_back("Expect:");  // no 100-continue round trip for large bodies
  all.emplace_back("User-Agent: runner-shipper");
  curl_slist* list = nullptr;
  for (const std::string& header : all) {
    curl_slist* next = curl_slist_append(list, header.c_str());
    if (next == nullptr) {
      curl_slist_free_all(list);
      throw std::bad_alloc();
    }
    list = next;
  }
  const CurlSlist header_list(list);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, header_list.get());

  if (auth) {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
    curl_easy_setopt(h, CURLOPT_USERNAME, auth->username.c_str());
    curl_easy_setopt(h, CURLOPT_PASSWORD, auth->password.c_str());
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_NONE);
    curl_easy_setopt(h, CURLOPT_USERNAME, nullptr);
    curl_easy_setopt(h, CURLOPT_PASSWORD, nullptr);
  }

  HttpResponse response;
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  handle_->error[0] = '\0';
  const CURLcode rc = curl_easy_perform(h);
  // The handle must not keep pointers into this call's header list and body.
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, nullptr);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, nullptr);
  if (rc != CURLE_OK) {
    const std::string detail =
        handle_->error[0] != '\0' ? std::string(handle_->error) : curl_easy_strerror(rc);
    throw HttpTransportError(fmt::format("POST {}: {}", display_url(url), detail));
  }
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &response.status);
  char* content_type = nullptr;
  if (curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &content_type) == CURLE_OK &&
      content_type != nullptr) {
    response.content_type = content_type;
  }
  return response;
}

HttpResponse HttpExporterBase::post(const std::string& url, const std::vector<std::string>& headers,
                                    std::string_view body, const std::optional<BasicAuth>& auth,
                                    std::string_view what) {
  const std::string part = what.empty() ? std::string() : fmt::format(" ({})", what);
  HttpResponse response;
  try {
    response = client_.post(url, headers, body, auth);
  } catch (const HttpTransportError& e) {
    client_.reset();  // start over with a new connection on the retry
    fail(fmt::format("{}{}", e.what(), part));
  }
  if (response.status < 200 || response.status > 299) {
    fail(fmt::format("POST {}{}: HTTP {}{}{}", display_url(url), part, response.status,
                     response.body.empty() ? "" : ": ", body_excerpt(response.body)));
  }
  return response;
}

void HttpExporterBase::fail(const std::string& message) const {
  throw ExportError(hide_secrets(error_prefix() + message, secrets_));
}

std::string display_url(const std::string& url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return "(invalid URL)";
  curl_url_set(parsed.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(parsed.get(), CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(parsed.get(), CURLUPART_OPTIONS, nullptr, 0);
  curl_url_set(parsed.get(), CURLUPART_QUERY, nullptr, 0);
  curl_url_set(parsed.get(), CURLUPART_FRAGMENT, nullptr, 0);
  char* text = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_URL, &text, 0) != CURLUE_OK || text == nullptr)
    return "(invalid URL)";
  std::string out = text;
  curl_free(text);
  return out;
}

bool url_has_path(const std::string& url) {
  std::unique_ptr<CURLU, CurlUrlDeleter> parsed(curl_url());
  if (!parsed || curl_url_set(parsed.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK)
    return false;
  char* path = nullptr;
  if (curl_url_get(parsed.get(), CURLUPART_PATH, &path, 0) != CURLUE_OK || path == nullptr)
    return false;
  const std::string text = path;
  curl_free(path);
  return !text.empty() && text != "/";
}

std::string header_problem(std::string_view name, std::string_view value) {
  static constexpr std::string_view kTokenSpecials = "!#$%&'*+-.^_`|~";
  if (name.empty()) return "a header name must not be empty";
  for (char c : name) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) == 0 && kTokenSpecials.find(c) == std::string_view::npos)
      return "a header name may hold only letters, digits and !#$%&'*+-.^_`|~";
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return "a header value must not hold CR, LF or NUL";
  }
  return {};
}

std::string body_excerpt(std::string_view body) {
  std::string out(utf8_prefix(body, 300));
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  if (body.size() > out.size() + 1) out += "...";
  return out;
}

}  // namespace runner::shipper
