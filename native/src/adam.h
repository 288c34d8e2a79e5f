#pragma once
#include <cstddef>

namespace ganql {

// One Adam step: m' = b1 m + (1 - b1) g, v' = b2 v + (1 - b2) g^2,
// value' = value - lr (m' c1) / (sqrt(v' c2) + eps) (or sqrt(v' c2 + eps)), with c1, c2 the bias corrections 1 / (1 - b^t).
struct AdamArgs {
  const float *value, *gradient, *m, *v;
  // The outputs must not overlap the inputs.
  float *out_value, *out_m, *out_v;
  double learning_rate, beta1, beta2, epsilon, correction1, correction2;
  // sqrt(v c2 + eps) instead of sqrt(v c2) + eps.
  bool epsilon_inside;
};

void adam_update(const AdamArgs& a, size_t begin, size_t end);

}  // namespace ganql
