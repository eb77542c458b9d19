/* threadpool.c - the persistent compute-thread pool: spin-then-sleep workers woken by a generation counter. */
#include "threadpool.h"

#include <stdlib.h>

#include "util.h"

#if defined(__EMSCRIPTEN__) && !defined(__EMSCRIPTEN_PTHREADS__)
#define HTP_THREADS 0 /* wasm without -pthread: no threads to start */
#else
#define HTP_THREADS 1
#endif

#if HTP_THREADS
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>
#ifdef __EMSCRIPTEN__
#include <emscripten/threading.h>
#endif
#endif

enum { HTP_MAX_THREADS = 64 };

int htp_cpu_count(void) {
#if !HTP_THREADS
    return 1;
#elif defined(__EMSCRIPTEN__)
    int n = emscripten_num_logical_cores();
    return n < 1 ? 1 : n > 8 ? 8 : n; /* tools/wasm/build.sh starts at most 8 pthread workers */
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > HTP_MAX_THREADS ? HTP_MAX_THREADS : (int)n;
#endif
}

#if !HTP_THREADS

struct htp_pool {
    int n;
};

htp_pool *htp_new(int n_threads) {
    (void)n_threads;
    htp_pool *p = calloc(1, sizeof *p);
    if (p) p->n = 1;
    return p;
}
void htp_free(htp_pool *p) { free(p); }
int htp_threads(const htp_pool *p) { return p ? p->n : 1; }
void htp_run(htp_pool *p, htp_fn fn, void *arg) {
    (void)p;
    fn(arg, 0, 1);
}

#else

/* How long an idle worker spins before it sleeps: long enough to cover the gaps between the
 * runs of one forward pass (norms, residual adds on the calling thread), short enough that an
 * idle pool stops burning a core soon after the last token. */
#define HTP_SPIN_SECONDS 0.002

struct htp_pool {
    int n;                   /* threads in all, caller included */
    int n_started;           /* workers actually running (n - 1 unless pthread_create failed) */
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    htp_fn fn;               /* the current run; written before gen is bumped */
    void *arg;
    atomic_uint gen;         /* bumped once per run (and once at shutdown) */
    atomic_int pending;      /* workers that have not finished the current run */
    atomic_int sleepers;     /* workers inside (or about to enter) cond_wait */
    atomic_bool stop;
};

typedef struct {
    htp_pool *p;
    int ith;
} worker_arg;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static void *worker_main(void *v) {
    worker_arg wa = *(worker_arg *)v;
    free(v);
    htp_pool *p = wa.p;
    unsigned seen = 0; /* gen starts at 0: a run posted before this thread got here is still seen */
    for (;;) {
        /* spin, then sleep, until the generation moves */
        double t0 = 0;
        for (unsigned spins = 0; atomic_load_explicit(&p->gen, memory_order_acquire) == seen; spins++) {
            cpu_relax();
            if ((spins & 1023) != 1023) continue;
            sched_yield(); /* more threads than free cores: let the others run */
            double now = hu_now();
            if (t0 == 0) {
                t0 = now;
            } else if (now - t0 > HTP_SPIN_SECONDS) {
                pthread_mutex_lock(&p->mu);
                atomic_fetch_add(&p->sleepers, 1);
                while (atomic_load(&p->gen) == seen) pthread_cond_wait(&p->cv, &p->mu);
                atomic_fetch_sub(&p->sleepers, 1);
                pthread_mutex_unlock(&p->mu);
                break;
            }
        }
        seen = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (atomic_load(&p->stop)) return NULL;
        p->fn(p->arg, wa.ith, p->n);
        atomic_fetch_sub_explicit(&p->pending, 1, memory_order_release);
    }
}

htp_pool *htp_new(int n_threads) {
    if (n_threads <= 0) n_threads = htp_cpu_count();
    if (n_threads > HTP_MAX_THREADS) n_threads = HTP_MAX_THREADS;
    htp_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->n = 1;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, false);
    if (pthread_mutex_init(&p->mu, NULL) != 0) {
        free(p);
        return NULL;
    }
    if (pthread_cond_init(&p->cv, NULL) != 0) {
        pthread_mutex_destroy(&p->mu);
        free(p);
        return NULL;
    }
    if (n_threads > 1 && (p->tids = calloc((size_t)n_threads - 1, sizeof *p->tids))) {
        /* p->n stays 1 while workers start: they read it only when a run begins */
        for (int i = 1; i < n_threads; i++) {
            worker_arg *wa = malloc(sizeof *wa);
            if (!wa) break;
            *wa = (worker_arg){p, i};
            if (pthread_create(&p->tids[i - 1], NULL, worker_main, wa) != 0) {
                free(wa);
                break;
            }
            p->n_started++;
        }
        p->n = 1 + p->n_started;
    }
    return p;
}

void htp_free(htp_pool *p) {
    if (!p) return;
    if (p->n_started > 0) {
        atomic_store(&p->stop, true);
        pthread_mutex_lock(&p->mu);
        atomic_fetch_add(&p->gen, 1);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        for (int i = 0; i < p->n_started; i++) pthread_join(p->tids[i], NULL);
    }
    free(p->tids);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int htp_threads(const htp_pool *p) { return p ? p->n : 1; }

void htp_run(htp_pool *p, htp_fn fn, void *arg) {
    if (!p || p->n == 1) {
        fn(arg, 0, 1);
        return;
    }
    p->fn = fn;
    p->arg = arg;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    atomic_fetch_add(&p->gen, 1); /* seq_cst: ordered against the sleepers load below */
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
    }
    fn(arg, 0, p->n);
    for (unsigned spins = 1; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) {
        cpu_relax();
        if ((spins & 1023) == 0) sched_yield();
    }
}

#endif
