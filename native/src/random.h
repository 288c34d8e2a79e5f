#pragma once
#include <cstddef>
#include <cstdint>

namespace ganql {

// Values [begin, end) (begin a multiple of 4) of the Philox Gaussian stream of `count` values under key (k0, k1).
void philox_normal(float* out, size_t begin, size_t end, size_t count, double mean, double std_dev, uint32_t k0, uint32_t k1);

}  // namespace ganql
