/* rcu.c — cross-process RCU: reader slot registry, dead-reader release, grace periods. */
#include "mem/rcu.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shm/handles.h"
#include "shm/probes.h"
#include "shm/proc.h"

__thread struct sc_reader *sc_tls_readers __attribute__((tls_model("initial-exec")));
bool sc_reader_fence;

/* How this process orders readers' slot stores against reclaimers. */
enum membarrier_mode {
	MB_UNKNOWN,   /* not probed yet in this process */
	MB_EXPEDITED, /* registered: GLOBAL_EXPEDITED IPIs our threads */
	MB_GLOBAL,    /* only the slow GLOBAL command: our readers fence */
	MB_NONE,      /* no membarrier: our readers fence, we cannot reclaim */
};

static pthread_mutex_t process_lock = PTHREAD_MUTEX_INITIALIZER;
static enum membarrier_mode mb_mode;
static uint32_t my_pid;
static uint64_t my_start_time;
static pthread_key_t readers_key;
static bool readers_key_made;

static int membarrier(int cmd)
{
	return (int)syscall(__NR_membarrier, cmd, 0, 0);
}

static void release_thread_readers(void *head);

int sc_rcu_process_init(void)
{
	int err = 0;

	pthread_mutex_lock(&process_lock);
	if (!readers_key_made) {
		err = pthread_key_create(&readers_key, release_thread_readers);
		readers_key_made = err == 0;
	}
	if (!err && mb_mode == MB_UNKNOWN) {
		int cmds = membarrier(MEMBARRIER_CMD_QUERY);

		my_pid = (uint32_t)getpid();
		if (sc_proc_start_time(my_pid, &my_start_time))
			my_start_time = 0;
		if (cmds > 0 && (cmds & MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) &&
		    membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED) == 0)
			mb_mode = MB_EXPEDITED;
		else if (cmds > 0 && (cmds & MEMBARRIER_CMD_GLOBAL))
			mb_mode = MB_GLOBAL;
		else
			mb_mode = MB_NONE;
		sc_reader_fence = mb_mode != MB_EXPEDITED;
	}
	pthread_mutex_unlock(&process_lock);
	if (err)
		return sc_fail(-err, "pthread_key_create: %s", sc_strerror(err));
	return 0;
}

/*
 * Where a forked child's inherited registrations point. The child may be
 * inside a read section (it forked in a visitor) and leave it on its way
 * back: that store must land in memory of its own, not in the parent's slot,
 * whose section would otherwise end for every reclaimer.
 */
static struct sc_slot orphan_slot;
static struct sc_counter orphan_counters[SC_MAX_PARTITIONS];

void sc_rcu_after_fork_child(void)
{
	/* The child is a new process: new pid, start time, and no membarrier registration. */
	pthread_mutex_init(&process_lock, NULL);
	mb_mode = MB_UNKNOWN;
	/* The forking thread's registrations are the parent's slots: never use or release them. */
	for (struct sc_reader *r = sc_tls_readers; r; r = r->next) {
		r->slot = &orphan_slot;
		r->counters = orphan_counters;
	}
}

/* Whether the owner recorded in a slot is gone (dead, or its pid now names another process). */
static bool owner_dead(uint32_t pid, uint64_t start_time)
{
	uint64_t now;

	if (pid == 0)
		return false;
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return true;
	/* Without /proc there is no telling; with it, a start time of 0 (a stray write's) is nobody's. */
	if (sc_proc_start_time(pid, &now))
		return false;
	return now != start_time;
}

/*
 * Release slot idx, whose owner word was seen as seen. Whoever wins the
 * compare-and-swap to "releasing by me" does the work; everyone else
 * backs off. Counters are moved with exchanges so that a count is folded
 * into the partition's totals exactly once.
 */
static void release_slot(sc_cache *c, uint32_t idx, uint64_t seen)
{
	struct sc_slot *s = sc_slot_at(c, idx);
	struct sc_counter *row = sc_counter_row(c, idx);
	uint64_t releasing = sc_owner_next(seen, SC_OWNER_RELEASING | my_pid);

	if (sc_cmpxchg(&s->owner, seen, releasing) != seen)
		return;
	/* A read-only handle cannot fold: the counts stay in the row, where the stats count them all the same. */
	for (uint32_t p = 0; !c->read_only && p < c->seg.cfg.num_partition; p++) {
		struct sc_part *part = sc_part_at(c, p);
		uint64_t gets = sc_xchg(&row[p].gets, 0);
		uint64_t hits = sc_xchg(&row[p].hits, 0);

		if (gets)
			sc_add(&part->gets_folded, gets);
		if (hits)
			sc_add(&part->hits_folded, hits);
	}
	sc_write(&s->epoch, 0);
	sc_write(&s->start_time, 0);
	sc_write(&s->tid, 0);
	sc_publish(&s->owner, sc_owner_next(releasing, 0));
}

/*
 * Release slot idx if whoever owns or is releasing it is dead. Our own pid
 * is ours only with our start time: with another, an earlier process that
 * had our pid died reading (as happens when a container restarts).
 */
static bool release_if_dead(sc_cache *c, uint32_t idx)
{
	struct sc_slot *s = sc_slot_at(c, idx);
	uint64_t owner = sc_read(&s->owner);
	uint32_t pid = sc_owner_pid(owner);
	uint64_t start = sc_owner_releasing(owner) ? 0 : sc_read(&s->start_time);
	bool dead;

	if (pid == 0)
		return false;
	if (pid == my_pid)
		dead = start != 0 && start != my_start_time;
	else
		dead = owner_dead(pid, start);
	if (dead)
		release_slot(c, idx, owner);
	return dead;
}

uint32_t sc_rcu_slots_used(const sc_cache *c)
{
	const struct sc_registry *g = sc_registry(c);
	uint32_t hwm = sc_read(&g->slots_hwm), copy = sc_read(&g->slots_hwm_copy);

	hwm = hwm > copy ? hwm : copy;
	return hwm < c->seg.cfg.max_readers ? hwm : c->seg.cfg.max_readers;
}

static int remember_owned(sc_cache *c, uint32_t idx)
{
	int err = 0;

	pthread_mutex_lock(&c->owned_lock);
	if (c->n_owned == c->cap_owned) {
		uint32_t cap = c->cap_owned ? 2 * c->cap_owned : 8;
		uint32_t *v = realloc(c->owned, cap * sizeof(*v));
		if (v) {
			c->owned = v;
			c->cap_owned = cap;
		} else {
			err = sc_fail(-ENOMEM, "out of memory registering a reader");
		}
	}
	if (!err)
		c->owned[c->n_owned++] = idx;
	pthread_mutex_unlock(&c->owned_lock);
	return err;
}

static void forget_owned(sc_cache *c, uint32_t idx)
{
	pthread_mutex_lock(&c->owned_lock);
	for (uint32_t i = 0; i < c->n_owned; i++) {
		if (c->owned[i] == idx) {
			c->owned[i] = c->owned[--c->n_owned];
			break;
		}
	}
	pthread_mutex_unlock(&c->owned_lock);
}

/* Raise both high-water marks of the slots to at least n. */
static void raise_hwm(struct sc_registry *g, uint32_t n)
{
	sc_store_max(&g->slots_hwm, n);
	sc_store_max(&g->slots_hwm_copy, n);
}

static int try_claim(sc_cache *c, uint32_t *out)
{
	struct sc_registry *g = sc_registry(c);

	for (uint32_t i = 0; i < c->seg.cfg.max_readers; i++) {
		struct sc_slot *s = sc_slot_at(c, i);
		uint64_t owner = sc_read(&s->owner);

		if (sc_owner_pid(owner) != 0 || sc_owner_releasing(owner))
			continue;
		if (sc_cmpxchg(&s->owner, owner, sc_owner_next(owner, my_pid)) != owner)
			continue;
		sc_write(&s->start_time, my_start_time);
		sc_write(&s->tid, (uint32_t)gettid());
		sc_write(&s->epoch, 0);
		raise_hwm(g, i + 1);
		*out = i;
		return 0;
	}
	return -EUSERS;
}

static int claim_slot(sc_cache *c, uint32_t *out)
{
	uint32_t hwm;
	int err = try_claim(c, out);

	if (err != -EUSERS)
		return err;
	/* Full: slots of processes that died outside a read section are still held. */
	hwm = sc_rcu_slots_used(c);
	for (uint32_t i = 0; i < hwm; i++)
		release_if_dead(c, i);
	err = try_claim(c, out);
	if (err)
		return sc_fail(err, "all %u reader slots of cache \"%s\" are in use", c->seg.cfg.max_readers,
			       c->name);
	return 0;
}

static void release_reader_locked(sc_cache *c, void *arg)
{
	struct sc_reader *r = arg;
	uint64_t owner = sc_read(&r->slot->owner);

	if (sc_owner_pid(owner) == my_pid && !sc_owner_releasing(owner))
		release_slot(c, r->slot_idx, owner);
	forget_owned(c, r->slot_idx);
}

/*
 * Thread exit: give back every slot this thread holds in caches still open.
 * The list is read from the thread-local head, which is still valid while
 * key destructors run; the key's value only makes the destructor run.
 */
static void release_thread_readers(void *unused)
{
	struct sc_reader *r = sc_tls_readers;

	(void)unused;
	while (r) {
		struct sc_reader *next = r->next;
		sc_handle_with(r->cache_id, release_reader_locked, r);
		free(r);
		r = next;
	}
	sc_tls_readers = NULL;
}

/* Drop this thread's registrations for handles that have stopped since (and are not inside a section). */
static void prune_stopped(void)
{
	struct sc_reader **link = &sc_tls_readers;

	while (*link) {
		struct sc_reader *r = *link;
		if (r->nest > 0 || sc_handle_with(r->cache_id, NULL, NULL)) {
			link = &r->next;
		} else {
			*link = r->next;
			free(r);
		}
	}
}

struct sc_reader *sc_reader_find(const sc_cache *c)
{
	struct sc_reader *r = sc_tls_readers;

	while (r && r->cache_id != c->id)
		r = r->next;
	return r;
}

int sc_reader_of_slow(sc_cache *c, struct sc_reader **out)
{
	struct sc_reader **link, *r;
	uint32_t idx;
	int err;

	for (link = &sc_tls_readers; (r = *link); link = &r->next) {
		if (r->cache_id == c->id) {
			*link = r->next;
			r->next = sc_tls_readers;
			sc_tls_readers = r;
			*out = r;
			return 0;
		}
	}
	prune_stopped();
	r = calloc(1, sizeof(*r));
	if (!r)
		return sc_fail(-ENOMEM, "out of memory registering a reader");
	err = claim_slot(c, &idx);
	if (!err) {
		err = remember_owned(c, idx);
		if (err)
			release_slot(c, idx, sc_read(&sc_slot_at(c, idx)->owner));
	}
	if (err) {
		free(r);
		return err;
	}
	r->cache_id = c->id;
	r->slot = sc_slot_at(c, idx);
	r->counters = sc_counter_row(c, idx);
	r->slot_idx = idx;
	r->next = sc_tls_readers;
	sc_tls_readers = r;
	pthread_setspecific(readers_key, r);
	*out = r;
	return 0;
}

void sc_rcu_release_owned(sc_cache *c)
{
	pthread_mutex_lock(&c->owned_lock);
	for (uint32_t i = 0; i < c->n_owned; i++) {
		uint32_t idx = c->owned[i];
		uint64_t owner = sc_read(&sc_slot_at(c, idx)->owner);

		if (sc_owner_pid(owner) == my_pid && !sc_owner_releasing(owner))
			release_slot(c, idx, owner);
	}
	c->n_owned = 0;
	pthread_mutex_unlock(&c->owned_lock);
}

static int order_readers(void)
{
	switch (mb_mode) {
	case MB_EXPEDITED:
		if (membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED) == 0)
			return 0;
		break;
	case MB_GLOBAL:
		if (membarrier(MEMBARRIER_CMD_GLOBAL) == 0)
			return 0;
		break;
	default:
		break;
	}
	return sc_fail(-ENOSYS, "membarrier is unavailable: retired memory cannot be reclaimed");
}

/* Raise an epoch word to at least want, from whatever a stray write left there. */
static void raise_word(uint64_t *word, uint64_t want)
{
	uint64_t cur = sc_read(word);

	while (cur < want || cur >= SC_EPOCH_MAX) {
		uint64_t seen = sc_cmpxchg(word, cur, want);

		if (seen == cur)
			break;
		cur = seen;
	}
}

static void raise_epoch(struct sc_seg_hdr *h, uint64_t want)
{
	raise_word(&h->gp_epoch, want);
	raise_word(&h->gp_epoch_copy, want);
}

static int advance(sc_cache *c)
{
	struct sc_seg_hdr *h = sc_hdr(c);
	uint64_t prev_safe = sc_read(&c->gp_safe), now, min;
	bool unknown = false;
	uint32_t hwm;
	int err;

	now = sc_rcu_epoch(c) + 1;
	raise_epoch(h, now);
	/* Readers entering from here on see the new epoch. */
	sc_full_barrier();
	err = order_readers();
	if (err)
		return err;
	hwm = sc_rcu_slots_used(c);
	min = now;
	for (uint32_t i = 0; i < hwm; i++) {
		struct sc_slot *s = sc_slot_at(c, i);
		uint64_t slot_epoch = sc_read(&s->epoch), e = sc_slot_section_epoch(slot_epoch);

		if (slot_epoch == 0)
			continue;
		if (sc_owner_pid(sc_read(&s->owner)) == 0) {
			/* A section in a free slot: a stray write, through which nobody reads. */
			sc_cmpxchg(&s->epoch, slot_epoch, 0);
			continue;
		}
		if (e >= min) {
			/* Newer than this grace period; or from an epoch that has not begun at all. */
			if (e > sc_rcu_epoch(c)) {
				unknown = true;
				raise_epoch(h, e + 1);
			}
			continue;
		}
		/* In the same read section since the last grace period: is it still alive? */
		if (e <= prev_safe && release_if_dead(c, i))
			continue;
		min = e;
	}
	/*
	 * And one more slot per grace period, in turn: a process that exited
	 * without sc_stop() holds its slots outside any read section, where
	 * the check above never looks. One kill(2) per grace period.
	 */
	if (hwm) {
		uint32_t i = sc_add_return(&sc_registry(c)->sweep_cursor, 1) % hwm;

		if (sc_read(&sc_slot_at(c, i)->epoch) == 0)
			release_if_dead(c, i);
	}
#if !defined(__x86_64__) && !defined(__i386__)
	/* Weak ordering: a reader's loads may complete after its slot store of 0 is seen. */
	err = order_readers();
	if (err)
		return err;
#endif
	if (!unknown)
		sc_store_max(&c->gp_safe, min);
	return 0;
}

int sc_rcu_advance(sc_cache *c)
{
	int err;

	SC_PROBE(grace_period_start, c->trace_id);
	err = advance(c);
	SC_PROBE(grace_period_end, c->trace_id, err);
	return err;
}
uint32_t sc_rcu_release_dead(sc_cache *c)
{
	uint32_t n = 0, hwm = sc_rcu_slots_used(c);

	for (uint32_t i = 0; i < hwm; i++)
		if (release_if_dead(c, i))
			n++;
	return n;
}

void sc_rcu_registry_mend(sc_cache *c)
{
	struct sc_registry *g = sc_registry(c);

	/* The two marks agree again, on the larger. */
	raise_hwm(g, sc_rcu_slots_used(c));
	for (uint32_t i = 0; i < c->seg.cfg.max_readers; i++) {
		struct sc_slot *s = sc_slot_at(c, i);
		uint64_t epoch;

		release_if_dead(c, i);
		epoch = sc_read(&s->epoch);
		if (sc_owner_pid(sc_read(&s->owner)) == 0) {
			if (epoch)
				sc_cmpxchg(&s->epoch, epoch, 0);
		} else {
			raise_hwm(g, i + 1);
		}
	}
}

uint32_t sc_rcu_slots_in_use(const sc_cache *c)
{
	uint32_t n = 0, hwm = sc_rcu_slots_used(c);

	for (uint32_t i = 0; i < hwm; i++)
		if (sc_owner_pid(sc_read(&sc_slot_at(c, i)->owner)) != 0)
			n++;
	return n;
}

void sc_rcu_oldest_reader(const sc_cache *c, struct sc_oldest_reader *out)
{
	uint32_t hwm = sc_rcu_slots_used(c);
	uint64_t oldest = 0;

	*out = (struct sc_oldest_reader){ 0, 0, 0, 0 };
	for (uint32_t i = 0; i < hwm; i++) {
		const struct sc_slot *s = sc_slot_at(c, i);
		uint64_t slot_epoch = sc_read(&s->epoch), e = sc_slot_section_epoch(slot_epoch);

		if (slot_epoch == 0 || (oldest && e >= oldest))
			continue;
		oldest = e ? e : 1; /* a section is a section, whatever epoch a stray write made it read */
		out->pid = sc_owner_pid(sc_read(&s->owner));
		out->tid = sc_read(&s->tid);
	}
	if (oldest) {
		uint64_t now = sc_rcu_epoch(c);

		out->epoch = oldest;
		out->lag = now > oldest ? now - oldest : 0;
	}
}
