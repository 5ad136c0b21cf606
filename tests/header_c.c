/* header_c.c — the public header compiles as strict C99 and its macros work there. */
#include <supercache.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
	sc_options o = SC_OPTIONS(.num_partition = 2, .memory_limit = 16 << 20);
	const char *name = argc > 1 ? argv[1] : "header-c";
	sc_tuples *t = NULL;
	sc_cache *c = NULL;
	int r;

	if (sc_start(name, &o, &c)) {
		fprintf(stderr, "sc_start: %s\n", sc_last_error());
		return 1;
	}
	r = sc_put(c, SC_TUPLE(sc_str("user"), sc_int(1), sc_dbl(0.5), sc_bytes("ab", 2)));
	if (r == 0)
		r = sc_get(c, SC_TUPLE(sc_str("user")), &t);
	if (r != 1 || t->tuples[0].nfields != 4 || strcmp(t->tuples[0].fields[3].v.p, "ab") != 0)
		r = -1;
	sc_tuples_free(t);
	sc_stop(c);
	sc_destroy(name, &o);
	return r == 1 ? 0 : 2;
}
