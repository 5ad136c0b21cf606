/* link_auth.h — who may open a peer link: a challenge answered with an HMAC over the cluster's shared secret. */
#ifndef SCD_LINK_AUTH_H
#define SCD_LINK_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster/frame.h"

#define SCD_SECRET_MIN 32u
#define SCD_SECRET_MAX 4096u

struct scd_secret {
	uint8_t bytes[SCD_SECRET_MAX];
	size_t len;
};

/*
 * Read the secret file at path: 0, or a negative errno with why filled in
 * (its path and what is wrong): missing or unreadable, not a regular file,
 * readable or writable by others than its owner and group, shorter than
 * SCD_SECRET_MIN bytes or longer than SCD_SECRET_MAX.
 */
int scd_secret_load(const char *path, struct scd_secret *out, char *why, size_t why_len);

/* Start libsodium, once per process before the calls below: 0, or -EIO when it cannot. */
int scd_link_auth_init(void);

/* Forget the secret: its bytes are zeroed where the compiler cannot drop it. */
void scd_secret_forget(struct scd_secret *s);

/* A fresh nonce from the kernel's random source, one per connection and side. */
void scd_nonce(uint8_t out[SCD_NONCE_BYTES]);

/* Which end of the link a side is: the one that connected, or the one that accepted. */
enum scd_link_role { SCD_LINK_DIALER = 1, SCD_LINK_LISTENER = 2 };

/*
 * The handshake. Each side sends a hello with a fresh nonce; each then sends
 * its proof: HMAC-SHA256, keyed with the secret, over its role, its own
 * hello and the other's. Only a holder of the secret can answer the other
 * side's fresh nonce, so a recorded proof is worth nothing on a new link;
 * the role in the transcript means a proof sent back to its sender never
 * passes for the other side's. A side accepts the link only when
 * scd_link_accepts() says so. 0, or -EINVAL when a hello's names are not
 * names (scd_hello_encode()), and then out is not a proof.
 */
int scd_link_proof(const struct scd_secret *s, enum scd_link_role role, const struct scd_hello *self,
		   const struct scd_hello *peer, uint8_t out[SCD_PROOF_BYTES]);

/*
 * Whether the peer's proof is the one the secret gives for its role (the
 * other one) and the two hellos, compared in constant time; and whether the
 * peer is of our cluster, is not ourselves under our own name, and did not
 * send our nonce back. why says which, when not.
 */
bool scd_link_accepts(const struct scd_secret *s, enum scd_link_role role, const struct scd_hello *self,
		      const struct scd_hello *peer, const uint8_t proof[SCD_PROOF_BYTES], const char **why);

#endif /* SCD_LINK_AUTH_H */
