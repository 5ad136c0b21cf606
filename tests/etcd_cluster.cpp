// etcd_cluster.cpp — real etcd members as the test's children: a cluster to speak to, kill, stop and restart.
#include "etcd_cluster.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <curl/curl.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

namespace sctest
{
namespace
{
uint64_t now_ms()
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000u + static_cast<uint64_t>(ts.tv_nsec) / 1000000u;
}

void pause_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

// A socket bound to a free port on ip (or on any address, when ip is not one of ours): it holds
// the port until every port is picked, so that no two members are given the same one. Ports
// come from below the kernel's ephemeral range (32768 up), from a place that depends on the
// process id, so that no outgoing connection takes one before its member binds it, even one
// restarted much later, and two test programs at once start far apart.
int hold_free_port(const std::string &ip, unsigned *port)
{
	static unsigned next = 12000 + static_cast<unsigned>(getpid()) % 1000u * 16u;

	for (unsigned tries = 0; tries < 4000; tries++) {
		struct sockaddr_in a = {};
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		unsigned p = next++;

		if (next >= 30000)
			next = 12000;
		if (fd < 0)
			return -1;
		a.sin_family = AF_INET;
		a.sin_port = htons(static_cast<uint16_t>(p));
		int r = -1;
		errno = 0;
		if (inet_pton(AF_INET, ip.c_str(), &a.sin_addr) == 1)
			r = bind(fd, (struct sockaddr *)&a, sizeof(a));
		if (r < 0 && errno != EADDRINUSE) {
			// Not an address here (a member in another namespace): a port free here is a good guess there.
			a.sin_addr.s_addr = htonl(INADDR_ANY);
			r = bind(fd, (struct sockaddr *)&a, sizeof(a));
		}
		if (r == 0) {
			*port = p;
			return fd;
		}
		close(fd);
	}
	errno = EADDRINUSE;
	return -1;
}

size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
	static_cast<std::string *>(userdata)->append(data, size * nmemb);
	return size * nmemb;
}

// GET url with a short timeout: whether the answer is a 200 that says "health": "true".
bool health_get(const std::string &url)
{
	std::string body;
	long status = 0;
	CURL *easy = curl_easy_init();

	if (!easy)
		return false;
	curl_easy_setopt(easy, CURLOPT_URL, url.c_str());
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, 1000L);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(easy, CURLOPT_WRITEDATA, &body);
	bool ok = curl_easy_perform(easy) == CURLE_OK &&
		  curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status) == CURLE_OK && status == 200 &&
		  body.find("\"health\":\"true\"") != std::string::npos;
	curl_easy_cleanup(easy);
	return ok;
}

int remove_entry(const char *path, const struct stat *, int, struct FTW *)
{
	return remove(path);
}

std::string read_tail(const std::string &path, size_t max)
{
	std::string out;
	FILE *f = fopen(path.c_str(), "re");
	if (!f)
		return out;
	if (fseek(f, 0, SEEK_END) == 0) {
		long size = ftell(f);
		if (size > static_cast<long>(max))
			fseek(f, size - static_cast<long>(max), SEEK_SET);
		else
			fseek(f, 0, SEEK_SET);
	}
	char buf[4096];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		out.append(buf, n);
	fclose(f);
	return out;
}
} // namespace

EtcdCluster::EtcdCluster(unsigned n) : EtcdCluster(std::vector<EtcdMemberSpec>(n))
{
}

EtcdCluster::EtcdCluster(const std::vector<EtcdMemberSpec> &specs)
{
	static unsigned clusters;
	const char *tmp = getenv("TMPDIR");
	std::string templ = std::string(tmp && *tmp ? tmp : "/tmp") + "/sctest-etcd-XXXXXX";
	std::vector<int> held;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (specs.empty()) {
		why = "an etcd cluster needs a member";
		return;
	}
	if (!mkdtemp(&templ[0])) {
		why = "mkdtemp " + templ + ": " + strerror(errno);
		return;
	}
	root = templ;
	token = "sctest-" + std::to_string(getpid()) + "-" + std::to_string(++clusters);
	for (unsigned i = 0; i < specs.size(); i++) {
		Member m;
		m.spec = specs[i];
		if (m.spec.name.empty())
			m.spec.name = "m" + std::to_string(i);
		if (m.spec.ip.empty())
			m.spec.ip = "127.0.0.1";
		m.data_dir = root + "/" + m.spec.name;
		m.log_path = root + "/" + m.spec.name + ".log";
		int a = hold_free_port(m.spec.ip, &m.client_port),
		    b = hold_free_port(m.spec.ip, &m.peer_port);
		if (a >= 0)
			held.push_back(a);
		if (b >= 0)
			held.push_back(b);
		if (a < 0 || b < 0) {
			why = std::string("no free port: ") + strerror(errno);
			break;
		}
		if (!initial_cluster.empty())
			initial_cluster += ",";
		initial_cluster += m.spec.name + "=http://" + m.spec.ip + ":" + std::to_string(m.peer_port);
		members.push_back(m);
	}
	for (int fd : held)
		close(fd);
	if (!why.empty())
		return;
	for (unsigned i = 0; i < members.size(); i++)
		start(i, true);
	uint64_t deadline = now_ms() + 20000;
	for (unsigned i = 0; i < members.size() && why.empty(); i++) {
		int left = static_cast<int>(deadline > now_ms() ? deadline - now_ms() : 0);
		if (!wait_healthy(i, left) && why.empty())
			why = "etcd member " + members[i].spec.name + " is not healthy after 20 s";
	}
}

EtcdCluster::~EtcdCluster()
{
	// SIGKILL, not stop(): the data goes anyway, and a leader told to stop first tries for
	// seconds to hand its leadership to members that are stopping too.
	for (unsigned i = 0; i < members.size(); i++)
		kill(i, SIGKILL);
	if (!root.empty())
		nftw(root.c_str(), remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void EtcdCluster::start(unsigned i, bool fresh)
{
	Member &m = members[i];
	std::string client = "http://" + m.spec.ip + ":" + std::to_string(m.client_port);
	std::string peer = "http://" + m.spec.ip + ":" + std::to_string(m.peer_port);
	std::vector<std::string> args;

	if (!m.spec.netns.empty())
		args = { "ip", "netns", "exec", m.spec.netns };
	args.insert(args.end(), { "etcd",
				  "--name",
				  m.spec.name,
				  "--data-dir",
				  m.data_dir,
				  "--listen-client-urls",
				  client,
				  "--advertise-client-urls",
				  client,
				  "--listen-peer-urls",
				  peer,
				  "--initial-advertise-peer-urls",
				  peer,
				  "--initial-cluster",
				  initial_cluster,
				  "--initial-cluster-token",
				  token,
				  "--initial-cluster-state",
				  fresh ? "new" : "existing",
				  "--heartbeat-interval",
				  "50",
				  "--election-timeout",
				  "500",
				  "--logger",
				  "zap",
				  "--log-outputs",
				  "stderr" });
	std::vector<char *> argv;
	for (std::string &a : args)
		argv.push_back(&a[0]);
	argv.push_back(nullptr);

	int log = open(m.log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (log < 0 || null < 0) {
		why = "open " + m.log_path + ": " + strerror(errno);
		if (log >= 0)
			close(log);
		if (null >= 0)
			close(null);
		return;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		// The member goes with the test, however the test ends.
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(null, STDIN_FILENO);
		dup2(log, STDOUT_FILENO);
		dup2(log, STDERR_FILENO);
		syscall(SYS_close_range, 3u, ~0u, 0u);
		execvp(argv[0], argv.data());
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(log);
	close(null);
	if (pid < 0) {
		why = std::string("fork: ") + strerror(errno);
		return;
	}
	m.pid = pid;
}

bool EtcdCluster::healthy_once(unsigned i) const
{
	const Member &m = members[i];
	std::string url = endpoint(i) + "/health";

	if (m.spec.netns.empty())
		return health_get(url);
	// In the member's namespace, where its address is reachable: a child that enters it and asks.
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(("/run/netns/" + m.spec.netns).c_str(), O_RDONLY | O_CLOEXEC);
		_exit(fd >= 0 && setns(fd, CLONE_NEWNET) == 0 && health_get(url) ? 0 : 1);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return false;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

bool EtcdCluster::wait_healthy(unsigned i, int timeout_ms)
{
	uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms > 0 ? timeout_ms : 0);
	Member &m = members[i];

	for (;;) {
		int status;
		if (m.pid < 0) {
			why = "etcd member " + m.spec.name + " is not running";
			return false;
		}
		if (waitpid(m.pid, &status, WNOHANG) == m.pid) {
			m.pid = -1;
			why = "etcd member " + m.spec.name + " exited (status " + std::to_string(status) +
			      "): " + log(i);
			return false;
		}
		if (healthy_once(i))
			return true;
		if (now_ms() >= deadline)
			return false;
		// A member that is not up yet refuses at once: ask again shortly.
		pause_ms(100);
	}
}

void EtcdCluster::reap(unsigned i, int timeout_ms)
{
	Member &m = members[i];
	uint64_t deadline = now_ms() + static_cast<uint64_t>(timeout_ms);
	int status;

	if (m.pid < 0)
		return;
	while (waitpid(m.pid, &status, WNOHANG) == 0) {
		if (now_ms() >= deadline) {
			::kill(m.pid, SIGKILL);
			waitpid(m.pid, &status, 0);
			break;
		}
		pause_ms(10);
	}
	m.pid = -1;
}

void EtcdCluster::kill(unsigned i, int sig)
{
	Member &m = members[i];

	if (m.pid < 0)
		return;
	::kill(m.pid, sig);
	if (sig == SIGKILL || sig == SIGTERM || sig == SIGINT || sig == SIGQUIT) {
		if (sig != SIGKILL)
			::kill(m.pid, SIGCONT);
		reap(i, 10000);
	}
}

bool EtcdCluster::restart(unsigned i)
{
	kill(i, SIGKILL);
	why.clear();
	start(i, false);
	if (!why.empty())
		return false;
	if (!wait_healthy(i)) {
		if (why.empty())
			why = "etcd member " + members[i].spec.name +
			      " is not healthy 20 s after its restart";
		return false;
	}
	return true;
}

void EtcdCluster::stop()
{
	for (Member &m : members)
		if (m.pid > 0) {
			::kill(m.pid, SIGCONT);
			::kill(m.pid, SIGTERM);
		}
	for (unsigned i = 0; i < members.size(); i++)
		reap(i, 10000);
}

std::string EtcdCluster::endpoint(unsigned i) const
{
	return "http://" + members[i].spec.ip + ":" + std::to_string(members[i].client_port);
}

std::string EtcdCluster::endpoints() const
{
	std::vector<unsigned> all;
	for (unsigned i = 0; i < members.size(); i++)
		all.push_back(i);
	return endpoints(all);
}

std::string EtcdCluster::endpoints(const std::vector<unsigned> &order) const
{
	std::string out;
	for (unsigned i : order) {
		if (!out.empty())
			out += ",";
		out += endpoint(i);
	}
	return out;
}

pid_t EtcdCluster::pid(unsigned i) const
{
	return members[i].pid;
}

std::string EtcdCluster::log(unsigned i) const
{
	return read_tail(members[i].log_path, 64 * 1024);
}

std::string EtcdCluster::logs() const
{
	std::string out;
	for (unsigned i = 0; i < members.size(); i++)
		out += "== " + members[i].spec.name + " (" + members[i].log_path + ")\n" + log(i) + "\n";
	return out;
}
} // namespace sctest
