// coordinator_harness.cpp — a private dbus-daemon, a supercached on it, a notify socket, a bus client.
#include "coordinator_harness.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <poll.h>
#include <sstream>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

namespace sctest
{
namespace
{
std::string make_temp_dir(mode_t mode)
{
	char tmpl[] = "/tmp/sctest-coord-XXXXXX";
	if (!mkdtemp(tmpl))
		return "";
	chmod(tmpl, mode);
	return tmpl;
}

int exit_status(pid_t pid)
{
	int status = 0;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// The system bus's defaults (deny owning and calling, allow signals and replies), then the project's policy.
std::string bus_config(const std::string &socket)
{
	return "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN\"\n"
	       " \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
	       "<busconfig>\n"
	       "  <listen>unix:path=" +
	       socket +
	       "</listen>\n"
	       "  <auth>EXTERNAL</auth>\n"
	       "  <policy context=\"default\">\n"
	       "    <allow user=\"*\"/>\n"
	       "    <deny own=\"*\"/>\n"
	       "    <deny send_type=\"method_call\"/>\n"
	       "    <allow send_type=\"signal\"/>\n"
	       "    <allow send_requested_reply=\"true\" send_type=\"method_return\"/>\n"
	       "    <allow send_requested_reply=\"true\" send_type=\"error\"/>\n"
	       "    <allow receive_type=\"method_call\"/>\n"
	       "    <allow receive_type=\"method_return\"/>\n"
	       "    <allow receive_type=\"error\"/>\n"
	       "    <allow receive_type=\"signal\"/>\n"
	       "    <allow send_destination=\"org.freedesktop.DBus\" send_interface=\"org.freedesktop.DBus\"/>\n"
	       "    <allow send_destination=\"org.freedesktop.DBus\"\n"
	       "           send_interface=\"org.freedesktop.DBus.Introspectable\"/>\n"
	       "  </policy>\n"
	       "  <include>" SCTEST_BUS_POLICY "</include>\n"
	       "</busconfig>\n";
}
} // namespace

PrivateBus::PrivateBus() : dir(make_temp_dir(0755))
{
	int fds[2];
	std::string config = dir + "/bus.conf";

	if (dir.empty() || pipe(fds))
		return;
	std::ofstream(config) << bus_config(dir + "/bus");
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		std::string print = "--print-address=" + std::to_string(fds[1]);
		std::string cfg = "--config-file=" + config;
		execlp("dbus-daemon", "dbus-daemon", "--nofork", "--nopidfile", cfg.c_str(), print.c_str(),
		       (char *)nullptr);
		_exit(127);
	}
	close(fds[1]);
	// The address is printed once the bus listens: that line is the handshake.
	char buf[512];
	ssize_t n, got = 0;
	while (got < (ssize_t)sizeof(buf) - 1 &&
	       (n = read(fds[0], buf + got, sizeof(buf) - 1 - (size_t)got)) > 0) {
		got += n;
		if (memchr(buf, '\n', (size_t)got))
			break;
	}
	close(fds[0]);
	buf[got > 0 ? got : 0] = '\0';
	if (char *nl = strchr(buf, '\n'))
		*nl = '\0';
	addr = buf;
}

PrivateBus::~PrivateBus()
{
	if (pid > 0) {
		kill(pid, SIGTERM);
		exit_status(pid);
	}
	if (!dir.empty()) {
		unlink((dir + "/bus").c_str());
		unlink((dir + "/bus.conf").c_str());
		rmdir(dir.c_str());
	}
}

NotifySocket::NotifySocket() : dir(make_temp_dir(0700))
{
	struct sockaddr_un sa = {};

	sock_path = dir + "/notify";
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_path.c_str());
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(fd);
		fd = -1;
	}
}

NotifySocket::~NotifySocket()
{
	if (fd >= 0)
		close(fd);
	unlink(sock_path.c_str());
	rmdir(dir.c_str());
}

std::string NotifySocket::next(int timeout_ms)
{
	struct pollfd p = { fd, POLLIN, 0 };
	char buf[4096];

	if (fd < 0 || poll(&p, 1, timeout_ms) != 1)
		return "";
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);
	return n > 0 ? std::string(buf, (size_t)n) : "";
}

std::string NotifySocket::wait_for(const std::string &line, int timeout_ms)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);

	for (;;) {
		int left = (int)std::chrono::duration_cast<std::chrono::milliseconds>(
				   deadline - std::chrono::steady_clock::now())
				   .count();
		if (left <= 0)
			return "";
		std::string msg = next(left);
		if (msg.empty())
			return "";
		std::istringstream lines(msg);
		for (std::string l; std::getline(lines, l);)
			if (l == line)
				return msg;
	}
}

std::string supercached_path()
{
	const char *p = getenv("SUPERCACHED");
	return p ? p : "supercached";
}

Daemon::Daemon(const std::vector<std::string> &args, const std::vector<std::string> &extra_env)
{
	char tmpl[] = "/tmp/sctest-supercached-log-XXXXXX";
	int log_fd = mkstemp(tmpl);

	log_path = tmpl;
	child = fork();
	if (child == 0) {
		std::vector<std::string> argv = { supercached_path() };
		argv.insert(argv.end(), args.begin(), args.end());
		std::vector<char *> cargs;
		for (std::string &a : argv)
			cargs.push_back(&a[0]);
		cargs.push_back(nullptr);
		for (const std::string &e : extra_env)
			putenv(strdup(e.c_str()));
		setenv("WATCHDOG_PID", std::to_string(getpid()).c_str(), 1);
		dup2(log_fd, 2);
		execv(cargs[0], cargs.data());
		_exit(127);
	}
	close(log_fd);
}

Daemon::~Daemon()
{
	if (child > 0)
		terminate();
	unlink(log_path.c_str());
}

int Daemon::terminate()
{
	if (child <= 0)
		return -1;
	kill(child, SIGTERM);
	return wait();
}

int Daemon::wait()
{
	int status = exit_status(child);
	child = -1;
	return status;
}

std::string Daemon::log() const
{
	return file_text(log_path);
}

std::string file_text(const std::string &path)
{
	std::ifstream in(path);
	std::stringstream s;
	s << in.rdbuf();
	return s.str();
}

namespace
{
int read_basic(sd_bus_message *m, char type, BusValue &v)
{
	uint32_t u32;
	int32_t i32;
	int b;
	const char *s;
	int r;

	v.type = type;
	switch (type) {
	case 'u':
		r = sd_bus_message_read_basic(m, 'u', &u32);
		v.u = u32;
		return r;
	case 't':
		return sd_bus_message_read_basic(m, 't', &v.u);
	case 'i':
		r = sd_bus_message_read_basic(m, 'i', &i32);
		v.i = i32;
		return r;
	case 'x':
		return sd_bus_message_read_basic(m, 'x', &v.i);
	case 'd':
		return sd_bus_message_read_basic(m, 'd', &v.d);
	case 'b':
		r = sd_bus_message_read_basic(m, 'b', &b);
		v.b = b;
		return r;
	case 's':
		r = sd_bus_message_read_basic(m, 's', &s);
		if (r > 0)
			v.s = s;
		return r;
	}
	return -EBADMSG;
}

int read_rows(sd_bus_message *m, BusValue &v)
{
	int32_t part;
	uint64_t off;
	const char *what;
	int r;

	v.type = 'r';
	while ((r = sd_bus_message_read(m, "(its)", &part, &off, &what)) > 0)
		v.rows.push_back({ std::to_string(part), std::to_string(off), what });
	return r;
}

int read_variant(sd_bus_message *m, BusValue &v)
{
	const char *contents;
	char type;
	int r = sd_bus_message_peek_type(m, &type, &contents);

	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	r = sd_bus_message_enter_container(m, 'v', contents);
	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	if (strcmp(contents, "a{sv}") == 0) {
		v.type = 'a';
		r = read_dict(m, v.dict);
	} else if (strcmp(contents, "at") == 0) {
		const void *p;
		size_t n;
		v.type = 'T';
		r = sd_bus_message_read_array(m, 't', &p, &n);
		if (r >= 0)
			v.at.assign((const uint64_t *)p, (const uint64_t *)p + n / sizeof(uint64_t));
	} else if (strcmp(contents, "as") == 0) {
		const char *str;
		v.type = 'S';
		r = sd_bus_message_enter_container(m, 'a', "s");
		while (r > 0 && (r = sd_bus_message_read_basic(m, 's', &str)) > 0)
			v.strings.push_back(str);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	} else if (strcmp(contents, "a{sa{sv}}") == 0) {
		v.type = 'D';
		r = sd_bus_message_enter_container(m, 'a', "{sa{sv}}");
		while (r > 0 && (r = sd_bus_message_enter_container(m, 'e', "sa{sv}")) > 0) {
			const char *key;
			r = sd_bus_message_read_basic(m, 's', &key);
			if (r > 0) {
				BusValue &inner = v.dict[key];
				inner.type = 'a';
				r = read_dict(m, inner.dict);
			}
			if (r >= 0)
				r = sd_bus_message_exit_container(m);
		}
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	} else if (strcmp(contents, "a(its)") == 0) {
		r = sd_bus_message_enter_container(m, 'a', "(its)");
		if (r > 0)
			r = read_rows(m, v);
		if (r >= 0)
			r = sd_bus_message_exit_container(m);
	} else if (strlen(contents) == 1) {
		r = read_basic(m, contents[0], v);
	} else {
		r = -EBADMSG;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}
} // namespace

int read_dict(sd_bus_message *m, BusDict &out)
{
	int r = sd_bus_message_enter_container(m, 'a', "{sv}");

	if (r <= 0)
		return r < 0 ? r : -EBADMSG;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		const char *key;
		r = sd_bus_message_read_basic(m, 's', &key);
		if (r <= 0)
			return r < 0 ? r : -EBADMSG;
		std::string k = key;
		r = read_variant(m, out[k]);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	return r < 0 ? r : sd_bus_message_exit_container(m);
}

BusClient::BusClient(const std::string &address)
{
	sd_bus *b = nullptr;

	if (sd_bus_new(&b) < 0)
		return;
	if (sd_bus_set_address(b, address.c_str()) < 0 || sd_bus_set_bus_client(b, 1) < 0 ||
	    sd_bus_start(b) < 0) {
		sd_bus_unref(b);
		return;
	}
	bus = b;
}

BusClient::~BusClient()
{
	sd_bus_flush_close_unref(bus);
}

int BusClient::call_dict(const std::string &dest, const char *iface, const char *method, BusDict &out,
			 std::string *error)
{
	sd_bus_error e = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = nullptr;
	int r = sd_bus_call_method(bus, dest.c_str(), "/org/supercache/Coordinator", iface, method, &e,
				   &reply, "");

	if (r < 0 && error)
		*error = std::string(e.name ? e.name : "") + ": " + (e.message ? e.message : "");
	if (r >= 0)
		r = read_dict(reply, out);
	sd_bus_error_free(&e);
	sd_bus_message_unref(reply);
	return r;
}

int BusClient::on_signal(sd_bus_message *m, void *userdata, sd_bus_error *)
{
	BusClient *self = static_cast<BusClient *>(userdata);
	Signal s;
	const char *check, *message;

	s.member = sd_bus_message_get_member(m);
	if (s.member == "HealthCheck") {
		read_dict(m, s.health);
	} else if (s.member == "HealthAlert" &&
		   sd_bus_message_read(m, "sdds", &check, &s.value, &s.threshold, &message) > 0) {
		s.check = check;
		s.message = message;
	}
	self->seen.push_back(s);
	return 0;
}

int BusClient::watch_health_signals()
{
	return sd_bus_match_signal(bus, nullptr, nullptr, "/org/supercache/Coordinator",
				   "org.supercache.HealthMonitor1", nullptr, on_signal, this);
}

void BusClient::dispatch()
{
	while (sd_bus_process(bus, nullptr) > 0)
		;
}

size_t BusClient::count(const std::string &member) const
{
	size_t n = 0;
	for (const Signal &s : seen)
		n += s.member == member;
	return n;
}

bool BusClient::wait_signals(const std::string &member, size_t n, int timeout_ms)
{
	auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);

	for (;;) {
		dispatch();
		if (count(member) >= n)
			return true;
		auto left = std::chrono::duration_cast<std::chrono::microseconds>(
				    deadline - std::chrono::steady_clock::now())
				    .count();
		if (left <= 0)
			return false;
		sd_bus_wait(bus, (uint64_t)left);
	}
}
} // namespace sctest
