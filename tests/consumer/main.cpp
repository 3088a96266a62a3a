// Through the installed headers and library only: builds an RNL model, takes its gradient,
// sends it as an AdaComp push through the codec and applies it at a parameter server, as the
// README's example does.
#include <cstdio>
#include <vector>

#include "rnn/compress/push.hpp"
#include "rnn/models/registry.hpp"
#include "rnn/server/step_policy.hpp"

int main() {
  const auto model = rnn::make_model("rnl_deep");
  std::vector<float> params = model->initial_parameters(1);
  rnn::Workspace ws = model->make_workspace();
  const rnn::Matrix x = rnn::Matrix::Constant(4, 784, 0.5F);
  const std::vector<std::uint8_t> labels{0, 1, 2, 3};
  std::vector<float> grad(params.size());
  const rnn::LossSum loss = model->loss_and_gradient(params, x, labels, grad, ws);

  const auto& layout = model->layout();
  rnn::PushEncoder worker(layout, rnn::make_compressor({.name = "adacomp", .ratio = 0.01}, layout),
                          {rnn::IndexEncoding::delta_varint, rnn::ValueEncoding::f32});
  rnn::ServerStep server(layout, rnn::StepPolicy::per_parameter_staleness, 0.1F, /*max_delay=*/1000);
  const auto bytes = worker.encode(grad, /*base_version=*/0, /*worker=*/3);
  rnn::Message push;
  rnn::decode(bytes, layout, push);
  const rnn::StepResult step = server.apply(push, params);

  std::printf("consumer: %s has %zu parameters, loss %.4f on 4 samples; AdaComp push of %zu entries in %zu bytes\n",
              model->name().c_str(), model->parameter_count(), loss.loss / 4.0, step.entries, bytes.size());
  return loss.count == 4 && step.applied() && step.entries == push.entry_count() ? 0 : 1;
}
