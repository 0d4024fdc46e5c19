#pragma once

#include <optional>
#include <string>
#include <sys/types.h>

namespace common {

// Writes `content` to `path` atomically: temp file in the same directory, fsync, rename, fsync of the directory.
// Throws std::runtime_error naming the path on failure.
void write_file_atomic(const std::string& path, const std::string& content, mode_t mode = 0644);
std::optional<std::string> read_file(const std::string& path);

}  // namespace common
