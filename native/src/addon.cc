// ganql's native CPU kernels for training on the wasm backend: blocked GEMM and NHWC convolutions
// (forward, filter gradient, input gradient) over Float32Array views, run on the caller's thread
// and, for large enough products, on a persistent pool of helper threads.
#include <node_api.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "activation.h"
#include "adam.h"
#include "random.h"
#include "gemm.h"

namespace {

// The widest instruction set the CPU has; GANQL_NATIVE_ISA=avx2|generic picks a narrower one (for tests and comparisons).
const ganql::Kernels& pick_kernels() {
  __builtin_cpu_init();
  const bool avx512 = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl");
  const bool avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const char* forced = std::getenv("GANQL_NATIVE_ISA");
  const std::string want = forced == nullptr ? "" : forced;
  if (want == "generic") return ganql::kernels_generic;
  if (want == "avx2" && avx2) return ganql::kernels_avx2;
  if (avx512 && (want.empty() || want == "avx512")) return ganql::kernels_avx512;
  if (avx2) return ganql::kernels_avx2;
  return ganql::kernels_generic;
}

const ganql::Kernels& K = pick_kernels();

// Scratch for packed panels, one per thread, kept between calls.
float* work_buffer() {
  thread_local std::vector<float> buffer(K.work_floats);
  return buffer.data();
}

float* scratch(size_t floats) {
  thread_local std::vector<float> buffer;
  if (buffer.size() < floats) buffer.resize(floats);
  return buffer.data();
}

// Helper threads shared by every caller of the process (workers included); one parallel call at a time.
class Pool {
 public:
  void run(int threads, const std::function<void(int)>& fn) {
    if (threads <= 1) {
      fn(0);
      return;
    }
    std::lock_guard<std::mutex> call(call_mu_);
    {
      std::unique_lock<std::mutex> lock(mu_);
      while (static_cast<int>(workers_.size()) < threads - 1) {
        const int index = static_cast<int>(workers_.size()) + 1;
        workers_.emplace_back([this, index] { loop(index); });
      }
      job_ = &fn;
      active_ = threads;
      pending_ = threads - 1;
      ++generation_;
    }
    cv_.notify_all();
    fn(0);
    std::unique_lock<std::mutex> lock(mu_);
    done_.wait(lock, [this] { return pending_ == 0; });
    job_ = nullptr;
  }

 private:
  void loop(int index) {
    unsigned long seen = 0;
    for (;;) {
      const std::function<void(int)>* job;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [&] { return generation_ != seen; });
        seen = generation_;
        if (index >= active_) continue;
        job = job_;
      }
      (*job)(index);
      std::lock_guard<std::mutex> lock(mu_);
      if (--pending_ == 0) done_.notify_one();
    }
  }

  std::mutex call_mu_, mu_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> workers_;
  const std::function<void(int)>* job_ = nullptr;
  int active_ = 0, pending_ = 0;
  unsigned long generation_ = 0;
};

// Never destroyed: its threads live as long as the process.
Pool& pool() {
  static Pool* p = new Pool();
  return *p;
}

// Below this many multiply-adds a call stays on one thread: waking a helper costs more than it saves.
constexpr double kParallelMacs = 1.5e6;

int threads_for(double macs, int requested) { return macs < kParallelMacs ? 1 : std::max(1, std::min(requested, 8)); }

// [start, end) of part t of total split in parts aligned to align.
void split(int total, int parts, int t, int align, int* start, int* count) {
  const int units = (total + align - 1) / align;
  const int per = units / parts, extra = units % parts;
  const int u0 = t * per + std::min(t, extra);
  const int u1 = u0 + per + (t < extra ? 1 : 0);
  *start = std::min(total, u0 * align);
  *count = std::min(total, u1 * align) - *start;
}

// ---- argument reading ----

bool throw_error(napi_env env, const char* message) {
  napi_throw_error(env, "GANQL_NATIVE", message);
  return false;
}

bool get_floats(napi_env env, napi_value v, float** data, size_t* length, const char* what) {
  napi_typedarray_type type;
  void* ptr;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, &buffer, &offset) != napi_ok || type != napi_float32_array) {
    char message[160];
    snprintf(message, sizeof message, "Expected %s to be a Float32Array", what);
    return throw_error(env, message);
  }
  *data = static_cast<float*>(ptr);
  return true;
}

bool get_int(napi_env env, napi_value v, int* out, const char* what) {
  if (napi_get_value_int32(env, v, out) != napi_ok || *out < 0) {
    char message[160];
    snprintf(message, sizeof message, "Expected %s to be a non-negative integer", what);
    return throw_error(env, message);
  }
  return true;
}

bool get_bool(napi_env env, napi_value v, bool* out, const char* what) {
  if (napi_get_value_bool(env, v, out) != napi_ok) {
    char message[160];
    snprintf(message, sizeof message, "Expected %s to be a boolean", what);
    return throw_error(env, message);
  }
  return true;
}

bool need(napi_env env, size_t have, size_t want, const char* what) {
  if (have >= want) return true;
  char message[200];
  snprintf(message, sizeof message, "Expected %s to hold at least %zu floats, got %zu", what, want, have);
  return throw_error(env, message);
}

template <size_t N>
bool get_args(napi_env env, napi_callback_info info, napi_value (&argv)[N]) {
  size_t argc = N;
  if (napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr) != napi_ok || argc != N) {
    char message[80];
    snprintf(message, sizeof message, "Expected %zu arguments, got %zu", N, argc);
    return throw_error(env, message);
  }
  return true;
}

bool get_shape(napi_env env, napi_value v, ganql::ConvShape* s) {
  napi_typedarray_type type;
  size_t length;
  void* ptr;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, &length, &ptr, &buffer, &offset) != napi_ok || type != napi_int32_array || length != 13) {
    return throw_error(env, "Expected the convolution shape as an Int32Array of 13 values");
  }
  std::memcpy(s, ptr, sizeof(ganql::ConvShape));
  const int* d = static_cast<int*>(ptr);
  for (int i = 0; i < 13; ++i) {
    if (d[i] < 0 || (i < 11 && d[i] == 0)) return throw_error(env, "Expected positive convolution sizes and strides and non-negative padding");
  }
  return true;
}

size_t input_size(const ganql::ConvShape& s) { return static_cast<size_t>(s.n) * s.h * s.w * s.cin; }
size_t filter_size(const ganql::ConvShape& s) { return static_cast<size_t>(s.kh) * s.kw * s.cin * s.cout; }
size_t output_size(const ganql::ConvShape& s) { return static_cast<size_t>(s.n) * s.oh * s.ow * s.cout; }

// ---- entry points ----

// The arguments every convolution entry takes: three arrays (named, with the sizes the shape needs),
// the shape and the threads.
struct ConvCall {
  float* arrays[3];
  ganql::ConvShape s;
  int threads;
};

enum class Role { Input, Filter, Output };

size_t size_of(Role role, const ganql::ConvShape& s) {
  return role == Role::Input ? input_size(s) : role == Role::Filter ? filter_size(s) : output_size(s);
}

bool read_conv_call(napi_env env, napi_callback_info info, const char* const names[3], const Role roles[3], ConvCall* call) {
  napi_value argv[5];
  if (!get_args(env, info, argv)) return false;
  size_t lengths[3];
  for (int i = 0; i < 3; ++i) {
    if (!get_floats(env, argv[i], &call->arrays[i], &lengths[i], names[i])) return false;
  }
  if (!get_shape(env, argv[3], &call->s) || !get_int(env, argv[4], &call->threads, "threads")) return false;
  for (int i = 0; i < 3; ++i) {
    if (!need(env, lengths[i], size_of(roles[i], call->s), names[i])) return false;
  }
  return true;
}


// matmul(a, b, c, m, n, k, transA, transB, threads): c (m x n) = op(a) op(b), row-major.
napi_value Matmul(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!get_args(env, info, argv)) return nullptr;
  float *a, *b, *c;
  size_t la, lb, lc;
  int m, n, k, threads;
  bool ta, tb;
  if (!get_floats(env, argv[0], &a, &la, "a") || !get_floats(env, argv[1], &b, &lb, "b") || !get_floats(env, argv[2], &c, &lc, "c") ||
      !get_int(env, argv[3], &m, "m") || !get_int(env, argv[4], &n, "n") || !get_int(env, argv[5], &k, "k") || !get_bool(env, argv[6], &ta, "transA") ||
      !get_bool(env, argv[7], &tb, "transB") || !get_int(env, argv[8], &threads, "threads")) {
    return nullptr;
  }
  const size_t sm = m, sn = n, sk = k;
  if (!need(env, la, sm * sk, "a") || !need(env, lb, sk * sn, "b") || !need(env, lc, sm * sn, "c")) return nullptr;
  if (k == 0) {
    std::fill(c, c + sm * sn, 0.f);
    return nullptr;
  }
  const ptrdiff_t lda = ta ? m : k, ldb = tb ? k : n;
  const int t = threads_for(static_cast<double>(m) * n * k, threads);
  const bool by_rows = m >= n;
  pool().run(t, [&](int part) {
    int start, count;
    if (by_rows) {
      split(m, t, part, 16, &start, &count);
      if (count > 0) K.matmul(a, lda, ta, b, ldb, tb, start, count, 0, n, 0, k, c + start * static_cast<ptrdiff_t>(n), n, false, work_buffer());
    } else {
      split(n, t, part, 32, &start, &count);
      if (count > 0) K.matmul(a, lda, ta, b, ldb, tb, 0, m, start, count, 0, k, c + start, n, false, work_buffer());
    }
  });
  return nullptr;
}

// conv2d(x, w, y, shape, threads): NHWC convolution, w as kh x kw x cin x cout.
napi_value Conv2d(napi_env env, napi_callback_info info) {
  static const char* const names[3] = {"x", "filter", "y"};
  static const Role roles[3] = {Role::Input, Role::Filter, Role::Output};
  ConvCall call;
  if (!read_conv_call(env, info, names, roles, &call)) return nullptr;
  const float *x = call.arrays[0], *w = call.arrays[1];
  float* y = call.arrays[2];
  const ganql::ConvShape& s = call.s;
  const int threads = call.threads;
  const int rows = s.n * s.oh * s.ow;
  const int t = threads_for(static_cast<double>(rows) * s.cout * s.kh * s.kw * s.cin, threads);
  pool().run(t, [&](int part) {
    int start, count;
    split(rows, t, part, 16, &start, &count);
    if (count > 0) K.conv(x, w, s, start, count, y + static_cast<ptrdiff_t>(start) * s.cout, work_buffer());
  });
  return nullptr;
}

// conv2dFilterGrad(x, dy, dw, shape, threads): dw (kh x kw x cin x cout) = sum over positions of patch(x) dy.
napi_value Conv2dFilterGrad(napi_env env, napi_callback_info info) {
  static const char* const names[3] = {"x", "dy", "dw"};
  static const Role roles[3] = {Role::Input, Role::Output, Role::Filter};
  ConvCall call;
  if (!read_conv_call(env, info, names, roles, &call)) return nullptr;
  const float *x = call.arrays[0], *dy = call.arrays[1];
  float* dw = call.arrays[2];
  const ganql::ConvShape& s = call.s;
  const int threads = call.threads;
  const int kk = s.kh * s.kw * s.cin, positions = s.n * s.oh * s.ow;
  const int t = threads_for(static_cast<double>(kk) * s.cout * positions, threads);
  // dw^T = dy^T im2col, then transposed into dw. Many taps: threads take columns of dw^T; few
  // (a first layer's 5x5x1): they split the sum over positions, each but the first into its own buffer.
  const size_t size = filter_size(s);
  std::vector<float> dwt(size);
  const bool by_columns = kk >= 64 * t;
  std::vector<std::vector<float>> partial(by_columns || t == 1 ? 0 : t - 1, std::vector<float>(size));
  pool().run(t, [&](int part) {
    int start, count;
    if (by_columns) {
      split(kk, t, part, 32, &start, &count);
      if (count > 0) K.filter_grad_t(x, dy, s, start, count, 0, positions, dwt.data() + start, false, work_buffer());
      return;
    }
    split(positions, t, part, 64, &start, &count);
    float* out = part == 0 ? dwt.data() : partial[part - 1].data();
    if (count > 0) {
      K.filter_grad_t(x, dy, s, 0, kk, start, count, out, false, work_buffer());
    } else {
      std::fill(out, out + size, 0.f);
    }
  });
  for (const auto& p : partial) {
    for (size_t i = 0; i < size; ++i) dwt[i] += p[i];
  }
  for (int co = 0; co < s.cout; ++co) {
    const float* row = dwt.data() + static_cast<size_t>(co) * kk;
    for (int k = 0; k < kk; ++k) dw[static_cast<size_t>(k) * s.cout + co] = row[k];
  }
  return nullptr;
}

// conv2dInputGrad(dy, w, dx, shape, threads): dx (n x h x w x cin), the gradient of the convolution's input.
napi_value Conv2dInputGrad(napi_env env, napi_callback_info info) {
  static const char* const names[3] = {"dy", "filter", "dx"};
  static const Role roles[3] = {Role::Output, Role::Filter, Role::Input};
  ConvCall call;
  if (!read_conv_call(env, info, names, roles, &call)) return nullptr;
  const float *dy = call.arrays[0], *w = call.arrays[1];
  float* dx = call.arrays[2];
  const ganql::ConvShape& s = call.s;
  const int threads = call.threads;
  std::fill(dx, dx + input_size(s), 0.f);
  const int kk = s.kh * s.kw * s.cin;
  const int rows = 128;
  const int t = std::min(s.n, threads_for(static_cast<double>(s.n) * s.oh * s.ow * s.cout * kk, threads));
  pool().run(t, [&](int part) {
    int start, count;
    split(s.n, t, part, 1, &start, &count);
    if (count > 0) {
      K.input_grad(dy, w, s, start, count, dx + static_cast<ptrdiff_t>(start) * s.h * s.w * s.cin, scratch(static_cast<size_t>(rows) * kk), rows,
                   work_buffer());
    }
  });
  return nullptr;
}

// adamUpdate(value, gradient, m, v, outValue, outM, outV, hyper, threads): hyper = Float64Array
// [learningRate, beta1, beta2, epsilon, correction1, correction2, epsilonInside (0 or 1)]; every array of the same length.
napi_value AdamUpdate(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  if (!get_args(env, info, argv)) return nullptr;
  const char* names[7] = {"value", "gradient", "m", "v", "outValue", "outM", "outV"};
  float* arrays[7];
  size_t lengths[7];
  for (int i = 0; i < 7; ++i) {
    if (!get_floats(env, argv[i], &arrays[i], &lengths[i], names[i])) return nullptr;
    if (lengths[i] != lengths[0]) {
      char message[160];
      snprintf(message, sizeof message, "Expected %s to hold %zu floats like value, got %zu", names[i], lengths[0], lengths[i]);
      throw_error(env, message);
      return nullptr;
    }
  }
  napi_typedarray_type type;
  size_t count;
  void* data;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, argv[7], &type, &count, &data, &buffer, &offset) != napi_ok || type != napi_float64_array || count != 7) {
    throw_error(env, "Expected the Adam settings as a Float64Array of 7 values");
    return nullptr;
  }
  int threads;
  if (!get_int(env, argv[8], &threads, "threads")) return nullptr;
  const double* h = static_cast<const double*>(data);
  const ganql::AdamArgs args{arrays[0], arrays[1], arrays[2], arrays[3], arrays[4], arrays[5], arrays[6], h[0], h[1], h[2], h[3], h[4], h[5], h[6] != 0};
  const size_t n = lengths[0];
  // A memory-bound pass: a second thread pays off from about a quarter million values.
  const int t = n < 262144 ? 1 : std::max(1, std::min(threads, 8));
  pool().run(t, [&](int part) {
    const size_t per = (n + t - 1) / t;
    const size_t begin = std::min(n, per * part), end = std::min(n, begin + per);
    ganql::adam_update(args, begin, end);
  });
  return nullptr;
}

// philoxNormal(out, mean, std, k0, k1, threads): out = mean + std * z, the Philox Gaussian stream under key (k0, k1).
napi_value PhiloxNormal(napi_env env, napi_callback_info info) {
  napi_value argv[6];
  if (!get_args(env, info, argv)) return nullptr;
  float* out;
  size_t n;
  double mean, std_dev;
  uint32_t k0, k1;
  int threads;
  if (!get_floats(env, argv[0], &out, &n, "out")) return nullptr;
  if (napi_get_value_double(env, argv[1], &mean) != napi_ok || napi_get_value_double(env, argv[2], &std_dev) != napi_ok) {
    throw_error(env, "Expected mean and std to be numbers");
    return nullptr;
  }
  if (napi_get_value_uint32(env, argv[3], &k0) != napi_ok || napi_get_value_uint32(env, argv[4], &k1) != napi_ok) {
    throw_error(env, "Expected the key words k0 and k1 to be uint32 numbers");
    return nullptr;
  }
  if (!get_int(env, argv[5], &threads, "threads")) return nullptr;
  // About 10 ns a value: a second thread pays off from a few tens of thousands.
  const int t = n < 32768 ? 1 : std::max(1, std::min(threads, 8));
  pool().run(t, [&](int part) {
    const size_t blocks = (n + 3) / 4, per = (blocks + t - 1) / t;
    const size_t begin = std::min(n, per * part * 4), end = std::min(n, (per * part + per) * 4);
    if (begin < end) ganql::philox_normal(out, begin, end, n, mean, std_dev, k0, k1);
  });
  return nullptr;
}

// biasActivate(x, out, bias, kind, alpha): out = f(x + bias), bias repeated along rows (none when empty,
// one value for all when of length 1), f by kind: 0 linear, 1 relu, 2 relu6, 3 leakyrelu (alpha), 4 sigmoid, 5 tanh; out may be x.
napi_value BiasActivate(napi_env env, napi_callback_info info) {
  napi_value argv[5];
  if (!get_args(env, info, argv)) return nullptr;
  float *x, *out, *bias;
  size_t lx, lo, lb;
  int kind;
  double alpha;
  if (!get_floats(env, argv[0], &x, &lx, "x") || !get_floats(env, argv[1], &out, &lo, "out") || !get_floats(env, argv[2], &bias, &lb, "bias") ||
      !get_int(env, argv[3], &kind, "kind")) {
    return nullptr;
  }
  if (napi_get_value_double(env, argv[4], &alpha) != napi_ok) {
    throw_error(env, "Expected alpha to be a number");
    return nullptr;
  }
  if (kind > 5) {
    throw_error(env, "Expected kind 0 to 5 (linear, relu, relu6, leakyrelu, sigmoid, tanh)");
    return nullptr;
  }
  if (!need(env, lo, lx, "out")) return nullptr;
  if (lb > 1 && lx % lb != 0) {
    throw_error(env, "Expected x to hold whole rows of the bias's length");
    return nullptr;
  }
  // About a nanosecond a value: one thread.
  ganql::bias_activate(x, out, lx, bias, lb, static_cast<ganql::Activation>(kind), alpha);
  return nullptr;
}

napi_value Isa(napi_env env, napi_callback_info) {
  napi_value out;
  napi_create_string_utf8(env, K.name, NAPI_AUTO_LENGTH, &out);
  return out;
}

}  // namespace

NAPI_MODULE_INIT() {
  const napi_property_descriptor props[] = {
      {"matmul", nullptr, Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2d", nullptr, Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dFilterGrad", nullptr, Conv2dFilterGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dInputGrad", nullptr, Conv2dInputGrad, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"adamUpdate", nullptr, AdamUpdate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"philoxNormal", nullptr, PhiloxNormal, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"biasActivate", nullptr, BiasActivate, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"isa", nullptr, Isa, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
