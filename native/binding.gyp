{
  "target_defaults": {
    "cflags_cc": ["-O3", "-std=c++17", "-fno-exceptions"],
    "cflags_cc!": ["-fno-rtti"],
    "xcode_settings": { "OTHER_CPLUSPLUSFLAGS": ["-O3", "-std=c++17"] }
  },
  "targets": [
    {
      "target_name": "kernels_avx512",
      "type": "static_library",
      "sources": ["src/gemm_avx512.cc"],
      "cflags_cc": ["-mavx512f", "-mavx512vl", "-mfma", "-fPIC"]
    },
    {
      "target_name": "kernels_avx2",
      "type": "static_library",
      "sources": ["src/gemm_avx2.cc"],
      "cflags_cc": ["-mavx2", "-mfma", "-fPIC"]
    },
    {
      "target_name": "kernels_generic",
      "type": "static_library",
      "sources": ["src/gemm_generic.cc"],
      "cflags_cc": ["-fPIC"]
    },
    {
      "target_name": "exact",
      "type": "static_library",
      "sources": ["src/adam.cc", "src/random.cc", "src/activation.cc"],
      "cflags_cc": ["-ffp-contract=off", "-fno-math-errno", "-fno-trapping-math", "-fPIC"]
    },
    {
      "target_name": "ganql_native",
      "sources": ["src/addon.cc"],
      "dependencies": ["kernels_avx512", "kernels_avx2", "kernels_generic", "exact"],
      "libraries": ["-lpthread"]
    }
  ]
}
