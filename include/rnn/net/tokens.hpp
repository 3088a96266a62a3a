#pragma once
// Per-worker credentials of the networked server. A token file has one worker per line:
//
//   <worker id> <token> [revoked]
//
// ('#' starts a comment; tokens are 16 to 256 printable characters without spaces). A call is
// accepted when it names a listed, non-revoked worker and that worker's token; tokens are
// compared in constant time. The table can be reloaded from its file while the server runs
// (rnnl-ps does on SIGHUP), to add or revoke workers.
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace rnn::net {

enum class Access : std::uint8_t { granted, unknown_worker, wrong_token, revoked };
[[nodiscard]] std::string_view to_string(Access access);

class TokenTable {
 public:
  // Reads `path`; throws rnn::Error naming the file and line of the first problem.
  explicit TokenTable(std::filesystem::path path);
  // Parses the text of a token file (`source` names it in errors).
  static std::map<std::uint32_t, std::pair<std::string, bool>> parse(std::string_view text, std::string_view source);

  [[nodiscard]] Access check(std::uint32_t worker, std::string_view token) const;
  // Rereads the file; on an error keeps the current table and rethrows.
  void reload();
  [[nodiscard]] std::size_t size() const;

 private:
  std::filesystem::path path_;
  mutable std::mutex mutex_;
  std::map<std::uint32_t, std::pair<std::string, bool>> entries_;  // id → (token, revoked)
};

// A fresh random token (32 hex digits from the system's random device).
[[nodiscard]] std::string random_token();

}  // namespace rnn::net
