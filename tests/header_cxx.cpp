// header_cxx.cpp — the public header compiles as strict C++11 and SC_TUPLE works there.
#include <supercache.h>

#include <cstdio>
#include <cstring>

int main(int argc, char **argv)
{
	sc_options o = {};
	o.sz = sizeof(o);
	o.num_partition = 2;
	o.memory_limit = 16 << 20;
	const char *name = argc > 1 ? argv[1] : "header-cxx";
	sc_tuples *t = nullptr;
	sc_cache *c = nullptr;

	if (sc_start(name, &o, &c)) {
		std::fprintf(stderr, "sc_start: %s\n", sc_last_error());
		return 1;
	}
	int r = sc_put(c, SC_TUPLE(sc_str("user"), sc_int(1), sc_dbl(0.5)));
	if (r == 0)
		r = sc_get(c, SC_TUPLE(sc_str("user")), &t);
	bool ok = r == 1 && t->tuples[0].nfields == 3 && t->tuples[0].fields[1].v.i == 1;
	sc_tuples_free(t);
	sc_stop(c);
	sc_destroy(name, &o);
	return ok ? 0 : 2;
}
