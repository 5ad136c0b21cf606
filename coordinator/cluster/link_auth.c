/* link_auth.c — who may open a peer link: a challenge answered with an HMAC over the cluster's shared secret. */
#include "cluster/link_auth.h"

#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int scd_secret_load(const char *path, struct scd_secret *out, char *why, size_t why_len)
{
	struct stat st;
	ssize_t n;
	uint8_t extra;
	int err = 0, fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	out->len = 0;
	if (fd < 0) {
		err = -errno;
		snprintf(why, why_len, "secret_file %s: %s", path, strerror(errno));
		return err;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err = -EINVAL;
		snprintf(why, why_len, "secret_file %s is not a regular file", path);
	} else if (st.st_mode & (S_IROTH | S_IWOTH)) {
		err = -EPERM;
		snprintf(why, why_len,
			 "secret_file %s has mode %04o: others may read or write it; chmod o= it", path,
			 (unsigned)(st.st_mode & 07777));
	} else if ((n = read(fd, out->bytes, sizeof(out->bytes))) < 0) {
		err = -errno;
		snprintf(why, why_len, "secret_file %s: %s", path, strerror(errno));
	} else if (n < (ssize_t)SCD_SECRET_MIN) {
		err = -EINVAL;
		snprintf(why, why_len, "secret_file %s holds %zd bytes; a secret has at least %u", path, n,
			 SCD_SECRET_MIN);
	} else if (read(fd, &extra, 1) != 0) {
		err = -EINVAL;
		snprintf(why, why_len, "secret_file %s holds more than %u bytes", path, SCD_SECRET_MAX);
	} else {
		out->len = (size_t)n;
	}
	close(fd);
	if (err)
		scd_secret_forget(out);
	return err;
}

int scd_link_auth_init(void)
{
	return sodium_init() < 0 ? -EIO : 0;
}

void scd_secret_forget(struct scd_secret *s)
{
	sodium_memzero(s->bytes, sizeof(s->bytes));
	s->len = 0;
}

void scd_nonce(uint8_t out[SCD_NONCE_BYTES])
{
	randombytes_buf(out, SCD_NONCE_BYTES);
}

int scd_link_proof(const struct scd_secret *s, enum scd_link_role role, const struct scd_hello *self,
		   const struct scd_hello *peer, uint8_t out[SCD_PROOF_BYTES])
{
	static const char label[] = "supercache peer link v1";
	uint8_t mine[SCD_HELLO_BYTES], theirs[SCD_HELLO_BYTES];
	size_t n_mine = scd_hello_encode(self, mine), n_theirs = scd_hello_encode(peer, theirs);
	crypto_auth_hmacsha256_state st;
	uint8_t r = (uint8_t)role;

	/* A hello that does not encode (a name that is not one) would leave the proof without it. */
	if (!n_mine || !n_theirs)
		return -EINVAL;
	crypto_auth_hmacsha256_init(&st, s->bytes, s->len);
	crypto_auth_hmacsha256_update(&st, (const uint8_t *)label, sizeof(label));
	crypto_auth_hmacsha256_update(&st, &r, 1);
	crypto_auth_hmacsha256_update(&st, mine, n_mine);
	crypto_auth_hmacsha256_update(&st, theirs, n_theirs);
	crypto_auth_hmacsha256_final(&st, out);
	sodium_memzero(&st, sizeof(st));
	return 0;
}

bool scd_link_accepts(const struct scd_secret *s, enum scd_link_role role, const struct scd_hello *self,
		      const struct scd_hello *peer, const uint8_t proof[SCD_PROOF_BYTES], const char **why)
{
	enum scd_link_role theirs = role == SCD_LINK_DIALER ? SCD_LINK_LISTENER : SCD_LINK_DIALER;
	uint8_t want[SCD_PROOF_BYTES];
	bool ok;

	if (strcmp(self->cluster, peer->cluster) != 0) {
		*why = "the peer is of another cluster";
		return false;
	}
	if (strcmp(self->node, peer->node) == 0) {
		*why = "the peer has this node's name";
		return false;
	}
	if (sodium_memcmp(self->nonce, peer->nonce, SCD_NONCE_BYTES) == 0) {
		*why = "the peer sent this node's nonce back";
		return false;
	}
	if (scd_link_proof(s, theirs, peer, self, want)) {
		*why = "a hello holds a name that is not one";
		return false;
	}
	ok = sodium_memcmp(want, proof, SCD_PROOF_BYTES) == 0;
	sodium_memzero(want, sizeof(want));
	*why = ok ? NULL : "the peer's proof does not match: its secret differs from this node's";
	return ok;
}
