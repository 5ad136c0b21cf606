// netns.hpp — a cluster of network namespaces on one bridge, for fault tests: a node per namespace, cut and heal.
#pragma once

#include "command.hpp"

#include <functional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace sctest
{
// N network namespaces "sc<pid>n<i>", each with lo up and an "eth0" (one end of a veth pair
// whose other end, "sc<pid>v<i>", is a port of the bridge "scbr<pid>" in the root namespace).
// Node i has 10.<x>.<y>.<i+1>/24; the bridge has 10.<x>.<y>.254, so the test itself, in the
// root namespace, reaches every node. <x>.<y> is derived from the pid and skips any subnet
// the root namespace already has an address or a route in.
//
// If the root namespace's iptables sees bridged frames (br_netfilter loaded and
// bridge-nf-call-iptables = 1), its FORWARD chain would judge traffic between nodes: the
// cluster puts an ACCEPT for its bridge at the head of FORWARD (comment "sctest-<pid>") while
// it lives, so a DROP policy there (Docker sets one) does not cut the nodes off each other.
//
// Everything is removed by the destructor, also when a failed REQUIRE unwinds the test.
// A test process that died without unwinding leaves its objects; cleanup_stale() removes
// those whose pid no longer lives (the constructor calls it).
class NetnsCluster
{
      public:
	// Why this machine cannot build a cluster (not root, no ip or iptables, no network
	// namespaces, no iptables inside one), or "" when it can.
	static std::string unavailable();

	// Remove namespaces, links and FORWARD rules of this naming scheme whose pid is not a
	// living process. Processes still inside such a namespace are left alone (the ones
	// spawn() started die with their test process). Returns how many objects it removed.
	static int cleanup_stale();

	// Throws std::runtime_error, saying which command failed and what it printed, after
	// removing whatever it had built.
	explicit NetnsCluster(size_t nodes);
	~NetnsCluster();
	NetnsCluster(const NetnsCluster &) = delete;
	NetnsCluster &operator=(const NetnsCluster &) = delete;

	size_t size() const
	{
		return node_ns.size();
	}
	// The namespace's name (ip netns), as in /var/run/netns/<name>.
	const std::string &ns(size_t i) const
	{
		return node_ns.at(i);
	}
	// Node i's address, "10.x.y.(i+1)".
	std::string ip(size_t i) const;
	// The bridge's address in the root namespace, "10.x.y.254".
	std::string bridge_ip() const;
	const std::string &bridge() const
	{
		return bridge_name;
	}
	// The root-namespace end of node i's veth pair.
	const std::string &veth(size_t i) const
	{
		return node_veth.at(i);
	}

	// Start argv (argv[0] looked up in PATH) inside namespace i with the test's environment
	// plus env ("KEY=VALUE", replacing a variable of the same name), stdin from /dev/null,
	// stdout and stderr appended to log_path (created if missing). The child gets SIGKILL when
	// the thread that called spawn() ends: when the test process dies, if that is its main
	// thread. Returns its pid, or -1 with errno set if it could not be started (bad namespace,
	// log file, or exec). The caller reaps it (waitpid); one still running when the cluster is
	// destroyed is killed and reaped there.
	pid_t spawn(size_t i, const std::vector<std::string> &argv, const std::vector<std::string> &env,
		    const std::string &log_path);

	// Run fn in a child process inside namespace i and wait: fn's return value, 128 + signal
	// if a signal ended the child, or -1 if it could not enter the namespace.
	int run_in(size_t i, const std::function<int()> &fn);

	// Run a command inside namespace i (through `ip netns exec`) and collect its output.
	CommandResult exec(size_t i, const std::vector<std::string> &argv);

	// Node i loses the network: iptables in its namespace drops every packet in on and out of
	// eth0, established connections included; loopback still works. Idempotent.
	void cut(size_t i);
	// Remove exactly the rules cut(i) added. Idempotent.
	void heal(size_t i);
	bool is_cut(size_t i) const
	{
		return node_cut.at(i);
	}
	// Nodes i and j stop reaching each other on TCP port (as either end's port): iptables in i's
	// namespace drops those packets in and out; every other path stays. Idempotent.
	void cut_port(size_t i, size_t j, int port);
	// Remove exactly the rules cut_port(i, j, port) added. Idempotent.
	void heal_port(size_t i, size_t j, int port);
	// Node i's connections to TCP port at ip (another node's, or its own) stop: iptables in i's
	// namespace drops what it sends there; the other end can still reach i. Idempotent.
	void cut_out(size_t i, const std::string &ip, int port);
	// Remove exactly the rule cut_out(i, ip, port) added. Idempotent.
	void heal_out(size_t i, const std::string &ip, int port);

	// Node i's packets out of eth0 each wait ms, plus up to jitter_ms, before they leave, in the
	// order they came: the kernel here has no netem. sctest-link-delay (its path in the
	// SCTEST_LINK_DELAY environment variable) runs in i's namespace, fed by an NFQUEUE rule in
	// its mangle table's OUTPUT chain, ahead of the filter table's, so cut() still drops what it
	// lets go. Every round trip with node i gains ms; loopback inside it is not delayed. The
	// delayer's output goes to log_path, emptied first. Throws, leaving nothing behind, if it cannot start
	// (or a delay is on already).
	void delay(size_t i, unsigned ms, unsigned jitter_ms, const std::string &log_path);
	// Remove the rule, then stop the delayer, which lets go what it holds first: how many
	// packets it held. 0, and nothing done, when no delay is on.
	uint64_t undelay(size_t i);
	bool is_delayed(size_t i) const
	{
		return node_delayer.at(i) > 0;
	}

      private:
	void teardown();
	std::string subnet; // "10.x.y."
	std::string bridge_name;
	bool forward_rule = false;
	std::vector<std::string> node_ns, node_veth;
	std::vector<bool> node_cut;
	std::vector<pid_t> node_delayer;	 // the delayer of delay(), or -1
	std::vector<std::string> node_delay_log; // and where its output goes
	std::vector<std::string> port_cuts;	 // what each cut_port() and cut_out() in force cut
	std::vector<pid_t> spawned;
};
} // namespace sctest
