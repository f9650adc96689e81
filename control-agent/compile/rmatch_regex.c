/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Regex analysis for the route matcher: the literal prefix of a regex (its
 * place in the path tries) and a literal it requires (its pre-screen). Pure
 * string functions, agent side, run when a matcher is built.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "control-agent/compile/rmatch-int.h"

/* Skips the bracket class at @p p ('['); NULL when it does not end. */
static const char *
skip_class(const char *p)
{
	p++;
	if (*p == '^')
		p++;
	if (*p == ']')
		p++;
	for (; *p != ']'; p++) {
		if (*p == '\0')
			return NULL;
		if (p[0] == '\\' && p[1] == 'Q') {
			const char *e = strstr(p + 2, "\\E");

			if (e == NULL)
				return NULL;
			p = e + 1;
		} else if (p[0] == '\\' && p[1] != '\0') {
			p++;
		} else if (p[0] == '[' && p[1] == ':') {
			const char *e = strstr(p + 2, ":]");

			if (e == NULL)
				return NULL;
			p = e + 1;
		}
	}
	return p + 1;
}

/*
 * Whether @p re may have an alternation at its top level, which would leave
 * it no common prefix. Errs towards yes: bracket classes (with POSIX
 * [:name:] inside), escapes and \Q...\E are skipped as PCRE reads them, and
 * anything left unbalanced counts as yes.
 */
static bool
top_level_alt(const char *re)
{
	int depth = 0;

	for (const char *p = re; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] == 'Q') {
			const char *e = strstr(p + 2, "\\E");

			if (e == NULL)
				return true;
			p = e + 1;
		} else if (*p == '\\') {
			if (*++p == '\0')
				return true;
		} else if (*p == '[') {
			if ((p = skip_class(p)) == NULL)
				return true;
			p--;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			if (--depth < 0)
				return true;
		} else if (*p == '|' && depth == 0) {
			return true;
		}
	}
	return depth != 0;
}

/*
 * The literal bytes every match of ^(?:re)\z begins with, written to @p out
 * (lower-cased when @p icase); its length. Stops at the first byte that is
 * not a plain literal, and drops a literal a quantifier applies to.
 */
size_t
hf_rmatch_literal_prefix(const char *re, char *out, bool icase)
{
	const char *p = re;
	size_t n = 0;

	if (top_level_alt(re))
		return 0;
	while (*p == '^')
		p++;
	while (*p != '\0') {
		const char *next = p + 1;
		char c = *p;

		if (c == '\\') {
			/* \d, \w, \x41, \Q...: a class or an escape not decoded here */
			if (p[1] == '\0' || isalnum((unsigned char)p[1]))
				break;
			c = p[1];
			next = p + 2;
		} else if (strchr(".[]()|*+?{}^$", c) != NULL) {
			break;
		}
		if (*next == '*' || *next == '+' || *next == '?' || *next == '{')
			break;
		out[n++] = icase ? (char)tolower((unsigned char)c) : c;
		p = next;
	}
	return n;
}

/*
 * The longest run of literal bytes every match of @p re contains (a required
 * factor), written to @p out; its length, 0 when none can be told. Only the
 * top level counts (what a group holds may be optional or alternated); a
 * quantified literal ends a run; an escape, group or option this does not
 * know how to read ends the search, keeping what was found before it.
 */
size_t
hf_rmatch_required_literal(const char *re, char *out)
{
	size_t best = 0, run = 0;
	const char *p = re;
	char *cur;
	int depth = 0;

	if (top_level_alt(re) || (cur = malloc(strlen(re) + 1)) == NULL)
		return 0;
	while (*p != '\0') {
		const char *next = p + 1;
		char c = *p;

		if (c == '\\') {
			if (p[1] == '\0' || (isalnum((unsigned char)p[1]) &&
			                     strchr("dDwWsSbBhHvVRAzZ", p[1]) == NULL))
				break; /* \x41, \Q, \p{..}, \1: not decoded here */
			next = p + 2;
			if (isalnum((unsigned char)p[1])) {
				run = 0; /* \d, \b, ...: a class or an assertion */
				p = next;
				continue;
			}
			c = p[1];
		} else if (c == '[') {
			if ((p = skip_class(p)) == NULL)
				break;
			run = 0;
			continue;
		} else if (c == '(') {
			if (p[1] == '?' && p[2] != ':')
				break; /* options, lookaround, named group */
			depth++;
			run = 0;
			p = next;
			continue;
		} else if (c == ')') {
			depth--;
			run = 0;
			p = next;
			continue;
		} else if (c == '{') {
			const char *e = strchr(p, '}');

			if (e == NULL)
				break;
			run = 0;
			p = e + 1;
			continue;
		} else if (strchr(".^$|*+?", c) != NULL) {
			run = 0;
			p = next;
			continue;
		}
		p = next;
		if (depth > 0)
			continue;
		if (*next == '*' || *next == '+' || *next == '?' || *next == '{') {
			run = 0;
			continue;
		}
		cur[run++] = c;
		if (run > best) {
			best = run;
			memcpy(out, cur, run);
		}
	}
	free(cur);
	return best;
}

