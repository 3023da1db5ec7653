/*
 * fb_err: the one error enum every runtime module returns.
 *
 * Library code never exits; it returns one of these and, where a human
 * message matters, fills a caller-provided err buffer (redis anet.c style).
 */
#ifndef FB_ERR_H
#define FB_ERR_H

enum fb_err {
	FB_OK = 0,
	FB_E_NOMEM,      /* allocation failed */
	FB_E_TOO_LARGE,  /* a hard cap was hit (buffer, response, event) */
	FB_E_INVALID,    /* bad argument or bad input (malformed event) */
	FB_E_PARSE,      /* could not parse JSON/XML/headers */
	FB_E_IO,         /* transport failure (connect, reset, read) */
	FB_E_HTTP,       /* unexpected HTTP status from a non-AWS peer */
	FB_E_TIMEOUT,    /* a timeout or the invocation deadline was reached */
	FB_E_AWS,        /* an AWS API answered with an error (see struct aws_error) */
	FB_E_AUTH,       /* credentials missing or rejected */
	FB_E_NOTFOUND,   /* the thing asked for does not exist */
	FB_E_CONFIG,     /* environment/configuration is wrong */
	FB_E_STATE       /* a state we refuse to act on (e.g. would make things worse) */
};

/* Returns a static, lowercase description; never NULL. */
const char *fb_strerror(enum fb_err e);

#endif
