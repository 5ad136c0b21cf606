// test_link_auth.cpp — the HMAC challenge that opens a peer link, and the secret file it is keyed with.
#include <catch2/catch.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

extern "C" {
#include "cluster/link_auth.h"
}

namespace
{

// A secret file of n bytes with mode, in a directory of its own removed at the end.
struct SecretFile {
	std::string dir, path;
	SecretFile(size_t n, mode_t mode)
	{
		char tmpl[] = "/tmp/sctest-secret-XXXXXX";
		REQUIRE(mkdtemp(tmpl) != nullptr);
		dir = tmpl;
		path = dir + "/secret";
		int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL, 0600);
		REQUIRE(fd >= 0);
		std::string bytes(n, 's');
		for (size_t i = 0; i < n; i++)
			bytes[i] = static_cast<char>('a' + i % 26);
		REQUIRE(write(fd, bytes.data(), n) == static_cast<ssize_t>(n));
		REQUIRE(fchmod(fd, mode) == 0);
		close(fd);
	}
	~SecretFile()
	{
		unlink(path.c_str());
		rmdir(dir.c_str());
	}
};

scd_hello hello(const char *node)
{
	scd_hello h{};
	std::strcpy(h.cluster, "prod");
	std::strcpy(h.node, node);
	scd_nonce(h.nonce);
	return h;
}

scd_secret secret_of(const SecretFile &f)
{
	scd_secret s{};
	char why[256];
	REQUIRE(scd_secret_load(f.path.c_str(), &s, why, sizeof(why)) == 0);
	return s;
}

} // namespace

TEST_CASE("two holders of the secret open a link, each proving itself to the other", "[link]")
{
	REQUIRE(scd_link_auth_init() == 0);
	SecretFile f(64, 0640);
	scd_secret s = secret_of(f);
	scd_hello dialer = hello("a"), listener = hello("b");
	uint8_t from_dialer[SCD_PROOF_BYTES], from_listener[SCD_PROOF_BYTES];
	REQUIRE(scd_link_proof(&s, SCD_LINK_DIALER, &dialer, &listener, from_dialer) == 0);
	REQUIRE(scd_link_proof(&s, SCD_LINK_LISTENER, &listener, &dialer, from_listener) == 0);
	const char *why = nullptr;
	CHECK(scd_link_accepts(&s, SCD_LINK_LISTENER, &listener, &dialer, from_dialer, &why));
	CHECK(scd_link_accepts(&s, SCD_LINK_DIALER, &dialer, &listener, from_listener, &why));
	CHECK(std::memcmp(from_dialer, from_listener, SCD_PROOF_BYTES) != 0);
	scd_secret_forget(&s);
	CHECK(s.len == 0);
}

TEST_CASE("a wrong secret, a replayed proof, a reflected one, or a stranger is refused, saying why", "[link]")
{
	REQUIRE(scd_link_auth_init() == 0);
	SecretFile f(64, 0600), other(64, 0600);
	scd_secret s = secret_of(f);
	scd_secret t = secret_of(other);
	t.bytes[0] ^= 1;
	scd_hello dialer = hello("a"), listener = hello("b");
	uint8_t proof[SCD_PROOF_BYTES];
	const char *why = nullptr;

	// Another secret.
	REQUIRE(scd_link_proof(&t, SCD_LINK_DIALER, &dialer, &listener, proof) == 0);
	CHECK_FALSE(scd_link_accepts(&s, SCD_LINK_LISTENER, &listener, &dialer, proof, &why));
	CHECK(std::string(why).find("secret differs") != std::string::npos);

	// A proof recorded on one link, replayed on the next: the listener's nonce is new.
	REQUIRE(scd_link_proof(&s, SCD_LINK_DIALER, &dialer, &listener, proof) == 0);
	scd_hello next = listener;
	scd_nonce(next.nonce);
	CHECK_FALSE(scd_link_accepts(&s, SCD_LINK_LISTENER, &next, &dialer, proof, &why));

	// The listener's own proof sent back to it as if it were the dialer's.
	REQUIRE(scd_link_proof(&s, SCD_LINK_LISTENER, &listener, &dialer, proof) == 0);
	CHECK_FALSE(scd_link_accepts(&s, SCD_LINK_LISTENER, &listener, &dialer, proof, &why));

	// Our own hello sent back, nonce and all.
	REQUIRE(scd_link_proof(&s, SCD_LINK_DIALER, &dialer, &dialer, proof) == 0);
	CHECK_FALSE(scd_link_accepts(&s, SCD_LINK_DIALER, &dialer, &dialer, proof, &why));
	CHECK(std::string(why).find("this node's name") != std::string::npos);
	scd_hello echo = dialer;
	std::strcpy(echo.node, "c");
	CHECK_FALSE(scd_link_accepts(&s, SCD_LINK_DIALER, &dialer, &echo, proof, &why));
	CHECK(std::string(why).find("nonce back") != std::string::npos);

	// A hello whose name is no name proves nothing.
	scd_hello nameless = dialer;
	nameless.node[0] = '\0';
	CHECK(scd_link_proof(&s, SCD_LINK_DIALER, &nameless, &listener, proof) == -EINVAL);

	// A node of another cluster, whatever it proves.
	scd_hello stranger = hello("z");
	std::strcpy(stranger.cluster, "staging");
	REQUIRE(scd_link_proof(&s, SCD_LINK_DIALER, &stranger, &listener, proof) == 0);
	CHECK_FALSE(scd_link_accepts(&s, SCD_LINK_LISTENER, &listener, &stranger, proof, &why));
	CHECK(std::string(why).find("another cluster") != std::string::npos);
}

TEST_CASE("a secret file others can read, too short, too long or missing is refused by name",
	  "[link][errors]")
{
	scd_secret s{};
	char why[512];
	SecretFile world(64, 0644);
	CHECK(scd_secret_load(world.path.c_str(), &s, why, sizeof(why)) == -EPERM);
	CHECK(std::string(why).find("mode 0644") != std::string::npos);
	SecretFile shorter(SCD_SECRET_MIN - 1, 0600);
	CHECK(scd_secret_load(shorter.path.c_str(), &s, why, sizeof(why)) == -EINVAL);
	CHECK(std::string(why).find("at least 32") != std::string::npos);
	SecretFile longer(SCD_SECRET_MAX + 1, 0600);
	CHECK(scd_secret_load(longer.path.c_str(), &s, why, sizeof(why)) == -EINVAL);
	CHECK(std::string(why).find("more than 4096") != std::string::npos);
	CHECK(scd_secret_load("/nonexistent/secret", &s, why, sizeof(why)) == -ENOENT);
	CHECK(std::string(why).find("/nonexistent/secret") != std::string::npos);
	CHECK(s.len == 0);
	SecretFile exact(SCD_SECRET_MAX, 0400);
	CHECK(scd_secret_load(exact.path.c_str(), &s, why, sizeof(why)) == 0);
	CHECK(s.len == SCD_SECRET_MAX);
}
