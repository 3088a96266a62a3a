// Builds an RNL model through the installed headers and library and takes one gradient step.
#include <cstdio>
#include <vector>

#include "rnn/models/registry.hpp"

int main() {
  const auto model = rnn::make_model("rnl_deep");
  std::vector<float> params = model->initial_parameters(1);
  rnn::Workspace ws = model->make_workspace();
  const rnn::Matrix x = rnn::Matrix::Constant(4, 784, 0.5F);
  const std::vector<std::uint8_t> labels{0, 1, 2, 3};
  std::vector<float> grad(params.size());
  const rnn::LossSum loss = model->loss_and_gradient(params, x, labels, grad, ws);
  std::printf("consumer: %s has %zu parameters, loss %.4f on 4 samples\n", model->name().c_str(),
              model->parameter_count(), loss.loss / 4.0);
  return loss.count == 4 ? 0 : 1;
}
