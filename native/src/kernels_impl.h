// The entry points of one instruction set over gemm_impl.h; included once per gemm_<isa>.cc.
#include "gemm_impl.h"

namespace ganql {
namespace GANQL_ISA {

static void matmul(const float* a, ptrdiff_t lda, bool trans_a, const float* b, ptrdiff_t ldb, bool trans_b, int i0, int m, int j0, int n, int k0,
                   int k, float* c, ptrdiff_t ldc, bool add, float* work) {
  blocked(MatrixA{a, lda, trans_a}, MatrixB{b, ldb, trans_b}, i0, m, j0, n, k0, k, c, ldc, add, work);
}

static void conv(const float* x, const float* w, const ConvShape& s, int i0, int m, float* y, float* work) {
  blocked(Im2colA{x, s}, MatrixB{w, s.cout, false}, i0, m, 0, s.cout, 0, s.kh * s.kw * s.cin, y, s.cout, false, work);
}

// The filter gradient transposed, dw^T (cout x kh*kw*cin) = dy^T im2col, columns [j0, j0+n) over
// positions [k0, k0+k): the im2col side packs as contiguous channel runs (see Im2colB).
static void filter_grad_t(const float* x, const float* dy, const ConvShape& s, int j0, int n, int k0, int k, float* dwt, bool add, float* work) {
  blocked(MatrixA{dy, s.cout, true}, Im2colB{x, s}, 0, s.cout, j0, n, k0, k, dwt, s.kh * s.kw * s.cin, add, work);
}

// dx += col2im(dy W^T), a block of output positions at a time: every product is a real one (no inserted zeros).
static void input_grad(const float* dy, const float* w, const ConvShape& s, int n0, int count, float* dx, float* cols, int rows, float* work) {
  const int kk = s.kh * s.kw * s.cin;
  const int positions = s.oh * s.ow;
  const int first = n0 * positions, last = (n0 + count) * positions;
  for (int p0 = first; p0 < last; p0 += rows) {
    const int r = imin(rows, last - p0);
    blocked(MatrixA{dy, s.cout, false}, MatrixB{w, s.cout, true}, p0, r, 0, kk, 0, s.cout, cols, kk, false, work);
    for (int t = 0; t < r; ++t) {
      const int p = p0 + t;
      const int ox = p % s.ow, oy = (p / s.ow) % s.oh, nn = p / positions - n0;
      const float* col = cols + static_cast<ptrdiff_t>(t) * kk;
      for (int ky = 0; ky < s.kh; ++ky) {
        const int iy = oy * s.stride_h - s.pad_top + ky;
        if (iy < 0 || iy >= s.h) continue;
        for (int kx = 0; kx < s.kw; ++kx) {
          const int ix = ox * s.stride_w - s.pad_left + kx;
          if (ix < 0 || ix >= s.w) continue;
          float* d = dx + ((static_cast<ptrdiff_t>(nn) * s.h + iy) * s.w + ix) * s.cin;
          const float* src = col + (ky * s.kw + kx) * s.cin;
          for (int ci = 0; ci < s.cin; ++ci) d[ci] += src[ci];
        }
      }
    }
  }
}

}  // namespace GANQL_ISA

extern const Kernels GANQL_TABLE = {GANQL_NAME, static_cast<size_t>(GANQL_ISA::KC) * (GANQL_ISA::NC + GANQL_ISA::MC), GANQL_ISA::matmul, GANQL_ISA::conv,
                                    GANQL_ISA::filter_grad_t, GANQL_ISA::input_grad};

}  // namespace ganql
