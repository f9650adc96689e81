/* SPDX-License-Identifier: Apache-2.0 */
#ifndef HF_H1_CHARS_H
#define HF_H1_CHARS_H

#include <stdint.h>

/*
 * Character classes of HTTP/1.1, internal to dataplane/http: the head parser
 * (h1.c) fills the table and scans with it, the chunked decoder (chunked.c)
 * reads it, so a token or a field value is the same set of bytes in a head,
 * a chunk extension and a trailer.
 *
 * HF_H1_C_TCHAR: RFC 9110 5.6.2 tchar: "!#$%&'*+-.^_`|~", DIGIT, ALPHA.
 * HF_H1_C_VALUE: RFC 9110 5.5 field-vchar (VCHAR 0x21-0x7e, obs-text
 * 0x80-0xff), and SP and HTAB, which a value may hold between them.
 * HF_H1_C_TARGET: a request-target's bytes, visible ASCII 0x21-0x7e.
 */
enum { HF_H1_C_TCHAR = 1, HF_H1_C_VALUE = 2, HF_H1_C_TARGET = 4 };

/* Filled by a constructor in h1.c, before main(). */
extern uint8_t hf_h1_cls[256];

#endif
