/* libcurl, loaded when the remote cache is first used rather than linked:
 * libcurl brings twenty shared libraries (TLS, HTTP/2, LDAP, IDN...) whose
 * loading doubled the start-up of every command, the pre-commit hook's
 * included, which never needs them without a remote cache. Include this
 * instead of <curl/curl.h>: the curl_* calls below then go through the
 * loaded library. Call curl_api_load first; nothing else may run before it
 * succeeded. */
#ifndef WD_CURLAPI_H
#define WD_CURLAPI_H

/* the type-checking macros would hide the calls from the names below */
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

struct curl_api {
	CURLcode		(*global_init)(long);
	CURL			*(*easy_init)(void);
	CURLcode		(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode		(*easy_getinfo)(CURL *, CURLINFO, ...);
	void			(*easy_cleanup)(CURL *);
	const char		*(*easy_strerror)(CURLcode);
	CURLM			*(*multi_init)(void);
	CURLMcode		(*multi_setopt)(CURLM *, CURLMoption, ...);
	CURLMcode		(*multi_add_handle)(CURLM *, CURL *);
	CURLMcode		(*multi_remove_handle)(CURLM *, CURL *);
	CURLMcode		(*multi_socket_action)(CURLM *, curl_socket_t, int, int *);
	CURLMsg			*(*multi_info_read)(CURLM *, int *);
	CURLMcode		(*multi_assign)(CURLM *, curl_socket_t, void *);
	CURLMcode		(*multi_cleanup)(CURLM *);
	struct curl_slist	*(*slist_append)(struct curl_slist *, const char *);
	void			(*slist_free_all)(struct curl_slist *);
	curl_version_info_data	*(*version_info)(CURLversion);
};

/* The loaded library; NULL until curl_api_load succeeded. */
extern const struct curl_api *curl_api_;

/* Loads libcurl.so.4 once (thread-unsafe: the loop thread) and runs
 * curl_global_init. 0, or -1 with *why a sentence naming the library. */
int curl_api_load(const char **why);

#ifndef WD_CURLAPI_IMPL
/* curl.h's own three-argument checks give way to the loaded functions */
#undef curl_easy_setopt
#undef curl_easy_getinfo
#undef curl_multi_setopt
#define curl_global_init	curl_api_->global_init
#define curl_easy_init		curl_api_->easy_init
#define curl_easy_setopt	curl_api_->easy_setopt
#define curl_easy_getinfo	curl_api_->easy_getinfo
#define curl_easy_cleanup	curl_api_->easy_cleanup
#define curl_easy_strerror	curl_api_->easy_strerror
#define curl_multi_init		curl_api_->multi_init
#define curl_multi_setopt	curl_api_->multi_setopt
#define curl_multi_add_handle	curl_api_->multi_add_handle
#define curl_multi_remove_handle curl_api_->multi_remove_handle
#define curl_multi_socket_action curl_api_->multi_socket_action
#define curl_multi_info_read	curl_api_->multi_info_read
#define curl_multi_assign	curl_api_->multi_assign
#define curl_multi_cleanup	curl_api_->multi_cleanup
#define curl_slist_append	curl_api_->slist_append
#define curl_slist_free_all	curl_api_->slist_free_all
#define curl_version_info	curl_api_->version_info
#endif

#endif
