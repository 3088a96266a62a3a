// Through the installed headers and library only: builds an RNL model, takes its gradient,
// sends it as an AdaComp push through the codec and applies it at a parameter server, then runs
// the asynchronous emulator through its library API, as the README's examples do.
#include <cstdio>
#include <vector>

#include "rnn/async/runner.hpp"
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
  if (loss.count != 4 || !step.applied() || step.entries != push.entry_count()) return 1;

  // 8 emulated workers in virtual time on a random two-class task, AdaComp pushes.
  rnn::DatasetPair data;
  for (rnn::Dataset* set : {&data.train, &data.test}) {
    set->shape = {28, 28, 1};
    set->images = rnn::Matrix::Random(200, 784).cwiseAbs();
    for (int i = 0; i < 200; ++i) {
      const auto label = static_cast<std::uint8_t>(i % 2);
      set->labels.push_back(label);
      set->images.row(i).head(392).array() += 2.0F * label;  // class 1: a bright upper half
    }
  }
  const auto mlp = rnn::make_model("mlp");
  std::vector<float> theta = mlp->initial_parameters(1);
  rnn::AsyncOptions options;
  options.workers = 8;
  options.max_updates = 40;
  options.eval_every = 20;
  options.progress = false;
  options.server.learning_rate = 0.05F;
  const rnn::AsyncReport report = rnn::run_async(*mlp, theta, data, options, [](const rnn::EvalPoint& p) {
    std::printf("consumer: update %llu, test accuracy %.3f, %llu bytes pushed, %.2f virtual seconds\n",
                static_cast<unsigned long long>(p.updates), p.test_accuracy,
                static_cast<unsigned long long>(p.ingress_bytes), p.virtual_seconds);
  });
  return report.reason == rnn::StopReason::max_updates && report.points.back().updates == 40 ? 0 : 1;
}
