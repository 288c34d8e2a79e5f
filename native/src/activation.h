#pragma once
#include <cstddef>

namespace ganql {

// The activations of tfjs's fused ops that the native kernels apply, in the addon's numbering.
enum class Activation { Linear = 0, Relu = 1, Relu6 = 2, LeakyRelu = 3, Sigmoid = 4, Tanh = 5 };

// out[i] = f(x[i] + bias[i % bias_len]) for i in [0, n) (no bias when bias_len is 0; n a multiple of
// bias_len otherwise), as the JS loops of src/backend/kernels/native-kernels.ts computed it: the sum
// in float, the activation in double rounded once to float. out may be x.
void bias_activate(const float* x, float* out, size_t n, const float* bias, size_t bias_len, Activation f, double alpha);

}  // namespace ganql
