// The kernels of one instruction set, behind one table so the addon picks a set at load.
#pragma once
#include <cstddef>

namespace ganql {

// An NHWC convolution: input n x h x w x cin, filter kh x kw x cin x cout, output n x oh x ow x cout.
struct ConvShape {
  int n, h, w, cin, kh, kw, cout, oh, ow, stride_h, stride_w, pad_top, pad_left;
};

struct Kernels {
  const char* name;
  // Floats of scratch one call needs (packed panels of both operands).
  size_t work_floats;
  // C rows [i0, i0+m) x columns [j0, j0+n) (c points at C(i0, j0)) = op(A) op(B) over reduction [k0, k0+k); adds when add.
  void (*matmul)(const float* a, ptrdiff_t lda, bool trans_a, const float* b, ptrdiff_t ldb, bool trans_b, int i0, int m, int j0, int n, int k0, int k,
                 float* c, ptrdiff_t ldc, bool add, float* work);
  // Output rows [i0, i0+m) (y points at row i0, all cout columns) of the convolution x * w, w as a (kh*kw*cin) x cout matrix.
  void (*conv)(const float* x, const float* w, const ConvShape& s, int i0, int m, float* y, float* work);
  // The filter gradient transposed, dw^T (cout x kh*kw*cin; dwt points at column j0 of it), columns
  // [j0, j0+n), summed over output positions [k0, k0+k).
  void (*filter_grad_t)(const float* x, const float* dy, const ConvShape& s, int j0, int n, int k0, int k, float* dwt, bool add, float* work);
  // Input gradient of images [n0, n0+count) (dx points at image n0, zeroed by the caller); cols holds rows x (kh*kw*cin) floats.
  void (*input_grad)(const float* dy, const float* w, const ConvShape& s, int n0, int count, float* dx, float* cols, int rows, float* work);
};

extern const Kernels kernels_avx512;
extern const Kernels kernels_avx2;
extern const Kernels kernels_generic;

}  // namespace ganql
