// map_history.cpp — checking recorded partition-map samples: one primary per epoch, epochs forward, no split brain.
//
// How a node's acting intervals are derived from its samples (one node, samples in t_ns order;
// consecutive samples with the same seq are one observed state O, seen from its first to its
// last sample):
//
//  - O was installed at its changed_ns, and is replaced by the next observed state O' at
//    O'.changed_ns, whether or not changes were missed in between: changes happen in order, so
//    nothing before O' lasts past O'.changed_ns. While O is the node's state, the node acts as
//    primary of p in [O.changed_ns, min(O.deadline_ns, O'.changed_ns)) if O names it; the last
//    observed state is bounded by its deadline only (the node may still be acting).
//  - Missed changes (seq not exactly +1; a smaller seq, after a restart, counts too): between the
//    last reading of O and O'.changed_ns the node had states nobody saw. They may have renewed
//    the lease (a later deadline than O's) or named the node primary under an epoch between
//    O's and O''s. So if the node is known — from any sample of any node — to be the primary of
//    p under some epoch e with O.epoch <= e <= O'.epoch, it is taken to act as primary of p over
//    the whole window [last t_ns at which O was read, O'.changed_ns). If O' names the node, its
//    interval so starts at that t_ns, not at its own changed_ns. This reports a split brain that
//    a renewal the test did not see could have caused, rather than hide one; marked possible
//    (Violation::possible), apart from those that rest on no missed change.
//    What no sample shows cannot be reasoned about: an epoch nobody saw is not assumed to name
//    anyone, and a node's history before its first sample is outside the record (start recording
//    before the nodes get their first map).
//  - The window starts at the previous reading's t_ns, so t_ns should be taken just before the
//    map is read: then every change the reading missed is after t_ns.
// The reasoning needs seq to step on every change, lease renewals included. One seq shown with
// two different states breaks it, and is reported as such rather than reasoned around.
#include "map_history.hpp"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cinttypes>
#include <climits>
#include <map>
#include <set>
#include <tuple>

namespace sctest
{
namespace
{
std::string fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char *f, ...)
{
	char buf[1024];
	va_list ap;
	va_start(ap, f);
	vsnprintf(buf, sizeof(buf), f, ap);
	va_end(ap);
	return buf;
}

bool same_parts(const std::vector<PartitionView> &a, const std::vector<PartitionView> &b)
{
	if (a.size() != b.size())
		return false;
	for (size_t i = 0; i < a.size(); i++)
		if (a[i].epoch != b[i].epoch || a[i].primary != b[i].primary)
			return false;
	return true;
}

// Consecutive samples of one node with one seq.
struct Observed {
	const MapSample *first, *last;
};

struct Interval {
	std::string node;
	uint64_t start, end;
	uint64_t seq_lo, seq_hi;
	int64_t epoch_lo, epoch_hi;
	bool missed; // includes a window of changes the test did not see
};

std::string describe(const Interval &iv)
{
	std::string s = fmt("%s acts as primary in [%" PRIu64 ", %" PRIu64 ") ns (seq %" PRIu64,
			    iv.node.c_str(), iv.start, iv.end, iv.seq_lo);
	if (iv.seq_hi != iv.seq_lo)
		s += fmt("..%" PRIu64, iv.seq_hi);
	s += fmt(", epoch %" PRId64, iv.epoch_lo);
	if (iv.epoch_hi != iv.epoch_lo)
		s += fmt("..%" PRId64, iv.epoch_hi);
	if (iv.missed)
		s += ", including changes the test missed";
	return s + ")";
}

void add_interval(std::vector<Interval> &out, Interval iv)
{
	if (iv.start < iv.end)
		out.push_back(iv);
}
} // namespace

std::vector<Violation> check_history(const std::vector<MapSample> &samples)
{
	std::vector<Violation> out;
	auto report = [&](const std::string &what, bool possible = false) {
		out.push_back(Violation{ what, possible });
	};

	// (a): the primary each (partition, epoch) was seen with, and where first.
	std::map<std::pair<size_t, int64_t>, const MapSample *> primary_of;
	std::set<std::tuple<size_t, int64_t, std::string>> reported_a;
	for (const MapSample &s : samples)
		for (size_t p = 0; p < s.parts.size(); p++) {
			const PartitionView &v = s.parts[p];
			if (v.primary.empty())
				continue;
			auto it = primary_of.emplace(std::make_pair(p, v.epoch), &s).first;
			const std::string &first = it->second->parts[p].primary;
			if (first != v.primary && reported_a.insert({ p, v.epoch, v.primary }).second)
				report(fmt("partition %zu epoch %" PRId64
					   " has two primaries: %s (node %s's map at %" PRIu64
					   " ns) and %s (node %s's map at %" PRIu64 " ns)",
					   p, v.epoch, first.c_str(), it->second->node.c_str(),
					   it->second->t_ns, v.primary.c_str(), s.node.c_str(), s.t_ns));
		}
	auto known_primary_in = [&](size_t p, int64_t lo, int64_t hi, const std::string &node) {
		for (auto it = primary_of.lower_bound({ p, lo });
		     it != primary_of.end() && it->first.first == p && it->first.second <= hi; ++it)
			if (it->second->parts[p].primary == node)
				return true;
		return false;
	};

	std::map<std::string, std::vector<const MapSample *>> by_node;
	for (const MapSample &s : samples)
		by_node[s.node].push_back(&s);

	// Per partition, every node's acting intervals.
	std::map<size_t, std::vector<Interval>> acting;

	for (auto &entry : by_node) {
		const std::string &node = entry.first;
		std::vector<const MapSample *> &mine = entry.second;
		std::stable_sort(mine.begin(), mine.end(),
				 [](const MapSample *a, const MapSample *b) { return a->t_ns < b->t_ns; });

		// (b): the epoch of each partition never goes back.
		std::map<size_t, const MapSample *> last_seen;
		for (const MapSample *s : mine)
			for (size_t p = 0; p < s->parts.size(); p++) {
				auto it = last_seen.find(p);
				if (it != last_seen.end() && s->parts[p].epoch < it->second->parts[p].epoch)
					report(fmt("node %s partition %zu: epoch went back from %" PRId64
						   " (seq %" PRIu64 " read at %" PRIu64 " ns) to %" PRId64
						   " (seq %" PRIu64 " read at %" PRIu64 " ns)",
						   node.c_str(), p, it->second->parts[p].epoch,
						   it->second->seq, it->second->t_ns, s->parts[p].epoch,
						   s->seq, s->t_ns));
				last_seen[p] = s;
			}

		std::vector<Observed> obs;
		for (const MapSample *s : mine) {
			if (!obs.empty() && obs.back().last->seq == s->seq) {
				const MapSample *prev = obs.back().last;
				if (prev->changed_ns != s->changed_ns ||
				    prev->deadline_ns != s->deadline_ns || !same_parts(prev->parts, s->parts))
					report(fmt("node %s: seq %" PRIu64
						   " shows two different states (read at %" PRIu64
						   " and %" PRIu64
						   " ns): a change without a seq step; the acting "
						   "intervals cannot be bounded",
						   node.c_str(), s->seq, prev->t_ns, s->t_ns));
				obs.back().last = s;
				continue;
			}
			if (!obs.empty() && s->changed_ns < obs.back().last->changed_ns)
				report(fmt("node %s: seq %" PRIu64 " was written at %" PRIu64
					   " ns, before seq %" PRIu64 " which it replaced (%" PRIu64 " ns)",
					   node.c_str(), s->seq, s->changed_ns, obs.back().last->seq,
					   obs.back().last->changed_ns));
			obs.push_back({ s, s });
		}

		for (size_t k = 0; k < obs.size(); k++) {
			const MapSample *cur = obs[k].last;
			const MapSample *next = k + 1 < obs.size() ? obs[k + 1].first : nullptr;
			for (size_t p = 0; p < cur->parts.size(); p++) {
				const PartitionView &v = cur->parts[p];
				if (v.primary != node || cur->deadline_ns == 0)
					continue;
				uint64_t end = cur->deadline_ns;
				if (next)
					end = std::min(end, next->changed_ns);
				add_interval(acting[p], { node, cur->changed_ns, end, cur->seq, cur->seq,
							  v.epoch, v.epoch, false });
			}
			if (!next || next->seq == cur->seq + 1)
				continue;
			// Missed changes between cur and next.
			size_t nparts = std::max(cur->parts.size(), next->parts.size());
			for (size_t p = 0; p < nparts; p++) {
				int64_t lo = INT64_MIN, hi = INT64_MAX;
				if (p < cur->parts.size() && p < next->parts.size()) {
					lo = std::min(cur->parts[p].epoch, next->parts[p].epoch);
					hi = std::max(cur->parts[p].epoch, next->parts[p].epoch);
				} else if (p < cur->parts.size()) {
					lo = cur->parts[p].epoch;
				} else {
					hi = next->parts[p].epoch;
				}
				if (known_primary_in(p, lo, hi, node))
					add_interval(acting[p], { node, cur->t_ns, next->changed_ns, cur->seq,
								  next->seq, lo == INT64_MIN ? hi : lo,
								  hi == INT64_MAX ? lo : hi, true });
			}
		}
	}

	// (c): per partition, merge each node's touching intervals, then look for overlaps between nodes.
	for (auto &entry : acting) {
		std::vector<Interval> &ivs = entry.second;
		std::sort(ivs.begin(), ivs.end(), [](const Interval &a, const Interval &b) {
			return std::tie(a.node, a.start) < std::tie(b.node, b.start);
		});
		std::vector<Interval> merged;
		for (const Interval &iv : ivs) {
			if (!merged.empty() && merged.back().node == iv.node &&
			    iv.start <= merged.back().end) {
				Interval &m = merged.back();
				m.end = std::max(m.end, iv.end);
				m.seq_lo = std::min(m.seq_lo, iv.seq_lo);
				m.seq_hi = std::max(m.seq_hi, iv.seq_hi);
				m.epoch_lo = std::min(m.epoch_lo, iv.epoch_lo);
				m.epoch_hi = std::max(m.epoch_hi, iv.epoch_hi);
				m.missed |= iv.missed;
			} else {
				merged.push_back(iv);
			}
		}
		std::sort(merged.begin(), merged.end(),
			  [](const Interval &a, const Interval &b) { return a.start < b.start; });
		std::vector<const Interval *> open;
		for (const Interval &iv : merged) {
			open.erase(std::remove_if(open.begin(), open.end(),
						  [&](const Interval *o) { return o->end <= iv.start; }),
				   open.end());
			for (const Interval *o : open)
				if (o->node != iv.node)
					report(fmt("partition %zu: split brain: %s and %s; both act in [%" PRIu64
						   ", %" PRIu64 ") ns",
						   entry.first, describe(*o).c_str(), describe(iv).c_str(),
						   iv.start, std::min(o->end, iv.end)),
					       o->missed || iv.missed);
			open.push_back(&iv);
		}
	}
	return out;
}

bool agree(const std::vector<MapSample> &latest_per_node, std::string *why)
{
	if (latest_per_node.empty())
		return true;
	const MapSample &ref = latest_per_node.front();
	for (const MapSample &s : latest_per_node) {
		if (s.parts.size() != ref.parts.size()) {
			if (why)
				*why = fmt("node %s has %zu partitions, node %s %zu", s.node.c_str(),
					   s.parts.size(), ref.node.c_str(), ref.parts.size());
			return false;
		}
		for (size_t p = 0; p < s.parts.size(); p++)
			if (s.parts[p].epoch != ref.parts[p].epoch ||
			    s.parts[p].primary != ref.parts[p].primary) {
				if (why)
					*why = fmt("partition %zu: node %s shows epoch %" PRId64
						   " primary \"%s\", node %s "
						   "epoch %" PRId64 " primary \"%s\"",
						   p, s.node.c_str(), s.parts[p].epoch,
						   s.parts[p].primary.c_str(), ref.node.c_str(),
						   ref.parts[p].epoch, ref.parts[p].primary.c_str());
				return false;
			}
	}
	return true;
}
} // namespace sctest
