/* Error strings for project codes (WD_ERR_MAP) and negative errno values.
 * lib/ knows nothing of libuv: its own codes that are not errno values
 * (UV_EOF, UV_EAI_*) are named by the caller with uv_strerror. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "err.h"

const char *wd_strerror(int code)
{
	switch (code) {
#define XX(name, msg) case WD_E##name: return msg;
	WD_ERR_MAP(XX)
#undef XX
	}
	if (code == 0)
		return "success";
	if (code < 0 && code > -4096)
		return strerror(-code);
	return "unknown error";
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
