// The avx512 build of the kernels (compiler flags in binding.gyp).
#define GANQL_ISA isa_avx512
#define GANQL_VW 16
#define GANQL_MR 8
#define GANQL_NAME "avx512"
#define GANQL_TABLE kernels_avx512
#include "kernels_impl.h"
