"""The native tier's run-time library: one thread pool per process, shared by every
compiled program (loaded with RTLD_GLOBAL before them; they call `nj_parallel`).

    nj_parallel(fn, ctx, n, chunks)    // fn(ctx, lo, hi) over [0, n) in `chunks` pieces

Why not OpenMP's parallel-for: its team barrier waits for every thread, so one worker
that the OS has not scheduled yet stalls the whole kernel (on a busy 2-core machine a
10M-element sum took 30 ms on two OpenMP threads and 1 ms on one), and idle threads spin.
Here the caller takes chunks itself; workers that wake up claim the rest from a shared
ticket (generation << 32 | next chunk), and the call returns as soon as every chunk is
done -- a worker that never woke up is simply not waited for. Idle workers spin for
$NUMJAX_SPIN_US (default 300 us: a program's kernels come in bursts, and waking a sleeping
thread costs tens of microseconds) and then sleep on a condition variable. A call made while another
is running (another Python thread, or from inside a chunk) runs serially: no deadlock.

It also holds the GEMM (float32/float64) that dot_general uses, top level and in loops.
"""
from __future__ import annotations

import os
import threading

SOURCE = r"""
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#define NJ_EXPORT __attribute__((visibility("default")))
typedef void (*nj_chunk_fn)(void *ctx, int64_t lo, int64_t hi);

static int nj_nt = 0;
static pthread_mutex_t nj_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nj_cv = PTHREAD_COND_INITIALIZER;
static pthread_mutex_t nj_job_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t nj_start_mu = PTHREAD_MUTEX_INITIALIZER;
static _Atomic uint64_t nj_ticket;
static _Atomic int64_t nj_done;
static _Atomic uint32_t nj_gen;
static volatile nj_chunk_fn nj_fn;
static void *volatile nj_ctx;
static volatile int64_t nj_n, nj_chunks;
static int nj_started = 0;

static double nj_spin_s = 300e-6;
static inline double nj_now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static inline void nj_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

NJ_EXPORT int nj_nthreads(void) {
  if (nj_nt == 0) {
    const char *e = getenv("NUMJAX_NUM_THREADS");
    int v = e ? atoi(e) : 0;
    if (v <= 0) {
#ifdef CPU_COUNT
      cpu_set_t s;
      if (sched_getaffinity(0, sizeof(s), &s) == 0) v = CPU_COUNT(&s);
#endif
      if (v <= 0) v = (int)sysconf(_SC_NPROCESSORS_ONLN);
    }
    nj_nt = v < 1 ? 1 : (v > 256 ? 256 : v);
  }
  return nj_nt;
}

static int nj_claim(uint32_t gen, int64_t chunks) {
  uint64_t t = atomic_load_explicit(&nj_ticket, memory_order_acquire);
  for (;;) {
    if ((uint32_t)(t >> 32) != gen) return -1;
    int64_t c = (int64_t)(t & 0xffffffffu);
    if (c >= chunks) return -1;
    if (atomic_compare_exchange_weak_explicit(&nj_ticket, &t, t + 1, memory_order_acq_rel,
                                              memory_order_acquire))
      return (int)c;
  }
}

/* nj_quiesce(): idle workers stop spinning and sleep now. The driver calls it before a
   NumPy step (BLAS, conv, sort, ...): OpenBLAS's own threads need the cores, and a worker
   spinning beside them on a 2-core machine halves their speed. */
static _Atomic uint32_t nj_quiet;
NJ_EXPORT void nj_quiesce(void) { atomic_fetch_add_explicit(&nj_quiet, 1, memory_order_acq_rel); }

static void *nj_worker(void *arg) {
  (void)arg;
  uint32_t seen = atomic_load_explicit(&nj_gen, memory_order_acquire);
  for (;;) {
    uint32_t g = atomic_load_explicit(&nj_gen, memory_order_acquire);
    if (g == seen) {
      /* spin a while (kernels come in bursts: a program's next parallel kernel follows
         within microseconds), then sleep */
      int found = 0;
      double t0 = nj_now();
      uint32_t q = atomic_load_explicit(&nj_quiet, memory_order_acquire);
      for (int i = 1;; i++) {
        nj_relax();
        if (atomic_load_explicit(&nj_gen, memory_order_acquire) != seen) { found = 1; break; }
        if ((i & 63) == 0 && (nj_now() - t0 > nj_spin_s ||
                              atomic_load_explicit(&nj_quiet, memory_order_acquire) != q)) break;
      }
      if (!found) {
        pthread_mutex_lock(&nj_mu);
        while (atomic_load_explicit(&nj_gen, memory_order_acquire) == seen)
          pthread_cond_wait(&nj_cv, &nj_mu);
        pthread_mutex_unlock(&nj_mu);
      }
      continue;
    }
    seen = g;
    nj_chunk_fn fn = nj_fn;
    void *ctx = nj_ctx;
    int64_t n = nj_n, chunks = nj_chunks;
    int c;
    while ((c = nj_claim(g, chunks)) >= 0) {
      fn(ctx, n * c / chunks, n * (c + 1) / chunks);
      atomic_fetch_add_explicit(&nj_done, 1, memory_order_acq_rel);
    }
  }
  return 0;
}

static void nj_start(void) {
  pthread_mutex_lock(&nj_start_mu);
  if (!nj_started) {
    const char *sp = getenv("NUMJAX_SPIN_US");
    if (sp) nj_spin_s = atof(sp) * 1e-6;
    int nt = nj_nthreads();
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int ok = 1;
    for (int i = 1; i < nt; i++) {
      pthread_t th;
      if (pthread_create(&th, &at, nj_worker, 0) != 0) { ok = 0; break; }
    }
    pthread_attr_destroy(&at);
    if (!ok) nj_nt = 1;
    nj_started = 1;
  }
  pthread_mutex_unlock(&nj_start_mu);
}

NJ_EXPORT void nj_parallel(nj_chunk_fn fn, void *ctx, int64_t n, int64_t chunks) {
  int nt = nj_nthreads();
  if (chunks <= 0) chunks = nt;   /* one contiguous piece per thread (streaming kernels) */
  if (chunks > n) chunks = n;
  if (chunks > 8 * nt) chunks = 8 * nt;
  if (nt <= 1 || chunks <= 1) { fn(ctx, 0, n); return; }
  if (!nj_started) nj_start();
  if (nj_nt <= 1 || pthread_mutex_trylock(&nj_job_mu) != 0) { fn(ctx, 0, n); return; }
  nj_fn = fn; nj_ctx = ctx; nj_n = n; nj_chunks = chunks;
  atomic_store_explicit(&nj_done, 0, memory_order_release);
  uint32_t g = atomic_load_explicit(&nj_gen, memory_order_acquire) + 1;
  atomic_store_explicit(&nj_ticket, (uint64_t)g << 32, memory_order_release);
  pthread_mutex_lock(&nj_mu);
  atomic_store_explicit(&nj_gen, g, memory_order_release);
  pthread_cond_broadcast(&nj_cv);
  pthread_mutex_unlock(&nj_mu);
  int c;
  while ((c = nj_claim(g, chunks)) >= 0) {
    fn(ctx, n * c / chunks, n * (c + 1) / chunks);
    atomic_fetch_add_explicit(&nj_done, 1, memory_order_acq_rel);
  }
  int spins = 0;
  while (atomic_load_explicit(&nj_done, memory_order_acquire) < chunks) {
    if (++spins > 2000) sched_yield(); else nj_relax();
  }
  pthread_mutex_unlock(&nj_job_mu);
}


/* ---- GEMM: C[M, N] = A[M, K] @ B[K, N] for float/double, any strides of A and B, C rows
   of stride ldc. Goto-style: B packed in panels of NR columns, A in panels of MR rows, a
   register-blocked MR x NR micro-kernel (GCC vector extensions; FMAs contracted here only).
   Tiles of C (MC rows x NC columns) run on the pool. ---- */
#if defined(__AVX512F__)
#define NJ_VB 64
#define NJ_MR 8
#else
#define NJ_VB 32
#define NJ_MR 6
#endif
#define NJ_KC 256
#define NJ_NC 512
#define NJ_MC 128
static __thread void *nj_pack_b, *nj_pack_a;
static _Atomic uint64_t nj_gemm_gen;   /* one number per GEMM call: keys the packed-copy caches */
static void nj_pack_bufs(void **bp, void **ap) {
  if (!nj_pack_b) {
    if (posix_memalign(&nj_pack_b, 64, (size_t)NJ_KC * NJ_NC * 8)) nj_pack_b = 0;
    if (posix_memalign(&nj_pack_a, 64, (size_t)NJ_KC * (NJ_MC + 16) * 8)) nj_pack_a = 0;
  }
  *bp = nj_pack_b; *ap = nj_pack_a;
}
#define NJ_GEMM(T, SUF) \
typedef T nj_v_##SUF __attribute__((vector_size(NJ_VB))); \
enum { NJ_L_##SUF = NJ_VB / sizeof(T), NJ_NR_##SUF = 2 * (NJ_VB / sizeof(T)) }; \
__attribute__((optimize("fp-contract=fast"))) \
static void nj_micro_##SUF(int64_t kc, const T *restrict a, const T *restrict b, T *restrict c, \
                            int64_t ldc, int mr, int nr, int first) { \
  enum { L = NJ_L_##SUF, NR = NJ_NR_##SUF }; \
  nj_v_##SUF acc[NJ_MR][2]; \
  for (int r = 0; r < NJ_MR; r++) { acc[r][0] = (nj_v_##SUF){0}; acc[r][1] = (nj_v_##SUF){0}; } \
  for (int64_t k = 0; k < kc; k++) { \
    nj_v_##SUF b0, b1; memcpy(&b0, b + k * NR, NJ_VB); memcpy(&b1, b + k * NR + L, NJ_VB); \
    for (int r = 0; r < NJ_MR; r++) { T av = a[k * NJ_MR + r]; acc[r][0] += av * b0; acc[r][1] += av * b1; } \
  } \
  if (mr == NJ_MR && nr == NR) { \
    for (int r = 0; r < NJ_MR; r++) { \
      nj_v_##SUF c0, c1; \
      if (first) { c0 = acc[r][0]; c1 = acc[r][1]; } \
      else { memcpy(&c0, c + r * ldc, NJ_VB); memcpy(&c1, c + r * ldc + L, NJ_VB); c0 += acc[r][0]; c1 += acc[r][1]; } \
      memcpy(c + r * ldc, &c0, NJ_VB); memcpy(c + r * ldc + L, &c1, NJ_VB); \
    } \
  } else { \
    T tmp[NJ_MR][NR]; \
    for (int r = 0; r < NJ_MR; r++) { memcpy(tmp[r], &acc[r][0], NJ_VB); memcpy(tmp[r] + L, &acc[r][1], NJ_VB); } \
    for (int r = 0; r < mr; r++) for (int j = 0; j < nr; j++) \
      c[r * ldc + j] = first ? tmp[r][j] : c[r * ldc + j] + tmp[r][j]; \
  } \
} \
/* per-thread packed copies of a tile's whole A rows / B columns over all of K, reused by the \
   thread's next tile of the same GEMM call (gen) when it shares them: with 128 rows, every \
   tile of a row-split GEMM packed the same A again (~a third of the packing time) */ \
typedef struct { const T *p; int64_t s0, s1, lo, hi, K; uint64_t gen; T *buf; size_t cap; } nj_pk_##SUF; \
static __thread nj_pk_##SUF nj_pka_##SUF, nj_pkb_##SUF; \
static T *nj_pk_get_##SUF(nj_pk_##SUF *c, const T *p, int64_t s0, int64_t s1, int64_t lo, \
                          int64_t hi, int64_t K, uint64_t gen, size_t need, int *hit) { \
  *hit = c->buf && c->p == p && c->s0 == s0 && c->s1 == s1 && c->lo == lo && c->hi == hi && \
         c->K == K && c->gen == gen; \
  if (*hit) return c->buf; \
  if (need > ((size_t)4 << 20) / sizeof(T)) return 0; \
  if (c->cap < need) { \
    void *q = 0; \
    if (posix_memalign(&q, 64, need * sizeof(T))) return 0; \
    free(c->buf); c->buf = (T *)q; c->cap = need; \
  } \
  c->p = p; c->s0 = s0; c->s1 = s1; c->lo = lo; c->hi = hi; c->K = K; c->gen = gen; \
  return c->buf; \
} \
static void nj_tile_##SUF(int64_t m0, int64_t m1, int64_t n0, int64_t n1, int64_t K, const T *A, \
                          int64_t sam, int64_t sak, const T *B, int64_t sbk, int64_t sbn, T *C, \
                          int64_t ldc, uint64_t gen) { \
  enum { NR = NJ_NR_##SUF }; \
  void *bpv, *apv; nj_pack_bufs(&bpv, &apv); \
  T *bp = (T *)bpv, *ap = (T *)apv; \
  int64_t nc = n1 - n0, mc = m1 - m0; \
  if (K == 0) { for (int64_t i = m0; i < m1; i++) for (int64_t j = n0; j < n1; j++) C[i * ldc + j] = 0; return; } \
  int64_t mpad = (mc + NJ_MR - 1) / NJ_MR * NJ_MR, npad = (nc + NR - 1) / NR * NR; \
  int ahit = 0, bhit = 0; \
  T *aall = nj_pk_get_##SUF(&nj_pka_##SUF, A, sam, sak, m0, m1, K, gen, (size_t)(mpad * K), &ahit); \
  T *ball = nj_pk_get_##SUF(&nj_pkb_##SUF, B, sbk, sbn, n0, n1, K, gen, (size_t)(npad * K), &bhit); \
  for (int64_t k0 = 0; k0 < K; k0 += NJ_KC) { \
    int64_t kc = K - k0 < NJ_KC ? K - k0 : NJ_KC; \
    if (ball) bp = ball + k0 * npad; \
    if (aall) ap = aall + k0 * mpad; \
    if (!bhit) for (int64_t j = 0; j < nc; j += NR) { \
      T *dst = bp + j * kc; \
      int64_t w = nc - j < NR ? nc - j : NR; \
      if (sbn == 1 && w == NR) { \
        for (int64_t k = 0; k < kc; k++) memcpy(dst + k * NR, B + (k0 + k) * sbk + n0 + j, NR * sizeof(T)); \
      } else if (sbk == 1) { /* B transposed: read along k (contiguous) */ \
        for (int jj = 0; jj < NR; jj++) { \
          if (jj < w) { const T *src = B + k0 + (n0 + j + jj) * sbn; \
            for (int64_t k = 0; k < kc; k++) dst[k * NR + jj] = src[k]; } \
          else for (int64_t k = 0; k < kc; k++) dst[k * NR + jj] = (T)0; \
        } \
      } else { \
        for (int64_t k = 0; k < kc; k++) for (int jj = 0; jj < NR; jj++) \
          dst[k * NR + jj] = jj < w ? B[(k0 + k) * sbk + (n0 + j + jj) * sbn] : (T)0; \
      } \
    } \
    if (!ahit) for (int64_t i = 0; i < mc; i += NJ_MR) { \
      T *dst = ap + i * kc; \
      int64_t h = mc - i < NJ_MR ? mc - i : NJ_MR; \
      if (sak == 1) { /* rows of A are contiguous along k */ \
        for (int r = 0; r < NJ_MR; r++) { \
          if (r < h) { const T *src = A + (m0 + i + r) * sam + k0; \
            for (int64_t k = 0; k < kc; k++) dst[k * NJ_MR + r] = src[k]; } \
          else for (int64_t k = 0; k < kc; k++) dst[k * NJ_MR + r] = (T)0; \
        } \
      } else { \
        for (int64_t k = 0; k < kc; k++) for (int r = 0; r < NJ_MR; r++) \
          dst[k * NJ_MR + r] = r < h ? A[(m0 + i + r) * sam + (k0 + k) * sak] : (T)0; \
      } \
    } \
    for (int64_t j = 0; j < nc; j += NR) \
      for (int64_t i = 0; i < mc; i += NJ_MR) \
        nj_micro_##SUF(kc, ap + i * kc, bp + j * kc, C + (m0 + i) * ldc + n0 + j, ldc, \
                       mc - i < NJ_MR ? (int)(mc - i) : NJ_MR, nc - j < NR ? (int)(nc - j) : NR, \
                       k0 == 0); \
  } \
} \
typedef struct { int64_t M, N, K, sam, sak, sbk, sbn, ldc, mb, nb, ntm; const T *A, *B; T *C; \
                 uint64_t gen; } nj_gctx_##SUF; \
static void nj_gchunk_##SUF(void *p, int64_t lo, int64_t hi) { \
  nj_gctx_##SUF *g = (nj_gctx_##SUF *)p; \
  for (int64_t t = lo; t < hi; t++) { \
    int64_t ti = t % g->ntm, tj = t / g->ntm; \
    int64_t m0 = ti * g->mb, n0 = tj * g->nb; \
    int64_t m1 = m0 + g->mb < g->M ? m0 + g->mb : g->M, n1 = n0 + g->nb < g->N ? n0 + g->nb : g->N; \
    nj_tile_##SUF(m0, m1, n0, n1, g->K, g->A, g->sam, g->sak, g->B, g->sbk, g->sbn, g->C, g->ldc, \
                  g->gen); \
  } \
} \
/* small products (loop bodies: 8x64 @ 64x64): no packing. B is read by rows (a transposed \
   B is first transposed into a thread-local buffer); 4 rows x 4 vectors of C stay in \
   registers over K. */ \
__attribute__((optimize("fp-contract=fast"))) \
static void nj_small_rows_##SUF(int64_t M, int64_t N, int64_t K, const T *restrict A, int64_t sam, \
                                int64_t sak, const T *restrict B, int64_t sbk, T *restrict C, \
                                int64_t ldc) { \
  enum { L = NJ_L_##SUF, W = 4 * NJ_L_##SUF }; \
  int64_t n0 = 0; \
  for (; n0 + W <= N; n0 += W) { \
    int64_t i = 0; \
    for (; i + 4 <= M; i += 4) { \
      nj_v_##SUF acc[4][4]; \
      for (int r = 0; r < 4; r++) for (int v = 0; v < 4; v++) acc[r][v] = (nj_v_##SUF){0}; \
      for (int64_t k = 0; k < K; k++) { \
        nj_v_##SUF b[4]; \
        for (int v = 0; v < 4; v++) memcpy(&b[v], B + k * sbk + n0 + v * L, NJ_VB); \
        for (int r = 0; r < 4; r++) { \
          T a = A[(i + r) * sam + k * sak]; \
          for (int v = 0; v < 4; v++) acc[r][v] += a * b[v]; \
        } \
      } \
      for (int r = 0; r < 4; r++) for (int v = 0; v < 4; v++) \
        memcpy(C + (i + r) * ldc + n0 + v * L, &acc[r][v], NJ_VB); \
    } \
    for (; i < M; i++) { \
      nj_v_##SUF acc[4]; \
      for (int v = 0; v < 4; v++) acc[v] = (nj_v_##SUF){0}; \
      for (int64_t k = 0; k < K; k++) { \
        T a = A[i * sam + k * sak]; \
        for (int v = 0; v < 4; v++) { nj_v_##SUF b; memcpy(&b, B + k * sbk + n0 + v * L, NJ_VB); acc[v] += a * b; } \
      } \
      for (int v = 0; v < 4; v++) memcpy(C + i * ldc + n0 + v * L, &acc[v], NJ_VB); \
    } \
  } \
  if (n0 < N) { \
    for (int64_t i = 0; i < M; i++) { \
      T *restrict c = C + i * ldc; \
      for (int64_t n = n0; n < N; n++) c[n] = 0; \
      for (int64_t k = 0; k < K; k++) { \
        T a = A[i * sam + k * sak]; \
        const T *restrict b = B + k * sbk; \
        for (int64_t n = n0; n < N; n++) c[n] += a * b[n]; \
      } \
    } \
  } \
} \
static __thread T *nj_small_bt_##SUF; \
static void nj_small_bt_rows_##SUF(int64_t M, int64_t N, int64_t K, const T *A, int64_t sam, \
                                   int64_t sak, const T *B, int64_t sbn, T *C, int64_t ldc) { \
  if (!nj_small_bt_##SUF && posix_memalign((void **)&nj_small_bt_##SUF, 64, 65536 * sizeof(T))) \
    nj_small_bt_##SUF = 0; \
  T *bt = nj_small_bt_##SUF; \
  if (!bt) { for (int64_t i = 0; i < M; i++) for (int64_t n = 0; n < N; n++) { \
      T s = 0; for (int64_t k = 0; k < K; k++) s += A[i * sam + k * sak] * B[k + n * sbn]; \
      C[i * ldc + n] = s; } return; } \
  for (int64_t n0 = 0; n0 < N; n0 += 16) \
    for (int64_t k0 = 0; k0 < K; k0 += 16) \
      for (int64_t n = n0; n < N && n < n0 + 16; n++) \
        for (int64_t k = k0; k < K && k < k0 + 16; k++) bt[k * N + n] = B[k + n * sbn]; \
  nj_small_rows_##SUF(M, N, K, A, sam, sak, bt, N, C, ldc); \
} \
NJ_EXPORT void nj_gemm_##SUF(int64_t M, int64_t N, int64_t K, const T *A, int64_t sam, int64_t sak, \
                             const T *B, int64_t sbk, int64_t sbn, T *C, int64_t ldc) { \
  if (M == 0 || N == 0) return; \
  if ((double)M * N * K <= 65536.0 && M <= 32) { \
    if (sbn == 1) { nj_small_rows_##SUF(M, N, K, A, sam, sak, B, sbk, C, ldc); return; } \
    if (sbk == 1 && (double)N * K <= 65536.0) { \
      nj_small_bt_rows_##SUF(M, N, K, A, sam, sak, B, sbn, C, ldc); return; } \
  } \
  nj_gctx_##SUF g = {M, N, K, sam, sak, sbk, sbn, ldc, NJ_MC, NJ_NC, 0, A, B, C, \
                     atomic_fetch_add_explicit(&nj_gemm_gen, 1, memory_order_relaxed) + 1}; \
  int nt = nj_nthreads(); \
  double work = (double)M * N * (K ? K : 1); \
  if (nt > 1 && work >= 4e6) { \
    /* enough tiles for the pool: shrink the column blocks (multiples of NR) if needed */ \
    while (g.nb > NJ_NR_##SUF && ((M + g.mb - 1) / g.mb) * ((N + g.nb - 1) / g.nb) < 4 * nt) \
      g.nb /= 2; \
  } \
  g.ntm = (M + g.mb - 1) / g.mb; \
  int64_t tiles = g.ntm * ((N + g.nb - 1) / g.nb); \
  if (nt > 1 && work >= 4e6 && tiles > 1) nj_parallel(nj_gchunk_##SUF, &g, tiles, tiles); \
  else nj_gchunk_##SUF(&g, 0, tiles); \
}
NJ_GEMM(float, f32)
NJ_GEMM(double, f64)

"""

HEADER = r"""
typedef void (*nj_chunk_fn)(void *ctx, int64_t lo, int64_t hi);
extern void nj_parallel(nj_chunk_fn fn, void *ctx, int64_t n, int64_t chunks);
extern int nj_nthreads(void);
extern void nj_gemm_f32(int64_t M, int64_t N, int64_t K, const float *A, int64_t sam,
                        int64_t sak, const float *B, int64_t sbk, int64_t sbn, float *C,
                        int64_t ldc);
extern void nj_gemm_f64(int64_t M, int64_t N, int64_t K, const double *A, int64_t sam,
                        int64_t sak, const double *B, int64_t sbk, int64_t sbn, double *C,
                        int64_t ldc);
"""

_lib = None
_lock = threading.Lock()


def _parts():
  """SOURCE as two translation units for a parallel build: the pool and the float32 GEMM;
  the float64 GEMM (each GEMM is ~half of the library's compile time)."""
  head = SOURCE[:SOURCE.index("static int nj_nt = 0;")]
  gemm = SOURCE[SOURCE.index("/* ---- GEMM:"):]
  assert "NJ_GEMM(float, f32)\n" in gemm and "NJ_GEMM(double, f64)\n" in gemm
  a = SOURCE.replace("NJ_GEMM(double, f64)\n", "")
  b = (head + "extern void nj_parallel(nj_chunk_fn fn, void *ctx, int64_t n, int64_t chunks);\n"
       "extern int nj_nthreads(void);\n" + gemm.replace("NJ_GEMM(float, f32)\n", ""))
  return [a, b]


_quiesce = None


def quiesce_fn():
  """The run-time library's nj_quiesce (a ctypes function), once it is loaded."""
  global _quiesce
  if _quiesce is None and _lib is not None:
    import ctypes
    f = _lib.nj_quiesce
    f.argtypes, f.restype = (), None
    _quiesce = f
  return _quiesce


def ensure(tc):
  """Load the runtime (compiling it once per toolchain) into the global symbol scope."""
  global _lib
  if _lib is not None:
    return _lib
  with _lock:
    if _lib is None:
      from numjax._src.compiler.native import loader
      _lib = loader.load(SOURCE, tc, mode=os.RTLD_NOW | os.RTLD_GLOBAL, parts=_parts())
  return _lib
