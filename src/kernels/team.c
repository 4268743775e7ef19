/* team.c: the polite barrier of team.h. */
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#ifdef __linux__
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif
#ifdef _OPENMP
#include <omp.h>
#endif
#include "kernels/team.h"

#define SPINS 2000 /* pause instructions before sleeping: a few microseconds */

static void wait_while(_Atomic int *addr, int val) {
#ifdef __linux__
    syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
#else
    (void)addr, (void)val;
    sched_yield();
#endif
}

static void wake_all(_Atomic int *addr) {
#ifdef __linux__
    syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
#else
    (void)addr;
#endif
}

void team_barrier_start(team_barrier *b) {
#ifdef _OPENMP
#pragma omp single
    {
        b->n = omp_get_num_threads();
        atomic_store(&b->arrived, 0);
        atomic_store(&b->sleepers, 0);
    }
#else
    b->n = 1;
    atomic_store(&b->arrived, 0);
    atomic_store(&b->sleepers, 0);
#endif
}

void team_barrier_wait(team_barrier *b) {
    if (b->n <= 1) return;
    int gen = atomic_load_explicit(&b->gen, memory_order_acquire);
    if (atomic_fetch_add_explicit(&b->arrived, 1, memory_order_acq_rel) == b->n - 1) {
        atomic_store_explicit(&b->arrived, 0, memory_order_relaxed);
        /* seq_cst store, then load: with the sleepers' seq_cst add-then-load, either
         * we see a sleeper or it sees the new generation (and does not sleep) */
        atomic_store(&b->gen, (int)((unsigned)gen + 1u));
        if (atomic_load(&b->sleepers)) wake_all(&b->gen);
        return;
    }
    for (int i = 0; i < SPINS; i++) {
        if (atomic_load_explicit(&b->gen, memory_order_acquire) != gen) return;
        cpu_relax();
    }
    atomic_fetch_add(&b->sleepers, 1);
    while (atomic_load(&b->gen) == gen) wait_while(&b->gen, gen);
    atomic_fetch_sub(&b->sleepers, 1);
}

typedef struct {
    float *buf[TEAM_SCRATCH_SLOTS];
    size_t cap[TEAM_SCRATCH_SLOTS];
} scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void *p) {
    scratch_set *s = p;
    for (int i = 0; i < TEAM_SCRATCH_SLOTS; i++) free(s->buf[i]);
    free(s);
}
static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

float *team_scratch(int slot, size_t n) {
    static _Thread_local scratch_set *set;
    if (!set) {
        pthread_once(&scratch_once, scratch_key_init);
        if (!(set = calloc(1, sizeof *set))) return NULL;
        if (pthread_setspecific(scratch_key, set)) { free(set); set = NULL; return NULL; }
    }
    if (n > set->cap[slot]) {
        size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
        float *p = aligned_alloc(64, bytes);
        if (!p) return NULL;
        free(set->buf[slot]);
        set->buf[slot] = p, set->cap[slot] = bytes / sizeof(float);
    }
    return set->buf[slot];
}
