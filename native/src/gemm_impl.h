// One blocked single-precision GEMM, compiled once per instruction set (gemm_avx512.cc, gemm_avx2.cc,
// gemm_generic.cc), each with its own compiler flags and namespace: GANQL_ISA names the namespace,
// GANQL_VW the vector width in floats, GANQL_MR the rows of the register tile.
// Operands reach it through packing functors, so a convolution's im2col matrix is gathered while
// packing and never materialised.
#include <cstddef>
#include <cstring>
#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
#endif

#include "gemm.h"

namespace ganql {
namespace GANQL_ISA {

typedef float vf __attribute__((vector_size(GANQL_VW * 4), aligned(4)));
constexpr int VW = GANQL_VW;
constexpr int MR = GANQL_MR;
constexpr int NR = 2 * VW;
constexpr int KC = 256;
constexpr int MC = MR * 16;
constexpr int NC = NR * 64;

static inline int imin(int a, int b) { return a < b ? a : b; }

#if GANQL_VW == 8 && GANQL_MR == 6 && defined(__AVX2__) && defined(__FMA__)
#define GANQL_MICRO_AVX2 1
#endif

#ifdef GANQL_MICRO_AVX2
// The 6x16 register tile in named ymm accumulators: GCC keeps the generic kernel's accumulator arrays
// in memory on this ISA (a store per FMA pair), which ran it at a fifth of the FMA units' rate. Same
// products in the same order (one FMA per k), so the floats equal the generic kernel's with -mfma.
static inline void micro_kernel_avx2(int kc, const float* __restrict ap, const float* __restrict bp, __m256 acc[12]) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; ++k) {
    const __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
    __m256 a = _mm256_broadcast_ss(ap);
    c00 = _mm256_fmadd_ps(a, b0, c00);
    c01 = _mm256_fmadd_ps(a, b1, c01);
    a = _mm256_broadcast_ss(ap + 1);
    c10 = _mm256_fmadd_ps(a, b0, c10);
    c11 = _mm256_fmadd_ps(a, b1, c11);
    a = _mm256_broadcast_ss(ap + 2);
    c20 = _mm256_fmadd_ps(a, b0, c20);
    c21 = _mm256_fmadd_ps(a, b1, c21);
    a = _mm256_broadcast_ss(ap + 3);
    c30 = _mm256_fmadd_ps(a, b0, c30);
    c31 = _mm256_fmadd_ps(a, b1, c31);
    a = _mm256_broadcast_ss(ap + 4);
    c40 = _mm256_fmadd_ps(a, b0, c40);
    c41 = _mm256_fmadd_ps(a, b1, c41);
    a = _mm256_broadcast_ss(ap + 5);
    c50 = _mm256_fmadd_ps(a, b0, c50);
    c51 = _mm256_fmadd_ps(a, b1, c51);
    ap += 6;
    bp += 16;
  }
  acc[0] = c00, acc[1] = c01, acc[2] = c10, acc[3] = c11, acc[4] = c20, acc[5] = c21;
  acc[6] = c30, acc[7] = c31, acc[8] = c40, acc[9] = c41, acc[10] = c50, acc[11] = c51;
}
#endif

// C[MR x NR] (+)= Ap[kc x MR]^T * Bp[kc x NR]; writes only rows < m and columns < n.
static inline void micro_kernel(int kc, const float* __restrict ap, const float* __restrict bp, float* __restrict c, int ldc, int m, int n,
                                bool add) {
  vf acc0[MR], acc1[MR];
#ifdef GANQL_MICRO_AVX2
  {
    __m256 tile[12];
    micro_kernel_avx2(kc, ap, bp, tile);
    for (int r = 0; r < MR; ++r) {
      std::memcpy(&acc0[r], &tile[2 * r], sizeof(vf));
      std::memcpy(&acc1[r], &tile[2 * r + 1], sizeof(vf));
    }
  }
#else
  for (int r = 0; r < MR; ++r) {
    acc0[r] = vf{};
    acc1[r] = vf{};
  }
  for (int k = 0; k < kc; ++k) {
    vf b0, b1;
    std::memcpy(&b0, bp, sizeof(vf));
    std::memcpy(&b1, bp + VW, sizeof(vf));
    for (int r = 0; r < MR; ++r) {
      const float a = ap[r];
      acc0[r] += a * b0;
      acc1[r] += a * b1;
    }
    ap += MR;
    bp += NR;
  }
#endif
  if (m == MR && n == NR) {
    for (int r = 0; r < MR; ++r) {
      float* row = c + static_cast<ptrdiff_t>(r) * ldc;
      if (add) {
        vf c0, c1;
        std::memcpy(&c0, row, sizeof(vf));
        std::memcpy(&c1, row + VW, sizeof(vf));
        acc0[r] += c0;
        acc1[r] += c1;
      }
      std::memcpy(row, &acc0[r], sizeof(vf));
      std::memcpy(row + VW, &acc1[r], sizeof(vf));
    }
    return;
  }
  float tile[MR * NR];
  for (int r = 0; r < MR; ++r) {
    std::memcpy(tile + r * NR, &acc0[r], sizeof(vf));
    std::memcpy(tile + r * NR + VW, &acc1[r], sizeof(vf));
  }
  for (int r = 0; r < m; ++r) {
    float* row = c + static_cast<ptrdiff_t>(r) * ldc;
    for (int j = 0; j < n; ++j) row[j] = add ? row[j] + tile[r * NR + j] : tile[r * NR + j];
  }
}

// Packs rows i0..i0+mc of a left operand in panels of MR rows: row(i, d) writes row i's kc values at
// d[k * MR]; the rows that pad the last panel are zeros.
template <class Row>
static inline void pack_panels(int i0, int mc, int kc, float* dst, const Row& row) {
  for (int ip = 0; ip < mc; ip += MR) {
    const int rows = imin(MR, mc - ip);
    for (int r = 0; r < MR; ++r) {
      if (r < rows) {
        row(i0 + ip + r, dst + r);
      } else {
        for (int k = 0; k < kc; ++k) dst[k * MR + r] = 0.f;
      }
    }
    dst += static_cast<ptrdiff_t>(kc) * MR;
  }
}

// A(i, k) for a plain matrix, with or without transpose.
struct MatrixA {
  const float* a;
  ptrdiff_t ld;
  bool trans;
  // Writes rows i0..i0+mc, columns k0..k0+kc as panels of MR rows, zero-padded.
  void pack(int i0, int mc, int k0, int kc, float* dst) const {
    pack_panels(i0, mc, kc, dst, [&](int i, float* d) {
      if (!trans) {
        const float* s = a + i * ld + k0;
        for (int k = 0; k < kc; ++k) d[k * MR] = s[k];
      } else {
        const float* s = a + static_cast<ptrdiff_t>(k0) * ld + i;
        for (int k = 0; k < kc; ++k) d[k * MR] = s[k * ld];
      }
    });
  }
};

// B(k, j) for a plain matrix, with or without transpose.
struct MatrixB {
  const float* b;
  ptrdiff_t ld;
  bool trans;
  void pack(int k0, int kc, int j0, int nc, float* dst) const {
    for (int jp = 0; jp < nc; jp += NR) {
      const int cols = imin(NR, nc - jp);
      for (int k = 0; k < kc; ++k) {
        float* d = dst + static_cast<ptrdiff_t>(k) * NR;
        if (!trans) {
          const float* s = b + static_cast<ptrdiff_t>(k0 + k) * ld + j0 + jp;
          int j = 0;
          for (; j < cols; ++j) d[j] = s[j];
          for (; j < NR; ++j) d[j] = 0.f;
        } else {
          const float* s = b + static_cast<ptrdiff_t>(j0 + jp) * ld + k0 + k;
          int j = 0;
          for (; j < cols; ++j) d[j] = s[j * ld];
          for (; j < NR; ++j) d[j] = 0.f;
        }
      }
      dst += static_cast<ptrdiff_t>(kc) * NR;
    }
  }
};

// Moves the tap (ky, kx, ci) on by `run` values within a filter row (or to the start of the next).
static inline void advance(const ConvShape& s, int run, int* ky, int* kx, int* ci) {
  const int at = *ci + run;
  *kx += at / s.cin;
  *ci = at % s.cin;
  if (*kx == s.kw) {
    *kx = 0;
    ++*ky;
  }
}

// The im2col matrix of an NHWC input: row m = (n, oy, ox), column k = (ky, kx, ci). Packing walks
// (ky, kx, ci) by increments and copies each in-image run of channels: no division per element.
struct Im2colA {
  const float* x;
  ConvShape s;
  void pack(int i0, int mc, int k0, int kc, float* dst) const {
    const int kwc = s.kw * s.cin;
    const int ky0 = k0 / kwc, kx0 = (k0 % kwc) / s.cin, ci0 = k0 % s.cin;
    pack_panels(i0, mc, kc, dst, [&](int m, float* d) {
      const int ox = m % s.ow, oy = (m / s.ow) % s.oh, n = m / (s.ow * s.oh);
      const int iy0 = oy * s.stride_h - s.pad_top, ix0 = ox * s.stride_w - s.pad_left;
      const float* image = x + static_cast<ptrdiff_t>(n) * s.h * s.w * s.cin;
      int ky = ky0, kx = kx0, ci = ci0;
      for (int k = 0; k < kc;) {
        const int iy = iy0 + ky, ix = ix0 + kx;
        float* dk = d + static_cast<ptrdiff_t>(k) * MR;
        int run;
        if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) {
          run = imin(s.cin - ci, kc - k);
          for (int t = 0; t < run; ++t) dk[t * MR] = 0.f;
        } else {
          // The taps of this filter row that stay in the image read one contiguous span of x.
          run = imin((imin(s.kw, s.w - ix0) - kx) * s.cin - ci, kc - k);
          const float* src = image + (static_cast<ptrdiff_t>(iy) * s.w + ix) * s.cin + ci;
          for (int t = 0; t < run; ++t) dk[t * MR] = src[t];
        }
        k += run;
        advance(s, run, &ky, &kx, &ci);
      }
    });
  }
};

// The im2col matrix as a right operand, B(k = m, j = (ky, kx, ci)): a panel row is NR consecutive
// filter taps of one output position, mostly contiguous channels of one input pixel.
struct Im2colB {
  const float* x;
  ConvShape s;
  void pack(int k0, int kc, int j0, int nc, float* dst) const {
    const int kwc = s.kw * s.cin;
    for (int jp = 0; jp < nc; jp += NR) {
      const int cols = imin(NR, nc - jp);
      const int first = j0 + jp;
      const int ky0 = first / kwc, kx0 = (first % kwc) / s.cin, ci0 = first % s.cin;
      for (int k = 0; k < kc; ++k) {
        float* d = dst + static_cast<ptrdiff_t>(k) * NR;
        const int m = k0 + k;
        const int ox = m % s.ow, oy = (m / s.ow) % s.oh, n = m / (s.ow * s.oh);
        const int iy0 = oy * s.stride_h - s.pad_top, ix0 = ox * s.stride_w - s.pad_left;
        const float* image = x + static_cast<ptrdiff_t>(n) * s.h * s.w * s.cin;
        int ky = ky0, kx = kx0, ci = ci0;
        int j = 0;
        while (j < cols) {
          const int iy = iy0 + ky, ix = ix0 + kx;
          int run;
          if (iy < 0 || iy >= s.h || ix < 0 || ix >= s.w) {
            run = imin(s.cin - ci, cols - j);
            for (int t = 0; t < run; ++t) d[j + t] = 0.f;
          } else {
            run = imin((imin(s.kw, s.w - ix0) - kx) * s.cin - ci, cols - j);
            const float* src = image + (static_cast<ptrdiff_t>(iy) * s.w + ix) * s.cin + ci;
            for (int t = 0; t < run; ++t) d[j + t] = src[t];
          }
          j += run;
          advance(s, run, &ky, &kx, &ci);
        }
        for (; j < NR; ++j) d[j] = 0.f;
      }
      dst += static_cast<ptrdiff_t>(kc) * NR;
    }
  }
};

// Rows i0..i0+m of C (ldc) = op(A) op(B) over columns j0..j0+n and reduction k0..k0+k; adds to C when add.
template <class PA, class PB>
static void blocked(const PA& pa, const PB& pb, int i0, int m, int j0, int n, int kb, int k, float* c, ptrdiff_t ldc, bool add, float* work) {
  float* bpack = work;
  float* apack = work + static_cast<ptrdiff_t>(KC) * NC;
  for (int jc = 0; jc < n; jc += NC) {
    const int nc = imin(NC, n - jc);
    for (int kc0 = 0; kc0 < k; kc0 += KC) {
      const int kc = imin(KC, k - kc0);
      const bool accumulate = add || kc0 > 0;
      pb.pack(kb + kc0, kc, j0 + jc, nc, bpack);
      for (int ic = 0; ic < m; ic += MC) {
        const int mc = imin(MC, m - ic);
        pa.pack(i0 + ic, mc, kb + kc0, kc, apack);
        for (int jr = 0; jr < nc; jr += NR) {
          const float* bp = bpack + static_cast<ptrdiff_t>(jr) * kc;
          for (int ir = 0; ir < mc; ir += MR) {
            float* cp = c + static_cast<ptrdiff_t>(ic + ir) * ldc + jc + jr;
            micro_kernel(kc, apack + static_cast<ptrdiff_t>(ir) * kc, bp, cp, ldc, imin(MR, mc - ir), imin(NR, nc - jr), accumulate);
          }
        }
      }
    }
  }
}

}  // namespace GANQL_ISA
}  // namespace ganql
