// crash_walk.hpp — a write killed at each of its crash points in turn, and what every death must leave.
#pragma once

#include <supercache.h>

#include <functional>
#include <string>

#include "internals.h"

// A test that needs the library's crash points (-Dtest_hooks=true) says SKIPPED without them.
#define SCTEST_NEEDS_HOOKS()                                                                  \
	do {                                                                                  \
		if (!sctest_hooks_built()) {                                                  \
			WARN("SKIPPED: needs the crash points of a -Dtest_hooks=true build"); \
			return;                                                               \
		}                                                                             \
	} while (0)

namespace sctest
{

// A value that says which key and version it is, padded to size: a torn one cannot pass.
std::string value_of(int key, int version, size_t size);

// sc_put of key with value_of(key, version, size).
int put_value(sc_cache *c, int key, int version, size_t size);

// The version key holds (checked whole against its size), -1 if absent; fails the test if torn.
int version_of(sc_cache *c, int key, size_t size);

// Put keys 0, 1, ... with values of size until a put evicts: returns how many were put.
int fill_until_evicting(sc_cache *c, size_t size);

struct Scenario {
	const char *name;
	sc_options opts;
	std::function<void(sc_cache *)> preload;
	std::function<void(sc_cache *)> write;	      // in the child, which is killed somewhere inside
	std::function<void(sc_cache *, bool)> verify; // after the repair; bool: the write completed
	// After the child died, before anything else: the first write that meets what it left (k: the
	// crash point, to vary who that is). None: the checker is first, partition by partition.
	std::function<void(sc_cache *, int)> first_touch = nullptr;
	// Before that, a checker in a child repairs what the write left and is killed at a crash point
	// of its own (varying with k), so that the repair itself is cut short and run again.
	bool kill_repairer = false;
};

// Walk k = 1, 2, ... (from 64 on every fourth, with the sanitizers): a fresh cache, the write in a child killed
// at its k-th crash point, the checker (which repairs) and the checks, until the write completes.
// Returns how many crash points it has (at least, when walking every fourth).
int walk_crash_points(const Scenario &s);

} // namespace sctest
