#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "rnn/core/error.hpp"
#include "rnn/layers/softmax_cross_entropy.hpp"
#include "support/gradient_check.hpp"

namespace rnn {

TEST_CASE("softmax cross-entropy: value, accuracy and gradient") {
  Rng rng(5);
  Matrix z = test::random_matrix(4, 6, rng, -3.0F, 3.0F);
  const std::vector<std::uint8_t> labels{0, 5, 2, 2};
  Matrix dz;
  const LossSum s = softmax_cross_entropy(z, labels, &dz);
  double expected = 0.0;
  std::int64_t correct = 0;
  for (int b = 0; b < 4; ++b) {
    double total = 0.0;
    for (int k = 0; k < 6; ++k) total += std::exp(static_cast<double>(z(b, k)));
    expected -= std::log(std::exp(static_cast<double>(z(b, labels[static_cast<std::size_t>(b)]))) / total);
    Eigen::Index arg = 0;
    z.row(b).maxCoeff(&arg);
    correct += arg == labels[static_cast<std::size_t>(b)] ? 1 : 0;
  }
  CHECK(s.loss == doctest::Approx(expected).epsilon(1e-5));
  CHECK(s.correct == correct);
  CHECK(s.count == 4);
  const auto loss = [&] { return softmax_cross_entropy(z, labels, nullptr).loss / 4.0; };
  std::vector<float> analytic(dz.data(), dz.data() + dz.size());
  CHECK(test::check_partials(std::span(z.data(), 24), analytic, loss, test::Tolerance{1e-2, 1e-4, 1e-2}) == 0);
}

TEST_CASE("softmax cross-entropy is stable for huge logits and rejects bad labels") {
  Matrix z(1, 3);
  z << 1000.0F, -1000.0F, 0.0F;
  const std::vector<std::uint8_t> ok{0};
  const LossSum s = softmax_cross_entropy(z, ok, nullptr);
  CHECK(std::isfinite(s.loss));
  CHECK(s.loss == doctest::Approx(0.0));
  const std::vector<std::uint8_t> bad{3};
  CHECK_THROWS_AS(softmax_cross_entropy(z, bad, nullptr), Error);
  const std::vector<std::uint8_t> too_many{0, 1};
  CHECK_THROWS_AS(softmax_cross_entropy(z, too_many, nullptr), Error);
}

}  // namespace rnn
