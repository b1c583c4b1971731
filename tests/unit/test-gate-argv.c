/* argv building: "--" placement, dash-leading names, and PowerShell quoting
 * that keeps quotes, newlines and non-UTF-8 bytes of file names intact. */
#include "config/config.h"
#include "gate-test.h"
#include "gates/pwsh.h"
#include "lib/err.h"

extern const struct gate_ops gate_ruff, gate_ruff_format, gate_pssa, gate_pester;

static char *joined(const struct strvec *sv)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < sv->n; i++)
		buf_addf(&b, "%s%s", i ? "|" : "", sv->v[i]);
	return buf_detach(&b, NULL);
}

TEST_IMPL(argv_ruff)
{
	static const char *const files[] = { "a.py", "-x.py", "dir/--b.py" };
	struct config cfg;
	struct config_err err;
	struct strvec argv = STRVEC_INIT;
	const char *text = "{\"version\": 1, \"gates\": [{\"name\": \"r\", \"type\": \"ruff\", "
	    "\"include\": [\"**/*.py\"], \"args\": [\"--select\", \"F\"]}, {\"name\": \"f\", "
	    "\"type\": \"ruff-format\", \"include\": [\"*.py\"]}]}";
	char *s;

	ASSERT_OK(config_parse("watch.config.json", text, strlen(text), &cfg, &err));
	ASSERT_OK(cfg.gates[0].ops->argv(&cfg.gates[0], "/r", files, 3, NULL, &argv));
	s = joined(&argv);
	ASSERT_STR_EQ(s, "ruff|check|--output-format=json|--no-fix|--force-exclude|--select|F|--|"
	    "a.py|./-x.py|dir/--b.py");
	free(s);
	strvec_clear(&argv);
	ASSERT_OK(cfg.gates[1].ops->argv(&cfg.gates[1], "/r", files, 2, NULL, &argv));
	s = joined(&argv);
	ASSERT_STR_EQ(s, "ruff|format|--check|--force-exclude|--|a.py|./-x.py");
	free(s);
	strvec_clear(&argv);
	ASSERT_OK(gate_ruff.version_argv(&cfg.gates[0], &argv));
	s = joined(&argv);
	ASSERT_STR_EQ(s, "ruff|--version");
	free(s);
	strvec_clear(&argv);
	config_release(&cfg);
	return 0;
}

TEST_IMPL(argv_ruff_bad_args)
{
	struct config cfg;
	struct config_err err;
	const char *text = "{\"version\": 1, \"gates\": [{\"name\": \"r\", \"type\": \"ruff\", "
	    "\"include\": [\"*.py\"], \"args\": \"--select F\"}]}";

	ASSERT_EQ(config_parse("watch.config.json", text, strlen(text), &cfg, &err), WD_ECONFIG);
	ASSERT_STR_EQ(err.keypath, "gates[0].args");
	return 0;
}

static char *quoted(const char *s)
{
	struct buf b = BUF_INIT;

	pwsh_quote(&b, s);
	return buf_detach(&b, NULL);
}

TEST_IMPL(pwsh_quoting)
{
	char *q;

	q = quoted("plain.ps1");
	ASSERT_STR_EQ(q, "'plain.ps1'");
	free(q);
	q = quoted("it's.ps1");
	ASSERT_STR_EQ(q, "'it''s.ps1'");
	free(q);
	/* U+2018..U+201B end a PowerShell literal as well: doubled */
	q = quoted("a\xe2\x80\x98" "b\xe2\x80\x99" "c\xe2\x80\x9a" "d\xe2\x80\x9b" "e\xe2\x80\x9c");
	ASSERT_STR_EQ(q, "'a\xe2\x80\x98\xe2\x80\x98" "b\xe2\x80\x99\xe2\x80\x99"
	    "c\xe2\x80\x9a\xe2\x80\x9a" "d\xe2\x80\x9b\xe2\x80\x9b" "e\xe2\x80\x9c'");
	free(q);
	/* newlines, $(), backquotes, double quotes and invalid UTF-8 are inert */
	q = quoted("x\ny $(rm) `n \"q\" \xff\xe2\x80.ps1");
	ASSERT_STR_EQ(q, "'x\ny $(rm) `n \"q\" \xff\xe2\x80.ps1'");
	free(q);
	q = quoted("");
	ASSERT_STR_EQ(q, "''");
	free(q);
	return 0;
}

static struct gate pwsh_gate(const struct gate_ops *ops, const char *settings)
{
	struct gate g = { 0 };

	g.ops = ops;
	g.settings = (char *)settings;
	return g;
}

TEST_IMPL(argv_pssa_script)
{
	static const char *const files[] = { "a.ps1", "-d.ps1", "o'neil [1].ps1", "n\nl.ps1" };
	struct gate g = pwsh_gate(&gate_pssa, "cfg/it's.psd1");
	struct strvec argv = STRVEC_INIT;
	const char *script;

	ASSERT_OK(gate_pssa.argv(&g, "/r", files, 4, "/tmp/rep'ort", &argv));
	ASSERT_EQ(argv.n, 6);
	ASSERT_STR_EQ(argv.v[0], "pwsh");
	ASSERT_STR_EQ(argv.v[1], "-NoLogo");
	ASSERT_STR_EQ(argv.v[2], "-NoProfile");
	ASSERT_STR_EQ(argv.v[3], "-NonInteractive");
	ASSERT_STR_EQ(argv.v[4], "-Command");
	script = argv.v[5];
	ASSERT_CONTAINS(script, "\n$files = @('a.ps1', './-d.ps1', 'o''neil [1].ps1', "
	    "'n\nl.ps1')\n");
	ASSERT_CONTAINS(script, "\n$report = '/tmp/rep''ort'\n");
	ASSERT_CONTAINS(script, "\n$settings = 'cfg/it''s.psd1'\n");
	ASSERT_CONTAINS(script, "$WarningPreference = 'SilentlyContinue'");
	ASSERT_CONTAINS(script, "Test-Path -LiteralPath $settings");
	ASSERT_CONTAINS(script, "Invoke-ScriptAnalyzer -Path ([WildcardPattern]::Escape($f)) @opts");
	ASSERT_CONTAINS(script, "ConvertTo-Json -InputObject @($records) -Depth 6");
	ASSERT_CONTAINS(script, "Set-Content -LiteralPath $report -Encoding utf8");
	strvec_clear(&argv);
	ASSERT_OK(gate_pssa.version_argv(&g, &argv));
	ASSERT_STR_EQ(argv.v[5], "(Get-Module -ListAvailable PSScriptAnalyzer | "
	    "Select-Object -First 1).Version.ToString()");
	strvec_clear(&argv);
	return 0;
}

TEST_IMPL(argv_pester_script)
{
	static const char *const files[] = { "t/A.Tests.ps1", "t/\xe2\x80\x99" "B.Tests.ps1" };
	struct gate g = pwsh_gate(&gate_pester, NULL);
	struct strvec argv = STRVEC_INIT;
	const char *script;

	ASSERT_OK(gate_pester.argv(&g, "/r", files, 2, "/tmp/r.xml", &argv));
	ASSERT_STR_EQ(argv.v[4], "-Command");
	script = argv.v[5];
	ASSERT_CONTAINS(script, "\n$files = @('t/A.Tests.ps1', "
	    "'t/\xe2\x80\x99\xe2\x80\x99" "B.Tests.ps1')\n");
	ASSERT_CONTAINS(script, "\n$report = '/tmp/r.xml'\n");
	ASSERT_CONTAINS(script, "$c.Run.Path = $files");
	ASSERT_CONTAINS(script, "$c.Run.Exit = $false");
	ASSERT_CONTAINS(script, "$c.TestResult.OutputFormat = 'NUnitXml'");
	ASSERT_CONTAINS(script, "$c.TestResult.OutputPath = $report");
	ASSERT_CONTAINS(script, "$c.Output.Verbosity = 'None'");
	ASSERT_CONTAINS(script, "Invoke-Pester -Configuration $c");
	strvec_clear(&argv);
	return 0;
}

TEST_IMPL(gate_relpath_cases)
{
	static const char *const cases[][3] = {
		{ "/repo", "/repo/src/a.py", "src/a.py" },
		{ "/repo/", "/repo/src/a.py", "src/a.py" },
		{ "/repo", "./src/a.py", "src/a.py" },
		{ "/repo", "././a.py", "a.py" },
		{ "/repo", "/repository/a.py", "/repository/a.py" },
		{ "/repo", "/other/a.py", "/other/a.py" },
		{ "/repo", "/repo", "/repo" },
		{ "/repo", "src/a.py", "src/a.py" },
		{ "/", "/a.py", "a.py" },
		{ NULL, "./a.py", "a.py" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		char *p = gate_relpath(cases[i][0], cases[i][1]);

		ASSERT_STR_EQ(p, cases[i][2]);
		free(p);
	}
	ASSERT_NULL(gate_relpath("/repo", NULL));
	return 0;
}

TEST_IMPL(gate_excerpt_cases)
{
	char *e = gate_excerpt("\n\n  error:\tbad\r\n thing  \n", 25);
	char big[300];

	ASSERT_STR_EQ(e, "error: bad thing");
	free(e);
	e = gate_excerpt(NULL, 0);
	ASSERT_STR_EQ(e, "(empty)");
	free(e);
	memset(big, 'x', sizeof(big));
	e = gate_excerpt(big, sizeof(big));
	ASSERT_EQ(strlen(e), 103);
	ASSERT_CONTAINS(e, "xxx...");
	free(e);
	return 0;
}

/* Files an executor's tool reads on its own join config_files (so they
 * are fingerprinted and watched), after the ones the user listed. */
TEST_IMPL(implicit_config_files)
{
	struct config cfg;
	struct config_err err;
	const char *text = "{\"version\": 1, \"gates\": ["
	    "{\"name\": \"r\", \"type\": \"ruff\", \"include\": [\"*.py\"], "
	    "\"config_files\": [\"setup.cfg\", \"ruff.toml\"], \"args\": [\"--config\", "
	    "\"./ci/ruff.toml\", \"--config=lint.line-length = 100\"]},"
	    "{\"name\": \"f\", \"type\": \"ruff-format\", \"include\": [\"*.py\"]},"
	    "{\"name\": \"p\", \"type\": \"psscriptanalyzer\", \"include\": [\"*.ps1\"]},"
	    "{\"name\": \"q\", \"type\": \"psscriptanalyzer\", \"include\": [\"*.ps1\"], "
	    "\"settings\": \"build/pssa.psd1\"},"
	    "{\"name\": \"c\", \"type\": \"command\", \"include\": [\"*\"], "
	    "\"command\": [\"true\"]}]}";
	char *s;

	ASSERT_OK(config_parse("watch.config.json", text, strlen(text), &cfg, &err));
	s = joined(&cfg.gates[0].config_files);
	ASSERT_STR_EQ(s, "setup.cfg|ruff.toml|pyproject.toml|.ruff.toml|ci/ruff.toml");
	free(s);
	s = joined(&cfg.gates[1].config_files);
	ASSERT_STR_EQ(s, "pyproject.toml|ruff.toml|.ruff.toml");
	free(s);
	s = joined(&cfg.gates[2].config_files);
	ASSERT_STR_EQ(s, "PSScriptAnalyzer.psd1");
	free(s);
	s = joined(&cfg.gates[3].config_files);
	ASSERT_STR_EQ(s, "build/pssa.psd1");
	free(s);
	ASSERT_EQ(cfg.gates[4].config_files.n, 0);
	config_release(&cfg);
	return 0;
}
