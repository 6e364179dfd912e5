/*
 * json.c - write a C string as a JSON string that is valid UTF-8 and
 * safe on a terminal: quotes, backslashes, control characters and the
 * bidirectional overrides are escaped, and a byte that is not valid
 * UTF-8 becomes U+FFFD, so any text (a server's message, a name from a
 * history row, a field of an unverified manifest) gives valid JSON.
 */
#include <stdio.h>

#include "json.h"
#include "text.h"
#include "banned.h"

void
pgb_json_str(FILE *f, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t		 i = 0, n, len = 0;
	unsigned	 cp;

	while (u[len] != '\0')
		len++;
	fputc('"', f);
	while (i < len) {
		if ((n = pgb_utf8_seq(u + i, len - i, &cp)) == 0) {
			fputs("\\ufffd", f);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(f, "\\%c", (int)cp);
		else if (pgb_text_unsafe(cp, 0))
			fprintf(f, "\\u%04x", cp);
		else
			fwrite(u + i, 1, n, f);
		i += n;
	}
	fputc('"', f);
}
