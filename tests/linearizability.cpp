// linearizability.cpp — a register's history checked for a linearization: Wing and Gong's search, each
// state (the operations linearized so far, the register's value) explored once, as Lowe memoises it.
#include "linearizability.hpp"

#include <algorithm>
#include <cstring>
#include <sstream>
#include <unordered_set>

namespace sctest
{

namespace
{

const uint32_t NONE = UINT32_MAX;

// The search's position: which operations are linearized (all before first, and done_above more after
// it), and the register's value.
struct Search {
	std::vector<RegisterOp> ops;
	std::vector<char> done;
	size_t first = 0, done_above = 0, known_left = 0;

	// The earliest completion among the operations not linearized: none invoked after it can come next.
	uint64_t min_complete() const
	{
		uint64_t m = RegisterOp::UNKNOWN;
		for (size_t j = first; j < ops.size() && ops[j].invoke < m; j++)
			if (!done[j] && ops[j].complete < m)
				m = ops[j].complete;
		return m;
	}

	// The operations that may be linearized next.
	std::vector<uint32_t> candidates() const
	{
		std::vector<uint32_t> c;
		const uint64_t m = min_complete();
		for (size_t j = first; j < ops.size() && ops[j].invoke < m; j++)
			if (!done[j])
				c.push_back(static_cast<uint32_t>(j));
		return c;
	}

	void mark(uint32_t i, bool on)
	{
		const size_t known = ops[i].complete != RegisterOp::UNKNOWN;

		done[i] = on;
		if (on)
			known_left -= known;
		else
			known_left += known;
		if (on) {
			done_above++;
			while (first < ops.size() && done[first]) {
				first++;
				done_above--;
			}
		} else if (i < first) {
			// Every operation from i to first was linearized; now those after i count as above it.
			done_above += first - i - 1;
			first = i;
		} else {
			done_above--;
		}
	}

	// The state as bytes: first, the value, the linearized operations after first.
	std::string key(int64_t value) const
	{
		std::string k(sizeof(first) + sizeof(value), '\0');
		std::memcpy(&k[0], &first, sizeof(first));
		std::memcpy(&k[sizeof(first)], &value, sizeof(value));
		size_t seen = 0;
		for (size_t j = first + 1; j < ops.size() && seen < done_above; j++)
			if (done[j]) {
				const uint32_t idx = static_cast<uint32_t>(j);
				k.append(reinterpret_cast<const char *>(&idx), sizeof(idx));
				seen++;
			}
		return k;
	}
};

std::string describe(const RegisterOp &op)
{
	std::ostringstream s;
	s << (op.kind == RegisterOp::PUT ? "put " : "get -> ") << op.value << " [" << op.invoke << ", ";
	if (op.complete == RegisterOp::UNKNOWN)
		s << "unknown";
	else
		s << op.complete;
	s << "]";
	return s.str();
}

} // namespace

LinearizabilityVerdict check_register(std::vector<RegisterOp> ops, uint64_t max_states)
{
	LinearizabilityVerdict v;
	// A put of unknown outcome whose value no get returned is left out: taking effect could only put a
	// value there that nobody saw, which no linearization needs.
	std::unordered_set<int64_t> read;
	for (auto &op : ops)
		if (op.kind == RegisterOp::GET)
			read.insert(op.value);
	ops.erase(std::remove_if(ops.begin(), ops.end(),
				 [&](const RegisterOp &op) {
					 return op.kind == RegisterOp::PUT &&
						op.complete == RegisterOp::UNKNOWN && !read.count(op.value);
				 }),
		  ops.end());
	std::sort(ops.begin(), ops.end(),
		  [](const RegisterOp &a, const RegisterOp &b) { return a.invoke < b.invoke; });

	Search s;
	s.ops = std::move(ops);
	s.done.assign(s.ops.size(), 0);
	for (auto &op : s.ops)
		s.known_left += op.complete != RegisterOp::UNKNOWN;
	if (s.known_left == 0) {
		v.linearizable = true;
		return v;
	}

	struct Frame {
		std::vector<uint32_t> cands;
		size_t next;
		int64_t value;
		uint32_t chosen;
	};
	std::vector<Frame> stack;
	std::unordered_set<std::string> seen;
	size_t deepest = 0;
	stack.push_back({ s.candidates(), 0, 0, NONE });
	while (!stack.empty()) {
		Frame &f = stack.back();
		if (f.chosen != NONE) {
			s.mark(f.chosen, false);
			f.chosen = NONE;
		}
		if (f.next == f.cands.size()) {
			stack.pop_back();
			continue;
		}
		const uint32_t i = f.cands[f.next++];
		const RegisterOp &op = s.ops[i];
		if (op.kind == RegisterOp::GET && op.value != f.value)
			continue;
		const int64_t value = op.kind == RegisterOp::PUT ? op.value : f.value;
		s.mark(i, true);
		f.chosen = i;
		if (s.known_left == 0) {
			v.linearizable = true;
			return v;
		}
		if (!seen.insert(s.key(value)).second)
			continue;
		if (++v.states > max_states) {
			v.gave_up = true;
			return v;
		}
		deepest = std::max(deepest, s.first);
		stack.push_back({ s.candidates(), 0, value, NONE });
	}
	std::ostringstream why;
	why << "no order gets past operation " << deepest << " of " << s.ops.size() << ":";
	for (size_t j = deepest; j < s.ops.size() && j < deepest + 4; j++)
		why << " " << describe(s.ops[j]) << ";";
	v.why = why.str();
	return v;
}

} // namespace sctest
