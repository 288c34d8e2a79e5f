// Philox4x32-10 Gaussian noise, value for value the stream of src/backend/random/philox-normal.ts:
// block b (counter b, key = the seed's two words) gives values 4b..4b+3 by Box-Muller in double
// precision, rounded once to float, with the logarithm, sine and cosine as the same polynomials:
// compiled without floating-point contraction (binding.gyp), it gives the same floats as the JS.
#include "random.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

namespace ganql {

namespace {

constexpr uint32_t M0 = 0xd2511f53u, M1 = 0xcd9e8d57u, W0 = 0x9e3779b9u, W1 = 0xbb67ae85u;
constexpr double TWO_32 = 4294967296.0;
constexpr double LN2 = 0.6931471805599453, HALF_PI = 1.5707963267948966;

// Blocks per chunk: each pass below is a loop over arrays the compiler can vectorise.
constexpr size_t CHUNK = 64;

// Philox of blocks first..first+n (n <= CHUNK), word k of block b into words[k][b].
void philox_chunk(uint64_t first, size_t n, uint32_t key0, uint32_t key1, uint32_t words[4][CHUNK]) {
  uint32_t c0[CHUNK], c1[CHUNK], c2[CHUNK], c3[CHUNK];
  for (size_t b = 0; b < n; ++b) {
    c0[b] = static_cast<uint32_t>(first + b);
    c1[b] = static_cast<uint32_t>((first + b) >> 32);
    c2[b] = 0;
    c3[b] = 0;
  }
  uint32_t k0 = key0, k1 = key1;
  for (int round = 0; round < 10; ++round) {
    for (size_t b = 0; b < n; ++b) {
      const uint64_t p0 = static_cast<uint64_t>(M0) * c0[b], p1 = static_cast<uint64_t>(M1) * c2[b];
      const uint32_t n0 = static_cast<uint32_t>(p1 >> 32) ^ c1[b] ^ k0;
      const uint32_t n2 = static_cast<uint32_t>(p0 >> 32) ^ c3[b] ^ k1;
      c1[b] = static_cast<uint32_t>(p1);
      c3[b] = static_cast<uint32_t>(p0);
      c0[b] = n0;
      c2[b] = n2;
    }
    k0 += W0;
    k1 += W1;
  }
  for (size_t b = 0; b < n; ++b) {
    words[0][b] = c0[b];
    words[1][b] = c1[b];
    words[2][b] = c2[b];
    words[3][b] = c3[b];
  }
}

// ln((w + 1) / 2^32), as logUniform in philox-normal.ts: the exponent and mantissa of w + 1 read from
// its bits (the same e and m as the JS's clz and division by 2^e), then the same series.
inline double log_uniform(uint32_t w) {
  const double x = static_cast<double>(w) + 1;
  uint64_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  const int e = static_cast<int>(bits >> 52) - 1023;
  const uint64_t mbits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
  double m;
  std::memcpy(&m, &mbits, sizeof m);
  const double t = (m - 1) / (m + 1);
  const double t2 = t * t;
  const double p =
      t2 * (1.0 / 3 + t2 * (1.0 / 5 + t2 * (1.0 / 7 + t2 * (1.0 / 9 + t2 * (1.0 / 11 + t2 * (1.0 / 13 + t2 * (1.0 / 15 + t2 * (1.0 / 17 + t2 * (1.0 / 19 + t2 * (1.0 / 21))))))))));
  return 2 * (t + t * p) + (e - 32) * LN2;
}

// cos and sin of 2 pi w / 2^32, as cosSin in philox-normal.ts.
inline void cos_sin(uint32_t w, double* c_out, double* s_out) {
  const uint32_t q = w >> 30;
  const double a = (static_cast<double>(w & 0x3fffffffu) / 1073741824.0) * HALF_PI;
  const double a2 = a * a;
  const double s =
      a * (1 + a2 * (-1.0 / 6 + a2 * (1.0 / 120 + a2 * (-1.0 / 5040 + a2 * (1.0 / 362880 + a2 * (-1.0 / 39916800 + a2 * (1.0 / 6227020800.0 + a2 * (-1.0 / 1307674368000.0 + a2 * (1.0 / 355687428096000.0)))))))));
  const double c =
      1 + a2 * (-1.0 / 2 + a2 * (1.0 / 24 + a2 * (-1.0 / 720 + a2 * (1.0 / 40320 + a2 * (-1.0 / 3628800 + a2 * (1.0 / 479001600 + a2 * (-1.0 / 87178291200.0 + a2 * (1.0 / 20922789888000.0 + a2 * (-1.0 / 6402373705728000.0)))))))));
  *c_out = q == 0 ? c : q == 1 ? -s : q == 2 ? -c : s;
  *s_out = q == 0 ? s : q == 1 ? c : q == 2 ? -s : -c;
}

}  // namespace

__attribute__((target_clones("avx512f", "avx2", "default"))) void philox_normal(float* out, size_t begin, size_t end, size_t count, double mean,
                                                                                 double std_dev, uint32_t k0, uint32_t k1) {
  uint32_t words[4][CHUNK];
  double z[4 * CHUNK];
  for (size_t i = begin; i < end; i += 4 * CHUNK) {
    const size_t blocks = std::min(CHUNK, (end - i + 3) / 4);
    philox_chunk(i / 4, blocks, k0, k1, words);
    for (int pair = 0; pair < 2; ++pair) {
      for (size_t b = 0; b < blocks; ++b) {
        const double r = std::sqrt(-2 * log_uniform(words[2 * pair][b]));
        double c, s;
        cos_sin(words[2 * pair + 1][b], &c, &s);
        z[4 * b + 2 * pair] = mean + std_dev * r * c;
        z[4 * b + 2 * pair + 1] = mean + std_dev * r * s;
      }
    }
    const size_t n = std::min(4 * blocks, count - i);
    for (size_t j = 0; j < n; ++j) out[i + j] = static_cast<float>(z[j]);
  }
}

}  // namespace ganql
