/* The names of cf_status values. */
#include "cf.h"

const char *cf_strerror(cf_status status)
{
	switch (status) {
	case CF_OK: return "ok";
	case CF_TIMEOUT: return "timed out";
	case CF_CANCELLED: return "cancelled";
	case CF_SHUTDOWN: return "executor is shut down";
	case CF_BROKEN: return "executor is broken";
	case CF_TASK_FAILED: return "task failed";
	case CF_INVALID_STATE: return "invalid state";
	case CF_NOMEM: return "out of memory";
	case CF_INVALID_ARGUMENT: return "invalid argument";
	case CF_BUFFER_TOO_SMALL: return "buffer too small";
	case CF_END: return "no more results";
	case CF_UNKNOWN_BACKEND: return "unknown backend";
	case CF_SYSTEM: return "system error";
	}
	return "unknown status";
}
