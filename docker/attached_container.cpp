// AttachedContainer: see the header. libcurl multi with two easy handles, both on fresh
// connections (the attach connection is hijacked by the engine and cannot be reused).
#include "docker/attached_container.hpp"

#include "docker/engine_errors.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace runner::docker {

AttachedContainer::AttachedContainer(EngineClient& client, std::string container_id,
                                     OutputFn on_output, const std::string& wait_condition)
    : client_(client),
      id_(std::move(container_id)),
      demuxer_(std::move(on_output)),
      multi_(curl_multi_init()) {
  if (!multi_) throw EngineError("cannot initialise libcurl multi handle");
  setup(attach_, "/containers/" + id_ + "/attach?stream=1&stdout=1&stderr=1", true);
  setup(wait_, "/containers/" + id_ + "/wait?condition=" + wait_condition, false);
}

AttachedContainer::~AttachedContainer() {
  if (attach_.handle) curl_multi_remove_handle(multi_.get(), attach_.handle.get());
  if (wait_.handle) curl_multi_remove_handle(multi_.get(), wait_.handle.get());
}

void AttachedContainer::setup(Transfer& t, const std::string& path, bool is_attach) {
  t.handle.reset(curl_easy_init());
  if (!t.handle) throw EngineError("cannot initialise libcurl");
  CURL* h = t.handle.get();
  client_.configure_transport(h);
  t.headers = make_header_list({"Content-Type: application/json", "Expect:"});
  const std::string full = client_.url(path);
  curl_easy_setopt(h, CURLOPT_URL, full.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(0));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, t.headers.get());
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &t);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, is_attach ? on_attach_data : on_wait_data);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, this);
  curl_easy_setopt(h, CURLOPT_PRIVATE, &t);
  // Large reads: fewer callbacks per megabyte of output.
  curl_easy_setopt(h, CURLOPT_BUFFERSIZE, 512L * 1024);
  curl_multi_add_handle(multi_.get(), h);
}

std::size_t AttachedContainer::on_header(char* data, std::size_t size, std::size_t count,
                                         void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * count);
  if (line.rfind("HTTP/", 0) == 0) {
    // A new status line (e.g. after a 100 Continue): parse the code.
    const auto space = line.find(' ');
    if (space != std::string_view::npos)
      t->status = std::strtol(line.data() + space + 1, nullptr, 10);
    t->headers_done = false;
  } else if (line == "\r\n" || line == "\n") {
    if (t->status >= 200) t->headers_done = true;
  }
  return size * count;
}

std::size_t AttachedContainer::on_attach_data(char* data, std::size_t size, std::size_t count,
                                              void* user) {
  auto* self = static_cast<AttachedContainer*>(user);
  const std::size_t n = size * count;
  if (self->attach_.status >= 300) {
    self->attach_.body.append(data, n);
  } else {
    self->demuxer_.feed(std::string_view(data, n));
  }
  return n;
}

std::size_t AttachedContainer::on_wait_data(char* data, std::size_t size, std::size_t count,
                                            void* user) {
  auto* self = static_cast<AttachedContainer*>(user);
  self->wait_.body.append(data, size * count);
  return size * count;
}

void AttachedContainer::collect_finished() {
  int left = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi_.get(), &left)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, reinterpret_cast<char**>(&t));
    if (t == nullptr) continue;
    t->done = true;
    // The engine closes the hijacked attach connection without a chunk terminator or length;
    // libcurl may report that as a partial transfer, which for a raw stream is the normal end.
    const CURLcode rc = msg->data.result;
    if (rc != CURLE_OK && rc != CURLE_PARTIAL_FILE && !(t == &attach_ && rc == CURLE_RECV_ERROR)) {
      transfer_error_ = std::string(t == &attach_ ? "attach" : "wait") +
                        " stream failed: " + curl_easy_strerror(rc);
    }
  }
}

void AttachedContainer::arm(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!(attach_.headers_done || attach_.done) || !(wait_.headers_done || wait_.done)) {
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    collect_finished();
    if (attach_.done && attach_.status == 0)
      throw EngineUnreachableError("attach to container failed: " + transfer_error_);
    if (wait_.done && wait_.status == 0)
      throw EngineUnreachableError("wait for container failed: " + transfer_error_);
    if ((attach_.headers_done || attach_.done) && (wait_.headers_done || wait_.done)) break;
    if (std::chrono::steady_clock::now() > deadline)
      throw EngineError("the Docker engine did not answer attach/wait within " +
                        std::to_string(timeout.count()) + " ms");
    curl_multi_poll(multi_.get(), nullptr, 0, 50, nullptr);
  }
  throw_if_refused(attach_, "attach to container");
  throw_if_refused(wait_, "wait for container");
}

void AttachedContainer::throw_if_refused(Transfer& t, const char* operation) {
  if (t.status < 300) return;
  // Let the error body arrive before reporting it.
  while (!t.done) {
    int running = 0;
    curl_multi_perform(multi_.get(), &running);
    collect_finished();
    if (!t.done) curl_multi_poll(multi_.get(), nullptr, 0, 50, nullptr);
  }
  throw EngineApiError(t.status, operation, daemon_message(t.body));
}

bool AttachedContainer::poll(std::chrono::milliseconds timeout, std::span<const int> wake_fds) {
  std::vector<curl_waitfd> extra(wake_fds.size());
  for (std::size_t i = 0; i < wake_fds.size(); ++i) {
    extra[i].fd = wake_fds[i];
    extra[i].events = CURL_WAIT_POLLIN;
    extra[i].revents = 0;
  }
  int running = 0;
  curl_multi_perform(multi_.get(), &running);
  collect_finished();
  if (running > 0 || !wake_fds.empty()) {
    curl_multi_poll(multi_.get(), extra.data(), static_cast<unsigned>(extra.size()),
                    static_cast<int>(timeout.count()), nullptr);
    curl_multi_perform(multi_.get(), &running);
    collect_finished();
  }
  bool woken = false;
  for (const auto& e : extra) woken = woken || (e.revents & CURL_WAIT_POLLIN) != 0;
  return woken;
}

std::optional<std::int64_t> AttachedContainer::wait_status() const {
  if (!wait_.done) return std::nullopt;
  auto parsed = nlohmann::json::parse(wait_.body, nullptr, false);
  if (parsed.is_object() && parsed.contains("StatusCode") && parsed["StatusCode"].is_number())
    return parsed["StatusCode"].get<std::int64_t>();
  return std::nullopt;
}

}  // namespace runner::docker
