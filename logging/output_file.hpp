// OutputFile: a buffered output for sinks: a file opened by path, or stdout/stderr.
//
// Own 64 KiB buffer over a file descriptor rather than stdio: sinks write millions of small
// records per job and flush once per batch, and the standard streams' buffers cannot be resized
// safely once in use.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace runner::logging {

class OutputFile {
 public:
  // "-" means stdout. Throws std::runtime_error naming the path when it cannot be opened.
  static OutputFile open(const std::string& path);
  static OutputFile standard_output();
  static OutputFile standard_error();

  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  ~OutputFile();

  void write(std::string_view bytes) {
    buffer_.append(bytes);
    if (buffer_.size() >= kFlushAt) flush();
  }
  void flush();
  bool is_terminal() const;
  // The terminal's width in columns; 0 when not a terminal or unknown.
  std::size_t terminal_columns() const;

 private:
  static constexpr std::size_t kFlushAt = 64 * 1024;
  OutputFile(int fd, bool owned) : fd_(fd), owned_(owned) { buffer_.reserve(kFlushAt * 2); }
  int fd_;
  bool owned_;
  std::string buffer_;
};

}  // namespace runner::logging
