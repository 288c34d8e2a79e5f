// The avx2 build of the kernels (compiler flags in binding.gyp).
#define GANQL_ISA isa_avx2
#define GANQL_VW 8
#define GANQL_MR 6
#define GANQL_NAME "avx2"
#define GANQL_TABLE kernels_avx2
#include "kernels_impl.h"
