// test_peer_links.cpp — the peer links on real sd-event loops over real loopback TCP: handshake, heartbeats, refusals.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <functional>
#include <memory>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <utility>
#include <vector>

#include <systemd/sd-event.h>

extern "C" {
#include "cluster/frame.h"
#include "cluster/link_auth.h"
#include "cluster/peer_link.h"
#include "record/checksum.h"
}

namespace
{

constexpr uint64_t MS = 1000;
constexpr uint64_t HEARTBEAT = 50 * MS;
constexpr uint64_t DEAD = 500 * MS;
constexpr uint64_t HANDSHAKE = 400 * MS;
constexpr uint64_t WAIT = 10 * 1000 * MS; // what a condition may take before the test fails

uint64_t now_usec()
{
	timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return static_cast<uint64_t>(ts.tv_sec) * 1000000u + static_cast<uint64_t>(ts.tv_nsec) / 1000u;
}

scd_secret make_secret(char seed)
{
	scd_secret s{};
	s.len = 48;
	for (size_t i = 0; i < s.len; i++)
		s.bytes[i] = static_cast<uint8_t>(seed + i);
	return s;
}

const scd_secret &good_secret()
{
	static const scd_secret s = make_secret('k');
	return s;
}

struct Options {
	std::string cluster = "prod";
	scd_secret secret = good_secret();
	uint64_t heartbeat = HEARTBEAT, dead = DEAD, handshake = HANDSHAKE;
	std::string listen = "127.0.0.1:0";
};

// One node: its own event loop and its links, with what its callbacks saw.
struct Node {
	std::string name;
	sd_event *ev = nullptr;
	scd_peers *peers = nullptr;
	std::vector<std::pair<std::string, bool>> events;
	std::vector<std::string> logs;
	std::vector<std::pair<std::string, std::vector<uint8_t>>> received; // (from, body) of user frames
	int refuse = 0;							    // what received() answers
	bool paused = false; // not driven: as good as stopped, its sockets still open

	explicit Node(std::string n, const Options &o = Options()) : name(std::move(n))
	{
		REQUIRE(scd_link_auth_init() == 0);
		REQUIRE(sd_event_new(&ev) >= 0);
		scd_peers_config cfg{};
		cfg.cluster = o.cluster.c_str();
		cfg.node = name.c_str();
		cfg.secret = &o.secret;
		cfg.listen = o.listen.c_str();
		cfg.heartbeat_usec = o.heartbeat;
		cfg.dead_usec = o.dead;
		cfg.handshake_usec = o.handshake;
		cfg.changed = changed;
		cfg.received = on_received;
		cfg.log = log;
		cfg.userdata = this;
		char err[256] = "";
		int r = scd_peers_new(ev, &cfg, &peers, err, sizeof(err));
		INFO(err);
		REQUIRE(r == 0);
	}
	Node(const Node &) = delete;
	Node &operator=(const Node &) = delete;
	~Node()
	{
		scd_peers_free(peers);
		sd_event_unref(ev);
	}

	static void changed(const char *node, bool up, void *userdata)
	{
		static_cast<Node *>(userdata)->events.emplace_back(node, up);
	}
	static int on_received(const char *node, const scd_frame *f, void *userdata)
	{
		Node *n = static_cast<Node *>(userdata);
		n->received.emplace_back(node, std::vector<uint8_t>(f->body, f->body + f->len));
		return n->refuse;
	}
	static void log(void *userdata, int level, const char *fmt, ...) __attribute__((format(printf, 3, 4)))
	{
		char line[512];
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(line, sizeof(line), fmt, ap);
		va_end(ap);
		(void)level;
		static_cast<Node *>(userdata)->logs.emplace_back(line);
	}

	uint16_t port() const
	{
		return scd_peers_port(peers);
	}
	std::string addr() const
	{
		return "127.0.0.1:" + std::to_string(port());
	}
	void want(const Node &other)
	{
		REQUIRE(scd_peers_want(peers, other.name.c_str(), other.addr().c_str()) == 0);
	}
	// The stats of peer, or one with an empty name when it is not known.
	scd_peer_stats stats(const std::string &peer) const
	{
		scd_peer_stats out[16];
		size_t n = scd_peers_stats(peers, out, 16);
		for (size_t i = 0; i < n && i < 16; i++)
			if (peer == out[i].node)
				return out[i];
		scd_peer_stats none{};
		return none;
	}
	bool up(const std::string &peer) const
	{
		return stats(peer).up;
	}
	scd_peers_totals totals() const
	{
		scd_peers_totals t{};
		scd_peers_get_totals(peers, &t);
		return t;
	}
	int count(const std::string &peer, bool up) const
	{
		int n = 0;
		for (const auto &e : events)
			n += e.first == peer && e.second == up;
		return n;
	}
	bool logged(const std::string &what) const
	{
		for (const auto &l : logs)
			if (l.find(what) != std::string::npos)
				return true;
		return false;
	}
	std::string all_logs() const
	{
		std::string s;
		for (const auto &l : logs)
			s += name + ": " + l + "\n";
		return s;
	}
};

// Drive every node not paused until cond holds or timeout passes: whether it held.
bool run_until(const std::vector<Node *> &nodes, const std::function<bool()> &cond, uint64_t timeout = WAIT)
{
	uint64_t deadline = now_usec() + timeout;
	for (;;) {
		std::vector<pollfd> fds;
		for (Node *n : nodes) {
			if (n->paused)
				continue;
			for (int i = 0; i < 256; i++) {
				int r = sd_event_run(n->ev, 0);
				REQUIRE(r >= 0);
				if (r == 0)
					break;
			}
			fds.push_back({ sd_event_get_fd(n->ev), POLLIN, 0 });
		}
		if (cond())
			return true;
		if (now_usec() >= deadline)
			return false;
		poll(fds.data(), fds.size(), 5);
	}
}

// Drive the nodes for a while: for checking that nothing more happens.
void run_for(const std::vector<Node *> &nodes, uint64_t usec)
{
	run_until(
		nodes, [] { return false; }, usec);
}

void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = static_cast<uint8_t>(v >> (8 * i));
}

std::vector<uint8_t> frame(uint8_t type, const void *body, size_t len)
{
	std::vector<uint8_t> f(SCD_FRAME_HEADER + len);
	REQUIRE(scd_frame_put(f.data(), f.size(), type, body, static_cast<uint32_t>(len)) == f.size());
	return f;
}

// A client on a plain socket, saying what the test makes it say.
struct Raw {
	int fd = -1;
	std::vector<uint8_t> in;
	bool closed = false;

	explicit Raw(uint16_t port)
	{
		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		REQUIRE(fd >= 0);
		sockaddr_in sa{};
		sa.sin_family = AF_INET;
		sa.sin_port = htons(port);
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		// On loopback the kernel completes the connection from the listen queue, driven or not.
		REQUIRE(connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) == 0);
		REQUIRE(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
	}
	Raw(const Raw &) = delete;
	Raw &operator=(const Raw &) = delete;
	~Raw()
	{
		close(fd);
	}
	void send(const std::vector<uint8_t> &bytes)
	{
		REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL) ==
			static_cast<ssize_t>(bytes.size()));
	}
	// Take what has come; closed once the other end has closed.
	bool poll_closed()
	{
		uint8_t buf[4096];
		for (;;) {
			ssize_t n = read(fd, buf, sizeof(buf));
			if (n > 0) {
				in.insert(in.end(), buf, buf + n);
				continue;
			}
			if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
				closed = true;
			return closed;
		}
	}
	// The next whole frame that has come, taken from in: whether there was one.
	bool next(uint8_t *type, std::vector<uint8_t> *body)
	{
		poll_closed();
		scd_frame f{};
		size_t used = 0;
		int r = scd_frame_parse(in.data(), in.size(), &f, &used);
		REQUIRE(r >= 0);
		if (r == 0)
			return false;
		*type = f.type;
		body->assign(f.body, f.body + f.len);
		in.erase(in.begin(), in.begin() + static_cast<long>(used));
		return true;
	}
};

scd_hello hello_of(const char *cluster, const char *node)
{
	scd_hello h{};
	snprintf(h.cluster, sizeof(h.cluster), "%s", cluster);
	snprintf(h.node, sizeof(h.node), "%s", node);
	scd_nonce(h.nonce);
	return h;
}

std::vector<uint8_t> hello_frame(const scd_hello &h)
{
	uint8_t body[SCD_HELLO_BYTES];
	size_t n = scd_hello_encode(&h, body);
	REQUIRE(n > 0);
	return frame(SCD_FRAME_HELLO, body, n);
}

// A raw client that opens a link as node, the way a peer does: after it, node is up at the other end.
void handshake_as(Raw &raw, Node &at, const char *node)
{
	scd_hello mine = hello_of("prod", node), theirs{};
	raw.send(hello_frame(mine));
	uint8_t type = 0;
	std::vector<uint8_t> body;
	REQUIRE(run_until({ &at }, [&] { return raw.next(&type, &body); }));
	REQUIRE(type == SCD_FRAME_HELLO);
	scd_frame f{ type, static_cast<uint32_t>(body.size()), body.data() };
	REQUIRE(scd_hello_decode(&f, &theirs) == 0);
	uint8_t proof[SCD_PROOF_BYTES];
	REQUIRE(scd_link_proof(&good_secret(), SCD_LINK_DIALER, &mine, &theirs, proof) == 0);
	raw.send(frame(SCD_FRAME_PROOF, proof, sizeof(proof)));
	REQUIRE(run_until({ &at }, [&] { return raw.next(&type, &body); }));
	REQUIRE(type == SCD_FRAME_PROOF);
	REQUIRE(run_until({ &at }, [&] { return at.up(node); }));
}

} // namespace

TEST_CASE("three nodes link up pairwise, each seeing the other two up once", "[peer-links]")
{
	Node a("a"), b("b"), c("c");
	std::vector<Node *> all = { &a, &b, &c };
	for (Node *n : all)
		for (Node *m : all)
			if (n != m)
				n->want(*m);
	bool linked = run_until(all, [&] {
		for (Node *n : all)
			for (Node *m : all)
				if (n != m && !n->up(m->name))
					return false;
		return true;
	});
	INFO(a.all_logs() + b.all_logs() + c.all_logs());
	REQUIRE(linked);

	// Only the lower name of a pair dials.
	CHECK(a.stats("b").dials >= 1);
	CHECK(a.stats("c").dials >= 1);
	CHECK(b.stats("c").dials >= 1);
	CHECK(b.stats("a").dials == 0);
	CHECK(c.stats("a").dials == 0);
	CHECK(c.stats("b").dials == 0);

	// Heartbeats go both ways on each link, and their round trip on loopback is well inside the interval.
	REQUIRE(run_until(all, [&] {
		for (Node *n : all)
			for (Node *m : all)
				if (n != m && n->stats(m->name).heartbeats_acked < 3)
					return false;
		return true;
	}));
	run_for(all, 300 * MS);
	for (Node *n : all) {
		for (Node *m : all) {
			if (n == m)
				continue;
			scd_peer_stats s = n->stats(m->name);
			INFO(n->name << " -> " << m->name << " rtt " << s.rtt_ns << " srtt " << s.srtt_ns);
			CHECK(s.wanted);
			CHECK(s.up);
			CHECK(s.addr == m->addr());
			CHECK(s.connects == 1);
			CHECK(s.rtt_ns > 0);
			CHECK(s.rtt_ns < HEARTBEAT * 1000);
			CHECK(s.srtt_ns > 0);
			CHECK(s.srtt_ns < HEARTBEAT * 1000);
			CHECK(s.last_ack_usec > 0);
			CHECK(s.last_ack_usec <= now_usec());
			CHECK(s.heartbeats_sent >= s.heartbeats_acked);
			CHECK(s.bad_frames == 0);
			CHECK(s.refused == 0);
			CHECK(n->count(m->name, true) == 1);
			CHECK(n->count(m->name, false) == 0);
		}
		CHECK(n->events.size() == 2);
		scd_peers_totals t = n->totals();
		CHECK(t.bad_frames == 0);
		CHECK(t.refused == 0);
		CHECK(t.pending == 0);
	}
}

// a and b try to link, and each refuses the other: counted on both sides, and never up.
void expect_refused_both_ways(Node &a, Node &b)
{
	a.want(b);
	b.want(a);
	bool refused =
		run_until({ &a, &b }, [&] { return a.stats("b").refused >= 1 && b.stats("a").refused >= 1; });
	INFO(a.all_logs() + b.all_logs());
	REQUIRE(refused);
	CHECK(a.events.empty());
	CHECK(b.events.empty());
}

TEST_CASE("a node with another secret is refused on both sides, counted and logged", "[peer-links]")
{
	Options other;
	other.secret = make_secret('z');
	Node a("a"), b("b", other);
	expect_refused_both_ways(a, b);
	CHECK_FALSE(a.up("b"));
	CHECK_FALSE(b.up("a"));
	CHECK(a.logged("its secret differs"));
	CHECK(b.logged("its secret differs"));
	CHECK(b.logged("127.0.0.1:"));
	CHECK(a.totals().refused >= 1);
	CHECK(a.totals().unnamed_refused == 0);
}

TEST_CASE("a node of another cluster is refused on both sides", "[peer-links]")
{
	Options other;
	other.cluster = "test";
	Node a("a"), b("b", other);
	expect_refused_both_ways(a, b);
	CHECK(a.logged("of cluster test, not prod"));
	CHECK(b.logged("of cluster prod, not test"));
}

TEST_CASE("a bad frame closes the connection and is counted, with the peer's address", "[peer-links]")
{
	Node a("a");
	uint8_t body[SCD_HEARTBEAT_BYTES] = {};
	std::vector<uint8_t> bytes;
	std::string says;

	SECTION("a wrong checksum")
	{
		bytes = frame(SCD_FRAME_HEARTBEAT, body, sizeof(body));
		bytes[4] ^= 1;
		says = "checksum does not match";
	}
	SECTION("a length above the limit")
	{
		bytes.assign(SCD_FRAME_HEADER, 0);
		put32(bytes.data(), SCD_FRAME_MAX_BODY + 1);
		says = "longer than the limit";
	}
	SECTION("another version, behind a right checksum")
	{
		bytes = frame(SCD_FRAME_HEARTBEAT, body, sizeof(body));
		bytes[8] = SCD_FRAME_VERSION + 1;
		put32(bytes.data() + 4, sc_checksum(bytes.data() + 8, 4 + sizeof(body), sizeof(body)));
		says = "another version";
	}
	SECTION("a heartbeat before the hello")
	{
		bytes = frame(SCD_FRAME_HEARTBEAT, body, sizeof(body));
		says = "before the hello";
	}
	SECTION("a frame longer than a hello before the handshake")
	{
		std::vector<uint8_t> big(SCD_HELLO_BYTES + 1, 'x');
		bytes = frame(SCD_FRAME_HELLO, big.data(), big.size());
		bytes.resize(SCD_FRAME_HEADER + 8); // the rest never comes: the length alone is refused
		says = "before the handshake";
	}

	Raw raw(a.port());
	raw.send(bytes);
	bool closed = run_until({ &a }, [&] { return raw.poll_closed() && a.totals().bad_frames == 1; });
	INFO(a.all_logs());
	REQUIRE(closed);
	scd_peers_totals t = a.totals();
	CHECK(t.unnamed_bad_frames == 1);
	CHECK(t.accepted == 1);
	CHECK(t.pending == 0);
	CHECK(a.logged(says));
	// The log names where it came from: the raw socket's own address.
	sockaddr_in sa{};
	socklen_t len = sizeof(sa);
	REQUIRE(getsockname(raw.fd, reinterpret_cast<sockaddr *>(&sa), &len) == 0);
	CHECK(a.logged("127.0.0.1:" + std::to_string(ntohs(sa.sin_port))));
	CHECK(a.events.empty());
}

TEST_CASE("a hello of another cluster is refused; a garbled one is a bad frame", "[peer-links]")
{
	Node a("a");
	Raw stranger(a.port()), garbled(a.port());
	stranger.send(hello_frame(hello_of("other", "x")));
	uint8_t junk[SCD_HELLO_BYTES] = { 3, 'a', 'b' }; // a cluster name running into a zero
	garbled.send(frame(SCD_FRAME_HELLO, junk, sizeof(junk)));
	bool closed = run_until({ &a }, [&] { return stranger.poll_closed() && garbled.poll_closed(); });
	INFO(a.all_logs());
	REQUIRE(closed);
	scd_peers_totals t = a.totals();
	CHECK(t.unnamed_refused == 1);
	CHECK(t.unnamed_bad_frames == 1);
	CHECK(a.logged("a hello that does not decode"));
}

TEST_CASE("after the handshake, a hello or a proof again, or an ack for no heartbeat, closes the link",
	  "[peer-links]")
{
	Node m("m");
	// m wants c, which sorts lower: m waits for c to dial, and a raw client does, as c.
	REQUIRE(scd_peers_want(m.peers, "c", "127.0.0.1:9") == 0);
	Raw raw(m.port());
	handshake_as(raw, m, "c");
	REQUIRE(run_until({ &m }, [&] { return m.count("c", true) == 1; }));

	std::vector<uint8_t> bytes;
	SECTION("a hello")
	{
		bytes = hello_frame(hello_of("prod", "c"));
	}
	SECTION("a proof")
	{
		uint8_t proof[SCD_PROOF_BYTES] = {};
		bytes = frame(SCD_FRAME_PROOF, proof, sizeof(proof));
	}
	SECTION("an ack for a heartbeat never sent")
	{
		scd_heartbeat h = { 1000000, 1 };
		uint8_t body[SCD_HEARTBEAT_BYTES];
		scd_heartbeat_encode(&h, body);
		bytes = frame(SCD_FRAME_HEARTBEAT_ACK, body, sizeof(body));
	}
	raw.send(bytes);
	bool closed = run_until({ &m }, [&] { return raw.poll_closed() && m.count("c", false) == 1; });
	INFO(m.all_logs());
	REQUIRE(closed);
	CHECK(m.stats("c").bad_frames == 1);
	CHECK(m.totals().unnamed_bad_frames == 0);
	CHECK_FALSE(m.up("c"));
	CHECK(m.stats("c").wanted);
}

TEST_CASE("a connection that never finishes its handshake is closed in bounded time", "[peer-links]")
{
	Node a("a");
	Raw raw(a.port());
	uint64_t start = now_usec();
	bool closed = run_until({ &a }, [&] { return raw.poll_closed(); });
	uint64_t took = now_usec() - start;
	INFO(a.all_logs());
	REQUIRE(closed);
	CHECK(took >= HANDSHAKE - 20 * MS);
	CHECK(took < HANDSHAKE + 2000 * MS);
	CHECK(a.totals().unnamed_timeouts == 1);
	CHECK(a.logged("no handshake within"));
}

TEST_CASE("a peer that stops answering is down after the dead time, and up again once it runs",
	  "[peer-links]")
{
	Node a("a"), b("b");
	a.want(b);
	b.want(a);
	REQUIRE(run_until({ &a, &b }, [&] { return a.up("b") && b.up("a"); }));
	// Whichever end stops, the other sees it; the lower name (a) dials again, the higher waits.
	Node &stopped = GENERATE(0, 1) == 0 ? b : a;
	Node &other = &stopped == &b ? a : b;

	stopped.paused = true;
	uint64_t start = now_usec();
	bool down = run_until({ &a, &b }, [&] { return other.count(stopped.name, false) == 1; });
	uint64_t took = now_usec() - start;
	INFO(a.all_logs() + b.all_logs());
	REQUIRE(down);
	CHECK_FALSE(other.up(stopped.name));
	CHECK(took >= DEAD - HEARTBEAT);
	CHECK(took < DEAD + 2000 * MS);
	CHECK(other.logged("no heartbeat ack for"));
	// Still stopped: it stays down, and down is said once.
	run_for({ &a, &b }, DEAD);
	CHECK(other.count(stopped.name, false) == 1);
	CHECK(other.count(stopped.name, true) == 1);

	stopped.paused = false;
	bool back = run_until({ &a, &b }, [&] {
		return a.up("b") && b.up("a") && other.count(stopped.name, true) == 2 &&
		       stopped.count(other.name, true) == 2;
	});
	REQUIRE(back);
	CHECK(other.count(stopped.name, false) == 1);
	CHECK(stopped.count(other.name, false) == 1);
	CHECK(other.stats(stopped.name).connects == 2);
}

TEST_CASE("a stopped child process is down after the dead time, and up again after SIGCONT", "[peer-links]")
{
	Node a("a");
	int ports[2];
	REQUIRE(pipe(ports) == 0);
	std::string a_addr = a.addr();
	pid_t child = fork();
	REQUIRE(child >= 0);
	if (child == 0) {
		// The child: node b on a loop of its own, until it is killed. No Catch2 in here.
		close(ports[0]);
		sd_event *ev = nullptr;
		scd_peers *peers = nullptr;
		scd_peers_config cfg{};
		scd_secret s = good_secret();
		char err[256];
		cfg.cluster = "prod";
		cfg.node = "b";
		cfg.secret = &s;
		cfg.listen = "127.0.0.1:0";
		cfg.heartbeat_usec = HEARTBEAT;
		cfg.dead_usec = DEAD;
		cfg.handshake_usec = HANDSHAKE;
		if (sd_event_new(&ev) < 0 || scd_peers_new(ev, &cfg, &peers, err, sizeof(err)) < 0 ||
		    scd_peers_want(peers, "a", a_addr.c_str()) < 0)
			_exit(2);
		uint16_t port = scd_peers_port(peers);
		if (write(ports[1], &port, sizeof(port)) != sizeof(port))
			_exit(3);
		for (;;)
			if (sd_event_run(ev, UINT64_MAX) < 0)
				_exit(4);
	}
	close(ports[1]);
	uint16_t port = 0;
	REQUIRE(read(ports[0], &port, sizeof(port)) == sizeof(port));
	close(ports[0]);
	std::string b_addr = "127.0.0.1:" + std::to_string(port);
	REQUIRE(scd_peers_want(a.peers, "b", b_addr.c_str()) == 0);

	REQUIRE(run_until({ &a }, [&] { return a.up("b") && a.stats("b").heartbeats_acked >= 2; }));
	REQUIRE(kill(child, SIGSTOP) == 0);
	bool down = run_until({ &a }, [&] { return a.count("b", false) == 1; });
	REQUIRE(kill(child, SIGCONT) == 0);
	bool back = down && run_until({ &a }, [&] { return a.count("b", true) == 2 && a.up("b"); });
	kill(child, SIGKILL);
	int status = 0;
	waitpid(child, &status, 0);
	INFO(a.all_logs());
	REQUIRE(down);
	REQUIRE(back);
	CHECK(WIFSIGNALED(status));
	CHECK(a.count("b", false) == 1);
	// Killed: its sockets close, and the link is down at once.
	REQUIRE(run_until({ &a }, [&] { return a.count("b", false) == 2; }));
}

TEST_CASE("a node restarted on its address comes back up", "[peer-links]")
{
	Node a("a");
	auto b = std::make_unique<Node>("b");
	std::string b_listen = b->addr();
	a.want(*b);
	b->want(a);
	REQUIRE(run_until({ &a, b.get() }, [&] { return a.up("b") && b->up("a"); }));
	b.reset();
	REQUIRE(run_until({ &a }, [&] { return a.count("b", false) == 1; }));
	Options same;
	same.listen = b_listen;
	b = std::make_unique<Node>("b", same);
	b->want(a);
	REQUIRE(run_until({ &a, b.get() }, [&] { return a.up("b") && b->up("a"); }));
	CHECK(a.count("b", true) == 2);
	CHECK(b->count("a", true) == 1);
}

TEST_CASE("a second link for a node replaces the first: down, then up", "[peer-links]")
{
	Node m("m");
	REQUIRE(scd_peers_want(m.peers, "c", "127.0.0.1:9") == 0);
	Raw first(m.port()), second(m.port());
	handshake_as(first, m, "c");
	REQUIRE(run_until({ &m }, [&] { return m.count("c", true) == 1; }));
	handshake_as(second, m, "c");
	bool replaced = run_until({ &m }, [&] { return m.count("c", true) == 2 && first.poll_closed(); });
	INFO(m.all_logs());
	REQUIRE(replaced);
	REQUIRE(m.events.size() == 3);
	CHECK(m.events[1] == std::make_pair(std::string("c"), false));
	CHECK(m.events[2] == std::make_pair(std::string("c"), true));
	CHECK(m.up("c"));
	CHECK_FALSE(second.poll_closed());
	CHECK(m.stats("c").connects == 2);
	CHECK(m.logged("replaced by a newer link"));
}

TEST_CASE("forget() closes the link; the other end sees it down", "[peer-links]")
{
	Node a("a"), b("b");
	a.want(b);
	b.want(a);
	REQUIRE(run_until({ &a, &b }, [&] { return a.up("b") && b.up("a"); }));
	REQUIRE(scd_peers_forget(a.peers, "b") == 0);
	CHECK(a.events.size() == 1); // the callback runs from the loop, not from forget()
	REQUIRE(run_until({ &a, &b }, [&] { return a.count("b", false) == 1 && b.count("a", false) == 1; }));
	CHECK(a.stats("b").node[0] == '\0');
	CHECK(scd_peers_forget(a.peers, "b") == -ENOENT);
	// b sorts higher: it does not dial, so the link stays down.
	run_for({ &a, &b }, 500 * MS);
	CHECK_FALSE(b.up("a"));
	CHECK(a.events.size() == 2);
	CHECK(b.events.size() == 2);
}

TEST_CASE("frames of the link's users arrive in order with the sender's name; one refused closes the link",
	  "[peer-links]")
{
	Node a("a"), b("b");
	uint8_t body[SCD_REPL_POSITION_BYTES];
	scd_repl_position pos = { 1, 0, 2, 3, 4 };
	CHECK(scd_peers_send(a.peers, "b", SCD_FRAME_REPL_POSITION, body, sizeof(body)) == -ENOTCONN);
	a.want(b);
	b.want(a);
	REQUIRE(run_until({ &a, &b }, [&] { return a.up("b") && b.up("a"); }));
	for (uint64_t i = 0; i < 100; i++) {
		pos.last_lseq = i;
		scd_repl_position_encode(&pos, body);
		REQUIRE(scd_peers_send(a.peers, "b", SCD_FRAME_REPL_POSITION, body, sizeof(body)) == 0);
	}
	REQUIRE(run_until({ &a, &b }, [&] { return b.received.size() == 100; }));
	for (uint64_t i = 0; i < 100; i++) {
		scd_frame f = { SCD_FRAME_REPL_POSITION, SCD_REPL_POSITION_BYTES,
				b.received[i].second.data() };
		scd_repl_position got{};
		REQUIRE(scd_repl_position_decode(&f, &got) == 0);
		CHECK(got.last_lseq == i);
		CHECK(b.received[i].first == "a");
	}
	// The receiver refuses the next one: the link closes as a bad frame, and comes back.
	b.refuse = -EPROTO;
	REQUIRE(scd_peers_send(a.peers, "b", SCD_FRAME_REPL_POSITION, body, sizeof(body)) == 0);
	REQUIRE(run_until({ &a, &b },
			  [&] { return b.count("a", false) == 1 && b.stats("a").bad_frames == 1; }));
	b.refuse = 0;
	REQUIRE(run_until({ &a, &b }, [&] { return a.up("b") && b.up("a"); }));
	CHECK(b.logged("refused"));
}

TEST_CASE("a node not wanted is accepted, and listed while its link is up", "[peer-links]")
{
	Node a("a"), b("b");
	a.want(b); // b does not want a
	REQUIRE(run_until({ &a, &b }, [&] { return a.up("b") && b.up("a"); }));
	scd_peer_stats s = b.stats("a");
	CHECK_FALSE(s.wanted);
	CHECK(std::string(s.addr).rfind("127.0.0.1:", 0) == 0);
}

TEST_CASE("want() and the configuration refuse what is not a name or an address", "[peer-links]")
{
	Node a("a");
	CHECK(scd_peers_want(a.peers, "a", "127.0.0.1:1") == -EINVAL);
	CHECK(scd_peers_want(a.peers, "b c", "127.0.0.1:1") == -EINVAL);
	CHECK(scd_peers_want(a.peers, "b", "localhost:1") == -EINVAL);
	CHECK(scd_peers_want(a.peers, "b", "127.0.0.1") == -EINVAL);
	CHECK(scd_peers_want(a.peers, "b", "127.0.0.1:65536") == -EINVAL);
	CHECK(scd_peers_want(a.peers, "b", "::1:5") == -EINVAL);
	CHECK(scd_peers_want(a.peers, "b", "[::1]:5") == 0);
	CHECK(scd_peers_want(a.peers, "b", "127.0.0.1:5") == 0);
	CHECK(std::string(a.stats("b").addr) == "127.0.0.1:5");

	sd_event *ev = nullptr;
	REQUIRE(sd_event_new(&ev) >= 0);
	scd_secret s = good_secret();
	scd_peers_config cfg{};
	cfg.cluster = "prod";
	cfg.node = "z";
	cfg.secret = &s;
	cfg.heartbeat_usec = HEARTBEAT;
	cfg.dead_usec = DEAD;
	scd_peers *p = nullptr;
	char err[256] = "";
	cfg.listen = "nowhere";
	CHECK(scd_peers_new(ev, &cfg, &p, err, sizeof(err)) == -EINVAL);
	CHECK(std::string(err).find("nowhere") != std::string::npos);
	std::string taken = a.addr();
	cfg.listen = taken.c_str();
	CHECK(scd_peers_new(ev, &cfg, &p, err, sizeof(err)) == -EADDRINUSE);
	cfg.listen = "[::1]:0";
	int r = scd_peers_new(ev, &cfg, &p, err, sizeof(err));
	INFO(err);
	if (r == 0) {
		CHECK(scd_peers_port(p) > 0);
		scd_peers_free(p);
	} else {
		WARN("no IPv6 loopback here: " << err);
	}
	cfg.listen = "localhost:0";
	REQUIRE(scd_peers_new(ev, &cfg, &p, err, sizeof(err)) == 0);
	scd_peers_free(p);
	cfg.dead_usec = HEARTBEAT;
	CHECK(scd_peers_new(ev, &cfg, &p, err, sizeof(err)) == -EINVAL);
	sd_event_unref(ev);
}
