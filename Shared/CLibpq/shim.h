#ifndef CLIBPQ_SHIM_H
#define CLIBPQ_SHIM_H

// The include path (/usr/include/postgresql on Debian) comes from `pkg-config libpq`.
#include <libpq-fe.h>

#endif
