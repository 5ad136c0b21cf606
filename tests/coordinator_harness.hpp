// coordinator_harness.hpp — a private dbus-daemon, a supercached on it, a notify socket, a bus client.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <sys/types.h>
#include <systemd/sd-bus.h>
#include <vector>

namespace sctest
{
// A dbus-daemon of the test's own, with the system bus's default-deny rules and the
// project's bus policy (packaging/) included: what the system bus would decide, decided here.
class PrivateBus
{
      public:
	PrivateBus();
	~PrivateBus();
	PrivateBus(const PrivateBus &) = delete;
	PrivateBus &operator=(const PrivateBus &) = delete;
	const std::string &address() const
	{
		return addr;
	}
	bool ok() const
	{
		return !addr.empty();
	}

      private:
	std::string dir, addr;
	pid_t pid = -1;
};

// A datagram socket standing in for systemd's NOTIFY_SOCKET.
class NotifySocket
{
      public:
	NotifySocket();
	~NotifySocket();
	NotifySocket(const NotifySocket &) = delete;
	NotifySocket &operator=(const NotifySocket &) = delete;
	const std::string &path() const
	{
		return sock_path;
	}
	// The next message (one datagram, "KEY=VALUE" lines), or "" if none came within timeout_ms.
	std::string next(int timeout_ms = 20000);
	// Messages until one holds line (e.g. "READY=1"); that message, or "" on timeout.
	std::string wait_for(const std::string &line, int timeout_ms = 20000);

      private:
	std::string dir, sock_path;
	int fd = -1;
};

// A supercached process: started with the given arguments, its stderr in a file.
class Daemon
{
      public:
	// extra_env: "KEY=VALUE" entries (NOTIFY_SOCKET, WATCHDOG_USEC...); WATCHDOG_PID is set to the child.
	Daemon(const std::vector<std::string> &args, const std::vector<std::string> &extra_env = {});
	~Daemon();
	Daemon(const Daemon &) = delete;
	Daemon &operator=(const Daemon &) = delete;
	pid_t pid() const
	{
		return child;
	}
	// SIGTERM, then its exit status (exit code, or 128 + signal).
	int terminate();
	// Wait for it to exit on its own.
	int wait();
	// What it has logged so far.
	std::string log() const;

      private:
	pid_t child = -1;
	std::string log_path;
};

// A file's whole text ("" if it cannot be read).
std::string file_text(const std::string &path);

// The supercached under test, from the SUPERCACHED environment variable the build sets.
std::string supercached_path();

// A value of an a{sv} reply: the basic types the coordinator sends, nested dictionaries (a{sv}, and
// a{sa{sv}} as a dictionary of dictionaries), arrays of t and of s.
struct BusValue {
	char type = 0;
	uint64_t u = 0; // u, t
	int64_t i = 0;	// i, x
	double d = 0;
	bool b = false;
	std::string s;
	std::vector<uint64_t> at;
	std::map<std::string, BusValue> dict;
	std::vector<std::vector<std::string>> rows; // a(its), each field as text
	std::vector<std::string> strings;	    // as
};
using BusDict = std::map<std::string, BusValue>;

// Read an a{sv} at the message's current position.
int read_dict(sd_bus_message *m, BusDict &out);

// A client connection to a bus address, with the signals it has seen.
class BusClient
{
      public:
	explicit BusClient(const std::string &address);
	~BusClient();
	BusClient(const BusClient &) = delete;
	BusClient &operator=(const BusClient &) = delete;
	bool ok() const
	{
		return bus != nullptr;
	}
	// Call a method of destination's /org/supercache/Coordinator; the reply's a{sv} in out, or
	// the error's name and message in error. Returns 0 or a negative errno.
	int call_dict(const std::string &dest, const char *iface, const char *method, BusDict &out,
		      std::string *error = nullptr);
	sd_bus *get() const
	{
		return bus;
	}
	// Subscribe to the HealthMonitor1 signals; each one seen is appended to signals().
	int watch_health_signals();
	// Dispatch what has arrived (without waiting).
	void dispatch();
	// Wait until at least n signals called member have been seen, or timeout_ms passes.
	bool wait_signals(const std::string &member, size_t n, int timeout_ms = 20000);
	struct Signal {
		std::string member;
		BusDict health;		    // HealthCheck
		std::string check, message; // HealthAlert
		double value = 0, threshold = 0;
	};
	const std::vector<Signal> &signals() const
	{
		return seen;
	}
	size_t count(const std::string &member) const;

      private:
	static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *e);
	sd_bus *bus = nullptr;
	std::vector<Signal> seen;
};
} // namespace sctest
