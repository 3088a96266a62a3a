#pragma once
// `qsgd`: stochastic quantisation to s levels per bucket (Alistarh, Grubic, Li, Tomioka,
// Vojnovic, "QSGD: Communication-efficient SGD via gradient quantization and encoding",
// NeurIPS 2017). Each tensor is cut into buckets of d consecutive entries (the last may be
// shorter); per bucket B:
//   norm = ‖g_B‖₂;  l_i = floor(|g_i| / norm · s + u_i), u_i ~ U[0, 1);
//   sent_i = sign(g_i) · norm · l_i / s
// Unbiased: E[sent] = g. Bucketing is what makes QSGD usable: the variance bound
// E‖Q(g) − g‖² ≤ min(n / s², √n / s)·‖g‖² of the paper's Lemma 3.1 holds with n = d per bucket,
// so on a 128×3136 Gaussian tensor with s = 4 the relative variance ‖Q(g) − g‖²/‖g‖² is 126
// with one bucket for the whole tensor (0.5 % of the levels non-zero) and 1.27 with buckets of
// 128 (test_compressors.cpp measures both).
//
// Default d = 128, the bucket length of the QSGD compressor in GRACE (Xu et al., ICDCS 2021;
// github sands-lab/grace, grace_dl/dist/compressor/qsgd.py), a widely used collection of
// reference implementations; s = 4 has 9 levels, a 4-bit code. d = 0 makes the
// whole tensor one bucket (the paper's unbucketed scheme). Every entry is sent (dense); on the
// wire, value encoding `levels` takes ceil(log2(2s + 1)) bits per entry plus one f32 norm per
// bucket (a quarter of a bit per entry at d = 128).
#include "rnn/compress/compressor.hpp"
#include "rnn/core/rng.hpp"

namespace rnn {

inline constexpr std::uint32_t qsgd_default_bucket = 128;

class QsgdCompressor final : public TensorCompressor {
 public:
  QsgdCompressor(const ParameterLayout& layout, std::uint32_t levels, std::uint32_t bucket, std::uint64_t seed,
                 std::uint64_t stream);
  [[nodiscard]] std::string_view name() const override { return "qsgd"; }
  void save_state(std::vector<std::uint8_t>& out) const override;
  void load_state(wire::Reader& in) override;

 protected:
  void compress_tensor(const Segment& segment, std::span<const float> gradient, TensorBlock& out) override;

 private:
  std::uint32_t levels_;
  std::uint32_t bucket_;  // 0: one bucket per tensor
  Rng rng_;
};

}  // namespace rnn
