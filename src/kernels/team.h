/* team.h: a barrier for the threads of one OpenMP parallel region that waits
 * politely. libgomp's barriers spin for a long while (GOMP_SPINCOUNT, ~0.1-1 ms)
 * before sleeping; on a machine shared with other jobs a spinning thread holds a
 * CPU that its descheduled sibling (the one the barrier waits for) needs, and a
 * decode step with hundreds of barriers slows down several-fold. This one spins a
 * few microseconds, then sleeps on a futex (Linux; elsewhere it yields), so a busy
 * machine costs a wake-up per barrier instead. Internal to src/kernels and the
 * decoder. */
#ifndef RLVR_KERNELS_TEAM_H
#define RLVR_KERNELS_TEAM_H
#include <stdatomic.h>
#include <stddef.h>

typedef struct {
    _Atomic int arrived;  /* threads at the barrier in this generation */
    _Atomic int gen;      /* bumped by the last to arrive: releases the others */
    _Atomic int sleepers; /* threads asleep on gen */
    int n;                /* team size */
} team_barrier;

/* Every thread of the region calls it once per use: team_barrier_start (sets the
 * team size, with an OpenMP barrier), then team_barrier_wait as often as needed. All
 * writes before a wait are visible to every thread after it. */
void team_barrier_start(team_barrier *b);
void team_barrier_wait(team_barrier *b);

/* Per-thread scratch: buffer `slot` (< TEAM_SCRATCH_SLOTS) of at least n floats, 64-byte
 * aligned, grown on first use and reused (no allocation in the steady state), freed
 * when the thread exits (OpenMP pool threads exit when the team shrinks). NULL when
 * out of memory. Slots in use: 0, 1 kvcache.c; 2 decode.c. */
#define TEAM_SCRATCH_SLOTS 4
float *team_scratch(int slot, size_t n);
#endif
