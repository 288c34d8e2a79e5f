// Bias and activation over float arrays, as the JS loops they replace computed them: the bias added
// in float, the activation in double and rounded once to float. exp here is a polynomial accurate to
// about 1e-16 relative, so sigmoid and tanh agree with Math.exp's and Math.tanh's floats but for a
// rare last bit where the double result lies next to a rounding boundary. No library calls: the loops
// vectorise.
#include "activation.h"

#include <cstdint>
#include <cstring>

namespace ganql {

namespace {

// Everything below is inlined into each instruction set's clone of bias_activate (a function left
// out of line would be compiled for the baseline set only).
#define GANQL_INLINE __attribute__((always_inline)) inline

GANQL_INLINE uint64_t bits_of(double x) {
  uint64_t b;
  std::memcpy(&b, &x, sizeof b);
  return b;
}

GANQL_INLINE double from_bits(uint64_t b) {
  double x;
  std::memcpy(&x, &b, sizeof x);
  return x;
}

// exp(x) for x in [-700, 700]: x = k ln2 + r, |r| <= ln2 / 2, exp(r) by its Taylor series to r^13
// (remainder below 1e-17 relative), times 2^k built from its exponent bits.
GANQL_INLINE double exp_double(double x) {
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

GANQL_INLINE double clamp(double x, double lo, double hi) { return x < lo ? lo : x > hi ? hi : x; }

// tanh(|x|) = 1 - 2 / (exp(2|x|) + 1), with the sign put back; below 1e-4 the series x - x^3/3 +
// 2x^5/15 (where the subtraction would lose digits); from 20 on it is 1 in float.
GANQL_INLINE double tanh_double(double x) {
  const double a = clamp(x < 0 ? -x : x, 0, 20);
  const double big = 1 - 2 / (exp_double(2 * a) + 1);
  const double a2 = a * a;
  const double small = a * (1 + a2 * (-1.0 / 3 + a2 * (2.0 / 15)));
  const double t = a < 1e-4 ? small : big;
  return x < 0 ? -t : t;
}

// One value; NaN stays NaN (each comparison below is false for it, and sigmoid and tanh pass it on).
template <Activation F>
GANQL_INLINE float apply(float v, double alpha) {
  switch (F) {
    case Activation::Linear:
      return v;
    case Activation::Relu:
      return v < 0 ? 0.f : v;
    case Activation::Relu6:
      return v < 0 ? 0.f : v > 6 ? 6.f : v;
    case Activation::LeakyRelu:
      return v < 0 ? static_cast<float>(v * alpha) : v;
    case Activation::Sigmoid: {
      const double x = v;
      return x != x ? v : static_cast<float>(1 / (1 + exp_double(clamp(-x, -700, 700))));
    }
    case Activation::Tanh: {
      const double x = v;
      return x != x ? v : static_cast<float>(tanh_double(x));
    }
  }
  return v;
}

template <Activation F>
GANQL_INLINE void run(const float* x, float* out, size_t n, const float* bias, size_t bias_len, double alpha) {
  if (bias_len == 0) {
    for (size_t i = 0; i < n; ++i) out[i] = apply<F>(x[i], alpha);
  } else if (bias_len == 1) {
    const float b = bias[0];
    for (size_t i = 0; i < n; ++i) out[i] = apply<F>(x[i] + b, alpha);
  } else {
    for (size_t row = 0; row < n; row += bias_len) {
      const float* xr = x + row;
      float* orow = out + row;
      for (size_t j = 0; j < bias_len; ++j) orow[j] = apply<F>(xr[j] + bias[j], alpha);
    }
  }
}

#undef GANQL_INLINE

}  // namespace

// Cloned per instruction set (picked at load): wider vectors, the same IEEE operations per element.
__attribute__((target_clones("avx512f", "avx2", "default"))) void bias_activate(const float* x, float* out, size_t n, const float* bias,
                                                                                  size_t bias_len, Activation f, double alpha) {
  switch (f) {
    case Activation::Linear:
      return run<Activation::Linear>(x, out, n, bias, bias_len, alpha);
    case Activation::Relu:
      return run<Activation::Relu>(x, out, n, bias, bias_len, alpha);
    case Activation::Relu6:
      return run<Activation::Relu6>(x, out, n, bias, bias_len, alpha);
    case Activation::LeakyRelu:
      return run<Activation::LeakyRelu>(x, out, n, bias, bias_len, alpha);
    case Activation::Sigmoid:
      return run<Activation::Sigmoid>(x, out, n, bias, bias_len, alpha);
    case Activation::Tanh:
      return run<Activation::Tanh>(x, out, n, bias, bias_len, alpha);
  }
}

}  // namespace ganql
