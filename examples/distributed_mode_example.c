/*
 * distributed_mode_example.c — one cache on three nodes: where each partition lives, writes made on any
 * node, and how many copies each has when the call returns.
 *
 * After the seed's distributed_mode_example.exs: the cluster's mode and map, writes of every kind
 * from one node (each runs on its partition's primary, forwarded there when that is another node),
 * and in sync mode every acknowledged write found on its replicas at once. Health comes from the
 * coordinators, over D-Bus: examples/distributed_mode_example.sh prints it with the CLI. Reads: local
 * (this host's copy, no hop; the node that wrote reads back its own writes), primary (the partition's
 * primary answers, only what is acknowledged) and quorum (the newest copy of a majority of the
 * replicas). A queue shared by the three nodes.
 *
 *   supercache-distributed-mode-example CACHE1 CACHE2 CACHE3
 *
 * names the three nodes' caches: on one machine (the script) each node's segment has its own name;
 * on three hosts each would run this with its own. examples/distributed_mode_example.sh starts three
 * etcd members and three coordinators on this machine, runs it, and stops them.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <supercache.h>

#define NODES 3
#define KEYS  300

static int fail(const char *what, int err)
{
	fprintf(stderr, "example: %s: %s (%s)\n", what, sc_strerror(err), sc_last_error());
	return 1;
}

#define CHECK(call)                                    \
	do {                                           \
		int check_rc_ = (call);                \
		if (check_rc_ < 0)                     \
			return fail(#call, check_rc_); \
	} while (0)

static const char *mode_name(uint32_t mode)
{
	return mode == SC_REPLICATION_SYNC ? "sync" : mode == SC_REPLICATION_STRONG ? "strong" : "async";
}

/* Each partition's epoch, primary and replicas, as node 0's coordinator wrote them into its segment. */
static int print_map(sc_cache *c, uint32_t nparts)
{
	sc_partition_owners *parts = calloc(nparts, sizeof(*parts));
	sc_cluster_map m;
	int err;

	if (!parts)
		return fail("calloc", -ENOMEM);
	err = sc_cluster_map_read(c, &m, parts, nparts);
	if (err) {
		free(parts);
		return fail("sc_cluster_map_read", err);
	}
	printf("== the partition map (%u nodes; this one is %s)\n", m.node_count, m.nodes[m.self]);
	for (uint32_t p = 0; p < nparts; p++) {
		printf("  partition %2u: epoch %-4" PRIu64 " primary %-4s replicas", p, parts[p].epoch,
		       parts[p].primary < m.node_count ? m.nodes[parts[p].primary] : "-");
		for (uint16_t k = 0; k < parts[p].replica_count; k++)
			printf(" %s", m.nodes[parts[p].replicas[k]]);
		printf("\n");
	}
	free(parts);
	return 0;
}

/*
 * On how many of the nodes key is found, each read in that node's own copy: through read-only
 * handles, since a handle that wrote reads its own writes back from their primary.
 */
static int copies_of(sc_cache *const *copy, const char *key)
{
	int n = 0;

	for (int i = 0; i < NODES; i++) {
		sc_tuples *t = NULL;

		n += sc_get(copy[i], SC_TUPLE(sc_str(key)), &t) == 1;
		sc_tuples_free(t);
	}
	return n;
}

static int run(sc_cache *const *h, sc_cache *const *copy)
{
	sc_options o = SC_OPTIONS();
	int fewest = NODES, forwarded = 0, n;
	char key[32];

	CHECK(sc_config(h[0], &o));
	printf("== the cluster\n  %u partitions, replication_factor %u, replication_mode %s\n",
	       o.num_partition, o.replication_factor, mode_name(o.replication_mode));
	if (print_map(h[0], o.num_partition))
		return 1;

	printf("== a write into each partition from the first node\n");
	for (uint32_t p = 0; p < o.num_partition; p++) {
		/* 1 when this node is the partition's primary; otherwise the library forwards the write there. */
		int here;

		CHECK(here = sc_cluster_acting_primary(h[0], p));
		snprintf(key, sizeof(key), "pinned:%u", p);
		CHECK(sc_put_partition_by_idx(h[0], SC_TUPLE(sc_str(key), sc_str("pinned"), sc_int(p)), p));
		forwarded += !here;
	}
	printf("  %u written: %u here, %d forwarded to another node's primary\n", o.num_partition,
	       o.num_partition - forwarded, forwarded);

	for (int k = 0; k < KEYS; k++) {
		snprintf(key, sizeof(key), "user:%d", k);
		CHECK(sc_put(h[0], SC_TUPLE(sc_str(key), sc_str("profile"), sc_int(k))));
		n = copies_of(copy, key);
		fewest = n < fewest ? n : fewest;
	}
	printf("  %d puts acknowledged; in %s mode each was on at least %d node(s) when its call returned\n",
	       KEYS, mode_name(o.replication_mode), fewest);

	printf("== read modes, from every node\n");
	for (int i = 0; i < NODES; i++) {
		const sc_read_opts primary = { .read_mode = SC_READ_PRIMARY },
				   quorum = { .read_mode = SC_READ_QUORUM };
		int local = 0, by_primary = 0, by_quorum = 0;

		for (int k = 0; k < KEYS; k++) {
			sc_tuples *t = NULL;

			snprintf(key, sizeof(key), "user:%d", k);
			CHECK(n = sc_get(h[i], SC_TUPLE(sc_str(key)), &t));
			local += n;
			sc_tuples_free(t);
			CHECK(n = sc_get_with(h[i], SC_TUPLE(sc_str(key)), &primary, &t));
			by_primary += n;
			sc_tuples_free(t);
			CHECK(n = sc_get_with(h[i], SC_TUPLE(sc_str(key)), &quorum, &t));
			by_quorum += n;
			sc_tuples_free(t);
		}
		printf("  node %d: %d of %d users read locally, %d by their primary, %d by a quorum\n", i + 1,
		       local, KEYS, by_primary, by_quorum);
	}

	printf("== a queue: jobs added on every node, taken on any, each once\n");
	for (int k = 0; k < 9; k++) {
		snprintf(key, sizeof(key), "job-%d", k);
		CHECK(sc_queue_add(h[k % NODES], "jobs", sc_str(key)));
	}
	for (int k = 0; k < 9; k++) {
		sc_tuples *t = NULL;

		CHECK(n = sc_queue_out(h[(k + 1) % NODES], "jobs", NULL, &t));
		printf("%s%s", k ? ", " : "  taken in order: ",
		       n ? (const char *)t->tuples[0].fields[0].v.p : "(none)");
		sc_tuples_free(t);
	}
	printf("\n");

	printf("== KeyValue and calls over every partition, from the other nodes\n");
	for (int k = 0; k < 100; k++)
		CHECK(sc_kv_add(h[1], "sessions", sc_int(k), sc_str("active")));
	CHECK(n = sc_kv_remove_all(h[2], "sessions"));
	printf("  100 sessions added on the second node; the third removed %d\n", n);
	CHECK(n = sc_delete_by_match(h[2], NULL, SC_TUPLE(sc_any(), sc_str("profile"), sc_any())));
	printf("  delete_by_match {_, \"profile\", _} from the third node -> %d deleted\n", n);
	CHECK(sc_delete_all(h[1]));
	printf("  delete_all from the second node: every partition emptied on its primary\n");
	return 0;
}

int main(int argc, char **argv)
{
	sc_cache *h[NODES] = { NULL, NULL, NULL }, *copy[NODES] = { NULL, NULL, NULL };
	const sc_options read_only = SC_OPTIONS(.read_only = 1);
	int rc = 0;

	if (argc != NODES + 1) {
		fprintf(stderr, "usage: %s CACHE1 CACHE2 CACHE3\n", argv[0]);
		return 2;
	}
	for (int i = 0; i < NODES && !rc; i++) {
		int err = sc_attach(argv[i + 1], NULL, &h[i]);

		if (!err)
			err = sc_attach(argv[i + 1], &read_only, &copy[i]);
		if (err)
			rc = fail(argv[i + 1], err);
	}
	if (!rc)
		rc = run(h, copy);
	for (int i = 0; i < NODES; i++) {
		if (h[i])
			sc_stop(h[i]);
		if (copy[i])
			sc_stop(copy[i]);
	}
	return rc;
}
