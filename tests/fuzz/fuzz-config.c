/* The config loader: watch.config.json as a user (or a checkout of a
 * hostile repository) writes it, errors with positions included. */
#include "config/config.h"
#include "fuzz.h"
#include "lib/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config cfg;
	struct config_err err;

	if (config_parse("watch.config.json", (const char *)data, size, &cfg, &err) == 0) {
		cJSON *j = config_to_json(&cfg);

		cJSON_Delete(j);
		config_release(&cfg);
	} else {
		struct buf b = BUF_INIT;

		config_err_format(&err, &b);
		buf_release(&b);
	}
	return 0;
}
