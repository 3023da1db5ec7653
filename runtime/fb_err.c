#include "fb_err.h"

const char *fb_strerror(enum fb_err e)
{
	switch (e) {
	case FB_OK: return "ok";
	case FB_E_NOMEM: return "out of memory";
	case FB_E_TOO_LARGE: return "too large";
	case FB_E_INVALID: return "invalid input";
	case FB_E_PARSE: return "parse error";
	case FB_E_IO: return "i/o error";
	case FB_E_HTTP: return "unexpected http status";
	case FB_E_TIMEOUT: return "timed out";
	case FB_E_AWS: return "aws api error";
	case FB_E_AUTH: return "authentication error";
	case FB_E_NOTFOUND: return "not found";
	case FB_E_CONFIG: return "configuration error";
	case FB_E_STATE: return "refused in this state";
	}
	return "unknown error";
}
