/* Helpers for the gate parser tests: run a parser over a fixture or a
 * string and check findings field by field. */
#ifndef WD_GATE_TEST_H
#define WD_GATE_TEST_H

#include "gates/gate.h"
#include "lib/buf.h"
#include "test.h"

/* Output with `text` as stdout (report == false) or as the report. */
static inline struct gate_output gt_output(const char *root, const char *text, size_t len,
    int exit_code, bool report)
{
	struct gate_output o = { 0 };

	o.root = root;
	o.exit_code = exit_code;
	if (report) {
		o.report = text;
		o.report_len = len;
	} else {
		o.out = text;
		o.out_len = len;
	}
	return o;
}

static inline void gt_read(struct buf *b, const char *path)
{
	if (buf_read_file(b, path, 0) != 0)
		FAIL_("cannot read fixture %s", path);
}

/* Checks one finding; pass NULL for path or code to require NULL. */
#define ASSERT_FINDING(f, p, l, c, cd, sev, msg) do { \
	const struct finding *f_ = (f); \
	if ((p) == NULL) ASSERT_NULL(f_->path); else ASSERT_STR_EQ(f_->path, (p)); \
	ASSERT_EQ(f_->line, (l)); \
	ASSERT_EQ(f_->col, (c)); \
	if ((cd) == NULL) ASSERT_NULL(f_->code); else ASSERT_STR_EQ(f_->code, (cd)); \
	ASSERT_STR_EQ(f_->severity, (sev)); \
	ASSERT_STR_EQ(f_->message, (msg)); \
} while (0)

#endif
