// Sigmoid and tanh over float arrays, computed in double precision and rounded once to float, as
// the JS loop in src/backend/kernels/native-kernels.ts does with Math.exp and Math.tanh: exp here is a
// polynomial accurate to about 1e-16 relative, so the floats agree with the JS's but for a rare last
// bit where the double result lies next to a rounding boundary. No library calls: the loops vectorise.
#include "activation.h"

#include <cstdint>
#include <cstring>

namespace ganql {

namespace {

inline uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

inline double from_bits(uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// exp(x) for x in [-700, 700]: x = k ln2 + r, |r| <= ln2 / 2, exp(r) by its Taylor series to r^13
// (remainder below 1e-17 relative), times 2^k built from its exponent bits.
inline double exp_double(double x) {
  constexpr double kLog2e = 1.4426950408889634, kLn2Hi = 0.6931471803691238, kLn2Lo = 1.9082149292705877e-10;
  // Adding and subtracting 1.5 * 2^52 rounds to the nearest integer; the sum's low bits hold it.
  constexpr double kShift = 6755399441055744.0;
  const double shifted = x * kLog2e + kShift;
  const double k = shifted - kShift;
  const int64_t ki = static_cast<int64_t>(bits_of(shifted) - bits_of(kShift));
  const double r = (x - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;  // 1/13!
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  return p * from_bits(static_cast<uint64_t>(ki + 1023) << 52);
}

inline double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

inline float sigmoid(float xf) {
  const double x = xf;
  const double y = 1 / (1 + exp_double(clamp(-x, -700, 700)));
  return x != x ? xf : static_cast<float>(y);
}

// tanh(|x|) = 1 - 2 / (exp(2|x|) + 1), with the sign put back; below 1e-4 the series x - x^3/3 +
// 2x^5/15 (where the subtraction would lose digits); from 20 on it is 1 in float.
inline float tanh_of(float xf) {
  const double x = xf;
  const double a = clamp(x < 0 ? -x : x, 0, 20);
  const double big = 1 - 2 / (exp_double(2 * a) + 1);
  const double a2 = a * a;
  const double small = a * (1 + a2 * (-1.0 / 3 + a2 * (2.0 / 15)));
  const double t = a < 1e-4 ? small : big;
  return x != x ? xf : static_cast<float>(x < 0 ? -t : t);
}

}  // namespace

// Cloned per instruction set (picked at load): wider vectors, the same IEEE operations per element.
__attribute__((target_clones("avx512f", "avx2", "default"))) void activate(const float* x, float* out, size_t n, Activation f) {
  if (f == Activation::Sigmoid) {
    for (size_t i = 0; i < n; ++i) out[i] = sigmoid(x[i]);
  } else {
    for (size_t i = 0; i < n; ++i) out[i] = tanh_of(x[i]);
  }
}

}  // namespace ganql
