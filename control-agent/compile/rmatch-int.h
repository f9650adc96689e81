/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_RMATCH_INT_H
#define HF_RMATCH_INT_H

/*
 * Between the route matcher's build (rmatch_build.c) and its regex analysis
 * (rmatch_regex.c): what a regex says about the paths it can match, so that
 * it is filed under its literal prefix and screened by a literal it needs.
 */
#include <stdbool.h>
#include <stddef.h>

/*
 * The literal bytes every match of ^(?:re)\z begins with, into @p out (room
 * for strlen(@p re)), lower-cased with @p icase; returns their count.
 */
size_t hf_rmatch_literal_prefix(const char *re, char *out, bool icase);

/* The longest literal run every match of @p re contains, into @p out; its length, 0: none. */
size_t hf_rmatch_required_literal(const char *re, char *out);

#endif
