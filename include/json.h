#ifndef PGB_JSON_H
#define PGB_JSON_H

/*
 * json.h - the one piece of JSON both programs write by hand: a string,
 * quoted and escaped, for --json output.
 */
#include <stdio.h>

void	pgb_json_str(FILE *, const char *);

#endif /* PGB_JSON_H */
