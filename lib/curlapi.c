/* Loading libcurl on first use (see curlapi.h). */
#define WD_CURLAPI_IMPL
#include <dlfcn.h>
#include <stddef.h>

#include "curlapi.h"

#define LIBCURL "libcurl.so.4"

const struct curl_api *curl_api_;

int curl_api_load(const char **why)
{
	static struct curl_api api;
	static const char *failed;
	void *h;

	if (curl_api_)
		return 0;
	if (failed) {
		*why = failed;
		return -1;
	}
	if ((h = dlopen(LIBCURL, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		*why = failed = LIBCURL " cannot be loaded (Debian: apt-get install libcurl4)";
		return -1;
	}
	/* POSIX: a void * from dlsym converts to a function pointer */
#define SYM(field, name) \
	if ((*(void **)&api.field = dlsym(h, name)) == NULL) { \
		*why = failed = LIBCURL " lacks " name " (too old)"; \
		return -1; \
	}
	SYM(global_init, "curl_global_init")
	SYM(easy_init, "curl_easy_init")
	SYM(easy_setopt, "curl_easy_setopt")
	SYM(easy_getinfo, "curl_easy_getinfo")
	SYM(easy_cleanup, "curl_easy_cleanup")
	SYM(easy_strerror, "curl_easy_strerror")
	SYM(multi_init, "curl_multi_init")
	SYM(multi_setopt, "curl_multi_setopt")
	SYM(multi_add_handle, "curl_multi_add_handle")
	SYM(multi_remove_handle, "curl_multi_remove_handle")
	SYM(multi_socket_action, "curl_multi_socket_action")
	SYM(multi_info_read, "curl_multi_info_read")
	SYM(multi_assign, "curl_multi_assign")
	SYM(multi_cleanup, "curl_multi_cleanup")
	SYM(slist_append, "curl_slist_append")
	SYM(slist_free_all, "curl_slist_free_all")
	SYM(version_info, "curl_version_info")
#undef SYM
	if (api.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		*why = failed = LIBCURL ": curl_global_init failed";
		return -1;
	}
	curl_api_ = &api;
	return 0;
}
