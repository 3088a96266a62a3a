#pragma once
// C = α·op(A)·op(B) + β·C on row-major matrices, op = as is or transposed: the matrix products of
// the layers. Built with OpenBLAS (CMake option RNNL_BLAS, on by default) this is one sgemm of its
// OpenMP flavour, which runs on the calling thread inside a parallel region (the data-parallel
// trainer's shards) and on the OpenMP team outside one; without it, Eigen's product. Measured on
// this project's machine (AVX-512, one thread, 64 x 512 x 512): OpenBLAS 96 GFLOP/s, Eigen 82;
// β = 0 also skips the clearing pass Eigen makes before accumulating.
//
// Threads: OpenMP threads need nothing. Other threads (std::thread) that call into the library at
// the same time should first call omp_set_num_threads(1): OpenBLAS then stays on the calling thread
// and never resizes its shared thread pool while another thread uses it.
// Bits: OpenBLAS picks its kernel by CPU, and for some shapes by whether it runs on one thread, so
// a product inside a parallel region (one thread) may round differently from the same product
// outside one; within one kind of call on one machine type, results repeat exactly.
#include <Eigen/Core>

#include "rnn/core/tensor.hpp"

namespace rnn {

enum class Op { none, transpose };

using ConstMatrixRef = Eigen::Ref<const Matrix>;
using MatrixRef = Eigen::Ref<Matrix>;

// c must already have the shape of op(a)·op(b); throws rnn::Error if the shapes disagree.
void gemm(float alpha, const ConstMatrixRef& a, Op op_a, const ConstMatrixRef& b, Op op_b, float beta, MatrixRef c);

// Whether gemm() runs on OpenBLAS (for reports and benchmarks).
[[nodiscard]] bool gemm_uses_blas();

}  // namespace rnn
