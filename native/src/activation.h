#pragma once
#include <cstddef>

namespace ganql {

enum class Activation { Sigmoid = 0, Tanh = 1 };

// out[i] = f(x[i]) for i in [0, n), computed in double and rounded once to float (out may be x).
void activate(const float* x, float* out, size_t n, Activation f);

}  // namespace ganql
