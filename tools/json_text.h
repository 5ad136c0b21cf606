/* json_text.h — a C string as a JSON string, for the tools that print JSON by hand. */
#ifndef SC_JSON_TEXT_H
#define SC_JSON_TEXT_H

#include <stdio.h>

/* s in double quotes, with '"', '\\' and control characters escaped. */
void json_write_string(FILE *f, const char *s);

#endif
