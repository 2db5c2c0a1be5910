// AttachedContainer: the attach stream and the exit wait of one container, driven together.
//
// `docker run` loses no output because it attaches and arms the wait *before* starting the
// container. We do the same: arm() sends POST /attach (stdout+stderr, no TTY) and
// POST /wait?condition=next-exit and returns once the engine has answered both with their headers;
// only then does the caller start the container. poll() then drives both transfers with libcurl's
// multi interface in the caller's thread, so there is no thread for streaming: the caller's loop
// also watches its own file descriptors (signals, cancel requests) and timers through poll().
// Attach bytes go through a StreamDemuxer straight to the output callback, never buffered whole.
#pragma once

#include "docker/curl_handles.hpp"
#include "docker/engine_client.hpp"
#include "docker/stream_demuxer.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace runner::docker {

class AttachedContainer {
 public:
  using OutputFn = StreamDemuxer::PayloadFn;

  // `wait_condition` is the engine's: "next-exit" before a start (the default), "not-running" to
  // re-attach to a container that is already running.
  AttachedContainer(EngineClient& client, std::string container_id, OutputFn on_output,
                    const std::string& wait_condition = "next-exit");
  ~AttachedContainer();
  AttachedContainer(const AttachedContainer&) = delete;
  AttachedContainer& operator=(const AttachedContainer&) = delete;

  // Sends attach and wait; returns when the engine answered both (the container may now start).
  // Throws EngineApiError / EngineUnreachableError when either is refused.
  void arm(std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Drives the transfers for at most `timeout`; returns early when output arrives, a transfer
  // ends, or one of `wake_fds` becomes readable. Returns true when a wake fd is readable.
  bool poll(std::chrono::milliseconds timeout, std::span<const int> wake_fds = {});

  // The attach stream reached its end (the container closed stdout and stderr).
  bool output_finished() const { return attach_.done; }
  // The wait call returned: the container has exited.
  bool exited() const { return wait_.done; }
  // Exit status reported by the wait call, if it returned one.
  std::optional<std::int64_t> wait_status() const;
  // A transport error on either transfer (empty if none).
  const std::string& transfer_error() const { return transfer_error_; }

 private:
  struct Transfer {
    CurlEasy handle;
    CurlSlist headers;
    long status = 0;
    bool headers_done = false;
    bool done = false;
    std::string body;  // wait body, or an attach error body
  };
  static std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user);
  static std::size_t on_attach_data(char* data, std::size_t size, std::size_t count, void* user);
  static std::size_t on_wait_data(char* data, std::size_t size, std::size_t count, void* user);
  void setup(Transfer& t, const std::string& path, bool is_attach);
  void collect_finished();
  // Throws the daemon's error when it answered `t` with a non-2xx status.
  void throw_if_refused(Transfer& t, const char* operation);

  EngineClient& client_;
  std::string id_;
  StreamDemuxer demuxer_;
  CurlMulti multi_;
  Transfer attach_;
  Transfer wait_;
  std::string transfer_error_;
};

}  // namespace runner::docker
