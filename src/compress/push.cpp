#include "rnn/compress/push.hpp"

namespace rnn {

PushEncoder::PushEncoder(const ParameterLayout& layout, std::unique_ptr<Compressor> compressor, CodecOptions codec)
    : layout_(layout), compressor_(std::move(compressor)), codec_(codec) {
  check_codec_options(codec_);  // before any push can touch a compressor's memory
}

std::span<const std::uint8_t> PushEncoder::encode(std::span<const float> gradient, std::uint64_t base_version,
                                                  std::uint32_t worker) {
  compressor_->compress(gradient, message_);
  message_.base_version = base_version;
  message_.worker = worker;
  round_to_encoding(message_, codec_);
  rnn::encode(message_, layout_, codec_, bytes_);
  // Only a push that was encoded counts as delivered: if encoding threw, commit() is not called and
  // every residual memory keeps the gradient whole for the next push (ErrorFeedback folds the
  // uncommitted g + e into its residual at the next compress; DGC and AdaComp-IBM have already
  // folded it into theirs).
  compressor_->commit(message_);
  return bytes_;
}

}  // namespace rnn
