#pragma once
// Validators for rnnl-train's numeric options, used by every one of them. CLI11's own checks
// are not enough: its Range compares with < and >, which NaN passes, and its integer conversion
// (strtoull/strtoll, base 0) turns "-5" into 2^64 - 5, saturates "99999999999999999999" to
// 2^64 - 1 and reads "010" as octal 8. These accept plain decimal text only:
//
//   FiniteRange(lo, hi)  a finite number in [lo, hi] ("0.25", "1e-3"; not "nan", "inf",
//                        "0x1p-3", " 1", "+1")
//   WholeNumber(lo, hi)  decimal digits only, without leading zeros ("010" would be read as
//                        octal 8 by the conversion that follows), in [lo, hi]
//
// A failure is a one-line message naming the value and the accepted range; CLI11 puts the
// option's name in front of it and the parse ends with a CLI::ValidationError.
#include <CLI/CLI.hpp>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

namespace rnn::cli {

// A command line that parses but asks for something that cannot apply (an option the model has
// no use for, a malformed distribution or shard spec): exit code 2, like a parse error.
class UsageError : public std::runtime_error {
 public:
  UsageError(std::string_view option, std::string_view problem)
      : std::runtime_error(fmt::format("{}: {}", option, problem)) {}
};

inline CLI::Validator FiniteRange(double lo, double hi) {
  const std::string range = fmt::format("[{}, {}]", lo, hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        double value = 0.0;
        const char* const end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value, std::chars_format::general);
        if (text.empty() || error == std::errc::invalid_argument || stop != end) {
          return fmt::format("'{}' is not a decimal number (expected one in {})", text, range);
        }
        if (error == std::errc::result_out_of_range || (std::isfinite(value) && (value < lo || value > hi))) {
          return fmt::format("{} is outside {}", text, range);
        }
        if (!std::isfinite(value)) return fmt::format("'{}' is not a finite number (expected one in {})", text, range);
        return {};
      },
      range, "FiniteRange");
}

inline CLI::Validator WholeNumber(std::uint64_t lo, std::uint64_t hi) {
  const std::string range = fmt::format("[{}, {}]", lo, hi);
  return CLI::Validator(
      [lo, hi, range](std::string& text) -> std::string {
        if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
          return fmt::format("'{}' is not a whole number written in decimal digits (expected one in {})", text, range);
        }
        if (text.size() > 1 && text.front() == '0') {
          return fmt::format("'{}' has a leading zero; write the number without it", text);
        }
        std::uint64_t value = 0;
        const std::from_chars_result parsed = std::from_chars(text.data(), text.data() + text.size(), value);
        if (parsed.ec == std::errc::result_out_of_range || value < lo || value > hi) {
          return fmt::format("{} is outside {}", text, range);
        }
        return {};
      },
      range, "WholeNumber");
}

}  // namespace rnn::cli
