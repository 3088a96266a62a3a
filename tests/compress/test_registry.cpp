// The compressor table: names, option checks and factories come from one place, and each entry
// says truthfully whether the compressor keeps a residual.
#include <doctest/doctest.h>

#include <algorithm>
#include <string>

#include "rnn/compress/codec.hpp"
#include "rnn/compress/error_feedback.hpp"
#include "rnn/compress/registry.hpp"
#include "rnn/core/error.hpp"
#include "test_support.hpp"

namespace rnn {

TEST_CASE("every table entry makes the compressor it names, with the residual it declares") {
  const auto layout = test::small_layout();
  const auto table = compressor_table();
  REQUIRE(table.size() == compressor_names().size());
  for (std::size_t k = 0; k < table.size(); ++k) {
    const CompressorInfo& info = table[k];
    CAPTURE(std::string(info.name));
    CHECK(compressor_names()[k] == info.name);
    CHECK(&compressor_info(info.name) == &info);
    CHECK(!info.description.empty());
    CompressorOptions options;
    options.name = std::string(info.name);
    const auto c = make_compressor(options, layout);
    CHECK(c->name() == info.name);
    CHECK(c->keeps_residual() == info.keeps_residual);
  }
  for (const char* name : {"topk-ef", "dgc", "adacomp-ibm", "signsgd-ef"}) CHECK(compressor_info(name).keeps_residual);
  for (const char* name : {"none", "topk", "adacomp", "randomk", "threshold", "qsgd", "terngrad"})
    CHECK_FALSE(compressor_info(name).keeps_residual);
  CHECK_THROWS_WITH_AS((void)compressor_info("zip"), doctest::Contains("choose one of: none, topk"), Error);
}

TEST_CASE("a compressor's options are checked when, and only when, it reads them") {
  const auto layout = test::small_layout();
  auto with = [](const char* name, auto change) {
    CompressorOptions o;
    o.name = name;
    change(o);
    return o;
  };
  // Read, so checked.
  CHECK_THROWS_WITH_AS(make_compressor(with("topk", [](auto& o) { o.ratio = 0.0; }), layout),
                       doctest::Contains("topk: the ratio"), Error);
  CHECK_THROWS_AS(make_compressor(with("qsgd", [](auto& o) { o.levels = 0; }), layout), Error);
  CHECK_THROWS_AS(make_compressor(with("qsgd", [](auto& o) { o.levels = max_levels + 1; }), layout), Error);
  CHECK_THROWS_AS(make_compressor(with("terngrad", [](auto& o) { o.clip_stddev = -1.0; }), layout), Error);
  CHECK_THROWS_AS(make_compressor(with("terngrad", [](auto& o) { o.clip_stddev = std::nan(""); }), layout), Error);
  CHECK_THROWS_AS(make_compressor(with("dgc", [](auto& o) { o.momentum = 1.0; }), layout), Error);
  CHECK_THROWS_AS(make_compressor(with("adacomp-ibm", [](auto& o) { o.dense_bin = 0; }), layout), Error);
  CHECK_THROWS_AS(make_compressor(with("threshold", [](auto& o) { o.threshold = -1.0; }), layout), Error);
  // Not read, so not checked.
  CHECK_NOTHROW((void)make_compressor(with("topk", [](auto& o) { o.levels = 0; }), layout));
  CHECK_NOTHROW((void)make_compressor(with("qsgd", [](auto& o) { o.ratio = 0.0; }), layout));
  CHECK_NOTHROW((void)make_compressor(with("none", [](auto& o) { o.clip_stddev = -1.0; }), layout));
  // Error feedback only for compressors without a residual of their own.
  CHECK_THROWS_WITH_AS(make_compressor(with("dgc", [](auto& o) { o.error_feedback = true; }), layout),
                       doctest::Contains("own residual"), Error);
  const auto wrapped = make_compressor(with("qsgd", [](auto& o) { o.error_feedback = true; }), layout);
  CHECK(wrapped->name() == "qsgd+ef");
  CHECK(wrapped->keeps_residual());
  CHECK(dynamic_cast<const ErrorFeedback*>(wrapped.get()) != nullptr);

  CHECK(option_names(compressor_info("qsgd").options) ==
        std::vector<std::string_view>{"levels", "bucket", "seed, stream"});
  CHECK(option_names(compressor_info("none").options).empty());
  CHECK(compressor_info("dgc").uses(compressor_option::momentum));
  CHECK_FALSE(compressor_info("topk").uses(compressor_option::momentum));
}

TEST_CASE("a residual-keeping compressor refuses a varying step scale") {
  const auto layout = test::small_layout();
  for (const auto& name : compressor_names()) {
    CAPTURE(name);
    CompressorOptions options;
    options.name = name;
    const auto c = make_compressor(options, layout);
    CHECK_NOTHROW(check_step_scale(*c, StepScale::constant));
    if (c->keeps_residual()) {
      CHECK_THROWS_WITH_AS(check_step_scale(*c, StepScale::varying), doctest::Contains(name.c_str()), Error);
    } else {
      CHECK_NOTHROW(check_step_scale(*c, StepScale::varying));
      options.error_feedback = true;  // the same method wrapped in a memory is refused
      CHECK_THROWS_AS(check_step_scale(*make_compressor(options, layout), StepScale::varying), Error);
    }
  }
}

}  // namespace rnn
