/* The Conventional Commits checker: a commit message is whatever the
 * committer (or a tool writing COMMIT_EDITMSG) put there. Judged once
 * with no options and once with types, scopes and a subject cap. */
#include "fuzz.h"
#include "gates/commit-msg.h"
#include "lib/strvec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct strvec types = STRVEC_INIT, scopes = STRVEC_INIT;
	struct commit_msg_opts plain = { 0 }, strict = { &types, &scopes, 50, ';' };
	struct findings f = { 0 };

	if (types.n == 0) {
		strvec_push(&types, "feat");
		strvec_push(&types, "fix");
		strvec_push(&scopes, "cli");
	}
	commit_msg_check((const char *)data, size, &plain, "COMMIT_EDITMSG", &f);
	findings_release(&f);
	commit_msg_check((const char *)data, size, &strict, "COMMIT_EDITMSG", &f);
	findings_release(&f);
	return 0;
}
