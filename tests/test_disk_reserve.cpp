// DiskReserve: the reserve file takes its room on the disk while held, and is gone after
// release() or the destructor; a reserve that cannot be made is simply not held.
#include "store/disk_reserve.hpp"

#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

using runner::store::DiskReserve;

TEST_CASE("a disk reserve holds its room until released", "[store][reserve]") {
  const auto dir =
      std::filesystem::temp_directory_path() / ("runner-reserve-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const auto file = dir / "runner.db-reserve-job";
  {
    DiskReserve reserve(file, 256 << 10);
    REQUIRE(reserve.held());
    struct stat st {};
    REQUIRE(::stat(file.c_str(), &st) == 0);
    CHECK(st.st_size == (256 << 10));
    CHECK(st.st_blocks * 512 >= (256 << 10));  // allocated, not a sparse file
    CHECK((st.st_mode & 0777) == 0600);
    CHECK(reserve.release());
    CHECK_FALSE(reserve.held());
    CHECK_FALSE(std::filesystem::exists(file));
    CHECK_FALSE(reserve.release());  // given once
  }
  {
    DiskReserve reserve(file, 4096);
    CHECK(reserve.held());
  }
  CHECK_FALSE(std::filesystem::exists(file));  // the destructor gives it back
  DiskReserve nowhere(dir / "no-such-folder" / "reserve", 4096);
  CHECK_FALSE(nowhere.held());
  std::filesystem::remove_all(dir);
}
