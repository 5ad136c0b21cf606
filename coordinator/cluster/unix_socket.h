/* unix_socket.h — a unix socket the coordinator binds beside the cache's segment, for the library to reach. */
#ifndef SCD_UNIX_SOCKET_H
#define SCD_UNIX_SOCKET_H

/*
 * A socket of type (SOCK_STREAM, SOCK_DGRAM) bound at path, non-blocking
 * and close-on-exec, mode 0660 as the segment beside it is: the fd, or a
 * negative errno. A socket an earlier run left at path is removed first;
 * any other file there is left alone, and the bind fails on it.
 */
int scd_unix_bind(const char *path, int type);

#endif /* SCD_UNIX_SOCKET_H */
