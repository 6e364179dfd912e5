/*
 * json.c - write a C string as a JSON string.  Control characters are
 * escaped; other bytes pass through (names and messages are UTF-8).
 */
#include <stdio.h>

#include "json.h"
#include "banned.h"

void
pgb_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}
