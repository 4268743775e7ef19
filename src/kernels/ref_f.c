/* ref_f.c: the naive reference kernels in float (suffix _ref). See ref_impl.h. */
#define R float
#define SFX _ref
#include "kernels/ref_impl.h"
