#include "rnn/net/tokens.hpp"

#include <charconv>
#include <fstream>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include "rnn/core/error.hpp"

namespace rnn::net {

std::string_view to_string(Access access) {
  switch (access) {
    case Access::granted: return "granted";
    case Access::unknown_worker: return "unknown worker";
    case Access::wrong_token: return "wrong token";
    case Access::revoked: return "revoked";
  }
  return "?";
}

namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(fmt::format("{}: cannot open the token file", path.string()));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Same length and same bytes, in time independent of where they differ.
bool equal_in_constant_time(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (std::size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::map<std::uint32_t, std::pair<std::string, bool>> TokenTable::parse(std::string_view text,
                                                                        std::string_view source) {
  std::map<std::uint32_t, std::pair<std::string, bool>> entries;
  std::istringstream lines{std::string(text)};
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (const auto hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::istringstream fields(line);
    std::string id_text;
    std::string token;
    std::string flag;
    std::string extra;
    if (!(fields >> id_text)) continue;
    const auto where = [&] { return fmt::format("{}:{}", source, number); };
    std::uint32_t id = 0;
    const auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc{} || end != id_text.data() + id_text.size())
      throw Error(fmt::format("{}: '{}' is not a worker id (0 … 4294967295)", where(), id_text));
    if (!(fields >> token)) throw Error(fmt::format("{}: worker {} has no token", where(), id));
    if (token.size() < 16 || token.size() > 256)
      throw Error(fmt::format("{}: worker {}'s token has {} characters (16 … 256)", where(), id, token.size()));
    for (const char c : token)
      if (c < 0x21 || c > 0x7E)
        throw Error(fmt::format("{}: worker {}'s token has a non-printable character", where(), id));
    bool revoked = false;
    if (fields >> flag) {
      if (flag != "revoked") throw Error(fmt::format("{}: unknown flag '{}' (only 'revoked')", where(), flag));
      revoked = true;
    }
    if (fields >> extra) throw Error(fmt::format("{}: unexpected '{}' after the token", where(), extra));
    if (!entries.emplace(id, std::pair{token, revoked}).second)
      throw Error(fmt::format("{}: worker {} is listed twice", where(), id));
  }
  if (entries.empty()) throw Error(fmt::format("{}: no worker listed", source));
  return entries;
}

TokenTable::TokenTable(std::filesystem::path path) : path_(std::move(path)) {
  reload();
}

void TokenTable::reload() {
  auto entries = parse(read_text(path_), path_.string());
  std::lock_guard lock(mutex_);
  entries_ = std::move(entries);
}

Access TokenTable::check(std::uint32_t worker, std::string_view token) const {
  std::lock_guard lock(mutex_);
  const auto it = entries_.find(worker);
  if (it == entries_.end()) return Access::unknown_worker;
  if (!equal_in_constant_time(it->second.first, token)) return Access::wrong_token;
  return it->second.second ? Access::revoked : Access::granted;
}

std::size_t TokenTable::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::string random_token() {
  std::random_device device;
  std::string token;
  for (int i = 0; i < 4; ++i) token += fmt::format("{:08x}", device());
  return token;
}

}  // namespace rnn::net
