/* stats.c — sc_stats: a snapshot of every partition's counters, read without taking any lock. */
#include <stdlib.h>

#include "index/btree.h"
#include "index/hash_index.h"
#include "mem/limbo.h"
#include "mem/rcu.h"
#include "shm/probes.h"

/*
 * Counters are read while writers run: each is exact, together they are a
 * moment's approximation. Structure partitions count no gets.
 */
static void read_counters(sc_cache *c, struct sc_part *p, sc_partition_stats *out)
{
	out->records = sc_read(&p->records);
	out->bytes = sc_read(&p->bytes);
	out->index_capacity = sc_part_is_ordered(c, p) ? sc_bt_capacity(p) : sc_index_capacity(c, p);
	out->puts = sc_read(&p->puts);
	out->deletes = sc_read(&p->deletes);
	out->retired_bytes = sc_limbo_bytes(p);
	out->locks = sc_read(&p->locks);
	out->writer_deaths = sc_read(&p->owner_died);
	out->evictions = sc_read(&p->evictions);
	out->expirations = sc_read(&p->expirations);
}

static void read_partition(sc_cache *c, uint32_t i, uint32_t slots, sc_partition_stats *out)
{
	struct sc_part *p = sc_part_at(c, i);

	read_counters(c, p, out);
	out->gets = sc_read(&p->gets_folded);
	out->hits = sc_read(&p->hits_folded);
	for (uint32_t s = 0; s < slots; s++) {
		const struct sc_counter *ctr = &sc_counter_row(c, s)[i];

		out->gets += sc_read(&ctr->gets);
		out->hits += sc_read(&ctr->hits);
	}
}

static void add_to(sc_partition_stats *sum, const sc_partition_stats *p)
{
	sum->records += p->records;
	sum->bytes += p->bytes;
	sum->index_capacity += p->index_capacity;
	sum->puts += p->puts;
	sum->gets += p->gets;
	sum->hits += p->hits;
	sum->deletes += p->deletes;
	sum->retired_bytes += p->retired_bytes;
	sum->locks += p->locks;
	sum->writer_deaths += p->writer_deaths;
	sum->evictions += p->evictions;
	sum->expirations += p->expirations;
}

static int do_stats(sc_cache *c, sc_cache_stats **out)
{
	struct sc_oldest_reader oldest;
	uint32_t nparts, slots;
	struct sc_reader *r;
	sc_cache_stats *s;
	int err;

	sc_check_arg(out, -EINVAL, "sc_stats: out is NULL");
	*out = NULL;
	err = sc_cache_check(c);
	if (!err)
		err = sc_reader_of(c, &r);
	if (err)
		return err;
	nparts = c->seg.cfg.num_partition;
	s = calloc(1, sizeof(*s) + nparts * sizeof(sc_partition_stats));
	if (!s)
		return sc_fail(-ENOMEM, "out of memory for the stats of %u partitions", nparts);
	s->partitions = (sc_partition_stats *)(s + 1);
	s->num_partition = nparts;
	s->memory_limit = c->seg.map_len;
	s->memory_used = sc_read(&sc_hdr(c)->backed);
	s->readers = sc_rcu_slots_in_use(c);
	slots = sc_rcu_slots_used(c);
	/* Before our own section opens, so that it is not the one found. */
	sc_rcu_oldest_reader(c, &oldest);
	s->oldest_reader_pid = oldest.pid;
	s->oldest_reader_tid = oldest.tid;
	s->oldest_reader_lag = oldest.lag;
	s->oldest_reader_epoch = oldest.epoch;
	s->grace_periods = sc_rcu_epoch(c);
	s->truncations = sc_read(&sc_hdr(c)->truncations);
	s->truncated_to = sc_read(&sc_hdr(c)->truncated_to);
	/* Inside a read section: an index being replaced meanwhile stays readable. */
	sc_rcu_enter(c, r);
	for (uint32_t i = 0; i < nparts; i++) {
		read_partition(c, i, slots, &s->partitions[i]);
		add_to(&s->total, &s->partitions[i]);
	}
	for (uint32_t i = 0; i < nparts; i++) {
		sc_partition_stats one = { 0 };

		read_counters(c, sc_structure_part_at(c, i), &one);
		add_to(&s->structures, &one);
	}
	sc_rcu_exit(r);
	*out = s;
	return 0;
}

SC_EXPORT int sc_stats(sc_cache *c, sc_cache_stats **out)
{
	return SC_TRACED(c, SC_OP_STATS, do_stats(c, out));
}

SC_EXPORT void sc_stats_free(sc_cache_stats *stats)
{
	free(stats);
}
