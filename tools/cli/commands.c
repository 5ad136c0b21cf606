/* commands.c — the table of commands: their words, arguments, help texts and functions. */
#include "cli.h"

#define FIELD_NOTE                                                                    \
	"Fields: 42 is an int64, 1.5 a double, anything else a string; i:42, d:1.5\n" \
	"and s:text force the type.\n"

#define PDATA_NOTE                                                                         \
	"  --partition-data FIELD   the field that picks the partition, when the tuples\n" \
	"                           were put with partition data other than their key\n"

const struct cli_command cli_commands[] = {
	{ NULL, "put", "FIELD... [--ttl MS]",
	  "Stores the tuple made of the fields (in a set, replacing the tuple with its key).\n"
	  "Prints nothing (--json: {\"ok\":true}).\n"
	  "  --ttl MS   the tuple vanishes MS milliseconds from now\n" FIELD_NOTE,
	  cmd_put },
	{ NULL, "get", "KEY [--partition-data FIELD]",
	  "Prints the tuples whose key is KEY, one per line (--json: an array of arrays).\n"
	  "Exit status 1 when there are none.\n" PDATA_NOTE FIELD_NOTE,
	  cmd_get },
	{ NULL, "delete", "KEY [--partition-data FIELD]",
	  "Deletes the tuples whose key is KEY and prints how many went: deleted N\n"
	  "(--json: {\"deleted\":N}).\n" PDATA_NOTE FIELD_NOTE,
	  cmd_delete },
	{ NULL, "match", "FIELD... [--object] [--partition-data FIELD]",
	  "Prints, for every tuple the pattern matches, its captures ($1 first) as a\n"
	  "tuple, or with --object the tuple itself. Exit status 1 when none matches.\n"
	  "In a pattern _ matches any value and $1, $2, ... capture (one number twice\n"
	  "must match equal values); s:_ and s:$1 are strings.\n"
	  "  --object                 print the matching tuples, not their captures\n" PDATA_NOTE
	  "                           (without it every partition is searched)\n" FIELD_NOTE,
	  cmd_match },
	{ NULL, "scan", "[--partition-data FIELD] [--limit N]",
	  "Prints every tuple of the cache (of one partition with --partition-data),\n"
	  "one per line (--json: an array of arrays).\n" PDATA_NOTE
	  "  --limit N                print at most N tuples\n",
	  cmd_scan },
	{ "kv", "get", "NS KEY",
	  "Prints the value of KEY in KeyValue namespace NS. Exit status 1 when it has\n"
	  "none (--json: null).\n" FIELD_NOTE,
	  cmd_kv_get },
	{ "kv", "get-all", "NS KEY",
	  "Prints every value of KEY in namespace NS, one per line (--json: an array).\n"
	  "Exit status 1 when it has none.\n" FIELD_NOTE,
	  cmd_kv_get_all },
	{ "kv", "set", "NS KEY VALUE [--ttl MS]",
	  "Sets KEY to VALUE in namespace NS. Prints nothing (--json: {\"ok\":true}).\n"
	  "  --ttl MS   the pair vanishes MS milliseconds from now\n" FIELD_NOTE,
	  cmd_kv_set },
	{ "kv", "replace", "NS KEY VALUE",
	  "Sets KEY to VALUE as its one value in namespace NS, without a time to live.\n"
	  "Prints nothing (--json: {\"ok\":true}).\n" FIELD_NOTE,
	  cmd_kv_set },
	{ "kv", "del", "NS KEY",
	  "Removes KEY from namespace NS and prints how many pairs went: deleted 1 or\n"
	  "deleted 0 (--json: {\"deleted\":N}).\n" FIELD_NOTE,
	  cmd_kv_del },
	{ "kv", "incr", "NS KEY [STEP]",
	  "Adds STEP (default 1; an int64 or a double) to KEY's number in namespace NS,\n"
	  "a missing KEY starting from 0, atomically, and prints the new value.\n"
	  "A value that is not a number of STEP's type is an error.\n" FIELD_NOTE,
	  cmd_kv_incr },
	{ "kv", "keys", "NS",
	  "Prints the keys of namespace NS, one per line, in no particular order\n"
	  "(--json: an array).\n",
	  cmd_kv_keys },
	{ "queue", "push", "NAME VALUE",
	  "Adds VALUE at the back of queue NAME. Prints nothing (--json: {\"ok\":true}).\n" FIELD_NOTE,
	  cmd_seq_push },
	{ "queue", "pop", "NAME",
	  "Takes the value at the front of queue NAME and prints it. Exit status 1\n"
	  "when the queue is empty (--json: null).\n",
	  cmd_seq_pop },
	{ "queue", "count", "NAME",
	  "Prints the number of values in queue NAME: count N (--json: {\"count\":N}).\n", cmd_seq_count },
	{ "stack", "push", "NAME VALUE",
	  "Pushes VALUE on top of stack NAME. Prints nothing (--json: {\"ok\":true}).\n" FIELD_NOTE,
	  cmd_seq_push },
	{ "stack", "pop", "NAME",
	  "Takes the value on top of stack NAME and prints it. Exit status 1 when the\n"
	  "stack is empty (--json: null).\n",
	  cmd_seq_pop },
	{ "stack", "count", "NAME",
	  "Prints the number of values on stack NAME: count N (--json: {\"count\":N}).\n", cmd_seq_count },
	{ NULL, "stats", "[--partitions]",
	  "Prints the cache's counters, read from shared memory (no daemon needed):\n"
	  "records, bytes, memory, readers, operations, evictions, expirations, retired\n"
	  "bytes, writer deaths, the structures' records and the oldest reader.\n"
	  "  --partitions   also one row per partition\n",
	  cmd_stats },
	{ NULL, "check", "[--no-locks | --repair]",
	  "Checks that the segment is whole and prints the report: records, blocks,\n"
	  "partitions repaired, problems, and each listed problem. Exit status 4 when\n"
	  "it found damage.\n"
	  "  --no-locks   take no lock and repair nothing (nobody may write meanwhile)\n"
	  "  --repair     on damage, apply the remedy the report names (sc_repair(),\n"
	  "               or a reset of each damaged partition), check again and print\n"
	  "               that report, with the partitions emptied\n",
	  cmd_check },
	{ NULL, "destroy", "--yes",
	  "Removes the cache's segment: its data is gone. Processes attached keep their\n"
	  "mapping until they stop. Refuses without --yes.\n",
	  cmd_destroy },
	{ NULL, "status", "",
	  "Asks the cache's coordinator (supercached) over D-Bus for its Stats and Config\n"
	  "and prints them. Exit status 5 when it cannot be reached.\n",
	  cmd_status },
	{ "cluster", "status", "",
	  "Asks the cache's coordinator over D-Bus for the cluster as it sees it and\n"
	  "prints it: members, controller, unreachable nodes, and per node its link\n"
	  "(RTT, last heartbeat), lease state and partitions. Exit status 5 when it\n"
	  "cannot be reached, 6 when the cache is local.\n",
	  cmd_cluster_status },
	{ "cluster", "map", "",
	  "Prints the partition map in the cache's segment (no daemon needed): per\n"
	  "partition its epoch, primary and replicas, and whether this node acts as its\n"
	  "primary now (--json: an object with \"partitions\", an array). Exit status 6\n"
	  "when the cache is local.\n",
	  cmd_cluster_map },
	{ NULL, "health", "",
	  "Asks the cache's coordinator over D-Bus for ClusterHealth and prints it.\n"
	  "Exit status 5 when it cannot be reached.\n",
	  cmd_health },
};

const size_t cli_ncommands = sizeof(cli_commands) / sizeof(cli_commands[0]);
