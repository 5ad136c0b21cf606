// command.cpp — running a program as a test's child: its output, its exit status, no shell.
#include "command.hpp"

#include <cerrno>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sctest
{
namespace
{
// Drain both pipes until both are closed, writing input first (small inputs only).
void collect(int out_fd, int err_fd, CommandResult &r)
{
	struct pollfd fds[2] = { { out_fd, POLLIN, 0 }, { err_fd, POLLIN, 0 } };
	std::string *dest[2] = { &r.out, &r.err };
	int open = 2;
	char buf[4096];

	while (open > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			ssize_t n = read(fds[i].fd, buf, sizeof(buf));
			if (n > 0) {
				dest[i]->append(buf, (size_t)n);
			} else if (n == 0 || errno != EINTR) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open--;
			}
		}
	}
}
} // namespace

CommandResult run_command(const std::vector<std::string> &argv, const std::vector<std::string> &env,
			  const std::string &input)
{
	CommandResult r;
	int out[2], err[2], in[2];

	if (argv.empty() || pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC) || pipe2(in, O_CLOEXEC))
		return r;
	pid_t pid = fork();
	if (pid == 0) {
		std::vector<char *> args;
		for (const std::string &a : argv)
			args.push_back(const_cast<char *>(a.c_str()));
		args.push_back(nullptr);
		for (const std::string &e : env)
			putenv(const_cast<char *>(e.c_str()));
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		execvp(args[0], args.data());
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	if (!input.empty() && write(in[1], input.data(), input.size()) < 0)
		r.err = "cannot write the command's input";
	close(in[1]);
	collect(out[0], err[0], r);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	r.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return r;
}
} // namespace sctest
