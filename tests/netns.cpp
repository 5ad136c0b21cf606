// netns.cpp — network namespaces, veth pairs and a bridge built with ip(8), faults with iptables(8).
#include "netns.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sched.h>
#include <sstream>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.hpp"

extern char **environ;

namespace sctest
{
namespace
{
const char netns_dir[] = "/var/run/netns/";
// cut()'s rules carry this comment, so heal() deletes those and nothing a test added itself.
const char cut_comment[] = "sctest-cut";
// delay()'s rule carries this one.
const char delay_comment[] = "sctest-delay";
// delay()'s NFQUEUE number: queues are per namespace, so one number serves every node.
const int delay_queue = 7;

std::string describe(const std::vector<std::string> &argv)
{
	std::string s;
	for (const std::string &a : argv)
		s += (s.empty() ? "" : " ") + a;
	return s;
}

// Run argv; throw with its output if it fails.
void must(const std::vector<std::string> &argv)
{
	CommandResult r = run_command(argv);
	if (r.status != 0)
		throw std::runtime_error("`" + describe(argv) + "` exited with " + std::to_string(r.status) +
					 ": " + r.err + r.out);
}

bool quiet(const std::vector<std::string> &argv)
{
	return run_command(argv).status == 0;
}

bool pid_alive(long pid)
{
	return pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
}

bool in_path(const std::string &prog)
{
	const char *path = getenv("PATH");
	std::stringstream dirs(path ? path : "/usr/sbin:/usr/bin:/sbin:/bin");
	std::string dir;
	while (std::getline(dirs, dir, ':'))
		if (!dir.empty() && access((dir + "/" + prog).c_str(), X_OK) == 0)
			return true;
	return false;
}

// "<prefix><digits><sep><digits>" (sep 0: "<prefix><digits>" only): the pid, or -1 if name is not of that form.
long parse_name(const std::string &name, const std::string &prefix, char sep)
{
	if (name.compare(0, prefix.size(), prefix) != 0)
		return -1;
	size_t i = prefix.size(), start = i;
	while (i < name.size() && isdigit((unsigned char)name[i]))
		i++;
	if (i == start || i - start > 9)
		return -1;
	long pid = std::stol(name.substr(start, i - start));
	if (sep == 0)
		return i == name.size() ? pid : -1;
	if (i >= name.size() || name[i] != sep)
		return -1;
	size_t j = ++i;
	while (j < name.size() && isdigit((unsigned char)name[j]))
		j++;
	return j > i && j == name.size() ? pid : -1;
}

std::string bridge_for(long pid)
{
	return "scbr" + std::to_string(pid);
}

std::vector<std::string> forward_spec(long pid)
{
	std::string br = bridge_for(pid);
	return { "-i", br,	"-o", br, "-m", "comment", "--comment", "sctest-" + std::to_string(pid),
		 "-j", "ACCEPT" };
}

// Delete every copy of the FORWARD rule the cluster of pid added; how many went.
int remove_forward_rule(long pid)
{
	std::vector<std::string> check = { "iptables", "-w", "-C", "FORWARD" },
				 del = { "iptables", "-w", "-D", "FORWARD" };
	for (const std::string &a : forward_spec(pid)) {
		check.push_back(a);
		del.push_back(a);
	}
	int n = 0;
	while (n < 16 && quiet(check) && quiet(del))
		n++;
	return n;
}

// Names of the links in the root namespace.
std::vector<std::string> root_links()
{
	std::vector<std::string> names;
	std::istringstream lines(run_command({ "ip", "-o", "link", "show" }).out);
	std::string line;
	while (std::getline(lines, line)) {
		// "7: name@peer: <FLAGS> ..."
		size_t a = line.find(": ");
		if (a == std::string::npos)
			continue;
		size_t b = line.find_first_of("@:", a + 2);
		if (b != std::string::npos)
			names.push_back(line.substr(a + 2, b - a - 2));
	}
	return names;
}

bool parse_prefix(const std::string &s, uint32_t *addr, int *len)
{
	unsigned a, b, c, d;
	int l = 32;
	char tail;
	int n = sscanf(s.c_str(), "%u.%u.%u.%u/%d%c", &a, &b, &c, &d, &l, &tail);
	if (n != 4 && n != 5)
		return false;
	if (a > 255 || b > 255 || c > 255 || d > 255 || l < 0 || l > 32)
		return false;
	*addr = a << 24 | b << 16 | c << 8 | d;
	*len = l;
	return true;
}

// Every IPv4 prefix the root namespace has an address or a route in (default routes excluded:
// they cover everything and say nothing about what is taken).
std::vector<std::pair<uint32_t, int>> taken_prefixes()
{
	std::vector<std::pair<uint32_t, int>> out;
	std::istringstream addrs(run_command({ "ip", "-o", "-4", "addr", "show" }).out);
	std::string word, prev;
	while (addrs >> word) {
		uint32_t a;
		int l;
		if (prev == "inet" && parse_prefix(word, &a, &l))
			out.push_back({ a, l });
		prev = word;
	}
	std::istringstream routes(run_command({ "ip", "-4", "route", "show", "table", "all" }).out);
	std::string line;
	while (std::getline(routes, line)) {
		std::istringstream words(line);
		while (words >> word) {
			uint32_t a;
			int l;
			if (parse_prefix(word, &a, &l)) {
				if (l > 0)
					out.push_back({ a, l });
				break;
			}
			// "local 10.1.2.3 dev ...", "broadcast ...", "unreachable ...": the type comes first.
			if (word == "default" || word == "dev" || word == "via")
				break;
		}
	}
	return out;
}
} // namespace

std::string NetnsCluster::unavailable()
{
	const uint64_t caps = effective_caps();
	const uint64_t net_admin = 1ull << 12, sys_admin = 1ull << 21;
	if ((caps & (net_admin | sys_admin)) != (net_admin | sys_admin))
		return "network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN (run as root)";
	if (!in_path("ip"))
		return "ip (iproute2) is not in PATH";
	if (!in_path("iptables"))
		return "iptables is not in PATH";
	if (access("/proc/self/ns/net", R_OK) != 0)
		return "the kernel has no network namespaces";
	// A fresh namespace must work, and so must iptables inside one (nf_tables or xtables).
	pid_t pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) != 0)
			_exit(10);
		int null = open("/dev/null", O_WRONLY);
		dup2(null, 1);
		dup2(null, 2);
		execlp("iptables", "iptables", "-w", "-S", "INPUT", (char *)nullptr);
		_exit(11);
	}
	int st = 0;
	while (pid > 0 && waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (pid < 0 || !WIFEXITED(st))
		return "cannot fork a probe process";
	if (WEXITSTATUS(st) == 10)
		return "cannot create a network namespace (unshare(CLONE_NEWNET) failed)";
	if (WEXITSTATUS(st) != 0)
		return "iptables does not work inside a new network namespace";
	return "";
}

int NetnsCluster::cleanup_stale()
{
	int removed = 0;
	if (DIR *d = opendir(netns_dir)) {
		std::vector<std::string> names;
		while (struct dirent *e = readdir(d))
			names.push_back(e->d_name);
		closedir(d);
		for (const std::string &name : names) {
			long pid = parse_name(name, "sc", 'n');
			if (pid > 0 && !pid_alive(pid) && quiet({ "ip", "netns", "del", name }))
				removed++;
		}
	}
	std::vector<long> dead_bridges;
	for (const std::string &name : root_links()) {
		long veth_pid = parse_name(name, "sc", 'v'), br_pid = parse_name(name, "scbr", 0);
		long pid = veth_pid > 0 ? veth_pid : br_pid;
		if (pid <= 0 || pid_alive(pid))
			continue;
		if (quiet({ "ip", "link", "del", name }))
			removed++;
		if (br_pid > 0)
			dead_bridges.push_back(br_pid);
	}
	// The FORWARD rule names its pid in the comment; find it without the bridge too.
	std::istringstream rules(run_command({ "iptables", "-w", "-S", "FORWARD" }).out);
	std::string line;
	while (std::getline(rules, line)) {
		size_t at = line.find("sctest-");
		if (at == std::string::npos)
			continue;
		long pid = atol(line.c_str() + at + 7);
		if (pid > 0 && !pid_alive(pid))
			removed += remove_forward_rule(pid);
	}
	return removed;
}

NetnsCluster::NetnsCluster(size_t nodes)
{
	if (nodes == 0 || nodes > 250)
		throw std::invalid_argument("NetnsCluster: 1 to 250 nodes");
	cleanup_stale();
	const long pid = getpid();
	bridge_name = bridge_for(pid);
	for (size_t i = 0; i < nodes; i++) {
		node_ns.push_back("sc" + std::to_string(pid) + "n" + std::to_string(i));
		node_veth.push_back("sc" + std::to_string(pid) + "v" + std::to_string(i));
	}
	node_cut.assign(nodes, false);
	node_delayer.assign(nodes, -1);
	node_delay_log.assign(nodes, "");
	// Objects with our names belong to a dead process that had our pid.
	teardown();
	remove_forward_rule(pid);

	// 10.160.0.0 to 10.223.255.0: 16384 /24s, the search starting where the pid points.
	const uint32_t count = 64 * 256;
	std::vector<std::pair<uint32_t, int>> taken = taken_prefixes();
	for (uint32_t k = 0; k < count && subnet.empty(); k++) {
		uint32_t c = ((uint32_t)pid + k) % count;
		uint32_t net = 10u << 24 | (160 + c / 256) << 16 | (c % 256) << 8;
		bool clash = false;
		for (const auto &t : taken) {
			int l = t.second < 24 ? t.second : 24;
			uint32_t mask = l == 0 ? 0 : ~0u << (32 - l);
			clash |= (t.first & mask) == (net & mask);
		}
		if (!clash)
			subnet = "10." + std::to_string(160 + c / 256) + "." + std::to_string(c % 256) + ".";
	}
	try {
		if (subnet.empty())
			throw std::runtime_error("NetnsCluster: no free /24 in 10.160.0.0/10");
		must({ "ip", "link", "add", "name", bridge_name, "type", "bridge", "stp_state", "0",
		       "forward_delay", "0" });
		must({ "ip", "addr", "add", bridge_ip() + "/24", "dev", bridge_name });
		must({ "ip", "link", "set", bridge_name, "up" });
		std::ifstream nf("/proc/sys/net/bridge/bridge-nf-call-iptables");
		int call_iptables = 0;
		if (nf >> call_iptables && call_iptables) {
			std::vector<std::string> add = { "iptables", "-w", "-I", "FORWARD", "1" };
			for (const std::string &a : forward_spec(pid))
				add.push_back(a);
			must(add);
			forward_rule = true;
		}
		for (size_t i = 0; i < nodes; i++) {
			must({ "ip", "netns", "add", node_ns[i] });
			must({ "ip", "-n", node_ns[i], "link", "set", "lo", "up" });
			must({ "ip", "link", "add", node_veth[i], "type", "veth", "peer", "name", "eth0",
			       "netns", node_ns[i] });
			must({ "ip", "link", "set", node_veth[i], "master", bridge_name });
			must({ "ip", "link", "set", node_veth[i], "up" });
			must({ "ip", "-n", node_ns[i], "addr", "add", ip(i) + "/24", "dev", "eth0" });
			must({ "ip", "-n", node_ns[i], "link", "set", "eth0", "up" });
		}
	} catch (...) {
		teardown();
		throw;
	}
}

NetnsCluster::~NetnsCluster()
{
	teardown();
}

void NetnsCluster::teardown()
{
	// Only our own children, and only those not reaped yet: their pid cannot have been reused.
	for (pid_t p : spawned) {
		int st;
		if (waitpid(p, &st, WNOHANG) == 0) {
			kill(p, SIGKILL);
			while (waitpid(p, &st, 0) < 0 && errno == EINTR)
				;
		}
	}
	spawned.clear();
	// Deleting the root end of a veth pair deletes the pair.
	for (const std::string &v : node_veth)
		quiet({ "ip", "link", "del", v });
	for (const std::string &n : node_ns)
		if (access((netns_dir + n).c_str(), F_OK) == 0)
			quiet({ "ip", "netns", "del", n });
	if (!bridge_name.empty())
		quiet({ "ip", "link", "del", bridge_name });
	if (forward_rule)
		remove_forward_rule(getpid());
	forward_rule = false;
}

std::string NetnsCluster::ip(size_t i) const
{
	return subnet + std::to_string(i + 1);
}

std::string NetnsCluster::bridge_ip() const
{
	return subnet + "254";
}

pid_t NetnsCluster::spawn(size_t i, const std::vector<std::string> &argv, const std::vector<std::string> &env,
			  const std::string &log_path)
{
	if (i >= size() || argv.empty()) {
		errno = EINVAL;
		return -1;
	}
	// Everything the child needs is made before fork: after it, only system calls.
	std::map<std::string, std::string> vars;
	std::vector<std::string> order;
	auto set = [&](const std::string &kv) {
		std::string key = kv.substr(0, kv.find('='));
		if (!vars.count(key))
			order.push_back(key);
		vars[key] = kv;
	};
	for (char **e = environ; *e; e++)
		set(*e);
	for (const std::string &kv : env)
		set(kv);
	std::vector<std::string> env_strings;
	for (const std::string &k : order)
		env_strings.push_back(vars[k]);
	std::vector<char *> cargv, cenv;
	for (const std::string &a : argv)
		cargv.push_back(const_cast<char *>(a.c_str()));
	cargv.push_back(nullptr);
	for (const std::string &e : env_strings)
		cenv.push_back(const_cast<char *>(e.c_str()));
	cenv.push_back(nullptr);

	int ns_fd = open((netns_dir + node_ns[i]).c_str(), O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return -1;
	int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int report[2] = { -1, -1 };
	if (log_fd < 0 || null_fd < 0 || pipe2(report, O_CLOEXEC) != 0) {
		int err = errno;
		for (int fd : { ns_fd, log_fd, null_fd, report[0], report[1] })
			if (fd >= 0)
				close(fd);
		errno = err;
		return -1;
	}
	const pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		int err = 0;
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, nullptr);
		if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent)
			_exit(127);
		if (setns(ns_fd, CLONE_NEWNET) != 0 || dup2(null_fd, 0) < 0 || dup2(log_fd, 1) < 0 ||
		    dup2(log_fd, 2) < 0) {
			err = errno;
		} else {
			execvpe(cargv[0], cargv.data(), cenv.data());
			err = errno;
		}
		if (write(report[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	int fork_err = errno;
	close(ns_fd);
	close(log_fd);
	close(null_fd);
	close(report[1]);
	if (pid < 0) {
		close(report[0]);
		errno = fork_err;
		return -1;
	}
	// The report pipe closes on exec: nothing in it means the program is running.
	int child_err = 0;
	ssize_t n;
	while ((n = read(report[0], &child_err, sizeof(child_err))) < 0 && errno == EINTR)
		;
	close(report[0]);
	if (n > 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
		errno = child_err ? child_err : ECHILD;
		return -1;
	}
	spawned.push_back(pid);
	return pid;
}

int NetnsCluster::run_in(size_t i, const std::function<int()> &fn)
{
	if (i >= size())
		return -1;
	int ns_fd = open((netns_dir + node_ns[i]).c_str(), O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		if (setns(ns_fd, CLONE_NEWNET) != 0)
			_exit(255);
		int code = 125;
		try {
			code = fn();
		} catch (...) {
		}
		_exit(code);
	}
	close(ns_fd);
	if (pid < 0)
		return -1;
	int st = 0;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st) == 255 ? -1 : WEXITSTATUS(st);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : -1;
}

CommandResult NetnsCluster::exec(size_t i, const std::vector<std::string> &argv)
{
	std::vector<std::string> full = { "ip", "netns", "exec", ns(i) };
	full.insert(full.end(), argv.begin(), argv.end());
	return run_command(full);
}

namespace
{
std::vector<std::string> cut_rule(const std::string &op, const char *chain, const char *dir)
{
	return { "iptables", "-w",	op,	     chain,	  dir,	"eth0",
		 "-m",	     "comment", "--comment", cut_comment, "-j", "DROP" };
}
} // namespace

void NetnsCluster::cut(size_t i)
{
	if (node_cut.at(i))
		return;
	CommandResult r = exec(i, cut_rule("-I", "INPUT", "-i"));
	if (r.status == 0) {
		r = exec(i, cut_rule("-I", "OUTPUT", "-o"));
		if (r.status != 0)
			exec(i, cut_rule("-D", "INPUT", "-i"));
	}
	if (r.status != 0)
		throw std::runtime_error("cut(" + std::to_string(i) + "): iptables failed: " + r.err);
	node_cut[i] = true;
}

void NetnsCluster::heal(size_t i)
{
	if (!node_cut.at(i))
		return;
	node_cut[i] = false;
	CommandResult in = exec(i, cut_rule("-D", "INPUT", "-i"));
	CommandResult out = exec(i, cut_rule("-D", "OUTPUT", "-o"));
	if (in.status != 0 || out.status != 0)
		throw std::runtime_error("heal(" + std::to_string(i) + "): iptables failed: " + in.err +
					 out.err);
}

namespace
{
std::vector<std::string> port_rule(const std::string &op, const char *chain, const char *peer_dir,
				   const std::string &peer, int port)
{
	return { "iptables", "-w",	op,	     chain,	  peer_dir,  peer,
		 "-p",	     "tcp",	"-m",	     "multiport", "--ports", std::to_string(port),
		 "-m",	     "comment", "--comment", cut_comment, "-j",	     "DROP" };
}
} // namespace

void NetnsCluster::cut_port(size_t i, size_t j, int port)
{
	const std::string what = std::to_string(i) + " " + std::to_string(j) + " " + std::to_string(port);
	if (std::find(port_cuts.begin(), port_cuts.end(), what) != port_cuts.end())
		return;
	CommandResult r = exec(i, port_rule("-I", "INPUT", "-s", ip(j), port));
	if (r.status == 0) {
		r = exec(i, port_rule("-I", "OUTPUT", "-d", ip(j), port));
		if (r.status != 0)
			exec(i, port_rule("-D", "INPUT", "-s", ip(j), port));
	}
	if (r.status != 0)
		throw std::runtime_error("cut_port(" + what + "): iptables failed: " + r.err);
	port_cuts.push_back(what);
}

void NetnsCluster::heal_port(size_t i, size_t j, int port)
{
	const std::string what = std::to_string(i) + " " + std::to_string(j) + " " + std::to_string(port);
	auto at = std::find(port_cuts.begin(), port_cuts.end(), what);
	if (at == port_cuts.end())
		return;
	port_cuts.erase(at);
	CommandResult in = exec(i, port_rule("-D", "INPUT", "-s", ip(j), port));
	CommandResult out = exec(i, port_rule("-D", "OUTPUT", "-d", ip(j), port));
	if (in.status != 0 || out.status != 0)
		throw std::runtime_error("heal_port(" + what + "): iptables failed: " + in.err + out.err);
}

namespace
{
std::vector<std::string> out_rule(const std::string &op, const std::string &ip, int port)
{
	return { "iptables", "-w",	op,	     "OUTPUT",	  "-d",
		 ip,	     "-p",	"tcp",	     "--dport",	  std::to_string(port),
		 "-m",	     "comment", "--comment", cut_comment, "-j",
		 "DROP" };
}
} // namespace

void NetnsCluster::cut_out(size_t i, const std::string &ip, int port)
{
	const std::string what = std::to_string(i) + " > " + ip + ":" + std::to_string(port);
	if (std::find(port_cuts.begin(), port_cuts.end(), what) != port_cuts.end())
		return;
	CommandResult r = exec(i, out_rule("-I", ip, port));
	if (r.status != 0)
		throw std::runtime_error("cut_out(" + what + "): iptables failed: " + r.err);
	port_cuts.push_back(what);
}

void NetnsCluster::heal_out(size_t i, const std::string &ip, int port)
{
	const std::string what = std::to_string(i) + " > " + ip + ":" + std::to_string(port);
	auto at = std::find(port_cuts.begin(), port_cuts.end(), what);
	if (at == port_cuts.end())
		return;
	port_cuts.erase(at);
	CommandResult r = exec(i, out_rule("-D", ip, port));
	if (r.status != 0)
		throw std::runtime_error("heal_out(" + what + "): iptables failed: " + r.err);
}
namespace
{
std::vector<std::string> delay_rule(const std::string &op)
{
	return { "iptables",
		 "-w",
		 "-t",
		 "mangle",
		 op,
		 "OUTPUT",
		 "-o",
		 "eth0",
		 "-m",
		 "comment",
		 "--comment",
		 delay_comment,
		 "-j",
		 "NFQUEUE",
		 "--queue-num",
		 std::to_string(delay_queue),
		 "--queue-bypass" };
}

std::string text_of(const std::string &path)
{
	std::ifstream f(path);
	std::stringstream s;
	s << f.rdbuf();
	return s.str();
}

void reap(pid_t pid)
{
	int st;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
}
} // namespace

void NetnsCluster::delay(size_t i, unsigned ms, unsigned jitter_ms, const std::string &log_path)
{
	const std::string what = "delay(" + std::to_string(i) + ", " + std::to_string(ms) + " ms)";
	const char *tool = std::getenv("SCTEST_LINK_DELAY");
	if (!tool || !*tool)
		throw std::runtime_error(what + ": SCTEST_LINK_DELAY does not name sctest-link-delay");
	if (is_delayed(i))
		throw std::runtime_error(what + ": node " + std::to_string(i) + " is delayed already");
	const pid_t pid =
		spawn(i, { tool, std::to_string(delay_queue), std::to_string(ms), std::to_string(jitter_ms) },
		      {}, log_path);
	if (pid < 0)
		throw std::runtime_error(what + ": cannot start " + tool + ": " + std::strerror(errno));
	// It says "ready" once bound to its queue, or exits saying why not; 5 s bounds the wait.
	struct timespec tick = { 0, 5 * 1000 * 1000 };
	int st = 0;
	bool exited = false, ready = false;
	for (int n = 0; n < 1000 && !ready && !exited; n++) {
		ready = text_of(log_path).find("ready\n") != std::string::npos;
		exited = !ready && waitpid(pid, &st, WNOHANG) == pid;
		if (!ready && !exited)
			nanosleep(&tick, nullptr);
	}
	CommandResult r;
	if (ready)
		r = exec(i, delay_rule("-I"));
	if (!ready || r.status != 0) {
		if (!exited) {
			kill(pid, SIGKILL);
			reap(pid);
		}
		spawned.erase(std::find(spawned.begin(), spawned.end(), pid));
		throw std::runtime_error(what +
					 (ready ? ": iptables failed: " + r.err
						: ": the delayer did not start: " + text_of(log_path)));
	}
	node_delayer[i] = pid;
	node_delay_log[i] = log_path;
}

uint64_t NetnsCluster::undelay(size_t i)
{
	const pid_t pid = node_delayer.at(i);
	if (pid < 0)
		return 0;
	node_delayer[i] = -1;
	CommandResult r = exec(i, delay_rule("-D"));
	kill(pid, SIGTERM);
	reap(pid);
	spawned.erase(std::find(spawned.begin(), spawned.end(), pid));
	const std::string out = text_of(node_delay_log[i]);
	const size_t at = out.rfind("held ");
	if (r.status != 0 || at == std::string::npos)
		throw std::runtime_error(
			"undelay(" + std::to_string(i) +
			"): " + (r.status != 0 ? "iptables failed: " + r.err : "the delayer said: " + out));
	return std::strtoull(out.c_str() + at + 5, nullptr, 10);
}
} // namespace sctest
