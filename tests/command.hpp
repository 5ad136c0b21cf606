// command.hpp — running a program as a test's child: its output, its exit status, no shell.
#pragma once

#include <string>
#include <vector>

namespace sctest
{
struct CommandResult {
	int status = -1; // exit code, or 128 + signal
	std::string out, err;
};

// Run argv (argv[0] looked up in PATH) with extra "KEY=VALUE" environment entries and
// stdin from input; wait for it and return what it wrote.
CommandResult run_command(const std::vector<std::string> &argv, const std::vector<std::string> &env = {},
			  const std::string &input = "");
} // namespace sctest
