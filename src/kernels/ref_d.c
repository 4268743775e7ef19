/* ref_d.c: the naive reference kernels in double (suffix _refd), for gradient checks. */
#define R double
#define SFX _refd
#include "kernels/ref_impl.h"
