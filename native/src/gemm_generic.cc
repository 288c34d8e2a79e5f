// The generic build of the kernels (compiler flags in binding.gyp).
#define GANQL_ISA isa_generic
#define GANQL_VW 4
#define GANQL_MR 4
#define GANQL_NAME "generic"
#define GANQL_TABLE kernels_generic
#include "kernels_impl.h"
