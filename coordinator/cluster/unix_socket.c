/* unix_socket.c — a unix socket the coordinator binds beside the cache's segment, for the library to reach. */
#include "cluster/unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

int scd_unix_bind(const char *path, int type)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const size_t len = strlen(path);
	struct stat st;
	int fd, r;

	if (len >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, len + 1);
	/* One an earlier run left: a socket only, never a file someone put there. */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
	fd = socket(AF_UNIX, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) || chmod(path, 0660)) {
		r = -errno;
		close(fd);
		return r;
	}
	return fd;
}
