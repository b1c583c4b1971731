/* The commit-msg checker: Conventional Commits 1.0, rule by rule, on
 * messages as git leaves them in COMMIT_EDITMSG (comments, scissors). */
#include <stdio.h>
#include <string.h>

#include "gates/commit-msg.h"
#include "lib/buf.h"
#include "test.h"

/* Runs the checker and renders its findings as "CODE@line:col ..." (one
 * space between), so a case reads as one string. */
static char *verdict(const char *msg, const struct commit_msg_opts *o)
{
	static const struct commit_msg_opts none = { 0 };
	struct findings fs = { 0 };
	struct buf b = BUF_INIT;
	size_t n = commit_msg_check(msg, strlen(msg), o ? o : &none, "MSG", &fs);

	if (n != fs.n)
		return strdup("count mismatch");
	for (size_t i = 0; i < fs.n; i++) {
		if (strcmp(fs.v[i].path, "MSG") != 0 || fs.v[i].message[0] == '\0' ||
		    strcmp(fs.v[i].severity, "error") != 0)
			buf_addstr(&b, "BAD-FINDING ");
		buf_addf(&b, "%s%s@%d:%d", i ? " " : "", fs.v[i].code, fs.v[i].line, fs.v[i].col);
	}
	findings_release(&fs);
	return buf_detach(&b, NULL);
}

struct tcase {
	const char	*msg;
	const char	*want;	/* "" passes */
};

static int run_cases(const struct tcase *t, size_t n, const struct commit_msg_opts *o)
{
	for (size_t i = 0; i < n; i++) {
		char *got = verdict(t[i].msg, o);

		if (strcmp(got, t[i].want) != 0) {
			fprintf(stderr, "message:\n%s\n---\nwant [%s]\ngot  [%s]\n", t[i].msg,
			    t[i].want, got);
			free(got);
			return 1;
		}
		free(got);
	}
	return 0;
}

#define RUN(cases, o) ASSERT_OK(run_cases(cases, sizeof(cases) / sizeof(*cases), o))

/* The specification's own examples, and the ordinary shapes. */
TEST_IMPL(commit_msg_valid)
{
	static const struct tcase cases[] = {
		{ "feat: allow provided config object to extend other configs\n\n"
		  "BREAKING CHANGE: `extends` key in config file is now used for extending "
		  "other config files\n", "" },
		{ "feat!: send an email to the customer when a product is shipped\n", "" },
		{ "feat(api)!: send an email to the customer when a product is shipped\n", "" },
		{ "chore!: drop support for Node 6\n\nBREAKING CHANGE: use JavaScript features "
		  "not available in Node 6.\n", "" },
		{ "docs: correct spelling of CHANGELOG\n", "" },
		{ "feat(lang): add Polish language\n", "" },
		{ "fix: prevent racing of requests\n\nIntroduce a request id and a reference to "
		  "latest request. Dismiss\nincoming responses other than from latest request.\n\n"
		  "Remove timeouts which were used to mitigate the racing issue but are\n"
		  "obsolete now.\n\nReviewed-by: Z\nRefs: #123\n", "" },
		{ "fix: x", "" },				/* no final newline */
		{ "FEAT: shout\n", "" },			/* rule 15: any case */
		{ "Fix(Parser): mixed case\n", "" },
		{ "feat(ui/button,core): scope with punctuation\n", "" },
		{ "build-system: a type with a dash\n", "" },
		{ "fix: footer by hash\n\nCloses #42\n", "" },
		{ "fix: value goes on\n\nBREAKING CHANGE: the value of a footer\n"
		  "may span lines (rule 10)\nAcked-by: A\n", "" },
		{ "fix: BREAKING-CHANGE synonym\n\nBREAKING-CHANGE: also fine (rule 16)\n", "" },
		{ "fix: body with a colon\n\nNote that: this line is body text.\n", "" },
		{ "fix: unicode ✓ in the description\n", "" },
		{ "fix: x\n\nbody\n\nSigned-off-by: A U Thor <a@example.com>\n", "" },
		{ "\n\n  \nfeat: leading blank lines go\n\n\n\nbody after folded blanks\n\n\n", "" },
		{ "feat: trailing spaces go   \n  \n", "" },
		{ "feat: crlf\r\n\r\nbody\r\n", "" },
	};

	RUN(cases, NULL);
	return 0;
}

/* Rules 1, 4, 5 and 13: the header. */
TEST_IMPL(commit_msg_header_rules)
{
	static const struct tcase cases[] = {
		{ "add a feature\n", "CC1@1:4" },		/* no ':' after a word */
		{ "Update README.md\n", "CC1@1:7" },
		{ ": no type\n", "CC1@1:1" },
		{ "(scope): no type\n", "CC1@1:1" },
		{ "1fix: digit first\n", "CC1@1:1" },
		{ "feat:no space\n", "CC1@1:6" },
		{ "feat : space before colon\n", "CC1@1:5" },
		{ "feat(x) : space before colon\n", "CC1@1:8" },
		{ "feat;typo\n", "CC1@1:5" },
		{ "feat:\n", "CC5@1:6" },
		{ "feat: \n", "CC5@1:6" },			/* trailing blank cut: empty */
		{ "feat:  two spaces\n", "CC5@1:7" },
		{ "feat:\tx\n", "CC1@1:6" },
		{ "feat(): empty scope\n", "CC4@1:5" },
		{ "feat(a b): spaced scope\n", "CC4@1:5" },
		{ "feat(a: unclosed\n", "CC4@1:5" },
		{ "feat(a(b)): nested\n", "CC4@1:5" },
		{ "feat(a)(b): two scopes\n", "CC4@1:8" },
		{ "feat!(a): bang first\n", "CC13@1:5" },
		{ "feat!!: two bangs\n", "CC1@1:6" },
		{ "", "CC1@1:1" },				/* empty */
		{ "# only a comment\n\n", "CC1@1:1" },
	};

	RUN(cases, NULL);
	return 0;
}

/* Rule 6 (blank line before the body), rules 8-12, 15, 16 (footers). */
TEST_IMPL(commit_msg_body_and_footer_rules)
{
	static const struct tcase cases[] = {
		{ "feat: x\nbody right under\n", "CC6@2:1" },
		{ "feat: x\nBREAKING CHANGE: y\n", "CC6@2:1" },
		{ "feat: x\n\nbody\n\nReviewed by: Z\n", "" },	/* no footer paragraph */
		{ "feat: x\n\nbody\n\nRefs: #1\nReviewed by: Z\n", "CC9@6:1" },
		{ "feat: x\n\nRefs:\n", "CC8@3:6" },
		{ "feat: x\n\nRefs: #1\nFixes:\n", "CC8@4:7" },
		{ "feat: x\n\nRefs: #1 and\nsee the notes: they go on\n", "" },	/* rule 10 */
		{ "feat: x\n\nRefs: #1\nAcked by: A\nCo authored by: B\n", "CC9@4:1 CC9@5:1" },
		{ "feat: x\n\nbreaking change: lower\n", "CC15@3:1" },
		{ "feat: x\n\nBreaking-Change: mixed\n", "CC15@3:1" },
		{ "feat: x\n\nRefs: #1\nbreaking change: lower in footers\n", "CC15@4:1" },
		{ "feat: x\n\nBREAKING CHANGE:\n", "CC12@3:16" },
		{ "feat: x\n\nBREAKING CHANGE #12\n", "CC12@3:16" },
		{ "feat: x\n\nRefs: #1\nBREAKING CHANGE:no space\n", "CC12@4:16" },
		{ "feat: x\n\nBREAKING CHANGE: in the body\n\nmore body after it\n", "CC11@3:1" },
		{ "feat: x\n\nBREAKING-CHANGE: fine\nBREAKING CHANGE: also\n", "" },
	};

	RUN(cases, NULL);
	return 0;
}

/* git's comment lines and scissors are not part of the message. */
TEST_IMPL(commit_msg_git_cleanup)
{
	static const struct tcase cases[] = {
		{ "feat: x\n# Please enter the commit message for your changes. Lines starting\n"
		  "# with '#' will be ignored, and an empty message aborts the commit.\n#\n"
		  "# On branch main\n", "" },
		{ "# comment first\nfeat: x\n\nbody\n", "" },
		{ "feat: x\n# comment between\nbody under the comment\n", "CC6@3:1" },
		{ "feat: x\n\nbody\n# ------------------------ >8 ------------------------\n"
		  "# Do not modify or remove the line above.\ndiff --git a/x b/x\nnot: a footer\n",
		  "" },
		{ "# ------------------------ >8 ------------------------\nfeat: x\n",
		  "CC1@1:1" },
		{ "bad subject\n# ------------------------ >8 ------------------------\n",
		  "CC1@1:4" },
	};
	struct commit_msg_opts semi = { .comment_char = ';' };
	static const struct tcase semi_cases[] = {
		{ "; a comment\nfeat: x\n; another\n", "" },
		{ "feat: x\n\n# kept: not a comment here\n", "" },
		{ "feat: x\n; ------------------------ >8 ------------------------\nbad\nbad\n",
		  "" },
	};

	RUN(cases, NULL);
	RUN(semi_cases, &semi);
	return 0;
}

/* Messages git writes itself. */
TEST_IMPL(commit_msg_git_written)
{
	static const struct tcase cases[] = {
		{ "Merge branch 'topic'\n", "" },
		{ "Merge branch 'topic' into main\n\n# Conflicts:\n#\ta.txt\n", "" },
		{ "Merge remote-tracking branch 'origin/main'\n", "" },
		{ "Merge tag 'v1.0'\n", "" },
		{ "Merge pull request #7 from a/b\n\nfeat: thing\n", "" },
		{ "Revert \"feat: add x\"\n\nThis reverts commit "
		  "0123456789abcdef0123456789abcdef01234567.\n", "" },
		{ "Revert \"Revert \"feat: add x\"\"\n\nThis reverts commit 0123.\n", "" },
		{ "Reapply \"feat: add x\"\n\nThis reverts commit 0123.\n", "" },
		{ "fixup! feat: add x\n", "" },
		{ "fixup! fixup! feat: add x\n", "" },
		{ "squash! fix(a): y\n\nanything in a squash body\nno blank: rules\n", "" },
		{ "fixup! Merge branch 'topic'\n", "" },
		{ "fixup! add x\n", "CC1@1:11" },		/* judged on the real subject */
		{ "squash! feat:x\n", "CC1@1:14" },
		{ "amend! feat: old subject\n\nfeat: the new subject\n\nbody\n", "" },
		{ "amend! feat: old subject\n\nnew subject without type\n", "CC1@3:4" },
		{ "amend! feat: old\n\nfeat: new\nbody right under\n", "CC6@4:1" },
		{ "amend! fixup! feat: x\n\nfixup! feat: x\n", "" },	/* reword of a fixup */
		{ "amend! feat: x\n\nMerge branch 'a'\n", "" },
		{ "Merge stuff\n", "CC1@1:6" },			/* not git's wording */
		{ "Revert something\n", "CC1@1:7" },
	};

	RUN(cases, NULL);
	return 0;
}

/* The gate's options: types, scopes, max_subject. */
TEST_IMPL(commit_msg_options)
{
	struct strvec types = STRVEC_INIT, scopes = STRVEC_INIT;
	struct commit_msg_opts o = { .types = &types, .scopes = &scopes, .max_subject = 20 };
	static const struct tcase cases[] = {
		{ "feat: ok\n", "" },
		{ "Fix(Core): ok\n", "" },		/* rule 15: any case */
		{ "feat!: ok\n", "" },
		{ "wip: not allowed\n", "CC-types@1:1" },
		{ "feat(web): unknown\n", "CC-scopes@1:6" },
		{ "feat: twenty-one chars\n", "CC-max-subject@1:21" },
		{ "feat: 123456789012\n", "" },				/* 18 */
		{ "feat: ✓✓✓✓✓✓✓✓✓✓✓✓✓✓\n", "" },		/* 20 characters */
		{ "feat: ✓✓✓✓✓✓✓✓✓✓✓✓✓✓✓\n", "CC-max-subject@1:49" },
		{ "chore(web): both wrong and a very long one\n",
		  "CC-types@1:1 CC-scopes@1:7 CC-max-subject@1:21" },
		{ "fixup! feat: 123456789012\n", "" },	/* counted on the real subject */
	};

	strvec_push(&types, "feat");
	strvec_push(&types, "fix");
	strvec_push(&scopes, "core");
	strvec_push(&scopes, "cli");
	RUN(cases, &o);
	strvec_clear(&types);
	strvec_clear(&scopes);
	return 0;
}

/* Findings carry a message naming the rule. */
TEST_IMPL(commit_msg_messages_name_the_rule)
{
	struct commit_msg_opts o = { 0 };
	struct findings fs = { 0 };
	const char *msg = "feat: x\nbody\n";

	ASSERT_EQ(commit_msg_check(msg, strlen(msg), &o, "COMMIT_EDITMSG", &fs), 1);
	ASSERT_STR_EQ(fs.v[0].path, "COMMIT_EDITMSG");
	ASSERT_STR_EQ(fs.v[0].code, "CC6");
	ASSERT_CONTAINS(fs.v[0].message, "rule 6");
	ASSERT_CONTAINS(fs.v[0].message, "blank line");
	findings_release(&fs);
	return 0;
}
