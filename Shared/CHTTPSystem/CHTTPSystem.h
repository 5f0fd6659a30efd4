// Linux system headers that Glibc's Swift module map does not expose.
// Header-only: everything here is provided by libc, nothing is compiled.
#ifndef CHTTPSYSTEM_H
#define CHTTPSYSTEM_H

#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <netinet/tcp.h>
#include <sys/prctl.h>

/// Names the calling thread (visible in top/gdb); prctl is variadic, so Swift needs this wrapper.
static inline int chttp_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0, 0, 0);
}

#endif
