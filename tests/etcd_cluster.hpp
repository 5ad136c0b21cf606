// etcd_cluster.hpp — real etcd members as the test's children: a cluster to speak to, kill, stop and restart.
#pragma once

#include <string>
#include <sys/types.h>
#include <vector>

namespace sctest
{
// One member: etcd's --name ("" names it m<index>), the address it listens on, and the
// network namespace it runs in ("" for the test's own; else `ip netns exec <netns> etcd ...`).
struct EtcdMemberSpec {
	std::string name;
	std::string ip = "127.0.0.1";
	std::string netns;
};

// A fresh etcd cluster, each member with its data directory and log file under a directory
// of its own (mkdtemp), a client and a peer port picked free, election and heartbeat timings
// short enough for tests. The constructor returns once every member answers GET /health with
// "true" (20 s at most): check ok(), and error() says what went wrong. The destructor kills
// every member (SIGKILL) and removes the directory.
//
//   sctest::EtcdCluster etcd;                 // 3 members on 127.0.0.1
//   REQUIRE(etcd.ok()); INFO(etcd.logs());
//   scd_etcd_new(event, etcd.endpoints().c_str(), ...);
//   sctest::EtcdCluster two({ { "a", "10.0.0.1", "ns-a" }, { "b", "10.0.0.2", "ns-b" } });
class EtcdCluster
{
      public:
	explicit EtcdCluster(unsigned members = 3);
	explicit EtcdCluster(const std::vector<EtcdMemberSpec> &specs);
	~EtcdCluster();
	EtcdCluster(const EtcdCluster &) = delete;
	EtcdCluster &operator=(const EtcdCluster &) = delete;

	bool ok() const
	{
		return why.empty();
	}
	const std::string &error() const
	{
		return why;
	}
	unsigned size() const
	{
		return static_cast<unsigned>(members.size());
	}
	// Every member's client URL, comma-separated, in member order.
	std::string endpoints() const;
	// The client URLs of the members named, in the order given ({ 2, 0 }: member 2's first).
	std::string endpoints(const std::vector<unsigned> &order) const;
	// Member i's client URL: http://ip:port.
	std::string endpoint(unsigned i) const;
	// Member i's client port (its address is its spec's ip).
	unsigned client_port(unsigned i) const
	{
		return members[i].client_port;
	}
	// Member i's process, or -1 when it is not running.
	pid_t pid(unsigned i) const;
	// Send member i a signal. SIGKILL, SIGTERM, SIGINT and SIGQUIT also wait for it to exit
	// (a stopped member is continued first, so that it can); after that pid(i) is -1.
	void kill(unsigned i, int sig);
	// Start member i again on its data directory (killing it first if it runs) and wait until it
	// is healthy: whether it is; error() says why not.
	bool restart(unsigned i);
	// Wait until member i answers GET /health with "true": whether it did within timeout_ms.
	bool wait_healthy(unsigned i, int timeout_ms = 20000);
	// SIGTERM every member (SIGKILL after 10 s) and reap it. A leader hands its leadership over
	// first, which takes seconds when the others are stopping too.
	void stop();
	// What member i wrote to its log (the last 64 KiB), and every member's, for failure messages.
	std::string log(unsigned i) const;
	std::string logs() const;
	// The directory holding the members' data directories and logs.
	const std::string &dir() const
	{
		return root;
	}

      private:
	struct Member {
		EtcdMemberSpec spec;
		unsigned client_port = 0, peer_port = 0;
		std::string data_dir, log_path;
		pid_t pid = -1;
	};
	void start(unsigned i, bool fresh);
	bool healthy_once(unsigned i) const;
	void reap(unsigned i, int timeout_ms);

	std::vector<Member> members;
	std::string root, token, initial_cluster, why;
};
} // namespace sctest
