/* Error strings for project codes, falling back to libuv's and errno's. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <uv.h>

#include "err.h"

const char *wd_strerror(int code)
{
	switch (code) {
#define XX(name, msg) case WD_E##name: return msg;
	WD_ERR_MAP(XX)
#undef XX
	}
	if (code < 0 && code > -4096)
		return strerror(-code);
	return uv_strerror(code);
}

int wd_err_set(struct wd_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return code;
}
