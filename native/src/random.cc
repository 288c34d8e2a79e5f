// Philox4x32-10 Gaussian noise, value for value the stream of src/backend/random/philox-normal.ts:
// block b (counter b, key = the seed's two words) gives values 4b..4b+3 by Box-Muller in double
// precision, rounded once to float. Compiled without floating-point contraction (binding.gyp).
#include "random.h"

#include <cmath>
#include <cstdint>

namespace ganql {

namespace {

constexpr uint32_t M0 = 0xd2511f53u, M1 = 0xcd9e8d57u, W0 = 0x9e3779b9u, W1 = 0xbb67ae85u;
constexpr double TWO_32 = 4294967296.0;
constexpr double PI = 3.14159265358979323846;

void philox(uint64_t counter, uint32_t k0, uint32_t k1, uint32_t out[4]) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32), c2 = 0, c3 = 0;
  for (int round = 0; round < 10; ++round) {
    const uint64_t p0 = static_cast<uint64_t>(M0) * c0, p1 = static_cast<uint64_t>(M1) * c2;
    const uint32_t hi0 = static_cast<uint32_t>(p0 >> 32), lo0 = static_cast<uint32_t>(p0);
    const uint32_t hi1 = static_cast<uint32_t>(p1 >> 32), lo1 = static_cast<uint32_t>(p1);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += W0;
    k1 += W1;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

}  // namespace

void philox_normal(float* out, size_t begin, size_t end, size_t count, double mean, double std_dev, uint32_t k0, uint32_t k1) {
  uint32_t words[4];
  for (size_t i = begin; i < end; i += 4) {
    philox(i / 4, k0, k1, words);
    for (int pair = 0; pair < 2; ++pair) {
      const double r = std::sqrt(-2 * std::log((words[2 * pair] + 1.0) / TWO_32));
      const double angle = (2 * PI * words[2 * pair + 1]) / TWO_32;
      const size_t j = i + 2 * pair;
      if (j < count) out[j] = static_cast<float>(mean + std_dev * r * std::cos(angle));
      if (j + 1 < count) out[j + 1] = static_cast<float>(mean + std_dev * r * std::sin(angle));
    }
  }
}

}  // namespace ganql
