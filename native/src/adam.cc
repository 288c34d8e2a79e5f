// Adam's update over one variable, computed in double precision with the same operations in the same
// order as ganql's wasm kernel (src/backend/kernels/adam-update.ts), so both give the same floats:
// this file is compiled without floating-point contraction (binding.gyp).
#include "adam.h"

#include <cmath>

namespace ganql {

// Cloned per instruction set (picked at load): wider vectors, the same IEEE operations per element.
__attribute__((target_clones("avx512f", "avx2", "default"))) void adam_update(const AdamArgs& a, size_t begin, size_t end) {
  const double c1 = 1 - a.beta1, c2 = 1 - a.beta2;
  for (size_t i = begin; i < end; ++i) {
    const double gi = a.gradient[i];
    const double mi = a.beta1 * static_cast<double>(a.m[i]) + c1 * gi;
    const double vi = a.beta2 * static_cast<double>(a.v[i]) + c2 * gi * gi;
    a.out_m[i] = static_cast<float>(mi);
    a.out_v[i] = static_cast<float>(vi);
    const double denominator = a.epsilon_inside ? std::sqrt(vi * a.correction2 + a.epsilon) : std::sqrt(vi * a.correction2) + a.epsilon;
    a.out_value[i] = static_cast<float>(a.value[i] - (a.learning_rate * mi * a.correction1) / denominator);
  }
}

}  // namespace ganql
