/* librdkafka starts its threads and takes its locks through C11 <threads.h> (thrd_create,
 * mtx_lock, cnd_wait, ...). glibc implements those by calling its internal pthread functions,
 * which the thread sanitizer's interceptors never see: its threads would run unregistered (the
 * first instrumented Swift callback on one, the log or delivery-report callback, crashes inside
 * the sanitizer: SEGV in TraceSkipGap), and the hand-offs its locks order would be reported as
 * races. Preloaded by deploy/local/test-tsan.sh only, this routes each of them through the public
 * pthread function the sanitizer intercepts (glibc's mtx_t and cnd_t are pthread_mutex_t and
 * pthread_cond_t underneath). */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>

static int result(int rc) {
    switch (rc) {
    case 0: return thrd_success;
    case ETIMEDOUT: return thrd_timedout;
    case EBUSY: return thrd_busy;
    case ENOMEM: return thrd_nomem;
    default: return thrd_error;
    }
}

struct start { thrd_start_t func; void *arg; };

static void *trampoline(void *p) {
    struct start s = *(struct start *)p;
    free(p);
    return (void *)(intptr_t)s.func(s.arg);
}

int thrd_create(thrd_t *thread, thrd_start_t func, void *arg) {
    struct start *s = malloc(sizeof *s);
    if (s == NULL) return thrd_nomem;
    s->func = func;
    s->arg = arg;
    int rc = pthread_create((pthread_t *)thread, NULL, trampoline, s);
    if (rc != 0) free(s);
    return result(rc);
}

int thrd_join(thrd_t thread, int *res) {
    void *value = NULL;
    int rc = pthread_join((pthread_t)thread, &value);
    if (rc == 0 && res != NULL) *res = (int)(intptr_t)value;
    return result(rc);
}

int thrd_detach(thrd_t thread) { return result(pthread_detach((pthread_t)thread)); }

int mtx_init(mtx_t *mutex, int type) {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    if (type & mtx_recursive) pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init((pthread_mutex_t *)mutex, &attr);
    pthread_mutexattr_destroy(&attr);
    return result(rc);
}

void mtx_destroy(mtx_t *mutex) { pthread_mutex_destroy((pthread_mutex_t *)mutex); }
int mtx_lock(mtx_t *mutex) { return result(pthread_mutex_lock((pthread_mutex_t *)mutex)); }
int mtx_trylock(mtx_t *mutex) { return result(pthread_mutex_trylock((pthread_mutex_t *)mutex)); }
int mtx_unlock(mtx_t *mutex) { return result(pthread_mutex_unlock((pthread_mutex_t *)mutex)); }
int mtx_timedlock(mtx_t *restrict mutex, const struct timespec *restrict deadline) {
    return result(pthread_mutex_timedlock((pthread_mutex_t *)mutex, deadline));
}

int cnd_init(cnd_t *cond) { return result(pthread_cond_init((pthread_cond_t *)cond, NULL)); }
void cnd_destroy(cnd_t *cond) { pthread_cond_destroy((pthread_cond_t *)cond); }
int cnd_signal(cnd_t *cond) { return result(pthread_cond_signal((pthread_cond_t *)cond)); }
int cnd_broadcast(cnd_t *cond) { return result(pthread_cond_broadcast((pthread_cond_t *)cond)); }
int cnd_wait(cnd_t *cond, mtx_t *mutex) {
    return result(pthread_cond_wait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex));
}
int cnd_timedwait(cnd_t *restrict cond, mtx_t *restrict mutex, const struct timespec *restrict deadline) {
    return result(pthread_cond_timedwait((pthread_cond_t *)cond, (pthread_mutex_t *)mutex, deadline));
}
