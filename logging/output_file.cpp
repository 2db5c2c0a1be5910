// OutputFile: see the header.
#include "logging/output_file.hpp"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

namespace runner::logging {

OutputFile OutputFile::open(const std::string& path) {
  if (path == "-") return standard_output();
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0)
    throw std::runtime_error("cannot open \"" + path + "\" for writing: " + std::strerror(errno));
  return OutputFile(fd, true);
}

OutputFile OutputFile::standard_output() {
  return OutputFile(STDOUT_FILENO, false);
}
OutputFile OutputFile::standard_error() {
  return OutputFile(STDERR_FILENO, false);
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : fd_(other.fd_), owned_(other.owned_), buffer_(std::move(other.buffer_)) {
  other.fd_ = -1;
  other.owned_ = false;
}

OutputFile::~OutputFile() {
  if (fd_ < 0) return;
  flush();
  if (owned_) ::close(fd_);
}

void OutputFile::flush() {
  std::size_t done = 0;
  while (done < buffer_.size()) {
    const ssize_t n = ::write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      break;  // a closed pipe or full disk: drop rather than block the job
    }
    done += static_cast<std::size_t>(n);
  }
  buffer_.clear();
}

bool OutputFile::is_terminal() const {
  return fd_ >= 0 && isatty(fd_) != 0;
}

std::size_t OutputFile::terminal_columns() const {
  winsize size{};
  if (fd_ < 0 || ::ioctl(fd_, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

}  // namespace runner::logging
