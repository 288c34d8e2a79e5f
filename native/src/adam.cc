// Adam's update over one variable, computed in double precision with the same operations in the same
// order as ganql's wasm kernel (src/backend/kernels/adam-update.ts), so both give the same floats:
// this file is compiled without floating-point contraction (binding.gyp).
#include "adam.h"

#include <cmath>

namespace ganql {

namespace {

// Elements [0, n): each reads only its own index and the outputs never overlap the inputs, so GCC
// vectorises the loop (given the arrays as restrict arguments; read from the struct it does not), and
// sqrt without errno (binding.gyp) is the same correctly rounded operation in a vector.
template <bool kEpsilonInside>
__attribute__((always_inline)) inline void update(const float* __restrict value, const float* __restrict gradient, const float* __restrict m,
                                                  const float* __restrict v, float* __restrict out_value, float* __restrict out_m,
                                                  float* __restrict out_v, size_t n, double b1, double b2, double lr, double eps, double correction1,
                                                  double correction2) {
  const double c1 = 1 - b1, c2 = 1 - b2;
  for (size_t i = 0; i < n; ++i) {
    const double gi = gradient[i];
    const double mi = b1 * static_cast<double>(m[i]) + c1 * gi;
    const double vi = b2 * static_cast<double>(v[i]) + c2 * gi * gi;
    out_m[i] = static_cast<float>(mi);
    out_v[i] = static_cast<float>(vi);
    const double denominator = kEpsilonInside ? std::sqrt(vi * correction2 + eps) : std::sqrt(vi * correction2) + eps;
    out_value[i] = static_cast<float>(value[i] - (lr * mi * correction1) / denominator);
  }
}

}  // namespace

// Cloned per instruction set (picked at load): wider vectors, the same IEEE operations per element.
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update(const AdamArgs& a, size_t begin, size_t end) {
  if (end <= begin) return;
  const size_t n = end - begin;
  if (a.epsilon_inside) {
    update<true>(a.value + begin, a.gradient + begin, a.m + begin, a.v + begin, a.out_value + begin, a.out_m + begin, a.out_v + begin, n, a.beta1,
                 a.beta2, a.learning_rate, a.epsilon, a.correction1, a.correction2);
  } else {
    update<false>(a.value + begin, a.gradient + begin, a.m + begin, a.v + begin, a.out_value + begin, a.out_m + begin, a.out_v + begin, n, a.beta1,
                  a.beta2, a.learning_rate, a.epsilon, a.correction1, a.correction2);
  }
}

}  // namespace ganql
